package jobs

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode"
)

// FuzzDecodeParams feeds arbitrary bytes as the params of every registered kind.
// Decode must answer with normalised params or a ValidationError whose paths are
// JSON Pointers under /params in JSON names (never a Go field name), must not
// panic, and must accept its own normalised output unchanged.
func FuzzDecodeParams(f *testing.F) {
	kinds := Kinds()
	for i, k := range kinds {
		def, _ := json.Marshal(k.(interface{ defaults() any }).defaults())
		for _, seed := range []string{`{}`, string(def), `null`, `{"n": null}`, `{"n": "8"}`, `{"n": 1e400}`,
			`{"samples": -1}`, `{"exact": "2^2^2^2^x"}`, `{"cube": "00000000-0000-0000-0000-000000000000"}`,
			`{"dt": 1e-300, "t_end": 1e300}`, `{"method": "nope"}`, `[1,2]`, `{"a":`, `{} {}`} {
			f.Add(uint8(i), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, raw []byte) {
		k := kinds[int(which)%len(kinds)]
		norm, _, err := k.Decode(raw)
		if err != nil {
			var verr ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("%s: error of type %T: %v", k.Name(), err, err)
			}
			for _, fe := range verr {
				checkPointer(t, k.Name(), fe)
			}
			return
		}
		again, _, err := k.Decode(norm)
		if err != nil {
			t.Fatalf("%s: normalised params %s refused: %v", k.Name(), norm, err)
		}
		if !jsonEqual(norm, again) {
			t.Fatalf("%s: normalising is not idempotent:\n%s\n%s", k.Name(), norm, again)
		}
	})
}

// checkPointer checks that a field error is located under /params by JSON names:
// Eddy's params are snake_case, so a segment starting with a capital letter is a
// Go field name leaking out, unless it is the client's own unknown key.
func checkPointer(t *testing.T, kind string, fe FieldError) {
	t.Helper()
	if fe.Path != "/params" && !strings.HasPrefix(fe.Path, "/params/") {
		t.Fatalf("%s: error path %q is not under /params (%s)", kind, fe.Path, fe.Message)
	}
	if fe.Message == "unknown parameter" {
		return
	}
	for _, seg := range strings.Split(strings.TrimPrefix(fe.Path, "/params"), "/") {
		if seg != "" && unicode.IsUpper([]rune(seg)[0]) {
			t.Fatalf("%s: error path %q names a Go field (%s)", kind, fe.Path, fe.Message)
		}
	}
	if strings.Contains(fe.Message, "<nil>") {
		t.Fatalf("%s: message %q at %s", kind, fe.Message, fe.Path)
	}
}
