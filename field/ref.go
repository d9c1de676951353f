package field

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// AcceptsUpload is the entry of a ref tag, and of a Ref's Accepts, that
// accepts an uploaded file; AcceptsAnyJob accepts the result of a job of any
// kind. Any other entry names the one job kind whose results are accepted.
const (
	AcceptsUpload = "upload"
	AcceptsAnyJob = "job"
)

// RefDataset is an array that a referenced file must hold: its name and, when
// Rank is not 0, its number of dimensions.
type RefDataset struct {
	Name string `json:"name"`
	Rank int    `json:"rank,omitempty"`
}

// String returns "name" or "name:rank", as in the datasets tag.
func (d RefDataset) String() string {
	if d.Rank == 0 {
		return d.Name
	}
	return d.Name + ":" + strconv.Itoa(d.Rank)
}

// Ref is a reference parameter as declared and as given: what it accepts,
// the arrays the referenced file must hold, and the id it holds.
type Ref struct {
	// Path is the parameter's JSON Pointer relative to the struct ("/cube").
	Path string
	// ID is the id the parameter holds.
	ID string
	// Accepts lists what the id may name: AcceptsUpload, AcceptsAnyJob, or
	// job kinds ("navier_stokes.simulate").
	Accepts []string
	// Datasets are the arrays that the referenced file must hold.
	Datasets []RefDataset
}

// AcceptsUpload reports whether the parameter may name an upload.
func (r Ref) AcceptsUpload() bool {
	for _, a := range r.Accepts {
		if a == AcceptsUpload {
			return true
		}
	}
	return false
}

// AcceptsJob reports whether the parameter may name the result of a job of
// the given kind.
func (r Ref) AcceptsJob(kind string) bool {
	for _, a := range r.Accepts {
		if a == AcceptsAnyJob || a == kind {
			return true
		}
	}
	return false
}

// AcceptedText describes what the parameter accepts, for messages: "an
// upload or a navier_stokes.simulate job".
func (r Ref) AcceptedText() string {
	var parts []string
	for _, a := range r.Accepts {
		switch a {
		case AcceptsUpload:
			parts = append(parts, "an upload")
		case AcceptsAnyJob:
			parts = append(parts, "a job")
		default:
			parts = append(parts, Article(a)+" "+a+" job")
		}
	}
	return strings.Join(parts, " or ")
}

// Article is the indefinite article written before word: "an" before a
// vowel ("an unmix job"), else "a" ("a poisson.solve job"). Kind names are
// spelled as said, so the first letter decides.
func Article(word string) string {
	if word != "" && strings.ContainsRune("aeiouAEIOU", rune(word[0])) {
		return "an"
	}
	return "a"
}

// parseRef reads the tags ref and datasets of a string field:
//
//	ref:"upload|job:navier_stokes.simulate"  datasets:"vorticity:4,t:1"
//
// The entries of ref, separated by "|", are "upload", "job" (a job of any
// kind) or "job:<kind>"; those of datasets, separated by ",", are a name with
// an optional ":rank".
func parseRef(s *spec, f reflect.StructField) error {
	r, ok := f.Tag.Lookup("ref")
	ds, hasDatasets := f.Tag.Lookup("datasets")
	if !ok {
		if hasDatasets {
			return fmt.Errorf("datasets:%q without ref", ds)
		}
		return nil
	}
	if f.Type.Kind() != reflect.String || r == "" {
		return fmt.Errorf("ref:%q on a %v", r, f.Type)
	}
	for _, a := range strings.Split(r, "|") {
		switch kind, isJob := strings.CutPrefix(a, "job:"); {
		case a == AcceptsUpload || a == AcceptsAnyJob:
			s.ref = append(s.ref, a)
		case isJob && kind != "" && !strings.ContainsAny(kind, " ,:"):
			s.ref = append(s.ref, kind)
		default:
			return fmt.Errorf("ref:%q: %q is not upload, job or job:<kind>", r, a)
		}
	}
	if !hasDatasets {
		return nil
	}
	for _, d := range strings.Split(ds, ",") {
		name, rank, hasRank := strings.Cut(strings.TrimSpace(d), ":")
		x := RefDataset{Name: name}
		if hasRank {
			n, err := strconv.Atoi(rank)
			if err != nil || n < 1 {
				return fmt.Errorf("datasets:%q: rank %q is not a positive integer", ds, rank)
			}
			x.Rank = n
		}
		if name == "" {
			return fmt.Errorf("datasets:%q: a dataset without a name", ds)
		}
		s.datasets = append(s.datasets, x)
	}
	return nil
}

// refSchema is the value of "x-eddy-ref" of a reference parameter.
func refSchema(s *spec) map[string]any {
	out := map[string]any{"accepts": s.ref}
	if len(s.datasets) > 0 {
		out["datasets"] = s.datasets
	}
	return out
}

// References returns the reference parameters (tag ref) of the struct v (or
// pointer to one) that hold an id, sorted by path.
func References(v any) []Ref {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	var out []Ref
	for _, p := range params(rv.Type()) {
		if len(p.ref) == 0 {
			continue
		}
		if id := rv.FieldByIndex(p.index).String(); id != "" {
			out = append(out, Ref{Path: Pointer("", p.name), ID: id, Accepts: p.ref, Datasets: p.datasets})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
