package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"eddy/storage"
)

// An open event stream must not hold up the shutdown: the API used to wait the
// whole grace period for it, and then stopped the workers with an expired
// context, so the running job was not handed back to the queue. Here both
// shutdown budgets are ten minutes, so a stream that held the shutdown would
// run into the test's two-minute cap.
func TestShutdownWithOpenEventStream(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := &Config{Addr: addr, DataDir: t.TempDir(), Workers: 1, MaxUploadBytes: 1 << 20, level: "error",
		HTTPShutdown: 10 * time.Minute, WorkerShutdown: 10 * time.Minute}
	if err := c.Resolve(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runAPI(ctx, c) }()
	t.Cleanup(func() { cancel(); <-done })

	base := "http://" + addr
	for deadline := time.Now().Add(time.Minute); ; {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("API not ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Post(base+"/v1/jobs", "application/json",
		strings.NewReader(`{"kind":"poisson.solve","params":{"n":1024,"tol":1e-14,"max_iter":100000}}`))
	if err != nil {
		t.Fatal(err)
	}
	var j struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&j)
	resp.Body.Close()

	events, err := http.Get(base + "/v1/jobs/" + j.ID + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer events.Body.Close()
	sc := bufio.NewScanner(events.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	running := false
	for !running && sc.Scan() {
		running = strings.Contains(sc.Text(), `"state":"running"`)
	}
	if !running {
		t.Fatal("the job never ran")
	}
	go io.Copy(io.Discard, events.Body)

	t0 := time.Now()
	cancel() // SIGTERM
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the API had not shut down 2 minutes after the signal, with an event stream open")
	}
	t.Logf("shut down in %v", time.Since(t0).Round(time.Millisecond))

	db, err := storage.Open(context.Background(), c.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := storage.GetRun(context.Background(), db.SQL, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != storage.Queued {
		t.Fatalf("the interrupted job is %s (%q), want queued", r.State, r.Error)
	}
}
