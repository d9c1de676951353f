package api_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// openListStream opens GET /v1/events; its job events arrive on a channel
// once the "ready" event has been read.
func (e *env) openListStream(t *testing.T) *stream {
	t.Helper()
	req, _ := http.NewRequest("GET", e.url+"/v1/events", nil)
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("list stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &stream{resp: resp, events: make(chan job, 256)}
	ready := make(chan struct{})
	go func() {
		defer close(s.events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		name := ""
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				name = v
			}
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				if name == "ready" {
					close(ready)
					continue
				}
				var ev job
				if name == "job" && json.Unmarshal([]byte(data), &ev) == nil {
					s.events <- ev
				}
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("no ready event")
	}
	t.Cleanup(func() { resp.Body.Close() })
	return s
}

// One list stream carries the changes of every job: two jobs submitted after
// it opened are seen queued or running and then succeeded, each change
// once per version, on two streams alike.
func TestJobListStream(t *testing.T) {
	e := start(t, "sqlite")
	s1, s2 := e.openListStream(t), e.openListStream(t)
	// Jobs that run for a while (a second or so): a stream coalesces the
	// versions of a run made between two polls, so a job finished within one
	// poll may show only its end.
	a := e.mustSubmit(t, `{"kind":"poisson.solve","params":{"n":384,"tol":1e-12,"max_iter":100000}}`)
	b := e.mustSubmit(t, `{"kind":"poisson.solve","params":{"n":320,"tol":1e-12,"max_iter":100000}}`)
	for i, s := range []*stream{s1, s2} {
		final := map[string]bool{}
		seen := map[string]int{}
		deadline := time.After(60 * time.Second)
		for !final[a] || !final[b] {
			select {
			case j, ok := <-s.events:
				if !ok {
					t.Fatalf("stream %d closed", i)
				}
				seen[j.ID]++
				if j.State == "succeeded" {
					if final[j.ID] {
						t.Errorf("stream %d: job %s succeeded twice", i, j.ID)
					}
					final[j.ID] = true
				}
			case <-deadline:
				t.Fatalf("stream %d: jobs not seen to succeed: %v", i, seen)
			}
		}
		if seen[a] < 2 || seen[b] < 2 {
			t.Errorf("stream %d: events per job %v, want the queued or running state and the end", i, seen)
		}
	}
}

// The browser UI is served at "/" by the API, beside the JSON endpoints.
func TestUIServed(t *testing.T) {
	e := start(t, "sqlite")
	resp, body := e.do(t, "GET", "/", "", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "/ui/app.js") {
		t.Fatalf("/: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ := e.do(t, "GET", "/ui/app.js", "", nil); resp.StatusCode != 200 {
		t.Errorf("/ui/app.js: %d", resp.StatusCode)
	}
	if resp, _ := e.do(t, "GET", "/no/such/page", "", nil); resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown path: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
