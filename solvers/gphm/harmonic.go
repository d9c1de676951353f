package gphm

import (
	"math"

	eblas "eddy/blas"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// harmonic is the preconditioner of kronCG for the second-order PDEs
// (Poisson, Allen–Cahn), built on the exact Kronecker eigendecomposition of
// the interior operator. In Z the Hessian is
//
//	H = I + τ2 JᵀJ + β PᵀP,  J = G diag(Λ),  P = B G,  G = T1 ⊗ T2,
//
// with Λ_ab = λ1_a + λ2_b and B the boundary rows and columns (corners twice),
// β = λ_b τ1. The preconditioner is
//
//	M = τ2 J̃ᵀJ̃ + β PᵀP,  J̃ = G diag(Λ̃),
//
// where Λ̃ is Λ with its modulus raised to 1/√(τ2 (TᵀT)1_aa (TᵀT)2_bb) so
// that τ2 J̃ᵀJ̃ stands in for the prior I on the few directions where the
// residual does not see Z (|Λ| near zero: constants and slopes per axis).
// Its interior part inverts exactly, (τ2 J̃ᵀJ̃)⁻¹ = τ2⁻¹ Λ̃⁻¹ (R1 ⊗ R2) Λ̃⁻¹
// with R_j = (T_jᵀT_j)⁻¹ = T_j⁻¹T_j⁻ᵀ, two n×n×n products; the boundary
// term has rank 2(n1 + n2) and enters by the Woodbury identity with the dense
// (2(n1 + n2))² matrix S = β⁻¹I + P (τ2 J̃ᵀJ̃)⁻¹ Pᵀ, assembled block by block
// in O(n³) (harmonicS). These are the directions the Kronecker-sum
// preconditioner (kronCG.precond) misses: discrete near-harmonic functions,
// on which the dropped cross terms of JᵀJ cancel, fixed only by the
// boundary. What remains of H − M is the identity less its stand-in on the
// floored modes — taken by the second level, tailSolve (tail.go), where a
// grid finer than the kernel's spectrum leaves many — and, for Allen–Cahn,
// the term diag(3U² − 1) G, which the second level takes on its pairs.
type harmonic struct {
	tau2   float64
	li     *mat.Dense // 1/Λ̃
	r1, r2 *mat.Dense // (T_jᵀ T_j)⁻¹
	t1, t2 *mat.Dense // T′_j = T_j diag(I, O_j)
	// start[j] is the first mode of axis j's rotated tail and o[j] its
	// rotation O_j (nil when there is none).
	start [2]int
	o     [2]*mat.Dense
	// floored[j] is the first mode of axis j in a floored pair (n_j when
	// none), before the tail rotation's own adjustments.
	floored [2]int
	ro      [2]*mat.Dense     // work: the tail rows or columns being rotated
	su      blas64.Triangular // upper Cholesky factor of S (harmonicS)
	// work
	y, w, x     *mat.Dense
	sv, sz      *mat.VecDense
	bnd         *boundaryOp
	n1, n2, nbd int
	// adv, for advection, is its interior operator (harmonic_adv.go), used
	// in place of li, r1 and r2.
	adv *advBlocks
}

// newHarmonic builds the preconditioner for the factors of e and the axes
// of m (whitened, with Lam: Λ = c1 λ1_a + λ2_b), precisions lt. It
// returns nil when S is not positive definite.
func newHarmonic(m *model, e *exactU, lt [2]float64) *harmonic {
	n1, n2 := e.n1, e.n2
	tau2 := math.Exp(lt[1])
	beta := m.lambdaB * math.Exp(lt[0])
	h := &harmonic{tau2: tau2, n1: n1, n2: n2, nbd: 2 * (n1 + n2)}
	ax := [2]*axis{m.ax[0], m.ax[1]}
	lams := [2][]float64{make([]float64, n1), append([]float64(nil), ax[1].Lam...)}
	for a, l := range ax[0].Lam {
		lams[0][a] = m.c1 * l
	}
	colNorm2 := func(t *mat.Dense) []float64 {
		n, _ := t.Dims()
		c := make([]float64, n)
		for i := range n {
			for a, v := range t.RawRowView(i) {
				c[a] += v * v
			}
		}
		return c
	}
	cs := [2][]float64{colNorm2(e.t1), colNorm2(e.t2)}
	// The floored modes: pairs with |Λ_ab| below the floor. Per axis, the
	// tail [start_j, n_j) of the modes that take part in one (Lam ascends, so
	// the near-zero eigenvalues come last).
	start := [2]int{n1, n2}
	for a := range n1 {
		for b := range n2 {
			if math.Abs(lams[0][a]+lams[1][b])*math.Sqrt(tau2*cs[0][a]*cs[1][b]) < 1 {
				start[0], start[1] = min(start[0], a), min(start[1], b)
			}
		}
	}
	// Rotate the Z coordinates of each tail by the eigenvectors O_j of
	// T_jᵀT_j on it, T′_j = T_j diag(I, O_j): the rotation keeps the prior
	// ‖Z‖², and the tail columns of T′_j are orthogonal, so the stand-in
	// τ2 Λ̃ (T′1ᵀT′1 ⊗ T′2ᵀT′2) Λ̃ for the prior is exactly I on the floored
	// block. The operator Λ rotated is not diagonal on the tail; its
	// diagonal stands in for it (its entries are below the floor there).
	h.floored = start
	var tp [2]*mat.Dense
	for j, t := range [2]*mat.Dense{e.t1, e.t2} {
		n, _ := t.Dims()
		tp[j] = mat.DenseCopyOf(t)
		f := n - start[j]
		h.start[j] = start[j]
		if f < 2 {
			h.start[j] = n
			continue
		}
		tail := t.Slice(0, n, start[j], n)
		g := mat.NewSymDense(f, nil)
		g.SymOuterK(1, tail.T())
		var es mat.EigenSym
		if !es.Factorize(g, true) {
			h.start[j] = n
			continue
		}
		o := mat.NewDense(f, f, nil)
		es.VectorsTo(o)
		h.o[j] = o
		tp[j].Slice(0, n, start[j], n).(*mat.Dense).Mul(tail, o)
		rot := make([]float64, f)
		for a := range f {
			for c := range f {
				v := o.At(c, a)
				rot[a] += v * v * lams[j][start[j]+c]
			}
		}
		copy(lams[j][start[j]:], rot)
	}
	h.t1, h.t2 = tp[0], tp[1]
	rinv := func(a *axis, j int) *mat.Dense {
		ti := mat.NewDense(a.n, a.n, nil) // T⁻¹ = Wᵀ R⁻ᵀ (K = RᵀR)
		for i := range a.n {
			ti.Set(i, i, 1)
		}
		a.toWhite(ti)
		if o := h.o[j]; o != nil { // T′⁻¹ = diag(I, O_jᵀ) T⁻¹
			rows := ti.Slice(h.start[j], a.n, 0, a.n).(*mat.Dense)
			old := mat.DenseCopyOf(rows)
			rows.Mul(o.T(), old)
		}
		r := mat.NewDense(a.n, a.n, nil)
		r.Mul(ti, ti.T())
		return r
	}
	h.r1, h.r2 = rinv(ax[0], 0), rinv(ax[1], 1)
	cs = [2][]float64{colNorm2(h.t1), colNorm2(h.t2)}
	h.li = mat.NewDense(n1, n2, nil)
	for a := range n1 {
		for b := range n2 {
			l := lams[0][a] + lams[1][b]
			floor := 1 / math.Sqrt(tau2*cs[0][a]*cs[1][b])
			if math.Abs(l) < floor {
				l = math.Copysign(floor, l)
			}
			h.li.Set(a, b, 1/l)
		}
	}
	var ok bool
	if h.su, ok = cholUpper(harmonicS(h, beta)); !ok {
		return nil
	}
	h.allocWork()
	if h.o[0] != nil {
		h.ro[0] = mat.NewDense(n1-h.start[0], n2, nil)
	}
	if h.o[1] != nil {
		h.ro[1] = mat.NewDense(n1, n2-h.start[1], nil)
	}
	return h
}

// allocWork allocates apply's work grids and vectors and its boundary
// operator.
func (h *harmonic) allocWork() {
	n1, n2 := h.n1, h.n2
	h.y, h.w, h.x = mat.NewDense(n1, n2, nil), mat.NewDense(n1, n2, nil), mat.NewDense(n1, n2, nil)
	h.sv, h.sz = mat.NewVecDense(h.nbd, nil), mat.NewVecDense(h.nbd, nil)
	h.bnd = newBoundaryOp(n1, n2)
}

// harmonicS assembles S = β⁻¹I + P (τ2 J̃ᵀJ̃)⁻¹ Pᵀ. The rows of P are
// Gᵀe_p = t1_i ⊗ t2_j (t_i the i-th row of T), ordered: row 0 and row n1−1
// of the grid (n2 nodes each), then column 0 and column n2−1 (n1 each).
// With X_i = diag(t1_i) Λ̃⁻¹ and Y_j = Λ̃⁻¹ diag(t2_j), the blocks are
//
//	rows i, i′:    T2 ((X_iᵀ R1 X_i′) ∘ R2) T2ᵀ / τ2
//	columns j, j′: T1 ((Y_j R2 Y_j′ᵀ) ∘ R1) T1ᵀ / τ2
//	row i, col j′: T2 ((X_iᵀ R1) ∘ (R2 Y_j′ᵀ)) T1ᵀ / τ2
//
// (R_j symmetric), four n×n×n products each.
func harmonicS(h *harmonic, beta float64) *mat.SymDense {
	n1, n2 := h.n1, h.n2
	S := mat.NewSymDense(h.nbd, nil)
	ends1, ends2 := []int{0, n1 - 1}, []int{0, n2 - 1}
	X := make([]*mat.Dense, 2)
	Y := make([]*mat.Dense, 2)
	for k, i := range ends1 {
		X[k] = mat.DenseCopyOf(h.li)
		t := h.t1.RawRowView(i)
		for a := range n1 {
			row := X[k].RawRowView(a)
			for b := range row {
				row[b] *= t[a]
			}
		}
	}
	for k, j := range ends2 {
		Y[k] = mat.DenseCopyOf(h.li)
		t := h.t2.RawRowView(j)
		for a := range n1 {
			row := Y[k].RawRowView(a)
			for b := range row {
				row[b] *= t[b]
			}
		}
	}
	off := func(kind, k int) int { // first index of edge k of kind 0 (row) or 1 (column)
		if kind == 0 {
			return k * n2
		}
		return 2*n2 + k*n1
	}
	put := func(blk *mat.Dense, r0, c0 int) {
		rr, cc := blk.Dims()
		for i := range rr {
			for j := range cc {
				if r0+i <= c0+j {
					S.SetSym(r0+i, c0+j, blk.At(i, j)/h.tau2)
				}
			}
		}
	}
	// XᵀR1 per row edge, reused by the row–row and row–column blocks.
	XR := make([]*mat.Dense, 2)
	for k := range 2 {
		XR[k] = new(mat.Dense)
		XR[k].Mul(X[k].T(), h.r1)
	}
	for k := range 2 {
		for k2 := k; k2 < 2; k2++ {
			var t, u, blk mat.Dense
			t.Mul(XR[k], X[k2])
			t.MulElem(&t, h.r2)
			u.Mul(h.t2, &t)
			blk.Mul(&u, h.t2.T())
			put(&blk, off(0, k), off(0, k2))
		}
	}
	for k := range 2 {
		var v mat.Dense
		v.Mul(Y[k], h.r2)
		for k2 := k; k2 < 2; k2++ {
			var t, u, blk mat.Dense
			t.Mul(&v, Y[k2].T())
			t.MulElem(&t, h.r1)
			u.Mul(h.t1, &t)
			blk.Mul(&u, h.t1.T())
			put(&blk, off(1, k), off(1, k2))
		}
	}
	for k := range 2 {
		for k2 := range 2 {
			var t, u, v, blk mat.Dense
			v.Mul(h.r2, Y[k2].T())
			t.MulElem(XR[k], &v)
			u.Mul(h.t2, &t)
			blk.Mul(&u, h.t1.T())
			put(&blk, off(0, k), off(1, k2))
		}
	}
	for i := range h.nbd {
		S.SetSym(i, i, S.At(i, i)+1/beta)
	}
	return S
}

// interior sets out = (τ2 J̃ᵀJ̃)⁻¹ r = τ2⁻¹ Λ̃⁻¹ ∘ (R1 (Λ̃⁻¹ ∘ r) R2), or
// advection's counterpart (advBlocks.interior). It uses x and w as work:
// r may be either.
func (h *harmonic) interior(r, out *mat.Dense) {
	if h.adv != nil {
		h.adv.interior(r, out, h.x, h.w)
		return
	}
	h.x.MulElem(h.li, r)
	h.w.Mul(h.r1, h.x)
	out.Mul(h.w, h.r2)
	mulScaleAdd(out, h.li, 1/h.tau2, nil)
}

// apply sets out = M⁻¹ r by the Woodbury identity:
// y = A⁻¹r, out = y − A⁻¹ Pᵀ S⁻¹ P y with A = τ2 J̃ᵀJ̃.
func (h *harmonic) apply(r, out *mat.Dense) {
	// In the rotated coordinates Z′ = diag(I, O1)ᵀ Z diag(I, O2).
	h.w.Copy(r)
	h.rotate(h.w, true)
	h.interior(h.w, h.y)
	s := h.sv.RawVector().Data
	h.bnd.apply(h.t1, h.t2, h.y, s, 0, 0)
	z := h.sz.RawVector().Data
	copy(z, s)
	cholSolve(h.su, z)
	h.x.Zero()
	h.bnd.addT(h.t1, h.t2, z, 1, h.x, 0, 0)
	h.interior(h.x, out)
	out.Sub(h.y, out)
	h.rotate(out, false)
}

// rotate sets z to diag(I, O1)ᵀ z diag(I, O2) (in) or diag(I, O1) z
// diag(I, O2)ᵀ (out). It works on the raw storage (blas64 views), so that it
// allocates nothing.
func (h *harmonic) rotate(z *mat.Dense, in bool) {
	n1, n2 := h.n1, h.n2
	zr := z.RawMatrix()
	if o := h.o[0]; o != nil {
		f := n1 - h.start[0]
		rows := blas64.General{Rows: f, Cols: n2, Stride: zr.Stride, Data: zr.Data[h.start[0]*zr.Stride:]}
		w := h.ro[0].RawMatrix()
		for a := range f {
			copy(w.Data[a*w.Stride:a*w.Stride+n2], rows.Data[a*rows.Stride:a*rows.Stride+n2])
		}
		tr := blas.NoTrans
		if in {
			tr = blas.Trans
		}
		blas64.Gemm(tr, blas.NoTrans, 1, o.RawMatrix(), w, 0, rows)
	}
	if o := h.o[1]; o != nil {
		f := n2 - h.start[1]
		cols := blas64.General{Rows: n1, Cols: f, Stride: zr.Stride, Data: zr.Data[h.start[1]:]}
		w := h.ro[1].RawMatrix()
		for a := range n1 {
			copy(w.Data[a*w.Stride:a*w.Stride+f], cols.Data[a*cols.Stride:a*cols.Stride+f])
		}
		tr := blas.NoTrans
		if !in {
			tr = blas.Trans
		}
		blas64.Gemm(blas.NoTrans, tr, 1, w, o.RawMatrix(), 0, cols)
	}
}

// cholUpper factors the symmetric positive definite a = UᵀU in place (its
// storage becomes U) and returns U; false when a is not positive definite.
func cholUpper(a *mat.SymDense) (blas64.Triangular, bool) {
	raw := a.RawSymmetric()
	if _, ok := lapack64.Potrf(raw); !ok {
		return blas64.Triangular{}, false
	}
	return blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: raw.N, Stride: raw.Stride, Data: raw.Data}, true
}

// cholSolve overwrites x with A⁻¹x for A = UᵀU, U the upper triangular
// Cholesky factor (cholUpper): two triangular solves, no allocation
// (Cholesky.SolveVecTo allocates its workspace at every call). On the engine
// (blas.FastDtrsv) they are single calls; with gonum's kernels they go by
// blocks (cholSolveBlocks). At N = 2976 (p2d1's tail block, a 71 MB factor,
// solved in float32 where mixed.Fast): 2.3–3.0 ms on the engine, 3.7–4.3 ms
// by blocks of cholBlock with gonum's kernels (N = 1600, the harmonic
// preconditioner's S at 400²: 0.34 and 0.58 ms). Below engineSolveMin the
// blocked solve is kept: it costs little there, and the runs on small grids
// keep their paths, which move with the solve's rounding.
func cholSolve(u blas64.Triangular, x []float64) {
	if !eblas.FastDtrsv() || u.N < engineSolveMin {
		cholSolveBlocks(u, x, cholBlock)
		return
	}
	eblas.Dtrsv(true, true, false, u.N, u.Data, u.Stride, x)
	eblas.Dtrsv(true, false, false, u.N, u.Data, u.Stride, x)
}

// cholSolveBlocks is cholSolve by blocks of block rows: a triangular solve on
// the diagonal block, then one matrix–vector product with the rest of the
// block row, which reads U row by row. block ≥ N gives the two unblocked
// solves, whose transposed pass reads U down its columns in gonum's kernels
// (9.2 ms at N = 2976, 1.7 ms at 1600); the blocked and unblocked solves
// agree to 2e-12 (relative) on a random factor of condition ~1e6.
func cholSolveBlocks(u blas64.Triangular, x []float64, block int) {
	d, st := u.N, u.Stride
	impl := blas64.Implementation()
	// Uᵀ y = x, forward: the block's unknowns, then their share of the rest.
	for j0 := 0; j0 < d; j0 += block {
		j1 := min(j0+block, d)
		impl.Dtrsv(blas.Upper, blas.Trans, blas.NonUnit, j1-j0, u.Data[j0*st+j0:], st, x[j0:j1], 1)
		if j1 < d {
			impl.Dgemv(blas.Trans, j1-j0, d-j1, -1, u.Data[j0*st+j1:], st, x[j0:j1], 1, 1, x[j1:], 1)
		}
	}
	// U x = y, backward: the rest's share in the block, then its unknowns.
	for i1 := d; i1 > 0; i1 -= block {
		i0 := max(i1-block, 0)
		if i1 < d {
			impl.Dgemv(blas.NoTrans, i1-i0, d-i1, -1, u.Data[i0*st+i1:], st, x[i1:], 1, 1, x[i0:i1], 1)
		}
		impl.Dtrsv(blas.Upper, blas.NoTrans, blas.NonUnit, i1-i0, u.Data[i0*st+i0:], st, x[i0:i1], 1)
	}
}

// engineSolveMin is the least order of a factor cholSolve hands to the
// engine's solve (blas.Dtrsv), and of the tail solve's factor rounded to
// float32 (tailSolve.factor).
const engineSolveMin = 1024

// cholBlock is the block size of cholSolveBlocks for the preconditioners' dense
// systems (64: 6.3 ms, 128: 6.0 ms, 256: 7.2 ms at N = 3000).
const cholBlock = 128
