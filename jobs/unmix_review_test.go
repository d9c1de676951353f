package jobs

import (
	"encoding/json"
	"testing"
)

// An absurd number of endmembers next to an initial-endmembers upload is a
// validation error; it used to size a matrix before the range check, which
// panicked (a 500) or exhausted memory and killed the server.
func TestUnmixHugeEndmembersIsAValidationError(t *testing.T) {
	k, _ := Lookup("unmix")
	for _, raw := range []string{
		`{"cube":"c","init":"upload","init_endmembers":"e","endmembers":9000000000000000000}`,
		`{"cube":"c","init":"upload","init_endmembers":"e","endmembers":100000000000}`,
		`{"cube":"c","init":"upload","init_endmembers":"e","endmembers":-5}`,
	} {
		_, _, err := k.Decode(json.RawMessage(raw))
		verr, ok := err.(ValidationError)
		found := false
		for _, e := range verr {
			found = found || e.Path == "/params/endmembers"
		}
		if !ok || !found {
			t.Errorf("%s: %v, want an error at /params/endmembers", raw, err)
		}
	}
}
