package hyperspectral

import (
	"context"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"eddy/field"
	"eddy/progress"
)

// Result is the outcome of Unmix.
type Result struct {
	// Endmembers is bands×K, column k the spectrum of endmember k, in the
	// units of Y.
	Endmembers *mat.Dense
	// Abundances is K×pixels; column n holds the abundances of pixel n
	// (n = row + col·Rows). AbundanceCube reshapes it to (K, rows, cols).
	Abundances *mat.Dense
	// Rows and Cols are the image shape.
	Rows, Cols int
	// GuidanceMap is h, the per-pixel weight of the sparsity term, in pixel
	// order (GuidanceImage reshapes it): learned by rrlbs (small where a pixel
	// is highly mixed), fixed for rrlbs with Config.FixedGuidance, all ones
	// for l12nmf, nil for the methods without sparsity.
	GuidanceMap []float64
	// Guidance is how rrlbs weighted each pixel's sparsity (GuidanceLearned,
	// GuidanceUniform or GuidanceFixed; empty for the other methods), and
	// GuidanceReason why.
	Guidance       Guidance
	GuidanceReason string
	// MisfitRatio is the median band's error over its noise level at the
	// iteration where Config.Guidance auto chose (see Unmix); NaN when no
	// choice was made.
	MisfitRatio float64
	// Loss is rrlbs's channel loss (LossHuber or LossL21; empty for the
	// other methods), and LossReason why.
	Loss       Loss
	LossReason string
	// ErrorSpread is, at the start, the lower quartile over bands of the
	// channel error in units of the band's noise level over its median,
	// on which Config.Loss auto chose (see Unmix); NaN when no choice was
	// made.
	ErrorSpread float64
	// ChannelWeights are the ℓ2,1 reweighting d_l ∝ 1/‖yˡ − mˡA‖₂ of the
	// last iteration, scaled to mean 1: bands below 1 were down-weighted.
	// All ones for the Frobenius methods and vca_fcls, which weight every
	// band equally.
	ChannelWeights []float64
	// ObjectiveHistory holds F at the initial point and after every
	// iteration (F as in Unmix, for the data scaled to max 1); empty for
	// vca_fcls.
	ObjectiveHistory []float64
	// Iterations is the number of iterations run.
	Iterations int
	// TauUpdates lists the iterations after which rrlbs re-estimated the
	// Huber scale τ (see Unmix). ObjectiveHistory[t] is F under the τ in
	// force after iteration t, so it may rise from t−1 to such a t, since F
	// itself changed there, and does not rise elsewhere.
	TauUpdates []int
	// Converged reports whether the stop rule (see Unmix) ended the run.
	Converged bool
	// StoppedBy says what ended the run: StopTol, StopMaxIterations, or
	// StopDirect for vca_fcls.
	StoppedBy string
	// Lambda is the λ of the sparsity term that was used, 0 without one.
	Lambda float64
	// LambdaRule says how Lambda was chosen: LambdaParam (κ·λ_Q with the
	// given κ), LambdaQianDefault (κ = DefaultKappa), LambdaDiscrepancy
	// (chosen from the data, see Unmix), or LambdaNone for the methods
	// without a sparsity term.
	LambdaRule string
	// Scale is the factor by which Y was divided (its maximum).
	Scale float64
	// InitPixels are the pixels chosen as vertices by VCA, nil for upload.
	InitPixels []int
	// Metrics compares the result with Config.Truth; nil without truth.
	Metrics *Metrics
	// Mixing is the mixing model of the iterations (MixingSumToOne or
	// MixingScaled; empty for vca_fcls), MixingReason why, and MixingAngle
	// the least spectral angle (radians) between the sum-to-one run's
	// endmembers on which Config.Mixing auto chose (NaN without a choice).
	Mixing       Mixing
	MixingReason string
	MixingAngle  float64
	// Brightness is, for the scaled model, each pixel's brightness b_n
	// (mean 1) in pixel order: pixel n is modelled as b_n M a_n. Nil for
	// the sum-to-one model.
	Brightness []float64
}

// MixingAngle is the bound of the automatic mixing model (Config.Mixing
// auto, rrlbs): after its sum-to-one run rrlbs runs again with the scaled
// model, from the same start, when the least spectral angle between two of
// the endmembers it found exceeds MixingAngle radians. Below it two
// endmembers differ mainly in brightness, which a free brightness per pixel
// would absorb. On the benchmark's rows the angle is 0.12–0.24 on every
// Jasper Ridge row and the synthetic scenes of its library, and 0.31–0.56
// on every Samson row (bench/results/unmixing.md).
const MixingAngle = 0.27

// mixingReason says why Config.Mixing auto chose as it did for the least
// endmember angle a; first and second are the two runs' iterations when the
// scaled run followed.
func mixingReason(a float64, first, second int) string {
	if a > MixingAngle {
		return fmt.Sprintf("the sum-to-one run's endmembers are at least %.3g rad apart (above %g), so brightness is not what tells them apart: the scaled model, with a brightness per pixel, was run from the same start (%d iterations after the sum-to-one run's %d)", a, MixingAngle, second, first)
	}
	return fmt.Sprintf("two of the sum-to-one run's endmembers are only %.3g rad apart (at most %g), so brightness is part of what tells them apart, which a brightness per pixel would absorb: the sum-to-one model was kept", a, MixingAngle)
}

// leastAngle returns the least spectral angle, in radians, between two
// columns of m (L×K row-major), the bands weighted by w: the SpectralAngle of
// the columns scaled by √w.
func leastAngle(m, w []float64, l, k int) float64 {
	cols := make([][]float64, k)
	for j := range cols {
		cols[j] = make([]float64, l)
		for b := range l {
			cols[j][b] = math.Sqrt(w[b]) * m[b*k+j]
		}
	}
	least := math.Pi
	for i := range k {
		for j := range i {
			least = min(least, SpectralAngle(cols[i], cols[j], nil))
		}
	}
	return least
}

// MisfitUniform is the bound of the automatic guidance (Config.Guidance
// auto; see Unmix): at the start (M₀ and its FCLS abundances) rrlbs takes
// h ≡ 1 instead of the learned map when the median band's error exceeds
// MisfitUniform times the band's noise level. On the benchmark scenes the
// ratio at the start is 1.0–3.1 on the synthetic scenes and 7.5–51 on
// Jasper Ridge and Samson.
const MisfitUniform = 5.0

// SpreadL21 is the bound of the automatic loss (Config.Loss auto): rrlbs
// keeps the Huber loss when, at the start, the lower quartile over bands of
// r_l / (√N σ_l) is below SpreadL21 times its median, and takes the ℓ2,1
// loss otherwise. On the benchmark scenes the spread is 0.38–0.47 on every
// Jasper Ridge row and 0.67–0.98 on Samson and the synthetic scenes.
const SpreadL21 = 0.55

// How λ was chosen (Result.LambdaRule); the names are API (the metric
// lambda_rule).
const (
	LambdaParam       = "param"
	LambdaQianDefault = "qian_default"
	LambdaDiscrepancy = "discrepancy"
	LambdaNone        = "none"
)

// What ended a run (Result.StoppedBy); the names are API (the metric
// stopped_by).
const (
	StopTol           = "tol"
	StopMaxIterations = "max_iterations"
	StopDirect        = "direct"
)

// AbundanceCube returns the abundances as a row-major (K, rows, cols) array:
// element (k, r, c) is at (k·rows + r)·cols + c and equals
// Abundances[k, r + c·rows].
func (r *Result) AbundanceCube() []float64 {
	k, _ := r.Abundances.Dims()
	out := make([]float64, k*r.Rows*r.Cols)
	for j := range k {
		row := r.Abundances.RawRowView(j)
		for i := range r.Rows {
			for c := range r.Cols {
				out[(j*r.Rows+i)*r.Cols+c] = row[i+c*r.Rows]
			}
		}
	}
	return out
}

// GuidanceImage returns the guidance map as a row-major (rows, cols) array,
// element (r, c) at r·cols + c, or nil if there is none.
func (r *Result) GuidanceImage() []float64 { return r.image(r.GuidanceMap) }

// BrightnessImage returns the scaled model's brightness as a row-major
// (rows, cols) array, element (r, c) at r·cols + c, or nil if there is none.
func (r *Result) BrightnessImage() []float64 { return r.image(r.Brightness) }

// image reorders a per-pixel vector from pixel order to a row-major
// (rows, cols) array; nil stays nil.
func (r *Result) image(v []float64) []float64 {
	if v == nil {
		return nil
	}
	out := make([]float64, r.Rows*r.Cols)
	for i := range r.Rows {
		for c := range r.Cols {
			out[i*r.Cols+c] = v[i+c*r.Rows]
		}
	}
	return out
}

// Unmix estimates endmembers and abundances of y (bands×pixels, pixel order
// as in the package documentation) with the method of cfg.
//
// The data are divided by their maximum (negative values, which a
// non-negative model cannot represent, are set to 0). The iterative methods
// then minimise
//
//	F(M, A, h) = Σ_l ρ(‖yˡ − mˡA‖₂) + λ Σ_n h_n Σ_k A_kn^p + (λβ/2)‖h‖²
//
// over M ≥ 0, A ≥ 0 with 1ᵀa_n = 1 for every pixel and, for rrlbs, h ≥ 0 with
// Σh = N (§2 of the specification). Here yˡ and mˡ are rows (channels);
// ρ(r) = r for the ℓ2,1 methods (rrlbs, l21nmf) and r²/2 for the Frobenius
// ones (nmf, l12nmf). For rrlbs with cfg.Huber > 0 (the default), ρ is the
// Huber function ρ_τ(r) = r²/(2τ) for r ≤ τ, r − τ/2 above, with τ =
// cfg.Huber × the median of the channel errors: beyond the paper, whose ℓ2,1
// reweighting d_l = 1/(2r_l) gives a band that is fitted unusually well (a
// dead band of small noise, a band of little signal) an unbounded weight in
// the A-step; the Huber weights 1/(2 max(r_l, τ)) stop that, and still
// weight bad bands (outliers) down like 1/r_l. τ is a robust scale of the
// channel errors and, as in iteratively reweighted M-estimation, it is
// re-estimated from the current errors at the end of every stop window
// (Result.TauUpdates): a τ fixed at a poor start would stay far above the
// clean bands' errors once the fit improves, and weight the outlier bands up
// relative to them. With cfg.Loss auto (the default) rrlbs keeps the Huber
// form only when, at the start (M₀, A₀), the channel errors in units of the
// bands' noise, r_l / (√N σ_l), spread widely: their lower quartile below
// SpreadL21 times their median (Result.ErrorSpread). Where they spread
// little no band is fitted unusually well, τ = 2 × median would put most
// bands in the quadratic part, turning the bulk of the loss into least
// squares, and the ℓ2,1 loss is used: on Samson with outlier bands it
// ends at 0.078 where Huber ends at 0.083–0.084, and on the synthetic rows
// it is as good or better (bench/results/unmixing.md). The sparsity terms
// are present for rrlbs (h learned, β = max − min of the initial
// Σ_k A_kn^p) and l12nmf (h ≡ 1, no ‖h‖² term). With cfg.Lambda = κ set, λ = κ·λ_Q with Qian's sparseness estimate
// λ_Q = (1/√L) Σ_l (√N − ‖yˡ‖₁/‖yˡ‖₂)/(√N − 1) (SparsenessEstimate); without
// it l12nmf takes κ = DefaultKappa and rrlbs chooses λ from the data by the
// discrepancy rule
//
//	λ = γ · (1/N) Σ_l d_l · max(0, r_l² − N σ_l²),   γ = 4.5,
//
// at the start: the A-step's weighted misfit per pixel, less the part that
// the bands' noise σ_l (NoiseEstimate, the residual of regressing each band
// on the others) explains. A start that fits to the noise level gets little
// sparsity; a hot band, whose error is noise, adds little. Result.LambdaRule
// says which rule gave λ.
//
// Each iteration is a block majorisation–minimisation step (§3):
//
//  1. M ← M ⊙ YAᵀ ⊘ MAAᵀ (Lee–Seung; it lowers every channel error);
//  2. channel weights d_l = 1/(2‖eˡ‖₂) of the ℓ2,1 majoriser (1/(2 max(‖eˡ‖₂,
//     τ)) for Huber, ½ for Frobenius);
//  3. the A-step: the multiplicative update A ⊙ MᵀDY ⊘ (MᵀDMA + (λp/2)A^(p−1)
//     diag(h)) with, per pixel, a Lagrange multiplier τ_n subtracted from the
//     numerator so that the abundances sum to one exactly: the minimiser of
//     the Lee–Seung majoriser over the simplex;
//  4. for rrlbs, h = Proj_{h≥0, Σh=N}(−c/β) with c_n = Σ_k A_kn^p.
//
// Guidance (cfg.Guidance, beyond the paper): the learned map sets each
// pixel's sparsity weight by its mixing level c_n, which measures mixing
// when the linear model explains the pixel to the noise level. On real
// scenes it does not (spectral variability, nonlinear mixing, too few
// endmembers leave band errors 8 to 33 times the noise on Jasper Ridge and
// Samson after 50 iterations, against 1.0 to 1.7 on the synthetic scenes),
// c_n then carries model error, and the learned map lost every Jasper row
// from the shipped endmembers to h ≡ 1 (bench/results/unmixing.md). With guidance auto (the
// default) rrlbs measures the median over bands of r_l / (√N σ_l) at the
// start and takes h ≡ 1 when it exceeds MisfitUniform (Result.Guidance,
// Result.GuidanceReason, Result.MisfitRatio).
//
// Mixing model (cfg.Mixing, beyond the papers): with MixingScaled each pixel
// is modelled as y_n ≈ b_n M a_n, its abundances a_n on the simplex and a
// brightness b_n > 0 (shading, slope, depth) of its own; mˡA becomes
// mˡ A diag(b) in F, the sparsity term stays on a_n, and each A-step is
// followed by the least-squares b_n for the new a_n (floored at 0.05; b is
// kept at mean 1). In the sum-to-one model a scene whose brightness varies
// is fitted by mixing in the darkest endmember as shade, which pulls that
// endmember into the others' span (on Samson the water). The scaled model
// leaves each endmember's scale free (scaling m_j, a_jn and b_n together fits
// the same), so at the end the scales are set so that each endmember's
// abundance-weighted mean brightness is 1 (Result.Brightness then holds what
// varies between pixels; the last entry of ObjectiveHistory is F before
// this change of scales, which changes the sparsity term only). Being free,
// that scale cannot tell apart endmembers that differ mainly in brightness
// (on Jasper Ridge soil and road), where the sum-to-one model is the better
// one. With MixingAuto (the default) rrlbs therefore runs with the sum-to-one
// model and, when the least spectral angle between two of the endmembers it
// found (bands weighted by the channel weights) exceeds MixingAngle, runs
// again with the scaled model from the same start, making its choices at
// the start (loss, guidance, λ) anew for that model: the result is then
// exactly that of MixingScaled (Result.Mixing, Result.MixingReason,
// Result.MixingAngle). The other methods keep the sum-to-one model unless
// MixingScaled is given.
//
// No step increases F, so ObjectiveHistory is non-increasing up to rounding,
// except into an iteration of Result.TauUpdates (F changes there with τ).
// Entries of A and M are floored at ε = 1e-9.
//
// Stop rule: at every iteration t that is a multiple of W = cfg.StopWindow,
// the run stops when, over the last W iterations, both
//
//	(F_{t−W} − F_t)/F_{t−W} < W·tol   and   max_k ∠(m_k(t), m_k(t−W)) < W·tol
//
// (angles in radians), and in any case after cfg.Iterations iterations.
// Testing a whole window, not one iteration, keeps a plateau of the objective
// from ending the run; testing the endmembers as well keeps a run going while
// they still turn although the objective hardly moves (from a poor start the
// objective can fall by less than 1e-5 per iteration for hundreds of
// iterations while the spectral angles to the truth still fall by a fifth).
//
// Deviation from the specification's reconstruction: there the sum-to-one
// constraint is enforced softly, by a row δ1ᵀ (δ = 15) appended to Y and M.
// On Jasper Ridge that leaves pixel sums off by up to 0.08, and a larger δ
// makes the multiplicative updates so ill-conditioned that 300 iterations do
// not move far from the initialisation. The exact constraint has neither
// problem; the sparsity weight then acts fully, and the default κ is 0.05
// instead of 0.1 (κ = 0.1 over-sparsifies synthetic data when run to
// convergence).
//
// Cost per iteration: two passes of O(L·N·K) over the data, fused by pixel
// blocks so that each block of Y is read from memory once, O(N·K²) for the
// per-pixel updates and O(N) per pass of the h-step projection; no
// allocation.
//
// Unmix reports progress after iterations (at most about 200 reports in all)
// with the iteration and the objective, checks ctx every iteration and
// returns ctx.Err() when it is done. Invalid parameters, and parameters that
// do not fit the data, give field.Errors, as do a cube with a non-finite value
// or without a positive one (path /cube): errors a new attempt would repeat.
func Unmix(ctx context.Context, y *mat.Dense, cfg Config, fn progress.Func) (*Result, error) {
	return unmix(ctx, y, cfg, fn, Options{})
}

func unmix(ctx context.Context, y *mat.Dense, cfg Config, fn progress.Func, opts Options) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l, n := y.Dims()
	if err := cfg.checkData(l, n); err != nil {
		return nil, err
	}
	rows, cols := cfg.Rows, cfg.Cols
	if rows == 0 {
		rows, cols = n, 1
	}
	// Scale to max 1; set negative values to 0.
	scale := math.Inf(-1)
	for i := range l {
		for j, v := range y.RawRowView(i) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, field.Errors{{Path: "/cube", Message: fmt.Sprintf("the cube holds a non-finite value (%v) in band %d, pixel %d", v, i, j)}}
			}
			scale = max(scale, v)
		}
	}
	if !(scale > 0) {
		return nil, field.Errors{{Path: "/cube", Message: "the cube has no positive value"}}
	}
	ys := mat.NewDense(l, n, nil)
	for i := range l {
		dst := ys.RawRowView(i)
		for j, v := range y.RawRowView(i) {
			dst[j] = max(v, 0) / scale
		}
	}

	fn.Report(progress.Update{Fraction: 0, Message: "initialising (" + string(cfg.Init) + ")"})
	m0, a0, pixels, err := initialise(ctx, ys, scale, &cfg)
	if err != nil {
		return nil, err
	}
	res := &Result{Rows: rows, Cols: cols, Scale: scale, InitPixels: pixels}
	if cfg.Method == MethodVCAFCLS {
		res.Endmembers = m0
		res.Abundances = a0
		res.ChannelWeights = ones(l)
		res.ObjectiveHistory = []float64{}
		res.Converged, res.StoppedBy = true, StopDirect
		res.LambdaRule = LambdaNone
	} else if err := runIterations(ctx, ys, m0, a0, &cfg, res, fn, opts); err != nil {
		return nil, err
	}
	res.Endmembers.Scale(scale, res.Endmembers)

	if cfg.Truth != nil {
		met, err := Evaluate(res.Endmembers, res.Abundances, cfg.Truth, cfg.OutlierBands)
		if err != nil {
			return nil, err
		}
		res.Metrics = met
	}
	fn.Report(progress.Update{Fraction: 1, Message: "done"})
	return res, nil
}

// UnmixMemory returns the memory, in bytes, that Unmix allocates for a cube
// of the given bands and pixels and K = endmembers: the scaled copy of the
// data and VCA's centred copy (two bands×pixels arrays, alive together), at
// most three K×pixels arrays at once (VCA's projections, or the initial
// abundances, the iterated ones and their p-th powers) and six per-pixel
// vectors (the solver's four, with the scaled model's brightness, and the
// result's guidance map and brightness; once the scaled run of mixing auto
// starts, nothing refers to the sum-to-one run's solver). The cube itself, which
// the caller holds, is not included. Sizes too large for an int64 give
// math.MaxInt64.
func UnmixMemory(bands, pixels, endmembers int) int64 {
	b := 8 * float64(pixels) * (2*float64(bands) + 3*float64(endmembers) + 6)
	if b >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(b)
}

// initialise returns the initial endmembers (in the units of the scaled data
// ys), the initial abundances, and the VCA vertex pixels (nil for upload).
func initialise(ctx context.Context, ys *mat.Dense, scale float64, cfg *Config) (m0, a0 *mat.Dense, pixels []int, err error) {
	l, n := ys.Dims()
	k := cfg.Endmembers
	if cfg.Init == InitUpload {
		m0 = mat.NewDense(l, k, nil)
		m0.Scale(1/scale, cfg.InitEndmembers)
		for i := range l {
			for j := range k {
				if v := m0.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, nil, nil, field.Errors{{Path: "/init_endmembers", Message: fmt.Sprintf("non-finite value at band %d, endmember %d", i, j)}}
				}
				m0.Set(i, j, max(m0.At(i, j), 0))
			}
		}
	} else if m0, pixels, err = VCA(ctx, ys, k, cfg.Seed); err != nil {
		return nil, nil, nil, err
	}
	if cfg.Init == InitVCAFlat && cfg.Method != MethodVCAFCLS {
		a0 = mat.NewDense(k, n, nil)
		for i := range k {
			floats.AddConst(1/float64(k), a0.RawRowView(i))
		}
		return m0, a0, pixels, nil
	}
	if a0, err = FCLS(ctx, ys, m0); err != nil {
		return nil, nil, nil, err
	}
	return m0, a0, pixels, nil
}

// runIterations runs the iterations of an NMF-family method from (m0, a0) on the
// scaled data ys and fills res (endmembers still in scaled units). With
// Config.Mixing auto, rrlbs runs with the sum-to-one model and then, when
// its endmembers are at least MixingAngle apart, again with the scaled
// model from the same start: the second run is exactly the run of mixing
// scaled, with its own choices at the start.
func runIterations(ctx context.Context, ys, m0, a0 *mat.Dense, cfg *Config, res *Result, fn progress.Func, opts Options) error {
	// The bands' noise levels, for the discrepancy rule and the automatic
	// guidance and loss, estimated once (err when the cube has too few
	// pixels for the estimate).
	var sigma []float64
	var noiseErr error
	estimated := false
	noise := func() ([]float64, error) {
		if !estimated {
			sigma, noiseErr = NoiseEstimate(ys)
			estimated = true
		}
		return sigma, noiseErr
	}
	choose := (cfg.Mixing == "" || cfg.Mixing == MixingAuto) && cfg.Method == MethodRRLbS
	resumedScaled := opts.Resume != nil && opts.Resume.Arrays["brightness"] != nil
	legacy := opts.Resume != nil && opts.Resume.Arrays["mixing"] == nil
	res.Mixing, res.MixingReason, res.MixingAngle = MixingSumToOne, "requested", math.NaN()
	switch {
	case cfg.Mixing == MixingScaled:
		res.Mixing = MixingScaled
	case choose && legacy:
		// As the run that saved it would have gone on.
		choose = false
		res.MixingReason = "resumed from a state saved before the mixing model could be chosen: the sum-to-one model is kept"
	case choose:
	case cfg.Mixing != MixingSumToOne:
		res.MixingReason = "the method's published model (mixing auto chooses for rrlbs only)"
	}
	from, share := 0.0, 1.0
	if choose {
		// The sum-to-one run reports the first half of the progress, the
		// scaled run, if it follows, the second.
		share = 0.5
		if resumedScaled {
			from = 0.5
		}
	}
	s, opt, err := startRun(ctx, ys, m0, a0, cfg, res, fn, opts, noise, runPlan{
		resume: opts.Resume, scaled: cfg.Mixing == MixingScaled || resumedScaled, angle: math.NaN(), from: from, share: share,
	})
	if err != nil {
		return err
	}
	if choose {
		if resumedScaled {
			res.Mixing, res.MixingAngle = MixingScaled, s.angle
			res.MixingReason = mixingReason(s.angle, s.first, res.Iterations)
		} else {
			res.MixingAngle = leastAngle(s.m, s.channelWeights(), s.l, s.k)
			res.MixingReason = mixingReason(res.MixingAngle, 0, 0)
			if res.MixingAngle > MixingAngle {
				first := res.Iterations
				if s, opt, err = startRun(ctx, ys, m0, a0, cfg, res, fn, opts, noise, runPlan{
					scaled: true, angle: res.MixingAngle, first: first, from: 0.5, share: 0.5,
				}); err != nil {
					return err
				}
				res.Mixing = MixingScaled
				res.MixingReason = mixingReason(res.MixingAngle, first, res.Iterations)
			}
		}
	}
	if s.bright != nil {
		s.balanceBrightness()
		res.Brightness = slices.Clone(s.bright)
	}
	res.Endmembers = s.endmembers()
	res.Abundances = s.abundances()
	res.Lambda = opt.lambda
	res.ChannelWeights = ones(s.l)
	if opt.robust {
		res.ChannelWeights = s.channelWeights()
	}
	if opt.guidance != guidanceNone {
		res.GuidanceMap = append([]float64(nil), s.h...)
	}
	return nil
}

// runPlan says which run startRun makes.
type runPlan struct {
	resume *IterState // the state to continue from, or nil
	scaled bool       // the scaled mixing model
	// angle and first are the mixing choice's least endmember angle and the
	// iterations of the sum-to-one run before it, kept with a saved state
	// (NaN and 0 without a choice).
	angle float64
	first int
	// The run reports progress as the fraction from + share·t/iterations.
	from, share float64
}

// startRun makes one run of the iterations: it sets up the solver for cfg's
// method from (m0, a0), makes the choices at the start (loss, guidance, λ;
// a resumed run takes them from its state) and iterates (iterateRun, saving
// by opts' hooks). It returns the solver and its options, λ set.
func startRun(ctx context.Context, ys, m0, a0 *mat.Dense, cfg *Config, res *Result, fn progress.Func, opts Options, noise func() ([]float64, error), plan runPlan) (*mmSolver, mmOptions, error) {
	resume := plan.resume
	opt := mmOptions{p: cfg.P}
	switch cfg.Method {
	case MethodRRLbS:
		opt.robust = true
		opt.huber = cfg.Huber
		res.Loss, res.LossReason = LossHuber, "requested"
		switch {
		case cfg.Loss == LossL21:
			opt.huber = 0
			res.Loss = LossL21
		case cfg.Huber == 0:
			res.Loss, res.LossReason = LossL21, "huber 0 gives the ℓ2,1 loss"
		}
		opt.guidance = guidanceLearned
		res.Guidance, res.GuidanceReason = GuidanceLearned, "requested"
		switch {
		case cfg.FixedGuidance != nil:
			opt.guidance = guidanceFixed
			opt.fixedH = cfg.FixedGuidance
			res.Guidance, res.GuidanceReason = GuidanceFixed, "given"
		case cfg.Guidance == GuidanceUniform:
			opt.guidance = guidanceOnes
			res.Guidance = GuidanceUniform
		}
	case MethodL21NMF:
		opt.robust = true
	case MethodL12NMF:
		opt.guidance = guidanceOnes
	}
	res.LambdaRule = LambdaNone
	auto := false
	if opt.guidance != guidanceNone {
		switch {
		case cfg.Lambda != nil:
			opt.lambda = *cfg.Lambda * SparsenessEstimate(ys)
			res.LambdaRule = LambdaParam
		case cfg.Method == MethodRRLbS:
			auto = true
			// A positive placeholder, so that the solver prepares the
			// sparsity term; set below from the start.
			opt.lambda = 1
		default:
			opt.lambda = DefaultKappa * SparsenessEstimate(ys)
			res.LambdaRule = LambdaQianDefault
		}
	}
	opt.scaled = plan.scaled
	s := newMMSolver(ys, m0, a0, opt)
	// The bands' noise levels, for the discrepancy rule and the automatic
	// guidance; nil when the cube has too few pixels for the estimate.
	var sigma []float64
	var noiseErr error
	decide := opt.guidance == guidanceLearned && cfg.Guidance != GuidanceLearned && s.sparse
	decideLoss := s.tau > 0 && (cfg.Loss == "" || cfg.Loss == LossAuto)
	if auto || decide || decideLoss {
		sigma, noiseErr = noise()
	}
	res.ErrorSpread = math.NaN()
	if decideLoss {
		// Before λ, whose discrepancy rule weights the bands as the loss
		// does.
		res.Loss, res.LossReason, res.ErrorSpread = chooseLoss(s, sigma, noiseErr, resume)
		if res.Loss == LossL21 {
			s.tau = 0
		}
	}
	res.MisfitRatio = math.NaN()
	if decide {
		if noiseErr != nil {
			decide = false
			res.GuidanceReason = fmt.Sprintf("no choice without the noise estimate (%v)", noiseErr)
		} else if resume == nil {
			// At the start, before the first h-step: where the learned
			// map does not fit the scene, its first iterations would
			// already have moved M. (A resumed run takes the choice from
			// its saved state, below.)
			s.ratio = s.misfitRatio(sigma)
			res.MisfitRatio = s.ratio
			res.Guidance, res.GuidanceReason = guidanceChoice(s.ratio)
			if res.Guidance == GuidanceUniform {
				s.useUniform()
			}
		}
	}
	if cfg.Method == MethodRRLbS && !s.sparse {
		res.GuidanceReason = "no sparsity term (lambda 0): the guidance has no effect"
	}
	if auto {
		var lambda float64
		if sigma == nil {
			// Too few pixels for the noise estimate: Qian's rule.
			lambda = DefaultKappa * SparsenessEstimate(ys)
			res.LambdaRule = LambdaQianDefault
		} else {
			lambda = discrepancyLambda(sigma, s)
			res.LambdaRule = LambdaDiscrepancy
		}
		s.opt.lambda = lambda
		opt.lambda = lambda
	}
	s.angle, s.first = plan.angle, plan.first
	if err := iterateRun(ctx, s, cfg, res, fn, opts, decide, plan); err != nil {
		return nil, opt, err
	}
	return s, opt, nil
}

// chooseLoss makes the choice of Config.Loss auto at the start of a run
// (see Unmix): the loss, why, and the spread it measured (NaN without a
// choice, when the Huber loss is kept). A resumed run keeps the Huber loss
// of a state saved before the automatic choice existed (τ > 0 in it), and
// with it the λ chosen under it.
func chooseLoss(s *mmSolver, sigma []float64, noiseErr error, resume *IterState) (Loss, string, float64) {
	if noiseErr != nil {
		return LossHuber, fmt.Sprintf("no choice without the noise estimate (%v): the Huber loss is kept", noiseErr), math.NaN()
	}
	spread := s.errorSpread(sigma)
	if math.IsNaN(spread) || math.IsInf(spread, 0) {
		return LossHuber, "no choice: the start fits the median band exactly; the Huber loss is kept", math.NaN()
	}
	loss, why := lossChoice(spread)
	if loss == LossL21 && resume != nil && len(resume.Arrays["tau"]) == 1 && resume.Arrays["tau"][0] > 0 {
		return LossHuber, "resumed from a state saved with the Huber loss before the automatic choice existed: the Huber loss is kept", spread
	}
	return loss, why, spread
}

// lossChoice returns the loss that Config.Loss auto takes for the spread of
// the start's channel errors, and why.
func lossChoice(spread float64) (Loss, string) {
	if spread < SpreadL21 {
		return LossHuber, fmt.Sprintf("at the start the channel errors, in units of each band's noise level, spread widely (lower quartile %.3g of the median, below %g): the Huber form keeps the bands fitted unusually well from being weighted up without bound", spread, SpreadL21)
	}
	return LossL21, fmt.Sprintf("at the start the channel errors, in units of each band's noise level, spread little (lower quartile %.3g of the median, at least %g): no band is fitted unusually well, and the Huber form would only turn the bulk of the bands into a least-squares fit", spread, SpreadL21)
}

// guidanceChoice returns the guidance that the automatic rule chooses for
// the misfit ratio at the start, and why.
func guidanceChoice(ratio float64) (Guidance, string) {
	if ratio > MisfitUniform {
		return GuidanceUniform, fmt.Sprintf("at the start the median band's error was %.3g times its noise level (above %g): the mixing model does not explain the scene to its noise, so each pixel's mixing level, on which the learned map is built, carries model error", ratio, MisfitUniform)
	}
	return GuidanceLearned, fmt.Sprintf("at the start the median band's error was %.3g times its noise level (at most %g)", ratio, MisfitUniform)
}

// maxColumnAngle returns the largest spectral angle, in radians, between
// column k of a and column k of b, both L×K row-major. Cost O(L·K).
func maxColumnAngle(a, b []float64, l, k int) float64 {
	var worst float64
	var ab, aa, bb [MaxEndmembers]float64
	for i := range l {
		for j := range k {
			x, y := a[i*k+j], b[i*k+j]
			ab[j] += x * y
			aa[j] += x * x
			bb[j] += y * y
		}
	}
	for j := range k {
		c := ab[j] / math.Sqrt(aa[j]*bb[j])
		worst = max(worst, math.Acos(max(-1, min(1, c))))
	}
	return worst
}

// checkData checks the parameters that depend on the shape of the cube
// (L bands, N pixels).
func (c *Config) checkData(l, n int) error {
	var errs field.Errors
	bad := func(name, format string, args ...any) { errs.Add("/"+name, format, args...) }
	if c.Endmembers > l || c.Endmembers > n {
		bad("endmembers", "%d endmembers for a cube of %d bands and %d pixels", c.Endmembers, l, n)
	}
	if c.Rows != 0 && c.Rows*c.Cols != n {
		bad("rows", "rows·cols = %d·%d = %d, but the cube has %d pixels", c.Rows, c.Cols, c.Rows*c.Cols, n)
	}
	if c.InitEndmembers != nil {
		if r, _ := c.InitEndmembers.Dims(); r != l {
			bad("init_endmembers", "has %d bands, the cube %d", r, l)
		}
	}
	for _, b := range c.OutlierBands {
		if b >= l {
			bad("outlier_bands", "band %d out of range for %d bands (indices are 0-based)", b, l)
			break
		}
	}
	if c.FixedGuidance != nil {
		if len(c.FixedGuidance) != n {
			bad("fixed_guidance", "fixed guidance map has %d entries for %d pixels", len(c.FixedGuidance), n)
		} else {
			for _, v := range c.FixedGuidance {
				if !(v >= 0) || math.IsInf(v, 0) {
					bad("fixed_guidance", "fixed guidance map holds %v; entries must be finite and ≥ 0", v)
					break
				}
			}
		}
	}
	if t := c.Truth; t != nil {
		if t.Endmembers == nil {
			bad("truth", "no endmembers")
		} else {
			tl, tk := t.Endmembers.Dims()
			if tl != l {
				bad("truth", "true endmembers have %d bands, the cube %d", tl, l)
			}
			if tk > c.Endmembers {
				bad("truth", "%d true endmembers but endmembers = %d", tk, c.Endmembers)
			}
			if t.Abundances != nil {
				if ak, an := t.Abundances.Dims(); ak != tk || an != n {
					bad("truth", "true abundances are %d×%d, want %d×%d", ak, an, tk, n)
				}
			}
		}
	}
	return errs.Err()
}

// SparsenessEstimate returns Qian's estimate of the sparsity weight of the
// data y (bands×pixels, Qian et al., TGRS 2011):
//
//	λ_Q = (1/√L) Σ_l (√N − ‖yˡ‖₁/‖yˡ‖₂) / (√N − 1),
//
// the Hoyer sparseness of each band summed and divided by √L. Bands that are
// identically zero are skipped. Cost O(L·N).
func SparsenessEstimate(y *mat.Dense) float64 {
	l, n := y.Dims()
	if n < 2 {
		return 0
	}
	sn := math.Sqrt(float64(n))
	var s float64
	for i := range l {
		row := y.RawRowView(i)
		n2 := floats.Norm(row, 2)
		if n2 == 0 {
			continue
		}
		s += (sn - floats.Norm(row, 1)/n2) / (sn - 1)
	}
	return s / math.Sqrt(float64(l))
}

// median returns the median of x (the upper one for even lengths), leaving x
// as it is.
func median(x []float64) float64 {
	c := slices.Clone(x)
	slices.Sort(c)
	return c[len(c)/2]
}

func ones(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

// iterateRun runs the iterations of s, from the start or from plan.resume,
// under the stop rule, and fills res's iteration fields; opts' hooks save
// its state. decide says whether the automatic guidance was to choose (a
// resumed run's reason is then taken from its state).
func iterateRun(ctx context.Context, s *mmSolver, cfg *Config, res *Result, fn progress.Func, opts Options, decide bool, plan runPlan) error {
	resume := plan.resume
	hist := make([]float64, 1, cfg.Iterations+1)
	hist[0] = s.objective()
	every := max(1, cfg.Iterations/200)
	window := max(1, cfg.StopWindow)
	mPrev := append([]float64(nil), s.m...) // M at the start of the window
	res.StoppedBy, res.Converged, res.TauUpdates = StopMaxIterations, false, nil
	first := 1
	if r := resume; r != nil {
		if r.Iteration < 1 || r.Iteration >= cfg.Iterations || len(r.History) != r.Iteration+1 {
			return fmt.Errorf("hyperspectral: saved state at iteration %d with %d objective values does not fit %d iterations", r.Iteration, len(r.History), cfg.Iterations)
		}
		if err := s.restore(r.Arrays, mPrev); err != nil {
			return err
		}
		hist = append(hist[:0], r.History...)
		first = r.Iteration + 1
		if decide {
			// The saved run's guidance is the continuation's.
			res.MisfitRatio, res.Guidance = s.ratio, GuidanceLearned
			if s.opt.guidance == guidanceOnes {
				res.Guidance = GuidanceUniform
			}
			switch _, ok := r.Arrays["guidance"]; {
			case !ok:
				res.GuidanceReason = "resumed from a state saved before the automatic guidance: the learned map is kept"
			case math.IsNaN(s.ratio):
				res.GuidanceReason = "resumed from a state saved before the automatic guidance chose: the learned map is kept"
			case res.Guidance == GuidanceUniform && s.ratio <= MisfitUniform:
				res.GuidanceReason = fmt.Sprintf("resumed from a state whose run took h ≡ 1 at a misfit ratio of %.3g", s.ratio)
			default:
				_, res.GuidanceReason = guidanceChoice(s.ratio)
			}
		}
		for b := window; b < first && s.tau > 0; b += window {
			res.TauUpdates = append(res.TauUpdates, b) // as the run before the save did
		}
	}
	for t := first; t <= cfg.Iterations; t++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.iterate()
		f := s.objective()
		hist = append(hist, f)
		res.Iterations = t
		if t%window == 0 {
			bound := cfg.Tol * float64(window)
			prev := hist[t-window]
			if cfg.Tol > 0 && prev-f < bound*math.Abs(prev) && maxColumnAngle(s.m, mPrev, s.l, s.k) < bound {
				res.Converged, res.StoppedBy = true, StopTol
			}
			copy(mPrev, s.m)
			if !res.Converged && s.tau > 0 {
				// Re-estimate the Huber scale from the current channel
				// errors; F at t is recorded under the new τ, so that
				// the next window is compared with it.
				s.tau = cfg.Huber * median(s.r)
				res.TauUpdates = append(res.TauUpdates, t)
				f = s.objective()
				hist[t] = f
			}
		}
		if t%every == 0 || res.Converged || t == cfg.Iterations {
			fn.Report(progress.Update{
				Fraction: plan.from + plan.share*float64(t)/float64(cfg.Iterations),
				Message:  fmt.Sprintf("iteration %d", t),
				Metrics:  map[string]float64{"iteration": float64(t), "objective": f},
			})
		}
		if res.Converged {
			break
		}
		if t < cfg.Iterations && opts.Save != nil && opts.Due != nil && opts.Due() {
			st := &IterState{Iteration: t, History: slices.Clone(hist), Arrays: s.state(mPrev)}
			if err := opts.Save(st); err != nil {
				return err
			}
		}
	}
	res.ObjectiveHistory = hist
	return nil
}
