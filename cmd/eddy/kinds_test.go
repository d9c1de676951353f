package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestPrintKind checks that the help of a kind shows every param of its schema
// with its type, default or "required", allowed values and description.
func TestPrintKind(t *testing.T) {
	var schema map[string]any
	err := json.Unmarshal([]byte(`{"type": "object", "required": ["cube", "k"], "properties": {
		"cube": {"type": "string", "format": "eddy-ref", "x-eddy-ref": {"accepts": ["upload"]}, "description": "the cube to unmix"},
		"k": {"type": "integer", "minimum": 2, "maximum": 64, "description": "number of endmembers"},
		"p": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.5, "description": "sparsity exponent"},
		"tol": {"type": "number", "minimum": 0, "exclusiveMaximum": 1, "default": 1e-5, "description": "relative decrease"},
		"seed": {"type": "integer", "minimum": 0, "maximum": 9007199254740991, "default": 0, "description": "random seed"},
		"dt": {"type": "number", "exclusiveMinimum": 0, "default": 0.01, "description": "time step"},
		"exact": {"type": "string", "format": "eddy-expression", "description": "exact solution"},
		"bands": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 99}, "description": "band indices"},
		"method": {"type": "string", "enum": ["cg", "pcg-jacobi"], "default": "cg", "description": "the solver"}}}`), &schema)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printKind(&out, Kind{Name: "x.demo", Title: "demo", ParamsSchema: schema})
	lines := map[string][]string{}
	var descs []string
	for _, l := range strings.Split(out.String(), "\n") {
		switch {
		case strings.HasPrefix(l, "        "):
			descs = append(descs, strings.TrimSpace(l))
		case strings.HasPrefix(l, "    "):
			f := strings.Fields(l)
			lines[f[0]] = f[1:]
		}
	}
	for name, want := range map[string]string{
		"cube":   "upload-id required",
		"k":      "integer required 2..64",
		"p":      "number 0.5 (0..1]",
		"tol":    "number 1e-05 [0..1)",
		"seed":   "integer 0 0..9007199254740991",
		"dt":     "number 0.01 > 0",
		"exact":  "expression -",
		"bands":  "array of integer - 0..99",
		"method": "string cg cg|pcg-jacobi",
	} {
		if got := strings.Join(lines[name], " "); got != want {
			t.Errorf("%s: %q, want %q\n%s", name, got, want, out.String())
		}
	}
	for _, d := range []string{"the cube to unmix", "number of endmembers", "sparsity exponent", "the solver"} {
		if !strings.Contains(strings.Join(descs, "\n"), d) {
			t.Errorf("description %q missing\n%s", d, out.String())
		}
	}
}
