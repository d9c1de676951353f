package hdf5io

import (
	"path/filepath"
	"testing"
)

// Booleans are stored as uint8 attributes: they keep that type in the file
// and read back as integers and as numbers.
func TestUint8Attributes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "uint8.h5")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := w.CreateGroup("/metrics"); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]uint8{"yes": 1, "no": 0, "max": 255} {
		if err := w.SetAttrUint8("/metrics", name, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.SetAttrUint8("/metrics", "yes", 1); err != nil { // replaces
		t.Fatal(err)
	}
	if err := w.SetAttrInt64("/metrics", "count", 7); err != nil {
		t.Fatal(err)
	}
	if err := w.SetAttrUint8("/missing", "x", 1); err == nil {
		t.Error("attribute of a missing object accepted")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, want := range map[string]int64{"yes": 1, "no": 0, "max": 255} {
		if dt, err := f.AttrDtype("/metrics", name); err != nil || dt != "uint8" {
			t.Errorf("%s: dtype %q, %v; want uint8", name, dt, err)
		}
		if v, err := f.AttrInt64("/metrics", name); err != nil || v != want {
			t.Errorf("%s: AttrInt64 %d, %v; want %d", name, v, err, want)
		}
		if v, err := f.AttrFloat64("/metrics", name); err != nil || v != float64(want) {
			t.Errorf("%s: AttrFloat64 %g, %v; want %d", name, v, err, want)
		}
	}
	if dt, err := f.AttrDtype("/metrics", "count"); err != nil || dt != "int64" {
		t.Errorf("count: dtype %q, %v; want int64", dt, err)
	}
	if _, err := f.AttrDtype("/metrics", "absent"); err == nil {
		t.Error("dtype of a missing attribute")
	}
}
