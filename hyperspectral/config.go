package hyperspectral

import (
	"gonum.org/v1/gonum/mat"

	"eddy/field"
)

// Method names an unmixing method. The names are API (the `method` param).
type Method string

// The unmixing methods.
const (
	// MethodRRLbS: ℓ2,1 error, per-pixel ℓp sparsity weighted by a learned
	// guidance map (Zhu et al., arXiv 1409.0685; reconstructed, see Unmix).
	MethodRRLbS Method = "rrlbs"
	// MethodL21NMF: ℓ2,1 error, no sparsity.
	MethodL21NMF Method = "l21nmf"
	// MethodL12NMF: Frobenius error, ℓ1/2 sparsity with h ≡ 1 (Qian et al. 2011).
	MethodL12NMF Method = "l12nmf"
	// MethodNMF: Frobenius error (Lee & Seung 2001), with the sum-to-one
	// constraint shared by all the methods here.
	MethodNMF Method = "nmf"
	// MethodVCAFCLS: the initial endmembers (VCA or uploaded) with FCLS
	// abundances; no iterations.
	MethodVCAFCLS Method = "vca_fcls"
)

// Methods lists every method, in the order of the specification's tables.
var Methods = []Method{MethodVCAFCLS, MethodNMF, MethodL21NMF, MethodL12NMF, MethodRRLbS}

// Init names an initialisation. The names are API (the `init` param).
type Init string

// The initialisations. Every method of a run starts from the same (M₀, A₀).
const (
	// InitVCA: endmembers by VCA (seeded by Seed), abundances by FCLS for
	// those endmembers (§3 step 2 of the specification). The default.
	InitVCA Init = "vca"
	// InitFCLS is another name of InitVCA, kept for existing requests.
	InitFCLS Init = "fcls"
	// InitVCAFlat: endmembers by VCA, flat abundances A₀ = 1/K. Only on
	// request: from flat abundances the first M-step multiplies every
	// endmember by the same band profile ȳ ⊘ m̄, and Frobenius NMF can settle
	// on a wrong simplex whose objective is lower than that of the right one.
	InitVCAFlat Init = "vca_flat"
	// InitUpload: the given InitEndmembers, abundances by FCLS.
	InitUpload Init = "upload"
)

// Inits lists every initialisation, in the order of the `init` enum.
var Inits = []Init{InitVCA, InitFCLS, InitVCAFlat, InitUpload}

// Guidance names how rrlbs sets its per-pixel sparsity weights h. The names
// are API (the `guidance` param and metric).
type Guidance string

const (
	// GuidanceAuto: the learned map, or h ≡ 1 when the scene's misfit at
	// the start exceeds MisfitUniform times its noise (see Unmix). The
	// default.
	GuidanceAuto Guidance = "auto"
	// GuidanceLearned: the guidance map learned with the abundances (the
	// paper's h-step).
	GuidanceLearned Guidance = "learned"
	// GuidanceUniform: h ≡ 1, the same ℓp weight for every pixel.
	GuidanceUniform Guidance = "uniform"
	// GuidanceFixed (a result only): the map of Config.FixedGuidance.
	GuidanceFixed Guidance = "fixed"
)

// Loss names the channel loss ρ of rrlbs. The names are API (the `loss`
// param and metric).
type Loss string

const (
	// LossAuto: LossHuber, or LossL21 when the channel errors at the start
	// spread little (see Unmix). The default.
	LossAuto Loss = "auto"
	// LossHuber: the Huber form of the ℓ2,1 loss, threshold τ = Config.Huber
	// × the median channel error.
	LossHuber Loss = "huber"
	// LossL21: the paper's ℓ2,1 loss.
	LossL21 Loss = "l21"
)

// Mixing names the mixing model of the iterative methods. The names are API
// (the `mixing` param and metric).
type Mixing string

const (
	// MixingAuto: for rrlbs, the sum-to-one model and then, when the
	// endmembers it finds are far enough apart (MixingAngle), the scaled
	// model from the same start; for the other methods the sum-to-one
	// model. The default.
	MixingAuto Mixing = "auto"
	// MixingSumToOne: y_n ≈ M a_n with a_n on the simplex (the papers').
	MixingSumToOne Mixing = "sum_to_one"
	// MixingScaled: y_n ≈ b_n M a_n with a_n on the simplex and a
	// brightness b_n > 0 per pixel.
	MixingScaled Mixing = "scaled"
)

// Config holds the parameters of Unmix. JSON names are those of the `unmix`
// job's params, and the tags declare each parameter's description, range and
// allowed values (see package field): Validate enforces them and the job's
// JSON Schema publishes them. Matrices that the job resolves from uploads are
// not serialised. Start from DefaultConfig and set Endmembers.
type Config struct {
	// Endmembers is K, the number of endmembers (≥ 2).
	Endmembers int `json:"endmembers" required:"true" min:"2" max:"64" doc:"number K of endmembers (pure materials) to find, at most the number of bands; there is no default. The per-pixel abundance updates cost O(K³)"`
	// Method is the unmixing method (default rrlbs).
	Method Method `json:"method" enum:"vca_fcls|nmf|l21nmf|l12nmf|rrlbs" doc:"unmixing method: rrlbs, ℓ2,1 error (in the Huber form that huber sets) with per-pixel ℓp sparsity weighted by a learned guidance map (Zhu et al.); l21nmf, ℓ2,1 error without sparsity (robust to noisy bands); l12nmf, Frobenius error with ℓ1/2 sparsity (Qian et al.); nmf, Frobenius error (Lee and Seung); vca_fcls, the initial endmembers with fully constrained least-squares abundances, no iterations"`
	// Init is the initialisation (default vca).
	Init Init `json:"init" enum:"vca|fcls|vca_flat|upload" doc:"initialisation, shared by every method: vca, endmembers by VCA (seeded by seed) and abundances by fully constrained least squares (FCLS) for them; fcls, the same as vca; vca_flat, VCA endmembers and flat abundances 1/K (not recommended: the first endmember update then distorts every spectrum alike); upload, the endmembers of init_endmembers and abundances by FCLS"`
	// InitEndmembers (bands×K, in the units of Y) is required with
	// Init = upload and not allowed otherwise; the job resolves it from the
	// `init_endmembers` upload.
	InitEndmembers *mat.Dense `json:"-"`
	// P is the exponent of the ℓp sparsity, 0 < p ≤ 1 (default ½).
	P float64 `json:"p" gt:"0" max:"1" doc:"exponent p of the ℓp sparsity of the abundances (rrlbs; l12nmf uses ½), dimensionless: smaller p favours fewer materials per pixel"`
	// Lambda, when set, is κ, the weight of the sparsity term relative to
	// Qian's sparseness estimate of the data: λ = κ·λ_Q. When nil (the
	// default), rrlbs chooses λ from the data (LambdaRule) and l12nmf uses
	// κ = DefaultKappa. 0 switches sparsity off. Result.Lambda and
	// Result.LambdaRule report the λ used and how it was chosen.
	Lambda *float64 `json:"lambda,omitempty" min:"0" max:"1000" doc:"weight κ of the sparsity term relative to Qian's sparseness estimate λ_Q of the data (λ = κ·λ_Q), dimensionless; 0 switches sparsity off, larger values give sparser abundances. When omitted, rrlbs chooses λ from the data (the discrepancy rule: a fixed multiple of the start's per-pixel misfit in excess of the noise that the bands' mutual regression leaves) and l12nmf takes κ = 0.05; the metrics lambda and lambda_rule report the λ used and its source"`
	// Huber sets, for rrlbs, the threshold τ = Huber × (median channel
	// error) of the Huber form of the channel loss, re-estimated every
	// StopWindow iterations (see Unmix); 0 gives the paper's ℓ2,1 loss
	// (default 2).
	Huber float64 `json:"huber" min:"0" max:"1000" doc:"rrlbs only: the error of a channel (band) enters as its norm r when r exceeds τ = huber × (the median channel error, re-estimated every stop_window iterations) and as r²/(2τ) below it, so that bands fitted unusually well (dead or low-signal bands) are not weighted up without bound while bands fitted badly (outliers) still count only linearly; dimensionless; 0 gives the ℓ2,1 loss of the paper"`
	// Loss selects rrlbs's channel loss (default LossAuto, also when
	// empty); Result.Loss and Result.LossReason say which was used and why.
	Loss Loss `json:"loss,omitempty" enum:"auto|huber|l21" doc:"rrlbs only: the loss of a channel's (band's) error. l21, its norm r (the paper's ℓ2,1 loss: each band weighted by the inverse of its error, so bands with outliers count little); huber, the Huber form that huber sets (the norm above τ, r²/(2τ) below), so that bands fitted unusually well are not weighted up without bound; auto (or omitted), huber when at the start (the initial endmembers and their FCLS abundances) the channel errors, each in units of its band's noise level estimated from the data, spread widely — the lower quartile below 0.55 of the median —, else l21, where the Huber form would only turn the bulk of the bands into a least-squares fit. The metrics loss, loss_reason and error_spread report the choice"`
	// Guidance selects how rrlbs weights the sparsity of each pixel
	// (default GuidanceAuto, also when empty); Result.Guidance and Result.GuidanceReason say
	// which was used and why.
	Guidance Guidance `json:"guidance,omitempty" enum:"auto|learned|uniform" doc:"rrlbs only: the per-pixel weight of the sparsity term. learned, the guidance map learned with the abundances (strong sparsity on nearly pure pixels, none on highly mixed ones; the paper); uniform, the same weight for every pixel; auto (or omitted), the learned map unless, at the start (the initial endmembers and their FCLS abundances), the median band's error exceeds 5 times its noise level (estimated from the data), when the linear mixing model does not explain the scene to its noise and a pixel's mixing level, on which the map is built, carries the model's error: then uniform. The metrics guidance, guidance_reason and misfit_ratio report the choice"`
	// Mixing selects the mixing model (default MixingAuto, also when
	// empty); Result.Mixing and Result.MixingReason say which was used and
	// why.
	Mixing Mixing `json:"mixing,omitempty" enum:"auto|sum_to_one|scaled" doc:"the mixing model of the iterative methods. sum_to_one, each pixel a convex combination of the endmembers (the papers' model); scaled, each pixel such a combination times its own brightness (shading, slope, depth; reported as the brightness map), so that a dark endmember is not used as shade for the others; auto (or omitted), for rrlbs the sum-to-one run and then, when the least spectral angle between two of the endmembers it found is above 0.27 rad (brightness is then not what tells them apart), a second run with the scaled model from the same start, which it reports (up to twice the time); for the other methods sum_to_one. The metrics mixing, mixing_reason and mixing_angle report the choice; scaled needs an iterative method (not vca_fcls)"`
	// Iterations bounds the number of iterations (default 1000).
	Iterations int `json:"iterations" min:"1" max:"100000" doc:"limit on the number of iterations of the iterative methods; a run that reaches it before the stop rule holds reports converged = false"`
	// Tol and StopWindow make the stop rule (see Unmix): every StopWindow
	// iterations, the run stops when over the last StopWindow iterations
	// both the relative decrease of the objective and the largest spectral
	// angle by which an endmember turned are below StopWindow·Tol (default
	// 1e-5 per iteration; 0 runs every iteration).
	Tol float64 `json:"tol" min:"0" lt:"1" doc:"stop rule, per iteration and dimensionless: every stop_window iterations, the run stops when over the last stop_window iterations the relative decrease of the objective (F_{t−W} − F_t)/F_{t−W} and the largest angle (in radians) by which an endmember turned are both below stop_window·tol; 0 runs every iteration"`
	// StopWindow is W, the number of iterations over which the stop rule
	// must hold (default 50); it is also the fewest iterations a run makes.
	StopWindow int `json:"stop_window" min:"1" max:"100000" doc:"number W of iterations over which the stop rule of tol must hold, and the fewest iterations a run makes (unless iterations is smaller): a single iteration with a small decrease (a plateau of the objective) does not stop the run"`
	// Seed seeds VCA's random directions.
	Seed uint64 `json:"seed" min:"0" max:"9007199254740991" doc:"seed of VCA's random projections (init vca, fcls or vca_flat); the same seed gives the same endmembers"`
	// Rows and Cols give the image shape, Rows·Cols = pixels; both 0 means a
	// single column (Rows = pixels, Cols = 1).
	Rows int `json:"rows" min:"0" max:"1048576" doc:"image rows, with rows·cols = pixels, the shape of the abundance maps and of the guidance map in the result (the unmixing itself treats pixels independently); 0 with cols = 0 takes the shape from the cube (rows,cols,bands layout, a scene file or an ENVI header), else a single column"`
	Cols int `json:"cols" min:"0" max:"1048576" doc:"image columns (pixel n is at row n mod rows, column n div rows, MATLAB order); 0 together with rows = 0"`
	// OutlierBands lists 0-based bands left out of the SAD metric (bands known
	// to be corrupted). They are not removed from the unmixing.
	OutlierBands []int `json:"outlier_bands,omitempty" min:"0" max:"1048575" doc:"0-based indices of bands known to be corrupted, left out of the SAD metric (they still take part in the unmixing); distinct"`
	// Truth, when set, makes Unmix evaluate its result (Result.Metrics); the
	// job resolves it from the `truth` upload or the scene's own.
	Truth *Truth `json:"-"`
	// FixedGuidance, when set (length pixels, non-negative), replaces the
	// learned guidance map of rrlbs by this fixed map.
	FixedGuidance []float64 `json:"-"`
}

// DefaultConfig returns the defaults of every parameter except Endmembers,
// which has none.
func DefaultConfig() Config {
	return Config{
		Method:     MethodRRLbS,
		Init:       InitVCA,
		P:          0.5,
		Iterations: 1000,
		Tol:        1e-5,
		StopWindow: 50,
		Huber:      2,
		Guidance:   GuidanceAuto,
		Loss:       LossAuto,
		Mixing:     MixingAuto,
	}
}

// DefaultKappa is the κ of λ = κ·λ_Q for l12nmf when Config.Lambda is nil
// (for rrlbs too, where the data are too few for the noise estimate).
const DefaultKappa = 0.05

// Kappa returns a pointer to k, for Config.Lambda.
func Kappa(k float64) *float64 { return &k }

// MaxEndmembers bounds K (the per-pixel FCLS costs O(K³)); it is the bound
// that Config's tags declare for Endmembers.
const MaxEndmembers = 64

// Validate checks every parameter on its own (field.Check of the declared
// ranges and values) and, when those hold, against the others, without the
// data; Unmix checks the rest (shapes against the cube). The error,
// field.Errors, names each invalid parameter by its JSON Pointer ("/p").
func (c *Config) Validate() error {
	errs := field.Check(c)
	if len(errs) > 0 {
		return errs
	}
	switch c.Init {
	case InitVCA, InitFCLS, InitVCAFlat:
		if c.InitEndmembers != nil {
			errs.Add("/init_endmembers", "given, but init is %q; use init \"upload\"", c.Init)
		}
	case InitUpload:
		if c.InitEndmembers == nil {
			errs.Add("/init_endmembers", "required with init \"upload\"")
		} else if _, k := c.InitEndmembers.Dims(); k != c.Endmembers {
			errs.Add("/init_endmembers", "has %d columns (endmembers), want endmembers = %d", k, c.Endmembers)
		}
	}
	if (c.Rows == 0) != (c.Cols == 0) {
		errs.Add("/rows", "rows = %d and cols = %d must both be positive, or both 0", c.Rows, c.Cols)
	}
	if !distinct(c.OutlierBands) {
		errs.Add("/outlier_bands", "contains duplicates")
	}
	if c.Guidance != "" && c.Guidance != GuidanceAuto && c.Method != MethodRRLbS {
		errs.Add("/guidance", "%q applies to method rrlbs only, got method %q", c.Guidance, c.Method)
	}
	if c.Loss != "" && c.Loss != LossAuto && c.Method != MethodRRLbS {
		errs.Add("/loss", "%q applies to method rrlbs only, got method %q", c.Loss, c.Method)
	}
	if c.Mixing == MixingScaled && c.Method == MethodVCAFCLS {
		errs.Add("/mixing", "%q needs an iterative method; vca_fcls has no iterations", c.Mixing)
	}
	if c.Loss == LossHuber && c.Huber == 0 {
		errs.Add("/huber", "0 gives the ℓ2,1 loss, but loss is \"huber\"; give huber > 0 or loss \"l21\"")
	}
	if c.FixedGuidance != nil && c.Guidance != "" && c.Guidance != GuidanceAuto {
		errs.Add("/guidance", "%q, but a fixed guidance map is given", c.Guidance)
	}
	if c.FixedGuidance != nil && c.Method != MethodRRLbS {
		errs.Add("/method", "a fixed guidance map needs method rrlbs, got %q", c.Method)
	}
	return errs.Err()
}
