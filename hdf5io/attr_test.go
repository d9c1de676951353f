package hdf5io

import (
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestAttributes(t *testing.T) {
	// A long params_json of several kilobytes, with UTF-8 text.
	params := map[string]any{"kind": "unmix", "note": "Ω→λ 流体 ✓", "grid": make([]float64, 2000)}
	for i := range params["grid"].([]float64) {
		params["grid"].([]float64)[i] = math.Sqrt(float64(i))
	}
	long, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	if len(long) < 8<<10 {
		t.Fatalf("test JSON is only %d bytes", len(long))
	}
	strs := map[string]string{
		"params_json": string(long),
		"empty":       "",
		"utf8":        "température Ü 日本語 🌀",
		"spaces":      "  padded  ",
	}

	path := filepath.Join(t.TempDir(), "attr.h5")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := w.WriteFloat64("/g/ds", []float64{1, 2, 3}, []int{3}, "x", "m"); err != nil {
		t.Fatal(err)
	}
	objects := []string{"/", "/g", "/g/ds"}
	for _, obj := range objects {
		for name, v := range strs {
			if err := w.SetAttrString(obj, name, v); err != nil {
				t.Fatal(err)
			}
		}
		steps := []error{
			w.SetAttrFloat64(obj, "f", 1), // replaced below
			w.SetAttrFloat64(obj, "f", -2.5e-300),
			w.SetAttrInt64(obj, "min", math.MinInt64),
			w.SetAttrInt64(obj, "max", math.MaxInt64),
			w.SetAttrFloat64s(obj, "fs", []float64{1, math.Inf(-1), 1e300}),
			w.SetAttrFloat64s(obj, "none", nil),
			w.SetAttrString(obj, "kind", "float then string"),
		}
		for _, err := range steps {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.SetAttrString("/", "nul", "a\x00b"); err == nil {
		t.Error("SetAttrString accepted a NUL byte")
	}
	if err := w.SetAttrFloat64("/nothing", "x", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("attribute of a missing object: %v, want ErrNotFound", err)
	}
	if err := w.SetAttrInt64("/", "", 1); err == nil {
		t.Error("empty attribute name accepted")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, obj := range objects {
		for name, want := range strs {
			got, err := f.AttrString(obj, name)
			if err != nil || got != want {
				t.Errorf("%s %s: got %d bytes (%v), want %d bytes", obj, name, len(got), err, len(want))
			}
		}
		if v, err := f.AttrFloat64(obj, "f"); err != nil || v != -2.5e-300 {
			t.Errorf("%s f = %v, %v", obj, v, err)
		}
		if v, err := f.AttrInt64(obj, "min"); err != nil || v != math.MinInt64 {
			t.Errorf("%s min = %v, %v", obj, v, err)
		}
		if v, err := f.AttrInt64(obj, "max"); err != nil || v != math.MaxInt64 {
			t.Errorf("%s max = %v, %v", obj, v, err)
		}
		// An integer attribute converts to float64 (2⁶³-1 rounds to 2⁶³).
		if v, err := f.AttrFloat64(obj, "max"); err != nil || v != math.MaxInt64 {
			t.Errorf("%s max as float64 = %v, %v", obj, v, err)
		}
		if v, err := f.AttrFloat64s(obj, "fs"); err != nil || !slices.Equal(v, []float64{1, math.Inf(-1), 1e300}) {
			t.Errorf("%s fs = %v, %v", obj, v, err)
		}
		if v, err := f.AttrFloat64s(obj, "none"); err != nil || len(v) != 0 {
			t.Errorf("%s none = %v, %v", obj, v, err)
		}
		// A scalar is an array of one.
		if v, err := f.AttrFloat64s(obj, "f"); err != nil || !slices.Equal(v, []float64{-2.5e-300}) {
			t.Errorf("%s f as array = %v, %v", obj, v, err)
		}
		names, err := f.AttrNames(obj)
		want := []string{"empty", "f", "fs", "kind", "max", "min", "none", "params_json", "spaces", "utf8"}
		if obj == "/g/ds" {
			want = append(want, "dims", "units")
			slices.Sort(want)
		}
		if err != nil || !slices.Equal(names, want) {
			t.Errorf("AttrNames(%s) = %v, %v; want %v", obj, names, err, want)
		}

		// Type and shape mismatches are errors that say what is there.
		for _, tc := range []struct {
			what string
			err  error
			want string
		}{
			{"AttrFloat64 of a string", second(f.AttrFloat64(obj, "kind")), "string"},
			{"AttrInt64 of a float", second(f.AttrInt64(obj, "f")), "float64"},
			{"AttrString of a float", second(f.AttrString(obj, "f")), "not a string"},
			{"AttrFloat64 of an array", second(f.AttrFloat64(obj, "fs")), "[3]"},
			{"AttrFloat64s of a string", second(f.AttrFloat64s(obj, "kind")), "string"},
		} {
			if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
				t.Errorf("%s %s: error %v, want one containing %q", obj, tc.what, tc.err, tc.want)
			}
		}
		_, err = f.AttrString(obj, "missing")
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"missing"`) {
			t.Errorf("missing attribute: %v, want ErrNotFound naming it", err)
		}
	}
	if _, err := f.AttrNames("/nothing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("AttrNames of a missing object: %v, want ErrNotFound", err)
	}
}

func second[T any](_ T, err error) error { return err }
