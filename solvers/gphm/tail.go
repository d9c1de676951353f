package gphm

import (
	"math"

	"gonum.org/v1/gonum/blas/blas64"
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
// 16.4 s → 5.1 s); the Allen–Cahn term is left out of T̃ (the balancing form
// stays SPD).
type tailSolve struct {
	s   [2]int            // first tail mode per axis
	o   [2]*mat.Dense     // rotations O_j (f_j × f_j)
	ot  [2]mat.Matrix     // their transposes, boxed once
	idx [][2]int          // rotated pairs (x, y) solved densely
	u   blas64.Triangular // upper Cholesky factor of their block
	zt  *mat.Dense        // work: the tail block, rotated
	zt2 *mat.Dense
	tmp *mat.Dense
	x   []float64 // work: the densely solved unknowns
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
// preconditioner runs alone.
const TailBlockPerNode = 100

// newTailSolve builds T̃ for the factors of e, the axes of m and precisions
// lt, with the tail of axis j starting at start[j] − tailMargin; nil when an
// axis has no tail, the dense block would be too large, or it is not
// positive definite.
func newTailSolve(m *model, e *exactU, lt [2]float64, start [2]int) *tailSolve {
	nn := [2]int{e.n1, e.n2}
	if start[0] >= nn[0] || start[1] >= nn[1] {
		return nil
	}
	tau2 := math.Exp(lt[1])
	beta := m.lambdaB * math.Exp(lt[0])
	ts := &tailSolve{}
	var S [2][]float64
	var L, LSL, E [2]*mat.Dense
	var nr [2]int
	for j, t := range [2]*mat.Dense{e.t1, e.t2} {
		n := nn[j]
		s := max(start[j]-tailMargin, 0)
		ts.s[j] = s
		f := n - s
		tail := t.Slice(0, n, s, n)
		g := mat.NewSymDense(f, nil)
		g.SymOuterK(1, tail.T())
		var es mat.EigenSym
		if !es.Factorize(g, true) {
			return nil
		}
		S[j] = es.Values(nil)
		o := mat.NewDense(f, f, nil)
		es.VectorsTo(o)
		ts.o[j] = o
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
	}
	f1, f2 := nn[0]-ts.s[0], nn[1]-ts.s[1]
	j1, j2 := f1-nr[0], f2-nr[1]
	for x := range f1 {
		for y := range f2 {
			if x >= j1 || y >= j2 {
				ts.idx = append(ts.idx, [2]int{x, y})
			}
		}
	}
	d := len(ts.idx)
	if d == 0 || d*d > TailBlockPerNode*nn[0]*nn[1] {
		return nil
	}
	// H′[(x,y),(x′,y′)] = δ + τ2 [δ_yy′ S2_y (L1S1L1)_xx′ + δ_xx′ S1_x (L2S2L2)_yy′
	//   + L1_xx′ L2_yy′ (S1_x′ S2_y + S1_x S2_y′)] + β [δ_yy′ E1′_xx′ S2_y + δ_xx′ S1_x E2′_yy′].
	H := mat.NewSymDense(d, nil)
	bt := beta / tau2
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
	// Factored in place (one d×d array: 71 MB for p2d1's block).
	var ok bool
	if ts.u, ok = cholUpper(H); !ok {
		return nil
	}
	ts.ot = [2]mat.Matrix{ts.o[0].T(), ts.o[1].T()}
	ts.zt, ts.zt2, ts.tmp = mat.NewDense(f1, f2, nil), mat.NewDense(f1, f2, nil), mat.NewDense(f1, f2, nil)
	ts.x = make([]float64, d)
	return ts
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
	cholSolve(ts.u, ts.x, cholBlock)
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
