package field_test

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"eddy/field"
)

type inner struct {
	Alpha float64 `json:"alpha" gt:"1" max:"20" doc:"exponent"`
}

type params struct {
	N       int      `json:"n" min:"8" max:"4096" doc:"grid points"`
	Dt      float64  `json:"dt" gt:"0" lt:"1" doc:"time step"`
	Mode    string   `json:"mode" enum:"fast|exact" doc:"mode"`
	Formula string   `json:"formula,omitempty" format:"eddy-expression" doc:"a formula"`
	Preset  string   `json:"preset,omitempty" enum:"a|b" doc:"optional preset"`
	Dim     int      `json:"dim" enum:"2|3" doc:"dimension"`
	Cube    string   `json:"cube" required:"true" ref:"upload" doc:"the cube"`
	K       int      `json:"k" required:"true" min:"2" max:"64" doc:"endmembers"`
	Bands   []int    `json:"bands,omitempty" min:"0" max:"99" doc:"band indices"`
	Seed    uint64   `json:"seed" min:"0" max:"9007199254740991" doc:"seed"`
	Flag    bool     `json:"flag" doc:"a switch"`
	Nested  inner    `json:"nested" doc:"nested object"`
	Ignored *float64 `json:"-"`
	inner
}

func valid() params {
	return params{N: 64, Dt: 0.1, Mode: "fast", Dim: 2, Cube: "c1", K: 4, Nested: inner{2}, inner: inner{3}}
}

func TestCheck(t *testing.T) {
	if errs := field.Check(valid()); errs != nil {
		t.Fatalf("valid params refused: %v", errs)
	}
	for _, tc := range []struct {
		name string
		edit func(*params)
		want field.Error
	}{
		{"below min", func(p *params) { p.N = 7 }, field.Error{Path: "/n", Message: "must be between 8 and 4096, got 7"}},
		{"above max", func(p *params) { p.N = 4097 }, field.Error{Path: "/n", Message: "must be between 8 and 4096, got 4097"}},
		{"exclusive min", func(p *params) { p.Dt = 0 }, field.Error{Path: "/dt", Message: "must be > 0 and < 1, got 0"}},
		{"exclusive max", func(p *params) { p.Dt = 1 }, field.Error{Path: "/dt", Message: "must be > 0 and < 1, got 1"}},
		{"NaN", func(p *params) { p.Dt = math.NaN() }, field.Error{Path: "/dt", Message: "must be a finite number, got NaN"}},
		{"infinity", func(p *params) { p.Dt = math.Inf(1) }, field.Error{Path: "/dt", Message: "must be a finite number, got +Inf"}},
		{"string enum", func(p *params) { p.Mode = "slow" }, field.Error{Path: "/mode", Message: `must be one of fast, exact, got "slow"`}},
		{"empty string in enum", func(p *params) { p.Mode = "" }, field.Error{Path: "/mode", Message: `must be one of fast, exact, got ""`}},
		{"optional enum", func(p *params) { p.Preset = "c" }, field.Error{Path: "/preset", Message: `must be one of a, b, got "c"`}},
		{"integer enum", func(p *params) { p.Dim = 4 }, field.Error{Path: "/dim", Message: "must be one of 2, 3, got 4"}},
		{"required", func(p *params) { p.Cube = "" }, field.Error{Path: "/cube", Message: "is required"}},
		{"required number", func(p *params) { p.K = 0 }, field.Error{Path: "/k", Message: "is required and must be between 2 and 64"}},
		{"array element", func(p *params) { p.Bands = []int{1, 100} }, field.Error{Path: "/bands/1", Message: "must be between 0 and 99, got 100"}},
		{"unsigned", func(p *params) { p.Seed = 1 << 60 }, field.Error{Path: "/seed", Message: "must be between 0 and 9007199254740991, got 1152921504606846976"}},
		{"nested", func(p *params) { p.Nested.Alpha = 1 }, field.Error{Path: "/nested/alpha", Message: "must be > 1 and ≤ 20, got 1"}},
		{"embedded", func(p *params) { p.inner.Alpha = 21 }, field.Error{Path: "/alpha", Message: "must be > 1 and ≤ 20, got 21"}},
	} {
		p := valid()
		tc.edit(&p)
		errs := field.Check(&p)
		if len(errs) != 1 || errs[0] != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, errs, tc.want)
		}
	}
	// An optional string may be empty.
	p := valid()
	p.Preset = ""
	if errs := field.Check(p); errs != nil {
		t.Errorf("empty optional string refused: %v", errs)
	}
	// Every problem is reported.
	p.N, p.Mode, p.Cube, p.K = 0, "x", "", 0
	if errs := field.Check(p); len(errs) != 4 {
		t.Errorf("four bad fields gave %v", errs)
	}
}

func TestSchema(t *testing.T) {
	s := field.Schema(valid())
	if s["type"] != "object" || s["additionalProperties"] != false {
		t.Fatalf("schema %v", s)
	}
	if req := s["required"]; !reflect.DeepEqual(req, []string{"cube", "k"}) {
		t.Errorf("required %v, want [cube k]", req)
	}
	props := s["properties"].(map[string]any)
	prop := func(name string) map[string]any { return props[name].(map[string]any) }
	for _, tc := range []struct {
		name string
		want map[string]any
	}{
		{"n", map[string]any{"type": "integer", "minimum": 8.0, "maximum": 4096.0, "default": 64, "description": "grid points"}},
		{"dt", map[string]any{"type": "number", "exclusiveMinimum": 0.0, "exclusiveMaximum": 1.0, "default": 0.1, "description": "time step"}},
		{"mode", map[string]any{"type": "string", "enum": []any{"fast", "exact"}, "default": "fast", "description": "mode"}},
		{"preset", map[string]any{"type": "string", "enum": []any{"a", "b"}, "description": "optional preset"}},
		{"dim", map[string]any{"type": "integer", "enum": []any{2, 3}, "default": 2, "description": "dimension"}},
		{"cube", map[string]any{"type": "string", "format": "eddy-ref", "x-eddy-ref": map[string]any{"accepts": []string{"upload"}}, "description": "the cube"}},
		{"bands", map[string]any{"type": "array", "items": map[string]any{"type": "integer", "minimum": 0.0, "maximum": 99.0}, "description": "band indices"}},
		{"flag", map[string]any{"type": "boolean", "default": false, "description": "a switch"}},
		{"formula", map[string]any{"type": "string", "format": "eddy-expression", "description": "a formula"}},
		{"alpha", map[string]any{"type": "number", "exclusiveMinimum": 1.0, "maximum": 20.0, "default": 3.0, "description": "exponent"}},
	} {
		if got := prop(tc.name); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	nested := prop("nested")
	if nested["type"] != "object" || nested["description"] != "nested object" {
		t.Errorf("nested %v", nested)
	}
	if a := nested["properties"].(map[string]any)["alpha"].(map[string]any); a["default"] != 2.0 {
		t.Errorf("nested alpha %v, want default 2", a)
	}
	if _, ok := props["Ignored"]; ok || len(props) != 13 {
		t.Errorf("properties %v", props)
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want field.Error
	}{
		{`{"n": null}`, field.Error{Path: "/n", Message: "must be an integer, not null"}},
		{`{"mode": null}`, field.Error{Path: "/mode", Message: "must be a string, not null"}},
		{`{"bands": [1, null]}`, field.Error{Path: "/bands/1", Message: "must be an integer, not null"}},
		{`{"nested": {"alpha": null}}`, field.Error{Path: "/nested/alpha", Message: "must be a number, not null"}},
		{`{"alpha": null}`, field.Error{Path: "/alpha", Message: "must be a number, not null"}},
		{`{"n": "8"}`, field.Error{Path: "/n", Message: "must be an integer, got string"}},
		{`{"alpha": "x"}`, field.Error{Path: "/alpha", Message: "must be a number, got string"}},
		{`{"colour": 1}`, field.Error{Path: "/colour", Message: "unknown parameter"}},
		{`{"nested": {"colour": 1}}`, field.Error{Path: "/nested/colour", Message: "unknown parameter"}},
		{`{"bands": [1, "x"]}`, field.Error{Path: "/bands/1", Message: "must be an integer, got string"}},
		{`{"bands": 3}`, field.Error{Path: "/bands", Message: "must be an array, got number 3"}},
		{`{"n": 1.5}`, field.Error{Path: "/n", Message: "must be an integer, got number 1.5"}},
		{`{"N": "8"}`, field.Error{Path: "/n", Message: "must be an integer, got string"}},
		{`{"seed": -1}`, field.Error{Path: "/seed", Message: "must be an integer, got number -1"}},
		{`{"dt": 1e400}`, field.Error{Path: "/dt", Message: "must be a number, got number 1e400"}},
		{`{"nested": []}`, field.Error{Path: "/nested", Message: "must be an object, got array"}},
		{`[1]`, field.Error{Message: "must be an object, got array"}},
		{`{"n": 8} {}`, field.Error{Message: "unexpected data after the params object"}},
		{`{"n": `, field.Error{Message: "truncated JSON"}},
	} {
		p := valid()
		err := field.Decode([]byte(tc.raw), &p)
		errs, ok := err.(field.Errors)
		if !ok || len(errs) != 1 || errs[0] != tc.want {
			t.Errorf("%s: %v, want %v", tc.raw, err, tc.want)
		}
	}
	// Every problem is reported, in document order.
	p0 := valid()
	err := field.Decode([]byte(`{"n": null, "colour": 1, "mode": 2}`), &p0)
	want := field.Errors{{"/n", "must be an integer, not null"}, {"/colour", "unknown parameter"}, {"/mode", "must be a string, got number 2"}}
	if !reflect.DeepEqual(err, want) {
		t.Errorf("three problems: %v, want %v", err, want)
	}
	for _, raw := range []string{``, ` `, `null`, `{}`} {
		p := valid()
		if err := field.Decode([]byte(raw), &p); err != nil || !reflect.DeepEqual(p, valid()) {
			t.Errorf("%q: %v, %+v; want the defaults", raw, err, p)
		}
	}
	p := valid()
	if err := field.Decode([]byte(`{"n": 32, "N": 16, "dt": 0.5, "nested": {"alpha": 4}}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.N != 16 || p.Dt != 0.5 || p.Nested.Alpha != 4 || p.Mode != "fast" {
		t.Errorf("decoded %+v", p)
	}
}

func TestErrors(t *testing.T) {
	var errs field.Errors
	if errs.Err() != nil {
		t.Error("no errors must be a nil error")
	}
	errs.Add("/n", "must be at most %d", 8)
	errs.Append(nil)
	errs.Append(fmt.Errorf("solver: %w", field.Errors{{Path: "/dt", Message: "too large"}}))
	errs.Append(errors.New("disk full"))
	want := field.Errors{{"/n", "must be at most 8"}, {"/dt", "too large"}, {"", "disk full"}}
	if !reflect.DeepEqual(errs, want) {
		t.Fatalf("%v, want %v", errs, want)
	}
	if got := errs.Error(); got != "/n: must be at most 8; /dt: too large; disk full" {
		t.Errorf("Error() = %q", got)
	}
	pre := errs.Prefix("/params")
	if pre[0].Path != "/params/n" || pre[2].Path != "/params" || errs[0].Path != "/n" {
		t.Errorf("Prefix gave %v from %v", pre, errs)
	}
	if !errs.Has("/dt") || errs.Has("/x") {
		t.Error("Has")
	}
	var target field.Errors
	if !errors.As(fmt.Errorf("wrapped: %w", errs.Err()), &target) || len(target) != 3 {
		t.Error("errors.As does not find Errors")
	}
	if got := field.Pointer("/a", "b/c~d"); got != "/a/b~1c~0d" {
		t.Errorf("Pointer = %q", got)
	}
}

func TestReferences(t *testing.T) {
	p := valid()
	want := []field.Ref{{Path: "/cube", ID: "c1", Accepts: []string{"upload"}}}
	if got := field.References(&p); !reflect.DeepEqual(got, want) {
		t.Errorf("References = %+v, want %+v", got, want)
	}
	p.Cube = ""
	if got := field.References(p); len(got) != 0 {
		t.Errorf("References of no reference = %v", got)
	}

	type chained struct {
		Flow string `json:"flow" ref:"upload|job:navier_stokes.simulate" datasets:"vorticity:4,t" doc:"a flow"`
		Any  string `json:"any,omitempty" ref:"job" doc:"any result"`
	}
	c := chained{Flow: "j1", Any: "j2"}
	got := field.References(c)
	if len(got) != 2 || got[0].Path != "/any" || got[1].Path != "/flow" {
		t.Fatalf("References = %+v", got)
	}
	flow := got[1]
	if !reflect.DeepEqual(flow.Accepts, []string{"upload", "navier_stokes.simulate"}) ||
		!reflect.DeepEqual(flow.Datasets, []field.RefDataset{{Name: "vorticity", Rank: 4}, {Name: "t"}}) {
		t.Errorf("flow declared as %+v", flow)
	}
	if !flow.AcceptsUpload() || !flow.AcceptsJob("navier_stokes.simulate") || flow.AcceptsJob("unmix") {
		t.Errorf("flow accepts wrongly: %+v", flow)
	}
	if got[0].AcceptsUpload() || !got[0].AcceptsJob("unmix") {
		t.Errorf("any accepts wrongly: %+v", got[0])
	}
	if text := flow.AcceptedText(); text != "an upload or a navier_stokes.simulate job" {
		t.Errorf("AcceptedText = %q", text)
	}
	schema := field.Schema(c)["properties"].(map[string]any)["flow"].(map[string]any)
	wantRef := map[string]any{"accepts": []string{"upload", "navier_stokes.simulate"},
		"datasets": []field.RefDataset{{Name: "vorticity", Rank: 4}, {Name: "t"}}}
	if schema["format"] != "eddy-ref" || !reflect.DeepEqual(schema["x-eddy-ref"], wantRef) {
		t.Errorf("schema of flow %v", schema)
	}
}

func TestMalformedDeclarationsPanic(t *testing.T) {
	for name, v := range map[string]any{
		"bound not a number": struct {
			X int `min:"a"`
		}{},
		"fractional integer": struct {
			X int `max:"1.5"`
		}{},
		"bound on a string": struct {
			X string `min:"1"`
		}{},
		"both bounds": struct {
			X float64 `min:"0" gt:"0"`
		}{},
		"integer enum": struct {
			X int `enum:"1|two"`
		}{},
		"required spelling": struct {
			X int `required:"yes"`
		}{},
		"reference to number": struct {
			X int `ref:"upload"`
		}{},
		"reference to an unknown thing": struct {
			X string `ref:"upload|model"`
		}{},
		"reference to an unnamed kind": struct {
			X string `ref:"job:"`
		}{},
		"datasets without ref": struct {
			X string `datasets:"u:2"`
		}{},
		"dataset rank not a number": struct {
			X string `ref:"upload" datasets:"u:two"`
		}{},
		"dataset without a name": struct {
			X string `ref:"upload" datasets:"u:2,:3"`
		}{},
		"format of a number": struct {
			X int `format:"eddy-expression"`
		}{},
		"not a struct": 42,
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", name)
				} else if !strings.HasPrefix(fmt.Sprint(r), "field: ") {
					t.Errorf("%s: panic %v", name, r)
				}
			}()
			field.Schema(v)
		}()
	}
}

func ExampleCheck() {
	type Params struct {
		N    int     `json:"n" min:"8" max:"4096" doc:"grid points per side"`
		Dt   float64 `json:"dt" gt:"0" max:"1" doc:"time step"`
		Mode string  `json:"mode" enum:"fast|exact" doc:"solver mode"`
	}
	p := Params{N: 64, Dt: 0.01, Mode: "fast"}
	err := field.Decode([]byte(`{"n": 4, "dt": 0, "mode": "slow"}`), &p)
	fmt.Println(err)
	for _, e := range field.Check(p) {
		fmt.Println(e)
	}
	// Output:
	// <nil>
	// /n: must be between 8 and 4096, got 4
	// /dt: must be > 0 and ≤ 1, got 0
	// /mode: must be one of fast, exact, got "slow"
}
