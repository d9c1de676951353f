package e2e

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A job interrupted by SIGINT and then by SIGTERM of the embedded API goes back
// to the queue each time without using an attempt: the restarted API runs it on
// attempt 1 again, and attempt never exceeds max_attempts. The API logs a line
// per request with the job's id, and a cancellation of the ended job is a 409.
func TestShutdownsDoNotUseAttempts(t *testing.T) {
	addr, data := freeAddr(t), t.TempDir()
	env := []string{"EDDY_ADDR=" + addr, "EDDY_DATA_DIR=" + data, "DATABASE_URL=", "EDDY_WORKERS=1"}
	c := client{"http://" + addr}
	var id string
	var api *proc
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, 0} {
		api = startProc(t, "api", env)
		c.waitReady(t)
		if id == "" {
			id = c.submit(t, longJob).ID
		}
		j := c.waitFor(t, id, 60*time.Second, func(j job) bool { return j.State == "running" || final(j) })
		if j.State != "running" || j.Attempt != 1 {
			t.Fatalf("before signal %v: %s on attempt %d", sig, j.State, j.Attempt)
		}
		if sig == 0 {
			break
		}
		api.signal(t, sig)
		if err := api.waitExit(t, 60*time.Second); err != nil {
			t.Fatalf("api exit after %v: %v", sig, err)
		}
	}
	if code, b := c.req(t, "POST", "/v1/jobs/"+id+"/cancel", ""); code != 202 {
		t.Fatalf("cancel: %d %s", code, b)
	}
	c.waitCancelled(t, id)
	if j := c.get(t, id); j.Attempt != 1 {
		t.Errorf("cancelled job: attempt %d, want 1", j.Attempt)
	}
	if code, b := c.req(t, "POST", "/v1/jobs/"+id+"/cancel", ""); code != 409 {
		t.Errorf("cancel of a cancelled job: %d %s", code, b)
	}

	// Request lines and the cancellation name the job.
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(api.log)
		log := string(b)
		request := strings.Contains(log, "msg=request method=POST route=/v1/jobs/{id}/cancel status=409") &&
			strings.Contains(log, "job_id="+id)
		cancelled := strings.Contains(log, `msg="job cancelled by request" job_id=`+id)
		if request && cancelled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log lacks the request line (%v) or the cancellation (%v) of job %s:\n%s", request, cancelled, id, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
