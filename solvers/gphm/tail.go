package gphm

import (
	"math"

	"eddy/blas/mixed"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// tailSolve is the second level of the harmonic preconditioner: a solve of
// the Hessian on the pairs of modes that the harmonic one leaves to the prior
// (exact but on the pairs of two jitter modes, where H is taken as I),
// combined with it by the balancing form
//
//	M⁻¹ = T̃ + (I − T̃H) M_h⁻¹ (I − HT̃),  T̃ = E H_TT⁻¹ Eᵀ,
//
// E the injection of the tail pairs (a ≥ s1, b ≥ s2). It is symmetric
// positive definite for any SPD T̃ and M_h, and costs two more Hessian
// products per application.
//
// Why: the generalised eigenvectors of (Kd, K) end in modes whose operator
// eigenvalue is near zero, and among them those whose columns of T carry only
// the jitter (‖T e_a‖² = jitter). On their pairs H is the prior I; the
// harmonic preconditioner stands in for it with τ2 Λ̃(T′ᵀT′)Λ̃ floored on the
// diagonal, which is exact per pair but not on the combinations of the
// transition modes whose columns nearly cancel (TᵀT restricted to the tail
// has eigenvalues from the jitter to O(1)). There M_h underestimates H by up
// to 1e5: on preset p2d1 (400², initial kernel) 644 CG iterations per solve.
//
// The tail block, H_TT = I + τ2 Λ_T (A1⊗A2) Λ_T + β (E1⊗A2 + A1⊗E2) with
// A_j = T_jᵀT_j and E_j the boundary rows' outer products restricted to the
// tail (Λ is diagonal, so restriction commutes with it), is rotated per axis
// by the eigenvectors O_j of A_j: A_j = diag(S_j) there. The rotated modes
// whose S_j is the jitter (J) see τ2 ε² Λ² ≈ 0 against 1, so on J1×J2 the
// block is the identity; the rest — J1×R2, R1×J2, R1×R2 with R the few
// rotated modes above the jitter — is solved densely (Cholesky, 2976 unknowns
// for p2d1's 130 + 130 tail modes with 12 above the jitter each). Measured on
// p2d1 at the initial kernel: 644 → 96 iterations (setup 0.8 s, solve
// 16.4 s → 5.1 s).
//
// For Allen–Cahn the block also holds the term of D = diag(3U² − 1), assembled
// again at every Gauss–Newton step (factor, reaction): on the tail pairs the
// operator part of J nearly vanishes and D G is most of J. On preset ac2d at
// 120² (two L-BFGS iterations), 6716 → 2136 CG iterations in 11 solves,
// 36 s → 15.5 s, the same solution.
type tailSolve struct {
	s   [2]int            // first tail mode per axis
	o   [2]*mat.Dense     // rotations O_j (f_j × f_j)
	ot  [2]mat.Matrix     // their transposes, boxed once
	idx [][2]int          // rotated pairs (x, y) solved densely
	u   blas64.Triangular // upper Cholesky factor of their block
	// u32 is u rounded to float32 above its diagonal, which the solves use
	// where its vector kernels run (mixed.Fast) and u is large
	// (engineSolveMin): the solve reads half the bytes, and the
	// preconditioner stays a fixed symmetric positive definite operator
	// (mixed.Upper). use32 says whether it holds the current factor: its
	// storage may come from an earlier solve's (newTailSolve).
	u32   *mixed.Upper
	use32 bool
	zt    *mat.Dense // work: the tail block, rotated
	zt2   *mat.Dense
	tmp   *mat.Dense
	x     []float64 // work: the densely solved unknowns
	// The per-axis pieces of the block, kept to assemble it again with an
	// Allen–Cahn term (factor): S_j, L_j, L_jS_jL_j, E′_j as below; w[j] =
	// T_j,tail O_j and v[j] = T_j,tail diag(c λ) O_j, the rotated tail columns
	// of G and of the operator's factor, and pos the position of each pair
	// in idx (both for a nonlinear PDE only); j[j] the first rotated mode
	// above the jitter.
	sv         [2][]float64
	l, lsl, e  [2]*mat.Dense
	w, v       [2]*mat.Dense
	pos        map[[2]int]int
	j          [2]int
	tau2, beta float64
	h          *mat.SymDense // the block's storage, factored in place
}

// Parameters of the tail solve: the tail starts tailMargin modes before the
// first floored one (the transition modes: 376 → 60 iterations at 200² with
// 10, 53 with 15, 301 with none), and the rotated modes within jitterBand of
// the jitter count as J.
const (
	tailMargin = 10
	jitterBand = 1.1
)

// TailBlockPerNode bounds the dense block of the tail solve: d² ≤
// TailBlockPerNode·n1·n2 unknowns² (d ≤ 10n on an n×n grid: 4000 at 400²,
// where p2d1 needs 2976 at the initial kernel and more later; with d ≤ 8n
// four of its 17 solves went without the tail solve, 271 s against 189 s),
// so that its d² doubles stay within a fixed multiple of the grid that
// Config.Estimate counts; a larger block is not built and the harmonic
// preconditioner runs alone. On small grids Allen–Cahn may take up to
// TailBlockMin unknowns, the linear PDEs TailBlockMinLinear (tailBlockMax).
const TailBlockPerNode = 100

// TailBlockMin is the least bound on the tail block's unknowns for
// Allen–Cahn, whatever the grid (32 MB and its 16 MB float32 factor). A grid
// much finer than the kernel's spectrum leaves most of its modes to the
// tail, and there the operator is the multiplication by 3U² − 1, which only
// the tail block holds (reaction): u = ½ sin 4x cos 3y + x − y on [0, 1]² at
// 56² (F = 3) has tail blocks of 830–1650 unknowns against the per-node
// bound's 560; without them 273 of its 304 solves on the harmonic
// preconditioner stopped at kronMaxIter, 157 s in all, and with them 24 s.
// For Poisson, whose operator nearly vanishes on those modes, the harmonic
// preconditioner's floor stands in for the block well enough, and its cost
// per iteration, d² against the grid's products, is what decides (tried: the
// same floor for Poisson made a 40² problem's solves twice as dear).
const TailBlockMin = 2000

// TailBlockMinLinear is TailBlockMin for the linear PDEs on grids of at
// least tailFloorNodes. Small grids on long or wide domains leave more
// modes to the tail than the per-node bound allows: u = xy + sin 7x sin 3y
// on [0, 2] × [0, 1] at 48² and 60² has blocks of 670–900 unknowns against
// 480 and 600, and without them took
// 878 and 595 CG iterations per solve, 46.9 and 52.0 s; with them 120 and
// 312, 8.7 and 31.6 s. On square domains at 40²–48² the same floor saved
// 12–15 %; one 64² problem took 10 % longer. Twice as large it made a 40²
// problem's solves twice as dear (the block's solves against the grid's
// products).
const TailBlockMinLinear = 1000

// tailFloorNodes is the least grid on which TailBlockMinLinear applies:
// below it the grid's products are so cheap that the block's solves
// outweigh the iterations they save (the README's 32² example, whose block
// is under 512 pairs: 331 → 157 CG iterations per solve, 2.1 → 3.0 s).
const tailFloorNodes = 40 * 40

// tailBlockMax is the largest tail block built for pde on an n1×n2 grid.
func tailBlockMax(pde PDE, n1, n2 int) int {
	floor := TailBlockMin
	if pde.Linear() {
		floor = 0
		if n1*n2 >= tailFloorNodes {
			floor = TailBlockMinLinear
		}
	}
	return max(int(math.Sqrt(float64(TailBlockPerNode*n1*n2))), floor)
}

// newTailSolve builds T̃ for the factors of e, the axes of m and precisions
// lt, with the tail of axis j starting at start[j] − tailMargin; nil when an
// axis has no tail, the dense block would be too large, or it is not
// positive definite. The block and its rounded factor go into spare's
// storage when it has one large enough (spare, a solve no longer used, may
// be nil): allocating and clearing p2d1's 71 MB block at every evaluation
// took 2.6 % of its run.
func newTailSolve(m *model, e *exactU, lt [2]float64, start [2]int, react *mat.Dense, spare *tailSolve) *tailSolve {
	nn := [2]int{e.n1, e.n2}
	if start[0] >= nn[0] || start[1] >= nn[1] {
		return nil
	}
	tau2 := math.Exp(lt[1])
	beta := m.lambdaB * math.Exp(lt[0])
	ts := &tailSolve{}
	ts.tau2, ts.beta = tau2, beta
	S, L, LSL, E := &ts.sv, &ts.l, &ts.lsl, &ts.e
	var nr [2]int
	for j, t := range [2]*mat.Dense{e.t1, e.t2} {
		n := nn[j]
		s := max(start[j]-tailMargin, 0)
		ts.s[j] = s
		f := n - s
		tail := t.Slice(0, n, s, n)
		_, vals, o, ok := gramEigen(tail)
		if !ok {
			return nil
		}
		S[j], ts.o[j] = vals, o
		cut := jitterBand * m.ax[j].jit
		for _, v := range S[j] {
			if v > cut {
				nr[j]++
			}
		}
		c := 1.0
		if j == 0 {
			c = m.c1
		}
		lam := m.ax[j].Lam[s:]
		// L = Oᵀ diag(c λ) O and L S L.
		dl := mat.DenseCopyOf(o)
		for a := range f {
			row := dl.RawRowView(a)
			for b := range row {
				row[b] *= c * lam[a]
			}
		}
		L[j] = new(mat.Dense)
		L[j].Mul(o.T(), dl)
		ls := mat.DenseCopyOf(L[j])
		for a := range f {
			row := ls.RawRowView(a)
			for b := range row {
				row[b] *= S[j][b]
			}
		}
		LSL[j] = new(mat.Dense)
		LSL[j].Mul(ls, L[j])
		// E′ = Oᵀ (Σ_ends tail rowᵀ tail row) O.
		ends := mat.NewDense(2, f, nil)
		for k, i := range [2]int{0, n - 1} {
			copy(ends.RawRowView(k), t.RawRowView(i)[s:])
		}
		var eo mat.Dense
		eo.Mul(ends, o)
		E[j] = new(mat.Dense)
		E[j].Mul(eo.T(), &eo)
		if !m.pde.Linear() {
			// The columns the Allen–Cahn term needs (reaction): W = T_tail O
			// and V = T_tail diag(c λ) O.
			ts.w[j], ts.v[j] = new(mat.Dense), new(mat.Dense)
			ts.w[j].Mul(tail, o)
			ts.v[j].Mul(tail, dl)
		}
	}
	f1, f2 := nn[0]-ts.s[0], nn[1]-ts.s[1]
	ts.j = [2]int{f1 - nr[0], f2 - nr[1]}
	for x := range f1 {
		for y := range f2 {
			if x >= ts.j[0] || y >= ts.j[1] {
				ts.idx = append(ts.idx, [2]int{x, y})
			}
		}
	}
	d := len(ts.idx)
	if d == 0 || d > tailBlockMax(m.pde, nn[0], nn[1]) {
		return nil
	}
	if !m.pde.Linear() {
		ts.pos = make(map[[2]int]int, d)
		for i, p := range ts.idx {
			ts.pos[p] = i
		}
	}
	// One d×d array, factored in place (71 MB for p2d1's block); block sets
	// its whole upper triangle.
	if spare != nil && cap(spare.h.RawSymmetric().Data) >= d*d {
		ts.h = mat.NewSymDense(d, spare.h.RawSymmetric().Data[:d*d])
		ts.u32 = spare.u32
	} else {
		ts.h = mat.NewSymDense(d, nil)
	}
	if !ts.factor(react) {
		return nil
	}
	ts.ot = [2]mat.Matrix{ts.o[0].T(), ts.o[1].T()}
	ts.zt, ts.zt2, ts.tmp = mat.NewDense(f1, f2, nil), mat.NewDense(f1, f2, nil), mat.NewDense(f1, f2, nil)
	ts.x = make([]float64, d)
	return ts
}

// factor assembles the block with the Allen–Cahn term of react = 3U² − 1
// (nil: none) and factors it; false when it is not positive definite, which
// leaves the solve unusable until a factor succeeds.
func (ts *tailSolve) factor(react *mat.Dense) bool {
	ts.block(react, ts.h)
	var ok bool
	ts.u, ok = cholUpper(ts.h)
	ts.use32 = ok && mixed.Fast() && ts.u.N >= engineSolveMin
	if ts.use32 {
		if ts.u32 == nil {
			ts.u32 = new(mixed.Upper)
		}
		ts.u32.Set(ts.u.N, ts.u.Data, ts.u.Stride)
	}
	return ok
}

// block sets H to the Hessian on the densely solved rotated pairs:
//
//	H′[(x,y),(x′,y′)] = δ + τ2 [δ_yy′ S2_y (L1S1L1)_xx′ + δ_xx′ S1_x (L2S2L2)_yy′
//	  + L1_xx′ L2_yy′ (S1_x′ S2_y + S1_x S2_y′)] + β [δ_yy′ E1′_xx′ S2_y + δ_xx′ S1_x E2′_yy′],
//
// plus, with react, the Allen–Cahn part of τ2 JᵀJ (reaction).
func (ts *tailSolve) block(react *mat.Dense, H *mat.SymDense) {
	S, L, LSL, E := ts.sv, ts.l, ts.lsl, ts.e
	tau2, d := ts.tau2, len(ts.idx)
	bt := ts.beta / tau2
	for i, p := range ts.idx {
		x, y := p[0], p[1]
		for k := i; k < d; k++ {
			x2, y2 := ts.idx[k][0], ts.idx[k][1]
			v := L[0].At(x, x2) * L[1].At(y, y2) * (S[0][x2]*S[1][y] + S[0][x]*S[1][y2])
			if y == y2 {
				v += S[1][y] * (LSL[0].At(x, x2) + bt*E[0].At(x, x2))
			}
			if x == x2 {
				v += S[0][x] * (LSL[1].At(y, y2) + bt*E[1].At(y, y2))
			}
			v *= tau2
			if i == k {
				v++
			}
			H.SetSym(i, k, v)
		}
	}
	if react != nil {
		ts.reaction(react, H)
	}
}

// reaction adds to H the Allen–Cahn part of τ2 JᵀJ on the densely solved
// pairs. With g_xy = w1_x ⊗ w2_y (the rotated pair's column of G) and
// J e_xy = (v1_x ⊗ w2_y + w1_x ⊗ v2_y) + D g_xy, D = diag(react), that part is
// ⟨J_P e, D g′⟩ + ⟨D g, J_P e′⟩ + ⟨D g, D g′⟩ =
//
//	Σ_ij D²_ij w1_x w1_x′ w2_y w2_y′ + D_ij [(v1_x w1_x′ + w1_x v1_x′) w2_y w2_y′ + w1_x w1_x′ (v2_y w2_y′ + w2_y v2_y′)].
//
// D is not a Kronecker product, so no rotation keeps the pairs apart: it
// couples the pairs of jitter modes (J1×J2, left as I) with the rest too,
// but weakly (adding them densely, a block three times as large, saved 17 %
// of the CG iterations on preset ac2d at 120²).
// Sums over one axis first: for an entry whose pairs have a mode above the
// jitter on axis 1, x = a, over i (A_a, B_a below, three (f1 × n1)(n1 × n2)
// products per such a); for the others, whose modes are both above the
// jitter on axis 2, over j.
func (ts *tailSolve) reaction(react *mat.Dense, H *mat.SymDense) {
	n1, n2 := react.Dims()
	w1, v1, w2, v2 := ts.w[0], ts.v[0], ts.w[1], ts.v[1]
	f1, f2 := w1.RawMatrix().Cols, w2.RawMatrix().Cols
	j1, j2 := ts.j[0], ts.j[1]
	d2 := mat.NewDense(n1, n2, nil)
	d2.MulElem(react, react)
	pos := ts.pos
	add := func(i, k int, v float64) {
		if i > k {
			i, k = k, i
		}
		H.SetSym(i, k, H.At(i, k)+ts.tau2*v)
	}
	// Axis 1 first. For an anchor a ≥ j1, with P[x, i] = w1_a w1_x and
	// Q[x, i] = v1_a w1_x + w1_a v1_x: A_a = P D² + Q D, B_a = P D (f1 × n2),
	// and the entries of (a, y) and all (x, y′) are
	// Σ_j (A_a[x, j] w2_y + B_a[x, j] v2_y) w2_y′ + B_a[x, j] w2_y v2_y′,
	// two (f1 × n2)(n2 × f2) products per y.
	P, Q := mat.NewDense(f1, n1, nil), mat.NewDense(f1, n1, nil)
	var A, B, t, hi, lo, t2 mat.Dense
	ay, by := mat.NewDense(f1, n2, nil), mat.NewDense(f1, n2, nil)
	wy, vy := make([]float64, n2), make([]float64, n2)
	// Only the entries used below are formed: the rows x ≥ a (hi), and the
	// rows x < j1 on the columns y′ ≥ j2 (lo; their pairs are in idx only
	// there): assembling and factoring a block of 1680 pairs on a 100²
	// Allen–Cahn grid took 0.111 s instead of 0.165 s with every entry.
	var w2j, v2j mat.Matrix
	if j1 > 0 && j2 < f2 {
		w2j, v2j = w2.Slice(0, n2, j2, f2), v2.Slice(0, n2, j2, f2)
	}
	for a := j1; a < f1; a++ {
		pairProducts(w1, v1, a, P, Q)
		A.Mul(P, d2)
		t.Mul(Q, react)
		A.Add(&A, &t)
		B.Mul(P, react)
		for y := range f2 {
			mat.Col(wy, y, w2)
			mat.Col(vy, y, v2)
			for x := range f1 {
				if x >= j1 && x < a {
					continue
				}
				ar, br, yr, zr := A.RawRowView(x), B.RawRowView(x), ay.RawRowView(x), by.RawRowView(x)
				for j := range n2 {
					yr[j] = ar[j]*wy[j] + br[j]*vy[j]
					zr[j] = br[j] * wy[j]
				}
			}
			hi.Reset()
			hi.Mul(ay.Slice(a, f1, 0, n2), w2)
			t2.Reset()
			t2.Mul(by.Slice(a, f1, 0, n2), v2)
			hi.Add(&hi, &t2)
			if w2j != nil {
				lo.Reset()
				lo.Mul(ay.Slice(0, j1, 0, n2), w2j)
				t2.Reset()
				t2.Mul(by.Slice(0, j1, 0, n2), v2j)
				lo.Add(&lo, &t2)
			}
			i := pos[[2]int{a, y}]
			for k, q := range ts.idx {
				// Each unordered pair once: the other's axis-1 mode below the
				// jitter, or a later anchor, or this one's later pair.
				switch x := q[0]; {
				case x < j1:
					add(i, k, lo.At(x, q[1]-j2))
				case x > a || x == a && k >= i:
					add(i, k, hi.At(x-a, q[1]))
				}
			}
		}
	}
	// Axis 2 first, for the pairs (x, y), (x′, y′) with x, x′ < j1 (then
	// y, y′ ≥ j2): with R[y, j] = w2_b w2_y and U[y, j] = v2_b w2_y + w2_b v2_y,
	// C_b = R D²ᵀ + U Dᵀ and E_b = R Dᵀ (f2 × n1), and the entry of (x, b),
	// (x′, y) is Σ_i C_b[y, i] w1_x w1_x′ + E_b[y, i] (v1_x w1_x′ + w1_x v1_x′).
	if j1 == 0 {
		return
	}
	R, U := mat.NewDense(f2, n2, nil), mat.NewDense(f2, n2, nil)
	var C, Eb, t3 mat.Dense
	wx, vx := make([]float64, n1), make([]float64, n1)
	w1t, v1t := mat.DenseCopyOf(w1.T()), mat.DenseCopyOf(v1.T())
	for b := j2; b < f2; b++ {
		pairProducts(w2, v2, b, R, U)
		t3.Mul(R, d2.T())
		C.Mul(U, react.T())
		C.Add(&C, &t3)
		Eb.Mul(R, react.T())
		for x := range j1 {
			i := pos[[2]int{x, b}]
			wa, va := w1t.RawRowView(x), v1t.RawRowView(x)
			for x2 := range j1 {
				w1x2, v1x2 := w1t.RawRowView(x2), v1t.RawRowView(x2)
				for ii := range n1 {
					wx[ii] = wa[ii] * w1x2[ii]
					vx[ii] = va[ii]*w1x2[ii] + wa[ii]*v1x2[ii]
				}
				for y := j2; y < f2; y++ {
					k := pos[[2]int{x2, y}]
					if y < b || y == b && k < i {
						continue
					}
					add(i, k, floats.Dot(C.RawRowView(y), wx)+floats.Dot(Eb.RawRowView(y), vx))
				}
			}
		}
	}
}

// add sets z += c T̃ r: the tail block of r rotated, solved (identity on
// J1×J2), rotated back.
func (ts *tailSolve) add(r, z *mat.Dense, c float64) {
	s1, s2 := ts.s[0], ts.s[1]
	for a := range ts.zt2.RawMatrix().Rows {
		copy(ts.zt2.RawRowView(a), r.RawRowView(s1 + a)[s2:])
	}
	ts.tmp.Mul(ts.ot[0], ts.zt2)
	ts.zt.Mul(ts.tmp, ts.o[1])
	for i, p := range ts.idx {
		ts.x[i] = ts.zt.At(p[0], p[1])
	}
	if ts.use32 {
		ts.u32.SolveNormal(ts.x)
	} else {
		cholSolve(ts.u, ts.x)
	}
	for i, p := range ts.idx {
		ts.zt.Set(p[0], p[1], ts.x[i])
	}
	ts.tmp.Mul(ts.o[0], ts.zt)
	ts.zt2.Mul(ts.tmp, ts.ot[1])
	for a := range ts.zt2.RawMatrix().Rows {
		row := z.RawRowView(s1 + a)[s2:]
		for b, v := range ts.zt2.RawRowView(a) {
			row[b] += c * v
		}
	}
}

// pairProducts sets P[x, i] = w_a(i) w_x(i) and Q[x, i] = v_a(i) w_x(i) +
// w_a(i) v_x(i) for every column x of w and v (n × f): the products of column
// a with the others, one row per column.
func pairProducts(w, v *mat.Dense, a int, P, Q *mat.Dense) {
	n, f := w.Dims()
	for x := range f {
		pr, qr := P.RawRowView(x), Q.RawRowView(x)
		for i := range n {
			wa, va, wx, vx := w.At(i, a), v.At(i, a), w.At(i, x), v.At(i, x)
			pr[i] = wa * wx
			qr[i] = va*wx + wa*vx
		}
	}
}
