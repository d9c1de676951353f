package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"

	"eddy/blas"
	"eddy/field"
	"eddy/hdf5io"
	"eddy/storage"
)

// Lineage is the root attribute lineage of every result file, as JSON: what
// the result was computed from and where.
//
//	{"inputs": [
//	   {"ref": "/params/cube", "id": "0199…", "kind": "upload", "format": "hdf5", "sha256": "9f2c…"},
//	   {"ref": "/params/data", "id": "0199…", "kind": "navier_stokes.simulate", "sha256": "41d0…",
//	    "inputs": []}],
//	 "environment": {"eddy_version": "0.1.0", "go_version": "go1.26.0", "os_arch": "linux/amd64",
//	   "blas_engine": "openblas (Haswell)", "blas_threads_per_call": 1, "gomaxprocs": 2, "seed": 42}}
type Lineage struct {
	// Inputs are the uploads and job results the run read, in the order of
	// Ref; an input that is a job's result lists that job's own inputs.
	Inputs []LineageInput `json:"inputs"`
	// Environment is where the run ran.
	Environment LineageEnv `json:"environment"`
}

// LineageInput is one input of a run.
type LineageInput struct {
	// Ref is where the submission named the input, as a JSON Pointer into
	// the request: "/params/cube" for a reference param, "/inputs/model" for
	// an entry of SubmitRequest.Inputs.
	Ref string `json:"ref"`
	ID  string `json:"id"`
	// Kind is "upload", or the kind of the job whose result the input is;
	// empty when the id no longer names either (Missing).
	Kind string `json:"kind,omitempty"`
	// Format is an upload's format ("hdf5", "mat").
	Format string `json:"format,omitempty"`
	// SHA256 is the hex SHA-256 of the file, as recorded when it was stored.
	SHA256 string `json:"sha256,omitempty"`
	// Missing is true when the id names nothing any more (the upload or job
	// was deleted since).
	Missing bool `json:"missing,omitempty"`
	// Inputs are a job result's own inputs, one level up (without theirs);
	// [] for a job that had none, absent for an upload.
	Inputs []LineageInput `json:"inputs,omitempty"`
}

// LineageEnv is the environment of a run.
type LineageEnv struct {
	EddyVersion string `json:"eddy_version"`
	GoVersion   string `json:"go_version"`
	OSArch      string `json:"os_arch"`
	// BLASEngine is blas.Engine(): "gonum" or "openblas (<core>)".
	BLASEngine string `json:"blas_engine"`
	// BLASThreadsPerCall is blas.ThreadsPerCall(), absent when unknown.
	BLASThreadsPerCall int `json:"blas_threads_per_call,omitempty"`
	// GOMAXPROCS is the number of cores the Go code (and the splitting of
	// matrix products) could use.
	GOMAXPROCS int `json:"gomaxprocs"`
	// Seed is the seed the run's random numbers were drawn from (see
	// Env.UseSeed); absent when the run drew none.
	Seed *uint64 `json:"seed,omitempty"`
}

// inputRef is an id named by a submission, with where it was named.
type inputRef struct{ ref, id string }

// inputRefs returns the ids named by the reference params of params (tag ref,
// see package field) and by inputs (SubmitRequest.Inputs), sorted by where
// they were named: the references Submit recorded for the run.
func inputRefs(params any, inputs map[string]string) []inputRef {
	var out []inputRef
	for _, r := range field.References(params) {
		out = append(out, inputRef{"/params" + r.Path, r.ID})
	}
	for name, id := range inputs {
		out = append(out, inputRef{"/inputs/" + name, id})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ref < out[j].ref })
	return out
}

// lineage returns the lineage of a run with the given params and inputs
// that ran with env.
func (s *Service) lineage(ctx context.Context, params any, inputs map[string]string, env *Env) (*Lineage, error) {
	ins, err := s.lineageInputs(ctx, inputRefs(params, inputs), 1)
	if err != nil {
		return nil, err
	}
	return &Lineage{Inputs: ins, Environment: LineageEnv{
		EddyVersion:        Version,
		GoVersion:          runtime.Version(),
		OSArch:             runtime.GOOS + "/" + runtime.GOARCH,
		BLASEngine:         blas.Engine(),
		BLASThreadsPerCall: blas.ThreadsPerCall(),
		GOMAXPROCS:         runtime.GOMAXPROCS(0),
		Seed:               env.usedSeed(),
	}}, nil
}

// lineageInputs describes the inputs refs, and, up to depth levels up, the
// inputs of those that are job results.
func (s *Service) lineageInputs(ctx context.Context, refs []inputRef, depth int) ([]LineageInput, error) {
	out := []LineageInput{}
	for _, r := range refs {
		in := LineageInput{Ref: r.ref, ID: r.id}
		u, err := storage.GetUpload(ctx, s.db.SQL, r.id)
		switch {
		case err == nil:
			in.Kind, in.Format, in.SHA256 = "upload", u.Format, u.SHA256
			out = append(out, in)
			continue
		case !errors.Is(err, storage.ErrNotFound):
			return nil, fmt.Errorf("lineage: %s: %w", r.ref, err)
		}
		run, err := storage.GetRun(ctx, s.db.SQL, r.id)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			in.Missing = true
			out = append(out, in)
			continue
		case err != nil:
			return nil, fmt.Errorf("lineage: %s: %w", r.ref, err)
		}
		in.Kind = run.Kind
		if run.Result != nil {
			in.SHA256 = run.Result.SHA256
		}
		if depth > 0 {
			// The references Submit recorded for that run: no need to decode
			// (and validate again) its params.
			recorded, err := storage.RefsOf(ctx, s.db.SQL, run.ID)
			if err != nil {
				return nil, fmt.Errorf("lineage: %s: %w", r.ref, err)
			}
			up := make([]inputRef, len(recorded))
			for i, x := range recorded {
				up[i] = inputRef{x.Path, x.RefID}
			}
			if in.Inputs, err = s.lineageInputs(ctx, up, depth-1); err != nil {
				return nil, err
			}
		}
		out = append(out, in)
	}
	return out, nil
}

// writeLineage writes the root attribute lineage (see Lineage) of a run.
func (s *Service) writeLineage(ctx context.Context, w *hdf5io.Writer, params any, inputs map[string]string, env *Env) error {
	l, err := s.lineage(ctx, params, inputs, env)
	if err != nil {
		return err
	}
	text, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return w.SetAttrString("/", "lineage", string(text))
}
