// Package jobs holds Eddy's job kinds and the machinery that runs them on River:
// submitting (validation, the runs row and the River job in one transaction),
// executing (claim, heartbeat, progress, HDF5 result, completion in one
// transaction), cancelling, and rescuing runs whose worker died.
//
// A kind is a params struct with defaults and a Validate method, plus a Run
// function that fills the result file; one file per kind registers it with
// Register.
//
// A failed attempt is retried, up to the kind's MaxAttempts, unless its error
// will repeat: an error is permanent when an error in its chain has a method
// Permanent() bool that returns true (see IsPermanent). Permanent(err) marks
// one in a kind; numerical packages report their data errors (a source that
// is not finite on the grid, say) as field.Errors, which has that method, or
// with a type of their own that has it, without importing jobs.
package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"eddy/field"
	"eddy/fileformat"
	"eddy/hdf5io"
	"eddy/progress"
	"eddy/storage"
)

// Params is what every kind's params struct implements. Its fields are declared
// once, in struct tags (see package field): name, description, default (the
// value Spec.Defaults gives), enum, bounds, required, reference. Decoding, the
// checks of each field, the JSON Schema of GET /v1/kinds and the CLI help all
// derive from that declaration. Validate adds the checks that involve several
// fields, reporting through a Checker with paths relative to the params
// object; it runs only on params whose fields passed their own checks.
type Params interface {
	Validate(c *Checker)
}

// DataChecker is implemented by params whose data can be checked only by
// evaluating them (expressions on a grid, the initial flow): costly checks
// that Submit runs once, after Validate, and that the worker does not repeat —
// the run meets the same data and reports it at the same field.
type DataChecker interface {
	CheckData(ctx context.Context, c *Checker)
}

// UploadChecker is implemented by params with reference fields (tag ref, see
// package field) that can check, before the job is queued, what the tags
// cannot declare: that the uploads they name fit the other params and each
// other (the cube's bands, say). uploads maps a field's JSON Pointer to its
// upload, or to a succeeded job's result described as one (ID the job's,
// Datasets its result's); fields that name a queued or running job are
// absent, their results unknown until they have run. Submit has
// already checked each reference against its declaration: that it exists, is
// of a kind the field accepts and holds the datasets it declares; a reference
// to a queued or running job makes the new job wait for it, and Env.Resolve
// turns a reference into a file at run time.
type UploadChecker interface {
	CheckUploads(c *Checker, uploads map[string]*storage.Upload)
}

// FileChecker is implemented by params whose references can be checked
// before the job is queued only by reading their files: what a header
// records beyond the datasets listed at upload (the model a bitstream was
// made by, say). uploads is UploadChecker's; file returns the local file
// of the upload or result at a field's JSON Pointer, fetched on demand and
// valid until CheckFiles returns, or false when there is none (a queued or
// running job) or it cannot be fetched, which the run meets and reports.
// Submit calls it after CheckUploads has found nothing wrong.
type FileChecker interface {
	CheckFiles(c *Checker, uploads map[string]*storage.Upload, file func(path string) (string, bool))
}

// Env is what a running kind gets besides its params.
type Env struct {
	// RunID is the job's id.
	RunID string
	// Inputs maps input names to local file paths (uploads or earlier results).
	Inputs map[string]string
	// Resolve returns the local file of an upload id or of a succeeded job's result.
	Resolve func(id string) (string, error)
	// Progress reports progress; it is throttled and persisted by the runner.
	Progress progress.Func
	// Out is the result file, with the root attributes already written. The kind
	// writes its datasets; the runner adds /metrics and publishes the file.
	Out *hdf5io.Writer
	// Metrics are the run's scalar results: written as attributes of /metrics and
	// shown in the job's JSON.
	Metrics map[string]any
	// Limits bound what reading an uploaded file may cost (see fileformat).
	Limits fileformat.Limits

	mu       sync.Mutex
	warnings []string
	seed     *uint64
	// kind is the kind's name; ckpt, when set, is the run's checkpoint (see
	// Env.Checkpoint).
	kind string
	ckpt *checkpointer
	// log, when set, adds a stage or a warning to the run's progress history.
	log func(kind, msg string)
}

// Warn records what a user should know about the result (a solver that did
// not converge, say). The runner stores the warnings with the result: the
// job's JSON lists them under "warnings", and the result file holds them as
// the root attribute warnings (a JSON array). The warning also enters the
// run's progress history (GET /v1/jobs/{id}/progress) at once.
func (e *Env) Warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	e.mu.Lock()
	e.warnings = append(e.warnings, msg)
	e.mu.Unlock()
	if e.log != nil {
		e.log(storage.PointWarning, msg)
	}
}

// Stage marks the start of a stage of the run ("reading the cube") in the
// run's progress history.
func (e *Env) Stage(format string, args ...any) {
	if e.log != nil {
		e.log(storage.PointStage, fmt.Sprintf(format, args...))
	}
}

// UseSeed records the seed that the run's random numbers were actually drawn
// from: a kind with a seed param calls it when it draws any (and, if it ever
// derives a seed from a seed of 0, with the derived one). The result's
// lineage records it as environment.seed; a run that never calls it drew no
// random numbers, and its lineage has no seed.
func (e *Env) UseSeed(seed uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seed = &seed
}

// usedSeed returns the seed recorded by UseSeed, nil if none.
func (e *Env) usedSeed() *uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.seed
}

// Warnings returns the warnings recorded so far.
func (e *Env) Warnings() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.warnings...)
}

// Spec declares a job kind with params type P.
type Spec[P Params] struct {
	Name        string
	Title       string
	Description string
	// Defaults returns params filled with their defaults.
	Defaults func() P
	// Inputs names the inputs the kind accepts (upload or job ids); empty if none.
	Inputs []string
	// Outputs names the datasets of the result file.
	Outputs []string
	// Metrics documents the scalar results (Env.Metrics) by name, each as
	// "type: meaning" with type float64, int64, bool (stored as uint8 0/1) or
	// string; GET /v1/kinds shows it.
	Metrics map[string]string
	// Class is the queue the kind's runs wait in: ClassSolve (the default when
	// empty) or ClassTrain. Each class has its own workers (Config.ClassWorkers),
	// so that a long training run never holds up a short solve.
	Class string
	// Timeout bounds one attempt; it must stay below the rescue window.
	Timeout time.Duration
	// MaxAttempts is how often a failing run is tried in all.
	MaxAttempts int
	// Run does the work.
	Run func(ctx context.Context, p P, env *Env) error
	// Memory estimates the peak memory, in bytes, of one run with params p:
	// the arrays it holds at once, its work buffers and the copies it makes
	// to write the result. uploads holds the uploads p names, by field
	// pointer, as for UploadChecker. Submit refuses a run whose estimate
	// exceeds the service's MaxJobMemory. Nil means the kind needs little.
	Memory func(p P, uploads map[string]*storage.Upload) int64
	// MemoryParam is the JSON Pointer, relative to the params, of the param
	// that drives the estimate ("/n"): a refusal is reported there.
	// MemoryParamOf, when set, chooses it from the params instead, for kinds
	// whose size depends on more than one param.
	MemoryParam   string
	MemoryParamOf func(p P) string
}

// Kind is a registered kind, with its params type erased.
type Kind interface {
	Name() string
	Title() string
	Description() string
	Schema() map[string]any
	InputNames() []string
	OutputNames() []string
	// Class is the kind's job class, which names its queue (see Spec.Class).
	Class() string
	// MetricDocs documents the metrics of a result (see Spec.Metrics).
	MetricDocs() map[string]string
	Timeout() time.Duration
	MaxAttempts() int
	// Decode decodes and validates raw params, returning them normalised (defaults
	// filled in) as JSON and as the typed value.
	Decode(raw json.RawMessage) (json.RawMessage, any, error)
	run(ctx context.Context, params any, env *Env) error
	// memory returns the kind's memory estimate for decoded params (see
	// Spec.Memory) and the param that drives it.
	memory(params any, uploads map[string]*storage.Upload) (bytes int64, param string)
}

type kind[P Params] struct{ s Spec[P] }

func (k kind[P]) Name() string           { return k.s.Name }
func (k kind[P]) Title() string          { return k.s.Title }
func (k kind[P]) Description() string    { return k.s.Description }
func (k kind[P]) defaults() any          { return k.s.Defaults() }
func (k kind[P]) Schema() map[string]any { return field.Schema(k.s.Defaults()) }
func (k kind[P]) InputNames() []string   { return k.s.Inputs }
func (k kind[P]) OutputNames() []string  { return k.s.Outputs }
func (k kind[P]) MetricDocs() map[string]string {
	return k.s.Metrics
}
func (k kind[P]) Class() string          { return cmp.Or(k.s.Class, ClassSolve) }
func (k kind[P]) Timeout() time.Duration { return k.s.Timeout }
func (k kind[P]) MaxAttempts() int       { return k.s.MaxAttempts }
func (k kind[P]) run(ctx context.Context, p any, env *Env) error {
	return k.s.Run(ctx, p.(P), env)
}

func (k kind[P]) memory(p any, uploads map[string]*storage.Upload) (int64, string) {
	if k.s.Memory == nil {
		return 0, ""
	}
	at := k.s.MemoryParam
	if k.s.MemoryParamOf != nil {
		at = k.s.MemoryParamOf(p.(P))
	}
	return k.s.Memory(p.(P), uploads), at
}

func (k kind[P]) Decode(raw json.RawMessage) (json.RawMessage, any, error) {
	p := k.s.Defaults()
	if err := decodeParams(raw, p); err != nil {
		return nil, nil, prefixPaths("/params", err)
	}
	var c Checker
	p.Validate(&c)
	if err := c.Err(); err != nil {
		return nil, nil, prefixPaths("/params", err)
	}
	norm, err := json.Marshal(p)
	if err != nil {
		return nil, nil, fmt.Errorf("jobs: %s: encode params: %w", k.s.Name, err)
	}
	return norm, p, nil
}

func prefixPaths(prefix string, err error) error {
	if v, ok := err.(ValidationError); ok {
		return v.Prefix(prefix)
	}
	return err
}

// The job classes. Each is a River queue of the same name, with its own
// number of workers in each process (Config.ClassWorkers).
const (
	// ClassSolve is the class of short jobs: solves, simulations, predictions.
	ClassSolve = "solve"
	// ClassTrain is the class of long training runs.
	ClassTrain = "train"
)

// Classes returns the job classes, ClassSolve first.
func Classes() []string { return []string{ClassSolve, ClassTrain} }

var registry = map[string]Kind{}

// Register adds a kind; it panics on a duplicate name or a missing field, since
// kinds are registered at init.
func Register[P Params](s Spec[P]) {
	if s.Name == "" || s.Defaults == nil || s.Run == nil || s.Timeout <= 0 || s.MaxAttempts < 1 {
		panic(fmt.Sprintf("jobs: incomplete kind spec %q", s.Name))
	}
	if s.Timeout > maxKindTimeout {
		panic(fmt.Sprintf("jobs: kind %s timeout %v exceeds the limit %v", s.Name, s.Timeout, maxKindTimeout))
	}
	if s.Class != "" && !slices.Contains(Classes(), s.Class) {
		panic(fmt.Sprintf("jobs: kind %s has class %q; want one of %v", s.Name, s.Class, Classes()))
	}
	if s.Memory != nil && s.MemoryParam == "" && s.MemoryParamOf == nil {
		panic(fmt.Sprintf("jobs: kind %s has a memory estimate but no MemoryParam", s.Name))
	}
	if _, dup := registry[s.Name]; dup {
		panic("jobs: kind registered twice: " + s.Name)
	}
	field.Schema(s.Defaults()) // a malformed params declaration panics here, at init
	registry[s.Name] = kind[P]{s}
}

// Lookup returns the kind with the given name.
func Lookup(name string) (Kind, bool) {
	k, ok := registry[name]
	return k, ok
}

// Kinds returns every registered kind, sorted by name.
func Kinds() []Kind {
	out := make([]Kind, 0, len(registry))
	for _, k := range registry {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}
