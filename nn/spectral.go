package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"eddy/blas"
)

// SpectralConv is the spectral convolution of Fourier neural operators
// (Li et al. 2021) over d ≥ 1 spatial axes, with optional resampling of the
// grid (as ST-FNO uses for time).
//
// For x of shape N×In×n₁×…×n_d and output grid n′₁×…×n′_d (OutSize, or the
// input grid when OutSize is nil):
//
//	x̂[n, i, k] = (1/Π n_a) Σ_s x[n, i, s]·exp(−2πi Σ_a k_a s_a/n_a),
//	ŷ[n, o, k] = Σ_i x̂[n, i, k]·W[k, i, o] + δ·b[k, o]     for kept k, 0 otherwise,
//	y[n, o, s′] = Σ_k ŷ[n, o, k]·exp(+2πi Σ_a k_a s′_a/n′_a),
//
// where the last sum is the inverse real transform: it runs over the half
// spectrum of the last axis with weight 2 for 0 < k_d < n′_d/2 (1 at 0 and
// at the Nyquist index) and keeps the real part, exactly as irfftn does.
// Kept modes are k_a ∈ {0…m_a−1} ∪ {−m_a…−1} on axes 1…d−1 and
// k_d ∈ {0…m_d−1} on the last axis, m = Modes. W (complex, stored as
// "weight_re" and "weight_im") has shape K₁×…×K_d×In×Out with K_a = 2m_a
// for a < d and K_d = m_d; mode index q < m_a stands for k_a = q and
// q ≥ m_a for k_a = q − 2m_a. The optional per-mode bias b ("bias_re",
// "bias_im") has shape K₁×…×K_d×Out and is scaled by BiasScale = δ.
//
// Normalisation: the forward transform carries 1/Π n_a and the inverse
// none, so that resampling preserves the amplitude of band-limited inputs;
// when the output grid equals the input grid this is the same map as
// numpy's rfftn → irfftn pair with default norms. Constraints: 2m_a ≤ n_a
// and 2m_a ≤ n′_a for a < d, m_d ≤ n_d/2+1 and m_d ≤ n′_d/2+1.
//
// Method SpectralDFT applies the transforms as truncated DFT matrices by
// GEMM, one axis at a time (real → half spectrum on the last axis, complex on
// the others): O(N·C·n₁…n_d·(m_d + Σ_{a<d} m_a)) flops per transform, most
// of it in the first stages. SpectralFFT uses package fft's real plans, truncated to the
// kept last-axis modes: O(N·C·n₁…n_d·log n). SpectralAuto (the default)
// picks per batch size and grid from a cost model calibrated on the
// development machine (see fftFlopCost); it chose the DFT on every shape of
// the method families measured. The channel mixing is one complex In×Out
// product per mode (GEMM, or plain loops when In·Out ≤ 16): 8·N·In·Out·ΠK_a
// flops. Backward costs about twice Forward.
type SpectralConv struct {
	In, Out   int
	Modes     []int
	OutSize   []int          // output grid; nil means the input grid
	BiasScale float64        // δ, multiplies the bias (default 1)
	Method    SpectralMethod // how to transform; SpectralAuto by default

	Wre, Wim *Param
	Bre, Bim *Param // nil without bias

	plans []*spectralPlan
	last  *spectralPlan
	wb    []float64 // per-mode real 2In×2Out block form of W
	gbuf  []float64
	idx   []int
}

// NewSpectralConv returns a spectral convolution keeping the given modes
// per spatial axis (the last axis being the real half-spectrum axis).
// Weights are drawn, real and imaginary parts independently, from
// U[0, 1/(In·Out)) as in Li et al.'s FNO; the bias starts at 0.
func NewSpectralConv(in, out int, modes []int, bias bool, r *rand.Rand) *SpectralConv {
	if in <= 0 || out <= 0 || len(modes) == 0 || len(modes) > 8 {
		panic(fmt.Sprintf("nn: NewSpectralConv: in=%d out=%d modes=%v", in, out, modes))
	}
	shape := make([]int, 0, len(modes)+2)
	for a, m := range modes {
		if m <= 0 {
			panic(fmt.Sprintf("nn: NewSpectralConv: modes %v must be positive", modes))
		}
		if a < len(modes)-1 {
			shape = append(shape, 2*m)
		} else {
			shape = append(shape, m)
		}
	}
	s := &SpectralConv{In: in, Out: out, Modes: slices.Clone(modes), BiasScale: 1}
	s.Wre = newParam("weight_re", append(slices.Clone(shape), in, out)...)
	s.Wim = newParam("weight_im", append(slices.Clone(shape), in, out)...)
	scale := 1 / float64(in*out)
	s.Wre.Value.FillUniform(r, 0, scale)
	s.Wim.Value.FillUniform(r, 0, scale)
	if bias {
		s.Bre = newParam("bias_re", append(slices.Clone(shape), out)...)
		s.Bim = newParam("bias_im", append(slices.Clone(shape), out)...)
	}
	return s
}

// Params returns the weights and, if present, the bias.
func (s *SpectralConv) Params() []*Param {
	if s.Bre == nil {
		return []*Param{s.Wre, s.Wim}
	}
	return []*Param{s.Wre, s.Wim, s.Bre, s.Bim}
}

// numModes returns Π K_a.
func (s *SpectralConv) numModes() int {
	n := 1
	for a, m := range s.Modes {
		if a < len(s.Modes)-1 {
			n *= 2 * m
		} else {
			n *= m
		}
	}
	return n
}

// dftStep is one linear stage of the transform: permute the input (of
// shape `shape`) by perm into pbuf (skipped when perm is nil), then
// multiply: out = mat·pbuf (left) or out = pbuf·mat, an m×k by k×n product.
type dftStep struct {
	perm, shape     []int
	invPerm, pshape []int // inverse permutation and the permuted shape
	left            bool
	mat             []float64
	m, n, k         int
	pbuf, obuf      []float64
	gp, gin         []float64 // gradients of pbuf and of the step's input
}

// spectralPlan holds the stages, matrices and buffers for one batch size
// and input grid.
type spectralPlan struct {
	batch    int
	in, out  []int
	fwd      []*dftStep // input → mixing input
	mix      *dftStep   // permutation to mode-major layout; pbuf is A
	mixOut   []float64  // modes × N × 2Out
	gMixOut  []float64
	inv      []*dftStep // mixing output → y
	outShape []int
	y, dx    *Tensor
	fft      *fftPlan // non-nil when the FFT path is used
}

// maxPlans is the number of (batch, grid) shapes for which a SpectralConv
// keeps its matrices and buffers: enough for training, an uneven last
// data-parallel share and evaluation on another grid.
const maxPlans = 4

// Axis labels used while building a plan.
const (
	labBatch = -1 - iota
	labChan
	labPart
)

func (s *SpectralConv) plan(x *Tensor) *spectralPlan {
	d := len(s.Modes)
	if len(x.Shape) != 2+d || x.Shape[1] != s.In {
		panic(fmt.Sprintf("nn: SpectralConv %d→%d over %d axes: input shape %v, want N×%d×(%d axes)", s.In, s.Out, d, x.Shape, s.In, d))
	}
	in := x.Shape[2:]
	out := in
	if s.OutSize != nil {
		if len(s.OutSize) != d {
			panic(fmt.Sprintf("nn: SpectralConv: OutSize %v has %d axes, modes %v have %d", s.OutSize, len(s.OutSize), s.Modes, d))
		}
		out = s.OutSize
	}
	if s.last != nil && s.last.batch == x.Shape[0] && slices.Equal(s.last.in, in) && slices.Equal(s.last.out, out) {
		return s.last
	}
	for _, p := range s.plans {
		if p.batch == x.Shape[0] && slices.Equal(p.in, in) && slices.Equal(p.out, out) {
			s.last = p
			return p
		}
	}
	for a, m := range s.Modes {
		if a < d-1 && (2*m > in[a] || 2*m > out[a]) {
			panic(fmt.Sprintf("nn: SpectralConv: axis %d keeps 2×%d modes, more than the grid sizes %d → %d allow", a, m, in[a], out[a]))
		}
		if a == d-1 && (m > in[a]/2+1 || m > out[a]/2+1) {
			panic(fmt.Sprintf("nn: SpectralConv: last axis keeps %d modes, more than the half spectra of %d → %d points allow", m, in[a], out[a]))
		}
	}
	p := s.buildPlan(x.Shape[0], slices.Clone(in), slices.Clone(out))
	if len(s.plans) == maxPlans {
		s.plans = append(s.plans[:0], s.plans[1:]...) // forget the oldest
	}
	s.plans = append(s.plans, p)
	s.last = p
	return p
}

func (s *SpectralConv) buildPlan(batch int, in, out []int) *spectralPlan {
	d := len(s.Modes)
	K := make([]int, d)
	for a, m := range s.Modes {
		K[a] = 2 * m
	}
	K[d-1] = s.Modes[d-1]
	p := &spectralPlan{batch: batch, in: in, out: out}
	p.outShape = append([]int{batch, s.Out}, out...)

	// Layout after the first stage: [N, In, s₀…s_{d−2}, part, k_{d−1}].
	labels := []int{labBatch, labChan}
	sizes := []int{batch, s.In}
	for a := 0; a < d-1; a++ {
		labels = append(labels, a)
		sizes = append(sizes, in[a])
	}
	labels = append(labels, labPart, d-1)
	rows := numel(sizes)
	sizes = append(sizes, 2, K[d-1])
	p.fwd = append(p.fwd, &dftStep{
		shape: append([]int{batch, s.In}, in...), m: rows, k: in[d-1], n: 2 * K[d-1],
		mat: halfForward(in[d-1], K[d-1]), obuf: make([]float64, rows*2*K[d-1]),
	})
	// Full axes d−2 … 0, complex.
	for a := d - 2; a >= 0; a-- {
		st := &dftStep{left: true, mat: fullForward(in[a], s.Modes[a])}
		labels, sizes = st.setPerm(labels, sizes, front(labels, labPart, a))
		st.m, st.k, st.n = 2*K[a], 2*in[a], numel(sizes[2:])
		sizes[1] = K[a]
		st.obuf = make([]float64, numel(sizes))
		p.fwd = append(p.fwd, st)
	}
	// Mixing: [k₀…k_{d−1}, N, part, In].
	want := make([]int, 0, d+3)
	for a := 0; a < d; a++ {
		want = append(want, a)
	}
	want = append(want, labBatch, labPart, labChan)
	p.mix = &dftStep{}
	labels, sizes = p.mix.setPerm(labels, sizes, order(labels, want))
	if p.mix.pbuf == nil {
		p.mix.pbuf = make([]float64, numel(sizes))
	}
	p.mix.gp = make([]float64, numel(sizes))
	p.mix.gin = make([]float64, numel(sizes))
	sizes[len(sizes)-1] = s.Out
	p.mixOut = make([]float64, numel(sizes))
	p.gMixOut = make([]float64, numel(sizes))
	// Inverse full axes 0 … d−2.
	for a := 0; a < d-1; a++ {
		st := &dftStep{left: true, mat: fullInverse(out[a], s.Modes[a])}
		labels, sizes = st.setPerm(labels, sizes, front(labels, labPart, a))
		st.m, st.k, st.n = 2*out[a], 2*K[a], numel(sizes[2:])
		sizes[1] = out[a]
		st.obuf = make([]float64, numel(sizes))
		p.inv = append(p.inv, st)
	}
	// Last axis: [N, Out, s′₀…s′_{d−2}, part, k_{d−1}] → y.
	want = []int{labBatch, labChan}
	for a := 0; a < d-1; a++ {
		want = append(want, a)
	}
	want = append(want, labPart, d-1)
	st := &dftStep{mat: halfInverse(out[d-1], K[d-1])}
	labels, sizes = st.setPerm(labels, sizes, order(labels, want))
	st.m, st.k, st.n = numel(sizes[:len(sizes)-2]), 2*K[d-1], out[d-1]
	p.y = NewTensor(p.outShape...)
	st.obuf = p.y.Data
	p.inv = append(p.inv, st)
	p.dx = NewTensor(append([]int{batch, s.In}, in...)...)

	for _, st := range append(slices.Clone(p.fwd), p.inv...) {
		if st.perm != nil && st.pbuf == nil {
			st.pbuf = make([]float64, numel(st.shape))
		}
		if st.perm != nil {
			st.gp = make([]float64, numel(st.shape))
		}
		st.gin = make([]float64, numel(st.shape))
	}
	p.fwd[0].gin = p.dx.Data // the first stage has no permutation
	if s.useFFT(p) {
		// The mixing buffers stay; the DFT stages are dropped.
		p.fft = newFFTPlan(s, batch, in, out)
		p.fwd, p.inv = nil, nil
		p.mix.perm = nil
	}
	return p
}

// setPerm records perm (nil if it is the identity) and the shape before it,
// and returns the permuted labels and sizes.
func (st *dftStep) setPerm(labels, sizes, perm []int) ([]int, []int) {
	st.shape = slices.Clone(sizes)
	nl, ns := make([]int, len(perm)), make([]int, len(perm))
	identity := true
	for i, q := range perm {
		nl[i], ns[i] = labels[q], sizes[q]
		if q != i {
			identity = false
		}
	}
	if !identity {
		st.perm = perm
		st.invPerm = inversePerm(perm)
		st.pshape = slices.Clone(ns)
	}
	return nl, ns
}

// front returns the permutation that moves labels a and b to positions 0
// and 1 and keeps the others in order.
func front(labels []int, a, b int) []int {
	perm := []int{slices.Index(labels, a), slices.Index(labels, b)}
	for i, l := range labels {
		if l != a && l != b {
			perm = append(perm, i)
		}
	}
	return perm
}

// order returns the permutation that arranges labels as want.
func order(labels, want []int) []int {
	perm := make([]int, len(want))
	for i, l := range want {
		perm[i] = slices.Index(labels, l)
	}
	return perm
}

// angle returns 2π·(k·x mod n)/n, reduced exactly in integers.
func angle(k, x, n int) float64 {
	r := (k * x) % n
	if r < 0 {
		r += n
	}
	return 2 * math.Pi * float64(r) / float64(n)
}

// halfForward returns the n×2K matrix of the truncated real DFT with 1/n:
// columns k (real part) and K+k (imaginary part) for k < K.
func halfForward(n, K int) []float64 {
	m := make([]float64, n*2*K)
	for x := 0; x < n; x++ {
		for k := 0; k < K; k++ {
			t := angle(k, x, n)
			m[x*2*K+k] = math.Cos(t) / float64(n)
			m[x*2*K+K+k] = -math.Sin(t) / float64(n)
		}
	}
	return m
}

// halfInverse returns the 2K×n matrix of the truncated inverse real DFT:
// y[s] = Σ_k c_k (Re ŷ_k cos θ − Im ŷ_k sin θ), θ = 2πks/n, with c_0 = 1,
// c_k = 2 for 0 < k < n/2 and c_{n/2} = 1.
func halfInverse(n, K int) []float64 {
	m := make([]float64, 2*K*n)
	for k := 0; k < K; k++ {
		c := 2.0
		if k == 0 || 2*k == n {
			c = 1
		}
		for x := 0; x < n; x++ {
			t := angle(k, x, n)
			m[k*n+x] = c * math.Cos(t)
			m[(K+k)*n+x] = -c * math.Sin(t)
		}
	}
	return m
}

// modeFreq returns the frequency of mode index q on an axis keeping 2m modes.
func modeFreq(q, m int) int {
	if q < m {
		return q
	}
	return q - 2*m
}

// fullForward returns the 2K×2n real form [[Fr, −Fi], [Fi, Fr]] of the
// truncated complex DFT F[q, s] = exp(−2πi k_q s/n)/n, K = 2m.
func fullForward(n, m int) []float64 {
	K := 2 * m
	w := 2 * n
	out := make([]float64, 2*K*w)
	for q := 0; q < K; q++ {
		k := modeFreq(q, m)
		for x := 0; x < n; x++ {
			t := angle(k, x, n)
			fr, fi := math.Cos(t)/float64(n), -math.Sin(t)/float64(n)
			out[q*w+x], out[q*w+n+x] = fr, -fi
			out[(K+q)*w+x], out[(K+q)*w+n+x] = fi, fr
		}
	}
	return out
}

// fullInverse returns the 2n×2K real form of G[s, q] = exp(+2πi k_q s/n).
func fullInverse(n, m int) []float64 {
	K := 2 * m
	w := 2 * K
	out := make([]float64, 2*n*w)
	for x := 0; x < n; x++ {
		for q := 0; q < K; q++ {
			t := angle(modeFreq(q, m), x, n)
			gr, gi := math.Cos(t), math.Sin(t)
			out[x*w+q], out[x*w+K+q] = gr, -gi
			out[(n+x)*w+q], out[(n+x)*w+K+q] = gi, gr
		}
	}
	return out
}

// forward runs the stage: permute (if any) then multiply.
func (st *dftStep) forward(src []float64, idx []int) {
	if st.perm != nil {
		permute(st.pbuf, src, st.shape, st.perm, idx)
		src = st.pbuf
	}
	if st.left {
		blas.Dgemm(false, false, st.m, st.n, st.k, 1, st.mat, st.k, src, st.n, 0, st.obuf, st.n)
	} else {
		blas.Dgemm(false, false, st.m, st.n, st.k, 1, src, st.k, st.mat, st.n, 0, st.obuf, st.n)
	}
}

// backward maps the gradient of obuf to the gradient of the stage input,
// which it writes to st.gin and returns.
func (st *dftStep) backward(g []float64, idx []int) []float64 {
	dst := st.gin
	if st.perm != nil {
		dst = st.gp
	}
	if st.left {
		blas.Dgemm(true, false, st.k, st.n, st.m, 1, st.mat, st.k, g, st.n, 0, dst, st.n)
	} else {
		blas.Dgemm(false, true, st.m, st.k, st.n, 1, g, st.n, st.mat, st.n, 0, dst, st.k)
	}
	if st.perm != nil {
		permute(st.gin, st.gp, st.pshape, st.invPerm, idx)
	}
	return st.gin
}

// Forward returns the spectral convolution of x.
func (s *SpectralConv) Forward(x *Tensor) *Tensor {
	p := s.plan(x)
	if s.idx == nil {
		s.idx = make([]int, 16)
	}
	// Mixing input A: modes × N × 2In.
	mx := p.mix
	if p.fft != nil {
		p.fft.gather(mx.pbuf, x.Data, p.batch, s.In)
	} else {
		src := x.Data
		for _, st := range p.fwd {
			st.forward(src, s.idx)
			src = st.obuf
		}
		if mx.perm != nil {
			permute(mx.pbuf, src, mx.shape, mx.perm, s.idx)
		} else {
			copy(mx.pbuf, src)
		}
	}
	modes, n, ci, co := s.numModes(), p.batch, 2*s.In, 2*s.Out
	if s.smallMix() {
		s.mixSmall(p.mixOut, mx.pbuf, modes, n)
	} else {
		s.buildBlocks(modes)
		for q := 0; q < modes; q++ {
			blas.Dgemm(false, false, n, co, ci, 1, mx.pbuf[q*n*ci:], ci, s.wb[q*ci*co:], co, 0, p.mixOut[q*n*co:], co)
		}
	}
	if s.Bre != nil {
		br, bi := s.Bre.Value.Data, s.Bim.Value.Data
		for q := 0; q < modes; q++ {
			for b := 0; b < n; b++ {
				row := p.mixOut[(q*n+b)*co : (q*n+b+1)*co]
				for o := 0; o < s.Out; o++ {
					row[o] += s.BiasScale * br[q*s.Out+o]
					row[s.Out+o] += s.BiasScale * bi[q*s.Out+o]
				}
			}
		}
	}
	if p.fft != nil {
		p.fft.scatter(p.y.Data, p.mixOut, p.batch, s.Out)
		return p.y
	}
	src := p.mixOut
	for _, st := range p.inv {
		st.forward(src, s.idx)
		src = st.obuf
	}
	return p.y
}

// buildBlocks writes, for every mode, the real 2In×2Out form
// [[Wr, Wi], [−Wi, Wr]] of the complex In×Out weight, so that
// [Re x̂, Im x̂]·block = [Re ŷ, Im ŷ].
func (s *SpectralConv) buildBlocks(modes int) {
	ci, co := 2*s.In, 2*s.Out
	s.wb = grow(s.wb, modes*ci*co)
	wr, wi := s.Wre.Value.Data, s.Wim.Value.Data
	for q := 0; q < modes; q++ {
		blk := s.wb[q*ci*co : (q+1)*ci*co]
		for i := 0; i < s.In; i++ {
			r := wr[(q*s.In+i)*s.Out : (q*s.In+i+1)*s.Out]
			m := wi[(q*s.In+i)*s.Out : (q*s.In+i+1)*s.Out]
			top := blk[i*co : (i+1)*co]
			bot := blk[(s.In+i)*co : (s.In+i+1)*co]
			for o := 0; o < s.Out; o++ {
				top[o], top[s.Out+o] = r[o], m[o]
				bot[o], bot[s.Out+o] = -m[o], r[o]
			}
		}
	}
}

// Backward returns the adjoint of the spectral convolution applied to dy
// and accumulates the weight and bias gradients.
func (s *SpectralConv) Backward(dy *Tensor) *Tensor {
	p := s.last
	if p == nil {
		panic("nn: SpectralConv: Backward before Forward")
	}
	mustSameShape("SpectralConv", dy, p.outShape)
	g := dy.Data
	if p.fft != nil {
		p.fft.scatterAdjoint(p.gMixOut, dy.Data, p.batch, s.Out)
		g = p.gMixOut
	}
	for i := len(p.inv) - 1; i >= 0; i-- {
		g = p.inv[i].backward(g, s.idx)
	}
	// g is the gradient of mixOut: modes × N × 2Out.
	modes, n, ci, co := s.numModes(), p.batch, 2*s.In, 2*s.Out
	mx := p.mix
	if s.Bre != nil && !s.Bre.Frozen {
		dbr, dbi := s.Bre.Grad.Data, s.Bim.Grad.Data
		for q := 0; q < modes; q++ {
			for b := 0; b < n; b++ {
				row := g[(q*n+b)*co : (q*n+b+1)*co]
				for o := 0; o < s.Out; o++ {
					dbr[q*s.Out+o] += s.BiasScale * row[o]
					dbi[q*s.Out+o] += s.BiasScale * row[s.Out+o]
				}
			}
		}
	}
	trainRe, trainIm := !s.Wre.Frozen, !s.Wim.Frozen
	s.gbuf = grow(s.gbuf, ci*co)
	if s.smallMix() {
		s.mixSmallAdjoint(mx.gp, g, mx.pbuf, modes, n, trainRe, trainIm)
		modes = 0 // skip the GEMM loop
	}
	for q := 0; q < modes; q++ {
		gq := g[q*n*co:]
		blas.Dgemm(false, true, n, ci, co, 1, gq, co, s.wb[q*ci*co:], co, 0, mx.gp[q*n*ci:], ci)
		if !trainRe && !trainIm {
			continue
		}
		blas.Dgemm(true, false, ci, co, n, 1, mx.pbuf[q*n*ci:], ci, gq, co, 0, s.gbuf, co)
		dwr := s.Wre.Grad.Data[q*s.In*s.Out : (q+1)*s.In*s.Out]
		dwi := s.Wim.Grad.Data[q*s.In*s.Out : (q+1)*s.In*s.Out]
		for i := 0; i < s.In; i++ {
			top := s.gbuf[i*co : (i+1)*co]
			bot := s.gbuf[(s.In+i)*co : (s.In+i+1)*co]
			if trainRe {
				for o := 0; o < s.Out; o++ {
					dwr[i*s.Out+o] += top[o] + bot[s.Out+o]
				}
			}
			if trainIm {
				for o := 0; o < s.Out; o++ {
					dwi[i*s.Out+o] += top[s.Out+o] - bot[o]
				}
			}
		}
	}
	if p.fft != nil {
		p.fft.gatherAdjoint(p.dx.Data, mx.gp, p.batch, s.In)
		return p.dx
	}
	g = mx.gp
	if mx.perm != nil {
		permute(mx.gin, mx.gp, mx.pshape, mx.invPerm, s.idx)
		g = mx.gin
	}
	for i := len(p.fwd) - 1; i >= 0; i-- {
		g = p.fwd[i].backward(g, s.idx)
	}
	return p.dx
}

// smallMix reports whether the channel mixing is small enough (In·Out ≤ 16)
// that plain loops beat one GEMM call per mode.
func (s *SpectralConv) smallMix() bool { return s.In*s.Out <= 16 }

// mixSmall sets Y[q, b] = X[q, b]·W[q] (complex, real and imaginary parts
// in the two halves of each row) by loops over W's real and imaginary parts.
func (s *SpectralConv) mixSmall(y, a []float64, modes, n int) {
	ci, co := 2*s.In, 2*s.Out
	wr, wi := s.Wre.Value.Data, s.Wim.Value.Data
	for q := 0; q < modes; q++ {
		wrq := wr[q*s.In*s.Out : (q+1)*s.In*s.Out]
		wiq := wi[q*s.In*s.Out : (q+1)*s.In*s.Out]
		for b := 0; b < n; b++ {
			x := a[(q*n+b)*ci : (q*n+b+1)*ci]
			row := y[(q*n+b)*co : (q*n+b+1)*co]
			for o := 0; o < s.Out; o++ {
				var re, im float64
				for i := 0; i < s.In; i++ {
					xr, xi := x[i], x[s.In+i]
					r, m := wrq[i*s.Out+o], wiq[i*s.Out+o]
					re += xr*r - xi*m
					im += xr*m + xi*r
				}
				row[o], row[s.Out+o] = re, im
			}
		}
	}
}

// mixSmallAdjoint is the adjoint of mixSmall: it sets dA = dY·W^H-like
// (the transpose of the real block form) and adds the weight gradients.
func (s *SpectralConv) mixSmallAdjoint(da, dy, a []float64, modes, n int, trainRe, trainIm bool) {
	ci, co := 2*s.In, 2*s.Out
	wr, wi := s.Wre.Value.Data, s.Wim.Value.Data
	dwr, dwi := s.Wre.Grad.Data, s.Wim.Grad.Data
	for q := 0; q < modes; q++ {
		base := q * s.In * s.Out
		for b := 0; b < n; b++ {
			g := dy[(q*n+b)*co : (q*n+b+1)*co]
			x := a[(q*n+b)*ci : (q*n+b+1)*ci]
			d := da[(q*n+b)*ci : (q*n+b+1)*ci]
			for i := 0; i < s.In; i++ {
				var re, im float64
				xr, xi := x[i], x[s.In+i]
				for o := 0; o < s.Out; o++ {
					gr, gi := g[o], g[s.Out+o]
					r, m := wr[base+i*s.Out+o], wi[base+i*s.Out+o]
					re += gr*r + gi*m
					im += gi*r - gr*m
					if trainRe {
						dwr[base+i*s.Out+o] += xr*gr + xi*gi
					}
					if trainIm {
						dwi[base+i*s.Out+o] += xr*gi - xi*gr
					}
				}
				d[i], d[s.In+i] = re, im
			}
		}
	}
}

// CopyModesFrom sets the weights (and biases, where both layers have them)
// of the modes that s and src both keep to those of src, matching modes by
// frequency, and leaves the other modes of s unchanged. It is how a
// trained layer is widened to more modes before fine-tuning (the
// Spectral-Refiner of ST-FNO). It panics unless s and src have the same
// channels and number of axes.
func (s *SpectralConv) CopyModesFrom(src *SpectralConv) {
	d := len(s.Modes)
	if src.In != s.In || src.Out != s.Out || len(src.Modes) != d {
		panic(fmt.Sprintf("nn: CopyModesFrom: %d→%d over modes %v from %d→%d over modes %v", src.In, src.Out, src.Modes, s.In, s.Out, s.Modes))
	}
	kdst, ksrc := s.Wre.Value.Shape[:d], src.Wre.Value.Shape[:d]
	idx := make([]int, d)
	for q := 0; q < numel(ksrc); q++ {
		r := q
		for a := d - 1; a >= 0; a-- {
			idx[a] = r % ksrc[a]
			r /= ksrc[a]
		}
		t := 0
		ok := true
		for a := 0; a < d; a++ {
			k := idx[a]
			if a < d-1 {
				k = modeFreq(idx[a], src.Modes[a])
			}
			// index of frequency k among the kept modes of s
			j := k
			if a < d-1 && k < 0 {
				j = k + 2*s.Modes[a]
			}
			if (a < d-1 && (k >= s.Modes[a] || k < -s.Modes[a])) || (a == d-1 && k >= s.Modes[a]) {
				ok = false
				break
			}
			t = t*kdst[a] + j
		}
		if !ok {
			continue
		}
		w := s.In * s.Out
		copy(s.Wre.Value.Data[t*w:(t+1)*w], src.Wre.Value.Data[q*w:(q+1)*w])
		copy(s.Wim.Value.Data[t*w:(t+1)*w], src.Wim.Value.Data[q*w:(q+1)*w])
		if s.Bre != nil && src.Bre != nil {
			copy(s.Bre.Value.Data[t*s.Out:(t+1)*s.Out], src.Bre.Value.Data[q*s.Out:(q+1)*s.Out])
			copy(s.Bim.Value.Data[t*s.Out:(t+1)*s.Out], src.Bim.Value.Data[q*s.Out:(q+1)*s.Out])
		}
	}
}
