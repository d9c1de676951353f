package hyperspectral

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"
)

// The benchmarks of this file measure speed (time per iteration and to
// convergence on Jasper Ridge: L = 198 bands, N = 10⁴ pixels, K = 4) and
// produce the specification's comparison table (§6.3) for every method. Run
//
//	go test -run '^$' -bench . -cpu 1 -benchtime 1x ./hyperspectral/
//
// for the table (printed with the benchmark log); the per-iteration timings
// want a longer -benchtime.

// BenchmarkIterationJasper times one iteration of each iterative method on
// Jasper Ridge, from the shipped initialisation, and of rrlbs with the scaled
// mixing model.
func BenchmarkIterationJasper(b *testing.B) {
	y, _, m0 := jasperSetup(b)
	a0, err := FCLS(b.Context(), y, m0)
	if err != nil {
		b.Fatal(err)
	}
	lambda := DefaultKappa * SparsenessEstimate(y)
	for _, c := range []struct {
		name string
		opt  mmOptions
	}{
		{"nmf", mmOptions{p: 0.5}},
		{"l21nmf", mmOptions{robust: true, p: 0.5}},
		{"l12nmf", mmOptions{p: 0.5, lambda: lambda, guidance: guidanceOnes}},
		{"rrlbs", mmOptions{robust: true, p: 0.5, lambda: lambda, guidance: guidanceLearned}},
		{"rrlbs_scaled", mmOptions{robust: true, p: 0.5, lambda: lambda, guidance: guidanceLearned, scaled: true}},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := newMMSolver(y, m0, a0, c.opt)
			b.ReportAllocs()
			for b.Loop() {
				s.iterate()
			}
		})
	}
}

// BenchmarkConvergenceJasper runs each method from the shipped
// initialisation until the default stop rule holds (tol 1e-5 per iteration
// over windows of 50 iterations) or 5000 iterations, reporting the
// iterations and the time.
func BenchmarkConvergenceJasper(b *testing.B) {
	y, truth, m0 := jasperSetup(b)
	for _, method := range []Method{MethodNMF, MethodL21NMF, MethodL12NMF, MethodRRLbS} {
		b.Run(string(method), func(b *testing.B) {
			cfg := jasperConfig(method, m0, truth, nil)
			cfg.Iterations = 5000
			cfg.Tol = DefaultConfig().Tol
			var res *Result
			for b.Loop() {
				var err error
				if res, err = Unmix(b.Context(), y, cfg, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(res.Iterations), "iterations")
			b.ReportMetric(res.Metrics.MeanSAD, "meanSAD")
			b.ReportMetric(res.Metrics.MeanRMSE, "meanRMSE")
		})
	}
}

func BenchmarkFCLSJasper(b *testing.B) {
	y, _, m0 := jasperSetup(b)
	for b.Loop() {
		if _, err := FCLS(b.Context(), y, m0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVCAJasper(b *testing.B) {
	y, _, _ := jasperSetup(b)
	for b.Loop() {
		if _, _, err := VCA(b.Context(), y, 4, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// tableRow is one row of the specification's table (§6.3).
type tableRow struct {
	name     string
	y        *mat.Dense
	truth    *Truth
	names    []string   // endmember names, in the truth's order
	init     *mat.Dense // shipped initial endmembers, or nil for VCA
	seed     uint64
	outliers []int
}

func tableRows(b *testing.B) []tableRow {
	samson := loadScene(b, "samson_dataset.mat")
	jy, jtruth, m0 := jasperSetup(b)
	jasperNames := []string{"Tree", "Water", "Soil", "Road"}
	// Jasper, Samson (scaled to a maximum of 1) and synthetic scenes with
	// outlier bands of a given seed: 10 % of the bands for the real scenes.
	jasperOut := func(seed uint64) (*mat.Dense, []int) {
		y := mat.DenseCopyOf(jy)
		return y, InjectOutlierBands(y, 198/10, 0.01, 0.3, seed)
	}
	samsonOut := func(seed uint64) (*mat.Dense, []int) {
		y := mat.DenseCopyOf(samson.Y)
		y.Scale(1/mat.Max(samson.Y), y)
		return y, InjectOutlierBands(y, 156/10, 0.01, 0.3, seed)
	}
	syntheticOut := func(m *mat.Dense, side int, pure, snr float64, bands int, hot float64, seed uint64) (*mat.Dense, *mat.Dense, []int) {
		y, a := Synthetic(m, side, side, pure, snr, seed)
		y.Scale(1/mat.Max(y), y)
		return y, a, InjectOutlierBands(y, bands, 0.01, hot, seed)
	}
	jo, jbands := jasperOut(7)

	m := jasperEndmembers(b)
	sy, sa := Synthetic(m, 60, 60, 0.4, 30, 1)
	struth := &Truth{Endmembers: m, Abundances: sa}
	hot1 := mat.DenseCopyOf(sy)
	hot1.Scale(1/mat.Max(hot1), hot1)
	hot1Bands := InjectOutlierBands(hot1, 20, 0.01, 1, 7)
	hot03 := mat.DenseCopyOf(sy)
	hot03.Scale(1/mat.Max(hot03), hot03)
	hot03Bands := InjectOutlierBands(hot03, 20, 0.01, 0.3, 7)

	// Held-out rows, not used to choose any default: other outlier bands
	// on Jasper (seed 11), and a synthetic scene of the Samson spectra
	// (K = 3, 50×50, 30% pure, 25 dB) with 16 outlier bands (hot σ = 1).
	jo11, j11Bands := jasperOut(11)
	sm := mat.DenseCopyOf(samson.Truth.Endmembers)
	sm.Scale(1/mat.Max(sm), sm)
	ssy, ssa, ssBands := syntheticOut(sm, 50, 0.3, 25, 16, 1, 5)

	// A second held-out set, added after the Huber default was chosen on
	// the rows above: the real Samson scene with outlier bands (none of the
	// rows above has them), and Jasper with outlier bands of another seed.
	so, soBands := samsonOut(13)
	soInit := mat.DenseCopyOf(samson.Init)
	soInit.Scale(1/mat.Max(samson.Y), soInit)
	jo23, j23Bands := jasperOut(23)

	// A third held-out set, added after the automatic guidance was chosen
	// on the rows above: outlier bands of other seeds on both real scenes,
	// another synthetic Samson scene, and a synthetic Jasper scene whose
	// pixels are scaled by an illumination factor 1 + 0.15 N(0, 1) (floored
	// at 0.5), which the linear mixing model with sum-to-one abundances
	// cannot explain: a synthetic scene with model error.
	jo31, j31Bands := jasperOut(31)
	so37, so37Bands := samsonOut(37)
	ss9, ssa9, ss9Bands := syntheticOut(sm, 50, 0.3, 25, 16, 1, 9)
	il, ila := Synthetic(m, 60, 60, 0.4, 30, 3)
	illuminate(il, 0.15, 3)
	il.Scale(1/mat.Max(il), il)
	ilBands := InjectOutlierBands(il, 20, 0.01, 0.3, 3)

	// A fourth held-out set, added after the automatic loss was chosen on
	// the rows above: crops of the two real scenes (other pixels, the same
	// spectra) with outlier bands of other seeds, from both starts.
	jsc := loadScene(b, "Jasper_with_GT.mat")
	jc, jcTruth := crop(jy, jtruth, jsc.Rows, 20, 10, 80, 80)
	jcBands := InjectOutlierBands(jc, 198/10, 0.01, 0.3, 41)
	sc, scTruth := crop(samson.Y, samson.Truth, samson.Rows, 0, 25, 70, 70)
	scInit := mat.DenseCopyOf(samson.Init)
	scInit.Scale(1/mat.Max(sc), scInit) // the crop's scale
	sc.Scale(1/mat.Max(sc), sc)
	scBands := InjectOutlierBands(sc, 156/10, 0.01, 0.3, 43)

	// A fifth held-out set, added after the guidance choice was moved to
	// the start and its bound set: outlier bands of other seeds on both
	// real scenes, and synthetic scenes of both spectral libraries with
	// strong outlier bands (hot σ = 1, the rows whose misfit at the start
	// is closest to the bound).
	jo47, j47Bands := jasperOut(47)
	so53, so53Bands := samsonOut(53)
	sj13, sja13, sj13Bands := syntheticOut(m, 60, 0.4, 30, 20, 1, 13)
	ss17, ssa17, ss17Bands := syntheticOut(sm, 50, 0.3, 25, 16, 1, 17)

	// A sixth held-out set, added after the fifth: 50×50 crops of Samson
	// without outlier bands, the size and K of a common small test scene,
	// with water on 54 %, 35 %, 9 % and 16 % of their area.
	samsonCrop := func(r0, c0 int) (*mat.Dense, *Truth) {
		y, truth := crop(samson.Y, samson.Truth, samson.Rows, r0, c0, 50, 50)
		y.Scale(1/mat.Max(y), y)
		return y, truth
	}
	c00, c00Truth := samsonCrop(0, 0)
	c450, c450Truth := samsonCrop(45, 0)
	c2020, c2020Truth := samsonCrop(20, 20)
	c020, c020Truth := samsonCrop(0, 20)

	// A seventh held-out set, added after the automatic mixing model was
	// chosen on the rows above: other VCA seeds on both real scenes, with
	// and without outlier bands of new seeds, 50×50 crops of Jasper, and a
	// 60×60 crop of Samson with outlier bands.
	jo61, j61Bands := jasperOut(61)
	so67, so67Bands := samsonOut(67)
	jasperCrop := func(r0, c0 int) (*mat.Dense, *Truth) {
		y, truth := crop(jy, jtruth, jsc.Rows, r0, c0, 50, 50)
		y.Scale(1/mat.Max(y), y)
		return y, truth
	}
	jc00, jc00Truth := jasperCrop(0, 0)
	jc5050, jc5050Truth := jasperCrop(50, 50)
	sc60, sc60Truth := crop(samson.Y, samson.Truth, samson.Rows, 20, 35, 60, 60)
	sc60.Scale(1/mat.Max(sc60), sc60)
	sc60Bands := InjectOutlierBands(sc60, 156/10, 0.01, 0.3, 71)

	// An eighth held-out set, added before the scaled model's sparsity
	// weight was measured on the rows above: new outlier seeds and VCA
	// seeds, 50×50 crops of Samson at other places, a 70×70 crop with
	// outlier bands, a synthetic Samson-library scene and a Jasper crop.
	so79, so79Bands := samsonOut(79)
	jo89, j89Bands := jasperOut(89)
	sc1040, sc1040Truth := samsonCrop(10, 40)
	sc4040, sc4040Truth := samsonCrop(40, 40)
	sc70, sc70Truth := crop(samson.Y, samson.Truth, samson.Rows, 25, 0, 70, 70)
	sc70.Scale(1/mat.Max(sc70), sc70)
	sc70Bands := InjectOutlierBands(sc70, 156/10, 0.01, 0.3, 83)
	ss19, ssa19, ss19Bands := syntheticOut(sm, 50, 0.3, 25, 16, 1, 19)
	jc2525, jc2525Truth := jasperCrop(25, 25)

	samsonNames := []string{"Soil", "Tree", "Water"}
	return []tableRow{
		{"Samson, VCA seed 0", samson.Y, samson.Truth, samsonNames, nil, 0, nil},
		{"Samson, shipped M1", samson.Y, samson.Truth, samsonNames, samson.Init, 0, nil},
		{"Jasper, VCA seed 0", jy, jtruth, jasperNames, nil, 0, nil},
		{"Jasper, shipped M0", jy, jtruth, jasperNames, m0, 0, nil},
		{"Jasper + 10% outlier bands, VCA seed 0", jo, jtruth, jasperNames, nil, 0, jbands},
		{"Jasper + 10% outlier bands, shipped M0", jo, jtruth, jasperNames, m0, 0, jbands},
		{"Synthetic clean, VCA seed 1", sy, struth, jasperNames, nil, 1, nil},
		{"Synthetic + 20 outlier bands (hot σ = 1), VCA seed 1", hot1, struth, jasperNames, nil, 1, hot1Bands},
		{"Synthetic + 20 outlier bands (hot σ = 0.3), VCA seed 1", hot03, struth, jasperNames, nil, 1, hot03Bands},
		{"Held out: Jasper + 10% outlier bands (seed 11), VCA seed 0", jo11, jtruth, jasperNames, nil, 0, j11Bands},
		{"Held out: Jasper + 10% outlier bands (seed 11), shipped M0", jo11, jtruth, jasperNames, m0, 0, j11Bands},
		{"Held out: synthetic Samson spectra + 16 outlier bands (hot σ = 1), VCA seed 3", ssy, &Truth{Endmembers: sm, Abundances: ssa}, samsonNames, nil, 3, ssBands},
		{"Held out 2: Samson + 10% outlier bands (seed 13), VCA seed 0", so, samson.Truth, samsonNames, nil, 0, soBands},
		{"Held out 2: Samson + 10% outlier bands (seed 13), shipped M1", so, samson.Truth, samsonNames, soInit, 0, soBands},
		{"Held out 2: Jasper + 10% outlier bands (seed 23), VCA seed 0", jo23, jtruth, jasperNames, nil, 0, j23Bands},
		{"Held out 2: Jasper + 10% outlier bands (seed 23), shipped M0", jo23, jtruth, jasperNames, m0, 0, j23Bands},
		{"Held out 3: Jasper + 10% outlier bands (seed 31), VCA seed 0", jo31, jtruth, jasperNames, nil, 0, j31Bands},
		{"Held out 3: Jasper + 10% outlier bands (seed 31), shipped M0", jo31, jtruth, jasperNames, m0, 0, j31Bands},
		{"Held out 3: Samson + 10% outlier bands (seed 37), VCA seed 0", so37, samson.Truth, samsonNames, nil, 0, so37Bands},
		{"Held out 3: Samson + 10% outlier bands (seed 37), shipped M1", so37, samson.Truth, samsonNames, soInit, 0, so37Bands},
		{"Held out 3: synthetic Samson spectra (seed 9) + 16 outlier bands (hot σ = 1), VCA seed 3", ss9, &Truth{Endmembers: sm, Abundances: ssa9}, samsonNames, nil, 3, ss9Bands},
		{"Held out 3: synthetic Jasper spectra, illumination ± 15 %, + 20 outlier bands (hot σ = 0.3), VCA seed 1", il, &Truth{Endmembers: m, Abundances: ila}, jasperNames, nil, 1, ilBands},
		{"Held out 4: Jasper rows 20–99, cols 10–89, + 10% outlier bands (seed 41), VCA seed 0", jc, jcTruth, jasperNames, nil, 0, jcBands},
		{"Held out 4: Jasper rows 20–99, cols 10–89, + 10% outlier bands (seed 41), shipped M0", jc, jcTruth, jasperNames, m0, 0, jcBands},
		{"Held out 4: Samson rows 0–69, cols 25–94, + 10% outlier bands (seed 43), VCA seed 0", sc, scTruth, samsonNames, nil, 0, scBands},
		{"Held out 4: Samson rows 0–69, cols 25–94, + 10% outlier bands (seed 43), shipped M1", sc, scTruth, samsonNames, scInit, 0, scBands},
		{"Held out 5: Jasper + 10% outlier bands (seed 47), VCA seed 0", jo47, jtruth, jasperNames, nil, 0, j47Bands},
		{"Held out 5: Jasper + 10% outlier bands (seed 47), shipped M0", jo47, jtruth, jasperNames, m0, 0, j47Bands},
		{"Held out 5: Samson + 10% outlier bands (seed 53), VCA seed 0", so53, samson.Truth, samsonNames, nil, 0, so53Bands},
		{"Held out 5: Samson + 10% outlier bands (seed 53), shipped M1", so53, samson.Truth, samsonNames, soInit, 0, so53Bands},
		{"Held out 5: synthetic Jasper spectra (seed 13) + 20 outlier bands (hot σ = 1), VCA seed 2", sj13, &Truth{Endmembers: m, Abundances: sja13}, jasperNames, nil, 2, sj13Bands},
		{"Held out 5: synthetic Samson spectra (seed 17) + 16 outlier bands (hot σ = 1), VCA seed 4", ss17, &Truth{Endmembers: sm, Abundances: ssa17}, samsonNames, nil, 4, ss17Bands},
		{"Held out 6: Samson rows 0–49, cols 0–49, VCA seed 0", c00, c00Truth, samsonNames, nil, 0, nil},
		{"Held out 6: Samson rows 45–94, cols 0–49, VCA seed 0", c450, c450Truth, samsonNames, nil, 0, nil},
		{"Held out 6: Samson rows 20–69, cols 20–69, VCA seed 0", c2020, c2020Truth, samsonNames, nil, 0, nil},
		{"Held out 6: Samson rows 0–49, cols 20–69, VCA seed 0", c020, c020Truth, samsonNames, nil, 0, nil},
		{"Held out 7: Samson, VCA seed 5", samson.Y, samson.Truth, samsonNames, nil, 5, nil},
		{"Held out 7: Jasper, VCA seed 5", jy, jtruth, jasperNames, nil, 5, nil},
		{"Held out 7: Jasper + 10% outlier bands (seed 61), VCA seed 3", jo61, jtruth, jasperNames, nil, 3, j61Bands},
		{"Held out 7: Samson + 10% outlier bands (seed 67), VCA seed 2", so67, samson.Truth, samsonNames, nil, 2, so67Bands},
		{"Held out 7: Jasper rows 0–49, cols 0–49, VCA seed 0", jc00, jc00Truth, jasperNames, nil, 0, nil},
		{"Held out 7: Jasper rows 50–99, cols 50–99, VCA seed 0", jc5050, jc5050Truth, jasperNames, nil, 0, nil},
		{"Held out 7: Samson rows 20–79, cols 35–94, + 10% outlier bands (seed 71), VCA seed 0", sc60, sc60Truth, samsonNames, nil, 0, sc60Bands},
		{"Held out 8: Samson + 10% outlier bands (seed 79), VCA seed 7", so79, samson.Truth, samsonNames, nil, 7, so79Bands},
		{"Held out 8: Samson + 10% outlier bands (seed 79), shipped M1", so79, samson.Truth, samsonNames, soInit, 0, so79Bands},
		{"Held out 8: Samson rows 10–59, cols 40–89, VCA seed 0", sc1040, sc1040Truth, samsonNames, nil, 0, nil},
		{"Held out 8: Samson rows 40–89, cols 40–89, VCA seed 0", sc4040, sc4040Truth, samsonNames, nil, 0, nil},
		{"Held out 8: Samson rows 25–94, cols 0–69, + 10% outlier bands (seed 83), VCA seed 0", sc70, sc70Truth, samsonNames, nil, 0, sc70Bands},
		{"Held out 8: synthetic Samson spectra (seed 19) + 16 outlier bands (hot σ = 1), VCA seed 6", ss19, &Truth{Endmembers: sm, Abundances: ssa19}, samsonNames, nil, 6, ss19Bands},
		{"Held out 8: Jasper + 10% outlier bands (seed 89), VCA seed 4", jo89, jtruth, jasperNames, nil, 4, j89Bands},
		{"Held out 8: Jasper rows 25–74, cols 25–74, VCA seed 0", jc2525, jc2525Truth, jasperNames, nil, 0, nil},
	}
}

// tableColumn is one method of the table; loss and mixing "" keep the
// defaults.
type tableColumn struct {
	label  string
	method Method
	loss   Loss
	mixing Mixing
}

// tableColumns are the methods of the table: every method with its defaults,
// rrlbs with each loss forced beside the automatic choice, and rrlbs with
// the sum-to-one model forced (rrlbs_s1).
var tableColumns = []tableColumn{
	{"vca_fcls", MethodVCAFCLS, "", ""}, {"nmf", MethodNMF, "", ""}, {"l21nmf", MethodL21NMF, "", ""},
	{"l12nmf", MethodL12NMF, "", ""}, {"rrlbs", MethodRRLbS, "", ""}, {"rrlbs_l21", MethodRRLbS, LossL21, ""},
	{"rrlbs_hub", MethodRRLbS, LossHuber, ""}, {"rrlbs_s1", MethodRRLbS, "", MixingSumToOne},
}

// BenchmarkTable runs every method on every row of the specification's
// table and logs SAD and RMSE per endmember and their means, in the paper's
// layout (endmembers down, methods across), and the iteration at which each
// run stopped. Each row's methods share one initialisation (M₀, and A₀ =
// FCLS(Y, M₀)); every run uses the default parameters: the stop rule, at
// most 1000 iterations. The time reported is for the whole table.
func BenchmarkTable(b *testing.B) {
	rows := tableRows(b)
	for b.Loop() {
		var out strings.Builder
		for _, r := range rows {
			var mets []*Metrics
			var times []time.Duration
			var iters []int
			var guid []string
			ratio, spread, loss := math.NaN(), math.NaN(), "–"
			mixing, angle := "–", math.NaN()
			for _, col := range tableColumns {
				cfg := DefaultConfig()
				_, k := r.truth.Endmembers.Dims()
				cfg.Endmembers = k
				cfg.Method = col.method
				if col.loss != "" {
					cfg.Loss = col.loss
				}
				if col.mixing != "" {
					cfg.Mixing = col.mixing
				}
				cfg.Seed = r.seed
				cfg.Truth = r.truth
				cfg.OutlierBands = r.outliers
				if r.init != nil {
					cfg.Init = InitUpload
					cfg.InitEndmembers = r.init
				}
				start := time.Now()
				res, err := Unmix(b.Context(), r.y, cfg, nil)
				if err != nil {
					b.Fatalf("%s, %s: %v", r.name, col.label, err)
				}
				times = append(times, time.Since(start))
				mets = append(mets, res.Metrics)
				iters = append(iters, res.Iterations)
				g := "–"
				if res.Guidance != "" {
					g = string(res.Guidance)
				}
				guid = append(guid, g)
				if col.method == MethodRRLbS && col.loss == "" && col.mixing == "" {
					// the default rrlbs's
					ratio, spread, loss = res.MisfitRatio, res.ErrorSpread, string(res.Loss)
					mixing, angle = string(res.Mixing), res.MixingAngle
				}
			}
			fmt.Fprintf(&out, "\n%s\n", r.name)
			writeTable(&out, "SAD", r.names, mets, func(m *Metrics) ([]float64, float64) { return m.SAD, m.MeanSAD })
			writeTable(&out, "RMSE", r.names, mets, func(m *Metrics) ([]float64, float64) { return m.RMSE, m.MeanRMSE })
			fmt.Fprintf(&out, "%-10s", "stop it")
			for _, n := range iters {
				fmt.Fprintf(&out, " %9d", n)
			}
			fmt.Fprintf(&out, "\n%-10s", "guidance")
			for _, g := range guid {
				fmt.Fprintf(&out, " %9s", g)
			}
			fmt.Fprintf(&out, "\n%-10s %9.3g", "misfit/σ", ratio)
			fmt.Fprintf(&out, "\n%-10s %9s %9.3g", "loss", loss, spread)
			fmt.Fprintf(&out, "\n%-10s %9s %9.3g", "mixing", mixing, angle)
			fmt.Fprintf(&out, "\n%-10s", "time")
			for _, d := range times {
				fmt.Fprintf(&out, " %9s", d.Round(time.Millisecond))
			}
			fmt.Fprintln(&out)
		}
		b.Log(out.String())
	}
}

// writeTable writes one block of the table: a header of method names, a row
// per endmember and a row of means, values taken from each method's metrics.
func writeTable(out *strings.Builder, title string, names []string, mets []*Metrics, get func(*Metrics) ([]float64, float64)) {
	fmt.Fprintf(out, "%-10s", title)
	for _, c := range tableColumns {
		fmt.Fprintf(out, " %9s", c.label)
	}
	for i, name := range names {
		fmt.Fprintf(out, "\n%-10s", name)
		for _, met := range mets {
			v, _ := get(met)
			fmt.Fprintf(out, " %9.4f", v[i])
		}
	}
	fmt.Fprintf(out, "\n%-10s", "mean")
	for _, met := range mets {
		_, mean := get(met)
		fmt.Fprintf(out, " %9.4f", mean)
	}
	fmt.Fprintln(out)
}

// crop returns the pixels of rows r0 … r0+h−1 and columns c0 … c0+w−1 of
// a bands×pixels cube y with the given number of image rows (pixel n = row
// + col·rows), and the truth restricted to them.
func crop(y *mat.Dense, truth *Truth, rows, r0, c0, h, w int) (*mat.Dense, *Truth) {
	l, _ := y.Dims()
	k, _ := truth.Abundances.Dims()
	out := mat.NewDense(l, h*w, nil)
	ab := mat.NewDense(k, h*w, nil)
	for c := range w {
		for r := range h {
			src, dst := (r0+r)+(c0+c)*rows, r+c*h
			out.SetCol(dst, mat.Col(nil, src, y))
			ab.SetCol(dst, mat.Col(nil, src, truth.Abundances))
		}
	}
	return out, &Truth{Endmembers: truth.Endmembers, Abundances: ab}
}

// illuminate scales every pixel (column) of y by 1 + spread·N(0, 1), floored
// at 0.5, deterministic for a given seed.
func illuminate(y *mat.Dense, spread float64, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x111))
	l, n := y.Dims()
	for p := range n {
		f := max(0.5, 1+spread*rng.NormFloat64())
		for i := range l {
			y.Set(i, p, f*y.At(i, p))
		}
	}
}
