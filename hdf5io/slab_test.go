package hdf5io

import (
	"errors"
	"path/filepath"
	"testing"
)

// gather picks the elements of a row-major array of shape selected by sel,
// index by index: the reference a hyperslab read is compared with.
func gather[T any](data []T, shape []int, sel []Range) []T {
	var out []T
	idx := make([]int, len(shape))
	var walk func(axis int)
	walk = func(axis int) {
		if axis == len(shape) {
			off := 0
			for i, j := range idx {
				off = off*shape[i] + j
			}
			out = append(out, data[off])
			return
		}
		for j := sel[axis].Start; j < sel[axis].Stop; j += sel[axis].Step {
			idx[axis] = j
			walk(axis + 1)
		}
	}
	walk(0)
	return out
}

// Hyperslabs of a 4-D float64, a 2-D int64 and a 1-D uint8 dataset hold
// exactly the elements that indexing the whole array gives; bad selections
// are errors, and a missing dataset wraps ErrNotFound.
func TestReadSlab(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slab.h5")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	shape := []int{3, 4, 5, 6}
	f64 := make([]float64, numel(shape))
	for i := range f64 {
		f64[i] = float64(i)*0.5 - 7
	}
	i64 := make([]int64, 35)
	for i := range i64 {
		i64[i] = int64(i*i) - 100
	}
	u8 := []uint8{9, 8, 7, 6, 5, 4, 3}
	if err := w.WriteFloat64("g/v", f64, shape, "sample,t,y,x", "1/time"); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteInt64("i", i64, []int{5, 7}, "a,b", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteUint8("u", u8, []int{7}, "a", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFloat64("s", []float64{2.5}, []int{}, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	for _, sel := range [][]Range{
		All(shape),
		{{1, 2, 1}, {2, 3, 1}, {0, 5, 1}, {0, 6, 1}}, // one frame
		{{0, 3, 2}, {1, 4, 2}, {4, 5, 1}, {0, 6, 5}}, // strided
		{{0, 3, 1}, {0, 0, 1}, {0, 5, 1}, {0, 6, 1}}, // empty
	} {
		got, gotShape, err := f.ReadFloat64Slab("/g/v", sel)
		if err != nil {
			t.Fatalf("%v: %v", sel, err)
		}
		want := gather(f64, shape, sel)
		if len(got) != len(want) {
			t.Fatalf("%v: %d elements, want %d", sel, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%v: element %d is %g, want %g", sel, i, got[i], want[i])
			}
		}
		for i, r := range sel {
			if gotShape[i] != r.Len() {
				t.Fatalf("%v: shape %v", sel, gotShape)
			}
		}
	}
	isel := []Range{{1, 5, 3}, {6, 7, 1}}
	gi, _, err := f.ReadInt64Slab("i", isel)
	if want := gather(i64, []int{5, 7}, isel); err != nil || len(gi) != 2 || gi[0] != want[0] || gi[1] != want[1] {
		t.Errorf("int64 slab %v %v, want %v", gi, err, want)
	}
	// ReadFloat64Slab converts integers, as ReadFloat64 does.
	gf, _, err := f.ReadFloat64Slab("i", isel)
	if err != nil || gf[0] != float64(gi[0]) || gf[1] != float64(gi[1]) {
		t.Errorf("int64 read as float64: %v %v", gf, err)
	}
	gu, _, err := f.ReadUint8Slab("u", []Range{{2, 7, 2}})
	if err != nil || len(gu) != 3 || gu[0] != 7 || gu[1] != 5 || gu[2] != 3 {
		t.Errorf("uint8 slab %v %v", gu, err)
	}
	gs, ss, err := f.ReadFloat64Slab("s", nil)
	if err != nil || len(gs) != 1 || gs[0] != 2.5 || len(ss) != 0 {
		t.Errorf("scalar %v %v %v", gs, ss, err)
	}
	info, err := f.Describe("g/v")
	if err != nil || info.Name != "/g/v" || info.Dtype != "float64" || len(info.Shape) != 4 || info.Shape[3] != 6 {
		t.Errorf("Describe: %+v %v", info, err)
	}

	for _, bad := range [][]Range{
		{{0, 3, 1}}, // wrong rank
		{{0, 4, 1}, {0, 4, 1}, {0, 5, 1}, {0, 6, 1}},  // past the end
		{{0, 3, 0}, {0, 4, 1}, {0, 5, 1}, {0, 6, 1}},  // step 0
		{{-1, 3, 1}, {0, 4, 1}, {0, 5, 1}, {0, 6, 1}}, // negative
		{{2, 1, 1}, {0, 4, 1}, {0, 5, 1}, {0, 6, 1}},  // stop before start
	} {
		if _, _, err := f.ReadFloat64Slab("g/v", bad); err == nil {
			t.Errorf("selection %v accepted", bad)
		}
	}
	if _, _, err := f.ReadInt64Slab("g/v", All(shape)); err == nil {
		t.Error("float64 dataset read as int64")
	}
	if _, _, err := f.ReadFloat64Slab("nope", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing dataset: %v", err)
	}
	if _, err := f.Describe("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Describe of a missing dataset: %v", err)
	}
}
