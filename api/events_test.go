package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"eddy/api"
	"eddy/jobs"
)

// holdParams are the params of test.hold, a job that runs until the test lets it go.
type holdParams struct{}

func (*holdParams) Validate(*jobs.Checker) {}

var holdRelease = make(chan struct{})

func init() {
	jobs.Register(jobs.Spec[*holdParams]{
		Name: "test.hold", Defaults: func() *holdParams { return &holdParams{} },
		Timeout: 5 * time.Minute, MaxAttempts: 1,
		Run: func(ctx context.Context, p *holdParams, env *jobs.Env) error {
			select {
			case <-holdRelease:
				return env.Out.WriteFloat64("x", []float64{1}, []int{1}, "i", "")
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})
}

// stream is an open event stream whose job events arrive on a channel.
type stream struct {
	resp   *http.Response
	events chan job
}

func (e *env) openStream(t *testing.T, id string) (*stream, int) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.url+"/v1/jobs/"+id+"/events", nil)
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, resp.StatusCode
	}
	s := &stream{resp: resp, events: make(chan job, 64)}
	go func() {
		defer close(s.events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev job
				if json.Unmarshal([]byte(data), &ev) == nil {
					s.events <- ev
				}
			}
		}
	}()
	return s, http.StatusOK
}

// feedQueries reads the change feed's query counter from /metrics.
func (e *env) feedQueries(t *testing.T) float64 {
	t.Helper()
	return e.metric(t, "eddy_event_feed_queries_total")
}

// 200 clients follow jobs while jobs are being submitted: the database sees one
// change-feed query per poll interval in all, not one per stream; the stream past
// the cap is refused with 429; every stream ends with its job's final state.
func TestEventStreamsShareOneFeed(t *testing.T) {
	const streams, jobsN, poll = 200, 20, 50 * time.Millisecond
	e := start(t, "sqlite", func(c *api.Config) {
		c.MaxStreams, c.MaxStreamsPerClient, c.EventPoll = streams, 1000, poll
	})
	var ids []string
	for range jobsN {
		_, j, p := e.submit(t, `{"kind":"test.hold"}`)
		if j.ID == "" {
			t.Fatalf("submit: %+v", p)
		}
		ids = append(ids, j.ID)
	}
	var open []*stream
	for i := range streams {
		s, code := e.openStream(t, ids[i%jobsN])
		if code != http.StatusOK {
			t.Fatalf("stream %d: %d", i, code)
		}
		if _, ok := <-s.events; !ok {
			t.Fatalf("stream %d ended before its first event", i)
		}
		open = append(open, s)
	}
	if _, code := e.openStream(t, ids[0]); code != http.StatusTooManyRequests {
		t.Fatalf("stream %d: %d, want 429", streams+1, code)
	}

	// Submissions go on while the streams are open and the feed polls.
	q0, t0 := e.feedQueries(t), time.Now()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				resp, b := e.do(t, "POST", "/v1/jobs", "application/json",
					strings.NewReader(fmt.Sprintf(`{"kind":"poisson.solve","params":{"n":16},"idempotency_key":"w%d-%d"}`, w, i)))
				if resp.StatusCode != http.StatusAccepted {
					t.Errorf("submit during streams: %d %s", resp.StatusCode, b)
				}
			}
		}()
	}
	wg.Wait()
	time.Sleep(20 * poll) // let the feed poll a number of times with every stream open
	q1, elapsed := e.feedQueries(t), time.Since(t0)
	if allowed := elapsed.Seconds()/poll.Seconds() + 2; q1-q0 > allowed {
		t.Fatalf("%v change-feed queries in %v with %d streams open; at most %.0f (one per %v) allowed", q1-q0, elapsed, streams, allowed, poll)
	}
	t.Logf("%d streams: %v feed queries in %v (poll %v)", streams, q1-q0, elapsed.Round(time.Millisecond), poll)

	close(holdRelease)
	for i, s := range open {
		var last job
		for ev := range s.events {
			last = ev
		}
		if last.State != "succeeded" {
			t.Fatalf("stream %d (job %s) ended with state %q", i, ids[i%jobsN], last.State)
		}
	}
}

// One client may hold only so many streams; the next is refused with 429 and a
// Retry-After, and a stream closed frees its place.
func TestEventStreamsPerClientCap(t *testing.T) {
	e := start(t, "sqlite", func(c *api.Config) { c.MaxStreamsPerClient = 2 })
	_, j, _ := e.submit(t, `{"kind":"poisson.solve","params":{"n":1024,"tol":1e-14,"max_iter":100000}}`)
	a, _ := e.openStream(t, j.ID)
	b, _ := e.openStream(t, j.ID)
	req, _ := http.NewRequest("GET", e.url+"/v1/jobs/"+j.ID+"/events", nil)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third stream: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	a.resp.Body.Close()
	for range a.events {
	}
	// The server notices the closed stream when it next writes or polls.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, code := e.openStream(t, j.ID)
		if code == http.StatusOK {
			c.resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed stream never freed its place")
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.resp.Body.Close()
	e.do(t, "POST", "/v1/jobs/"+j.ID+"/cancel", "", nil)
}
