package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The forward tests compare each layer with its defining formula evaluated
// by plain loops. Both sides sum at most a few hundred O(1) products, so
// they agree to ~1e-15; the bound 1e-12 only allows for summation order.

func TestDenseForwardDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(80, 1))
	d := NewDense(3, 4, true, r)
	x := randTensor(r, 2, 3, 5)
	y := d.Forward(x)
	for n := 0; n < 2; n++ {
		for o := 0; o < 4; o++ {
			for s := 0; s < 5; s++ {
				want := d.B.Value.Data[o]
				for i := 0; i < 3; i++ {
					want += d.W.Value.Data[o*3+i] * x.Data[(n*3+i)*5+s]
				}
				if got := y.Data[(n*4+o)*5+s]; math.Abs(got-want) > 1e-12 {
					t.Fatalf("y[%d,%d,%d] = %v, want %v", n, o, s, got, want)
				}
			}
		}
	}
}

// TestConvForwardDefinition checks 1-, 2- and 3-D convolutions with zero
// "same" padding, on grids smaller and larger than the kernel.
func TestConvForwardDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(81, 1))
	for _, c := range []struct {
		dims, k int
		grid    []int
	}{{1, 3, []int{7}}, {1, 5, []int{3}}, {2, 3, []int{4, 6}}, {2, 5, []int{6, 5}}, {3, 3, []int{3, 4, 5}}} {
		conv := NewConv(c.dims, 2, 3, c.k, true, r)
		x := randTensor(r, append([]int{2, 2}, c.grid...)...)
		y := conv.Forward(x)
		s := numel(c.grid)
		kshape := make([]int, c.dims)
		for i := range kshape {
			kshape[i] = c.k
		}
		kn := numel(kshape)
		p := c.k / 2
		for n := 0; n < 2; n++ {
			for o := 0; o < 3; o++ {
				for pos := 0; pos < s; pos++ {
					at := unravel(pos, c.grid)
					want := conv.B.Value.Data[o]
					for i := 0; i < 2; i++ {
						for q := 0; q < kn; q++ {
							off := unravel(q, kshape)
							src := make([]int, c.dims)
							inside := true
							for a := range src {
								src[a] = at[a] + off[a] - p
								inside = inside && src[a] >= 0 && src[a] < c.grid[a]
							}
							if inside {
								want += conv.W.Value.Data[(o*2+i)*kn+q] * x.Data[(n*2+i)*s+ravel(src, c.grid)]
							}
						}
					}
					if got := y.Data[(n*3+o)*s+pos]; math.Abs(got-want) > 1e-12 {
						t.Fatalf("dims %d k %d grid %v: y[%d,%d,%v] = %v, want %v", c.dims, c.k, c.grid, n, o, at, got, want)
					}
				}
			}
		}
	}
}

func TestPoolUpsampleValues(t *testing.T) {
	x := TensorFrom([]float64{1, 2, 3, 4, 5, 6, 7, 8}, 1, 1, 2, 4)
	y := NewAvgPool(2, 2).Forward(x)
	if want := []float64{3.5, 5.5}; y.Data[0] != want[0] || y.Data[1] != want[1] || len(y.Data) != 2 {
		t.Errorf("AvgPool2d = %v, want %v", y.Data, want)
	}
	// Linear, half-pixel centres (align_corners = False): [0, 1] upsampled
	// by 2 samples the input at −0.25 (clamped to 0), 0.25, 0.75, 1.25
	// (clamped to the last point).
	u := NewUpsample(1, 2, UpsampleLinear).Forward(TensorFrom([]float64{0, 1}, 1, 1, 2))
	if want := []float64{0, 0.25, 0.75, 1}; !equalApprox(u.Data, want, 1e-15) {
		t.Errorf("linear upsample = %v, want %v", u.Data, want)
	}
	u = NewUpsample(1, 3, UpsampleLinear).Forward(TensorFrom([]float64{0, 3, 6}, 1, 1, 3))
	// Output j samples at (j + ½)/3 − ½: −1/3, 0, 1/3, 2/3, 1, 4/3, 5/3, 2, 7/3.
	if want := []float64{0, 0, 1, 2, 3, 4, 5, 6, 6}; !equalApprox(u.Data, want, 1e-14) {
		t.Errorf("linear upsample ×3 = %v, want %v", u.Data, want)
	}
	n := NewUpsample(2, 2, UpsampleNearest).Forward(TensorFrom([]float64{1, 2, 3, 4}, 1, 1, 2, 2))
	if want := []float64{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}; !equalApprox(n.Data, want, 0) {
		t.Errorf("nearest upsample = %v, want %v", n.Data, want)
	}
}

func equalApprox(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

// TestGroupNormStatistics checks that with γ = 1, β = 0 every group of
// every sample has mean 0 and variance σ²/(σ² + ε) (1 up to ε), and that
// γ, β act per channel.
func TestGroupNormStatistics(t *testing.T) {
	r := rand.New(rand.NewPCG(82, 1))
	g := NewGroupNorm(2, 4)
	x := randTensor(r, 3, 4, 5, 2)
	for i := range x.Data {
		x.Data[i] = 3*x.Data[i] + 1
	}
	y := g.Forward(x).Clone() // the layer reuses its output buffer
	m := 2 * 10               // channels per group × points
	for blk := 0; blk < 3*2; blk++ {
		var mean, sq, xm, xv float64
		for _, v := range y.Data[blk*m : (blk+1)*m] {
			mean += v
		}
		for _, v := range x.Data[blk*m : (blk+1)*m] {
			xm += v
		}
		mean /= float64(m)
		xm /= float64(m)
		for j, v := range y.Data[blk*m : (blk+1)*m] {
			sq += (v - mean) * (v - mean)
			d := x.Data[blk*m+j] - xm
			xv += d * d
		}
		xv /= float64(m)
		if math.Abs(mean) > 1e-14 || math.Abs(sq/float64(m)-xv/(xv+g.Eps)) > 1e-14 {
			t.Errorf("group %d: mean %v, variance %v, want 0 and %v", blk, mean, sq/float64(m), xv/(xv+g.Eps))
		}
	}
	g.Gamma.Value.Data[3] = 2
	g.Beta.Value.Data[3] = -1
	y2 := g.Forward(x)
	for n := 0; n < 3; n++ {
		for s := 0; s < 10; s++ {
			i := (n*4+3)*10 + s
			if math.Abs(y2.Data[i]-(2*y.Data[i]-1)) > 1e-14 {
				t.Fatalf("affine map of channel 3 wrong at %d", i)
			}
		}
	}
}

// TestActivationValues compares with the formulas through other functions
// of package math (erfc for Φ, 1/(1+e⁻ˣ) for σ).
func TestActivationValues(t *testing.T) {
	xs := []float64{-4, -1.3, -0.2, 0, 0.7, 2.5}
	x := TensorFrom(xs, 1, len(xs))
	for _, c := range []struct {
		kind ActivationKind
		f    func(float64) float64
	}{
		{ActReLU, func(v float64) float64 { return math.Max(v, 0) }},
		{ActGELU, func(v float64) float64 { return v * 0.5 * math.Erfc(-v/math.Sqrt2) }},
		{ActGELUTanh, func(v float64) float64 {
			return 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
		}},
		{ActSiLU, func(v float64) float64 { return v / (1 + math.Exp(-v)) }},
		{ActIdentity, func(v float64) float64 { return v }},
	} {
		y := NewActivation(c.kind).Forward(x)
		for i, v := range xs {
			if want := c.f(v); math.Abs(y.Data[i]-want) > 1e-15*math.Max(1, math.Abs(want)) {
				t.Errorf("%s(%v) = %v, want %v", c.kind, v, y.Data[i], want)
			}
		}
	}
}

// TestConvDirectKernel runs the definition and gradient checks on shapes
// that take the AVX-512 direct path (channels and last axis multiples of
// 8, with 16-wide blocks and an 8-wide tail) where the CPU has it; with
// the purego tag or without AVX-512 the same shapes test the GEMM path.
func TestConvDirectKernel(t *testing.T) {
	r := rand.New(rand.NewPCG(83, 1))
	for _, c := range []struct {
		dims, in, out, k int
		grid             []int
	}{
		{2, 8, 16, 3, []int{3, 24}},
		{3, 16, 8, 3, []int{2, 3, 8}},
		{1, 8, 8, 5, []int{16}},
		{2, 4, 4, 3, []int{11, 16}}, // weight-gradient kernel over 8 + 3 rows
	} {
		conv := NewConv(c.dims, c.in, c.out, c.k, true, r)
		x := randTensor(r, append([]int{2, c.in}, c.grid...)...)
		_, g := conv.geometry(x)
		if hasConvKernel && c.in == 8 && (!direct(c.out, g) || !direct(c.in, g)) {
			t.Fatalf("%v: direct path not taken", c)
		}
		if hasConvKernel && c.k == 3 && !directGrad(c.out, g) {
			t.Fatalf("%v: direct weight-gradient path not taken", c)
		}
		y := conv.Forward(x).Clone()
		// Reference: the im2col path with the same weights.
		ref := NewConv(c.dims, c.in, c.out, c.k, true, r)
		copy(ref.W.Value.Data, conv.W.Value.Data)
		copy(ref.B.Value.Data, conv.B.Value.Data)
		want := refConv(ref, x)
		for i := range want {
			if math.Abs(y.Data[i]-want[i]) > 1e-12 {
				t.Fatalf("%v: y[%d] = %v, im2col %v", c, i, y.Data[i], want[i])
			}
		}
		gradCheck(t, "direct conv", conv, x, r, 1e-6)
	}
}

// refConv evaluates the convolution through im2col and GEMM.
func refConv(c *Conv, x *Tensor) []float64 {
	n, g := c.geometry(x)
	s := g.d * g.h * g.w
	y := make([]float64, n*c.Out*s)
	cols := make([]float64, g.ck*s)
	for i := 0; i < n; i++ {
		im2col(cols, x.Data[i*c.In*s:(i+1)*c.In*s], c.In, g, 0, g.d*g.h)
		for o := 0; o < c.Out; o++ {
			for p := 0; p < s; p++ {
				v := c.B.Value.Data[o]
				for q := 0; q < g.ck; q++ {
					v += c.W.Value.Data[o*g.ck+q] * cols[q*s+p]
				}
				y[(i*c.Out+o)*s+p] = v
			}
		}
	}
	return y
}
