package gphm

import (
	"math"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// DenseNodes is the largest grid (n1 n2 nodes) whose Newton systems kronCG
// preconditions by their own matrix, formed and factored (densePC): a 50²
// grid with its trend (at most 6 coefficients in 2-D) keeps the matrix and
// its factor in 2·8·2506² bytes, 100 MB.
const DenseNodes = 2500

// denseRefresh is the number of CG iterations above which a solve marks the
// dense factor stale, so that the next Gauss–Newton step forms and factors
// the Newton matrix again at its own linearisation. Below it the factor of
// the evaluation's first step is kept: it is still symmetric positive
// definite, hence a valid preconditioner, and forming the matrix costs as
// many Hessian products as it has unknowns. (A factor kept from one
// evaluation to the next, other spectra, was no better than the Kronecker
// preconditioners: about 850 iterations per solve on advection at 40².)
const denseRefresh = 20

// densePC preconditions the (trend-augmented) Newton system by the Cholesky
// factor of that system's matrix, formed column by column from Hessian
// products (applyAug) at the operator of the solve that built it: CG then
// takes one or two iterations. On small grids that can cost less than CG
// with the Kronecker preconditioners where those miss the variable
// coefficient of an Allen–Cahn step: on u = sin 3x cos 4y + xy at 40² they
// took about 1360 iterations per solve. chooseDense decides per evaluation.
type densePC struct {
	n, p int // grid nodes and trend coefficients
	// a holds the matrix (n + p square) in its upper triangle, which the
	// Cholesky factorisation (cholUpper) overwrites with the factor u
	// (A = uᵀu).
	a     *mat.SymDense
	u     blas64.Triangular
	v, hv *mat.Dense
	vb    []float64
	hvb   []float64
	x     []float64
	withD bool // built with an Allen–Cahn linearisation
	stale bool
}

// build forms the Newton matrix of k's current operator (its setup, trend
// blocks and Allen–Cahn term) and factors it; false when it is not positive
// definite in floating point, which leaves d without a factor.
func (d *densePC) build(k *kronCG, p int) bool {
	e := k.e
	n := e.n1 * e.n2
	size := n + p
	if d.a == nil || d.n != n || d.p != p {
		*d = densePC{n: n, p: p, a: mat.NewSymDense(size, nil),
			v: mat.NewDense(e.n1, e.n2, nil), hv: mat.NewDense(e.n1, e.n2, nil),
			vb: make([]float64, p), hvb: make([]float64, p),
			x: make([]float64, size)}
	}
	d.stale = false
	d.withD = k.d != nil
	raw := d.a.RawSymmetric()
	vr := d.v.RawMatrix()
	hr := d.hv.RawMatrix()
	for j := range size {
		d.v.Zero()
		clear(d.vb)
		if j < n {
			vr.Data[(j/e.n2)*vr.Stride+j%e.n2] = 1
		} else {
			d.vb[j-n] = 1
		}
		k.applyAug(k.m, d.v, d.vb, d.hv, d.hvb, k.lt)
		// Column j of the matrix; the upper triangle keeps the mean of the
		// two products that give each entry, so that the factor sees the
		// symmetric part of the rounding.
		for i := range size {
			var h float64
			if i < n {
				h = hr.Data[(i/e.n2)*hr.Stride+i%e.n2]
			} else {
				h = d.hvb[i-n]
			}
			switch {
			case i < j:
				raw.Data[i*raw.Stride+j] = 0.5 * (raw.Data[i*raw.Stride+j] + h)
			case i > j:
				raw.Data[j*raw.Stride+i] = h
			default:
				raw.Data[j*raw.Stride+j] = h
			}
		}
	}
	// LAPACK's factorisation alone: mat.Cholesky would add a condition
	// estimate, level-2 work that took as long as the factorisation itself.
	var ok bool
	d.u, ok = cholUpper(d.a)
	return ok
}

// denseProbe is how many evaluations in a row use the dense factor before
// one goes back to pick's preconditioner, whose cost may have fallen.
const denseProbe = 25

// denseSamples is how many evaluations on pick's preconditioner
// chooseDense weighs.
const denseSamples = 3

// chooseDense decides, at the set-up of an evaluation, whether its solves
// use the dense factor: when each of the last denseSamples evaluations on
// pick's preconditioner cost more Hessian products than forming and
// factoring the matrix does (denseCost), except every denseProbe-th
// evaluation, which measures that cost again. A run's first denseSamples
// evaluations measure it. The least of the samples, because an evaluation's
// cost varies with its Gauss–Newton steps: on Allen–Cahn at 48²
// (u = sin 6x cos 5y + xy, about 280 iterations per solve, 40–42 s with
// pick's preconditioners alone) a few dear evaluations still move some 60
// of its 766 solves to the factor (46–48 s); deciding on the last sample
// alone took 45 s, measuring again every 4th evaluation 94 s. Iteration
// counts and sizes only, so that a run is reproducible.
func (k *kronCG) chooseDense() bool {
	if k.using != pcDense && k.evalCost > 0 {
		k.krylovCost[k.samples%denseSamples] = k.evalCost
		k.samples++
	}
	k.evalCost = 0
	least := math.Inf(1)
	for _, c := range k.krylovCost {
		least = math.Min(least, c)
	}
	dense := k.samples >= denseSamples && least > k.denseCost() && k.sinceKrylov < denseProbe
	if dense {
		k.sinceKrylov++
	} else {
		k.sinceKrylov = 0
	}
	return dense
}

// denseCost estimates, in Hessian products, forming the Newton matrix (one
// product per unknown) and factoring it (N³/3 flops against the
// 8 n1 n2 (n1 + n2) of an Allen–Cahn product). Measured at 24² to 48²
// (the time of one build against that of one applyAug, with the trend), the
// build took 1.3–2.4 N products on Poisson, 1.0–2.1 N on Allen–Cahn and
// 0.8–1.9 N on advection, where the estimate gives 1.7–2.0 N; a solve with
// the factor costs about N/40 products. On Allen–Cahn at 40²
// (u = sin 3x cos 4y + xy) the dense factor took the run from 175 s to
// 56–59 s (1360 CG iterations per solve with the others).
func (k *kronCG) denseCost() float64 {
	n1, n2 := float64(k.e.n1), float64(k.e.n2)
	n := n1 * n2
	return n + n*n*n/3/(8*n1*n2*(n1+n2))
}

// iterCost is the cost of a CG iteration with the current one of pick's
// preconditioners in Hessian products, the product itself included, on the
// grids where the dense factor competes (at most DenseNodes nodes). Measured
// at 24² to 48² with the trend (the time of 100 iterations against that of
// one applyAug): the harmonic preconditioner 2.7–4.1 (Poisson, Allen–Cahn;
// advection's, eight n×n×n products per application against the Hessian
// product's four, is priced the same, not measured), the Kronecker-sum one
// 1.5–2.6 (advection), the harmonic one with its tail
// solve 4–5 more and then its block's two triangular solves, which d tail
// unknowns make about d²/(n1 n2 (n1 + n2)) products: 6.7–10.3 for d = 204
// to 508, 16–22 for d = 982 to 1905. pcCost, which ranks the
// preconditioners against each other on large grids, undercounts them here:
// with it the README's Poisson example at 32² ran on to 1000–2000 iterations
// per solve where the factor costs what about 440 do.
func (k *kronCG) iterCost() float64 {
	if k.using == pcKronSum {
		return 2
	}
	c := 3.6 // harmonic
	if k.using == pcTail {
		n1, n2 := float64(k.e.n1), float64(k.e.n2)
		d := float64(len(k.tail.idx))
		c += 4 + d*d/(n1*n2*(n1+n2))
	}
	return c
}

// ready reports whether d holds a factor for k's system with p trend
// coefficients (of this or an earlier operator).
func (d *densePC) ready(k *kronCG, p int) bool {
	return d.a != nil && d.n == k.e.n1*k.e.n2 && d.p == p && !d.stale
}

// buildDense forms and factors the Newton matrix of the current operator
// (densePC.build). Not positive definite in floating point, the run goes on
// with the Kronecker preconditioners (pick) for good.
func (k *kronCG) buildDense(p int) {
	k.DenseBuilds++
	if k.dense.build(k, p) {
		return
	}
	k.denseOn = false
	k.dense = densePC{}
	k.pickAndBuild()
	if p > 0 {
		k.augment(k.m, k.lt)
		k.augmented = true
	}
}

// solve sets (out, outb) to the factor's solution for (r, rb); rb nil is
// read as zero, and outb may then be nil.
func (d *densePC) solve(r *mat.Dense, rb []float64, out *mat.Dense, outb []float64) {
	rr, or := r.RawMatrix(), out.RawMatrix()
	cols := rr.Cols
	x := d.x
	for i := range d.n {
		x[i] = rr.Data[(i/cols)*rr.Stride+i%cols]
	}
	for a := range d.p {
		x[d.n+a] = 0
		if rb != nil {
			x[d.n+a] = rb[a]
		}
	}
	lapack64.Potrs(d.u, blas64.General{Rows: d.u.N, Cols: 1, Stride: 1, Data: x})
	for i := range d.n {
		or.Data[(i/cols)*or.Stride+i%cols] = x[i]
	}
	for a := range outb {
		outb[a] = x[d.n+a]
	}
}
