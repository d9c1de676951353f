package gphm

import (
	"context"
	"math"
	"strings"
	"testing"
)

// scalesOf resolves c and returns its frequency scales, the data's
// frequencies and the warning about them.
func scalesOf(t *testing.T, c Config) (freq, data []float64, warning string) {
	t.Helper()
	r := resolvedScales(t, c)
	return r.freq, r.freqData, r.freqWarning
}

// resolvedScales resolves c and finds its scales (resolved.scales).
func resolvedScales(t *testing.T, c Config) *resolved {
	t.Helper()
	r, err := c.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.scales(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// The data's frequency is read from the source along each axis and from the
// boundary values on the sides parallel to it: within 3 % of a sinusoid's
// over one or more periods (1.5 read as 1.488); over less than one period
// the phase biases it (0.7 cycles on [0, 1] read as 0.61: 15 %); an
// exponential e^{2πax} reads as about a (1.25 as 1.185: 6 %). A source
// without variation (advection of a profile at its own speed: f = 1) reads
// zero, and the rounding left of f = Δu for a harmonic u is not read.
func TestDataFrequencies(t *testing.T) {
	for _, tc := range []struct {
		name, pde, exact string
		beta             float64
		want, tol        [2]float64 // cycles per unit, relative
	}{
		{"product of sines", "poisson2d", "sin(2*pi*3*x)*cos(2*pi*1.5*y) + x^2", 0, [2]float64{3, 1.5}, [2]float64{0.03, 0.03}},
		{"harmonic", "poisson2d", "exp(2*pi*1.25*x)*sin(2*pi*1.25*y)", 0, [2]float64{1.25, 1.25}, [2]float64{0.06, 0.03}},
		{"transport", "advection", "sin(2*pi*0.7*(x - 3*t)) + t", 3, [2]float64{0.7, 2.1}, [2]float64{0.15, 0.03}},
		{"1-D", "poisson1d", "sin(2*pi*5*x)*exp(-x) + x", 0, [2]float64{5}, [2]float64{0.03}},
	} {
		c := userConfig(tc.pde, strings.ReplaceAll(tc.exact, "pi", "3.141592653589793"), 1, 1, 64, 0)
		c.Beta = tc.beta
		freq, data, warning := scalesOf(t, c)
		for j, k := range data {
			if math.Abs(k-tc.want[j]) > tc.tol[j]*tc.want[j] {
				t.Errorf("%s: axis %d data frequency %.4g, want %.4g", tc.name, j, k, tc.want[j])
			}
			nyquist := 0.5 * 63 // 64 nodes on [0, 1]
			want := math.Min(math.Max(FreqFactor*k, nyquistMin*nyquist), nyquistMax*nyquist)
			if math.Abs(freq[j]-want) > 1e-12*want {
				t.Errorf("%s: axis %d F = %g, want %g", tc.name, j, freq[j], want)
			}
		}
		if warning != "" {
			t.Errorf("%s: warning %q with F chosen", tc.name, warning)
		}
	}
	// Advection of sin 2(x − 3t) + t with β = 3: f = 1 at every node, its
	// rounding no frequency.
	exact, err := parseField("exact", "sin(2*(x - 3*t)) + t", Advection)
	if err != nil {
		t.Fatal(err)
	}
	prob := newProblem(Advection, 3)
	prob.exact = exact
	F, _, g, err := sample(context.Background(), &prob,
		[]*axis{{n: 40, h: 1.0 / 39}, {n: 40, h: 1.0 / 39}}, boundaryIndex(40, 40, 2))
	if err != nil {
		t.Fatal(err)
	}
	g = make([]float64, len(g)) // the source alone
	if k := dataFrequencies(F, g, []*axis{{n: 40, h: 1.0 / 39}, {n: 40, h: 1.0 / 39}}, 1); k[0] != 0 || k[1] != 0 {
		t.Errorf("a constant source reads as frequencies %v", k)
	}
}

// A frequency scale given above the grid's Nyquist frequency or below the
// data's is warned about, not changed; a preset's is not warned about; data
// too fine for the grid hold the automatic one under the Nyquist frequency,
// with a warning.
func TestFreqScaleWarning(t *testing.T) {
	c := userConfig("poisson2d", "x^2 - y^2 + sin(4*x)*cos(3*y)", 2*math.Pi, 2*math.Pi, 40, 20)
	freq, data, warning := scalesOf(t, c)
	if freq[0] != 20 || freq[1] != 20 || !strings.Contains(warning, "freq_scale 20 is") {
		t.Errorf("F %v (data %v), warning %q", freq, data, warning)
	}
	c.FreqScale = 0.2
	if _, _, warning = scalesOf(t, c); !strings.Contains(warning, "freq_scale 0.2 is") {
		t.Errorf("F below the data's: warning %q", warning)
	}
	c.FreqScale = 1
	if _, _, warning = scalesOf(t, c); warning != "" {
		t.Errorf("F 1.5 times the data's: warning %q", warning)
	}
	// The presets: the authors' F, and their data at most 0.51 of their
	// grids' Nyquist frequency (p3, ac2), under coarseShare.
	for name, pr := range presets {
		p, err := PresetConfig(name)
		if err != nil {
			t.Fatal(err)
		}
		if freq, data, warning = scalesOf(t, p); freq[0] != pr.FreqScale || warning != "" {
			t.Errorf("preset %s: F %v (data %v), warning %q", name, freq, data, warning)
		}
	}
	fine := userConfig("poisson1d", "sin(2*3.141592653589793*20*x)", 1, 0, 64, 0)
	if freq, data, warning = scalesOf(t, fine); freq[0] != nyquistMax*31.5 || !strings.Contains(warning, "resolves them poorly") {
		t.Errorf("20 cycles on 64 nodes: F %v (data %v), warning %q", freq, data, warning)
	}
}

// With default options a problem whose grid's Nyquist frequency is below
// the old default F = 20 cycles per unit is solved: u = x² − y² + sin 4x cos 3y
// on [0, 2π]² at 40² (Nyquist 3.1) ended at rel_l2 3.0e-2, not converged,
// with F = 20; chosen (1.55 on both axes, half the Nyquist frequency) 1.5e-7 in 3.3 s.
func TestFreqScaleFromData(t *testing.T) {
	c := userConfig("poisson2d", "x^2 - y^2 + sin(4*x)*cos(3*y)", 2*math.Pi, 2*math.Pi, 40, 0)
	c.Iterations = DefaultConfig().Iterations // the job's default budget
	r := solve(t, c)
	if !(r.RelL2 <= 1e-5) || !r.Converged {
		t.Errorf("rel_l2 %.3g, converged %v; want ≤ 1e-5", r.RelL2, r.Converged)
	}
	nyquist := 39 / (4 * math.Pi)
	for j, s := range r.Spectra {
		if want := math.Min(math.Max(FreqFactor*s.DataFrequency, nyquistMin*nyquist), nyquistMax*nyquist); math.Abs(s.FreqScale-want) > 1e-12*want {
			t.Errorf("axis %d: F %g, want %g (data frequency %g)", j, s.FreqScale, want, s.DataFrequency)
		}
	}
}
