package gphm

import (
	"context"
	"errors"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// kronCG minimises Φ(Z) of exactU on a 2-D grid by (Gauss–)Newton steps
// whose linear systems are solved by preconditioned conjugate gradients,
// matrix-free: a product with the Hessian H = I + τ2 JᵀJ + λ_b τ1 BᵀB,
// J = P1⊗T2 + T1⊗P2 (+ diag(3U² − 1)(T1⊗T2) for Allen–Cahn), costs four
// n×n×n products with the per-axis factors (J Z = T1 (Λ∘Z) T2ᵀ for Poisson,
// Λ_ab = λ1_a + λ2_b; eight for Allen–Cahn) and O(n²) for the boundary rows
// and columns; no matrix over the whole grid is formed. Through the Gram
// matrices G_j = T_jᵀT_j, JᵀJ Z = Λ∘(G1 (Λ∘Z) G2) takes two; that form is
// used with the two-level preconditioner only (apply).
//
// Preconditioner: in grid values U the linear part of the Hessian is
// C⁻¹ + τ2 (D1⊗I + I⊗D2)ᵀ(D1⊗I + I⊗D2) + λ_b τ1 (B1⊗I + I⊗B2), with
// D_j = Kd_j K_j⁻¹ and B_j the end-point indicator. Dropping the cross terms
// D1ᵀ⊗D2 + D1⊗D2ᵀ and replacing the prior C⁻¹ = K1⁻¹⊗K2⁻¹ by the Kronecker sum
// K1⁻¹⊗I + I⊗K2⁻¹ leaves E1⊗I + I⊗E2, E_j = τ2 D_jᵀD_j + λ_b τ1 B_j + K_j⁻¹,
// which the eigendecompositions E_j = Y_j Θ_j Y_jᵀ invert exactly; the true
// prior enters through its diagonal π1_a π2_b, π_j = diag(Y_jᵀ K_j⁻¹ Y_j), in
// that basis. Mapped to Z (X_j = T_j⁻¹ Y_j):
//
//	M⁻¹ R = X1 [ (X1ᵀ R X2) / (θ1_a + θ2_b + π1_a π2_b) ] X2ᵀ,
//
// four more products. The dropped cross terms cancel on discrete harmonic
// functions (D1 U ≈ −D2 U), which only the boundary term controls; along those
// ~4n directions M overestimates H, and CG spends most of its iterations there.
type kronCG struct {
	e      *exactU
	x1, x2 *mat.Dense
	th1    []float64
	th2    []float64
	pi1    []float64
	pi2    []float64
	lam    *mat.Dense // Λ_ab = λ1_a + λ2_b (Poisson); nil for a general Ω
	// adv is advection's Jacobian in its structured form (omega.go), with
	// which jtj takes two n×n×n products instead of eight; nil for the
	// other PDEs or without the skew Schur bases.
	adv *advJacobian
	// g1, g2 are the Gram matrices T_jᵀT_j, with which the tail solve's
	// corner products take two n×n×n products' worth of flops on the corner's
	// rows or columns (applyCorner), and advection's JᵀJ v two (adv); formed
	// when a tail solve is built, and at every setup for advection.
	g1, g2 *mat.Dense
	// cw1, cw2: work for applyCorner, sized for the tail corner cs.
	cw1, cw2 []float64
	cs       [2]int
	d        *mat.Dense // 3U² − 1 for Allen–Cahn, nil otherwise
	dBuf     *mat.Dense // d's storage, allocated once (linearise)
	// work: grids, the boundary values of addBoundary and the
	// β-sized vectors of precondAug, allocated once so that the CG loop
	// allocates nothing.
	r, z, p, q, t, s, q2 *mat.Dense
	bnd                  *boundaryOp
	bs                   []float64
	tb, sb               *mat.VecDense
	// tr holds the transposes of the factors as matrices, made once per
	// setup: Dense.T boxes a new value at every call.
	tr struct{ t1, t2, p1, p2, x1, x2 mat.Matrix }
	// h is the harmonic preconditioner (harmonic.go; for advection
	// harmonic_adv.go), used by precond when pick chooses it; nil otherwise.
	h *harmonic
	// tail, when set, is the second level of h (tail.go), applied in the
	// balancing form with two more Hessian products (m, lt: those of the
	// last setup; tw, thz: work grids).
	tail *tailSolve
	// spare is the last tail solve built, whose storage the next one reuses.
	spare   *tailSolve
	m       *model
	lt      [2]float64
	tw, thz *mat.Dense
	// Trend blocks (augment): the columns of the coarse space Y (the
	// first ny in use; yz, yaz their grid parts and those of AY), the
	// Cholesky factor of H_ββ, the β parts of the CG vectors, and cw, cf,
	// rba, ra, work.
	yc                 []*coarseVec
	yz, yaz            []*mat.Dense
	ny                 int
	hbb                mat.Cholesky
	augmented          bool
	xb, rb, zb, pb, qb []float64
	cw, cf, rba        []float64
	ra                 *mat.Dense
	// Iters counts the CG iterations and Solves the linear solves since
	// the counters were last cleared.
	Iters, Solves int
	// HarmonicSolves counts the solves preconditioned by h, TailSolves
	// those of them with its tail solve, DenseSolves those by the dense
	// factor (dense); CutSolves the solves stopped above bound, whose
	// iterations Iters counts but Solves does not.
	HarmonicSolves, TailSolves, DenseSolves, CutSolves int
	// capped counts the last solves in a row that ended at kronMaxIter
	// (runProfile holds the trend fixed after CappedFix of them).
	capped int
	// dense is the Newton matrix's own factor, the preconditioner of the
	// evaluations chooseDense gives it on grids of at most DenseNodes nodes
	// (denseOn); DenseBuilds counts its factorisations.
	dense       densePC
	denseOn     bool
	DenseBuilds int
	// krylovCost holds the costs, in Hessian products (iterCost), of the
	// solves of the last denseSamples evaluations preconditioned by pick's
	// choice, samples how many there were; evalCost sums the current
	// evaluation's, and sinceKrylov counts the evaluations with the dense
	// factor since the last on pick's choice (chooseDense).
	krylovCost  [denseSamples]float64
	evalCost    float64
	samples     int
	sinceKrylov int
	// bound, when finite, is the value of Φ above which the caller (the
	// line search) rejects the result of the next solve: a linear solve
	// then stops as soon as a lower estimate of the Φ it would reach exceeds
	// bound, and returns that estimate with errAboveBound. +Inf: no bound.
	// low is that estimate.
	bound, low float64
	// phiZ, phiG: work for Φ computed afresh at a CG iterate (solve).
	phiZ, phiG *mat.Dense
	// last holds the CG iterations of the last solve with each
	// preconditioner (pcTail, pcHarmonic, pcKronSum), −1 before any; using
	// is the one of the current evaluation; picks counts the choices.
	last [3]int
	// cut[i] is set when the last solve with i was a probe cut off
	// (probeCap): last[i] is then a lower bound, and i is not taken as the
	// best until a later probe finishes.
	cut [3]bool
	// ran[i] is set once a solve with i has been counted (a cost of
	// kronMaxIter may also stand for one that is not to be tried).
	ran [3]bool
	// missing[i] is set when i could not be built for the kernels of the
	// current setup (build): it is no fallback for a probe then.
	missing [3]bool
	using   int
	picks   int
	// cuts[i] counts the probes of i cut off in a row, and retryAt[i] is the
	// choice from which pick's periodic retry may try i again: each cut
	// doubles the wait (retryAt).
	cuts, retryAt [3]int
	// hKept is the harmonic preconditioner of the current setup (hSetup:
	// the setup it was built for, setups counts them), which build takes
	// again after a probe of another (it does not depend on the choice).
	hKept          *harmonic
	hSetup, setups int
	// kronSumReady is set once kronSum has built the Kronecker-sum factors
	// for the kernels of the current setup.
	kronSumReady bool
	// ctx, when set, is polled every ctxPoll CG iterations: one solve at
	// 400² can run for minutes, and a cancelled job must give its worker
	// back within a second or two.
	ctx context.Context
}

// ctxPoll is how many CG iterations pass between two looks at ctx.
const ctxPoll = 4

func newKronCG(n1, n2 int) *kronCG {
	k := &kronCG{e: newExactU(n1, n2), last: [3]int{-1, -1, -1}, bound: math.Inf(1), denseOn: n1*n2 <= DenseNodes}
	nd := func() *mat.Dense { return mat.NewDense(n1, n2, nil) }
	k.r, k.z, k.p, k.q, k.t, k.s, k.q2 = nd(), nd(), nd(), nd(), nd(), nd(), nd()
	k.bnd, k.bs = newBoundaryOp(n1, n2), make([]float64, 2*(n1+n2))
	return k
}

func (k *kronCG) fromU(m *model, U, Z *mat.Dense) { k.e.fromU(m, U, Z) }
func (k *kronCG) trendFixed(f bool)               { k.e.fixed = f }
func (k *kronCG) trend() []float64                { return k.e.beta }
func (k *kronCG) setTrend(b []float64)            { copy(k.e.beta, b) }
func (k *kronCG) grid() *mat.Dense                { return k.e.u }

// setup builds the factors for the current kernels of m (after update).
func (k *kronCG) setup(m *model, lt [2]float64) {
	e := k.e
	e.prepareFactors(m, false)
	k.kronSumReady = false
	k.tr.t1, k.tr.t2 = e.t1.T(), e.t2.T()
	k.tr.p1, k.tr.p2 = nil, nil
	if e.p1 != nil {
		k.tr.p1 = e.p1.T()
	}
	if e.p2 != nil {
		k.tr.p2 = e.p2.T()
	}
	k.augmented = false
	k.lam = nil
	k.adv = nil
	if m.pde == Advection {
		if k.adv = newAdvJacobian(m); k.adv != nil {
			k.g1, k.g2 = gram(k.g1, e.t1), gram(k.g2, e.t2)
		}
	}
	if m.ax[0].Lam != nil && m.ax[1].Lam != nil {
		k.lam = mat.NewDense(e.n1, e.n2, nil)
		for a, l1 := range m.ax[0].Lam {
			for b, l2 := range m.ax[1].Lam {
				k.lam.Set(a, b, m.c1*l1+l2)
			}
		}
	}
	k.m, k.lt = m, lt
	k.setups++
	if m.pde == Advection && k.last[pcTail] < 0 {
		k.last[pcTail] = kronMaxIter // there is none: not to be tried
	}
	k.d = nil // of the last U; solve sets it again
	if k.denseOn && k.chooseDense() {
		// Formed again at the first Gauss–Newton step of the evaluation
		// (solve) and kept for its other steps unless one finds it stale
		// (count).
		k.using = pcDense
		k.dense.stale = true
		// The Kronecker preconditioners of an earlier set-up are of other
		// kernels; build makes them again when pick's choice is back.
		k.h, k.tail = nil, nil
		return
	}
	k.pickAndBuild()
}

// pickAndBuild builds the preconditioner pick chooses for the kernels of the
// last setup.
func (k *kronCG) pickAndBuild() {
	k.missing = [3]bool{}
	want := k.pick()
	if got := k.build(want); got != want && k.last[want] < 0 {
		// Not available for these kernels: counted as a solve that failed,
		// so that pick moves on (and tries it again only as a runner-up).
		k.last[want] = kronMaxIter
	}
	k.picks++
}

// kronSum builds the Kronecker-sum preconditioner's factors (precond) for
// the kernels of the last setup, once per setup and only when it is used:
// two n×n eigendecompositions and a few products per axis that a run on
// the harmonic preconditioners never needs.
func (k *kronCG) kronSum() {
	if k.kronSumReady {
		return
	}
	k.kronSumReady = true
	m, lt := k.m, k.lt
	tau1, tau2 := math.Exp(lt[0]), math.Exp(lt[1])
	lb := m.lambdaB * tau1
	pre := func(a *axis, c float64) (*mat.Dense, []float64, []float64) {
		n := a.n
		// D = Kd K⁻¹ = (K⁻¹ Kdᵀ)ᵀ.
		dt := mat.DenseCopyOf(a.Kd.T())
		a.solveLeft(dt)
		E := mat.NewSymDense(n, nil)
		var dtd mat.Dense
		dtd.Mul(dt, dt.T()) // DᵀD = (K⁻¹Kdᵀ)(K⁻¹Kdᵀ)ᵀ
		for i := range n {
			for j := i; j < n; j++ {
				v := tau2*c*c*dtd.At(i, j) + a.Kinv.At(i, j)
				if i == j && (i == 0 || i == n-1) {
					v += lb
				}
				E.SetSym(i, j, v)
			}
		}
		var es mat.EigenSym
		es.Factorize(E, true)
		th := es.Values(nil)
		var Y mat.Dense
		es.VectorsTo(&Y)
		// X = T⁻¹ Y.
		X := mat.DenseCopyOf(&Y)
		a.toWhite(X)
		// π = diag(Yᵀ K⁻¹ Y) is the prior K⁻¹ in the Y basis.
		var ky mat.Dense
		ky.Mul(a.Kinv, &Y)
		pi := make([]float64, n)
		for j := range n {
			s := 0.0
			for i := range n {
				s += Y.At(i, j) * ky.At(i, j)
			}
			pi[j] = s
		}
		return X, th, pi
	}
	k.x1, k.th1, k.pi1 = pre(m.ax[0], m.c1)
	k.x2, k.th2, k.pi2 = pre(m.ax[1], 1)
	k.tr.x1, k.tr.x2 = k.x1.T(), k.x2.T()
}

// build makes pc the preconditioner of the current factors (those of the
// last setup) and returns the one it could build: the harmonic one needs the
// Kronecker eigendecomposition (k.lam) or, for advection, the axes' skew
// Schur bases (newHarmonicAdv; it has no tail solve), and a positive
// definite boundary system, its tail solve modes left to the prior and a
// dense block within tailBlockMax; the Kronecker sum is always there.
func (k *kronCG) build(pc int) int {
	e := k.e
	k.h, k.tail = nil, nil
	k.using = pcKronSum
	adv := k.advection()
	if (k.lam == nil && !adv) || pc == pcKronSum {
		k.kronSum()
		return k.using
	}
	if k.hSetup != k.setups {
		if adv {
			k.hKept = newHarmonicAdv(k.m, e, k.lt)
		} else {
			k.hKept = newHarmonic(k.m, e, k.lt)
		}
		k.hSetup = k.setups
	}
	if k.h = k.hKept; k.h == nil {
		k.kronSum()
		return k.using
	}
	k.using = pcHarmonic
	if pc == pcTail && !adv {
		k.tail = newTailSolve(k.m, e, k.lt, k.h.floored, k.d, k.spare)
		if k.tail != nil {
			k.spare = k.tail
		}
	}
	if k.tail != nil {
		k.using = pcTail
		// The corner products' Gram matrices (applyCorner), of this setup's T_j.
		k.g1, k.g2 = gram(k.g1, e.t1), gram(k.g2, e.t2)
		if k.tw == nil {
			k.tw, k.thz = mat.NewDense(e.n1, e.n2, nil), mat.NewDense(e.n1, e.n2, nil)
		}
	}
	for i := pc; i < k.using; i++ {
		k.missing[i] = true
	}
	return k.using
}

// The preconditioners kronCG chooses from (pick), in the order they are
// tried, and the cost of one CG iteration with each (Hessian product and
// preconditioner), in half the Kronecker-sum one's. Measured at p2d1's
// initial kernel at 400²: 25.7 ms with the tail solve, 16.2 ms with the
// harmonic preconditioner alone, 16.1 ms with the Kronecker sum (at 48² to
// 200², where this kernel has no tail solve, the harmonic one costs 1.0–1.7
// times the Kronecker sum). The weights were {2, 1, 1}, Hessian products
// alone, before the tail solve's factor was read in float32.
const (
	pcTail = iota
	pcHarmonic
	pcKronSum
	// pcDense, the Newton matrix's own factor (densePC), is not chosen by
	// pick: small systems use it alone.
	pcDense
)

var pcCost = [3]int{pcTail: 3, pcHarmonic: 2, pcKronSum: 2}

// pcCostAdvection is pcCost for advection, whose harmonic preconditioner
// takes eight n×n×n products per application (two interior solves) and the
// Kronecker-sum one four, beside the Hessian product's two (advJacobian):
// one CG iteration at the initial kernel took 2.05–2.3 times the Kronecker
// sum's with it on grids of 48² to 200² (5.1 ms against 2.2 at 200²).
var pcCostAdvection = [3]int{pcTail: 3, pcHarmonic: 4, pcKronSum: 2}

// pcOrder is the order in which pick tries the preconditioners.
// pcOrderAdvection tries the Kronecker sum first, so that the harmonic
// preconditioner of advection, which helps on some grids and not on others,
// comes as a probe, cut at half the Kronecker sum's cost. One solve at the
// initial kernel on preset adv's problem: 367 CG iterations with it against
// 1265 at 120², 639 against 1008 at 160² (3.4 s against 2.4 s), 280 against
// 1115 at 200² (3.7 s, of which 1.7 s its boundary system, against 5.5 s);
// with the polynomial trend at 200², 970 against 2000 (the cap).
// u = sin 2(x − 3t), β = 3, at 48²: 92 against 2000.
var (
	pcOrder          = [3]int{pcTail, pcHarmonic, pcKronSum}
	pcOrderAdvection = [3]int{pcKronSum, pcHarmonic, pcTail}
)

// advection reports whether the PDE of the last setup is advection, whose
// preconditioners pick prices and orders by pcCostAdvection and
// pcOrderAdvection.
func (k *kronCG) advection() bool { return k.m != nil && k.m.pde == Advection }

// cost returns pcCost, or pcCostAdvection for advection.
func (k *kronCG) cost() [3]int {
	if k.advection() {
		return pcCostAdvection
	}
	return pcCost
}

// order returns pcOrder, or pcOrderAdvection for advection.
func (k *kronCG) order() [3]int {
	if k.advection() {
		return pcOrderAdvection
	}
	return pcOrder
}

// pick returns the preconditioner the next evaluation should use. The
// harmonic one is exact up to the modes left to the prior, which its tail
// solve (tail.go) takes: one iteration per solve on preset p2d2 (13 with the
// Kronecker-sum one); on p2d1 at 400², with the tail solve 96 at the initial
// kernel (120 with the trend) and 16–336 along a run, without it 644,
// Kronecker sum 576; at 48² on
// sin 20x sin 20y, where the tail block is small and the harmonic one alone
// takes about 230, the tail solve saves less than its cost. So they are
// compared on the iterations per solve they last took times their cost
// (pcCost; linear solves of one evaluation and the next differ little): the
// next untried one in the order pcTail, pcHarmonic, pcKronSum (pcOrder;
// advection's is pcOrderAdvection) while the best
// so far costs more than pickProbe (from the third evaluation on: the first
// solve is a cold one, see below), then the cheapest; every pickEvery
// evaluations the runner-up is tried again while the best costs more than
// pickProbe, but after c probes of it cut in a row only once
// pickEvery·2^c choices have passed since the last (on preset p2d1 the
// harmonic preconditioner alone, cut at its probe at the third
// evaluation, was probed and cut again at the tenth: 34 more iterations,
// and its factors and the trend's coarse space built once more; 1078 CG
// iterations in the run before, 1044 after). Iteration counts, not times,
// so that a run is reproducible. A
// probe is cut off once it has cost half what the best one's solve did, and
// the solve is done again from its start with that one (probeCap), so
// exploring costs at most half a solve per probe; the cut one's count is a
// lower bound, and it is not taken as the best (cut) until a later probe of
// it finishes. On preset p2d1 at 400² the probes of the harmonic and the
// Kronecker-sum preconditioners took 1253 and 630 iterations where the tail
// solve took 140; cut after the tail solve's whole cost and finished from
// the probe's iterate they were 35 % of the run's iterations (1580 of 3440):
// the finish took 490 iterations where a fresh solve took 140, and a cut
// probe recorded just above the best was taken as the best once the tail
// solve had one dear solve (617 iterations with the harmonic one alone,
// then 704 with the Kronecker sum).
func (k *kronCG) pick() int {
	last := k.last
	best := k.cheapest(last, func(i int) bool { return !k.cut[i] })
	if best >= 0 && k.picks > 0 && k.picks%pickEvery == 0 && k.costOf(last, best) > pickProbe {
		// Forget the runner-up (by its cost or, when cut, its bound), so
		// that it is tried again — unless its last probes were cut and its
		// wait is not over (retryAt).
		if second := k.cheapest(last, func(i int) bool { return i != best }); second >= 0 && k.picks >= k.retryAt[second] {
			last[second] = -1
		}
	}
	if k.picks == 1 && best >= 0 && last[best] < kronMaxIter {
		// The run's first solve starts from the initial grid values, the
		// next ones from the last evaluation's: a probe capped by the first
		// count would run several times longer than one capped by the next
		// (preset p2d1 at 400²: 142 iterations with the tail solve, then
		// 42–60), so the probes wait for that count.
		return best
	}
	if best < 0 || k.costOf(last, best) > pickProbe {
		for _, i := range k.order() {
			if last[i] < 0 {
				return i
			}
		}
	}
	return best
}

// costOf is the cost of the last solve with preconditioner i, in
// Hessian-product units (pcCost), −1 when it has not run.
func (k *kronCG) costOf(last [3]int, i int) int {
	if last[i] < 0 {
		return -1
	}
	return last[i] * k.cost()[i]
}

// cheapest returns the preconditioner of least known cost among those ok
// admits, −1 when none has run.
func (k *kronCG) cheapest(last [3]int, ok func(int) bool) int {
	best := -1
	for i := range last {
		if c := k.costOf(last, i); ok(i) && c >= 0 && (best < 0 || c < k.costOf(last, best)) {
			best = i
		}
	}
	return best
}

// probeCap returns the most iterations a solve with the current
// preconditioner may take before it costs half what a solve with the best
// other one did (probeShare), and that one (−1 when the current one is the
// best known, or none other has finished a solve). A solve that reaches it is
// done again with the other from its start (solve).
//
// When no other has finished a solve under the cap but one ran to it, a probe
// may cost what that solve did, and its result stands whether it finishes or
// not (stand; countStood): it is then no worse a solve, at no greater cost.
// Uncapped, the harmonic preconditioner's probe ran the 2000 iterations at
// 5 ms each on preset adv's first solves (β free), after the Kronecker sum's
// 2000 at 2.2 ms; where it helps it finishes far under the bound
// (u = sin 2(x − 3t), β = 3, at 48²: 99 iterations against the Kronecker
// sum's 2000). Linear PDEs only: Allen–Cahn's Gauss–Newton steps keep the
// probe's usual cut, so that no step is left where a probe stood.
func (k *kronCG) probeCap() (limit, other int, stand bool) {
	if k.using == pcDense {
		return kronMaxIter, -1, false
	}
	mine := k.costOf(k.last, k.using)
	if k.cut[k.using] {
		mine = -1 // a bound, not a cost: probed again
	}
	// One that is not available or did not converge is no fallback: a cut
	// probe would otherwise be done again with the one it was cut for, and
	// when that one cannot be built for these kernels (a tail block over
	// tailBlockMax), again with itself.
	best := k.cheapest(k.last, func(i int) bool {
		return i != k.using && !k.cut[i] && !k.missing[i] && k.last[i] < kronMaxIter
	})
	if best < 0 && mine < 0 && k.m != nil && k.m.pde.Linear() {
		capped := k.cheapest(k.last, func(i int) bool { return i != k.using && k.ran[i] && !k.cut[i] && !k.missing[i] })
		if capped >= 0 {
			if l := max(k.costOf(k.last, capped)/k.cost()[k.using], 1); l < kronMaxIter {
				return l, -1, true
			}
		}
	}
	if best < 0 || mine >= 0 && mine <= k.costOf(k.last, best) {
		return kronMaxIter, -1, false
	}
	return min(max(k.costOf(k.last, best)/(probeShare*k.cost()[k.using]), 1), kronMaxIter), best, false
}

// Parameters of kronCG.pick.
const (
	pickProbe  = 80 // 40 one-level iterations
	pickEvery  = 10
	probeShare = 2 // a probe may cost 1/probeShare of the best one's solve
)

// apply sets out = H v, the (Gauss–Newton) Hessian of Φ in Z; for Allen–Cahn
// J = 𝓐 + diag(d)(T1⊗T2) with d = 3U² − 1 of the current U (k.d).
func (k *kronCG) apply(m *model, v, out *mat.Dense, lt [2]float64) {
	tau1, tau2 := math.Exp(lt[0]), math.Exp(lt[1])
	lb := m.lambdaB * tau1
	if k.lam != nil && k.d == nil && k.using == pcTail {
		// JᵀJ v = Λ∘(G1 (Λ∘v) G2), two products instead of four: one CG
		// iteration at p2d1's initial kernel at 400², 22.2–24.2 ms against
		// 27.3–32.1 ms. It is kept to the two-level preconditioner, whose
		// solves stop by the energy test. With the harmonic one alone, nearly
		// exact on preset p2d2, its rounding took the solves from 2 to 16
		// iterations: G_j squares T_j's range (its jitter directions at 1e-6
		// of its largest), and the solves ran on to the residual test's 1e-10
		// where the two forms differ.
		k.s.MulElem(k.lam, v)
		k.t.Mul(k.g1, k.s)
		out.Mul(k.t, k.g2)
		mulScaleAdd(out, k.lam, tau2, v)
	} else {
		k.jtj(v, out)
		mulScaleAdd(out, nil, tau2, v)
	}
	k.addBoundary(v, out, lb)
}

// jtj sets out = JᵀJ v by four n×n×n products through the factors T_j and
// P_j for Poisson (eight for Allen–Cahn); for advection by two through the
// Gram matrices (advJacobian), eight through the factors without it. One
// product at preset adv's initial kernel at 200²: 0.64 ms against 2.1 ms
// through the factors; a solve there took 1208 CG iterations against 1101
// (Gram matrices' rounding), 2.6 s against 4.1 s.
func (k *kronCG) jtj(v, out *mat.Dense) {
	if k.adv != nil && k.d == nil {
		k.adv.jtj(v, out, k.g1, k.g2, k.s, k.t)
		return
	}
	e := k.e
	// X = J v.
	if k.lam != nil {
		k.s.MulElem(k.lam, v)
		k.t.Mul(e.t1, k.s)
		k.s.Mul(k.t, k.tr.t2)
	} else {
		k.t.Mul(e.p1, v)
		k.s.Mul(k.t, k.tr.t2)
		k.t.Mul(e.t1, v)
		out.Mul(k.t, k.tr.p2)
		k.s.Add(k.s, out)
	}
	if k.d != nil {
		k.t.Mul(e.t1, v)
		k.q2.Mul(k.t, k.tr.t2)
		k.q2.MulElem(k.q2, k.d)
		k.s.Add(k.s, k.q2)
	}
	// out = Jᵀ X.
	if k.d != nil {
		k.q2.MulElem(k.s, k.d)
		k.t.Mul(k.tr.t1, k.q2)
		k.q2.Mul(k.t, e.t2)
	}
	if k.lam != nil {
		k.t.Mul(k.tr.t1, k.s)
		out.Mul(k.t, e.t2)
		out.MulElem(out, k.lam)
	} else {
		k.t.Mul(k.tr.p1, k.s)
		out.Mul(k.t, e.t2)
		k.t.Mul(k.tr.t1, k.s)
		k.s.Mul(k.t, e.p2)
		out.Add(out, k.s)
	}
	if k.d != nil {
		out.Add(out, k.q2)
	}
}

// applyCorner is apply for the tail solve's balancing form, where one side
// of the product lives on the tail corner C = [s1, n1) × [s2, n2) (s the
// tail's first modes): with in set, v is zero outside C and out = H v in
// full; with in unset, only out's entries on C are H v (the rest is left
// undefined: T̃ reads C alone). For Poisson, where JᵀJ v = Λ∘(G1 (Λ∘v) G2),
// either takes the two products with the corner's rows or columns of G1 and
// G2 only, about (f1 + f2)/(n1 + n2) of the flops for tails of f_j modes
// (a fifth on preset p2d1); otherwise it is apply.
func (k *kronCG) applyCorner(m *model, v, out *mat.Dense, lt [2]float64, in bool) {
	if k.lam == nil || k.d != nil {
		k.apply(m, v, out, lt)
		return
	}
	e := k.e
	n1, n2 := e.n1, e.n2
	s1, s2 := k.tail.s[0], k.tail.s[1]
	f1, f2 := n1-s1, n2-s2
	if k.cw1 == nil || k.cs != [2]int{s1, s2} {
		k.cs = [2]int{s1, s2}
		k.cw1, k.cw2 = make([]float64, max(n1*f2, f1*n2)), make([]float64, f1*f2)
	}
	tau2 := math.Exp(lt[1])
	// Views on the raw storage (blas64 values), so that nothing allocates.
	sub := func(x *mat.Dense, r0, r1, c0, c1 int) blas64.General {
		g := x.RawMatrix()
		return blas64.General{Rows: r1 - r0, Cols: c1 - c0, Stride: g.Stride, Data: g.Data[r0*g.Stride+c0:]}
	}
	lam, vr, or := k.lam.RawMatrix(), v.RawMatrix(), out.RawMatrix()
	if in {
		// out = Λ∘(G1[:, C1] (Λ∘v)_C G2[C2, :]).
		vc := blas64.General{Rows: f1, Cols: f2, Stride: f2, Data: k.cw2}
		for a := range f1 {
			for b := range f2 {
				i := (s1+a)*lam.Stride + s2 + b
				vc.Data[a*f2+b] = lam.Data[i] * vr.Data[(s1+a)*vr.Stride+s2+b]
			}
		}
		t := blas64.General{Rows: n1, Cols: f2, Stride: f2, Data: k.cw1}
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, sub(k.g1, 0, n1, s1, n1), vc, 0, t)
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, t, sub(k.g2, s2, n2, 0, n2), 0, or)
		mulScaleAdd(out, k.lam, tau2, v)
	} else {
		// out_C = Λ_C∘(G1[C1, :] (Λ∘v) G2[:, C2]).
		k.s.MulElem(k.lam, v)
		t := blas64.General{Rows: f1, Cols: n2, Stride: n2, Data: k.cw1}
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, sub(k.g1, s1, n1, 0, n1), k.s.RawMatrix(), 0, t)
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, t, sub(k.g2, 0, n2, s2, n2), 0, sub(out, s1, n1, s2, n2))
		for a := s1; a < n1; a++ {
			for b := s2; b < n2; b++ {
				or.Data[a*or.Stride+b] = tau2*lam.Data[a*lam.Stride+b]*or.Data[a*or.Stride+b] + vr.Data[a*vr.Stride+b]
			}
		}
	}
	vc, oc := k.cs, [2]int{}
	if !in {
		vc, oc = oc, vc
	}
	k.addBoundaryOn(v, out, m.lambdaB*math.Exp(lt[0]), vc, oc)
}

// gram returns TᵀT (symmetrised), in dst when it has the size.
func gram(dst, t *mat.Dense) *mat.Dense {
	_, n := t.Dims()
	if dst == nil || dst.RawMatrix().Rows != n {
		dst = mat.NewDense(n, n, nil)
	}
	dst.Mul(t.T(), t)
	g := dst.RawMatrix()
	for i := range n {
		for j := range i {
			v := 0.5 * (g.Data[i*g.Stride+j] + g.Data[j*g.Stride+i])
			g.Data[i*g.Stride+j], g.Data[j*g.Stride+i] = v, v
		}
	}
	return dst
}

// gramEigen returns the Gram matrix tᵀt of t's columns with its eigenvalues,
// ascending, and eigenvectors; ok is false when the eigensolver fails.
func gramEigen(t mat.Matrix) (g *mat.SymDense, vals []float64, vecs *mat.Dense, ok bool) {
	_, n := t.Dims()
	g = mat.NewSymDense(n, nil)
	g.SymOuterK(1, t.T())
	var es mat.EigenSym
	if !es.Factorize(g, true) {
		return nil, nil, nil, false
	}
	vecs = mat.NewDense(n, n, nil)
	es.VectorsTo(vecs)
	return g, es.Values(nil), vecs, true
}

// precond sets out = M⁻¹ r: the harmonic preconditioner with its tail solve,
// the harmonic one alone, or the Kronecker-sum one (k.using).
func (k *kronCG) precond(r, out *mat.Dense) {
	if k.using == pcDense {
		k.dense.solve(r, nil, out, nil)
		return
	}
	if k.tail != nil {
		// out = T̃r + (I − T̃H) w, w = M_h⁻¹ (r − H T̃r). T̃r lives on the
		// tail corner, and T̃ reads only the corner of H w (applyCorner).
		out.Zero()
		k.tail.add(r, out, 1)
		k.applyCorner(k.m, out, k.thz, k.lt, true)
		k.thz.Sub(r, k.thz)
		k.h.apply(k.thz, k.tw)
		out.Add(out, k.tw)
		k.applyCorner(k.m, k.tw, k.thz, k.lt, false)
		k.tail.add(k.thz, out, -1)
		return
	}
	if k.h != nil {
		k.h.apply(r, out)
		return
	}
	k.t.Mul(k.tr.x1, r)
	out.Mul(k.t, k.x2)
	or := out.RawMatrix()
	for a, t1 := range k.th1 {
		row := or.Data[a*or.Stride : a*or.Stride+len(k.th2)]
		for b := range row {
			row[b] /= t1 + k.th2[b] + k.pi1[a]*k.pi2[b]
		}
	}
	k.t.Mul(k.x1, out)
	out.Mul(k.t, k.tr.x2)
}

// augment prepares the trend blocks of the Newton system for the current grid
// values (exactU.cross) and the preconditioner of the augmented system
//
//	A = [H C; Cᵀ H_ββ]:  P = Y Yᵀ + (I − Y (AY)ᵀ) P₀ (I − (AY) Yᵀ),
//
// the balancing form with P₀ = diag(M⁻¹, H_ββ⁻¹) and an A-orthonormal coarse
// space Y (YᵀAY = I). It is symmetric positive definite for any M. Y spans
// the p columns [−M⁻¹C_k; e_k], one per trend coefficient, and
// trendKrylov − 1 more blocks of the block Krylov space of P₀A on them. With
// the first block alone Y is exact where M is (with M = H the grid vectors
// [z; 0] are A-orthogonal to it, A is H on them, and P = A⁻¹); the further
// blocks take the part of H⁻¹C that M⁻¹C misses, a polynomial in P₀A as in
// CG, where M underestimates H along M⁻¹C.
//
// It replaces the block inverse of [M C; Cᵀ H_ββ], whose Schur complement
// H_ββ − CᵀM⁻¹C is indefinite there and was used in modulus. One
// Gauss–Newton solve of Allen–Cahn linearised at preset ac2d's solution
// scaled to 80² (TestTrendCoarseSpace): 382 CG iterations without the trend;
// with it 1110 by the block inverse, and 793, 589, 471, 408 and 390 with 1,
// 2, 3, 4 and 6 blocks. Preset ac2d at 120², 10 L-BFGS iterations (three
// trend and nugget variants, the same result): 250 s by the block inverse,
// 197, 141, 128 and 143 s with 1, 3, 4 and 6 blocks. An application costs
// one of M⁻¹ and 4·dim Y grid dot products and updates, the set-up dim Y of
// M⁻¹ and of A, once per evaluation for a linear PDE, whose solves are a few
// dozen iterations: there one block (preset p2d1, 12 iterations: 106 CG
// iterations per solve and 70.6 s by the block inverse, 84 and 62.1 s with
// one block, 65 and 77.8 s with four). Columns A-dependent on the others in
// rounding are dropped.
func (k *kronCG) augment(m *model, lt [2]float64) error {
	e := k.e
	p := len(e.beta)
	if p == 0 {
		return nil
	}
	e.cross(m, lt)
	if k.rb == nil {
		k.xb, k.rb, k.zb, k.pb, k.qb = make([]float64, p), make([]float64, p), make([]float64, p), make([]float64, p), make([]float64, p)
		k.tb, k.sb = mat.NewVecDense(p, nil), mat.NewVecDense(p, nil)
		k.cw, k.cf, k.rba = make([]float64, p*trendKrylov), make([]float64, p*trendKrylov), make([]float64, p)
		k.ra = mat.NewDense(e.n1, e.n2, nil)
	}
	if k.using == pcDense {
		return nil // the factor holds the trend blocks (precondAug)
	}
	if !k.hbb.Factorize(e.hbb) {
		// P₀ needs only some positive definite β block: H_ββ's diagonal.
		dg := mat.NewSymDense(p, nil)
		for a := range p {
			dg.SetSym(a, a, math.Max(e.hbb.At(a, a), math.SmallestNonzeroFloat64))
		}
		if !k.hbb.Factorize(dg) {
			// Only a diagonal that is not finite fails: the solve ends with
			// an error (the line search shortens its step), not a panic in
			// hbbSolve.
			return errTrendBlock
		}
	}
	k.ny = 0
	block := 0 // first column of the last block
	blocks := trendKrylov
	if m.pde.Linear() {
		blocks = 1
	}
	for level := range blocks {
		end := k.ny
		for c := range p {
			if level > 0 && block+c >= end {
				break
			}
			y := k.coarseColumn(k.ny)
			if level == 0 {
				k.precond(e.cols[c], y.z)
				y.z.Scale(-1, y.z)
				clear(y.b)
				y.b[c] = 1
			} else {
				// P₀ (AY) of the last block's column.
				prev := k.yc[block+c]
				k.precond(prev.az, y.z)
				k.hbbSolve(y.b, prev.ab)
			}
			k.applyAug(m, y.z, y.b, y.az, y.ab, lt)
			if k.orthonormalise(k.ny) {
				k.ny++
			}
		}
		block = end
		if k.ny == end {
			break
		}
	}
	return nil
}

// errTrendBlock ends a solve whose trend block H_ββ is not finite.
var errTrendBlock = errors.New("the trend's block of the Newton matrix is not finite")

// trendKrylov is the number of blocks of the trend's coarse space for
// Allen–Cahn (augment); linear PDEs take one.
const trendKrylov = 4

// coarseVec is one column y of the trend's coarse space, grid part z and β
// part b, with A y (az, ab).
type coarseVec struct {
	z, az *mat.Dense
	b, ab []float64
}

// coarseColumn returns the storage of column i, allocated on first use.
func (k *kronCG) coarseColumn(i int) *coarseVec {
	for len(k.yc) <= i {
		e := k.e
		p := len(e.beta)
		y := &coarseVec{z: mat.NewDense(e.n1, e.n2, nil), az: mat.NewDense(e.n1, e.n2, nil),
			b: make([]float64, p), ab: make([]float64, p)}
		k.yc, k.yz, k.yaz = append(k.yc, y), append(k.yz, y.z), append(k.yaz, y.az)
	}
	return k.yc[i]
}

// orthonormalise makes column i A-orthonormal to columns 0..i−1 (modified
// Gram–Schmidt, twice) and reports false when it is A-dependent on them in
// rounding (its A-norm falls below 1e-8 of what it was).
func (k *kronCG) orthonormalise(i int) bool {
	y := k.yc[i]
	anorm := func() float64 { return frob(y.z, y.az) + dot(y.b, y.ab) }
	n0 := anorm()
	if !(n0 > 0) {
		return false
	}
	for range 2 {
		for _, q := range k.yc[:i] {
			c := frob(q.z, y.az) + dot(q.b, y.ab)
			addScaled(y.z, -c, q.z)
			addScaled(y.az, -c, q.az)
			for a := range y.b {
				y.b[a] -= c * q.b[a]
				y.ab[a] -= c * q.ab[a]
			}
		}
	}
	n := anorm()
	if !(n > 1e-16*n0) {
		return false
	}
	f := 1 / math.Sqrt(n)
	y.z.Scale(f, y.z)
	y.az.Scale(f, y.az)
	for a := range y.b {
		y.b[a] *= f
		y.ab[a] *= f
	}
	return true
}

// applyAug sets (out, outb) = [H C; Cᵀ H_ββ] (v, vb).
func (k *kronCG) applyAug(m *model, v *mat.Dense, vb []float64, out *mat.Dense, outb []float64, lt [2]float64) {
	k.apply(m, v, out, lt)
	if len(vb) == 0 {
		return // β held fixed (runProfile), after solves with it free
	}
	e := k.e
	for c, b := range vb {
		addScaled(out, b, e.cols[c])
	}
	frobEach(outb, e.cols, v)
	for a := range outb {
		for c, b := range vb {
			outb[a] += e.hbb.At(a, c) * b
		}
	}
}

// precondAug applies the augmented preconditioner of augment to (r, rb).
func (k *kronCG) precondAug(r *mat.Dense, rb []float64, out *mat.Dense, outb []float64) {
	if k.using == pcDense {
		k.dense.solve(r, rb, out, outb)
		return
	}
	if len(rb) == 0 {
		k.precond(r, out)
		return
	}
	ys, yz, yaz := k.yc[:k.ny], k.yz[:k.ny], k.yaz[:k.ny]
	c, f := k.cw[:len(ys)], k.cf[:len(ys)]
	// c = Yᵀ(r, rb); w = P₀ ((r, rb) − AY c).
	frobEach(c, yz, r)
	for a, y := range ys {
		c[a] += dot(y.b, rb)
		f[a] = -c[a]
	}
	ra, rba := k.ra, k.rba[:len(rb)]
	ra.Copy(r)
	addCombination(ra, f, yaz)
	copy(rba, rb)
	for a, y := range ys {
		floats.AddScaled(rba, f[a], y.ab)
	}
	k.precond(ra, out)
	k.hbbSolve(outb, rba)
	// out = w + Y (c − (AY)ᵀ w).
	frobEach(f, yaz, out)
	for a, y := range ys {
		c[a] -= f[a] + dot(y.ab, outb)
	}
	addCombination(out, c, yz)
	for a, y := range ys {
		floats.AddScaled(outb, c[a], y.b)
	}
}

// addCombination adds Σ_a c[a] xs[a] to dst row by row, so that each xs[a]
// is read once and the row of dst stays in cache (with one pass per term,
// dst is read and written len(xs) times: at 400², with the 24 columns of
// the trend's coarse space, that traffic is most of its cost).
func addCombination(dst *mat.Dense, c []float64, xs []*mat.Dense) {
	d := dst.RawMatrix()
	for i := range d.Rows {
		row := d.Data[i*d.Stride : i*d.Stride+d.Cols]
		for a, x := range xs {
			xr := x.RawMatrix()
			floats.AddScaled(row, c[a], xr.Data[i*xr.Stride:i*xr.Stride+xr.Cols])
		}
	}
}

// hbbSolve sets x = H_ββ⁻¹ b with the factor of augment (ill-conditioning
// is no error here: a preconditioner).
func (k *kronCG) hbbSolve(x, b []float64) {
	for a, v := range b {
		k.tb.SetVec(a, v)
	}
	if err := k.hbb.SolveVecTo(k.sb, k.tb); err != nil {
		var c mat.Condition
		if !errors.As(err, &c) {
			panic(err)
		}
	}
	for a := range x {
		x[a] = k.sb.AtVec(a)
	}
}

// cg solves the (trend-augmented) Newton system for (x, xb) by
// preconditioned conjugate gradients from the given start, until the
// preconditioned norm of the residual is below tol·ref or after maxIter
// iterations — or, with the two-level preconditioner, once the energy
// test below holds. It returns the number of iterations.
//
// The energy test. Iteration j lowers the error's energy ‖x* − x‖²_H by
// exactly α_j⟨r_j, z_j⟩ (Hestenes and Stiefel), so the sum of the last
// energyWindow decreases is a lower estimate of the energy the iterate of
// energyWindow iterations ago still had (Strakoš and Tichý's error estimate,
// which holds in finite precision too); cg stops once it is at most
// (tol·ref)², the square of the residual test's bound, since ⟨r, z⟩ stands
// in for the energy ⟨r, H⁻¹r⟩ there. With the tail solve the residual test
// waits on ⟨r, z⟩, which is not monotone: on preset p2d1 at 400² one solve
// had √⟨r, z⟩ at 1.1e-10 of ref after 70 iterations, 3.9e-8 after 120 and
// 3.3e-10 after 220, while the recursive residual agreed with b − Hx to
// 1e-7 (not drift: the energy falls all along). The energy test took
// p2d1's solves from 124 to 97 CG iterations each (84–88 s → 64–69 s over
// runs on one machine), the same L-BFGS path and error. With the one-level
// preconditioners it saved 6 % of the iterations on a held-out 200² problem
// (982 → 925 per solve), and the runs' L-BFGS paths moved; there the
// residual test alone decides.
//
// phi0, when not NaN, is Φ at the step's start (x = 0) of a linear PDE,
// whose Φ is the quadratic CG minimises: each iteration then lowers Φ by
// exactly α⟨r, z⟩/2, and what is left to gain is ½‖e‖²_H ≤ ⟨r, z⟩/(2μ),
// μ the least eigenvalue of M⁻¹H. cg stops with errAboveBound, leaving the
// lower estimate Φ − boundSafety⟨r, z⟩ in k.low, once that estimate
// exceeds k.bound — with the tail solve only (boundSafety). phiAt, when not
// nil, returns Φ computed afresh at the iterate (x, xb); the running Φ is
// taken from it once per solve before a cut.
func (k *kronCG) cg(m *model, b *mat.Dense, bb []float64, x *mat.Dense, xb []float64, lt [2]float64, tol, ref float64, maxIter int, phi0 float64, phiAt func(x *mat.Dense, xb []float64) float64) (int, error) {
	k.applyAug(m, x, xb, k.q, k.qb, lt)
	k.r.Sub(b, k.q)
	for a := range bb {
		k.rb[a] = bb[a] - k.qb[a]
	}
	k.precondAug(k.r, k.rb[:len(bb)], k.z, k.zb[:len(bb)])
	k.p.Copy(k.z)
	copy(k.pb, k.zb)
	rz := frob(k.r, k.z) + dot(k.rb[:len(bb)], k.zb[:len(bb)])
	phi := phi0
	// The energy test and the cut are made with the two-level preconditioner
	// only (see above and boundSafety).
	twoLevel := k.using == pcTail
	energy := twoLevel && energyTest
	var dec [energyWindow]float64 // the last energy decreases, α⟨r, z⟩
	checked := false
	for it := 0; it < maxIter; it++ {
		if math.Sqrt(math.Abs(rz)) <= tol*ref {
			return it, nil
		}
		if k.ctx != nil && it%ctxPoll == ctxPoll-1 {
			if err := k.ctx.Err(); err != nil {
				return it, err
			}
		}
		pb, qb := k.pb[:len(bb)], k.qb[:len(bb)]
		k.applyAug(m, k.p, pb, k.q, qb, lt)
		pq := frob(k.p, k.q) + dot(pb, qb)
		if !(pq > 0) {
			return it, errors.New("conjugate gradients: Hessian not positive definite")
		}
		alpha := rz / pq
		phi -= alpha * rz / 2
		addScaled(x, alpha, k.p)
		addScaled(k.r, -alpha, k.q)
		for a := range bb {
			xb[a] += alpha * pb[a]
			k.rb[a] -= alpha * qb[a]
		}
		if energy {
			dec[it%energyWindow] = alpha * rz
			if it+1 >= energyWindow && floats.Sum(dec[:]) <= tol*tol*ref*ref {
				return it + 1, nil
			}
		}
		k.precondAug(k.r, k.rb[:len(bb)], k.z, k.zb[:len(bb)])
		rz2 := frob(k.r, k.z) + dot(k.rb[:len(bb)], k.zb[:len(bb)])
		if low := phi - boundSafety*rz2; twoLevel && low > k.bound {
			if phiAt != nil && !checked {
				// phi is Φ at the start less the decreases of the product's
				// quadratic, which the Gram form's rounding moves: on the
				// tail test grid Φ falls from 1.7e16 to 3.6e8, and the
				// running value ended 365 above the Φ the solution has.
				// Once per solve, phi is taken afresh at the iterate.
				checked = true
				phi = phiAt(x, xb)
				low = phi - boundSafety*rz2
			}
			if low > k.bound {
				k.low = low
				return it + 1, errAboveBound
			}
		}
		scaleAdd(k.p, rz2/rz, k.z)
		for a := range bb {
			pb[a] = rz2/rz*pb[a] + k.zb[a]
		}
		rz = rz2
	}
	return maxIter, nil
}

// solve minimises Φ from (Z, β) by (Gauss–)Newton steps whose linear systems
// are solved by cg to the relative tolerance cgTol, measured against the
// gradient of Φ at Z = 0, β = 0 (the scale of the data). It returns Φ at the
// result; Iters counts the CG iterations and Solves the linear solves.
func (k *kronCG) solve(m *model, Z *mat.Dense, lt [2]float64, maxSteps int) (float64, error) {
	e := k.e
	e.initTrend(m)
	p := len(e.beta)
	if e.fixed {
		p = 0
	}
	zero := mat.NewDense(e.n1, e.n2, nil)
	g := mat.NewDense(e.n1, e.n2, nil)
	k.d = nil
	saved := append([]float64(nil), e.beta...)
	clear(e.beta)
	e.value(m, zero, lt, g)
	copy(e.beta, saved)
	// ref is the preconditioned norm of the gradient at zero; g0 keeps that
	// gradient for a change of preconditioner within the solve.
	g0 := mat.DenseCopyOf(g)
	best := e.value(m, Z, lt, g)
	if k.using == pcDense && !k.dense.ready(k, p) {
		// Formed at the start's operator, which the first step solves.
		k.linearise(m)
		if p > 0 {
			if err := k.augment(m, lt); err != nil {
				return 0, err
			}
			k.augmented = true
		}
		k.buildDense(p)
	}
	// refNorm returns ref, the preconditioned norm of g0, under the current
	// preconditioner: taken again when a step changes it.
	refNorm := func() float64 {
		k.precond(g0, k.z)
		return math.Sqrt(math.Abs(frob(g0, k.z)))
	}
	ref := refNorm()
	// phi0 lets cg stop a solve whose Φ will end above bound (linear PDEs
	// only: a Gauss–Newton step's quadratic is not Φ).
	phi0 := math.NaN()
	var phiAt func(x *mat.Dense, xb []float64) float64
	if m.pde.Linear() {
		phi0 = best
		// Φ afresh at Z + x (trend β + xb), for cg's check before a cut.
		phiAt = func(x *mat.Dense, xb []float64) float64 {
			if k.phiZ == nil {
				k.phiZ, k.phiG = mat.NewDense(e.n1, e.n2, nil), mat.NewDense(e.n1, e.n2, nil)
			}
			k.phiZ.Add(Z, x)
			saved := append([]float64(nil), e.beta...)
			for a := range xb {
				e.beta[a] += xb[a]
			}
			v := e.value(m, k.phiZ, lt, k.phiG)
			copy(e.beta, saved)
			return v
		}
	}
	dz := mat.NewDense(e.n1, e.n2, nil)
	db := make([]float64, p)
	gb := make([]float64, p)
	prev := mat.DenseCopyOf(Z)
	prevB := make([]float64, p)
	for range maxSteps {
		k.linearise(m)
		if k.tail != nil && k.d != nil && !k.tail.factor(k.d) && !k.tail.factor(nil) {
			// Neither with the Allen–Cahn term nor without it positive
			// definite in rounding: the harmonic preconditioner alone.
			k.tail, k.using = nil, pcHarmonic
		}
		if p > 0 && (!m.pde.Linear() || !k.augmented) {
			if err := k.augment(m, lt); err != nil {
				return 0, err
			}
			k.augmented = true
		}
		g.Scale(-1, g)
		for a := range gb {
			gb[a] = -e.gb[a]
		}
		if k.using == pcDense && (k.dense.stale || k.dense.withD != (k.d != nil)) {
			k.buildDense(p)
		}
		dz.Zero()
		clear(db)
		limit, other, stand := k.probeCap()
		it, err := k.cg(m, g, gb, dz, db, lt, kronTol, ref, limit, phi0, phiAt)
		stood := err == nil && stand && it == limit
		switch {
		case errors.Is(err, errAboveBound):
			k.Iters += it // a cut solve is no solve: count leaves last as it was
		case stood:
			k.countStood(it)
		default:
			k.count(it)
		}
		if err == nil && k.using != pcDense && !stood && (other < 0 || it < limit) {
			k.cuts[k.using] = 0
		}
		if err == nil && other >= 0 && it == limit {
			// The probe has cost half what a solve with the other did: mark
			// its count a bound (cut), and solve again with the other from
			// the step's start. (From the probe's iterate the
			// finish took 490 iterations against 140 from the start on
			// preset p2d1 at 400²: the probe leaves its error where the
			// other's preconditioner is weak.)
			k.cut[k.using] = true
			k.cuts[k.using]++
			k.retryAt[k.using] = k.picks + pickEvery<<k.cuts[k.using]
			dz.Zero()
			clear(db)
			k.build(other)
			if p > 0 {
				if err := k.augment(m, lt); err != nil {
					return 0, err
				}
			}
			ref = refNorm()
			var more int
			more, err = k.cg(m, g, gb, dz, db, lt, kronTol, ref, kronMaxIter, phi0, phiAt)
			k.Iters += more // the other's last count stays that of a whole solve
		}
		if errors.Is(err, errAboveBound) {
			k.CutSolves++
			return k.low, err
		}
		if err != nil {
			return 0, err
		}
		if it >= kronMaxIter && other < 0 && !m.pde.Linear() && k.untried() {
			// The next Gauss–Newton step with another preconditioner.
			ref = refNorm()
		}
		prev.Copy(Z)
		copy(prevB, e.beta)
		Z.Add(Z, dz)
		for a := range db {
			e.beta[a] += db[a]
		}
		val := e.value(m, Z, lt, g)
		if !(val < best) {
			Z.Copy(prev)
			copy(e.beta, prevB)
			best = e.value(m, Z, lt, g)
			break
		}
		gain := best - val
		best = val
		if m.pde.Linear() || gain <= 1e-10*math.Abs(val) {
			break
		}
	}
	return best, nil
}

// untried builds, for the next Gauss–Newton step of a solve that ran to the
// cap, the first preconditioner in pick's order that has not run yet, and
// reports whether there was one other than the current. Without it the
// steps stayed with the one of the evaluation's start: on preset ac2d at
// 200² (polynomial trend) the first evaluation's last seven steps ran to the
// cap with the harmonic preconditioner, 14 000 iterations and 100 s, where
// the Kronecker sum's solves of the next evaluations took 1000–1700.
func (k *kronCG) untried() bool {
	if k.using == pcDense {
		return false
	}
	from := k.using
	for _, i := range k.order() {
		if k.last[i] >= 0 || k.missing[i] {
			continue
		}
		got := k.build(i)
		if got != i {
			k.last[i] = kronMaxIter // not available for these kernels (pickAndBuild)
		}
		if got != from {
			return true
		}
	}
	return false
}

// linearise sets k.d = 3U² − 1 at the grid values of e.u (with the trend)
// for Allen–Cahn, the coefficient of the Gauss–Newton step's Jacobian; it
// leaves k.d nil for linear PDEs.
func (k *kronCG) linearise(m *model) {
	if m.pde.Linear() {
		return
	}
	e := k.e
	if k.dBuf == nil {
		k.dBuf = mat.NewDense(e.n1, e.n2, nil)
	}
	k.d = k.dBuf
	for i := range e.n1 {
		for j := range e.n2 {
			u := m.total(e.u, i, j)
			k.d.Set(i, j, m.reactSlope(u))
		}
	}
}

// count records a linear solve of it iterations with the current
// preconditioner.
func (k *kronCG) count(it int) {
	k.Iters += it
	k.Solves++
	if it >= kronMaxIter {
		k.capped++
	} else {
		k.capped = 0
	}
	if k.using == pcDense {
		k.DenseSolves++
		k.dense.stale = k.dense.stale || it > denseRefresh
		return
	}
	k.evalCost += float64(it) * k.iterCost()
	k.last[k.using], k.cut[k.using], k.ran[k.using] = it, false, true
	if k.using != pcKronSum {
		k.HarmonicSolves++
	}
	if k.using == pcTail {
		k.TailSolves++
	}
}

// countStood records a probe that reached probeCap's bound where its result
// stands: a solve at the cap for the trend's rule (capped), and a cut probe,
// whose count is a lower bound, for pick.
func (k *kronCG) countStood(it int) {
	capped := k.capped
	k.count(it)
	k.capped = capped + 1
	k.cut[k.using] = true
	k.cuts[k.using]++
	k.retryAt[k.using] = k.picks + pickEvery<<k.cuts[k.using]
}

// energyTest lets cg stop by its energy test; only tests turn it off, to
// compare with the residual test alone.
var energyTest = true

// Tolerance and iteration cap of each conjugate-gradient solve, and the
// window of cg's energy test (5 took p2d1 to 90 iterations per solve and
// 61 s, 10 to 97 and 65 s: the larger window for a closer estimate).
const (
	kronTol      = 1e-10
	kronMaxIter  = 2000
	energyWindow = 10
)

// errAboveBound ends a solve whose Φ is estimated to end above kronCG.bound.
var errAboveBound = errors.New("objective above the line search's bound")

// boundSafety stands for 1/(2μ) in cg's lower estimate of Φ, μ the least
// eigenvalue of the preconditioned Hessian M⁻¹H over the error: the
// estimate is a bound for μ ≥ 1/2000. It is not proven, and it is used with
// the two-level preconditioner (harmonic + tail solve) only. Along a run of
// preset p2d1 (400², 17 solves), the least value that would have cut no
// solve the line search took was 0.18 with the harmonic preconditioners and
// 199 with the Kronecker sum (a probe); the two trials the search rejected
// (tail solves) were cut after 95 and 36 iterations instead of 245 and 199
// (after 28 and 23 with 30, which also cut the probe). With the one-level
// preconditioners it is not safe: on the README's example (32², no tail
// solve) a cut at 1000 rejected a trial whose value, −196 467, was below the
// bound, −193 558. An estimate that is not a bound can only reject a step
// the search would have taken; the search then tries a shorter one, and its
// last trial is always solved in full (lbfgs.step).
const boundSafety = 1000

// addBoundary adds c Tᵀ Bᵀ B T v to out, where B picks the boundary rows and
// columns of U = T1 v T2ᵀ (corners twice): c Pᵀ P v (boundaryOp), in
// O(n1 n2 + n1² + n2²).
func (k *kronCG) addBoundary(v, out *mat.Dense, c float64) {
	k.addBoundaryOn(v, out, c, [2]int{}, [2]int{})
}

// addBoundaryOn is addBoundary for v zero outside its corner from vc (row,
// column) and out wanted on its corner from oc only (applyCorner): each side
// then reads and writes those corners alone.
func (k *kronCG) addBoundaryOn(v, out *mat.Dense, c float64, vc, oc [2]int) {
	k.bnd.apply(k.e.t1, k.e.t2, v, k.bs, vc[0], vc[1])
	k.bnd.addT(k.e.t1, k.e.t2, k.bs, c, out, oc[0], oc[1])
}

// maxSteps: one Newton step solves a linear problem (the iteration already
// converges to the tolerance); Gauss–Newton is capped lower than in exactU
// because each step is a full conjugate-gradient solve.
func (k *kronCG) maxSteps(linear bool) int {
	if linear {
		return 1
	}
	return 8
}

// addScaled sets dst += c·x in one pass (the same arithmetic as adding a
// scaled copy).
func addScaled(dst *mat.Dense, c float64, x *mat.Dense) {
	d, xr := dst.RawMatrix(), x.RawMatrix()
	for i := range d.Rows {
		floats.AddScaled(d.Data[i*d.Stride:i*d.Stride+d.Cols], c, xr.Data[i*xr.Stride:i*xr.Stride+xr.Cols])
	}
}

// frobEach sets out[a] = frob(xs[a], v) for every a, in one pass over v and
// four sums at a time: each sum is frob's, term by term in the same order,
// so the rounding is the same, but the four are independent chains the
// processor overlaps (frob alone waits on each addition). A last group of
// fewer than four fills up with v itself, whose sums are dropped. With the
// trend's columns (applyAug, precondAug): 1.9 → 1.1 s of CPU in a 62 s run
// of preset p2d1.
func frobEach(out []float64, xs []*mat.Dense, v *mat.Dense) {
	vr := v.RawMatrix()
	for a := range xs {
		if xr := xs[a].RawMatrix(); xr.Rows != vr.Rows || xr.Cols != vr.Cols {
			panic("gphm: Frobenius product of different shapes")
		}
	}
	row := func(x *mat.Dense, i int) []float64 {
		r := x.RawMatrix()
		return r.Data[i*r.Stride : i*r.Stride+r.Cols]
	}
	for a0 := 0; a0 < len(xs); a0 += 4 {
		var g [4]*mat.Dense
		for k := range g {
			g[k] = v
			if a0+k < len(xs) {
				g[k] = xs[a0+k]
			}
		}
		var s0, s1, s2, s3 float64
		for i := range vr.Rows {
			vi, x0, x1, x2, x3 := row(v, i), row(g[0], i), row(g[1], i), row(g[2], i), row(g[3], i)
			for j, w := range vi {
				s0 += x0[j] * w
				s1 += x1[j] * w
				s2 += x2[j] * w
				s3 += x3[j] * w
			}
		}
		for k, sk := range [4]float64{s0, s1, s2, s3} {
			if a0+k < len(xs) {
				out[a0+k] = sk
			}
		}
	}
}

// scaleAdd sets dst = c·dst + x in one pass.
func scaleAdd(dst *mat.Dense, c float64, x *mat.Dense) {
	d, xr := dst.RawMatrix(), x.RawMatrix()
	for i := range d.Rows {
		row, xrow := d.Data[i*d.Stride:i*d.Stride+d.Cols], xr.Data[i*xr.Stride:i*xr.Stride+xr.Cols]
		for j, v := range xrow {
			row[j] = c*row[j] + v
		}
	}
}

// mulScaleAdd sets out = (out∘w)·c + v in one pass over the grid (w nil:
// out·c + v; v nil: (out∘w)·c; both nil: out·c): the arithmetic of MulElem,
// a scaling and Add in turn, to the bit, with the grid read and written
// once instead of three times.
func mulScaleAdd(out, w *mat.Dense, c float64, v *mat.Dense) {
	o := out.RawMatrix()
	row := func(x *mat.Dense, i int) []float64 {
		if x == nil {
			return nil
		}
		r := x.RawMatrix()
		if r.Rows != o.Rows || r.Cols != o.Cols {
			panic("gphm: mulScaleAdd of different shapes")
		}
		return r.Data[i*r.Stride : i*r.Stride+r.Cols]
	}
	for i := range o.Rows {
		or, wr, vr := o.Data[i*o.Stride:i*o.Stride+o.Cols], row(w, i), row(v, i)
		switch {
		case w != nil && v != nil:
			for j := range or {
				or[j] = float64(float64(or[j]*wr[j])*c) + vr[j]
			}
		case w != nil:
			for j := range or {
				or[j] = float64(or[j]*wr[j]) * c
			}
		case v != nil:
			for j := range or {
				or[j] = float64(or[j]*c) + vr[j]
			}
		default:
			for j := range or {
				or[j] *= c
			}
		}
	}
}
