package nn

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

// spectralReference computes the spectral convolution from its definition
// with naive complex DFTs, independently of the GEMM stages: the full
// complex DFT of x over all axes (unnormalised, as rfftn), restricted to the
// kept modes of the half spectrum; channel mixing; the bias, as N_in·δ·b on
// that unnormalised spectrum; then irfftn: inverse complex DFTs (with 1/n′)
// over all axes but the last and the inverse real DFT over the last
// (Re Z₀ + 2 Σ_{0<k<n′/2} Re(Z_k e^{iθ}) + Re(Z_{n′/2} e^{iθ}), times 1/n′),
// finally multiplied by N_out/N_in, the documented normalisation (1 when
// the grid is not resampled, so that the result is exactly numpy's
// irfftn(mix(rfftn(x)))).
func spectralReference(s *SpectralConv, x *Tensor) *Tensor {
	d := len(s.Modes)
	in := x.Shape[2:]
	out := in
	if s.OutSize != nil {
		out = s.OutSize
	}
	nb := x.Shape[0]
	nIn, nOut := numel(in), numel(out)
	// Kept modes as frequency tuples, in the parameter order.
	K := make([]int, d)
	for a, m := range s.Modes {
		K[a] = 2 * m
	}
	K[d-1] = s.Modes[d-1]
	nm := numel(K)
	freqs := make([][]int, nm)
	for q := 0; q < nm; q++ {
		idx := unravel(q, K)
		f := make([]int, d)
		for a := range idx {
			if a < d-1 {
				f[a] = modeFreq(idx[a], s.Modes[a])
			} else {
				f[a] = idx[a]
			}
		}
		freqs[q] = f
	}
	y := NewTensor(append([]int{nb, s.Out}, out...)...)
	for b := 0; b < nb; b++ {
		// X[i][q] = Σ_s x e^{−2πi k·s/n}
		X := make([][]complex128, s.In)
		for i := 0; i < s.In; i++ {
			X[i] = make([]complex128, nm)
			for q, f := range freqs {
				var acc complex128
				for p := 0; p < nIn; p++ {
					sv := unravel(p, in)
					var ph float64
					for a := range sv {
						ph += float64(f[a]*sv[a]) / float64(in[a])
					}
					acc += complex(x.Data[(b*s.In+i)*nIn+p], 0) * cmplx.Exp(complex(0, -2*math.Pi*ph))
				}
				X[i][q] = acc
			}
		}
		for o := 0; o < s.Out; o++ {
			Z := make([]complex128, nm)
			for q := range freqs {
				for i := 0; i < s.In; i++ {
					w := complex(s.Wre.Value.Data[(q*s.In+i)*s.Out+o], s.Wim.Value.Data[(q*s.In+i)*s.Out+o])
					Z[q] += X[i][q] * w
				}
				if s.Bre != nil {
					Z[q] += complex(float64(nIn)*s.BiasScale, 0) * complex(s.Bre.Value.Data[q*s.Out+o], s.Bim.Value.Data[q*s.Out+o])
				}
			}
			for p := 0; p < nOut; p++ {
				sv := unravel(p, out)
				var acc float64
				for q, f := range freqs {
					var ph float64
					for a := 0; a < d-1; a++ {
						ph += float64(f[a]*sv[a]) / float64(out[a])
					}
					v := Z[q] * cmplx.Exp(complex(0, 2*math.Pi*ph)) // inverse over the full axes (×n′_a, the 1/n′_a applied below)
					kd, nd := f[d-1], out[d-1]
					c := 2.0
					if kd == 0 || 2*kd == nd {
						c = 1
					}
					acc += c * real(v*cmplx.Exp(complex(0, 2*math.Pi*float64(kd*sv[d-1])/float64(nd))))
				}
				// irfftn's 1/N_out, then the documented factor N_out/N_in.
				y.Data[(b*s.Out+o)*nOut+p] = acc / float64(nOut) * float64(nOut) / float64(nIn)
			}
		}
	}
	return y
}

func maxAbs(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}

type spectralCase struct {
	name    string
	in, out int
	modes   []int
	grid    []int
	outSize []int
	bias    bool
}

var spectralCases = []spectralCase{
	{"1-D odd", 2, 3, []int{4}, []int{9}, nil, false},
	{"1-D even with Nyquist", 2, 2, []int{5}, []int{8}, nil, true},
	{"2-D non-square odd", 3, 2, []int{2, 3}, []int{5, 7}, nil, true},
	{"2-D non-square even", 2, 3, []int{3, 2}, []int{6, 4}, nil, false},
	{"2-D resampled", 2, 2, []int{2, 3}, []int{5, 6}, []int{7, 4}, true},
	{"3-D odd", 2, 2, []int{1, 2, 2}, []int{3, 5, 3}, nil, true},
	{"3-D resampled last axis", 2, 3, []int{2, 1, 3}, []int{4, 3, 6}, []int{4, 3, 9}, false},
	// In·Out > 16: channel mixing by GEMM instead of loops.
	{"2-D wide mixing", 5, 4, []int{2, 2}, []int{5, 4}, nil, true},
	{"3-D wide mixing resampled", 4, 5, []int{1, 2, 2}, []int{3, 4, 4}, []int{2, 5, 3}, true},
}

func (c spectralCase) layer(r *rand.Rand) *SpectralConv {
	s := NewSpectralConv(c.in, c.out, c.modes, c.bias, r)
	// Weights and biases of both signs, so that no cancellation hides a
	// sign error.
	s.Wre.Value.FillUniform(r, -1, 1)
	s.Wim.Value.FillUniform(r, -1, 1)
	if c.bias {
		s.Bre.Value.FillUniform(r, -1, 1)
		s.Bim.Value.FillUniform(r, -1, 1)
		s.BiasScale = 0.7
	}
	s.OutSize = c.outSize
	return s
}

// TestSpectralConvDefinition compares Forward with the naive DFT definition.
// Both are sums of at most a few hundred O(1) terms in float64, so they
// agree to about 1e-14 relative; the acceptance bound is 1e-10.
func TestSpectralConvDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(30, 1))
	for _, c := range spectralCases {
		for _, method := range []SpectralMethod{SpectralDFT, SpectralFFT} {
			name := c.name + " " + string(method)
			s := c.layer(r)
			s.Method = method
			x := randTensor(r, append([]int{2, c.in}, c.grid...)...)
			got := s.Forward(x)
			want := spectralReference(s, x)
			if !got.SameShape(want) {
				t.Fatalf("%s: shape %v, want %v", name, got.Shape, want.Shape)
			}
			scale := maxAbs(want.Data)
			var worst float64
			for i := range got.Data {
				worst = max(worst, math.Abs(got.Data[i]-want.Data[i]))
			}
			if worst > 1e-10*scale {
				t.Errorf("%s: max |Forward − definition| = %.3g, scale %.3g", name, worst, scale)
			} else if testing.Verbose() {
				t.Logf("%s: max relative deviation %.2g", name, worst/scale)
			}
		}
	}
}

func TestGradSpectralConv(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 1))
	for _, c := range spectralCases {
		for _, method := range []SpectralMethod{SpectralDFT, SpectralFFT} {
			s := c.layer(r)
			s.Method = method
			x := randTensor(r, append([]int{2, c.in}, c.grid...)...)
			gradCheck(t, "SpectralConv "+c.name+" "+string(method), s, x, r, 1e-6)
		}
	}
}

// TestSpectralConvResamplesBandLimited checks the normalisation: with the
// identity as the weight of every mode, a band-limited signal is mapped to
// the same trigonometric polynomial sampled on the output grid.
func TestSpectralConvResamplesBandLimited(t *testing.T) {
	r := rand.New(rand.NewPCG(32, 1))
	for _, method := range []SpectralMethod{SpectralDFT, SpectralFFT} {
		s := NewSpectralConv(1, 1, []int{3, 3}, false, r)
		s.Method = method
		s.Wre.Value.Fill(1)
		s.Wim.Value.Fill(0)
		f := func(u, v float64) float64 { // periodic on [0,1)², |k| ≤ 2
			return 0.3 + math.Cos(2*math.Pi*(u+2*v)) - 0.5*math.Sin(2*math.Pi*(2*u-v)) + 0.25*math.Cos(2*math.Pi*2*v)
		}
		in, out := []int{8, 6}, []int{11, 10}
		x := NewTensor(1, 1, in[0], in[1])
		for i := 0; i < in[0]; i++ {
			for j := 0; j < in[1]; j++ {
				x.Data[i*in[1]+j] = f(float64(i)/float64(in[0]), float64(j)/float64(in[1]))
			}
		}
		s.OutSize = out
		y := s.Forward(x)
		for i := 0; i < out[0]; i++ {
			for j := 0; j < out[1]; j++ {
				want := f(float64(i)/float64(out[0]), float64(j)/float64(out[1]))
				if got := y.Data[i*out[1]+j]; math.Abs(got-want) > 1e-12 {
					t.Fatalf("%s: y[%d,%d] = %v, want %v", method, i, j, got, want)
				}
			}
		}
	}
}

// TestCopyModesFrom widens a layer to more modes with zero weights on the
// new ones: it must then compute exactly the same map as the original.
func TestCopyModesFrom(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 1))
	small := NewSpectralConv(2, 3, []int{2, 3, 2}, true, r)
	small.Bre.Value.FillUniform(r, -1, 1)
	small.Bim.Value.FillUniform(r, -1, 1)
	big := NewSpectralConv(2, 3, []int{3, 4, 3}, true, r)
	big.Wre.Value.Zero()
	big.Wim.Value.Zero()
	big.CopyModesFrom(small)
	x := randTensor(r, 2, 2, 8, 9, 6)
	want := small.Forward(x).Clone()
	got := big.Forward(x)
	for i := range want.Data {
		if math.Abs(got.Data[i]-want.Data[i]) > 1e-13 {
			t.Fatalf("widened layer differs at %d: %v vs %v", i, got.Data[i], want.Data[i])
		}
	}
	// Copying back into a narrower layer restores the original weights.
	back := NewSpectralConv(2, 3, []int{2, 3, 2}, true, r)
	back.CopyModesFrom(big)
	for i, v := range small.Wre.Value.Data {
		if back.Wre.Value.Data[i] != v || back.Wim.Value.Data[i] != small.Wim.Value.Data[i] {
			t.Fatalf("weight %d not restored", i)
		}
	}
}
