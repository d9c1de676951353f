package hyperspectral

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// fclsBrute solves min ‖y − M a‖² s.t. a ≥ 0, 1ᵀa = 1 by enumerating the
// supports S: on S, the equality-constrained least-squares solution comes
// from the KKT system [MₛᵀMₛ 1; 1ᵀ 0][a; μ] = [Mₛᵀy; 1] (solved by LU); the
// best non-negative candidate is the answer. Cost O(2ᴷ K³).
func fclsBrute(m *mat.Dense, y []float64) (best []float64, bestF float64) {
	l, k := m.Dims()
	bestF = math.Inf(1)
	for mask := 1; mask < 1<<k; mask++ {
		var idx []int
		for j := range k {
			if mask&(1<<j) != 0 {
				idx = append(idx, j)
			}
		}
		f := len(idx)
		kkt := mat.NewDense(f+1, f+1, nil)
		rhs := mat.NewVecDense(f+1, nil)
		for a, i := range idx {
			for b, j := range idx {
				var s float64
				for r := range l {
					s += m.At(r, i) * m.At(r, j)
				}
				kkt.Set(a, b, s)
			}
			kkt.Set(a, f, 1)
			kkt.Set(f, a, 1)
			var s float64
			for r := range l {
				s += m.At(r, i) * y[r]
			}
			rhs.SetVec(a, s)
		}
		rhs.SetVec(f, 1)
		var sol mat.VecDense
		if err := sol.SolveVec(kkt, rhs); err != nil {
			continue
		}
		cand := make([]float64, k)
		ok := true
		for a, i := range idx {
			cand[i] = sol.AtVec(a)
			if cand[i] < -1e-12 {
				ok = false
			}
		}
		if !ok {
			continue
		}
		var obj float64
		for r := range l {
			e := y[r]
			for j := range k {
				e -= m.At(r, j) * cand[j]
			}
			obj += e * e
		}
		if obj < bestF {
			best, bestF = cand, obj
		}
	}
	return best, bestF
}

func TestFCLSBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for trial := range 200 {
		l, k, n := 6+rng.IntN(10), 2+rng.IntN(4), 20
		m := mat.NewDense(l, k, nil)
		for i := range l {
			for j := range k {
				m.Set(i, j, rng.Float64())
			}
		}
		y := mat.NewDense(l, n, nil)
		for i := range l {
			for p := range n {
				// Pixels inside, near and far outside the simplex.
				y.Set(i, p, 2*rng.Float64()*float64(1+p%3))
			}
		}
		a, err := FCLS(context.Background(), y, m)
		if err != nil {
			t.Fatal(err)
		}
		for p := range n {
			yp := mat.Col(nil, p, y)
			want, wantF := fclsBrute(m, yp)
			got := mat.Col(nil, p, a)
			var sum, gotF float64
			for _, v := range got {
				if v < 0 {
					t.Fatalf("trial %d pixel %d: negative abundance %v", trial, p, got)
				}
				sum += v
			}
			for r := range l {
				e := yp[r]
				for j := range k {
					e -= m.At(r, j) * got[j]
				}
				gotF += e * e
			}
			// Both solve the same K ≤ 5 system in double precision; the
			// objective agrees to rounding, the minimiser to its conditioning.
			if math.Abs(sum-1) > 1e-12 || gotF > wantF*(1+1e-9)+1e-12 {
				t.Fatalf("trial %d pixel %d: FCLS %v (sum %v, F %v), brute force %v (F %v)", trial, p, got, sum, gotF, want, wantF)
			}
			for j := range k {
				if math.Abs(got[j]-want[j]) > 1e-6 {
					t.Fatalf("trial %d pixel %d: FCLS %v, brute force %v", trial, p, got, want)
				}
			}
		}
	}
}

// TestFCLSTrueEndmembers is §7.2(c): with the true endmembers, FCLS recovers
// the abundances of the clean synthetic data to RMSE ≤ 0.01.
func TestFCLSTrueEndmembers(t *testing.T) {
	m := jasperEndmembers(t)
	y, a := Synthetic(m, 60, 60, 0.4, 30, 1)
	est, err := FCLS(context.Background(), y, m)
	if err != nil {
		t.Fatal(err)
	}
	met, err := Evaluate(m, est, &Truth{Endmembers: m, Abundances: a}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if met.MeanRMSE > 0.01 {
		t.Errorf("FCLS(true M) mean RMSE = %.4f, want ≤ 0.01", met.MeanRMSE)
	}
	t.Logf("FCLS(true M) RMSE per endmember %.4f, mean %.4f", met.RMSE, met.MeanRMSE)
}

func TestFCLSCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := FCLS(ctx, mat.NewDense(3, 5, nil), mat.NewDense(3, 2, []float64{1, 0, 0, 1, 1, 1})); err != context.Canceled {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
