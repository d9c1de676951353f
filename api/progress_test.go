package api_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// progressEntry is one entry of GET /v1/jobs/{id}/progress.
type progressEntry struct {
	At       time.Time          `json:"at"`
	Kind     string             `json:"kind"`
	Fraction float64            `json:"fraction"`
	Message  string             `json:"message"`
	Metrics  map[string]float64 `json:"metrics"`
}

// progressOf returns a job's progress history.
func (e *env) progressOf(t *testing.T, id string) []progressEntry {
	t.Helper()
	resp, b := e.do(t, "GET", "/v1/jobs/"+id+"/progress", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("progress of %s: %d %s", id, resp.StatusCode, b)
	}
	var doc struct {
		Progress []progressEntry `json:"progress"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Progress == nil {
		t.Fatalf("progress of %s: %s (%v)", id, b, err)
	}
	return doc.Progress
}

// A finished job's progress history holds its progress updates in order of
// time, ending at fraction 1, with the stages and warnings of its run; a
// running job's is served as it grows; an unknown job is 404.
func TestProgressHistory(t *testing.T) {
	e := start(t, "sqlite")
	// Three iterations cannot meet the tolerance: the run warns.
	id := e.succeeded(t, `{"kind":"poisson.solve","params":{"n":64,"tol":1e-12,"max_iter":3}}`)
	h := e.progressOf(t, id)
	var points []progressEntry
	warned, started := false, false
	for i, p := range h {
		if i > 0 && p.At.Before(h[i-1].At) {
			t.Errorf("entry %d at %v, before entry %d at %v", i, p.At, i-1, h[i-1].At)
		}
		switch p.Kind {
		case "progress":
			points = append(points, p)
		case "warning":
			warned = true
		case "stage":
			started = started || i == 0
		default:
			t.Errorf("entry %d: kind %q", i, p.Kind)
		}
	}
	if len(points) < 2 {
		t.Fatalf("history %+v: want at least 2 progress updates", h)
	}
	if !points[len(points)-1].At.After(points[0].At) {
		t.Errorf("progress updates from %v to %v: time does not advance", points[0].At, points[len(points)-1].At)
	}
	if last := points[len(points)-1]; last.Fraction != 1 {
		t.Errorf("last progress update %+v, want fraction 1", last)
	}
	if !warned || !started {
		t.Errorf("history %+v: want a first stage and the warning of the unconverged solve", h)
	}

	// A running job's history grows while it runs.
	code, j, p := e.submit(t, `{"kind":"navier_stokes.simulate","params":{"n":64,"dt":0.001,"t_end":1000,"snapshot_dt":100}}`)
	if code != 202 {
		t.Fatalf("submit: %d %+v", code, p)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		n := 0
		for _, p := range e.progressOf(t, j.ID) {
			if p.Kind == "progress" {
				n++
			}
		}
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("running job: %d progress updates after 2 minutes; job %+v", n, e.get(t, j.ID))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp, b := e.do(t, "POST", "/v1/jobs/"+j.ID+"/cancel", "", nil); resp.StatusCode != 202 {
		t.Errorf("cancel: %d %s", resp.StatusCode, b)
	}
	e.wait(t, j.ID, 2*time.Minute, "cancelled")

	for _, path := range []string{"/v1/jobs/nope/progress", fmt.Sprintf("/v1/jobs/%s0/progress", id)} {
		if resp, b := e.do(t, "GET", path, "", nil); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d %s, want 404", path, resp.StatusCode, b)
		}
	}
}
