package gphm

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// jitter is the nugget added to the diagonal of every per-dimension kernel
// matrix K_j, by default relative to k_j(0) (see axis.nugget). The spec (§1.4)
// adds 1e-6 absolute; the two agree at the initial spectrum, where
// k(0) = Σ_q w_q = 1.
const jitter = 1e-6

// axis is one dimension of the collocation grid, x_i = x0 + i h, i = 0..n−1, with
// the matrices of its kernel factor: K = k(X, X) + jitter·I, the derivative
// cross-covariance Kd = ∂^order k/∂x^order (X, X) (K″, symmetric, for order 2;
// K′, antisymmetric, for order 1), the upper Cholesky factor R of K = RᵀR and
// log det K. All kernel matrices are Toeplitz and built from n lag evaluations
// (toeplitz.go).
//
// K is badly conditioned (its smallest eigenvalues are the jitter, its largest
// up to n·k(0)), so K⁻¹ is only ever applied through triangular solves with R,
// which are backward stable: the computed result is exact for K + δK with
// ‖δK‖ ≈ 1e-16‖K‖, far below the jitter. The explicit inverse Kinv is kept only
// for the lag sums of the log-determinant gradient.
type axis struct {
	n     int
	x0, h float64
	order int // 1 or 2
	kind  Kernel
	spec  Spectrum // the spectrum the matrices were built from

	k0, kd []float64 // lag tables of k and of its order-th derivative
	K      *mat.Dense
	Kd     *mat.Dense
	r      blas64.Triangular // upper Cholesky factor of K
	Kinv   *mat.Dense
	logdet float64
	jit    float64 // the jitter added to K (nugget)
	// relJitter is the relative nugget's factor: jitter, or ten times it
	// under NuggetRelative10.
	relJitter float64
	// absNugget selects the paper's absolute nugget (see nugget).
	absNugget bool

	// Whitened coordinates (whiten): K = T Tᵀ and Kd = T Ω Tᵀ, so that for grid
	// values u = T z the prior is uᵀK⁻¹u = ‖z‖² and the derivative of the
	// conditional mean is Kd K⁻¹ u = T Ω z. T = Rᵀ W with W orthogonal and
	// Ω = Wᵀ S W, S = R⁻ᵀ Kd R⁻¹. For order 2, W Lam Wᵀ is the
	// eigendecomposition of S (generalised eigenvectors of (Kd, K)) and
	// Ω = diag(Lam); for order 1, S is antisymmetric and W its skew Schur
	// basis (skewSchur): Ω is block diagonal to rounding, 2×2 blocks
	// [0 μ; −μ 0] on the columns i, Pair[i] and zeros where Pair[i] < 0, and
	// Ω is taken as exactly that (blockPart), which puts the derivative's
	// Jacobian in a form that costs O(n²) to apply (blockOmega).
	// Without W (W nil), T = Rᵀ and Ω = S.
	T, Om, W *mat.Dense
	Lam      []float64
	Pair     []int
	// OmDropped is the largest entry of WᵀSW off the blocks that Ω leaves
	// out, relative to its largest (order 1 only).
	OmDropped float64
}

func newAxis(kind Kernel, n int, x0, x1 float64, order int) *axis {
	if n < 2 {
		panic(fmt.Sprintf("gphm: axis with %d points", n))
	}
	if order != 1 && order != 2 {
		panic(fmt.Sprintf("gphm: derivative order %d", order))
	}
	return &axis{
		n: n, x0: x0, h: (x1 - x0) / float64(n-1), order: order, kind: kind, relJitter: jitter,
		k0: make([]float64, n), kd: make([]float64, n),
		K: mat.NewDense(n, n, nil), Kd: mat.NewDense(n, n, nil), Kinv: mat.NewDense(n, n, nil),
		r: blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: n, Stride: n, Data: make([]float64, n*n)},
	}
}

// even reports whether the derivative kernel is even (order 2) or odd (order 1).
func (a *axis) even() bool { return a.order == 2 }

// coord returns the i-th grid coordinate.
func (a *axis) coord(i int) float64 {
	if i == a.n-1 {
		return a.x0 + a.h*float64(a.n-1) // exact end point up to one rounding
	}
	return a.x0 + a.h*float64(i)
}

// length returns the length of the axis interval.
func (a *axis) length() float64 { return a.h * float64(a.n-1) }

// update rebuilds every matrix of a for the spectrum s and drops the whitened
// coordinates. Cost O(nQ) kernel evaluations, O(n²) fills, n³/3 flops for the
// Cholesky factor and 2n³/3 for the inverse. It returns an error if K is not
// numerically positive definite.
func (a *axis) update(s Spectrum) error {
	a.spec = s
	a.T, a.Om, a.W, a.Lam, a.Pair = nil, nil, nil, nil, nil
	if a.order == 2 {
		lagTable(a.kind, s, a.h, a.k0, nil, a.kd)
	} else {
		lagTable(a.kind, s, a.h, a.k0, a.kd, nil)
	}
	for _, v := range a.k0 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("kernel of %d points is not finite", a.n)
		}
	}
	a.jit = a.nugget(s)
	fillToeplitz(a.K.RawMatrix(), a.k0, true, a.jit)
	fillToeplitz(a.Kd.RawMatrix(), a.kd, a.even(), 0)
	copy(a.r.Data, a.K.RawMatrix().Data)
	if _, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Upper, N: a.n, Stride: a.n, Data: a.r.Data}); !ok {
		return fmt.Errorf("kernel matrix of %d points is not positive definite", a.n)
	}
	a.logdet = 0
	for i := range a.n {
		v := a.r.Data[i*a.n+i]
		a.logdet += 2 * math.Log(v)
		for j := range i {
			a.r.Data[i*a.n+j] = 0 // keep the lower triangle clean for dense use
		}
	}
	inv := a.Kinv.RawMatrix()
	copy(inv.Data, a.r.Data)
	if _, ok := lapack64.Potri(blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: a.n, Stride: a.n, Data: inv.Data}); !ok {
		return fmt.Errorf("inverting the kernel matrix of %d points failed", a.n)
	}
	for i := range a.n {
		for j := range i {
			inv.Data[i*a.n+j] = inv.Data[j*a.n+i]
		}
	}
	return nil
}

// solveLeft sets x to K⁻¹x (x has n rows) by two triangular solves.
func (a *axis) solveLeft(x *mat.Dense) {
	lapack64.Potrs(a.r, x.RawMatrix())
}

// solveRight sets x to x K⁻¹ (x has n columns): x R⁻¹ R⁻ᵀ.
func (a *axis) solveRight(x *mat.Dense) {
	g := x.RawMatrix()
	blas64.Trsm(blas.Right, blas.NoTrans, 1, a.r, g)
	blas64.Trsm(blas.Right, blas.Trans, 1, a.r, g)
}

// whiten computes the whitened coordinates T, Ω (see axis) for the current
// factors, if not yet done. With eig false it takes T = Rᵀ and Ω = S; with
// eig true it diagonalises S (order 2) or puts it in skew Schur form
// (order 1). Cost: 2n³ for S, and for the eigendecomposition about 10n³
// more.
func (a *axis) whiten(eig bool) {
	if a.T != nil && (a.W != nil || !eig) {
		return
	}
	n := a.n
	S := mat.DenseCopyOf(a.Kd)
	sr := S.RawMatrix()
	blas64.Trsm(blas.Left, blas.Trans, 1, a.r, sr)
	blas64.Trsm(blas.Right, blas.NoTrans, 1, a.r, sr)
	sign := 1.0
	if !a.even() {
		sign = -1
	}
	for i := range n {
		for j := range i {
			v := 0.5 * (sr.Data[i*sr.Stride+j] + sign*sr.Data[j*sr.Stride+i])
			sr.Data[i*sr.Stride+j] = v
			sr.Data[j*sr.Stride+i] = sign * v
		}
		if !a.even() {
			sr.Data[i*sr.Stride+i] = 0
		}
	}
	T := mat.NewDense(n, n, nil)
	if !a.even() && eig {
		if q, pair := skewSchur(S); q != nil {
			a.W, a.Pair = q, pair
			T.Copy(q)
			blas64.Trmm(blas.Left, blas.Trans, 1, a.r, T.RawMatrix())
			var sq, om mat.Dense
			sq.Mul(S, q)
			om.Mul(q.T(), &sq)
			a.Om, a.OmDropped = blockPart(&om, pair)
			a.T = T
			return
		}
	}
	var es mat.EigenSym
	if !a.even() || !eig || !es.Factorize(mat.NewSymDense(n, sr.Data), true) {
		// T = Rᵀ, Ω = S; also when the QR iteration of the eigendecomposition
		// did not converge, which leaves valid but less convenient coordinates.
		tr := T.RawMatrix()
		for i := range n {
			for j := i; j < n; j++ {
				tr.Data[j*tr.Stride+i] = a.r.Data[i*n+j]
			}
		}
		a.T, a.Om = T, S
		return
	}
	a.Lam = es.Values(nil)
	es.VectorsTo(T)
	a.W = mat.DenseCopyOf(T)
	blas64.Trmm(blas.Left, blas.Trans, 1, a.r, T.RawMatrix())
	Om := mat.NewDense(n, n, nil)
	for i, l := range a.Lam {
		Om.Set(i, i, l)
	}
	a.T, a.Om = T, Om
}

// tOmega returns a new matrix T Ω (whiten must have run): T with its columns
// scaled by the eigenvalues when Ω is diagonal, else the product.
func (a *axis) tOmega() *mat.Dense {
	if a.Lam == nil {
		var p mat.Dense
		p.Mul(a.T, a.Om)
		return &p
	}
	p := mat.DenseCopyOf(a.T)
	for i := range a.n {
		row := p.RawRowView(i)
		for j, l := range a.Lam {
			row[j] *= l
		}
	}
	return p
}

// toWhite sets x (n rows) to T⁻¹x = Wᵀ R⁻ᵀ x, the whitened coordinates of grid
// values x along this axis.
func (a *axis) toWhite(x *mat.Dense) {
	blas64.Trsm(blas.Left, blas.Trans, 1, a.r, x.RawMatrix())
	if a.W != nil {
		t := mat.DenseCopyOf(x)
		x.Mul(a.W.T(), t)
	}
}

// nugget returns the jitter added to K for spectrum s: relJitter·k(0) with
// k(0) = Σ_q w_q (NuggetRelative, the default, relJitter = jitter; ten times
// that under NuggetRelative10), or the paper's jitter alone (NuggetAbsolute).
// The first two agree with the last at the initial spectrum (k(0) = 1).
//
// Ten times the relative nugget: on preset p4 (GM) the error of the mean is a
// smooth function (its energy below 10 cycles per unit, the solution's at
// 31.8) that the residual does show (its low-frequency part is not rounding:
// a double-double recomputation agrees), but the learned components below the
// solution's band are narrow and far apart, so that between them the prior
// holds only the nugget and removing the error costs more prior than the
// residual it removes. With 1e-5·k(0) the same run ends at 3.7e-7 instead of
// 1.65e-6, its check residual at 1.5e-6 instead of 3.7e-6. On the other 1-D
// presets (GM, no trend) the check residual ranks 1e-5 and 1e-6 as their
// errors do — p1, p3, ac1 and ac2 have 1.8 to 6e6 times larger errors with
// 1e-5, p2 a smaller one — but on p5, where both are far under the paper's.
//
// With the absolute nugget the optimiser drives the weight of the component
// that matches the solution up (to 4e4 on preset p1), K's condition number
// n·k(0)/1e-6 with it, and the rounding error of uᵀK⁻¹u — about
// 1e-16·‖K‖·‖K⁻¹u‖² — until the objective is noise (changes of ±10 to 100 for
// steps of 1e-11 were measured), where L-BFGS stops wherever the noise
// happened to set in. The relative nugget keeps the conditioning, and the
// noise, fixed. Its costs: the GP can no longer shrink the nugget relative to
// the signal by growing the weights, which solutions with a polynomial part
// exploit (x² needs eigen-directions of K far below 1e-6·k(0)); and the
// overall kernel scale is free, so that −L is unbounded below as it shrinks,
// which the profile path guards against (minAmplitude).
func (a *axis) nugget(s Spectrum) float64 {
	if a.absNugget {
		return jitter
	}
	w := 0.0
	for _, lw := range s.LogW {
		w += math.Exp(lw)
	}
	return a.relJitter * w
}

// blockPart returns the block-diagonal part of om = QᵀSQ for the pairs of
// skewSchur — μ = (om(i, p) − om(p, i))/2 on a pair i < p, zero elsewhere —
// and the largest entry it leaves out, relative to om's largest. The large
// planes are invariant to ε‖S‖ and the entries between them and the rest are
// rounding (at most 1.3e-13 where the largest is 254 on preset adv's axes
// at 200²); the planes of the μ near zero are taken where S is rounding
// itself, and the entries among them reach 4.1e-7 there (1.6e-9 of the
// largest), on columns where T's norm is 1e-3 (the nugget's directions):
// P = TΩ moves by less than 1e-10 of its largest.
func blockPart(om *mat.Dense, pair []int) (*mat.Dense, float64) {
	n := len(pair)
	b := mat.NewDense(n, n, nil)
	top, off := 0.0, 0.0
	for i := range n {
		for j := range n {
			v := math.Abs(om.At(i, j))
			top = math.Max(top, v)
			if j != pair[i] {
				off = math.Max(off, v)
			}
		}
		if p := pair[i]; p > i {
			mu := 0.5 * (om.At(i, p) - om.At(p, i))
			b.Set(i, p, mu)
			b.Set(p, i, -mu)
		}
	}
	if top == 0 {
		return b, 0
	}
	return b, off / top
}

// skewSchur returns an orthogonal Q with QᵀSQ block diagonal for the
// antisymmetric n×n S — 2×2 blocks [0 μ; −μ 0] on columns c, c+1 and 1×1
// zeros — and pair, pair[c] the other column of c's block (−1 for a 1×1
// one); nil when the eigensolver fails. From the eigenvectors of the
// symmetric SᵀS = −S², whose eigenvalues μ² come in pairs: each eigenvector
// v, taken from the largest μ² down and orthogonalised against the columns
// already chosen, gives the invariant plane of v and Sv/‖Sv‖ when
// something of it is left (a vector of a plane already taken leaves
// nothing), or a 1×1 block when μ is zero to rounding. An eigenvector of
// −S² is one to ε‖S‖² whatever the spacing of the μ's, so the plane is
// invariant to ε‖S‖²/μ: to rounding for the large μ, not for the small.
// Taken first, the large planes are exact, and a small μ's v and Sv are
// then stripped of what rounding put along them. Taken from the smallest
// up (as first written), the noise of Sv for a μ near ε‖S‖ went into the
// large planes: on preset adv's axes at 120² and 200², grids finer than the
// kernel's spectrum, entries of QᵀSQ off its blocks were 180 and 145 where
// its largest is 251 and 188 (6.5e-7 and 4.1e-7 of 254 with the large μ
// first), and the harmonic preconditioner built on it took CG from
// Φ = 4.9e8 to 9.7e11 (TestSkewSchur; ‖QᵀQ − I‖ ≈ 2e-15 on all).
func skewSchur(S *mat.Dense) (*mat.Dense, []int) {
	n, _ := S.Dims()
	g := mat.NewSymDense(n, nil)
	g.SymOuterK(1, S.T())
	var es mat.EigenSym
	if !es.Factorize(g, true) {
		return nil, nil
	}
	vals := es.Values(nil)
	var V mat.Dense
	es.VectorsTo(&V)
	top := math.Sqrt(math.Max(vals[n-1], 0))
	qt := mat.NewDense(n, n, nil) // Qᵀ: the chosen columns as rows
	pair := make([]int, n)
	cols := 0
	v, w := make([]float64, n), make([]float64, n)
	// orth makes x orthogonal to the chosen columns (twice) and returns its
	// norm.
	orth := func(x []float64) float64 {
		for range 2 {
			for c := range cols {
				q := qt.RawRowView(c)
				floats.AddScaled(x, -floats.Dot(q, x), q)
			}
		}
		return floats.Norm(x, 2)
	}
	put := func(x []float64, other int) {
		copy(qt.RawRowView(cols), x)
		pair[cols] = other
		cols++
	}
	sv := mat.NewVecDense(n, w)
	for k := n - 1; k >= 0 && cols < n; k-- {
		mat.Col(v, k, &V)
		nv := orth(v)
		if nv < 0.5 {
			continue // in a plane already taken
		}
		floats.Scale(1/nv, v)
		mu := math.Sqrt(math.Max(vals[k], 0))
		if cols+1 < n && mu > 1e-10*top {
			sv.MulVec(S, mat.NewVecDense(n, v))
			put(v, cols+1)
			if nw := orth(w); nw > 0.5*mu {
				floats.Scale(1/nw, w)
				put(w, cols-1)
				continue
			}
			pair[cols-1] = -1
			continue
		}
		put(v, -1)
	}
	if cols < n {
		return nil, nil
	}
	return mat.DenseCopyOf(qt.T()), pair
}
