package hyperspectral

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// FCLS returns the fully constrained least-squares abundances of every pixel
// of y (bands×pixels) for the endmembers m (bands×K):
//
//	a_n = argmin ‖y_n − M a‖₂²  subject to  a ≥ 0, 1ᵀa = 1,
//
// as a K×pixels matrix (Heinz & Chang, TGRS 2001). Heinz and Chang enforce the
// sum-to-one constraint approximately, by appending a heavily weighted row of
// ones to M; here it is enforced exactly, which is the limit of that
// weighting: each pixel's quadratic program is solved by a primal active-set
// method on the normal equations, whose equality-constrained subproblems are
// solved by Cholesky factorisation of the free part of MᵀM.
//
// Cost: O(K·bands·pixels) to form MᵀY plus O(K³) per active-set step per
// pixel; no allocation per pixel. FCLS checks ctx every 4096 pixels and
// returns ctx.Err() when it is done. It panics if the band counts differ.
func FCLS(ctx context.Context, y, m *mat.Dense) (*mat.Dense, error) {
	bands, n := y.Dims()
	mb, k := m.Dims()
	if mb != bands {
		panic(fmt.Sprintf("hyperspectral: FCLS: endmembers have %d bands, data %d", mb, bands))
	}
	var g mat.Dense
	g.Mul(m.T(), m)
	var b mat.Dense
	b.Mul(m.T(), y)

	s := newFCLSSolver(k, g.RawMatrix().Data)
	a := mat.NewDense(k, n, nil)
	bn := make([]float64, k)
	an := make([]float64, k)
	for p := range n {
		if p%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		for i := range k {
			bn[i] = b.At(i, p)
		}
		s.solve(an, bn)
		for i := range k {
			a.Set(i, p, an[i])
		}
	}
	return a, nil
}

// fclsSolver solves min ½aᵀGa − bᵀa s.t. a ≥ 0, 1ᵀa = 1 for a fixed K×K
// Gram matrix G = MᵀM and many right-hand sides b = Mᵀy.
type fclsSolver struct {
	k     int
	g     []float64 // K×K, row-major
	ridge float64   // added to the diagonal of free blocks, for rank-deficient M
	tol   float64   // tolerance of the KKT sign test

	free []bool
	idx  []int     // free indices, ascending
	chol []float64 // Cholesky factor of the free block, f×f
	u, v []float64 // G_FF⁻¹ b_F, G_FF⁻¹ 1
	z    []float64 // solution of the equality-constrained subproblem, length K
}

func newFCLSSolver(k int, g []float64) *fclsSolver {
	var maxDiag float64
	for i := range k {
		maxDiag = max(maxDiag, g[i*k+i])
	}
	if maxDiag == 0 {
		maxDiag = 1
	}
	return &fclsSolver{
		k: k, g: g,
		ridge: 1e-12 * maxDiag,
		tol:   1e-12 * maxDiag,
		free:  make([]bool, k),
		idx:   make([]int, 0, k),
		chol:  make([]float64, k*k),
		u:     make([]float64, k),
		v:     make([]float64, k),
		z:     make([]float64, k),
	}
}

// solve stores the minimiser in a. The iterate is always feasible; the
// number of active-set changes is bounded, and after that bound (reached only
// in degenerate cases) the current feasible iterate is returned.
func (s *fclsSolver) solve(a, b []float64) {
	k, g := s.k, s.g
	// Start at the best vertex of the simplex.
	best := 0
	for j := 1; j < k; j++ {
		if 0.5*g[j*k+j]-b[j] < 0.5*g[best*k+best]-b[best] {
			best = j
		}
	}
	for j := range k {
		a[j] = 0
		s.free[j] = false
	}
	a[best] = 1
	s.free[best] = true

	for iter := 0; iter < 4*k+8; iter++ {
		mu := s.subproblem(b)
		feasible := true
		for _, j := range s.idx {
			if s.z[j] <= 0 {
				feasible = false
				break
			}
		}
		if feasible {
			for j := range k {
				a[j] = 0
			}
			for _, j := range s.idx {
				a[j] = s.z[j]
			}
			// KKT: ν_i = (Ga − b)_i + μ ≥ 0 for every bound index i.
			worst, enter := -s.tol, -1
			for i := range k {
				if s.free[i] {
					continue
				}
				var gi float64
				for _, j := range s.idx {
					gi += g[i*k+j] * a[j]
				}
				if nu := gi - b[i] + mu; nu < worst {
					worst, enter = nu, i
				}
			}
			if enter < 0 {
				return
			}
			s.free[enter] = true
			continue
		}
		// Move from a towards z until the first free coordinate reaches 0.
		alpha, leave := 1.0, -1
		for _, j := range s.idx {
			if s.z[j] <= 0 {
				if t := a[j] / (a[j] - s.z[j]); t < alpha {
					alpha, leave = t, j
				}
			}
		}
		for _, j := range s.idx {
			a[j] += alpha * (s.z[j] - a[j])
			if a[j] <= 0 || j == leave {
				a[j] = 0
				s.free[j] = false
			}
		}
		// Keep the iterate exactly on the simplex despite rounding.
		var sum float64
		for j := range k {
			sum += a[j]
		}
		if !(sum > 0) {
			// Cannot happen for finite data, which keep a on the simplex.
			for j := range k {
				a[j] = 1 / float64(k)
			}
			return
		}
		for j := range k {
			a[j] /= sum
		}
	}
}

// subproblem solves min ½zᵀGz − bᵀz s.t. 1ᵀz = 1 over the free coordinates
// (the others are 0), storing z in s.z and returning the multiplier μ of the
// equality constraint: G_FF z = b_F − μ1.
func (s *fclsSolver) subproblem(b []float64) float64 {
	k := s.k
	s.idx = s.idx[:0]
	for j := range k {
		if s.free[j] {
			s.idx = append(s.idx, j)
		}
	}
	f := len(s.idx)
	u, v := s.u[:f], s.v[:f]
	ridge, ok := s.ridge, false
	for try := 0; try < 12 && !ok; try++ {
		ok = s.factor(ridge)
		ridge *= 1e3
	}
	if !ok {
		// Only non-finite data get here: fall back to the centre of the face.
		for j := range k {
			s.z[j] = 0
		}
		for _, j := range s.idx {
			s.z[j] = 1 / float64(f)
		}
		return 0
	}
	for i, j := range s.idx {
		u[i] = b[j]
		v[i] = 1
	}
	s.cholSolve(u)
	s.cholSolve(v)
	var su, sv float64
	for i := range f {
		su += u[i]
		sv += v[i]
	}
	mu := (su - 1) / sv
	for j := range k {
		s.z[j] = 0
	}
	for i, j := range s.idx {
		s.z[j] = u[i] - mu*v[i]
	}
	return mu
}

// factor computes the Cholesky factor L (lower, row-major f×f) of
// G_FF + ridge·I, reporting false if it is not numerically positive definite.
func (s *fclsSolver) factor(ridge float64) bool {
	k, f := s.k, len(s.idx)
	c := s.chol[:f*f]
	for i := range f {
		for j := 0; j <= i; j++ {
			sum := s.g[s.idx[i]*k+s.idx[j]]
			if i == j {
				sum += ridge
			}
			for p := range j {
				sum -= c[i*f+p] * c[j*f+p]
			}
			if i == j {
				if !(sum > 0) || math.IsInf(sum, 0) {
					return false
				}
				c[i*f+i] = math.Sqrt(sum)
			} else {
				c[i*f+j] = sum / c[j*f+j]
			}
		}
	}
	return true
}

// cholSolve overwrites x with (L Lᵀ)⁻¹ x.
func (s *fclsSolver) cholSolve(x []float64) {
	f := len(x)
	c := s.chol[:f*f]
	for i := range f {
		sum := x[i]
		for p := range i {
			sum -= c[i*f+p] * x[p]
		}
		x[i] = sum / c[i*f+i]
	}
	for i := f - 1; i >= 0; i-- {
		sum := x[i]
		for p := i + 1; p < f; p++ {
			sum -= c[p*f+i] * x[p]
		}
		x[i] = sum / c[i*f+i]
	}
}
