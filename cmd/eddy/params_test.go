package main

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestBuildParams(t *testing.T) {
	file := filepath.Join(t.TempDir(), "p.json")
	os.WriteFile(file, []byte(`{"n": 64, "grid": {"nx": 8, "ny": 8}, "method": "pcg-jacobi"}`), 0o644)
	for _, tc := range []struct {
		name       string
		file, text string
		pairs      []string
		want       string
	}{
		{"typed values", "", "", []string{"method=cg", "n=128", "tol=1e-10", "fast=true", "sizes=[1,2]", "label=", "q=\"7\"", "big=12345678901234567890"},
			`{"big":12345678901234567890,"fast":true,"label":"","method":"cg","n":128,"q":"7","sizes":[1,2],"tol":1e-10}`},
		{"not JSON is a string", "", "", []string{"x=1e", "y=NaN", "z=a=b"}, `{"x":"1e","y":"NaN","z":"a=b"}`},
		{"dotted keys nest", "", "", []string{"a.b=1", "a.c=x"}, `{"a":{"b":1,"c":"x"}}`},
		{"file, then text, then pairs", file, `{"n": 96, "grid": {"nx": 16}}`, []string{"grid.ny=4"},
			`{"grid":{"nx":16,"ny":4},"method":"pcg-jacobi","n":96}`},
		{"nothing", "", "", nil, `{}`},
	} {
		got, err := buildParams(tc.file, tc.text, tc.pairs, nil, nil)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		text  string
		pairs []string
	}{
		{`[1]`, nil},
		{`{"a":1} x`, nil},
		{"", []string{"novalue"}},
		{"", []string{"=3"}},
		{"", []string{"a=1", "a.b=2"}},
		{"", []string{"a..b=2"}},
	} {
		if _, err := buildParams("", tc.text, tc.pairs, nil, nil); err == nil {
			t.Errorf("--params %q -p %q: no error", tc.text, tc.pairs)
		}
	}
	got, err := buildParams("-", "", nil, strings.NewReader(`{"n": 8}`), nil)
	if err != nil || string(got) != `{"n":8}` {
		t.Errorf("params from standard input: %s, %v", got, err)
	}
}

func TestReadEvents(t *testing.T) {
	stream := ": keep-alive\n\nid: 1\nevent: job\ndata: {\"a\":\ndata: 1}\n\r\ndata: plain\n\nevent: job\ndata: cut off"
	type ev struct{ name, data string }
	var got []ev
	err := readEvents(strings.NewReader(stream), func(name, data string) error {
		got = append(got, ev{name, data})
		return nil
	})
	want := []ev{{"", ""}, {"job", "{\"a\":\n1}"}, {"message", "plain"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	stop := errors.New("stop")
	if err := readEvents(strings.NewReader("data: x\n\ndata: y\n\n"), func(string, string) error { return stop }); err != stop {
		t.Errorf("the callback's error is not passed on: %v", err)
	}
}

func TestAPIErrorMessage(t *testing.T) {
	e := &APIError{Status: 422, Title: "Unprocessable Entity",
		Detail: "invalid request: /params/n: must be between 2 and 8192, got 1",
		Errors: []FieldError{{Path: "/params/n", Message: "must be between 2 and 8192, got 1"}}}
	want := "Unprocessable Entity (HTTP 422)\n  /params/n: must be between 2 and 8192, got 1"
	if e.Error() != want {
		t.Errorf("got %q, want %q", e.Error(), want)
	}
	e = &APIError{Status: 409, Title: "Conflict", Detail: "job is queued; the result exists once it has succeeded"}
	if !strings.HasSuffix(e.Error(), ": job is queued; the result exists once it has succeeded") {
		t.Errorf("detail missing: %q", e.Error())
	}
	e = &APIError{Status: 502, Body: "<html>bad gateway</html>"}
	if e.Error() != "Bad Gateway (HTTP 502): <html>bad gateway</html>" {
		t.Errorf("non-problem body: %q", e.Error())
	}
}

func TestParseInterleaved(t *testing.T) {
	c := &cli{stderr: io.Discard}
	fs := flag.NewFlagSet("eddy submit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var p listFlag
	fs.Var(&p, "p", "")
	wait := fs.Bool("wait", false, "")
	pos, err := c.parse(fs, []string{"-p", "a=1", "kind", "--wait", "-p", "b=2", "--", "-x"}, 1, -1)
	if err != nil || !reflect.DeepEqual(pos, []string{"kind", "-x"}) || !*wait || len(p) != 2 {
		t.Errorf("got %q %v wait=%v p=%q", pos, err, *wait, p)
	}
}

func TestContentRangeStart(t *testing.T) {
	for h, want := range map[string]int64{"bytes 100-199/200": 100, "bytes 0-0/1": 0, "items 1-2/3": -1, "bytes x-1/2": -1} {
		got, ok := contentRangeStart(h)
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("%q: got %d, want %d", h, got, want)
		}
	}
}

func TestProgressLine(t *testing.T) {
	j := &Job{State: "running", Progress: &Progress{Fraction: 0.5, Message: "iteration 10",
		Metrics: map[string]float64{"residual": 1.25e-5, "iterations": 10, "a": 1, "z": 2}}}
	want := "[############------------]  50%  running: iteration 10  a=1  iterations=10  residual=1.25e-05"
	if got := progressLine(j); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	var v any
	if json.Unmarshal([]byte(`{"x":1}`), &v); formatValue(v) != `{"x":1}` {
		t.Errorf("formatValue of an object: %s", formatValue(v))
	}
}

// A number, boolean or null given with -p for a param whose schema type is
// string alone is sent as its text; other params keep their JSON values.
func TestBuildParamsStringParams(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal([]byte(`{"type": "object", "properties": {
		"boundary": {"type": "string", "format": "eddy-expression"},
		"n": {"type": "integer"},
		"label": {"type": ["string", "null"]},
		"either": {"type": ["string", "number"]},
		"grid": {"type": "object", "properties": {"name": {"type": "string"}, "nx": {"type": "integer"}}}}}`), &schema); err != nil {
		t.Fatal(err)
	}
	pairs := []string{"boundary=0", "n=20", "label=true", "either=3", "grid.name=1.5", "grid.nx=8", "other=2", `q="x"`}
	if !scalarPairs(pairs) || scalarPairs([]string{"a=x", `b="1"`, "c=[1]"}) {
		t.Errorf("scalarPairs: wrong answer")
	}
	got, err := buildParams("", "", pairs, nil, stringParam(schema))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"boundary":"0","either":3,"grid":{"name":"1.5","nx":8},"label":"true","n":20,"other":2,"q":"x"}`
	if string(got) != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}
