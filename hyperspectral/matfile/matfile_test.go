package matfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"eddy/hyperspectral/internal/shipped"
)

// neumaierSum is a compensated sum, accurate to about one rounding of the
// result, so that sums of millions of values can be compared with reference
// sums printed to ten decimals.
func neumaierSum(x []float64) float64 {
	var s, c float64
	for _, v := range x {
		t := s + v
		if math.Abs(s) >= math.Abs(v) {
			c += (s - t) + v
		} else {
			c += (v - t) + s
		}
		s = t
	}
	return s + c
}

func readShipped(t *testing.T, name string) map[string]*Var {
	t.Helper()
	dir, err := shipped.UnmixingDir()
	if err != nil {
		t.Skipf("shipped unmixing data not available: %v", err)
	}
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vars, err := Read(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return vars
}

type varSpec struct {
	name   string
	class  Class
	stored string
	dims   []int
}

func checkVars(t *testing.T, file string, vars map[string]*Var, want []varSpec) {
	t.Helper()
	for _, w := range want {
		v := vars[w.name]
		if v == nil {
			t.Errorf("%s: no variable %s", file, w.name)
			continue
		}
		if v.Class != w.class || v.Stored.String() != w.stored || !slices.Equal(v.Dims, w.dims) {
			t.Errorf("%s: %s is %v stored as %v with dims %v, want %v stored as %s with dims %v",
				file, w.name, v.Class, v.Stored, v.Dims, w.class, w.stored, w.dims)
		}
	}
}

// TestShippedFiles checks the reader against the checksums of §7.1 of the
// unmixing specification and the shapes and storage types of the data README.
// Reference sums are printed to ten decimals, so sums are compared to within
// 1e-9; integer-valued sums are exact.
func TestShippedFiles(t *testing.T) {
	t.Run("jasperRidge2_R198", func(t *testing.T) {
		vars := readShipped(t, "jasperRidge2_R198.mat")
		checkVars(t, "jasperRidge2_R198.mat", vars, []varSpec{
			{"Y", ClassDouble, "uint16", []int{198, 10000}},
			{"SlectBands", ClassDouble, "uint8", []int{198, 1}},
			{"nRow", ClassDouble, "uint8", []int{1, 1}},
			{"nCol", ClassDouble, "uint8", []int{1, 1}},
			{"Region", ClassStruct, "none", []int{1, 1}},
		})
		y := vars["Y"]
		if got := neumaierSum(y.Real); got != 2364404028 {
			t.Errorf("ΣY = %.1f, want 2364404028", got)
		}
		if got := y.At(0, 0); got != 101 {
			t.Errorf("Y[0,0] = %v, want 101", got)
		}
		if got := y.At(197, 9999); got != 372 {
			t.Errorf("Y[197,9999] = %v, want 372", got)
		}
		b := vars["SlectBands"].Real
		if !slices.Equal(b[:3], []float64{4, 5, 6}) || !slices.Equal(b[len(b)-3:], []float64{217, 218, 219}) {
			t.Errorf("SlectBands = %v … %v, want 4 5 6 … 217 218 219", b[:3], b[len(b)-3:])
		}
		if vars["nRow"].Real[0] != 100 || vars["nCol"].Real[0] != 100 || vars["maxValue"].Real[0] != 5000 {
			t.Errorf("nRow, nCol, maxValue = %v, %v, %v; want 100, 100, 5000", vars["nRow"].Real, vars["nCol"].Real, vars["maxValue"].Real)
		}
		if vars["Region"].HasData() {
			t.Errorf("struct Region has decoded data")
		}
	})
	t.Run("Jasper_with_GT", func(t *testing.T) {
		vars := readShipped(t, "Jasper_with_GT.mat")
		checkVars(t, "Jasper_with_GT.mat", vars, []varSpec{
			{"Y", ClassDouble, "uint16", []int{198, 10000}},
			{"A", ClassDouble, "double", []int{4, 10000}},
			{"GT", ClassDouble, "double", []int{4, 198}},
			{"S_GT", ClassDouble, "double", []int{100, 100, 4}},
		})
		if got := neumaierSum(vars["GT"].Real); math.Abs(got-214.0255946890) > 1e-9 {
			t.Errorf("ΣGT = %.10f, want 214.0255946890", got)
		}
		want := []float64{0.5599831, 0, 0.4400169, 0}
		for k, w := range want {
			// Seven decimals are given.
			if got := vars["A"].At(k, 0); math.Abs(got-w) > 5e-8 {
				t.Errorf("A[%d,0] = %.9f, want %.7f", k, got, w)
			}
		}
		if got := neumaierSum(vars["Y"].Real); got != 2364404028 {
			t.Errorf("ΣY = %.1f, want 2364404028 (same Y as jasperRidge2_R198)", got)
		}
	})
	t.Run("samson_dataset", func(t *testing.T) {
		vars := readShipped(t, "samson_dataset.mat")
		checkVars(t, "samson_dataset.mat", vars, []varSpec{
			{"Y", ClassDouble, "double", []int{156, 9025}},
			{"M", ClassDouble, "double", []int{156, 3}},
			{"A", ClassDouble, "double", []int{3, 9025}},
			{"M1", ClassDouble, "double", []int{156, 3}},
		})
		if got := neumaierSum(vars["Y"].Real); math.Abs(got-234604.5456490728) > 1e-9 {
			t.Errorf("ΣY = %.10f, want 234604.5456490728", got)
		}
		if got := neumaierSum(vars["M"].Real); math.Abs(got-219.2986548149) > 1e-9 {
			t.Errorf("ΣM = %.10f, want 219.2986548149", got)
		}
		if got := vars["Y"].At(0, 0); math.Abs(got-0.0256776034) > 5e-11 {
			t.Errorf("Y[0,0] = %.12f, want 0.0256776034", got)
		}
	})
	t.Run("M0_jasperRidge_init", func(t *testing.T) {
		vars := readShipped(t, "M0_jasperRidge_init.mat")
		checkVars(t, "M0_jasperRidge_init.mat", vars, []varSpec{{"M0", ClassDouble, "double", []int{198, 4}}})
	})
	t.Run("subimage_Urban_R162_noGT", func(t *testing.T) {
		vars := readShipped(t, "subimage_Urban_R162_noGT.mat")
		checkVars(t, "subimage_Urban_R162_noGT.mat", vars, []varSpec{{"im", ClassDouble, "double", []int{34, 78, 162}}})
		if got := slices.Max(vars["im"].Real); got != 0.635 {
			t.Errorf("max im = %v, want 0.635", got)
		}
	})
}

var numericTypes = []struct {
	typ    uint32
	values []float64
}{
	{miINT8, []float64{-128, -1, 0, 1, 127, 5}},
	{miUINT8, []float64{0, 1, 2, 200, 255, 7}},
	{miINT16, []float64{-32768, -2, 0, 3, 32767, 9}},
	{miUINT16, []float64{0, 65535, 4, 5, 6, 101}},
	{miINT32, []float64{-2147483648, 2147483647, 0, -7, 8, 9}},
	{miUINT32, []float64{0, 4294967295, 1, 2, 3, 4}},
	{miSINGLE, []float64{0.5, -1.25, 1 << 33, 0, 1, 2}},
	{miDOUBLE, []float64{math.Pi, -math.E, 1e-300, math.MaxFloat64, 0, -0.1}},
	{miINT64, []float64{-1 << 53, 1 << 53, -3, 4, 0, 1}},
	{miUINT64, []float64{1 << 53, 0, 1, 2, 3, 4}},
}

// TestRoundTrip reads files written by the independent test encoder: every
// numeric storage type, both byte orders, with and without compression, and
// both tag formats for names. The values are exactly representable, so they
// must come back exactly.
func TestRoundTrip(t *testing.T) {
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, compress := range []bool{false, true} {
			for _, small := range []bool{false, true} {
				enc := encoder{order: order, compress: compress, smallNames: small}
				var vars []testVar
				for i, nt := range numericTypes {
					vars = append(vars, testVar{
						name: string(rune('a'+i)) + "var", class: ClassDouble,
						dims: []int32{2, 3}, typ: nt.typ, re: nt.values,
					})
				}
				vars = append(vars, testVar{name: "x", class: ClassDouble, dims: []int32{1, 1}, typ: miDOUBLE, re: []float64{42}})
				got, err := Read(bytes.NewReader(enc.file(vars...)))
				if err != nil {
					t.Fatalf("%v compress=%v small=%v: %v", order, compress, small, err)
				}
				if len(got) != len(vars) {
					t.Errorf("%v compress=%v: %d variables, want %d", order, compress, len(got), len(vars))
				}
				for _, tv := range vars {
					v := got[tv.name]
					if v == nil {
						t.Errorf("%v compress=%v: no variable %q", order, compress, tv.name)
						continue
					}
					if !slices.Equal(v.Real, tv.re) || !slices.Equal(v.Dims, []int{int(tv.dims[0]), int(tv.dims[1])}) || v.Stored != DataType(tv.typ) {
						t.Errorf("%v compress=%v: %s = %v dims %v stored %v, want %v dims %v stored %v",
							order, compress, tv.name, v.Real, v.Dims, v.Stored, tv.re, tv.dims, DataType(tv.typ))
					}
				}
				// Column-major indexing: (i, j) of a 2×3 array is element i + 2j.
				if v := got["avar"]; v.At(1, 2) != v.Real[5] || v.At(0, 1) != v.Real[2] {
					t.Errorf("At does not index column-major")
				}
			}
		}
	}
}

func TestComplexLogicalCharAndSkipped(t *testing.T) {
	enc := encoder{order: binary.LittleEndian, compress: true}
	var structBody []byte
	{
		// A 1×1 struct with one field "f" holding a double 1×1: field name
		// length, field names, then one miMATRIX per field.
		e := encoder{order: binary.LittleEndian}
		structBody = append(structBody, e.small(miINT32, []byte{8, 0, 0, 0})...)
		structBody = append(structBody, e.element(miINT8, []byte("f\x00\x00\x00\x00\x00\x00\x00"))...)
		structBody = append(structBody, e.matrix(testVar{class: ClassDouble, dims: []int32{1, 1}, typ: miDOUBLE, re: []float64{3}})...)
	}
	file := enc.file(
		testVar{name: "z", class: ClassDouble, dims: []int32{1, 2}, typ: miDOUBLE, re: []float64{1, 2}, im: []float64{-3, 4}},
		testVar{name: "mask", class: ClassUint8, logical: true, dims: []int32{2, 2}, typ: miUINT8, re: []float64{1, 0, 0, 1}},
		testVar{name: "s", class: ClassStruct, dims: []int32{1, 1}, raw: structBody},
		testVar{name: "txt", class: ClassChar, dims: []int32{1, 5}, typ: miUTF16, re: []float64{'h', 'e', 'l', 'l', 'o'}},
		testVar{name: "after", class: ClassSingle, dims: []int32{3, 1}, typ: miSINGLE, re: []float64{1, 2, 3}},
		testVar{name: "empty", class: ClassDouble, dims: []int32{0, 0}, typ: miDOUBLE, re: nil},
	)
	vars, err := Read(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if z := vars["z"]; !z.Complex || !slices.Equal(z.Real, []float64{1, 2}) || !slices.Equal(z.Imag, []float64{-3, 4}) {
		t.Errorf("complex z = %+v", z)
	}
	if m := vars["mask"]; !m.Logical || !slices.Equal(m.Real, []float64{1, 0, 0, 1}) {
		t.Errorf("logical mask = %+v", m)
	}
	if s := vars["s"]; s.Class != ClassStruct || s.HasData() || !slices.Equal(s.Dims, []int{1, 1}) {
		t.Errorf("struct s = %+v, want class struct, dims [1 1], no data", s)
	}
	if txt, ok := vars["txt"].Text(); !ok || txt != "hello" {
		t.Errorf("char txt = %q, %v", txt, ok)
	}
	if a := vars["after"]; a.Class != ClassSingle || !slices.Equal(a.Real, []float64{1, 2, 3}) {
		t.Errorf("variable after the struct = %+v", a)
	}
	if e := vars["empty"]; !e.HasData() || e.Len() != 0 {
		t.Errorf("empty = %+v, want decoded with no elements", e)
	}
}

// TestPaddedCompressedElements: a writer that pads compressed elements to 8
// bytes (MATLAB does not) must still be read.
func TestPaddedCompressedElements(t *testing.T) {
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		enc := encoder{order: order, compress: true}
		a := testVar{name: "a", class: ClassDouble, dims: []int32{1, 3}, typ: miUINT8, re: []float64{1, 2, 3}}
		b := testVar{name: "b", class: ClassDouble, dims: []int32{1, 1}, typ: miDOUBLE, re: []float64{4}}
		first := enc.file(a)
		if len(first)%8 == 0 {
			t.Fatalf("%v: the test needs an unaligned compressed element", order)
		}
		for len(first)%8 != 0 {
			first = append(first, 0)
		}
		second := enc.file(b)[headerLen:]
		vars, err := Read(bytes.NewReader(append(first, second...)))
		if err != nil || len(vars) != 2 || vars["b"].Real[0] != 4 {
			t.Errorf("%v: %v, %v", order, vars, err)
		}
	}
}

// TestMalformed checks that damaged input gives a *FormatError and never a
// panic: every truncation of a small valid file, every single-byte
// corruption of it, and a few handcrafted cases.
func TestMalformed(t *testing.T) {
	for _, compress := range []bool{false, true} {
		enc := encoder{order: binary.LittleEndian, compress: compress}
		first := testVar{name: "Y", class: ClassDouble, dims: []int32{2, 3}, typ: miUINT16, re: []float64{1, 2, 3, 4, 5, 6}}
		file := enc.file(first, testVar{name: "b", class: ClassDouble, dims: []int32{1, 1}, typ: miDOUBLE, re: []float64{7}})
		boundary := len(enc.file(first)) // a valid file holding only Y
		if _, err := Read(bytes.NewReader(file)); err != nil {
			t.Fatalf("valid file: %v", err)
		}
		for n := 0; n < len(file); n++ {
			vars, err := Read(bytes.NewReader(file[:n]))
			checkScanAgrees(t, file[:n], Options{}, vars, err)
			var fe *FormatError
			if n == headerLen || n == boundary {
				// Cut between elements: a valid file with fewer variables.
				if err != nil || len(vars) != map[int]int{headerLen: 0, boundary: 1}[n] {
					t.Errorf("compress=%v: cut at element boundary %d: %d variables, %v", compress, n, len(vars), err)
				}
				continue
			}
			if !errors.As(err, &fe) {
				t.Errorf("compress=%v: truncated to %d of %d bytes: error %v, want *FormatError", compress, n, len(file), err)
			}
		}
		for i := range file {
			for _, x := range []byte{0x01, 0x80, 0xff} {
				bad := slices.Clone(file)
				bad[i] ^= x
				vars, err := Read(bytes.NewReader(bad)) // must not panic
				checkScanAgrees(t, bad, Options{}, vars, err)
				var fe *FormatError
				if err != nil && !errors.As(err, &fe) {
					t.Errorf("corrupted byte %d: error %T, want *FormatError", i, err)
				}
			}
		}
	}

	header := func(version uint16, endian string) []byte {
		h := make([]byte, headerLen)
		copy(h, "MATLAB 7.3 MAT-file")
		binary.LittleEndian.PutUint16(h[124:], version)
		copy(h[126:], endian)
		return h
	}
	cases := map[string][]byte{
		"v7.3 header":      header(0x0200, "IM"),
		"unknown version":  header(0x0300, "IM"),
		"bad endian":       header(0x0100, "XX"),
		"hdf5 signature":   []byte("\x89HDF\r\n\x1a\n"),
		"short":            []byte("MATLAB"),
		"top-level double": append(header(0x0100, "IM"), encoder{order: binary.LittleEndian}.element(miDOUBLE, make([]byte, 8))...),
		"huge dims": encoder{order: binary.LittleEndian}.file(testVar{
			name: "h", class: ClassDouble, dims: []int32{1 << 30, 1 << 30, 1 << 30}, typ: miDOUBLE, re: []float64{1}}),
		"negative dim": encoder{order: binary.LittleEndian}.file(testVar{
			name: "h", class: ClassDouble, dims: []int32{-1, 2}, typ: miDOUBLE, re: []float64{1}}),
		"count mismatch": encoder{order: binary.LittleEndian}.file(testVar{
			name: "h", class: ClassDouble, dims: []int32{3, 3}, typ: miDOUBLE, re: []float64{1, 2}}),
		"duplicate": encoder{order: binary.LittleEndian}.file(
			testVar{name: "d", class: ClassDouble, dims: []int32{1, 1}, typ: miDOUBLE, re: []float64{1}},
			testVar{name: "d", class: ClassDouble, dims: []int32{1, 1}, typ: miDOUBLE, re: []float64{2}}),
		"bad zlib": append(header(0x0100, "IM"), encoder{order: binary.LittleEndian}.element(miCOMPRESSED, []byte("not zlib at all"))...),
	}
	for name, b := range cases {
		vars, err := Read(bytes.NewReader(b))
		checkScanAgrees(t, b, Options{}, vars, err)
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v, want *FormatError", name, err)
		}
	}
}

// FuzzRead checks that no input makes Read panic, that whatever it accepts
// is self-consistent and listed alike by Scan, that Scan refuses what it
// refuses, and that no input inflates beyond the bound. The seed corpus holds valid files of the test
// encoder and, under testdata/fuzz/FuzzRead, inputs found while fuzzing.
func FuzzRead(f *testing.F) {
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, compress := range []bool{false, true} {
			enc := encoder{order: order, compress: compress, smallNames: true}
			f.Add(enc.file(
				testVar{name: "Y", class: ClassDouble, dims: []int32{2, 2}, typ: miUINT8, re: []float64{1, 2, 3, 4}},
				testVar{name: "z", class: ClassSingle, dims: []int32{1, 1}, typ: miSINGLE, re: []float64{1}, im: []float64{2}},
				testVar{name: "c", class: ClassChar, dims: []int32{1, 2}, typ: miUTF8, re: []float64{'o', 'k'}},
			))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := newDecoder(bytes.NewReader(data), fuzzOptions, true)
		vars := make(map[string]*Var)
		err := d.file(func(v *Var) { vars[v.Name] = v })
		if d.inflated() > fuzzOptions.MaxInflated {
			t.Fatalf("inflated %d bytes with a bound of %d", d.inflated(), fuzzOptions.MaxInflated)
		}
		if err != nil {
			vars = nil
		}
		checkScanAgrees(t, data, fuzzOptions, vars, err)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		for name, v := range vars {
			if name != v.Name || name == "" {
				t.Fatalf("variable %q listed as %q", v.Name, name)
			}
			if v.HasData() && len(v.Real) != v.Len() {
				t.Fatalf("%s: %d values for dims %v", name, len(v.Real), v.Dims)
			}
			if v.Complex && v.HasData() && len(v.Imag) != len(v.Real) {
				t.Fatalf("%s: %d imaginary values for %d real", name, len(v.Imag), len(v.Real))
			}
		}
	})
}
