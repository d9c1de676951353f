package stfno

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"eddy/nn"
)

// Model is an ST-FNO: a map from T_in vorticity frames to T_out frames on
// the same n×n grid, for any n with 2·modes ≤ n (spec §2). Tensors are
// passed as B×T×n×n (sample, t, y, x), the layout of the data sets; inside,
// latent fields are B×C×n×n×T (sample, channel, y, x, t), so that time is
// the real half-spectrum axis of the spectral convolutions.
//
// The forward pass, with σ the activation and K a spectral convolution
// keeping modes (m_y, m_x, m_t):
//
//  1. lifting: v = ω (broadcast to C channels) + PE, PE = [x, y, t,
//     e^{βt} sin π t, e^{βt} cos π t, e^{βt} sin 2πt, …] with x_j = j/n,
//     y_i = i/n (the periodic grid, so that the encoding of a 2n grid
//     sampled at even points is that of the n grid) and t_k = (k+1)/100 as
//     in the authors' code; h = W₀·GroupNorm₁(v) + b₀ (1×1×1 convolution);
//     v = σ(h(t_last) + MLP(K_T h)), where K_T resamples T_in → T_lat and
//     MLP = Dense(C → E·C), σ, Dense(E·C → C);
//  2. Layers − 1 hidden layers v ← σ(MLP(K v) + W v + b);
//  3. reduction q = w·v + b (C → 1), B×1×n×n×T_lat;
//  4. output operator: z = [0 (T_lat+1 frames), ω(t_last), q] in time, a
//     1→1 spectral convolution with per-mode bias ×δ resampling the
//     2(T_lat+1) points to T_out + T_lat + 2, of which the last T_out are
//     kept: ω_out(t_k) = ω(t_last) + s(t_{T_lat+2+k}).
//
// Spectral weights start uniform in [0, 0.5/(C_in·C_out)) as in the spec,
// pointwise layers as PyTorch initialises them, biases of the spectral
// operators at 0. A Model is not safe for concurrent use; its Forward and
// Backward reuse buffers from call to call (see package nn).
type Model struct {
	Config

	lift   *lifting
	hidden []*hiddenLayer
	reduce *nn.Dense
	out    *outputOp
	params []*nn.Param

	pe map[[2]int]*nn.Tensor // positional encodings by (n, T_in)

	// forward state
	batch, n, tIn int
	xt, wl        *nn.Tensor // input as B×1×n×n×T_in; last input frame B×n×n
	dx            *nn.Tensor
}

// New returns an ST-FNO with weights drawn from a generator seeded by seed.
func New(c Config, seed uint64) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("stfno: %w", err)
	}
	r := rand.New(rand.NewPCG(seed, 0x5f3759df))
	m := &Model{Config: c, pe: map[[2]int]*nn.Tensor{}}
	modes := []int{c.ModesY, c.ModesX, c.ModesT}
	m.lift = newLifting(c, modes, r)
	for i := 1; i < c.Layers; i++ {
		m.hidden = append(m.hidden, newHidden(c, modes, r, fmt.Sprintf("hidden.%d", i-1)))
	}
	m.reduce = nn.NewDense(c.Width, 1, true, r)
	named("reduce", m.reduce.Params())
	m.out = newOutputOp(modes, c.Delta, c.TLat, r)
	named("out", m.out.conv.Params())

	m.params = append(m.params, m.lift.params()...)
	for _, h := range m.hidden {
		m.params = append(m.params, h.params()...)
	}
	m.params = append(m.params, m.reduce.Params()...)
	m.params = append(m.params, m.out.conv.Params()...)
	return m, nil
}

// Params returns the parameters, named by their place in the network
// ("lift.kt.weight_re", "hidden.0.mlp1.weight", "out.bias_im", …).
func (m *Model) Params() []*nn.Param { return m.params }

// named prefixes the names of ps.
func named(prefix string, ps []*nn.Param) {
	for _, p := range ps {
		p.Name = prefix + "." + p.Name
	}
}

// newSpectral returns a spectral convolution with the spec's initial
// weights, U[0, 0.5/(in·out)).
func newSpectral(in, out int, modes []int, bias bool, r *rand.Rand) *nn.SpectralConv {
	s := nn.NewSpectralConv(in, out, modes, bias, r)
	for _, p := range []*nn.Param{s.Wre, s.Wim} {
		for i := range p.Value.Data {
			p.Value.Data[i] *= 0.5
		}
	}
	return s
}

// mlp is Dense(C → E·C), σ, Dense(E·C → C).
type mlp struct {
	d1, d2 *nn.Dense
	act    *nn.Activation
}

func newMLP(c Config, r *rand.Rand, prefix string) *mlp {
	m := &mlp{d1: nn.NewDense(c.Width, c.Expansion*c.Width, true, r), d2: nn.NewDense(c.Expansion*c.Width, c.Width, true, r),
		act: nn.NewActivation(c.Activation)}
	named(prefix+".mlp1", m.d1.Params())
	named(prefix+".mlp2", m.d2.Params())
	return m
}

func (m *mlp) forward(x *nn.Tensor) *nn.Tensor { return m.d2.Forward(m.act.Forward(m.d1.Forward(x))) }
func (m *mlp) backward(g *nn.Tensor) *nn.Tensor {
	return m.d1.Backward(m.act.Backward(m.d2.Backward(g)))
}
func (m *mlp) params() []*nn.Param { return append(m.d1.Params(), m.d2.Params()...) }

// lifting is step 1 of the forward pass.
type lifting struct {
	norm *nn.GroupNorm
	conv *nn.Dense
	kt   *nn.SpectralConv
	mlp  *mlp
	act  *nn.Activation
	tLat int

	v0, s, dh, dxt *nn.Tensor
	outSize        []int
}

func newLifting(c Config, modes []int, r *rand.Rand) *lifting {
	l := &lifting{norm: nn.NewLayerNorm(c.Width), conv: nn.NewDense(c.Width, c.Width, true, r),
		kt: newSpectral(c.Width, c.Width, modes, false, r), tLat: c.TLat, act: nn.NewActivation(c.Activation)}
	named("lift.norm", l.norm.Params())
	named("lift.conv", l.conv.Params())
	named("lift.kt", l.kt.Params())
	l.mlp = newMLP(c, r, "lift")
	l.outSize = make([]int, 3)
	return l
}

func (l *lifting) params() []*nn.Param {
	ps := append(append(l.norm.Params(), l.conv.Params()...), l.kt.Params()...)
	return append(ps, l.mlp.params()...)
}

// forward maps xt (B×1×n×n×T_in) and the encoding pe (C×n×n×T_in) to the
// latent B×C×n×n×T_lat.
func (l *lifting) forward(xt, pe *nn.Tensor) *nn.Tensor {
	b, n, tIn := xt.Shape[0], xt.Shape[2], xt.Shape[4]
	c := pe.Shape[0]
	l.v0 = reuseT(l.v0, b, c, n, n, tIn)
	g := n * n * tIn
	for i := 0; i < b; i++ {
		x := xt.Data[i*g : (i+1)*g]
		for ch := 0; ch < c; ch++ {
			dst := l.v0.Data[(i*c+ch)*g : (i*c+ch+1)*g]
			p := pe.Data[ch*g : (ch+1)*g]
			for k := range dst {
				dst[k] = x[k] + p[k]
			}
		}
	}
	h := l.conv.Forward(l.norm.Forward(l.v0))
	l.outSize[0], l.outSize[1], l.outSize[2] = n, n, l.tLat
	l.kt.OutSize = l.outSize
	k := l.mlp.forward(l.kt.Forward(h))
	// s = h(t_last) broadcast over T_lat + k
	l.s = reuseT(l.s, b, c, n, n, l.tLat)
	lines := b * c * n * n
	for j := 0; j < lines; j++ {
		hl := h.Data[j*tIn+tIn-1]
		src := k.Data[j*l.tLat : (j+1)*l.tLat]
		dst := l.s.Data[j*l.tLat : (j+1)*l.tLat]
		for t, v := range src {
			dst[t] = hl + v
		}
	}
	return l.act.Forward(l.s)
}

// backward returns ∂L/∂xt (B×1×n×n×T_in).
func (l *lifting) backward(dv *nn.Tensor) *nn.Tensor {
	ds := l.act.Backward(dv)
	dhk := l.kt.Backward(l.mlp.backward(ds))
	l.dh = reuseT(l.dh, dhk.Shape...)
	copy(l.dh.Data, dhk.Data)
	tIn := dhk.Shape[4]
	lines := len(l.dh.Data) / tIn
	for j := 0; j < lines; j++ {
		var sum float64
		for _, v := range ds.Data[j*l.tLat : (j+1)*l.tLat] {
			sum += v
		}
		l.dh.Data[j*tIn+tIn-1] += sum
	}
	dv0 := l.norm.Backward(l.conv.Backward(l.dh))
	b, c, n := dv0.Shape[0], dv0.Shape[1], dv0.Shape[2]
	l.dxt = reuseT(l.dxt, b, 1, n, n, tIn)
	g := n * n * tIn
	for i := 0; i < b; i++ {
		dst := l.dxt.Data[i*g : (i+1)*g]
		copy(dst, dv0.Data[i*c*g:(i*c+1)*g])
		for ch := 1; ch < c; ch++ {
			src := dv0.Data[(i*c+ch)*g : (i*c+ch+1)*g]
			for k, v := range src {
				dst[k] += v
			}
		}
	}
	return l.dxt
}

// hiddenLayer is v ← σ(MLP(K v) + W v + b).
type hiddenLayer struct {
	k   *nn.SpectralConv
	mlp *mlp
	w   *nn.Dense
	act *nn.Activation

	s, dv *nn.Tensor
}

func newHidden(c Config, modes []int, r *rand.Rand, prefix string) *hiddenLayer {
	h := &hiddenLayer{k: newSpectral(c.Width, c.Width, modes, false, r), w: nn.NewDense(c.Width, c.Width, true, r),
		act: nn.NewActivation(c.Activation)}
	named(prefix+".k", h.k.Params())
	h.mlp = newMLP(c, r, prefix)
	named(prefix+".w", h.w.Params())
	return h
}

func (h *hiddenLayer) params() []*nn.Param {
	return append(append(h.k.Params(), h.mlp.params()...), h.w.Params()...)
}

func (h *hiddenLayer) forward(v *nn.Tensor) *nn.Tensor {
	a := h.mlp.forward(h.k.Forward(v))
	w := h.w.Forward(v)
	h.s = reuseT(h.s, a.Shape...)
	for i, x := range a.Data {
		h.s.Data[i] = x + w.Data[i]
	}
	return h.act.Forward(h.s)
}

func (h *hiddenLayer) backward(dv *nn.Tensor) *nn.Tensor {
	ds := h.act.Backward(dv)
	a := h.k.Backward(h.mlp.backward(ds))
	h.dv = reuseT(h.dv, a.Shape...)
	copy(h.dv.Data, a.Data)
	w := h.w.Backward(ds)
	for i, x := range w.Data {
		h.dv.Data[i] += x
	}
	return h.dv
}

// positional returns the encoding C×n×n×T (see Model).
func (m *Model) positional(n, tIn int) *nn.Tensor {
	key := [2]int{n, tIn}
	if pe, ok := m.pe[key]; ok {
		return pe
	}
	c := m.Width
	pe := nn.NewTensor(c, n, n, tIn)
	g := n * n * tIn
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			for k := 0; k < tIn; k++ {
				t := float64(k+1) / 100
				o := (i*n+j)*tIn + k
				pe.Data[o] = float64(j) / float64(n)
				pe.Data[g+o] = float64(i) / float64(n)
				pe.Data[2*g+o] = t
				e := math.Exp(m.Beta * t)
				for ch := 3; ch < c; ch++ {
					f := math.Pi * float64((ch-3)/2+1) * t
					if (ch-3)%2 == 0 {
						pe.Data[ch*g+o] = e * math.Sin(f)
					} else {
						pe.Data[ch*g+o] = e * math.Cos(f)
					}
				}
			}
		}
	}
	m.pe[key] = pe
	return pe
}

// Forward maps input frames x (B×T_in×n×n, layout (sample, t, y, x)) to
// the predicted B×T_out×n×n frames that follow them at the same spacing.
// It panics if the shapes do not fit the model (2·modes ≤ n, T_in ≥ 2,
// modes_t ≤ ⌊T_in/2⌋+1, tOut ≥ 1). The result is owned by the model and
// overwritten by the next Forward. Cost: dominated by the Layers spectral
// convolutions and the 2·E·C² flops per point and time of the MLPs.
func (m *Model) Forward(x *nn.Tensor, tOut int) *nn.Tensor {
	q := m.latent(x, tOut)
	return m.out.forward(q, m.wl, tOut)
}

// latent runs steps 1–3 and records the shapes for Backward.
func (m *Model) latent(x *nn.Tensor, tOut int) *nn.Tensor {
	if x.Rank() != 4 || x.Shape[2] != x.Shape[3] {
		panic(fmt.Sprintf("stfno: Forward: input %v, want B×T_in×n×n", x.Shape))
	}
	b, tIn, n := x.Shape[0], x.Shape[1], x.Shape[2]
	if err := m.checkGrid(n, tIn, tOut); err != nil {
		panic(err.Error())
	}
	m.batch, m.n, m.tIn = b, n, tIn
	m.xt = reuseT(m.xt, b, 1, n, n, tIn)
	m.wl = reuseT(m.wl, b, n, n)
	nn2 := n * n
	for i := 0; i < b; i++ {
		for t := 0; t < tIn; t++ {
			src := x.Data[(i*tIn+t)*nn2 : (i*tIn+t+1)*nn2]
			dst := m.xt.Data[i*nn2*tIn:]
			for p, v := range src {
				dst[p*tIn+t] = v
			}
		}
		copy(m.wl.Data[i*nn2:(i+1)*nn2], x.Data[(i*tIn+tIn-1)*nn2:(i*tIn+tIn)*nn2])
	}
	v := m.lift.forward(m.xt, m.positional(n, tIn))
	for _, h := range m.hidden {
		v = h.forward(v)
	}
	return m.reduce.Forward(v)
}

// Backward takes ∂L/∂y for the last Forward, adds ∂L/∂θ to the gradients of
// the non-frozen parameters and returns ∂L/∂x (B×T_in×n×n, owned by the
// model). Cost about twice Forward.
func (m *Model) Backward(dy *nn.Tensor) *nn.Tensor {
	if m.xt == nil {
		panic("stfno: Backward before Forward")
	}
	dq, dwl := m.out.backward(dy)
	return m.latentBackward(dq, dwl)
}

func (m *Model) latentBackward(dq, dwl *nn.Tensor) *nn.Tensor {
	g := m.reduce.Backward(dq)
	for i := len(m.hidden) - 1; i >= 0; i-- {
		g = m.hidden[i].backward(g)
	}
	dxt := m.lift.backward(g)
	b, tIn, n := m.batch, m.tIn, m.n
	nn2 := n * n
	m.dx = reuseT(m.dx, b, tIn, n, n)
	for i := 0; i < b; i++ {
		src := dxt.Data[i*nn2*tIn : (i+1)*nn2*tIn]
		for t := 0; t < tIn; t++ {
			dst := m.dx.Data[(i*tIn+t)*nn2 : (i*tIn+t+1)*nn2]
			for p := range dst {
				dst[p] = src[p*tIn+t]
			}
		}
		last := m.dx.Data[(i*tIn+tIn-1)*nn2 : (i*tIn+tIn)*nn2]
		for p, v := range dwl.Data[i*nn2 : (i+1)*nn2] {
			last[p] += v
		}
	}
	return m.dx
}

// reuseT returns t if it has the given shape, else a new zero tensor.
func reuseT(t *nn.Tensor, shape ...int) *nn.Tensor {
	if t != nil && slices.Equal(t.Shape, shape) {
		return t
	}
	return nn.NewTensor(shape...)
}
