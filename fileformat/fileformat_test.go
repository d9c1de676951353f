package fileformat

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"eddy/hdf5io"
	"eddy/hyperspectral/matfile"
)

// Helper modes that misbehave, for the tests of the caller's side. They run
// in the test binary started again by inspectHDF5 with helperMode changed.
func init() {
	switch os.Getenv(helperEnv) {
	case "test-kill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	case "test-abort":
		syscall.Kill(os.Getpid(), syscall.SIGABRT)
	case "test-hang":
		time.Sleep(time.Hour)
	case "test-garbage":
		fmt.Println("this is not JSON")
		os.Exit(0)
	}
}

// matVar is a variable for writeMAT.
type matVar struct {
	name  string
	class matfile.Class
	dims  []int32
	typ   uint32 // miDOUBLE (9), miSINGLE (7), miUINT16 (4), miUTF8 (16)
	data  []byte
}

// matFile writes a little-endian level-5 MAT-file from the format
// description, each variable compressed if compress is set.
func matFile(compress bool, vars ...matVar) []byte {
	le := binary.LittleEndian
	text := []byte("MATLAB 5.0 MAT-file, written by the fileformat tests")
	head := make([]byte, 128)
	copy(head, bytes.Repeat([]byte{' '}, 116))
	copy(head, text)
	le.PutUint16(head[124:], 0x0100)
	copy(head[126:], "IM")
	element := func(typ uint32, data []byte) []byte {
		out := le.AppendUint32(nil, typ)
		out = le.AppendUint32(out, uint32(len(data)))
		out = append(out, data...)
		for len(out)%8 != 0 {
			out = append(out, 0)
		}
		return out
	}
	out := head
	for _, v := range vars {
		body := element(6, le.AppendUint32(le.AppendUint32(nil, uint32(v.class)), 0))
		var dims []byte
		for _, d := range v.dims {
			dims = le.AppendUint32(dims, uint32(d))
		}
		body = append(body, element(5, dims)...)
		body = append(body, element(1, []byte(v.name))...)
		body = append(body, element(v.typ, v.data)...)
		m := append(le.AppendUint32(le.AppendUint32(nil, 14), uint32(len(body))), body...)
		if !compress {
			out = append(out, m...)
			continue
		}
		var z bytes.Buffer
		w := zlib.NewWriter(&z)
		w.Write(m)
		w.Close()
		out = le.AppendUint32(out, 15)
		out = le.AppendUint32(out, uint32(z.Len()))
		out = append(out, z.Bytes()...)
	}
	return out
}

func doubles(x ...float64) []byte {
	var b []byte
	for _, v := range x {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// sampleMAT holds a double, a single, a uint16 and a char variable.
func sampleMAT(compress bool) []byte {
	return matFile(compress,
		matVar{"b", matfile.ClassUint16, []int32{2, 3}, 4, make([]byte, 12)},
		matVar{"a", matfile.ClassDouble, []int32{1, 2}, 9, doubles(1, 2)},
		matVar{"txt", matfile.ClassChar, []int32{1, 2}, 16, []byte("ok")},
		matVar{"Y", matfile.ClassSingle, []int32{3, 1, 2}, 7, make([]byte, 24)},
	)
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeHDF5(t *testing.T) (string, []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sample.h5")
	w, err := hdf5io.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFloat64("/cube/Y", make([]float64, 64*64), []int{64, 64}, "band,pixel", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteUint8("mask", []uint8{1, 0, 1}, []int{3}, "pixel", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, b
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		head string
		want Format
	}{
		{"\x89HDF\r\n\x1a\n\x00\x00", HDF5},
		{"\x89HDF\r\n\x1a", Unknown},
		{"MATLAB 5.0 MAT-file, Platform: GLNXA64", MAT},
		{"MATLAB 7.3 MAT-file, Platform: GLNXA64", Unknown},
		{"MATLAB 5.0", Unknown},
		{"", Unknown},
		{"ENVI\ndescription", Unknown},
	} {
		if got := Sniff([]byte(c.head)); got != c.want {
			t.Errorf("Sniff(%q) = %q, want %q", c.head, got, c.want)
		}
	}
	p := writeFile(t, "x.mat", sampleMAT(true))
	if f, err := SniffFile(p); err != nil || f != MAT {
		t.Errorf("SniffFile: %q, %v", f, err)
	}
	if _, err := SniffFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("SniffFile of a missing file: no error")
	}
}

// A MAT-file lists its numeric variables by name, with MATLAB's dimensions.
func TestInspectMAT(t *testing.T) {
	want := []Dataset{
		{"Y", []int{3, 1, 2}, "float32"},
		{"a", []int{1, 2}, "float64"},
		{"b", []int{2, 3}, "uint16"},
	}
	for _, compress := range []bool{false, true} {
		p := writeFile(t, "x.mat", sampleMAT(compress))
		f, ds, err := Inspect(context.Background(), p, Limits{})
		if err != nil || f != MAT || !slices.EqualFunc(ds, want, func(a, b Dataset) bool {
			return a.Name == b.Name && a.Dtype == b.Dtype && slices.Equal(a.Shape, b.Shape)
		}) {
			t.Errorf("compress=%v: %q %v %v, want %v", compress, f, ds, err, want)
		}
	}
}

// checkRefused checks that err is an *Error of the given kind whose message
// shows nothing of the server: no directory of the test, no library text.
func checkRefused(t *testing.T, name string, err error, kind error, dir string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, kind) {
		t.Fatalf("%s: %v (%T), want an *Error of kind %v", name, err, err, kind)
	}
	for _, leak := range []string{dir, "/tmp", ".part", "libhdf5", "hdf5io", "H5"} {
		if strings.Contains(e.Error(), leak) {
			t.Errorf("%s: message %q shows %q", name, e.Error(), leak)
		}
	}
	return e
}

func TestInspectRefusesMAT(t *testing.T) {
	le := binary.LittleEndian
	// A compressed element whose matrix declares 3 GiB of doubles.
	bombHead := matFile(false, matVar{"bomb", matfile.ClassDouble, []int32{65536, 6144}, 9, nil})[128:]
	le.PutUint32(bombHead[len(bombHead)-4:], 3<<30)
	le.PutUint32(bombHead[4:8], uint32(len(bombHead)-8+3<<30))
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(bombHead)
	w.Write(make([]byte, 1<<20))
	w.Close()
	bomb := append(matFile(false), le.AppendUint32(le.AppendUint32(nil, 15), uint32(z.Len()))...)
	bomb = append(bomb, z.Bytes()...)
	sample := sampleMAT(true)

	for _, c := range []struct {
		name string
		data []byte
		lim  Limits
		kind error
	}{
		{"bomb", bomb, Limits{}, ErrTooLarge},
		{"over the limit", sample, Limits{MaxInflated: 100}, ErrTooLarge},
		{"truncated", sample[:200], Limits{}, ErrMalformed},
		{"no numeric variable", matFile(true, matVar{"txt", matfile.ClassChar, []int32{1, 2}, 16, []byte("ok")}), Limits{}, ErrMalformed},
		{"header only", sample[:128], Limits{}, ErrMalformed},
		{"unrecognised", []byte("name,value\nx,1\n"), Limits{}, ErrUnrecognised},
		{"empty", nil, Limits{}, ErrUnrecognised},
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, "upload.part")
		os.WriteFile(p, c.data, 0o644)
		_, _, err := Inspect(context.Background(), p, c.lim)
		checkRefused(t, c.name, err, c.kind, dir)
	}
}

func TestInspectHDF5(t *testing.T) {
	p, data := writeHDF5(t)
	f, ds, err := Inspect(context.Background(), p, Limits{})
	want := []Dataset{{"/cube/Y", []int{64, 64}, "float64"}, {"/mask", []int{3}, "uint8"}}
	if err != nil || f != HDF5 || !slices.EqualFunc(ds, want, func(a, b Dataset) bool {
		return a.Name == b.Name && a.Dtype == b.Dtype && slices.Equal(a.Shape, b.Shape)
	}) {
		t.Fatalf("%q %v %v, want %v", f, ds, err, want)
	}

	garbage := append([]byte("\x89HDF\r\n\x1a\n"), bytes.Repeat([]byte("\x01\xff\x13\x37garbage"), 512)...)
	for name, b := range map[string][]byte{
		"truncated":   data[:len(data)/2],
		"signature":   data[:8],
		"garbage":     garbage,
		"zero tail":   append(slices.Clone(data[:512]), make([]byte, 4096)...),
		"byte flips":  flip(data, 7),
		"superblock0": flip(data[:len(data)/4], 3),
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "upload.part")
		os.WriteFile(path, b, 0o644)
		_, _, err := Inspect(context.Background(), path, Limits{})
		if err == nil {
			continue // a flip that libhdf5 does not notice
		}
		e := checkRefused(t, name, err, ErrMalformed, dir)
		t.Logf("%s: %s (cause: %v)", name, e.Msg, e.Cause)
		if e.Msg != msgHDF5Unreadable && e.Msg != msgHDF5Crashed {
			t.Errorf("%s: message %q", name, e.Msg)
		}
		if e.Cause == nil {
			t.Errorf("%s: no cause for the log", name)
		}
	}
}

// flip returns a copy of b with every k-th byte after the signature inverted.
func flip(b []byte, k int) []byte {
	out := slices.Clone(b)
	for i := 8; i < len(out); i += k {
		out[i] ^= 0xff
	}
	return out
}

// A helper that dies, hangs or talks nonsense gives a clear refusal or a
// server-side error, never a crash or a stall of the caller.
func TestHelperFailures(t *testing.T) {
	p, _ := writeHDF5(t)
	dir := filepath.Dir(p)
	run := func(mode string, lim Limits) error {
		t.Helper()
		helperMode = mode
		defer func() { helperMode = helperInspectHDF5 }()
		_, _, err := Inspect(context.Background(), p, lim)
		return err
	}
	for _, mode := range []string{"test-kill", "test-abort"} {
		e := checkRefused(t, mode, run(mode, Limits{}), ErrMalformed, dir)
		if e.Msg != msgHDF5Crashed {
			t.Errorf("%s: %q", mode, e.Msg)
		}
	}
	e := checkRefused(t, "test-hang", run("test-hang", Limits{HDF5Timeout: 200 * time.Millisecond}), ErrMalformed, dir)
	if e.Msg != msgHDF5Crashed || !strings.Contains(e.Cause.Error(), "timeout") {
		t.Errorf("hang: %q, cause %v", e.Msg, e.Cause)
	}
	err := run("test-garbage", Limits{})
	var fe *Error
	if err == nil || errors.As(err, &fe) {
		t.Errorf("garbage reply: %v, want an error of the server's side", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Inspect(ctx, p, Limits{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// FuzzSniffInspect checks that Sniff and the MAT inspection never panic,
// refuse only with an *Error, honour the inflate bound, and list what a full
// read of the file finds. The HDF5 helper is not fuzzed (a process per
// input); Sniff is, on every input.
func FuzzSniffInspect(f *testing.F) {
	f.Add(sampleMAT(true))
	f.Add(sampleMAT(false))
	f.Add(sampleMAT(true)[:300])
	f.Add([]byte("\x89HDF\r\n\x1a\ngarbage"))
	f.Add([]byte("MATLAB 5.0 MAT-file"))
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(make([]byte, 1<<16))
	w.Close()
	zeros := matFile(false)
	zeros = binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(zeros, 15), uint32(z.Len()))
	f.Add(append(zeros, z.Bytes()...))
	lim := Limits{MaxInflated: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		format := Sniff(data)
		if (format == HDF5) != bytes.HasPrefix(data, hdf5Signature) || (format == MAT) != bytes.HasPrefix(data, matSignature) {
			t.Fatalf("Sniff = %q", format)
		}
		if format != MAT {
			return
		}
		ds, err := inspectMAT(context.Background(), bytes.NewReader(data), lim)
		vars, rerr := matfile.ReadWithOptions(bytes.NewReader(data), matfile.Options{MaxInflated: lim.MaxInflated})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if rerr == nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("refused %v, but Read accepts the file", err)
			}
			return
		}
		if rerr != nil {
			t.Fatalf("Inspect lists %v, Read fails: %v", ds, rerr)
		}
		numeric := 0
		for _, v := range vars {
			if v.Class.Numeric() {
				numeric++
			}
		}
		if numeric != len(ds) {
			t.Fatalf("Inspect lists %d variables, Read finds %d numeric ones", len(ds), numeric)
		}
		for i, d := range ds {
			v := vars[d.Name]
			if v == nil || !v.Class.Numeric() || !slices.Equal(v.Dims, d.Shape) || i > 0 && ds[i-1].Name >= d.Name {
				t.Fatalf("dataset %+v, variable %+v", d, v)
			}
		}
	})
}
