package jobs

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"eddy/hdf5io"
	"eddy/storage"
)

// checkMetricDocs checks a result file against its kind's Spec.Metrics: every
// attribute of /metrics is documented, with the HDF5 type its doc names
// (bool as uint8), and the JSON shows booleans as true/false.
func checkMetricDocs(t *testing.T, r *storage.Run, f *hdf5io.File) {
	t.Helper()
	k, _ := Lookup(r.Kind)
	docs := k.MetricDocs()
	names, err := f.AttrNames("/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		doc, ok := docs[name]
		for pattern, d := range docs {
			if prefix, found := strings.CutSuffix(pattern, "<axis>"); found && strings.HasPrefix(name, prefix) {
				doc, ok = d, true
			}
		}
		if !ok {
			t.Errorf("%s: metric %s is not documented", r.Kind, name)
			continue
		}
		typ, _, _ := strings.Cut(doc, ":")
		want := map[string]string{"float64": "float64", "int64": "int64", "bool": "uint8", "string": "string", "float64 array": "float64"}[typ]
		if got, err := f.AttrDtype("/metrics", name); err != nil || got != want {
			t.Errorf("%s: metric %s stored as %s (%v), documented as %q", r.Kind, name, got, err, doc)
		}
		if typ == "bool" {
			if _, isBool := r.Result.Metrics[name].(bool); !isBool {
				t.Errorf("%s: JSON metric %s = %#v, want true or false", r.Kind, name, r.Result.Metrics[name])
			}
		}
	}
	text, err := f.AttrString("/", "warnings")
	var warnings []string
	if err == nil {
		err = json.Unmarshal([]byte(text), &warnings)
	}
	if err != nil || len(warnings) != len(r.Result.Warnings) {
		t.Errorf("%s: root attribute warnings %q (%v), run %q", r.Kind, text, err, r.Result.Warnings)
	}
}

// Every kind documents the metrics it writes, with their types.
func TestMetricsAreDocumented(t *testing.T) {
	for _, c := range []struct{ kind, params string }{
		{"poisson.solve", `{"n": 16}`},
		{"navier_stokes.simulate", `{"n": 16, "samples": 1, "t_end": 0.1, "snapshot_dt": 0.05, "dt": 0.01}`},
		{"gp.solve", `{"pde": "poisson1d", "exact": "sin(3*x)", "x_max": 2, "n": 30, "components": 4, "iterations": 5, "nugget": "absolute"}`},
	} {
		t.Run(c.kind, func(t *testing.T) {
			r, f := runKindToEnd(t, c.kind, c.params)
			checkMetricDocs(t, r, f)
			if k, _ := Lookup(c.kind); c.kind != "navier_stokes.simulate" && k.MetricDocs()["converged"] == "" {
				t.Errorf("%s does not document converged", c.kind)
			}
		})
	}
}

// An unmixing run stopped by its iteration limit says so: converged false,
// stop_reason max_iterations, the final objective, and a warning.
func TestUnmixReportsConvergence(t *testing.T) {
	ctx := context.Background()
	scene := shippedScene(t, "Jasper_with_GT.mat")
	dataDir := t.TempDir()
	svc, db := newTestService(t, "sqlite://"+t.TempDir()+"/eddy.db", dataDir)
	defer svc.Stop(ctx)
	addUpload(t, db, dataDir, "jasper", scene, []storage.Dataset{{Name: "Y", Shape: []int{198, 10000}, Dtype: "uint16"}})
	id := submitKind(t, svc, "unmix", `{"cube": "jasper", "endmembers": 4, "method": "rrlbs", "iterations": 5, "tol": 1e-12}`)
	r := waitState(t, svc, id, 2*time.Minute, storage.Succeeded, storage.Failed)
	if r.State != storage.Succeeded {
		t.Fatalf("unmix failed: %s", r.Error)
	}
	m := r.Result.Metrics
	if m["converged"] != false || m["stop_reason"] != "max_iterations" || m["iterations"] != 5.0 {
		t.Errorf("metrics %v", m)
	}
	if _, ok := m["objective"].(float64); !ok {
		t.Errorf("objective %#v", m["objective"])
	}
	if len(r.Result.Warnings) != 1 || !strings.HasPrefix(r.Result.Warnings[0], "did not converge: relative decrease of the objective") {
		t.Errorf("warnings %q", r.Result.Warnings)
	}
	f, err := hdf5io.Open(filepath.Join(dataDir, r.ResultPath))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checkMetricDocs(t, r, f)
}
