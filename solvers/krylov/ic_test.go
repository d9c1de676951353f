package krylov_test

import (
	"context"
	"math"
	"testing"

	"eddy/pde/poisson"
	"eddy/solvers/krylov"
)

// sceneCSR returns the assembled system of a scene and a random right-hand side.
func sceneCSR(t testing.TB, scene string, dim, n int) (*poisson.System, *krylov.CSR, []float64) {
	c, err := poisson.Scene(scene, dim, n, 3)
	if err != nil {
		t.Fatal(err)
	}
	s := poisson.NewSystem(c)
	rp, col, val := s.A.CSR()
	a, err := krylov.NewCSR(s.Len(), rp, col, val)
	if err != nil {
		t.Fatal(err)
	}
	return s, a, s.RandomRHS(1)
}

// denseIC is the reference: right-looking elimination on the dense matrix,
// keeping only the entries in the pattern of A; an update outside it is
// dropped or, scaled by tau, moved to the two diagonals; a pivot below
// safety·A_kk is reset to A_kk (MIC's guard; safety 0 disables it). It
// returns the pivots D, the strict lower factor L of
// M = (D + L) D⁻¹ (D + Lᵀ) and the rows whose pivot was reset.
func denseIC(a *krylov.CSR, tau, safety float64) (d, l []float64, reset map[int]bool) {
	n := a.N
	m := make([]float64, n*n)
	in := make([]bool, n*n)
	for i := range n {
		for p := a.RowPtr[i]; p < a.RowPtr[i+1]; p++ {
			m[i*n+int(a.Col[p])] = a.Val[p]
			in[i*n+int(a.Col[p])] = true
		}
	}
	a0 := make([]float64, n)
	for i := range n {
		a0[i] = m[i*n+i]
	}
	reset = map[int]bool{}
	for k := range n {
		if m[k*n+k] < safety*a0[k] {
			m[k*n+k] = a0[k]
			reset[k] = true
		}
		for i := k + 1; i < n; i++ {
			if !in[i*n+k] {
				continue
			}
			for j := k + 1; j < n; j++ {
				if !in[j*n+k] {
					continue
				}
				u := m[i*n+k] * m[k*n+j] / m[k*n+k]
				if in[i*n+j] {
					m[i*n+j] -= u
				} else {
					m[i*n+i] -= tau * u / 2 // i ≠ j: each of (i,j), (j,i) adds half to both diagonals
					m[j*n+j] -= tau * u / 2
				}
			}
		}
	}
	d = make([]float64, n)
	l = make([]float64, n*n)
	for i := range n {
		d[i] = m[i*n+i]
		for j := range i {
			l[i*n+j] = m[i*n+j]
		}
	}
	return d, l, reset
}

// IC(0) and MIC(0) factors equal those of the dense reference elimination to
// 1e-12 on small scenes with obstacles, air and an open top; and the
// defining properties hold: IC(0) reproduces A on its pattern, MIC(0) with
// τ = 1 reproduces A's row sums on every row whose pivot the guard left
// alone. (With τ = 1 a fluid pocket whose rows all sum to zero drives its
// last pivot to 0; the guard resets it — row 23 of 2-D smoke at n = 10.)
func TestICAgainstDense(t *testing.T) {
	for _, tc := range []struct {
		scene  string
		dim, n int
	}{{"smoke", 2, 10}, {"random", 2, 12}, {"smoke", 3, 6}, {"box", 3, 5}} {
		_, a, _ := sceneCSR(t, tc.scene, tc.dim, tc.n)
		for _, v := range []struct {
			name        string
			opt         krylov.ICOptions
			tau, safety float64
		}{{"ic0", krylov.ICOptions{}, 0, 0}, {"mic0", krylov.ICOptions{Modified: true}, 0.97, 0.25}, {"mic0-tau1", krylov.ICOptions{Modified: true, Tau: 1, Safety: 1e-3}, 1, 1e-3}} {
			f, err := krylov.NewIC(a, v.opt)
			if err != nil {
				t.Fatal(err)
			}
			d, l := f.Factors()
			dd, dl, reset := denseIC(a, v.tau, v.safety)
			var worst float64
			for i := range d {
				worst = max(worst, math.Abs(d[i]-dd[i]))
			}
			for i := range l {
				worst = max(worst, math.Abs(l[i]-dl[i]))
			}
			if worst > 1e-12 {
				t.Errorf("%s %d-D %s: factors differ from the dense reference by %g", tc.scene, tc.dim, v.name, worst)
			}
			// M = (D+L) D⁻¹ (D+Lᵀ) densely.
			n := a.N
			mm := func(i, j int) float64 {
				var s float64
				for k := 0; k <= min(i, j); k++ {
					lik, ljk := l[i*n+k], l[j*n+k]
					if k == i {
						lik = d[i]
					}
					if k == j {
						ljk = d[j]
					}
					s += lik * ljk / d[k]
				}
				return s
			}
			for i := range n {
				var rowM, rowA float64
				for j := range n {
					rowM += mm(i, j)
				}
				for p := a.RowPtr[i]; p < a.RowPtr[i+1]; p++ {
					rowA += a.Val[p]
					if v.tau == 0 && math.Abs(mm(i, int(a.Col[p]))-a.Val[p]) > 1e-12 {
						t.Fatalf("%s ic0: M[%d,%d] = %g, A = %g", tc.scene, i, a.Col[p], mm(i, int(a.Col[p])), a.Val[p])
					}
				}
				if v.tau == 1 && !reset[i] && math.Abs(rowM-rowA) > 1e-10 {
					t.Fatalf("%s mic0 τ=1: row %d sums to %g, A's to %g", tc.scene, i, rowM, rowA)
				}
			}
		}
	}
}

// Every preconditioner reaches the tolerance by the true residual, with no
// NaN, on 2-D and 3-D scenes, and the iteration counts keep their known
// order. Measured (smoke, tol 1e-8): 2-D 48²: CG 273, IC 83, MIC 48, MG 7.
func TestPCGScenes(t *testing.T) {
	for _, tc := range []struct {
		scene  string
		dim, n int
	}{{"smoke", 2, 48}, {"random", 2, 40}, {"box", 2, 33}, {"smoke", 3, 16}, {"plate", 3, 20}} {
		s, a, b := sceneCSR(t, tc.scene, tc.dim, tc.n)
		ic, err := krylov.NewIC(a, krylov.ICOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mic, err := krylov.NewIC(a, krylov.ICOptions{Modified: true})
		if err != nil {
			t.Fatal(err)
		}
		mg, err := krylov.NewMG(s.A, krylov.MGOptions{})
		if err != nil {
			t.Fatal(err)
		}
		its := map[string]int{}
		for _, m := range []struct {
			name string
			pre  krylov.Preconditioner
		}{{"cg", nil}, {"ic0", ic}, {"mic0", mic}, {"mg", mg}} {
			x := make([]float64, s.Len())
			res, err := krylov.PCG(context.Background(), s.A, m.pre, b, x, krylov.Options{Tol: 1e-8}, nil)
			if err != nil || !res.Converged {
				t.Fatalf("%s %d-D %s: %+v %v", tc.scene, tc.dim, m.name, res.Converged, err)
			}
			if !(res.TrueRelResidual <= 1e-8) {
				t.Errorf("%s %d-D %s: true relative residual %g", tc.scene, tc.dim, m.name, res.TrueRelResidual)
			}
			for _, v := range x {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("%s %s: non-finite solution", tc.scene, m.name)
				}
			}
			its[m.name] = res.Iterations
		}
		t.Logf("%s %d-D n=%d: %v", tc.scene, tc.dim, tc.n, its)
		if !(its["mg"] < its["mic0"] && its["mic0"] < its["ic0"] && its["ic0"] < its["cg"]) {
			t.Errorf("%s %d-D: iterations %v, want mg < mic0 < ic0 < cg", tc.scene, tc.dim, its)
		}
	}
}

// CG and PCG minimise ‖x − x*‖_A over a growing Krylov space, so the A-norm
// error never increases. The iterates are reproduced by rerunning with
// MaxIter = k (the iteration is deterministic) and compared with x* solved to
// 1e-13. A relative increase above 1e-10 (rounding of ‖e‖_A² near 1e-12 of
// its start) fails. The grid has three multigrid levels, so MG runs its
// K-cycle and PCG flexible CG, whose exact line search along each direction
// keeps the A-norm error non-increasing too.
func TestANormErrorNonIncreasing(t *testing.T) {
	s, a, b := sceneCSR(t, "smoke", 2, 48)
	ref := make([]float64, s.Len())
	mg, err := krylov.NewMG(s.A, krylov.MGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if mg.Levels() < 3 || !mg.Variable() {
		t.Fatalf("MG: %d levels, variable %v, want a K-cycle over at least 3 levels", mg.Levels(), mg.Variable())
	}
	if _, err := krylov.PCG(context.Background(), s.A, mg, b, ref, krylov.Options{Tol: 1e-13}, nil); err != nil {
		t.Fatal(err)
	}
	ic, _ := krylov.NewIC(a, krylov.ICOptions{})
	for _, m := range []struct {
		name string
		pre  krylov.Preconditioner
	}{{"cg", nil}, {"ic0", ic}, {"mg", mg}} {
		prev := math.Inf(1)
		ae := make([]float64, s.Len())
		for k := 1; k <= 60; k++ {
			x := make([]float64, s.Len())
			res, err := krylov.PCG(context.Background(), s.A, m.pre, b, x, krylov.Options{Tol: 1e-12, MaxIter: k}, nil)
			if err != nil {
				t.Fatal(err)
			}
			e := make([]float64, len(x))
			for i := range x {
				e[i] = x[i] - ref[i]
			}
			s.A.Apply(ae, e)
			var en float64
			for i := range e {
				en += e[i] * ae[i]
			}
			if en > prev*(1+1e-10) {
				t.Errorf("%s: ‖e‖²_A rose from %g to %g at iteration %d", m.name, prev, en, k)
			}
			prev = en
			if res.Converged {
				break
			}
		}
	}
}
