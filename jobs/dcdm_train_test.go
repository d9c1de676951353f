package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"eddy/hdf5io"
	"eddy/pde/poisson"
	"eddy/storage"
)

// A small dcdm.train run feeds poisson.solve: the model is refused for a
// system of another dimension at submit, and runs with dcdm report the true
// relative residual of the solution they return, its residual history and
// the network's share of the time. The network is trained for seconds and
// the solves are capped at 40 iterations: what training achieves is checked
// in package solvers/dcdm and measured by the poisson benchmark.
func TestDCDMTrainAndSolve(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t, "sqlite://"+t.TempDir()+"/eddy.db", t.TempDir())
	defer svc.Stop(ctx)
	submit := func(kind, params string) *storage.Run {
		t.Helper()
		r, _, err := svc.Submit(ctx, SubmitRequest{Kind: kind, Params: json.RawMessage(params)})
		if err != nil {
			t.Fatalf("%s %s: %v", kind, params, err)
		}
		return r
	}
	train := submit("dcdm.train", `{"n":16,"epochs":2,"samples":300,"batch":10,"lr":2e-3,"lanczos_steps":200,"theta":10,"seed":3}`)
	tr := waitState(t, svc, train.ID, 3*time.Minute, storage.Succeeded, storage.Failed)
	if tr.State != storage.Succeeded {
		t.Fatalf("dcdm.train: %s", tr.Error)
	}
	tm := tr.Result.Metrics
	t.Logf("train metrics %v", tm)
	first, _ := tm["first_loss"].(float64)
	last, _ := tm["loss"].(float64)
	if !(last < first && first <= 1.5) {
		t.Errorf("loss %v → %v: training did not lower it", first, last)
	}
	if n, _ := tm["lanczos_steps"].(float64); n != 200 {
		t.Errorf("lanczos_steps %v", tm["lanczos_steps"])
	}

	for _, c := range []struct{ params, path string }{
		{fmt.Sprintf(`{"dim":3,"n":8,"scene":"smoke","rhs":"random","method":"dcdm","model":%q}`, train.ID), "/params/model"},
		{`{"n":16,"scene":"smoke","rhs":"random","method":"dcdm"}`, "/params/model"},
		{fmt.Sprintf(`{"n":16,"scene":"smoke","rhs":"random","method":"dcdm","model":%q}`, "nope"), "/params/model"},
		{fmt.Sprintf(`{"n":15,"scene":"smoke","rhs":"random","method":"dcdm","model":%q}`, train.ID), "/params/n"},
	} {
		_, _, err := svc.Submit(ctx, SubmitRequest{Kind: "poisson.solve", Params: json.RawMessage(c.params)})
		v, ok := err.(ValidationError)
		if !ok || len(v) == 0 || v[0].Path != c.path {
			t.Errorf("%s: %v, want an error at %s", c.params, err, c.path)
		}
	}

	// A compare run reports dcdm's metrics under its name.
	cmp := submit("poisson.solve", fmt.Sprintf(`{"n":16,"scene":"sphere","rhs":"random","tol":1e-2,"max_iter":40,"compare":["cg","dcdm"],"model":%q}`, train.ID))
	solve := submit("poisson.solve", fmt.Sprintf(`{"n":32,"scene":"smoke","rhs":"random","seed":2,"tol":1e-3,"max_iter":40,"method":"dcdm","model":%q}`, train.ID))
	r := waitState(t, svc, cmp.ID, 3*time.Minute, storage.Succeeded, storage.Failed)
	if r.State != storage.Succeeded {
		t.Fatalf("poisson.solve compare: %s", r.Error)
	}
	m := r.Result.Metrics
	t.Logf("compare metrics %v", m)
	rel, _ := m["dcdm.rel_residual"].(float64)
	cgRel, _ := m["cg.rel_residual"].(float64)
	if !(rel > 0 && rel < 0.5) || m["converged"] != (rel <= 1e-2 && cgRel <= 1e-2) {
		t.Errorf("compare: dcdm.rel_residual %v, cg.rel_residual %v, converged %v (every method's)", rel, cgRel, m["converged"])
	}
	if ns, _ := m["dcdm.network_seconds"].(float64); !(ns > 0) {
		t.Errorf("dcdm.network_seconds = %v", m["dcdm.network_seconds"])
	}

	r = waitState(t, svc, solve.ID, 3*time.Minute, storage.Succeeded, storage.Failed)
	if r.State != storage.Succeeded {
		t.Fatalf("poisson.solve: %s", r.Error)
	}
	m = r.Result.Metrics
	t.Logf("solve metrics %v", m)
	local, err := storage.Fetch(ctx, svc.artifacts, r.ResultPath)
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	f, err := hdf5io.Open(local.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checkMetricDocs(t, r, f)
	its, _ := m["iterations"].(float64)
	h, _, err := f.ReadFloat64("residual_history")
	if err != nil || float64(len(h)) != its+1 {
		t.Fatalf("history of %d entries for %v iterations: %v", len(h), its, err)
	}
	x, _, err := f.ReadFloat64("solution")
	if err != nil {
		t.Fatal(err)
	}
	cells, _ := poisson.Scene("smoke", 2, 32, 0)
	sys := poisson.NewSystem(cells)
	b := sys.RandomRHS(2)
	ax := make([]float64, len(b))
	sys.A.Apply(ax, x)
	var rr, bb float64
	for i := range b {
		rr += (b[i] - ax[i]) * (b[i] - ax[i])
		bb += b[i] * b[i]
	}
	rel, _ = m["rel_residual"].(float64)
	if got := math.Sqrt(rr / bb); math.Abs(got-rel) > 1e-9 || !(rel < 0.5) || h[len(h)-1] != rel || m["converged"] != (rel <= 1e-3) {
		t.Errorf("dcdm: reported relative residual %g (converged %v), history ends at %g, recomputed %g; tol 1e-3", rel, m["converged"], h[len(h)-1], got)
	}
	if ns, _ := m["network_seconds"].(float64); !(ns > 0) {
		t.Errorf("network_seconds = %v", m["network_seconds"])
	}
}
