package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"eddy/storage"
)

// notFinite is a data error as a numerical package reports one, marking
// itself permanent without importing jobs.
type notFinite struct{ field string }

func (e *notFinite) Error() string   { return e.field + ": value is NaN at [0.5]" }
func (e *notFinite) Permanent() bool { return true }

// mayRepeat has the method but says the failure may pass.
type mayRepeat struct{}

func (mayRepeat) Error() string   { return "busy" }
func (mayRepeat) Permanent() bool { return false }

func TestIsPermanent(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{errors.New("disk full"), false},
		{Permanent(errors.New("bad cube")), true},
		{fmt.Errorf("gp: %w", &notFinite{"source"}), true},
		{errors.Join(errors.New("solving"), &notFinite{"exact"}), true},
		{mayRepeat{}, false},
		{fmt.Errorf("retry: %w", mayRepeat{}), false},
		{nil, false},
	} {
		if got := IsPermanent(c.err); got != c.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

var dataErrorCalls sync.Map // run id → *int

func init() {
	// Fails with a data error from "a numerical package", wrapped with context
	// as a kind would wrap it; three attempts allowed.
	Register(Spec[*emptyParams]{
		Name: "test.data_error", Defaults: func() *emptyParams { return &emptyParams{} },
		Timeout: time.Minute, MaxAttempts: 3,
		Run: func(ctx context.Context, p *emptyParams, env *Env) error {
			n, _ := dataErrorCalls.LoadOrStore(env.RunID, new(int))
			*n.(*int)++
			return fmt.Errorf("solve: %w", &notFinite{"source"})
		},
	})
}

func init() {
	// Panics as a numerical package's background run does when raised again
	// in the job's goroutine: its first line, then a stack.
	Register(Spec[*emptyParams]{
		Name: "test.panic", Defaults: func() *emptyParams { return &emptyParams{} },
		Timeout: time.Minute, MaxAttempts: 3,
		Run: func(ctx context.Context, p *emptyParams, env *Env) error {
			panic("runtime error: index out of range [7] with length 3 (in a background run)\ngoroutine 9 [running]:\nsolver.go:12")
		},
	})
}

// lockedBuffer is a log destination for several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, s := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// A data error ends the run on its first attempt, however many are allowed,
// and the failure is logged with the job's id (the run's, not River's).
func TestDataErrorFailsOnFirstAttempt(t *testing.T) {
	ctx := context.Background()
	svc, _ := newIdleService(t, nil)
	var logs lockedBuffer
	svc.log = slog.New(slog.NewJSONHandler(&logs, nil)) // River's own logs stay quiet
	startService(t, svc, ctx)

	id := submitKind(t, svc, "test.data_error", `{}`)
	r := waitState(t, svc, id, 30*time.Second, storage.Failed, storage.Succeeded)
	if r.State != storage.Failed || r.Attempt != 1 || r.MaxAttempts != 3 || !strings.Contains(r.Error, "source: value is NaN") {
		t.Fatalf("data error: %s on attempt %d of %d, error %q", r.State, r.Attempt, r.MaxAttempts, r.Error)
	}
	if n, _ := dataErrorCalls.Load(id); *n.(*int) != 1 {
		t.Errorf("the kind ran %d times", *n.(*int))
	}
	found := false
	for _, l := range logs.lines() {
		if l["msg"] == "job failed" {
			found = true
			if l["job_id"] != id || l["kind"] != "test.data_error" || l["permanent"] != true {
				t.Errorf("failure logged as %v", l)
			}
		}
	}
	if !found {
		t.Errorf("no failure in the log: %v", logs.lines())
	}
}

// A kind's panic fails its run on the first attempt with the panic's first
// line as the error its owner reads; the stacks (the background run's and
// the job goroutine's) go to the log only.
func TestPanicFailsWithoutStack(t *testing.T) {
	ctx := context.Background()
	svc, _ := newIdleService(t, nil)
	var logs lockedBuffer
	svc.log = slog.New(slog.NewJSONHandler(&logs, nil))
	startService(t, svc, ctx)

	id := submitKind(t, svc, "test.panic", `{}`)
	r := waitState(t, svc, id, 30*time.Second, storage.Failed, storage.Succeeded)
	want := "internal error in test.panic: runtime error: index out of range [7] with length 3 (in a background run)"
	if r.State != storage.Failed || r.Attempt != 1 || r.Error != want {
		t.Fatalf("panic: %s on attempt %d, error %q; want failed on attempt 1 with %q", r.State, r.Attempt, r.Error, want)
	}
	found := false
	for _, l := range logs.lines() {
		if l["msg"] == "job failed" {
			found = true
			stack, _ := l["stack"].(string)
			if !strings.Contains(stack, "solver.go:12") || !strings.Contains(stack, "runKind") {
				t.Errorf("logged stack %q: want the background run's and the job goroutine's", stack)
			}
		}
	}
	if !found {
		t.Errorf("no failure in the log: %v", logs.lines())
	}
}
