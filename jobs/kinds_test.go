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

func decodeErrPaths(t *testing.T, kind, raw string) []string {
	t.Helper()
	k, ok := Lookup(kind)
	if !ok {
		t.Fatalf("%s not registered", kind)
	}
	_, _, err := decodeAtSubmit(context.Background(), k, json.RawMessage(raw))
	var paths []string
	if v, ok := err.(ValidationError); ok {
		for _, e := range v {
			paths = append(paths, e.Path+" "+e.Message)
		}
	} else if err != nil {
		t.Fatalf("%s %s: not a validation error: %v", kind, raw, err)
	}
	return paths
}

func TestLibraryParamsValidation(t *testing.T) {
	cases := []struct{ kind, raw, want string }{
		{"navier_stokes.simulate", `{"n": 3}`, "/params/n "},
		{"navier_stokes.simulate", `{"scheme": "rk3"}`, "/params/scheme "},
		{"navier_stokes.simulate", `{"viscosity": -1}`, "/params/viscosity "},
		{"gp.solve", `{"preset": "nope"}`, "/params/preset "},
		{"gp.solve", `{"pde": "poisson1d", "exact": "sin(100*x"}`, "/params/exact at character"},
		{"gp.solve", `{"kernel": "rbf"}`, "/params/kernel "},
		{"gp.solve", `{"preset": "p1", "nugget": "fixed"}`, "/params/nugget "},
		{"gp.solve", `{"preset": "p1", "colour": 1}`, "/params/colour "},
		{"gp.solve", `{"pde": "poisson1d", "exact": "1/(x-x)"}`, "/params/exact the source f derived from it is NaN"},
		{"gp.solve", `{"pde": "poisson1d", "source": "sqrt(-1-x)", "boundary": "0"}`, "/params/source is NaN"},
		{"gp.solve", `{"pde": "poisson1d", "source": "1", "boundary": "log(x-x)"}`, "/params/boundary is -Inf"},
		{"gp.solve", `{"n": null}`, "/params/n must be an integer, not null"},
		{"navier_stokes.simulate", `{"dt": 0.5, "snapshot_dt": 0.5, "t_end": 1}`, "/params/dt the initial CFL number"},
		{"navier_stokes.simulate", `{"dt": null}`, "/params/dt must be a number, not null"},
		{"unmix", `{}`, "/params/cube is required"},
		{"unmix", `{"cube": "c"}`, "/params/endmembers is required"},
		{"unmix", `{"cube": "c", "endmembers": 4, "outlier_bands": [1, -1]}`, "/params/outlier_bands/1 must be between 0"},
	}
	for _, c := range cases {
		paths := decodeErrPaths(t, c.kind, c.raw)
		found := false
		for _, p := range paths {
			found = found || strings.HasPrefix(p, c.want)
		}
		if !found {
			t.Errorf("%s %s: errors %q, want one starting %q", c.kind, c.raw, paths, c.want)
		}
	}
	for kind, raw := range map[string]string{
		"gp.solve":               `{"preset": "ac1"}`,
		"navier_stokes.simulate": `{"initial": "taylor_green", "forcing": "none", "length": 6.283185307179586}`,
	} {
		if p := decodeErrPaths(t, kind, raw); len(p) > 0 {
			t.Errorf("%s %s rejected: %v", kind, raw, p)
		}
	}
}

func runKindToEnd(t *testing.T, kind, params string) (*storage.Run, *hdf5io.File) {
	t.Helper()
	ctx := context.Background()
	dataDir := t.TempDir()
	svc, _ := newTestService(t, "sqlite://"+t.TempDir()+"/eddy.db", dataDir)
	t.Cleanup(func() { svc.Stop(ctx) })
	r, _, err := svc.Submit(ctx, SubmitRequest{Kind: kind, Params: json.RawMessage(params)})
	if err != nil {
		t.Fatal(err)
	}
	r = waitState(t, svc, r.ID, 120*time.Second, storage.Succeeded, storage.Failed)
	if r.State != storage.Succeeded {
		t.Fatalf("%s failed: %s", kind, r.Error)
	}
	f, err := hdf5io.Open(filepath.Join(dataDir, r.ResultPath))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return r, f
}

func TestNavierStokesKind(t *testing.T) {
	r, f := runKindToEnd(t, "navier_stokes.simulate",
		`{"n": 32, "samples": 2, "t_end": 0.5, "snapshot_dt": 0.1, "dt": 0.01, "scheme": "rk4_cn"}`)
	_, shape, err := f.ReadFloat64("vorticity")
	if err != nil || len(shape) != 4 || shape[0] != 2 || shape[1] != 6 || shape[2] != 32 || shape[3] != 32 {
		t.Fatalf("vorticity shape %v: %v", shape, err)
	}
	if d, _ := f.AttrString("/vorticity", "dims"); d != "sample,t,y,x" {
		t.Errorf("dims %q", d)
	}
	tt, _, _ := f.ReadFloat64("t")
	if len(tt) != 6 || tt[0] != 0 || abs(tt[5]-0.5) > 1e-12 {
		t.Errorf("times %v", tt)
	}
	if r.Result.Metrics["frames"] != 6.0 || r.Result.Metrics["max_cfl"].(float64) <= 0 {
		t.Errorf("metrics %+v", r.Result.Metrics)
	}
}

func TestGPSolveKind(t *testing.T) {
	// A low-frequency 1-D Poisson problem from an exact-solution expression:
	// small enough for a quick run, and the GP must still be accurate. Its
	// polynomial part needs the absolute nugget (gphm.Config.Nugget).
	r, f := runKindToEnd(t, "gp.solve",
		`{"pde": "poisson1d", "exact": "sin(3*x) + x^2", "x_min": 0, "x_max": 2, "n": 60, "freq_scale": 2, "components": 8, "iterations": 20, "nugget": "absolute"}`)
	u, shape, err := f.ReadFloat64("u")
	if err != nil || len(shape) != 1 || shape[0] != 60 {
		t.Fatalf("u %v %v", shape, err)
	}
	ex, _, _ := f.ReadFloat64("u_exact")
	if len(ex) != len(u) {
		t.Fatal("u_exact missing")
	}
	rel := r.Result.Metrics["rel_l2"].(float64)
	if rel > 1e-3 {
		t.Errorf("rel_l2 %g", rel)
	}
	if r.Result.Metrics["nugget"] != "absolute" {
		t.Errorf("nugget %v, want absolute", r.Result.Metrics["nugget"])
	}
	if _, _, err := f.ReadFloat64("/spectrum/x/weights"); err != nil {
		t.Error(err)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
