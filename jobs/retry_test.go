package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"eddy/storage"
)

// Kinds that exist only in this test binary, to drive the runner's failure paths.
type flakyParams struct {
	FailTimes int  `json:"fail_times" min:"0" max:"10" doc:"attempts that fail before one succeeds"`
	Permanent bool `json:"permanent" doc:"fail with a permanent error"`
}

func (p *flakyParams) Validate(c *Checker) {}

type sleepParams struct{}

func (p *sleepParams) Validate(c *Checker) {}

var flakyCalls atomic.Int64

func init() {
	Register(Spec[*flakyParams]{
		Name: "test.flaky", Defaults: func() *flakyParams { return &flakyParams{} },
		Timeout: time.Minute, MaxAttempts: 3,
		Run: func(ctx context.Context, p *flakyParams, env *Env) error {
			n := flakyCalls.Add(1)
			if p.Permanent {
				return Permanent(errors.New("bad input"))
			}
			if int(n) <= p.FailTimes {
				return errors.New("transient failure")
			}
			env.Metrics["calls"] = n
			return env.Out.WriteFloat64("x", []float64{float64(n)}, []int{1}, "i", "")
		},
	})
	Register(Spec[*sleepParams]{
		Name: "test.sleep", Defaults: func() *sleepParams { return &sleepParams{} },
		Timeout: 300 * time.Millisecond, MaxAttempts: 1,
		Run: func(ctx context.Context, p *sleepParams, env *Env) error {
			<-ctx.Done()
			return ctx.Err()
		},
	})
}

func TestRetriesTimeoutsAndPermanentFailures(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t, "sqlite://"+t.TempDir()+"/eddy.db", t.TempDir())
	defer svc.Stop(ctx)
	submit := func(kind, params string) string {
		r, _, err := svc.Submit(ctx, SubmitRequest{Kind: kind, Params: json.RawMessage(params)})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}

	flakyCalls.Store(0)
	id := submit("test.flaky", `{"fail_times": 1}`)
	r := waitState(t, svc, id, 30*time.Second, storage.Succeeded, storage.Failed)
	if r.State != storage.Succeeded || r.Attempt != 2 || r.Result.Metrics["calls"] != 2.0 {
		t.Fatalf("flaky job: %s attempt %d %+v", r.State, r.Attempt, r.Result)
	}

	flakyCalls.Store(0)
	id = submit("test.flaky", `{"fail_times": 5}`)
	r = waitState(t, svc, id, 60*time.Second, storage.Succeeded, storage.Failed)
	if r.State != storage.Failed || r.Attempt != 3 || r.Error != "transient failure" {
		t.Fatalf("always failing job: %s attempt %d %q", r.State, r.Attempt, r.Error)
	}

	id = submit("test.flaky", `{"permanent": true}`)
	r = waitState(t, svc, id, 30*time.Second, storage.Succeeded, storage.Failed)
	if r.State != storage.Failed || r.Attempt != 1 || r.Error != "bad input" {
		t.Fatalf("permanent failure: %s attempt %d %q", r.State, r.Attempt, r.Error)
	}

	id = submit("test.sleep", `{}`)
	r = waitState(t, svc, id, 30*time.Second, storage.Succeeded, storage.Failed)
	if r.State != storage.Failed || r.Error != "timed out after 300ms" {
		t.Fatalf("timeout: %s %q", r.State, r.Error)
	}
}
