package hyperspectral

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"eddy/field"
	"eddy/progress"
)

// checkInvariants checks what every run must satisfy (§3 of the
// specification): A ≥ 0, every pixel's abundances sum to one (the
// specification allows 1e-2; the constraint is exact here, so the sums may
// differ from 1 only by the rounding of K additions, 1e-12), and the
// objective never increases (except after an iteration where the Huber scale
// was re-estimated, which changes F itself). The objective is a sum of O(L) channel norms, each computed from
// Gram matrices with a relative error of about 1e-13 (see
// TestObjectiveMatchesDefinition), so increases below 1e-10 relative are
// rounding.
func checkInvariants(t *testing.T, name string, res *Result) {
	t.Helper()
	k, n := res.Abundances.Dims()
	worst := 0.0
	for p := range n {
		var sum float64
		for j := range k {
			v := res.Abundances.At(j, p)
			if !(v >= 0) {
				t.Fatalf("%s: A[%d,%d] = %v < 0", name, j, p, v)
			}
			sum += v
		}
		worst = max(worst, math.Abs(sum-1))
	}
	if worst >= 1e-12 {
		t.Errorf("%s: max |1ᵀa_n − 1| = %.3g, want < 1e-12", name, worst)
	}
	h := res.ObjectiveHistory
	for i := 1; i < len(h); i++ {
		if h[i] > h[i-1]*(1+1e-10) && !slices.Contains(res.TauUpdates, i) {
			t.Errorf("%s: objective increased at iteration %d: %.15g → %.15g", name, i, h[i-1], h[i])
			break
		}
	}
}

func runUnmix(t *testing.T, y *mat.Dense, cfg Config) *Result {
	t.Helper()
	res, err := Unmix(t.Context(), y, cfg, nil)
	if err != nil {
		t.Fatalf("%s: %v", cfg.Method, err)
	}
	checkInvariants(t, string(cfg.Method), res)
	return res
}

// syntheticConfig is the protocol of §7.2: K = 4, VCA + FCLS initialisation
// on the data, 300 iterations run in full.
func syntheticConfig(method Method, seed uint64, truth *Truth, outliers []int) Config {
	cfg := DefaultConfig()
	cfg.Endmembers = 4
	cfg.Method = method
	cfg.Seed = seed
	cfg.Iterations = 300
	cfg.Tol = 0
	cfg.Rows, cfg.Cols = 60, 60
	cfg.Truth = truth
	cfg.OutlierBands = outliers
	return cfg
}

// TestSyntheticClean is acceptance §7.2(a): on clean synthetic data RRLbS
// reaches mean SAD ≤ 0.035 rad and mean RMSE ≤ 0.02.
func TestSyntheticClean(t *testing.T) {
	m := jasperEndmembers(t)
	y, a := Synthetic(m, 60, 60, 0.4, 30, 1)
	truth := &Truth{Endmembers: m, Abundances: a}
	res := runUnmix(t, y, syntheticConfig(MethodRRLbS, 1, truth, nil))
	met := res.Metrics
	t.Logf("RRLbS clean: SAD %.4f (mean %.4f), RMSE %.4f (mean %.4f), %d iterations", met.SAD, met.MeanSAD, met.RMSE, met.MeanRMSE, res.Iterations)
	if met.MeanSAD > 0.035 || met.MeanRMSE > 0.02 {
		t.Errorf("RRLbS clean: mean SAD %.4f (want ≤ 0.035), mean RMSE %.4f (want ≤ 0.02)", met.MeanSAD, met.MeanRMSE)
	}
	if res.GuidanceMap == nil || len(res.GuidanceMap) != 3600 {
		t.Fatalf("guidance map of length %d", len(res.GuidanceMap))
	}
	// The map lives on {h ≥ 0, Σh = N}, and is larger on pure pixels than on
	// mixed ones (pure pixels get strong sparsity).
	var sum, pure, mixed float64
	var np, nm int
	for p, h := range res.GuidanceMap {
		if h < 0 {
			t.Fatalf("h[%d] = %v < 0", p, h)
		}
		sum += h
		if slices.Max(mat.Col(nil, p, a)) == 1 {
			pure += h
			np++
		} else {
			mixed += h
			nm++
		}
	}
	if math.Abs(sum-3600) > 1e-6 {
		t.Errorf("Σh = %v, want 3600", sum)
	}
	if pure/float64(np) <= mixed/float64(nm) {
		t.Errorf("mean h on pure pixels %.3f ≤ on mixed pixels %.3f", pure/float64(np), mixed/float64(nm))
	}
}

// TestSyntheticOutlierBands is acceptance §7.2(b): with 10% corrupted bands
// (19 of 198, §6.3 recipe), the ℓ2,1 variants beat Frobenius NMF on mean RMSE
// by at least 5% relative, with mean SAD (over the clean bands) no worse.
// Three independent data sets, each with its own corrupted bands.
func TestSyntheticOutlierBands(t *testing.T) {
	m := jasperEndmembers(t)
	for seed := uint64(1); seed <= 3; seed++ {
		y, a := Synthetic(m, 60, 60, 0.4, 30, seed)
		y.Scale(1/mat.Max(y), y)
		bands := InjectOutlierBands(y, 19, 0.01, 0.3, 7+seed)
		truth := &Truth{Endmembers: m, Abundances: a}
		nmf := runUnmix(t, y, syntheticConfig(MethodNMF, seed, truth, bands)).Metrics
		t.Logf("seed %d nmf:    SAD %.4f RMSE %.4f", seed, nmf.MeanSAD, nmf.MeanRMSE)
		for _, method := range []Method{MethodL21NMF, MethodRRLbS} {
			met := runUnmix(t, y, syntheticConfig(method, seed, truth, bands)).Metrics
			t.Logf("seed %d %-7s SAD %.4f RMSE %.4f (RMSE %.0f%% below NMF)", seed, method+":", met.MeanSAD, met.MeanRMSE, 100*(1-met.MeanRMSE/nmf.MeanRMSE))
			if met.MeanRMSE > 0.95*nmf.MeanRMSE || met.MeanSAD > nmf.MeanSAD {
				t.Errorf("seed %d %s: SAD %.4f RMSE %.4f; NMF SAD %.4f RMSE %.4f: want RMSE ≤ 0.95×NMF and SAD ≤ NMF",
					seed, method, met.MeanSAD, met.MeanRMSE, nmf.MeanSAD, nmf.MeanRMSE)
			}
		}
	}
}

// jasperConfig is the protocol of §7.3: the shipped initial endmembers M0
// (scaled to the data), FCLS abundances, 300 iterations.
func jasperConfig(method Method, m0 *mat.Dense, truth *Truth, outliers []int) Config {
	cfg := DefaultConfig()
	cfg.Endmembers = 4
	cfg.Method = method
	cfg.Init = InitUpload
	cfg.InitEndmembers = m0
	cfg.Iterations = 300
	cfg.Tol = 0
	cfg.Rows, cfg.Cols = 100, 100
	cfg.Truth = truth
	cfg.OutlierBands = outliers
	return cfg
}

// TestJasper is the real-data acceptance of §7.3 on Jasper Ridge with the
// shipped initialisation: mean SAD(RRLbS) ≤ mean SAD(NMF) + 0.01 on the
// clean scene; with 10% injected outlier bands, mean SAD(RRLbS) ≤ 0.09 and
// ≤ 0.8 × mean SAD(NMF); on both, mean RMSE(RRLbS) ≤ mean RMSE(NMF).
func TestJasper(t *testing.T) {
	if testing.Short() {
		t.Skip("Jasper runs take a few seconds")
	}
	y, truth, m0 := jasperSetup(t)
	nmf := runUnmix(t, y, jasperConfig(MethodNMF, m0, truth, nil)).Metrics
	rr := runUnmix(t, y, jasperConfig(MethodRRLbS, m0, truth, nil)).Metrics
	t.Logf("clean: NMF SAD %.3f (mean %.4f) RMSE %.4f; RRLbS SAD %.3f (mean %.4f) RMSE %.4f",
		nmf.SAD, nmf.MeanSAD, nmf.MeanRMSE, rr.SAD, rr.MeanSAD, rr.MeanRMSE)
	if rr.MeanSAD > nmf.MeanSAD+0.01 || rr.MeanRMSE > nmf.MeanRMSE {
		t.Errorf("clean Jasper: RRLbS mean SAD %.4f RMSE %.4f, NMF %.4f %.4f: want SAD ≤ NMF + 0.01, RMSE ≤ NMF",
			rr.MeanSAD, rr.MeanRMSE, nmf.MeanSAD, nmf.MeanRMSE)
	}

	yo := mat.DenseCopyOf(y)
	bands := InjectOutlierBands(yo, 198/10, 0.01, 0.3, 7)
	nmf = runUnmix(t, yo, jasperConfig(MethodNMF, m0, truth, bands)).Metrics
	rr = runUnmix(t, yo, jasperConfig(MethodRRLbS, m0, truth, bands)).Metrics
	t.Logf("outliers: NMF SAD %.3f (mean %.4f) RMSE %.4f; RRLbS SAD %.3f (mean %.4f) RMSE %.4f",
		nmf.SAD, nmf.MeanSAD, nmf.MeanRMSE, rr.SAD, rr.MeanSAD, rr.MeanRMSE)
	if rr.MeanSAD > 0.09 || rr.MeanSAD > 0.8*nmf.MeanSAD || rr.MeanRMSE > nmf.MeanRMSE {
		t.Errorf("Jasper with outliers: RRLbS mean SAD %.4f RMSE %.4f, NMF %.4f %.4f: want SAD ≤ 0.09 and ≤ 0.8×NMF, RMSE ≤ NMF",
			rr.MeanSAD, rr.MeanRMSE, nmf.MeanSAD, nmf.MeanRMSE)
	}
}

// TestMethodsAndInits runs every method with every initialisation on a small
// scene and checks the invariants and the shapes of the result.
func TestMethodsAndInits(t *testing.T) {
	m := jasperEndmembers(t)
	y, a := Synthetic(m, 12, 10, 0.4, 30, 5)
	truth := &Truth{Endmembers: m, Abundances: a}
	for _, method := range Methods {
		for _, init := range Inits {
			cfg := DefaultConfig()
			cfg.Endmembers = 4
			cfg.Method = method
			cfg.Init = init
			cfg.Iterations = 30
			cfg.Rows, cfg.Cols = 12, 10
			cfg.Truth = truth
			if init == InitUpload {
				cfg.InitEndmembers = m
			}
			res := runUnmix(t, y, cfg)
			if r, c := res.Endmembers.Dims(); r != 198 || c != 4 {
				t.Errorf("%s/%s: endmembers %d×%d", method, init, r, c)
			}
			if len(res.ChannelWeights) != 198 || res.Metrics == nil || len(res.Metrics.SAD) != 4 {
				t.Errorf("%s/%s: %d channel weights, metrics %+v", method, init, len(res.ChannelWeights), res.Metrics)
			}
			wantMap := method == MethodRRLbS || method == MethodL12NMF
			if (res.GuidanceMap != nil) != wantMap {
				t.Errorf("%s: guidance map present = %v", method, res.GuidanceMap != nil)
			}
			if method == MethodVCAFCLS && (res.Iterations != 0 || len(res.ObjectiveHistory) != 0) {
				t.Errorf("vca_fcls ran %d iterations", res.Iterations)
			}
			if init == InitUpload && res.InitPixels != nil {
				t.Errorf("upload: VCA pixels %v", res.InitPixels)
			}
		}
	}
}

// TestUnmixScaleAndClip: the result is in the units of Y, whatever the scale,
// and negative values are set to 0 rather than breaking the updates.
func TestUnmixScaleAndClip(t *testing.T) {
	m := jasperEndmembers(t)
	y, _ := Synthetic(m, 10, 10, 0.5, 30, 6)
	cfg := DefaultConfig()
	cfg.Endmembers = 4
	cfg.Iterations = 20
	cfg.Tol = 0
	ref := runUnmix(t, y, cfg)
	big := mat.DenseCopyOf(y)
	big.Scale(5000, big)
	res := runUnmix(t, big, cfg)
	var want mat.Dense
	want.Scale(5000, ref.Endmembers)
	if !mat.EqualApprox(&want, res.Endmembers, 1e-9*5000) || !mat.EqualApprox(ref.Abundances, res.Abundances, 1e-9) {
		t.Errorf("scaling Y by 5000 does not scale M by 5000 and leave A unchanged")
	}
	y.Set(3, 7, -0.5)
	runUnmix(t, y, cfg)
	// Data errors are field.Errors at /cube, so that the job fails at once
	// instead of being tried again.
	for _, c := range []struct {
		name string
		set  func()
	}{
		{"NaN", func() { y.Set(3, 7, math.NaN()) }},
		{"no positive value", func() { y.Zero() }},
	} {
		c.set()
		_, err := Unmix(t.Context(), y, cfg, nil)
		var fe field.Errors
		if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Path != "/cube" {
			t.Errorf("%s in the cube: error %v, want field.Errors at /cube", c.name, err)
		}
	}
}

func TestFixedGuidance(t *testing.T) {
	m := jasperEndmembers(t)
	y, _ := Synthetic(m, 10, 10, 0.5, 30, 7)
	cfg := DefaultConfig()
	cfg.Endmembers = 4
	cfg.Iterations = 10
	cfg.FixedGuidance = make([]float64, 100)
	for i := range cfg.FixedGuidance {
		cfg.FixedGuidance[i] = float64(i % 3)
	}
	res := runUnmix(t, y, cfg)
	if !slices.Equal(res.GuidanceMap, cfg.FixedGuidance) {
		t.Errorf("fixed guidance map changed")
	}
}

func TestValidate(t *testing.T) {
	valid := DefaultConfig()
	valid.Endmembers = 4
	if err := valid.Validate(); err != nil {
		t.Fatalf("defaults with K = 4: %v", err)
	}
	cases := []struct {
		field string
		edit  func(*Config)
	}{
		{"endmembers", func(c *Config) { c.Endmembers = 1 }},
		{"endmembers", func(c *Config) { c.Endmembers = MaxEndmembers + 1 }},
		{"method", func(c *Config) { c.Method = "pca" }},
		{"init", func(c *Config) { c.Init = "random" }},
		{"init_endmembers", func(c *Config) { c.Init = InitUpload }},
		{"init_endmembers", func(c *Config) { c.InitEndmembers = mat.NewDense(3, 4, nil) }},
		{"init_endmembers", func(c *Config) { c.Init = InitUpload; c.InitEndmembers = mat.NewDense(3, 2, nil) }},
		{"p", func(c *Config) { c.P = 0 }},
		{"p", func(c *Config) { c.P = 1.5 }},
		{"lambda", func(c *Config) { c.Lambda = Kappa(-1) }},
		{"lambda", func(c *Config) { c.Lambda = Kappa(math.Inf(1)) }},
		{"iterations", func(c *Config) { c.Iterations = 0 }},
		{"huber", func(c *Config) { c.Huber = -1 }},
		{"stop_window", func(c *Config) { c.StopWindow = 0 }},
		{"tol", func(c *Config) { c.Tol = 1 }},
		{"tol", func(c *Config) { c.Tol = math.NaN() }},
		{"rows", func(c *Config) { c.Rows = 10 }},
		{"rows", func(c *Config) { c.Rows, c.Cols = -1, -1 }},
		{"outlier_bands", func(c *Config) { c.OutlierBands = []int{3, -1} }},
		{"outlier_bands", func(c *Config) { c.OutlierBands = []int{3, 3} }},
		{"method", func(c *Config) { c.Method = MethodNMF; c.FixedGuidance = []float64{1} }},
	}
	for _, c := range cases {
		cfg := valid
		c.edit(&cfg)
		err := cfg.Validate()
		if !namesField(err, c.field) {
			t.Errorf("%s: error %v, want field.Errors naming it", c.field, err)
		}
	}

	// Checks against the data.
	y := mat.NewDense(5, 12, nil)
	for i := range 5 {
		for j := range 12 {
			y.Set(i, j, float64(1+i+j))
		}
	}
	data := []struct {
		field string
		edit  func(*Config)
	}{
		{"endmembers", func(c *Config) { c.Endmembers = 6 }},
		{"rows", func(c *Config) { c.Rows, c.Cols = 5, 5 }},
		{"outlier_bands", func(c *Config) { c.OutlierBands = []int{5} }},
		{"init_endmembers", func(c *Config) { c.Init = InitUpload; c.InitEndmembers = mat.NewDense(4, 4, nil) }},
		{"truth", func(c *Config) { c.Truth = &Truth{Endmembers: mat.NewDense(4, 4, nil)} }},
		{"truth", func(c *Config) {
			c.Truth = &Truth{Endmembers: mat.NewDense(5, 4, nil), Abundances: mat.NewDense(4, 11, nil)}
		}},
		{"fixed_guidance", func(c *Config) { c.FixedGuidance = make([]float64, 11) }},
	}
	for _, c := range data {
		cfg := valid
		cfg.Iterations = 2
		c.edit(&cfg)
		_, err := Unmix(t.Context(), y, cfg, nil)
		if !namesField(err, c.field) {
			t.Errorf("%s: error %v, want field.Errors naming it", c.field, err)
		}
	}
}

// namesField reports whether err holds field.Errors at the parameter name
// or at an element of it.
func namesField(err error, name string) bool {
	var fe field.Errors
	return errors.As(err, &fe) && slices.ContainsFunc(fe, func(e field.Error) bool {
		return e.Path == "/"+name || strings.HasPrefix(e.Path, "/"+name+"/")
	})
}

// TestDeclaredBounds checks that the tags of Config declare the bounds and
// names the code relies on.
func TestDeclaredBounds(t *testing.T) {
	props := field.Schema(DefaultConfig())["properties"].(map[string]any)
	if got := props["endmembers"].(map[string]any)["maximum"]; got != float64(MaxEndmembers) {
		t.Errorf("declared maximum of endmembers %v, want MaxEndmembers = %d", got, MaxEndmembers)
	}
	var methods []string
	for _, m := range props["method"].(map[string]any)["enum"].([]any) {
		methods = append(methods, m.(string))
	}
	var want []string
	for _, m := range Methods {
		want = append(want, string(m))
	}
	if !slices.Equal(methods, want) {
		t.Errorf("declared methods %v, want %v", methods, want)
	}
}

func TestProgressAndCancel(t *testing.T) {
	m := jasperEndmembers(t)
	y, _ := Synthetic(m, 10, 10, 0.5, 30, 8)
	cfg := DefaultConfig()
	cfg.Endmembers = 4
	cfg.Iterations = 50
	cfg.Tol = 0
	var updates []progress.Update
	if _, err := Unmix(t.Context(), y, cfg, func(u progress.Update) { updates = append(updates, u) }); err != nil {
		t.Fatal(err)
	}
	last := -1.0
	iterations := 0
	for _, u := range updates {
		if u.Fraction < last {
			t.Errorf("progress went back from %v to %v", last, u.Fraction)
		}
		last = u.Fraction
		if _, ok := u.Metrics["objective"]; ok {
			iterations++
		}
	}
	if last != 1 || iterations != 50 {
		t.Errorf("final fraction %v, %d iteration reports; want 1 and 50", last, iterations)
	}

	ctx, cancel := context.WithCancel(t.Context())
	n := 0
	_, err := Unmix(ctx, y, cfg, func(u progress.Update) {
		if n++; n == 5 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: err = %v, want context.Canceled", err)
	}
}

// TestResultReshape checks the documented pixel order: pixel n is at image
// row n mod rows and column n div rows.
func TestResultReshape(t *testing.T) {
	rows, cols, k := 3, 4, 2
	a := mat.NewDense(k, rows*cols, nil)
	h := make([]float64, rows*cols)
	for j := range k {
		for r := range rows {
			for c := range cols {
				a.Set(j, r+c*rows, float64(100*j+10*r+c))
				h[r+c*rows] = float64(10*r + c)
			}
		}
	}
	res := &Result{Abundances: a, GuidanceMap: h, Rows: rows, Cols: cols}
	cube := res.AbundanceCube()
	img := res.GuidanceImage()
	for j := range k {
		for r := range rows {
			for c := range cols {
				if got := cube[(j*rows+r)*cols+c]; got != float64(100*j+10*r+c) {
					t.Fatalf("cube[%d,%d,%d] = %v", j, r, c, got)
				}
				if got := img[r*cols+c]; got != float64(10*r+c) {
					t.Fatalf("image[%d,%d] = %v", r, c, got)
				}
			}
		}
	}
}
