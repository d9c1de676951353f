package dcdm

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"eddy/blas"
	"eddy/pde/poisson"
)

// Ritz holds the Ritz pairs of a Lanczos run on a training matrix, from
// which training vectors are drawn (spec §3).
type Ritz struct {
	// Values are the kept Ritz values θ_i (those above 1e-8), ascending.
	Values []float64
	// Steps is the number of Lanczos steps taken: the requested m, or
	// fewer when the Krylov space became invariant.
	Steps int

	n     int       // vector length (full grid)
	basis []float64 // Lanczos vectors w_j as rows, Steps × n
	vecs  []float64 // eigenvectors s_i of T as rows i, for the kept pairs
}

// minRitzValue drops the Ritz pairs of the null space of a singular
// training matrix (spec §3 step 4).
const minRitzValue = 1e-8

// Lanczos runs steps steps of the Lanczos process with full
// reorthogonalisation (classical Gram–Schmidt, twice) on the operator a
// restricted to its active cells, from v₀ = A g, g ~ N(0, I) drawn from
// seed (so v₀ lies in the range of A), and returns the Ritz pairs of the
// tridiagonal matrix T. It stops early when the Krylov space becomes
// invariant (β below 1e-10·‖T‖). Cost: steps operator applications,
// about 4·steps²·n flops for the reorthogonalisation and one dense
// symmetric eigendecomposition of order steps; memory steps·n + steps²
// float64s.
func Lanczos(ctx context.Context, a *poisson.Stencil, steps int, seed uint64) (*Ritz, error) {
	n := a.Len()
	active := 0
	for _, in := range a.Inactive {
		if !in {
			active++
		}
	}
	if steps < 2 || steps > active {
		return nil, fmt.Errorf("dcdm: %d Lanczos steps for %d unknowns, want 2 to the number of unknowns", steps, active)
	}
	rnd := rand.New(rand.NewPCG(seed, 0x1a2c05))
	g := make([]float64, n)
	for i := range g {
		if !a.Inactive[i] {
			g[i] = rnd.NormFloat64()
		}
	}
	w := make([]float64, n)
	a.Apply(w, g)
	mask(w, a.Inactive)
	basis := make([]float64, 0, steps*n)
	alpha := make([]float64, 0, steps)
	beta := make([]float64, 0, steps) // beta[j] couples w_j and w_{j+1}
	h := make([]float64, steps)
	norm := math.Sqrt(dot(w, w))
	scale := 0.0
	for j := 0; j < steps; j++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for i := range w {
			w[i] /= norm
		}
		basis = append(basis, w...)
		v := basis[j*n : (j+1)*n]
		a.Apply(w, v)
		if j > 0 {
			axpy(w, -beta[j-1], basis[(j-1)*n:j*n])
		}
		al := dot(v, w)
		axpy(w, -al, v)
		alpha = append(alpha, al)
		scale = max(scale, math.Abs(al)+2*norm)
		// Full reorthogonalisation against w_0 … w_j, twice.
		for range 2 {
			k := j + 1
			blas.Dgemm(false, false, k, 1, n, 1, basis[:k*n], n, w, 1, 0, h[:k], 1)
			blas.Dgemm(true, false, n, 1, k, -1, basis[:k*n], n, h[:k], 1, 1, w, 1)
		}
		norm = math.Sqrt(dot(w, w))
		if j == steps-1 || norm < 1e-10*scale {
			break
		}
		beta = append(beta, norm)
	}
	m := len(alpha)
	t := mat.NewSymDense(m, nil)
	for i := range m {
		t.SetSym(i, i, alpha[i])
		if i+1 < m {
			t.SetSym(i, i+1, beta[i])
		}
	}
	blas.UseInGonum()
	var es mat.EigenSym
	if !es.Factorize(t, true) {
		return nil, fmt.Errorf("dcdm: the eigendecomposition of the %d×%d Lanczos matrix failed", m, m)
	}
	vals := es.Values(nil)
	var s mat.Dense
	es.VectorsTo(&s)
	r := &Ritz{Steps: m, n: n, basis: basis}
	for i, th := range vals {
		if th < minRitzValue {
			continue
		}
		r.Values = append(r.Values, th)
		for k := range m {
			r.vecs = append(r.vecs, s.At(k, i))
		}
	}
	if len(r.Values) == 0 {
		return nil, fmt.Errorf("dcdm: no Ritz value above %g", minRitzValue)
	}
	return r, nil
}

// Vector sets dst to the i-th kept Ritz vector y_i = Σ_j s_i[j]·w_j.
func (r *Ritz) Vector(dst []float64, i int) {
	clear(dst)
	s := r.vecs[i*r.Steps : (i+1)*r.Steps]
	for j, c := range s {
		axpy(dst, c, r.basis[j*r.n:(j+1)*r.n])
	}
}

// Sample sets dst to a training vector (spec §3 step 5): with c_i ~ N(0, 1)
// drawn from rnd for every kept pair, multiplied by factor for the lowest
// cut pairs, b = Σ c_i y_i normalised to ‖b‖₂ = 1. coef is a work buffer of
// length Steps. Cost Steps·(kept pairs + n) flops.
func (r *Ritz) Sample(dst, coef []float64, rnd *rand.Rand, cut int, factor float64) {
	clear(coef)
	m := r.Steps
	for i := range r.Values {
		c := rnd.NormFloat64()
		if i < cut {
			c *= factor
		}
		axpy(coef, c, r.vecs[i*m:(i+1)*m])
	}
	clear(dst)
	for j, c := range coef {
		axpy(dst, c, r.basis[j*r.n:(j+1)*r.n])
	}
	nrm := math.Sqrt(dot(dst, dst))
	for i := range dst {
		dst[i] /= nrm
	}
}
