package hyperspectral

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"
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

// The initialisations.
const (
	// InitVCA: endmembers by VCA (seeded by Seed), flat abundances 1/K.
	InitVCA Init = "vca"
	// InitFCLS: endmembers by VCA (seeded by Seed), abundances by FCLS for
	// those endmembers. The default, as in §3 of the specification.
	InitFCLS Init = "fcls"
	// InitUpload: the given InitEndmembers, abundances by FCLS.
	InitUpload Init = "upload"
)

// Config holds the parameters of Unmix. JSON names are those of the `unmix`
// job's params; matrices that the job resolves from uploads are not
// serialised. Start from DefaultConfig and set Endmembers.
type Config struct {
	// Endmembers is K, the number of endmembers (≥ 2).
	Endmembers int `json:"endmembers"`
	// Method is the unmixing method (default rrlbs).
	Method Method `json:"method"`
	// Init is the initialisation (default fcls).
	Init Init `json:"init"`
	// InitEndmembers (bands×K, in the units of Y) is required with
	// Init = upload and not allowed otherwise; the job resolves it from the
	// `init_endmembers` upload.
	InitEndmembers *mat.Dense `json:"-"`
	// P is the exponent of the ℓp sparsity, 0 < p ≤ 1 (default ½).
	P float64 `json:"p"`
	// Lambda is κ, the weight of the sparsity term relative to Qian's
	// sparseness estimate of the data: λ = κ·λ_Q (default 0.05). Result.Lambda
	// reports the λ used. 0 switches sparsity off.
	Lambda float64 `json:"lambda"`
	// Iterations bounds the number of iterations (default 500).
	Iterations int `json:"iterations"`
	// Tol stops the iterations when the relative decrease of the objective,
	// (F_{t−1} − F_t)/F_{t−1}, falls below it (default 1e-5; 0 runs every
	// iteration).
	Tol float64 `json:"tol"`
	// Seed seeds VCA's random directions.
	Seed uint64 `json:"seed"`
	// Rows and Cols give the image shape, Rows·Cols = pixels; both 0 means a
	// single column (Rows = pixels, Cols = 1).
	Rows int `json:"rows"`
	Cols int `json:"cols"`
	// OutlierBands lists 0-based bands left out of the SAD metric (bands known
	// to be corrupted). They are not removed from the unmixing.
	OutlierBands []int `json:"outlier_bands,omitempty"`
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
		Init:       InitFCLS,
		P:          0.5,
		Lambda:     0.05,
		Iterations: 500,
		Tol:        1e-5,
	}
}

// FieldError is one invalid parameter: Field is its JSON name.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every invalid parameter of a Config.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "hyperspectral: invalid config: " + strings.Join(parts, "; ")
}

// MaxEndmembers bounds K (the per-pixel FCLS costs O(K³)).
const MaxEndmembers = 64

// MaxIterations bounds Iterations.
const MaxIterations = 100000

// Validate checks every parameter on its own and against the others, without
// the data; Unmix checks the rest (shapes against the cube). The error, a
// *ValidationError, names each invalid field.
func (c *Config) Validate() error {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if c.Endmembers < 2 || c.Endmembers > MaxEndmembers {
		bad("endmembers", "must be between 2 and %d, got %d", MaxEndmembers, c.Endmembers)
	}
	switch c.Method {
	case MethodRRLbS, MethodL21NMF, MethodL12NMF, MethodNMF, MethodVCAFCLS:
	default:
		bad("method", "must be one of rrlbs, l21nmf, l12nmf, nmf, vca_fcls, got %q", c.Method)
	}
	switch c.Init {
	case InitVCA, InitFCLS:
		if c.InitEndmembers != nil {
			bad("init_endmembers", "given, but init is %q; use init \"upload\"", c.Init)
		}
	case InitUpload:
		if c.InitEndmembers == nil {
			bad("init_endmembers", "required with init \"upload\"")
		} else if _, k := c.InitEndmembers.Dims(); k != c.Endmembers {
			bad("init_endmembers", "has %d columns (endmembers), want endmembers = %d", k, c.Endmembers)
		}
	default:
		bad("init", "must be one of vca, fcls, upload, got %q", c.Init)
	}
	if !(c.P > 0 && c.P <= 1) {
		bad("p", "must be in (0, 1], got %v", c.P)
	}
	if !(c.Lambda >= 0) || math.IsInf(c.Lambda, 0) {
		bad("lambda", "must be finite and ≥ 0, got %v", c.Lambda)
	}
	if c.Iterations < 1 || c.Iterations > MaxIterations {
		bad("iterations", "must be between 1 and %d, got %d", MaxIterations, c.Iterations)
	}
	if !(c.Tol >= 0 && c.Tol < 1) {
		bad("tol", "must be in [0, 1), got %v", c.Tol)
	}
	if c.Rows < 0 || c.Cols < 0 || (c.Rows == 0) != (c.Cols == 0) {
		bad("rows", "rows = %d and cols = %d must both be positive, or both 0", c.Rows, c.Cols)
	}
	for _, b := range c.OutlierBands {
		if b < 0 {
			bad("outlier_bands", "band index %d is negative (indices are 0-based)", b)
			break
		}
	}
	if !distinct(c.OutlierBands) {
		bad("outlier_bands", "contains duplicates")
	}
	if c.FixedGuidance != nil && c.Method != MethodRRLbS {
		bad("method", "a fixed guidance map needs method rrlbs, got %q", c.Method)
	}
	if len(errs) > 0 {
		return &ValidationError{Fields: errs}
	}
	return nil
}
