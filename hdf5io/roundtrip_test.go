package hdf5io

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// shapes used by the round-trip tests: scalar, 1-D to 4-D, and zero-length
// dimensions.
var shapes = [][]int{{}, {7}, {3, 5}, {2, 3, 4}, {2, 1, 3, 2}, {0}, {3, 0, 2}}

func axes(rank int) string {
	a := make([]string, rank)
	for i := range a {
		a[i] = fmt.Sprintf("a%d", i)
	}
	return strings.Join(a, ",")
}

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// sameFloat reports whether a and b are the same float64, bit for bit up to
// the NaN payload.
func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b && math.Signbit(a) == math.Signbit(b)
}

// testRoundTrip writes datasets of every shape with write, reads them back
// with read and with ReadFloat64, and checks that both are exact: every
// value of the element types under test is representable as a float64.
func testRoundTrip[T element](t *testing.T, dtype string, gen func(r *rand.Rand, i int) T,
	write func(*Writer, string, []T, []int, string, string) error,
	read func(*File, string) ([]T, []int, error),
) {
	path := filepath.Join(t.TempDir(), dtype+".h5")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	r := rand.New(rand.NewPCG(1, 2))
	want := make([][]T, len(shapes))
	for k, shape := range shapes {
		want[k] = make([]T, numel(shape))
		for i := range want[k] {
			want[k][i] = gen(r, i)
		}
		// Nested names exercise the creation of intermediate groups.
		name := fmt.Sprintf("/g%d/sub/d%d", k%2, k)
		if err := write(w, name, want[k], shape, axes(len(shape)), "m/s"); err != nil {
			t.Fatalf("shape %v: %v", shape, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	infos, err := f.Datasets()
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != len(shapes) {
		t.Fatalf("Datasets lists %d datasets, want %d", len(infos), len(shapes))
	}
	for k, shape := range shapes {
		name := fmt.Sprintf("/g%d/sub/d%d", k%2, k)
		i := slices.IndexFunc(infos, func(d DatasetInfo) bool { return d.Name == name })
		if i < 0 {
			t.Fatalf("Datasets does not list %s: %v", name, infos)
		}
		if infos[i].Dtype != dtype || !slices.Equal(infos[i].Shape, shape) || infos[i].Shape == nil {
			t.Errorf("Datasets: %s is %s %v, want %s %v", name, infos[i].Dtype, infos[i].Shape, dtype, shape)
		}

		got, gotShape, err := read(f, name)
		if err != nil {
			t.Fatalf("shape %v: %v", shape, err)
		}
		if !slices.Equal(gotShape, shape) {
			t.Errorf("shape %v: read shape %v", shape, gotShape)
		}
		if len(got) != len(want[k]) {
			t.Fatalf("shape %v: read %d elements, want %d", shape, len(got), len(want[k]))
		}
		for i := range got {
			if !sameFloat(float64(got[i]), float64(want[k][i])) {
				t.Fatalf("shape %v: element %d is %v, want %v", shape, i, got[i], want[k][i])
			}
		}

		asFloat, fShape, err := f.ReadFloat64(name)
		if err != nil {
			t.Fatalf("ReadFloat64 shape %v: %v", shape, err)
		}
		if !slices.Equal(fShape, shape) || len(asFloat) != len(want[k]) {
			t.Fatalf("ReadFloat64 shape %v: got shape %v, %d elements", shape, fShape, len(asFloat))
		}
		for i := range asFloat {
			if !sameFloat(asFloat[i], float64(want[k][i])) {
				t.Fatalf("ReadFloat64 shape %v: element %d is %v, want %v", shape, i, asFloat[i], want[k][i])
			}
		}

		units, err := f.AttrString(name, "units")
		if err != nil || units != "m/s" {
			t.Errorf("units of %s: %q, %v", name, units, err)
		}
		dims, err := f.AttrString(name, "dims")
		if len(shape) == 0 {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("scalar %s: dims attribute %q, %v; want none", name, dims, err)
			}
		} else if err != nil || dims != axes(len(shape)) {
			t.Errorf("dims of %s: %q, %v", name, dims, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	special := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
		math.MaxFloat64, math.SmallestNonzeroFloat64, -1.5}
	t.Run("float64", func(t *testing.T) {
		testRoundTrip(t, "float64", func(r *rand.Rand, i int) float64 {
			if i < len(special) {
				return special[i]
			}
			return r.NormFloat64() * math.Exp(20*r.NormFloat64())
		}, (*Writer).WriteFloat64, (*File).ReadFloat64)
	})
	t.Run("float32", func(t *testing.T) {
		testRoundTrip(t, "float32", func(r *rand.Rand, i int) float32 {
			if i < len(special) && i != 5 && i != 6 { // MaxFloat64 and the smallest overflow float32
				return float32(special[i])
			}
			return float32(r.NormFloat64())
		}, (*Writer).WriteFloat32, (*File).ReadFloat32)
	})
	t.Run("uint8", func(t *testing.T) {
		testRoundTrip(t, "uint8", func(r *rand.Rand, i int) uint8 {
			return []uint8{0, 255}[i%2] + uint8(r.IntN(2))*uint8(1-2*(i%2))
		}, (*Writer).WriteUint8, (*File).ReadUint8)
	})
	t.Run("int8", func(t *testing.T) {
		testRoundTrip(t, "int8", func(r *rand.Rand, i int) int8 {
			return int8(r.IntN(256) - 128)
		}, (*Writer).WriteInt8, (*File).ReadInt8)
	})
	t.Run("int64", func(t *testing.T) {
		// Within ±2⁵³, so that ReadFloat64 is exact too.
		testRoundTrip(t, "int64", func(r *rand.Rand, i int) int64 {
			return r.Int64N(1<<54) - 1<<53
		}, (*Writer).WriteInt64, (*File).ReadInt64)
	})
}

func TestInt64Extremes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "i.h5")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{math.MinInt64, math.MaxInt64, 1<<53 + 1, -1}
	if err := w.WriteInt64("i", want, []int{4}, "k", ""); err != nil {
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
	got, _, err := f.ReadInt64("i")
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("ReadInt64 = %v, %v; want %v", got, err, want)
	}
	// Beyond 2⁵³ ReadFloat64 rounds to nearest, as the conversion in Go does.
	asFloat, _, err := f.ReadFloat64("i")
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range want {
		if asFloat[i] != float64(v) {
			t.Errorf("ReadFloat64 element %d = %v, want %v", i, asFloat[i], float64(v))
		}
	}
}

func TestWritePanics(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "p.h5"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for _, tc := range []struct {
		name  string
		write func()
	}{
		{"length", func() { w.WriteFloat64("x", make([]float64, 5), []int{2, 3}, "", "") }},
		{"negative", func() { w.WriteUint8("x", nil, []int{-1}, "", "") }},
		{"dims", func() { w.WriteInt8("x", make([]int8, 6), []int{2, 3}, "y,x,c", "") }},
		{"scalar dims", func() { w.WriteFloat32("x", make([]float32, 1), nil, "x", "") }},
	} {
		func() {
			defer func() {
				r := recover()
				if msg, ok := r.(string); !ok || !strings.Contains(msg, `"x"`) {
					t.Errorf("%s: recovered %v, want a panic message naming the dataset", tc.name, r)
				}
			}()
			tc.write()
		}()
	}
	// The package stays usable after a panic.
	if err := w.WriteFloat64("x", []float64{1}, []int{1}, "x", ""); err != nil {
		t.Fatal(err)
	}
}

func TestGroupsAndNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.h5")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for _, g := range []string{"/a/b/c", "/a/b", "a/b/c", "/metrics"} {
		if err := w.CreateGroup(g); err != nil {
			t.Errorf("CreateGroup(%q): %v", g, err)
		}
	}
	if err := w.WriteFloat64("/a/b/x", []float64{1, 2}, []int{2}, "i", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFloat64("solution", []float64{3}, []int{1}, "i", ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ what, name string }{
		{"existing dataset", "/a/b/x"},
		{"existing group", "/a/b"},
		{"dataset under a dataset", "/a/b/x/y"},
		{"empty component", "/a//x"},
		{"dot component", "/a/./x"},
		{"dot-dot component", "/a/../x"},
		{"root", "/"},
		{"NUL", "a\x00b"},
	} {
		err := w.WriteFloat64(tc.name, []float64{1}, []int{1}, "", "")
		if err == nil {
			t.Errorf("%s: writing %q succeeded", tc.what, tc.name)
		} else if !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.name)) &&
			!strings.Contains(err.Error(), fmt.Sprintf("%q", "/"+strings.TrimPrefix(tc.name, "/"))) {
			t.Errorf("%s: error %q does not name %q", tc.what, err, tc.name)
		}
	}
	if err := w.CreateGroup("/a/b/x/y"); err == nil {
		t.Error("CreateGroup below a dataset succeeded")
	}
	if err := w.CreateGroup("/a/b/x"); err == nil {
		t.Error("CreateGroup over a dataset succeeded")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	infos, err := f.Datasets()
	if err != nil {
		t.Fatal(err)
	}
	want := []DatasetInfo{
		{Name: "/a/b/x", Shape: []int{2}, Dtype: "float64"},
		{Name: "/solution", Shape: []int{1}, Dtype: "float64"},
	}
	if !slices.EqualFunc(infos, want, func(a, b DatasetInfo) bool {
		return a.Name == b.Name && a.Dtype == b.Dtype && slices.Equal(a.Shape, b.Shape)
	}) {
		t.Errorf("Datasets = %v, want %v", infos, want)
	}
	// Groups exist and carry attributes.
	for _, g := range []string{"/a", "/a/b/c", "/metrics"} {
		if _, err := f.AttrNames(g); err != nil {
			t.Errorf("group %s: %v", g, err)
		}
	}
}

func TestReadErrors(t *testing.T) {
	path := writeSample(t)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	for _, name := range []string{"/missing", "/metrics/missing", "/nogroup/x"} {
		_, _, err := f.ReadFloat64(name)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), fmt.Sprintf("%q", name)) ||
			!strings.Contains(err.Error(), path) {
			t.Errorf("ReadFloat64(%q): error %v, want ErrNotFound naming the dataset and the file", name, err)
		}
	}
	if _, _, err := f.ReadFloat64("/metrics"); err == nil || !strings.Contains(err.Error(), "not a dataset") {
		t.Errorf("reading a group: error %v", err)
	}
	if _, _, err := f.ReadUint8("/vorticity"); err == nil || !strings.Contains(err.Error(), "float64") {
		t.Errorf("ReadUint8 of float64 data: error %v, want one naming the dtype", err)
	}
	if _, _, err := f.ReadInt8("/mask"); err == nil || !strings.Contains(err.Error(), "uint8") {
		t.Errorf("ReadInt8 of uint8 data: error %v, want one naming the dtype", err)
	}

	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, _, err := f.ReadFloat64("/vorticity"); !errors.Is(err, os.ErrClosed) {
		t.Errorf("read after Close: %v, want os.ErrClosed", err)
	}
	if _, err := f.Datasets(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Datasets after Close: %v, want os.ErrClosed", err)
	}

	if _, err := Open(filepath.Join(t.TempDir(), "none.h5")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of a missing file: %v, want os.ErrNotExist", err)
	}
}

// writeSample writes a small file following the conventions of Eddy and
// returns its path.
func writeSample(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sample.h5")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	vort := make([]float64, 2*3*4*5)
	for i := range vort {
		vort[i] = math.Sin(float64(i))
	}
	mask := make([]uint8, 4*5)
	for i := range mask {
		mask[i] = uint8(i % 2)
	}
	steps := []error{
		w.SetAttrString("/", "eddy_kind", "navier_stokes.simulate"),
		w.SetAttrString("/", "params_json", `{"n":64}`),
		w.WriteFloat64("/vorticity", vort, []int{2, 3, 4, 5}, "sample,t,y,x", "1/s"),
		w.WriteUint8("/mask", mask, []int{4, 5}, "y,x", ""),
		w.CreateGroup("/metrics"),
		w.SetAttrFloat64("/metrics", "rel_l2", 1.25e-3),
		w.SetAttrInt64("/metrics", "iterations", 37),
	}
	for _, err := range steps {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
