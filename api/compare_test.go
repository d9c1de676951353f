package api_test

import (
	"bytes"
	"encoding/json"
	"image/png"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// Two poisson.solve jobs on different grids, compared: the params that
// differ are marked, the metrics lined up, and the plots they share drawn
// for both at once — the fields side by side (a wider picture), the
// residual histories overlaid with each job's id in the legend. Mixed kinds,
// one job, unknown jobs and plots, and an unfinished job are refused.
func TestCompare(t *testing.T) {
	e := start(t, "sqlite")
	a := e.succeeded(t, `{"kind":"poisson.solve","params":{"dim":2,"n":24}}`)
	b := e.succeeded(t, `{"kind":"poisson.solve","params":{"dim":2,"n":32}}`)
	jobsQ := "?jobs=" + url.QueryEscape(a+","+b)

	resp, body := e.do(t, "GET", "/v1/compare"+jobsQ, "", nil)
	var doc struct {
		Kind string `json:"kind"`
		Jobs []struct {
			ID string `json:"id"`
		} `json:"jobs"`
		Params, Metrics []struct {
			Name    string `json:"name"`
			Values  []any  `json:"values"`
			Differs bool   `json:"differs"`
		}
		Plots []plotDoc `json:"plots"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &doc) != nil {
		t.Fatalf("compare: %d %s", resp.StatusCode, body)
	}
	if doc.Kind != "poisson.solve" || len(doc.Jobs) != 2 || doc.Jobs[0].ID != a || doc.Jobs[1].ID != b {
		t.Fatalf("compare: %s", body)
	}
	row := func(rows []struct {
		Name    string `json:"name"`
		Values  []any  `json:"values"`
		Differs bool   `json:"differs"`
	}, name string) (vals []any, differs, ok bool) {
		for _, r := range rows {
			if r.Name == name {
				return r.Values, r.Differs, true
			}
		}
		return nil, false, false
	}
	if v, d, ok := row(doc.Params, "n"); !ok || !d || v[0] != 24.0 || v[1] != 32.0 {
		t.Errorf("param n: %v differs %v (found %v)", v, d, ok)
	}
	if v, d, ok := row(doc.Params, "dim"); !ok || d || v[0] != 2.0 {
		t.Errorf("param dim: %v differs %v (found %v)", v, d, ok)
	}
	if len(doc.Metrics) == 0 {
		t.Error("no metrics")
	}
	for _, m := range doc.Metrics {
		if len(m.Values) != 2 {
			t.Errorf("metric %s: %v", m.Name, m.Values)
		}
	}
	want := map[string]string{"solution": "heatmap", "exact": "heatmap", "residual_history": "lines"}
	for name, kind := range want {
		i := slices.IndexFunc(doc.Plots, func(p plotDoc) bool { return p.Name == name })
		if i < 0 || doc.Plots[i].Kind != kind {
			t.Errorf("plot %s (%s) not listed: %+v", name, kind, doc.Plots)
			continue
		}
		p := doc.Plots[i]
		if !strings.HasPrefix(p.URL, "/v1/compare/plots/"+name+"?jobs=") {
			t.Errorf("plot %s: url %s", name, p.URL)
		}
		resp, body := e.do(t, "GET", p.URL, "", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s: %d %.300s", p.URL, resp.StatusCode, body)
		}
		img, err := png.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", p.URL, err)
		}
		// Two fields side by side make a wider picture than one plot.
		if w := img.Bounds().Dx(); (kind == "heatmap") != (w > 672) || img.Bounds().Dy() != 480 {
			t.Errorf("%s: %v", name, img.Bounds())
		}
		resp, body = e.do(t, "GET", p.URL+"&format=svg", "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s svg: %d %.300s", name, resp.StatusCode, body)
		}
		checkSVG(t, name, body)
		for _, id := range []string{a, b} {
			if !bytes.Contains(body, []byte(id[len(id)-8:])) {
				t.Errorf("%s: job %s not labelled", name, id)
			}
		}
	}

	other := e.mustSubmit(t, `{"kind":"navier_stokes.simulate","params":{"n":16,"dt":0.01,"t_end":0.1,"snapshot_dt":0.1,"samples":1,"seed":1}}`)
	queued := e.mustSubmit(t, `{"kind":"poisson.solve","params":{"dim":3,"n":64}}`)
	for _, c := range []struct {
		path string
		code int
	}{
		{"/v1/compare?jobs=" + a, http.StatusBadRequest},
		{"/v1/compare?jobs=" + a + "," + a, http.StatusBadRequest},
		{"/v1/compare", http.StatusBadRequest},
		{"/v1/compare?jobs=" + a + ",no-such-job", http.StatusNotFound},
		{"/v1/compare?jobs=" + a + "," + other, http.StatusUnprocessableEntity},
		{"/v1/compare/plots/no_such_plot" + jobsQ, http.StatusNotFound},
		{"/v1/compare/plots/solution" + jobsQ + "&format=gif", http.StatusBadRequest},
		{"/v1/compare/plots/solution?jobs=" + a + "," + queued, http.StatusConflict},
	} {
		resp, body := e.do(t, "GET", c.path, "", nil)
		if resp.StatusCode != c.code || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want %d", c.path, resp.StatusCode, body, c.code)
		}
	}
	// A comparison with an unfinished job still shows params, without plots.
	resp, body = e.do(t, "GET", "/v1/compare?jobs="+a+","+queued, "", nil)
	doc.Plots, doc.Params = nil, nil
	if resp.StatusCode != 200 || json.Unmarshal(body, &doc) != nil || doc.Plots == nil || len(doc.Plots) != 0 || len(doc.Params) == 0 {
		t.Errorf("compare with a queued job: %d %.500s", resp.StatusCode, body)
	}
	e.do(t, "POST", "/v1/jobs/"+queued+"/cancel", "", nil)
	e.do(t, "POST", "/v1/jobs/"+other+"/cancel", "", nil)
}
