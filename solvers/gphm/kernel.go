package gphm

import (
	"fmt"
	"math"
	"slices"
)

// Kernel selects the stationary covariance used in every input dimension.
type Kernel int

const (
	// GM is the spectral-mixture kernel (GP-HM-GM): a Gaussian mixture power
	// spectrum, k(z) = Σ_q w_q exp(−ρ_q² z²) cos(2π μ_q z), with ρ_q² = exp(LogLS_q).
	GM Kernel = iota
	// StM is GP-HM-StM: a Student-t mixture spectrum, whose Fourier pair is
	// k(z) = Σ_q w_q γ_q(|z|) cos(2π μ_q z) with the Matérn-5/2 kernel
	// γ_q(r) = (1 + c r + c² r²/3) exp(−c r), c = √5 exp(LogLS_q) (an inverse lengthscale).
	StM
	// SE is the baseline scale mixture of squared exponentials,
	// k(z) = Σ_q w_q exp(−exp(LogLS_q) z²); Mu is unused.
	SE
	// Matern is the baseline scale mixture of Matérn-5/2 kernels,
	// k(z) = Σ_q w_q γ_q(|z|); Mu is unused.
	Matern
)

var kernelNames = [...]string{GM: "gm", StM: "stm", SE: "se", Matern: "matern"}

// String returns the API name of k: gm, stm, se or matern.
func (k Kernel) String() string {
	if k < 0 || int(k) >= len(kernelNames) {
		return fmt.Sprintf("Kernel(%d)", int(k))
	}
	return kernelNames[k]
}

// ParseKernel returns the kernel named s (gm, stm, se, matern).
func ParseKernel(s string) (Kernel, error) {
	for k, name := range kernelNames {
		if name == s {
			return Kernel(k), nil
		}
	}
	return 0, fmt.Errorf("unknown kernel %q (want gm, stm, se or matern)", s)
}

// Modulated reports whether k has frequencies μ (GM and StM).
func (k Kernel) Modulated() bool { return k == GM || k == StM }

// Spectrum holds the Q mixture components of the kernel of one input dimension:
// weights w_q = exp(LogW[q]), the lengthscale parameter LogLS[q] (ρ² = exp(LogLS)
// for GM and SE, inverse lengthscale c = √5 exp(LogLS) for StM and Matern) and the
// frequencies Mu[q] in cycles per unit length. All three slices have length Q.
type Spectrum struct {
	LogW, LogLS, Mu []float64
}

// cloneSpectra returns a copy of specs that shares no storage with it.
func cloneSpectra(specs []Spectrum) []Spectrum {
	c := make([]Spectrum, len(specs))
	for j, s := range specs {
		c[j] = Spectrum{LogW: slices.Clone(s.LogW), LogLS: slices.Clone(s.LogLS), Mu: slices.Clone(s.Mu)}
	}
	return c
}

// NewSpectrum returns the initial spectrum of Fang et al. (§1.4 of the spec):
// w_q = 1/Q, LogLS_q = 0 and μ_q = F·q/(Q−1), q = 0..Q−1 (μ = 0 for SE and Matern).
func NewSpectrum(k Kernel, q int, freqScale float64) Spectrum {
	if q < 1 {
		panic(fmt.Sprintf("gphm: %d components", q))
	}
	s := Spectrum{LogW: make([]float64, q), LogLS: make([]float64, q), Mu: make([]float64, q)}
	for i := range q {
		s.LogW[i] = math.Log(1 / float64(q))
		if k.Modulated() && q > 1 {
			s.Mu[i] = freqScale * float64(i) / float64(q-1)
		}
	}
	return s
}

// Q returns the number of components.
func (s Spectrum) Q() int { return len(s.LogW) }

// component evaluates one mixture component g and its first two derivatives in
// the signed lag z, g[d] = ∂^d g/∂z^d, together with their derivatives with
// respect to the lengthscale parameter ls (dls) and the frequency mu (dmu).
//
// Every kernel is an envelope m(z) times cos(b z), b = 2πμ (b = 0 for SE and
// Matern):
//
//	g   = m C
//	g'  = m' C − b m S
//	g'' = m'' C − 2b m' S − b² m C,      C = cos bz, S = sin bz.
//
// The envelope is exp(−a z²), a = e^ls (GM, SE), or the Matérn-5/2 function
// (1 + c r + c² r²/3) e^{−c r}, r = |z|, c = √5 e^ls (StM, Matern):
//
//	SE:       m' = −2az m,  m'' = (4a²z² − 2a) m
//	Matérn:   m' = −(c²/3) z (1 + c r) e^{−cr},  m'' = −(c²/3)(1 + c r − c² z²) e^{−cr}.
func component(k Kernel, ls, mu, z float64) (g, dls, dmu [3]float64) {
	var m, dm [3]float64 // envelope and its ls-derivative, orders 0..2 in z
	switch k {
	case GM, SE:
		a := math.Exp(ls)
		z2 := z * z
		e := math.Exp(-a * z2)
		m = [3]float64{e, -2 * a * z * e, (4*a*a*z2 - 2*a) * e}
		// ∂/∂a, then the chain rule ∂a/∂ls = a.
		dm = [3]float64{
			-z2 * e * a,
			(-2*z + 2*a*z2*z) * e * a,
			(10*a*z2 - 2 - 4*a*a*z2*z2) * e * a,
		}
	case StM, Matern:
		c := math.Sqrt(5) * math.Exp(ls)
		r := math.Abs(z)
		e := math.Exp(-c * r)
		c2 := c * c
		m = [3]float64{
			(1 + c*r + c2*r*r/3) * e,
			-(c2 / 3) * z * (1 + c*r) * e,
			-(c2 / 3) * (1 + c*r - c2*r*r) * e,
		}
		// ∂/∂c, then ∂c/∂ls = c.
		dm = [3]float64{
			-(c * r * r / 3) * (1 + c*r) * e * c,
			-(z / 3) * (2*c + 2*c2*r - c2*c*r*r) * e * c,
			-(1.0 / 3) * (2*c + 2*c2*r - 5*c2*c*r*r + c2*c2*r*r*r) * e * c,
		}
	default:
		panic(fmt.Sprintf("gphm: unknown kernel %d", k))
	}
	if !k.Modulated() {
		return m, dm, dmu
	}
	b := 2 * math.Pi * mu
	s, c := math.Sincos(b * z)
	mod := func(m [3]float64) [3]float64 {
		return [3]float64{
			m[0] * c,
			m[1]*c - b*m[0]*s,
			m[2]*c - 2*b*m[1]*s - b*b*m[0]*c,
		}
	}
	g = mod(m)
	dls = mod(dm)
	// ∂/∂b, then ∂b/∂μ = 2π.
	const tp = 2 * math.Pi
	dmu = [3]float64{
		-z * m[0] * s * tp,
		(-z*m[1]*s - m[0]*s - b*z*m[0]*c) * tp,
		(-z*m[2]*s - 2*m[1]*s - 2*b*z*m[1]*c - 2*b*m[0]*c + b*b*z*m[0]*s) * tp,
	}
	return g, dls, dmu
}

// lagTable evaluates the kernel and its derivatives at the lags z_m = m·h,
// m = 0..len(k0)−1: k0[m] = k(z_m), k1[m] = k'(z_m), k2[m] = k”(z_m). Any of
// k0, k1, k2 may be nil. Cost: len·Q component evaluations.
func lagTable(kind Kernel, s Spectrum, h float64, k0, k1, k2 []float64) {
	n := max(len(k0), len(k1), len(k2))
	for m := range n {
		z := float64(m) * h
		var v [3]float64
		for q := range s.LogW {
			g, _, _ := component(kind, s.LogLS[q], s.Mu[q], z)
			w := math.Exp(s.LogW[q])
			v[0] += w * g[0]
			v[1] += w * g[1]
			v[2] += w * g[2]
		}
		if k0 != nil {
			k0[m] = v[0]
		}
		if k1 != nil {
			k1[m] = v[1]
		}
		if k2 != nil {
			k2[m] = v[2]
		}
	}
}

// lagGradient accumulates into grad (layout [LogW | LogLS | Mu], length 3Q) the
// derivative of Σ_m Σ_d S_d[m] k^{(d)}(z_m) with respect to the spectrum
// parameters, where S_d are lag sums of the gradient of a scalar with respect to
// the Toeplitz matrices built from k^{(d)} (see lagSums). Any S_d may be nil.
func lagGradient(kind Kernel, s Spectrum, h float64, s0, s1, s2 []float64, grad []float64) {
	q := s.Q()
	if len(grad) != 3*q {
		panic(fmt.Sprintf("gphm: gradient length %d for %d components", len(grad), q))
	}
	n := max(len(s0), len(s1), len(s2))
	at := func(s []float64, m int) float64 {
		if s == nil {
			return 0
		}
		return s[m]
	}
	for i := range q {
		w := math.Exp(s.LogW[i])
		var gw, gl, gm float64
		for m := range n {
			a0, a1, a2 := at(s0, m), at(s1, m), at(s2, m)
			if a0 == 0 && a1 == 0 && a2 == 0 {
				continue
			}
			g, dls, dmu := component(kind, s.LogLS[i], s.Mu[i], float64(m)*h)
			gw += a0*g[0] + a1*g[1] + a2*g[2]
			gl += a0*dls[0] + a1*dls[1] + a2*dls[2]
			gm += a0*dmu[0] + a1*dmu[1] + a2*dmu[2]
		}
		grad[i] += w * gw
		grad[q+i] += w * gl
		if kind.Modulated() {
			grad[2*q+i] += w * gm
		}
	}
}
