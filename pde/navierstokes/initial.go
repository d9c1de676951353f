package navierstokes

import (
	"fmt"
	"math"
	"math/rand/v2"

	"eddy/fft"
)

// sampleRNG returns the generator of sample i for a given seed: PCG seeded
// with (seed + i, a fixed stream constant).
func sampleRNG(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed+uint64(i), 0x5eed_ed1e_5eed_ed1e))
}

// GRFAmplitude returns the FNO-convention amplitude of the Gaussian random
// field at integer wavevector (mx, my) on an n×n grid of side L:
// a = n²·√2·σ·(4π²|k|² + τ²)^(−α/2), σ = τ^(α−1) (= τ^((2α−d)/2), d = 2),
// k = m/L, and a = 0 at m = 0. The field's unnormalised DFT then has
// E|ω̂_m|² = a².
func GRFAmplitude(mx, my, n int, length, alpha, tau float64) float64 {
	if mx == 0 && my == 0 {
		return 0
	}
	k2 := float64(mx*mx+my*my) / (length * length)
	sigma := math.Pow(tau, alpha-1)
	return float64(n) * float64(n) * math.Sqrt2 * sigma * math.Pow(4*math.Pi*math.Pi*k2+tau*tau, -alpha/2)
}

// GaussianRandomField fills dst (n×n) with a sample of the mean-free Gaussian
// random field N(0, C), C ∝ (−Δ + τ²)^(−α), in the convention of Li et al.'s
// GaussianRF and the authors' grf.py: complex z = N(0,1) + iN(0,1) is drawn at
// every point of the full n×n spectral grid (row-major, real part first),
// multiplied by GRFAmplitude, and ω = Re IFFT₂(a·z) with the 1/n² inverse.
// Cost: one complex n×n FFT; allocates its work arrays.
func GaussianRandomField(dst []float64, n int, length, alpha, tau float64, rng *rand.Rand) {
	if len(dst) != n*n {
		panic(fmt.Sprintf("navierstokes: len(dst) = %d, want %d", len(dst), n*n))
	}
	z := make([]complex128, n*n)
	for r := range n {
		my := fft.Mode(r, n)
		for c := range n {
			mx := fft.Mode(c, n)
			re := rng.NormFloat64()
			im := rng.NormFloat64()
			a := GRFAmplitude(mx, my, n, length, alpha, tau)
			z[r*n+c] = complex(a*re, a*im)
		}
	}
	fft.NewComplex(n, n).Inverse(z, z)
	for i, v := range z {
		dst[i] = real(v)
	}
}

// McWilliams fills dst (n×n) with McWilliams' (1984) initial vorticity as in
// the authors' code: white noise η ~ N(0,1) on the grid (row-major), the
// streamfunction ψ̂ = η̂·S(κ) with S(κ) = 1/(κ(1 + (κ/k0)⁴)) (τ = 1), κ = |m|
// the integer wavevector length (the angular wavenumber when L = 2π),
// S(0) = 0 — S itself, not √S, as in the authors' code — projected onto the
// modes kept by the 2/3 rule and normalised to ⟨|u|²⟩ = 1 (mean kinetic
// energy ½); then ω̂ = |ξ|²ψ̂, ξ = 2πm/L. Allocates its work arrays.
func McWilliams(dst []float64, n int, length, k0 float64, rng *rand.Rand) {
	if len(dst) != n*n {
		panic(fmt.Sprintf("navierstokes: len(dst) = %d, want %d", len(dst), n*n))
	}
	for i := range dst {
		dst[i] = rng.NormFloat64()
	}
	p := fft.NewReal(n, n)
	h := n/2 + 1
	psi := make([]complex128, n*h)
	p.Forward(psi, dst)
	var u2 float64
	c0 := 2 * math.Pi / length
	for r := range n {
		my := fft.Mode(r, n)
		for k := range h {
			i := r*h + k
			kappa := math.Hypot(float64(k), float64(my))
			if kappa == 0 || !fft.Retained(my, n) || !fft.Retained(k, n) {
				psi[i] = 0
				continue
			}
			q := kappa / k0
			psi[i] *= complex(1/(kappa*(1+q*q*q*q)), 0)
			w := 2.0
			if k == 0 || (n%2 == 0 && k == n/2) {
				w = 1
			}
			xi2 := c0 * c0 * kappa * kappa
			z := psi[i]
			u2 += w * xi2 * (real(z)*real(z) + imag(z)*imag(z))
		}
	}
	// ⟨|u|²⟩ = Σ_m |ξ|²|ψ̂|²/n⁴ over the full spectrum.
	nn := float64(n) * float64(n)
	u2 /= nn * nn
	scale := 1 / math.Sqrt(u2)
	for r := range n {
		my := fft.Mode(r, n)
		for k := range h {
			xi2 := c0 * c0 * float64(k*k+my*my)
			psi[r*h+k] *= complex(scale*xi2, 0)
		}
	}
	p.Inverse(dst, psi)
}

// TaylorGreen fills dst (n×n) with the Taylor–Green vortex of integer
// wavenumber k at time t,
//
//	ω(x, y, t) = −2κ cos(κx) cos(κy) e^{−(2νκ² + μ)t},   κ = 2πk/L,
//
// the exact solution of the unforced equations with viscosity ν and drag μ
// (its velocity (cos κx sin κy, −sin κx cos κy)e^{…} has amplitude 1 and
// u·∇ω = 0).
func TaylorGreen(dst []float64, n int, length float64, k int, nu, drag, t float64) {
	if len(dst) != n*n {
		panic(fmt.Sprintf("navierstokes: len(dst) = %d, want %d", len(dst), n*n))
	}
	kappa := 2 * math.Pi * float64(k) / length
	amp := -2 * kappa * math.Exp(-(2*nu*kappa*kappa+drag)*t)
	for i := range n {
		cy := math.Cos(kappa * float64(i) * length / float64(n))
		for j := range n {
			dst[i*n+j] = amp * math.Cos(kappa*float64(j)*length/float64(n)) * cy
		}
	}
}

// initialField fills dst with the initial vorticity of sample i of c.
func initialField(dst []float64, c Config, i int) {
	switch c.Initial {
	case InitialGRF:
		GaussianRandomField(dst, c.N, c.Length, c.Alpha, c.Tau, sampleRNG(c.Seed, i))
	case InitialMcWilliams:
		McWilliams(dst, c.N, c.Length, c.K0, sampleRNG(c.Seed, i))
	case InitialTaylorGreen:
		TaylorGreen(dst, c.N, c.Length, c.Wavenumber, c.Viscosity, c.Drag, 0)
	}
}
