package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"eddy/codec/walloc"
)

// kindDoc is an entry of GET /v1/kinds as a client reads it.
type kindDoc struct {
	Name   string         `json:"name"`
	Class  string         `json:"class"`
	Params map[string]any `json:"params_schema"`
}

// realKinds returns the kinds of GET /v1/kinds, without the ones that only
// tests register.
func realKinds(t *testing.T, e *env) []kindDoc {
	t.Helper()
	resp, b := e.do(t, "GET", "/v1/kinds", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /v1/kinds: %d %s", resp.StatusCode, b)
	}
	var out struct {
		Kinds []kindDoc `json:"kinds"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	var kinds []kindDoc
	for _, k := range out.Kinds {
		if k.Class != "solve" && k.Class != "train" {
			t.Errorf("kind %s has class %q, want solve or train", k.Name, k.Class)
		}
		if !strings.HasPrefix(k.Name, "test.") {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) < 4 {
		t.Fatalf("only %d kinds: %s", len(kinds), b)
	}
	return kinds
}

func properties(schema map[string]any) map[string]map[string]any {
	props := map[string]map[string]any{}
	raw, _ := schema["properties"].(map[string]any)
	for name, p := range raw {
		props[name] = p.(map[string]any)
	}
	return props
}

func requiredNames(schema map[string]any) []string {
	var out []string
	raw, _ := schema["required"].([]any)
	for _, r := range raw {
		out = append(out, r.(string))
	}
	return out
}

func sortedNames(props map[string]map[string]any) []string {
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// bounded reports whether a numeric schema has a lower and an upper bound,
// each finite and not a stand-in for infinity.
func bounded(p map[string]any) bool {
	has := func(keys ...string) bool {
		for _, k := range keys {
			if v, ok := p[k].(float64); ok && math.Abs(v) < 1e300 {
				return true
			}
		}
		return false
	}
	return has("minimum", "exclusiveMinimum") && has("maximum", "exclusiveMaximum")
}

// TestKindsDeclareEveryParam walks GET /v1/kinds: every param of every kind
// has a description; every numeric param (or numeric array element) a range
// or an enum; every string param an enum, or a format saying what else it
// holds (a reference, an expression, a dataset name); required params have
// no default and every other param has one or may be left out.
func TestKindsDeclareEveryParam(t *testing.T) {
	e := start(t, "sqlite")
	for _, k := range realKinds(t, e) {
		props := properties(k.Params)
		if len(props) == 0 {
			t.Errorf("%s: no params in %v", k.Name, k.Params)
		}
		if k.Params["additionalProperties"] != false {
			t.Errorf("%s: schema admits unknown params", k.Name)
		}
		required := requiredNames(k.Params)
		for _, r := range required {
			if props[r] == nil {
				t.Errorf("%s: required %q is not a param", k.Name, r)
			}
		}
		for _, name := range sortedNames(props) {
			p := props[name]
			where := k.Name + " " + name
			if d, _ := p["description"].(string); len(d) < 10 {
				t.Errorf("%s: description %q", where, d)
			}
			typ, _ := p["type"].(string)
			item := p
			if typ == "array" {
				item, _ = p["items"].(map[string]any)
				typ, _ = item["type"].(string)
			}
			switch typ {
			case "integer", "number":
				if item["enum"] == nil && !bounded(item) {
					t.Errorf("%s: numeric without a finite range or an enum: %v", where, p)
				}
			case "string":
				if item["enum"] == nil && item["format"] == nil {
					t.Errorf("%s: string without an enum or a format: %v", where, p)
				}
				if item["format"] == "eddy-ref" && item["x-eddy-ref"] == nil {
					t.Errorf("%s: reference without what it accepts: %v", where, p)
				}
			case "boolean":
			default:
				t.Errorf("%s: type %q", where, typ)
			}
			if _, hasDefault := p["default"]; hasDefault && slices.Contains(required, name) {
				t.Errorf("%s: required, but has a default", where)
			}
		}
	}
}

// TestKindsSchemaIsEnforced submits, for every kind, the schema's defaults
// with the required params (accepted), each required param left out (422 at
// its path), each param null (422 at its path), each numeric param just
// outside its published range and each string outside its enum (422 at its
// path).
func TestKindsSchemaIsEnforced(t *testing.T) {
	e := start(t, "sqlite")
	resp, b := e.do(t, "POST", "/v1/uploads", "application/x-hdf5", bytes.NewReader(writeH5(t)))
	if resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	var upload struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &upload); err != nil {
		t.Fatal(err)
	}
	// Trajectories for the kinds that learn from them, and a model trained
	// on them (queued or running is enough for a reference).
	resp, b = e.do(t, "POST", "/v1/uploads", "application/x-hdf5", bytes.NewReader(writeTrajectories(t)))
	if resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	var traj struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &traj); err != nil {
		t.Fatal(err)
	}
	code, model, p := e.submit(t, fmt.Sprintf(`{"kind":"stfno.train","params":{"dataset":%q,"epochs":1}}`, traj.ID))
	if code != 202 {
		t.Fatalf("stfno.train: %d %+v", code, p)
	}
	// A codec model, trained to the end so that an image and a bitstream
	// made with it pass walloc.encode's and walloc.decode's checks of their
	// inputs against the model.
	codec := e.succeeded(t, `{"kind":"walloc.train","params":{"builtin":true,"steps":1,"seconds":0,"crop":32,"batch":2,"val_every":1,"decoder_channels":8,"blocks":1}}`)
	picture, bitstream := codecUploads(t, e, codec)
	// refValue returns an id that the reference param name accepts.
	refValue := func(name string, p map[string]any) string {
		ref, _ := p["x-eddy-ref"].(map[string]any)
		accepts, _ := ref["accepts"].([]any)
		if slices.Equal(accepts, []any{"walloc.train"}) {
			return codec
		}
		switch name {
		case "input":
			return picture
		case "bitstream":
			return bitstream
		}
		if !slices.Contains(accepts, any("upload")) && slices.Contains(accepts, any("stfno.train")) {
			return model.ID
		}
		if datasets, _ := ref["datasets"].([]any); len(datasets) > 0 && strings.Contains(fmt.Sprint(datasets), "vorticity") {
			return traj.ID
		}
		return upload.ID
	}
	for _, k := range realKinds(t, e) {
		props := properties(k.Params)
		required := requiredNames(k.Params)
		// A value for each required param: an upload for a reference, the
		// smallest allowed value for a number, the first of an enum.
		needed := map[string]any{}
		for _, r := range required {
			p := props[r]
			switch {
			case p["format"] == "eddy-ref":
				needed[r] = refValue(r, p)
			case p["enum"] != nil:
				needed[r] = p["enum"].([]any)[0]
			case p["minimum"] != nil:
				needed[r] = p["minimum"]
			default:
				t.Fatalf("%s: no test value for required %s: %v", k.Name, r, p)
			}
		}
		// The cube of writeH5 is the dataset /cube/Y.
		if _, ok := props["variable"]; ok {
			needed["variable"] = "/cube/Y"
		}
		with := func(edit func(params map[string]any)) string {
			params := map[string]any{}
			for n, v := range needed {
				params[n] = v
			}
			edit(params)
			body, err := json.Marshal(map[string]any{"kind": k.Name, "params": params})
			if err != nil {
				t.Fatal(err)
			}
			return string(body)
		}
		expect422 := func(what, body, path, message string) {
			t.Helper()
			code, j, p := e.submit(t, body)
			if code == 202 {
				e.do(t, "POST", "/v1/jobs/"+j.ID+"/cancel", "", nil)
			}
			found := false
			for _, fe := range p.Errors {
				found = found || fe.Path == path && strings.Contains(fe.Message, message)
			}
			if code != 422 || !found {
				t.Errorf("%s %s: %d %+v, want 422 at %s (%q)\n%s", k.Name, what, code, p, path, message, body)
			}
		}

		// The defaults, with the required params, are accepted.
		body := with(func(params map[string]any) {
			for name, p := range props {
				if d, ok := p["default"]; ok {
					if _, set := params[name]; !set {
						params[name] = d
					}
				}
			}
		})
		code, j, p := e.submit(t, body)
		if code != 202 {
			t.Errorf("%s: the schema defaults are refused: %d %+v\n%s", k.Name, code, p, body)
		} else {
			e.do(t, "POST", "/v1/jobs/"+j.ID+"/cancel", "", nil)
		}

		for _, r := range required {
			expect422("without "+r, with(func(params map[string]any) { delete(params, r) }), "/params/"+r, "is required")
		}
		for _, name := range sortedNames(props) {
			p := props[name]
			path := "/params/" + name
			expect422(name+" null", with(func(params map[string]any) { params[name] = nil }), path, "not null")
			if enum, ok := p["enum"].([]any); ok {
				bad := any("not-a-value")
				if p["type"] == "integer" {
					bad = 987654321
				}
				if !slices.Contains(enum, bad) {
					expect422(name+" outside its enum", with(func(params map[string]any) { params[name] = bad }), path, "must be one of")
				}
			}
			for _, b := range []struct {
				key  string
				sign float64
			}{{"minimum", -1}, {"exclusiveMinimum", 0}, {"maximum", 1}, {"exclusiveMaximum", 0}} {
				v, ok := p[b.key].(float64)
				if !ok {
					continue
				}
				// Just outside: the bound itself when it is exclusive, else one
				// unit (or one unit of the bound's magnitude) beyond it.
				out := v + b.sign*math.Max(1, math.Abs(v))
				value := any(out)
				if p["type"] == "integer" {
					value = json.Number(fmt.Sprintf("%.0f", out))
				}
				expect422(fmt.Sprintf("%s = %v (%s %v)", name, value, b.key, v),
					with(func(params map[string]any) { params[name] = value }), path, "must be")
			}
		}
	}
}

// TestOpenAPIParamsMatchKinds checks that /openapi.json publishes for every
// kind the params schema of /v1/kinds, and requires the params object when a
// kind has required params.
func TestOpenAPIParamsMatchKinds(t *testing.T) {
	e := start(t, "sqlite")
	kinds := realKinds(t, e)
	_, b := e.do(t, "GET", "/openapi.json", "", nil)
	var doc struct {
		Components struct {
			Schemas struct {
				SubmitRequest struct {
					OneOf []struct {
						Title      string   `json:"title"`
						Required   []string `json:"required"`
						Properties struct {
							Params map[string]any `json:"params"`
						} `json:"properties"`
					} `json:"oneOf"`
				} `json:"SubmitRequest"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds {
		found := false
		for _, v := range doc.Components.Schemas.SubmitRequest.OneOf {
			if v.Title != k.Name {
				continue
			}
			found = true
			want, _ := json.Marshal(k.Params)
			got, _ := json.Marshal(v.Properties.Params)
			if !bytes.Equal(got, want) {
				t.Errorf("%s: openapi params\n%s\nkinds params\n%s", k.Name, got, want)
			}
			if needs := len(requiredNames(k.Params)) > 0; needs != slices.Contains(v.Required, "params") {
				t.Errorf("%s: openapi requires %v", k.Name, v.Required)
			}
		}
		if !found {
			t.Errorf("%s: not in openapi", k.Name)
		}
	}
}

// codecUploads uploads a small PNG image and the .wlc bitstream that the
// codec model of job codec makes of it, and returns their ids.
func codecUploads(t *testing.T, e *env, codec string) (picture, bitstream string) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for y := range 32 {
		for x := range 32 {
			img.Set(x, y, color.NRGBA{uint8(8 * x), uint8(8 * y), uint8(x * y), 255})
		}
	}
	var pngBytes bytes.Buffer
	if err := png.Encode(&pngBytes, img); err != nil {
		t.Fatal(err)
	}
	resp, b := e.do(t, "GET", "/v1/jobs/"+codec+"/result", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("codec model: %d %s", resp.StatusCode, b)
	}
	path := filepath.Join(t.TempDir(), "model.h5")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := walloc.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var wlc bytes.Buffer
	if err := walloc.Encode(&wlc, img, m); err != nil {
		t.Fatal(err)
	}
	upload := func(contentType string, body []byte) string {
		resp, b := e.do(t, "POST", "/v1/uploads", contentType, bytes.NewReader(body))
		var u struct{ ID string }
		if resp.StatusCode != 201 || json.Unmarshal(b, &u) != nil {
			t.Fatalf("upload %s: %d %s", contentType, resp.StatusCode, b)
		}
		return u.ID
	}
	return upload("image/png", pngBytes.Bytes()), upload("application/octet-stream", wlc.Bytes())
}
