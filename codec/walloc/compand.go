package walloc

import (
	"math"
	"math/rand/v2"

	"eddy/nn"
)

// Companding constants for b = 8 latent bits (spec §1.4):
// s = (2^(b−1) − 1)/1.85 and M = 2^(b−1) − 1 + ½ − 10⁻³.
const (
	companderScale = 127.0 / 1.85
	companderMax   = 127.0 + 0.5 - 1e-3
	cdfMin, cdfMax = 1e-4, 0.9999
)

// normCDF is the standard normal CDF Φ.
func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// normPDF is the standard normal density φ.
func normPDF(x float64) float64 { return math.Exp(-0.5*x*x) / math.Sqrt(2*math.Pi) }

// normQuantile is Φ⁻¹.
func normQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// ToUniform is the compander of spec §1.4, y = 2M·(Φ(z/s) − ½): it maps
// N(0, s²) to about U(−M, M), s = 68.65, M = 127.499.
func ToUniform(z float64) float64 { return 2 * companderMax * (normCDF(z/companderScale) - 0.5) }

// ToNormal is its inverse on the quantised values, ẑ = s·Φ⁻¹(clip(y/(2M) + ½,
// 10⁻⁴, 0.9999)).
func ToNormal(y float64) float64 {
	p := min(max(y/(2*companderMax)+0.5, cdfMin), cdfMax)
	return companderScale * normQuantile(p)
}

// Quantize returns round(ToUniform(z)), an integer in [−127, 127] (halves
// round away from zero).
func Quantize(z float64) int8 {
	if math.IsNaN(z) {
		return 0
	}
	return int8(math.Round(ToUniform(z)))
}

// dequant[q+128] is ToNormal(q).
var dequant = func() (t [256]float64) {
	for i := range t {
		t[i] = ToNormal(float64(i - 128))
	}
	return
}()

// Dequantize returns ToNormal(q), the decoder's input for latent q.
func Dequantize(q int8) float64 { return dequant[int(q)+128] }

// Compander is the entropy bottleneck as an nn layer (spec §1.4): for each
// latent z it computes y = ToUniform(z), then ỹ = y + u with u ~ U(−½, ½)
// from Noise (training) or ỹ = round(y) when Noise is nil (evaluation), and
// returns ẑ = ToNormal(ỹ). Backward treats the noise as a constant input
// (the additive-noise proxy) and the rounding as the identity (straight
// through), with
//
//	∂ẑ/∂z = φ(z/s) / φ(Φ⁻¹(p)),  p = ỹ/(2M) + ½,
//
// and 0 where p is clipped. It has no parameters.
type Compander struct {
	Noise *rand.Rand

	y, dx *nn.Tensor
	deriv []float64
}

// Forward applies the bottleneck element-wise.
func (c *Compander) Forward(x *nn.Tensor) *nn.Tensor {
	if c.y == nil || len(c.y.Data) != len(x.Data) {
		c.y = nn.NewTensor(x.Shape...)
		c.dx = nn.NewTensor(x.Shape...)
		c.deriv = make([]float64, len(x.Data))
	}
	copy(c.y.Shape, x.Shape)
	copy(c.dx.Shape, x.Shape)
	for i, z := range x.Data {
		y := ToUniform(z)
		if c.Noise != nil {
			y += c.Noise.Float64() - 0.5
		} else {
			y = math.Round(y)
		}
		p := y/(2*companderMax) + 0.5
		if p <= cdfMin || p >= cdfMax {
			p = min(max(p, cdfMin), cdfMax)
			c.y.Data[i] = companderScale * normQuantile(p)
			c.deriv[i] = 0
			continue
		}
		q := normQuantile(p)
		c.y.Data[i] = companderScale * q
		c.deriv[i] = normPDF(z/companderScale) / normPDF(q)
	}
	return c.y
}

// Backward returns ∂L/∂z.
func (c *Compander) Backward(dy *nn.Tensor) *nn.Tensor {
	for i, g := range dy.Data {
		c.dx.Data[i] = g * c.deriv[i]
	}
	return c.dx
}

// Params returns nil.
func (c *Compander) Params() []*nn.Param { return nil }
