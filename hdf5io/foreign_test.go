package hdf5io

import (
	"encoding/binary"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/hdf5"
)

// The tests in this file read files as other programs write them: element
// types Writer does not produce, big-endian data and fixed-length strings.
// They are built with the binding directly.

// foreignDataset describes one dataset: its file type and its raw bytes in
// that type's byte order.
type foreignDataset struct {
	name  string
	typ   *hdf5.Datatype
	shape []uint
	raw   []byte
	want  []float64 // values that ReadFloat64 must return exactly
	dtype string
}

func le16(v ...uint16) []byte { return pack(v, binary.LittleEndian.AppendUint16) }
func be16(v ...uint16) []byte { return pack(v, binary.BigEndian.AppendUint16) }
func le32(v ...uint32) []byte { return pack(v, binary.LittleEndian.AppendUint32) }
func be32(v ...uint32) []byte { return pack(v, binary.BigEndian.AppendUint32) }
func le64(v ...uint64) []byte { return pack(v, binary.LittleEndian.AppendUint64) }

func pack[T any](v []T, app func([]byte, T) []byte) []byte {
	var b []byte
	for _, x := range v {
		b = app(b, x)
	}
	return b
}

func TestForeignTypes(t *testing.T) {
	cube := make([]uint16, 2*3*4)
	cubeWant := make([]float64, len(cube))
	for i := range cube {
		cube[i] = uint16(i * 2849)
		cubeWant[i] = float64(cube[i])
	}
	str, err := hdf5.T_C_S1.Copy()
	if err != nil {
		t.Fatal(err)
	}
	defer str.Close()
	if err := str.SetSize(4); err != nil {
		t.Fatal(err)
	}
	sets := []foreignDataset{
		{"/cube", hdf5.T_STD_U16LE, []uint{2, 3, 4}, le16(cube...), cubeWant, "uint16"},
		{"/hsi/cube_be", hdf5.T_STD_U16BE, []uint{3, 2}, be16(0, 1, 255, 256, 40000, 65535), []float64{0, 1, 255, 256, 40000, 65535}, "uint16"},
		{"/i16", hdf5.T_STD_I16LE, []uint{4}, le16(0x8000, 0xffff, 0, 0x7fff), []float64{-32768, -1, 0, 32767}, "int16"},
		{"/i32be", hdf5.T_STD_I32BE, []uint{2, 2}, be32(0x80000000, 0xffffffff, 7, 0x7fffffff), []float64{math.MinInt32, -1, 7, math.MaxInt32}, "int32"},
		{"/u32", hdf5.T_STD_U32LE, []uint{3}, le32(0, 1, math.MaxUint32), []float64{0, 1, math.MaxUint32}, "uint32"},
		{"/u64", hdf5.T_STD_U64LE, []uint{2}, le64(1<<63+2048, 3), []float64{1<<63 + 2048, 3}, "uint64"},
		{"/f32be", hdf5.T_IEEE_F32BE, []uint{2}, be32(math.Float32bits(-0.15625), math.Float32bits(3e38)), []float64{-0.15625, float64(float32(3e38))}, "float32"},
		{"/names", str, []uint{2}, []byte("abcdwxyz"), nil, "string"},
	}

	path := filepath.Join(t.TempDir(), "foreign.h5")
	func() {
		lock()
		defer unlock()
		f, err := hdf5.CreateFile(path, hdf5.F_ACC_TRUNC)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		g, err := f.CreateGroup("/hsi")
		if err != nil {
			t.Fatal(err)
		}
		g.Close()
		for _, s := range sets {
			space, err := hdf5.CreateSimpleDataspace(s.shape, nil)
			if err != nil {
				t.Fatal(err)
			}
			ds, err := f.CreateDataset(s.name, s.typ, space)
			space.Close()
			if err != nil {
				t.Fatal(err)
			}
			// The binding writes with the file type as the memory type.
			if err := ds.Write(&s.raw); err != nil {
				t.Fatal(err)
			}
			ds.Close()
		}

		root, err := f.OpenGroup("/")
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		scalar, err := hdf5.CreateDataspace(hdf5.S_SCALAR)
		if err != nil {
			t.Fatal(err)
		}
		defer scalar.Close()
		fixed, err := hdf5.T_C_S1.Copy()
		if err != nil {
			t.Fatal(err)
		}
		defer fixed.Close()
		if err := fixed.SetSize(8); err != nil {
			t.Fatal(err)
		}
		attrs := []struct {
			name string
			typ  *hdf5.Datatype
			data any // pointer to an array, as the binding requires
		}{
			{"short", fixed, &[8]byte{'a', 'b', 'c'}},
			{"full", fixed, &[8]byte{'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}},
			{"n32", hdf5.T_NATIVE_INT32, &[1]int32{-7}},
			{"big", hdf5.T_NATIVE_UINT64, &[1]uint64{1 << 63}},
			{"u16s", hdf5.T_NATIVE_UINT16, &[1]uint16{65535}},
		}
		for _, a := range attrs {
			at, err := root.CreateAttribute(a.name, a.typ, scalar)
			if err != nil {
				t.Fatal(err)
			}
			if err := at.Write(a.data, a.typ); err != nil {
				t.Fatal(err)
			}
			at.Close()
		}
	}()

	infos, err := Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, s := range sets {
		i := slices.IndexFunc(infos, func(d DatasetInfo) bool { return d.Name == s.name })
		if i < 0 {
			t.Errorf("Inspect does not list %s", s.name)
			continue
		}
		shape := make([]int, len(s.shape))
		for k, n := range s.shape {
			shape[k] = int(n)
		}
		if infos[i].Dtype != s.dtype || !slices.Equal(infos[i].Shape, shape) {
			t.Errorf("%s: listed as %s %v, want %s %v", s.name, infos[i].Dtype, infos[i].Shape, s.dtype, shape)
		}
		got, gotShape, err := f.ReadFloat64(s.name)
		if s.want == nil {
			if err == nil || !strings.Contains(err.Error(), s.dtype) {
				t.Errorf("ReadFloat64(%s) of %s: error %v, want one naming the dtype", s.name, s.dtype, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ReadFloat64(%s): %v", s.name, err)
			continue
		}
		// Exact: every value above is representable as a float64.
		if !slices.Equal(got, s.want) || !slices.Equal(gotShape, shape) {
			t.Errorf("ReadFloat64(%s) = %v %v, want %v %v", s.name, got, gotShape, s.want, shape)
		}
	}

	for name, want := range map[string]string{"short": "abc", "full": "abcdefgh"} {
		if got, err := f.AttrString("/", name); err != nil || got != want {
			t.Errorf("fixed-length string %s = %q, %v; want %q", name, got, err, want)
		}
	}
	if v, err := f.AttrInt64("/", "n32"); err != nil || v != -7 {
		t.Errorf("int32 attribute as int64 = %v, %v", v, err)
	}
	if v, err := f.AttrFloat64("/", "n32"); err != nil || v != -7 {
		t.Errorf("int32 attribute as float64 = %v, %v", v, err)
	}
	if v, err := f.AttrInt64("/", "u16s"); err != nil || v != 65535 {
		t.Errorf("uint16 attribute as int64 = %v, %v", v, err)
	}
	if v, err := f.AttrFloat64("/", "big"); err != nil || v != 1<<63 {
		t.Errorf("uint64 attribute as float64 = %v, %v", v, err)
	}
	if _, err := f.AttrInt64("/", "big"); err == nil || !strings.Contains(err.Error(), "overflows") {
		t.Errorf("uint64 2⁶³ as int64: error %v, want overflow", err)
	}
}
