package hyperspectral

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// Constants of the update rules.
const (
	// epsilon floors abundances, endmembers, denominators and channel errors.
	epsilon = 1e-9
	// blockPixels is the number of pixels whose columns of Y are used twice
	// while in cache: once for the A-step numerator, once for Y·Aᵀ.
	blockPixels = 512
	// brightFloor is the least brightness of a pixel in the scaled model,
	// relative to the scene's mean brightness 1.
	brightFloor = 0.05
)

// guidanceMode says how the per-pixel sparsity weights h are set.
type guidanceMode int

const (
	guidanceNone    guidanceMode = iota // no sparsity term
	guidanceOnes                        // h ≡ 1 (L1/2-NMF)
	guidanceFixed                       // a map given by the caller
	guidanceLearned                     // the h-step of RRLbS
)

// mmOptions select one member of the family of objectives
//
//	F(M, A, h) = Σ_l ρ(‖yˡ − mˡA‖₂) + λ Σ_n h_n ‖a_n‖_p^p [+ (λβ/2)‖h‖²]
//
// over M ≥ 0, A ≥ 0 with 1ᵀa_n = 1, with ρ(r) = r (robust: the ℓ2,1 norm of
// E = Y − MA over channels), its Huber form ρ_τ (robust with huber > 0) or
// ρ(r) = r²/2 (Frobenius), and the last term present only when h is learned
// (on {h ≥ 0, Σh = N}).
//
// With scaled set the model is y_n ≈ b_n M a_n instead: each pixel has a
// brightness b_n > 0 (shading, slope, depth) beside its abundances on the
// simplex, and mˡA in F becomes mˡ A diag(b). The sparsity term stays on
// a_n, so that it still asks each pixel to be near one material whatever
// its brightness. b and M are determined up to a common factor, fixed by
// keeping the mean of b at 1.
type mmOptions struct {
	robust bool
	// huber, when positive and robust, replaces ρ(r) = r by the Huber
	// function ρ_τ(r) = r²/(2τ) for r ≤ τ, r − τ/2 above, with τ = huber ×
	// the median channel error at the initial point.
	huber    float64
	lambda   float64
	p        float64
	guidance guidanceMode
	fixedH   []float64 // for guidanceFixed, length N
	scaled   bool
}

// mmSolver holds the state and the work buffers of the majorisation–
// minimisation iterations; one iteration allocates nothing. Matrices are
// row-major slices: y is L×N, m L×K, a K×N.
type mmSolver struct {
	l, n, k int
	opt     mmOptions
	sparse  bool

	y   []float64 // L×N, the scaled data
	yy  []float64 // L: ‖yˡ‖²
	m   []float64 // L×K
	a   []float64 // K×N, every column on the simplex, entries ≥ ε
	apm []float64 // K×N: A^(p−1) (sparse only)
	h   []float64 // N
	c   []float64 // N: ‖a_n‖_p^p (sparse only)
	r   []float64 // L: ‖eˡ‖₂ at the current (M, A)
	d   []float64 // L: channel weights of the current majoriser

	pm   []float64 // L×K: Y·Aᵀ for the current A
	g    []float64 // K×K: A·Aᵀ for the current A
	mg   []float64 // L×K: M·G
	w    []float64 // L×K: D·M
	cm   []float64 // K×K: Mᵀ D M
	bblk []float64 // K×blockPixels: a block of (D M)ᵀ Y
	tmpN []float64 // N

	// The scaled model's (mmOptions.scaled; nil without it): the pixels'
	// brightness b, and a block of C = A diag(b).
	bright []float64 // N
	cblk   []float64 // K×blockPixels
	// angle is the least endmember angle on which Config.Mixing auto chose
	// the scaled model (NaN otherwise), and first the iterations of the
	// sum-to-one run before it; both kept with a saved state.
	angle float64
	first int

	beta float64 // β of the h-regulariser
	tau  float64 // τ of the Huber loss; 0 for the plain ℓ2,1 loss
	// ratio is the misfit ratio at which the automatic guidance chose
	// (misfitRatio), NaN before.
	ratio float64
}

// newMMSolver prepares the iterations from the scaled data y and the initial
// m0 and a0 (copied; every column of a0 is projected onto the simplex with
// entries ≥ ε). It computes every derived quantity, so that objective() is F
// at the initial point.
func newMMSolver(y, m0, a0 *mat.Dense, opt mmOptions) *mmSolver {
	l, n := y.Dims()
	_, k := m0.Dims()
	if y.RawMatrix().Stride != n {
		panic("hyperspectral: internal: data matrix is not contiguous")
	}
	s := &mmSolver{
		l: l, n: n, k: k, opt: opt,
		sparse: opt.lambda > 0 && opt.guidance != guidanceNone,
		y:      y.RawMatrix().Data,
		yy:     make([]float64, l),
		m:      make([]float64, l*k),
		a:      make([]float64, k*n),
		h:      make([]float64, n),
		c:      make([]float64, n),
		r:      make([]float64, l),
		d:      make([]float64, l),
		pm:     make([]float64, l*k),
		g:      make([]float64, k*k),
		mg:     make([]float64, l*k),
		w:      make([]float64, l*k),
		cm:     make([]float64, k*k),
		bblk:   make([]float64, k*blockPixels),
		tmpN:   make([]float64, n),
		ratio:  math.NaN(),
		angle:  math.NaN(),
	}
	if s.sparse {
		s.apm = make([]float64, k*n)
	}
	if opt.scaled {
		s.bright = make([]float64, n)
		for i := range s.bright {
			s.bright[i] = 1
		}
		s.cblk = make([]float64, k*blockPixels)
	}
	for i := range l {
		row := s.y[i*n : (i+1)*n]
		s.yy[i] = floats.Dot(row, row)
		for j := range k {
			s.m[i*k+j] = max(m0.At(i, j), epsilon)
		}
	}
	var u, b, out [MaxEndmembers]float64
	for p := range n {
		for j := range k {
			u[j], b[j] = 1, a0.At(j, p)
		}
		// Euclidean projection: max(ε, a − τ) with Σ = 1.
		projectShifted(out[:k], u[:k], b[:k])
		for j := range k {
			s.a[j*n+p] = out[j]
		}
	}
	switch opt.guidance {
	case guidanceFixed:
		copy(s.h, opt.fixedH)
	default:
		for i := range s.h {
			s.h[i] = 1
		}
	}

	if opt.scaled {
		s.startBrightness()
	}
	s.sweep(false)
	s.rowNorms()
	if opt.robust && opt.huber > 0 {
		r := append([]float64(nil), s.r...)
		slices.Sort(r)
		s.tau = opt.huber * r[len(r)/2]
	}
	if opt.guidance == guidanceLearned {
		lo, hi := floats.Min(s.c), floats.Max(s.c)
		s.beta = hi - lo
		if !(s.beta > 1e-12) {
			s.beta = 1 // all pixels equally mixed: any positive scale will do
		}
	}
	return s
}

// iterate performs one iteration: M-step, reweighting, A-step, h-step.
// Each step does not increase F.
func (s *mmSolver) iterate() {
	s.mStep()
	s.rowNorms()
	s.reweight()
	s.prepareAStep()
	s.sweep(true)
	if s.sparse && s.opt.guidance == guidanceLearned {
		s.hStep()
	}
	if s.bright != nil {
		s.normaliseBrightness()
	}
	s.rowNorms()
}

// startBrightness sets each pixel's brightness to its least-squares value
// for the initial (M, A), b_n = (M a_n)ᵀ y_n / ‖M a_n‖², floored at
// brightFloor, and rescales b to mean 1 and M by the inverse: the start of
// the scaled model, on which its decisions at the start (the loss, the
// guidance, λ) measure the misfit.
func (s *mmSolver) startBrightness() {
	l, n, k := s.l, s.n, s.k
	// Band by band, so that Y is read in its storage order.
	vy, vv := make([]float64, n), make([]float64, n) // (M a_n)ᵀ y_n, ‖M a_n‖²
	for i := range l {
		yi, mi := s.y[i*n:(i+1)*n], s.m[i*k:(i+1)*k]
		for p, y := range yi {
			var x float64 // (M a_n)_i
			for j, m := range mi {
				x += m * s.a[j*n+p]
			}
			vy[p] += x * y
			vv[p] += x * x
		}
	}
	for p := range n {
		s.bright[p] = max(brightFloor, vy[p]/max(vv[p], epsilon))
	}
	s.normaliseBrightness() // Y Cᵀ and C Cᵀ are not summed yet: zero
}

// normaliseBrightness rescales b to mean 1 and M by the inverse (with the
// sums Y Cᵀ and C Cᵀ of C = A diag(b)): the fit, and so F, is unchanged.
func (s *mmSolver) normaliseBrightness() {
	mu := floats.Sum(s.bright) / float64(s.n)
	floats.Scale(1/mu, s.bright)
	floats.Scale(mu, s.m)
	floats.Scale(1/mu, s.pm)
	floats.Scale(1/(mu*mu), s.g)
}

// mStep is the multiplicative update M ← M ⊙ (Y Aᵀ) ⊘ (M A Aᵀ), floored at ε
// (A diag(b) in place of A for the scaled model).
// It is the Lee–Seung update of every row of M for its own squared error
// ‖eˡ‖², so it decreases every channel error and hence both the ℓ2,1 and the
// Frobenius loss; the channel weights play no role (the problem separates by
// rows).
func (s *mmSolver) mStep() {
	l, k := s.l, s.k
	// M·G, L×K×K: a loop (BLAS would start goroutines for this shape).
	for i := range l {
		mi := s.m[i*k : (i+1)*k]
		for j := range k {
			var v float64
			for q, mq := range mi {
				v += mq * s.g[q*k+j]
			}
			s.mg[i*k+j] = v
		}
	}
	for i := range s.m {
		s.m[i] = max(epsilon, s.m[i]*s.pm[i]/max(s.mg[i], epsilon))
	}
}

// rowNorms computes r_l = ‖yˡ − mˡA‖₂ from Y·Aᵀ and A·Aᵀ without forming E:
// r_l² = ‖yˡ‖² − 2 mˡ·(Y Aᵀ)ˡ + mˡ (A Aᵀ) mˡᵀ, O(L K²).
func (s *mmSolver) rowNorms() {
	k := s.k
	for i := range s.l {
		mi := s.m[i*k : (i+1)*k]
		pi := s.pm[i*k : (i+1)*k]
		var cross, quad float64
		for j := range k {
			cross += mi[j] * pi[j]
			var gm float64
			for q := range k {
				gm += s.g[j*k+q] * mi[q]
			}
			quad += mi[j] * gm
		}
		s.r[i] = math.Sqrt(max(0, s.yy[i]-2*cross+quad))
	}
}

// reweight sets the channel weights of the majoriser at the current point:
// d_l = 1/(2 max(r_l, ε)) for the ℓ2,1 loss, since
// √x ≤ x/(2√x₀) + √x₀/2 (Nie et al. 2010); d_l = 1/(2 max(r_l, τ)) for the
// Huber loss, whose φ(x) = ρ_τ(√x) is concave in x = r² with slope
// 1/(2 max(√x, τ)), so that its tangent majorises it; d_l = ½ for the
// Frobenius loss.
func (s *mmSolver) reweight() {
	for i := range s.d {
		if s.opt.robust {
			s.d[i] = 1 / (2 * max(s.r[i], s.tau, epsilon))
		} else {
			s.d[i] = 0.5
		}
	}
}

// prepareAStep forms W = D M and C = Mᵀ D M.
func (s *mmSolver) prepareAStep() {
	k := s.k
	for i := range s.l {
		for j := range k {
			s.w[i*k+j] = s.d[i] * s.m[i*k+j]
		}
	}
	// Mᵀ·W, K×L×K: a loop (BLAS would start goroutines for this shape).
	clear(s.cm)
	for i := range s.l {
		mi := s.m[i*k : (i+1)*k]
		wi := s.w[i*k : (i+1)*k]
		for j, mj := range mi {
			for q, wq := range wi {
				s.cm[j*k+q] += mj * wq
			}
		}
	}
}

// sweep passes once over the pixels in blocks. With update set it applies
// the A-step (aStepBlock) to each block; with or without, it then
// accumulates Y·Aᵀ, A·Aᵀ, A^(p−1) and c for the new abundances while the
// block of Y is still in cache (Y·Cᵀ and C·Cᵀ with C = A diag(b) for the
// scaled model).
func (s *mmSolver) sweep(update bool) {
	l, n, k := s.l, s.n, s.k
	impl := blas64.Implementation()
	clear(s.pm)
	clear(s.g)
	for n0 := 0; n0 < n; n0 += blockPixels {
		bs := min(blockPixels, n-n0)
		if update {
			for j := range k {
				// Row j of the block of (D M)ᵀ Y.
				impl.Dgemv(blas.Trans, l, bs, 1, s.y[n0:], n, s.w[j:], k, 0, s.bblk[j*blockPixels:j*blockPixels+bs], 1)
			}
			s.aStepBlock(n0, bs)
		}
		for p := n0; p < n0+bs; p++ {
			var cp float64
			for j := range k {
				v := s.a[j*n+p]
				if s.sparse {
					if !update {
						s.apm[j*n+p] = s.powm1(v)
					}
					cp += v * s.apm[j*n+p] // A^p = A·A^(p−1)
				}
				if s.bright == nil {
					for q := 0; q <= j; q++ {
						s.g[j*k+q] += v * s.a[q*n+p]
					}
				}
			}
			s.c[p] = cp
		}
		if s.bright == nil {
			for i := range l {
				impl.Dgemv(blas.NoTrans, k, bs, 1, s.a[n0:], n, s.y[i*n+n0:i*n+n0+bs], 1, 1, s.pm[i*k:i*k+k], 1)
			}
			continue
		}
		c := s.cblk
		for j := range k {
			floats.MulTo(c[j*bs:(j+1)*bs], s.a[j*n+n0:j*n+n0+bs], s.bright[n0:n0+bs])
		}
		for j := range k {
			for q := 0; q <= j; q++ {
				s.g[j*k+q] += floats.Dot(c[j*bs:(j+1)*bs], c[q*bs:(q+1)*bs])
			}
		}
		for i := range l {
			impl.Dgemv(blas.NoTrans, k, bs, 1, c, bs, s.y[i*n+n0:i*n+n0+bs], 1, 1, s.pm[i*k:i*k+k], 1)
		}
	}
	for j := range k {
		for q := 0; q < j; q++ {
			s.g[q*k+j] = s.g[j*k+q]
		}
	}
}

// aStepBlock applies the A-step to the pixels [n0, n0+bs), for which s.bblk
// holds b = (D M)ᵀ y_n.
//
// Per pixel, with the channel weights fixed, the ℓ2,1 (or Frobenius) loss is
// majorised by aᵀCa − 2bᵀa + const (C = MᵀDM) and the concave ℓp term by its
// tangent, whose slope is 2s with s = (λp/2) h_n a₀^(p−1). With
// q = Ca₀ + s, the Lee–Seung bound (C ≥ 0 elementwise, a₀ > 0) gives the
// separable majoriser
//
//	Σ_k (q_k/a₀ₖ)(a_k − a₀ₖ)² + 2(q_k − b_k)(a_k − a₀ₖ),
//
// whose minimiser without constraints is the multiplicative update
// a₀ ⊙ b ⊘ q. Its minimiser over the simplex {a ≥ ε, 1ᵀa = 1} is
//
//	a_k = max(ε, a₀ₖ (b_k − τ) / q_k),
//
// with the multiplier τ of the sum-to-one constraint chosen so that 1ᵀa = 1
// (projectShifted). The new a does not increase the majoriser, hence not F,
// and satisfies the constraints exactly. Pixels are independent given M, D
// and h, so the loop over pixels is innermost: consecutive pixels do not
// wait for each other.
//
// For the scaled model F's pixel term is b_n² ‖y_n/b_n − M a‖²_D + the
// sparsity term, so the same step runs on y_n/b_n (b divided by b_n) with
// the sparsity weight divided by b_n²; then b_n is set to its least-squares
// value for the new a, bᵀa / aᵀCa (floored at brightFloor), which minimises
// F over b_n exactly.
func (s *mmSolver) aStepBlock(n0, bs int) {
	n, k := s.n, s.k
	lp2 := s.opt.lambda * s.opt.p / 2
	a := s.a[:k*n]
	cm := s.cm[:k*k]
	var u, b, out [MaxEndmembers]float64
	for p := n0; p < n0+bs; p++ {
		hp := 0.0
		if s.sparse {
			hp = lp2 * s.h[p]
		}
		bp := 1.0
		if s.bright != nil {
			bp = s.bright[p]
			hp /= bp * bp
		}
		for j := range k {
			var q float64
			row := cm[j*k : j*k+k]
			for i, c := range row {
				q += c * a[i*n+p]
			}
			if s.sparse {
				q += hp * s.apm[j*n+p]
			}
			u[j] = a[j*n+p] / max(q, epsilon)
			b[j] = s.bblk[j*blockPixels+p-n0] / bp
		}
		projectShifted(out[:k], u[:k], b[:k])
		for j := range k {
			a[j*n+p] = out[j]
		}
		if s.bright != nil {
			var num, den float64
			for j := range k {
				// A loop, not floats.Dot: out would escape to the heap.
				var ca float64
				for i, c := range cm[j*k : j*k+k] {
					ca += c * out[i]
				}
				num += out[j] * b[j]
				den += out[j] * ca
			}
			s.bright[p] = max(brightFloor, bp*num/max(den, epsilon))
		}
		if s.sparse {
			if s.opt.p == 0.5 {
				for j := range k {
					s.apm[j*n+p] = 1 / math.Sqrt(out[j])
				}
			} else {
				for j := range k {
					s.apm[j*n+p] = s.powm1(out[j])
				}
			}
		}
	}
}

// projectShifted stores in out the point a_k = max(ε, u_k (b_k − τ)), u > 0,
// whose entries sum to 1: the minimiser of Σ_k (a_k − u_k b_k)²/u_k over the
// simplex {a ≥ ε, 1ᵀa = 1}. The multiplier τ is found as in Michelot's
// algorithm: on the current free set S, τ = (Σ_S u_k b_k + (K − |S|)ε − 1) /
// Σ_S u_k; entries that fall to the floor leave S, until S is stable (at most
// K passes of O(K)). It needs Kε < 1.
func projectShifted(out, u, b []float64) {
	k := len(u)
	var num, den float64
	for j := range k {
		num += u[j] * b[j]
		den += u[j]
	}
	tau := (num - 1) / den
	free := k
	for range k {
		num, den = 0, 0
		nfree := 0
		for j := range k {
			if u[j]*(b[j]-tau) > epsilon {
				num += u[j] * b[j]
				den += u[j]
				nfree++
			}
		}
		if nfree == free || nfree == 0 {
			break
		}
		free = nfree
		tau = (num + float64(k-nfree)*epsilon - 1) / den
	}
	for j := range k {
		out[j] = max(epsilon, u[j]*(b[j]-tau))
	}
}

// powm1 returns v^(p−1).
func (s *mmSolver) powm1(v float64) float64 {
	switch s.opt.p {
	case 0.5:
		return 1 / math.Sqrt(v)
	case 1:
		return 1
	}
	return math.Pow(v, s.opt.p-1)
}

// hStep minimises λ Σ h_n c_n + (λβ/2)‖h‖² over {h ≥ 0, Σh = N}: h is the
// projection of −c/β onto that simplex.
func (s *mmSolver) hStep() {
	for i, v := range s.c {
		s.tmpN[i] = -v / s.beta
	}
	ProjectSimplex(s.h, s.tmpN, float64(s.n))
}

// objective returns F at the current (M, A, h); see mmOptions.
func (s *mmSolver) objective() float64 {
	var f float64
	for _, r := range s.r {
		switch {
		case s.opt.robust && r <= s.tau && s.tau > 0:
			f += r * r / (2 * s.tau)
		case s.opt.robust:
			f += r - s.tau/2
		default:
			f += r * r / 2
		}
	}
	if s.sparse {
		f += s.opt.lambda * floats.Dot(s.h, s.c)
		if s.opt.guidance == guidanceLearned {
			f += s.opt.lambda * s.beta / 2 * floats.Dot(s.h, s.h)
		}
	}
	return f
}

// channelWeights returns the current channel weights scaled to mean 1.
func (s *mmSolver) channelWeights() []float64 {
	s.reweight()
	out := make([]float64, s.l)
	copy(out, s.d)
	floats.Scale(float64(s.l)/floats.Sum(out), out)
	return out
}

// endmembers and abundances return copies of M and A as matrices.
func (s *mmSolver) endmembers() *mat.Dense {
	return mat.NewDense(s.l, s.k, append([]float64(nil), s.m...))
}

func (s *mmSolver) abundances() *mat.Dense {
	return mat.NewDense(s.k, s.n, append([]float64(nil), s.a...))
}

// discrepancyGamma is γ of the discrepancy rule (discrepancyLambda).
const discrepancyGamma = 4.5

// discrepancyLambda returns the data-driven sparsity weight
//
//	λ = γ · (1/N) Σ_l d_l · max(0, r_l² − N σ_l²)
//
// at the solver's start (M₀, A₀): r_l is the channel error of band l, d_l the
// weight that the loss gives it in the A-step (so that Σ_l d_l r_l² is the
// weighted misfit that the A-step trades against the sparsity term), and σ_l
// the band's noise level (NoiseEstimate). The bracket is the part of a band's
// misfit that noise does not explain — mixing that the start does not
// capture. The rule sizes the sparsity penalty of a pixel to that misfit per
// pixel: a start that already fits to the noise level gets little sparsity,
// and a hot band, whose large error the noise estimate explains, adds little.
// γ is one constant for every scene.
func discrepancyLambda(sigma []float64, s *mmSolver) float64 {
	s.reweight()
	n := float64(s.n)
	var excess float64
	for i, r := range s.r {
		excess += s.d[i] * max(0, r*r-n*sigma[i]*sigma[i])
	}
	return discrepancyGamma * excess / n
}

// misfitRatio returns the median over bands of r_l / (√N σ_l), the channel
// error of the current (M, A) in units of the error that the band's noise
// alone would leave: about 1 where the linear mixing model explains the data
// to the noise level, several where model error (spectral variability,
// nonlinear mixing, too few endmembers) dominates. The median ignores the
// outlier bands.
func (s *mmSolver) misfitRatio(sigma []float64) float64 {
	return median(s.noiseUnits(sigma))
}

// noiseUnits returns r_l / (√N σ_l) for every band l: the channel error of
// the current (M, A) over the error that the band's noise alone would leave.
func (s *mmSolver) noiseUnits(sigma []float64) []float64 {
	ratio := make([]float64, s.l)
	sn := math.Sqrt(float64(s.n))
	for i, r := range s.r {
		ratio[i] = r / (sn * sigma[i])
	}
	return ratio
}

// errorSpread returns the lower quartile over bands of r_l / (√N σ_l), the
// channel error of the current (M, A) in units of the band's noise level,
// divided by its median: near 1 when every band is fitted about equally
// well relative to its noise, small when some bands are fitted much better
// than the bulk (which the ℓ2,1 weights 1/r_l would then weight up).
func (s *mmSolver) errorSpread(sigma []float64) float64 {
	ratio := s.noiseUnits(sigma)
	slices.Sort(ratio)
	return ratio[s.l/4] / ratio[s.l/2]
}

// useUniform replaces the learned guidance map by h ≡ 1 for the rest of the
// run (the h-step stops, and F loses its β term).
func (s *mmSolver) useUniform() {
	s.opt.guidance = guidanceOnes
	for i := range s.h {
		s.h[i] = 1
	}
}

// balanceBrightness fixes the scaled model's free scale of each endmember.
// Scaling endmember j by c_j, its abundances by 1/c_j, renormalising each
// pixel's abundances to sum 1 and taking that sum into its brightness
// leaves every pixel's fit b_n M a_n unchanged, so the model leaves these K
// scales to the run. They are set so that each endmember's mean brightness,
// weighted by its abundances, Σ_n a_jn b_n / Σ_n a_jn, is 1: a material is
// as bright on average as its spectrum, and the brightness map holds what
// varies from pixel to pixel. The weighted means move as the abundances
// do, so the rescaling is repeated until they are within 1e-9 of 1 (or 100
// times).
func (s *mmSolver) balanceBrightness() {
	n, k := s.n, s.k
	var beta [MaxEndmembers]float64
	for range 100 {
		worst := 0.0
		for j := range k {
			row := s.a[j*n : (j+1)*n]
			beta[j] = floats.Dot(row, s.bright) / floats.Sum(row)
			worst = max(worst, math.Abs(beta[j]-1))
		}
		if worst < 1e-9 {
			return
		}
		for i := range s.l {
			for j := range k {
				s.m[i*k+j] *= beta[j]
			}
		}
		for p := range n {
			var sum float64
			for j := range k {
				s.a[j*n+p] /= beta[j]
				sum += s.a[j*n+p]
			}
			for j := range k {
				s.a[j*n+p] /= sum
			}
			s.bright[p] *= sum
		}
	}
}
