package matfile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"eddy/hyperspectral/internal/shipped"
)

// fuzzOptions bound the fuzz targets to 1 MiB of inflated data per input.
var fuzzOptions = Options{MaxInflated: 1 << 20}

// checkScanAgrees checks that Scan of data with opts succeeds where
// ReadWithOptions(data, opts) gave vars with a nil error, fails with the same
// error where it failed, and lists the same names, classes, dimensions and
// flags.
func checkScanAgrees(t *testing.T, data []byte, opts Options, vars map[string]*Var, readErr error) {
	t.Helper()
	hs, err := Scan(bytes.NewReader(data), opts)
	if readErr != nil || err != nil {
		if readErr == nil || err == nil || readErr.Error() != err.Error() {
			t.Fatalf("Read: %v; Scan: %v", readErr, err)
		}
		return
	}
	if len(hs) != len(vars) {
		t.Fatalf("Scan lists %d variables, Read %d", len(hs), len(vars))
	}
	for _, h := range hs {
		v := vars[h.Name]
		if v == nil {
			t.Fatalf("Scan lists %q, Read does not", h.Name)
		}
		if got := v.Header(); got.Class != h.Class || !slices.Equal(got.Dims, h.Dims) || got.Complex != h.Complex || got.Logical != h.Logical {
			t.Fatalf("%s: Scan %+v, Read %+v", h.Name, h, got)
		}
	}
}

// zlibBytes compresses b.
func zlibBytes(b []byte) []byte {
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	w.Write(b)
	w.Close()
	return z.Bytes()
}

// bombHeader returns the start of a miMATRIX element holding a double array
// of the given dimensions: its tag and header declare the whole array, but
// the data that follow are left to the caller.
func (e encoder) bombHeader(name string, dims ...int32) []byte {
	n := int64(8)
	for _, d := range dims {
		n *= int64(d)
	}
	full := e.matrix(testVar{name: name, class: ClassDouble, dims: dims, typ: miDOUBLE})
	// full ends with the real part's empty tag; declare n bytes there and in
	// the matrix tag.
	e.order.PutUint32(full[len(full)-4:], uint32(n))
	e.order.PutUint32(full[4:8], uint32(int64(len(full)-8)+n))
	return full
}

// compressedFile returns a MAT-file whose elements are the given zlib streams.
func (e encoder) compressedFile(streams ...[]byte) []byte {
	out := e.file()
	for _, z := range streams {
		out = append(out, e.tag(miCOMPRESSED, len(z))...)
		out = append(out, z...)
	}
	return out
}

// scanInflated runs Scan's decoder on data and returns the number of bytes
// it inflated and its error.
func scanInflated(data []byte, opts Options) (int64, error) {
	d := newDecoder(bytes.NewReader(data), opts, false)
	err := d.file(func(*Var) {})
	return d.inflated(), err
}

// A variable whose header declares more than is left of the bound is refused
// from its header: after a few KiB, not after inflating its data. The
// compressed stream holds 64 MiB of zeros after a header declaring 3 GiB.
func TestBombRefusedFromItsHeader(t *testing.T) {
	enc := encoder{order: binary.LittleEndian}
	payload := append(enc.bombHeader("bomb", 65536, 6144), make([]byte, 64<<20)...)
	file := enc.compressedFile(zlibBytes(payload))
	for _, opts := range []Options{{}, {MaxInflated: 1 << 20}} {
		n, err := scanInflated(file, opts)
		var fe *FormatError
		if !errors.Is(err, ErrTooLarge) || !errors.As(err, &fe) || fe.Offset != headerLen {
			t.Fatalf("bound %d: %v, want a *FormatError at offset %d wrapping ErrTooLarge", opts.MaxInflated, err, headerLen)
		}
		if n > 64<<10 {
			t.Errorf("bound %d: inflated %d bytes before refusing", opts.MaxInflated, n)
		}
		if _, err := ReadWithOptions(bytes.NewReader(file), opts); !errors.Is(err, ErrTooLarge) {
			t.Errorf("Read, bound %d: %v", opts.MaxInflated, err)
		}
	}
}

// A compressed stream of zeros has no valid element tag: it is malformed,
// and refused at its first bytes.
func TestZeroStreamRefusedAtOnce(t *testing.T) {
	enc := encoder{order: binary.LittleEndian}
	file := enc.compressedFile(zlibBytes(make([]byte, 64<<20)))
	n, err := scanInflated(file, Options{})
	var fe *FormatError
	if !errors.As(err, &fe) || errors.Is(err, ErrTooLarge) {
		t.Fatalf("%v, want a *FormatError for a malformed file", err)
	}
	if n > 64<<10 {
		t.Errorf("inflated %d bytes before refusing", n)
	}
}

// The bound is per file: elements that each fit under it are refused when
// together they do not. Read and Scan agree on where the bound lies.
func TestInflateBoundIsPerFile(t *testing.T) {
	enc := encoder{order: binary.BigEndian}
	var streams [][]byte
	per := 0
	for i := range 4 {
		m := enc.matrix(testVar{name: fmt.Sprintf("v%d", i), class: ClassDouble, dims: []int32{128, 128}, typ: miDOUBLE, re: make([]float64, 128*128)})
		per = len(m)
		streams = append(streams, zlibBytes(m))
	}
	file := enc.compressedFile(streams...)
	for _, c := range []struct {
		bound int64
		ok    bool
	}{{int64(4 * per), true}, {int64(4*per - 1), false}, {int64(per), false}, {int64(2*per + per/2), false}} {
		opts := Options{MaxInflated: c.bound}
		vars, err := ReadWithOptions(bytes.NewReader(file), opts)
		hs, serr := Scan(bytes.NewReader(file), opts)
		if c.ok {
			if err != nil || serr != nil || len(vars) != 4 || len(hs) != 4 {
				t.Errorf("bound %d = the inflated size: Read %d variables, %v; Scan %d, %v", c.bound, len(vars), err, len(hs), serr)
			}
			continue
		}
		if !errors.Is(err, ErrTooLarge) || !errors.Is(serr, ErrTooLarge) {
			t.Errorf("bound %d for 4×%d bytes: Read %v; Scan %v", c.bound, per, err, serr)
		}
		if n, _ := scanInflated(file, opts); n > c.bound {
			t.Errorf("bound %d: inflated %d", c.bound, n)
		}
	}
}

// Data after the element inside a compressed stream count against the bound
// too: a small variable followed by megabytes of zeros is refused once the
// zeros pass the bound.
func TestTrailingInflatedDataCount(t *testing.T) {
	enc := encoder{order: binary.LittleEndian}
	m := enc.matrix(testVar{name: "x", class: ClassDouble, dims: []int32{1, 1}, typ: miDOUBLE, re: []float64{1}})
	file := enc.compressedFile(zlibBytes(append(m, make([]byte, 8<<20)...)))
	n, err := scanInflated(file, Options{MaxInflated: 1 << 20})
	if !errors.Is(err, ErrTooLarge) || n != 1<<20 {
		t.Fatalf("inflated %d, %v; want ErrTooLarge after exactly 1 MiB", n, err)
	}
	if vars, err := ReadWithOptions(bytes.NewReader(file), Options{MaxInflated: 16 << 20}); err != nil || vars["x"].Real[0] != 1 {
		t.Fatalf("within the bound: %v", err)
	}
}

// allocated returns the bytes allocated by f.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Scan holds no data: listing a file with a compressed 32 MiB variable and
// an uncompressed 16 MiB one allocates a few buffers, not the variables.
func TestScanMemory(t *testing.T) {
	enc := encoder{order: binary.LittleEndian}
	big := enc.matrix(testVar{name: "Y", class: ClassDouble, dims: []int32{2048, 2048}, typ: miDOUBLE, re: make([]float64, 2048*2048)})
	file := enc.compressedFile(zlibBytes(big))
	file = append(file, encoder{order: binary.LittleEndian}.matrix(testVar{name: "Z", class: ClassSingle, dims: []int32{2048, 2048}, typ: miSINGLE, re: make([]float64, 2048*2048)})...)
	var hs []Header
	var err error
	n := allocated(func() { hs, err = Scan(bytes.NewReader(file), Options{}) })
	if err != nil || len(hs) != 2 || !slices.Equal(hs[0].Dims, []int{2048, 2048}) || hs[1].Class != ClassSingle {
		t.Fatalf("Scan: %+v, %v", hs, err)
	}
	if n > 1<<20 {
		t.Errorf("Scan of a 48 MiB file allocated %d bytes", n)
	}
}

// A declared size that the data do not back allocates nothing: an
// uncompressed element that claims 4 GiB in a file of a few hundred bytes,
// and a compressed one whose header declares 1.5 GiB of uint8 values (12 GiB
// as float64) within the bound but whose stream ends early.
func TestReadAllocatesWhatTheDataHold(t *testing.T) {
	enc := encoder{order: binary.LittleEndian}
	claims := enc.file(testVar{name: "u", class: ClassDouble, dims: []int32{1, 1}, typ: miDOUBLE, re: []float64{1}})
	binary.LittleEndian.PutUint32(claims[headerLen+4:], 0xfffffff0)
	head := enc.matrix(testVar{name: "b", class: ClassUint8, dims: []int32{49152, 32768}, typ: miUINT8})
	binary.LittleEndian.PutUint32(head[len(head)-4:], 49152*32768)
	binary.LittleEndian.PutUint32(head[4:8], uint32(len(head)-8+49152*32768))
	short := enc.compressedFile(zlibBytes(append(head, make([]byte, 1<<20)...)))
	for name, file := range map[string][]byte{"uncompressed claim": claims, "short compressed stream": short} {
		var err error
		n := allocated(func() { _, err = ReadWithOptions(bytes.NewReader(file), Options{MaxInflated: 2 << 30}) })
		var fe *FormatError
		if !errors.As(err, &fe) || errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want a *FormatError for a truncated file", name, err)
		}
		if n > 32<<20 {
			t.Errorf("%s: allocated %d bytes", name, n)
		}
	}
}

type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// Errors of the input are returned as they are, also from inside a
// compressed element, and not mistaken for malformed data.
func TestInputErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	enc := encoder{order: binary.LittleEndian, compress: true}
	file := enc.file(testVar{name: "Y", class: ClassDouble, dims: []int32{64, 64}, typ: miUINT16, re: make([]float64, 64*64)})
	for _, n := range []int{10, headerLen + 4, len(file) - 10} {
		_, err := Read(&failingReader{bytes.NewReader(file[:n]), boom})
		var fe *FormatError
		if !errors.Is(err, boom) || errors.As(err, &fe) {
			t.Errorf("failing after %d bytes: %v", n, err)
		}
		if _, err := Scan(&failingReader{bytes.NewReader(file[:n]), boom}, Options{}); !errors.Is(err, boom) {
			t.Errorf("Scan failing after %d bytes: %v", n, err)
		}
	}
}

// Scan lists the shipped scenes as Read reads them.
func TestScanShippedFiles(t *testing.T) {
	dir, err := shipped.UnmixingDir()
	if err != nil {
		t.Skipf("shipped unmixing data not available: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.mat"))
	if len(files) == 0 {
		t.Skipf("no MAT-files in the shipped unmixing data")
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		vars, err := Read(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkScanAgrees(t, data, Options{}, vars, err)
		if hs, _ := Scan(bytes.NewReader(data), Options{}); len(hs) == 0 {
			t.Errorf("%s: no variables", name)
		}
	}
}

// FuzzScan checks that no input makes Scan panic or allocate more than a few
// MiB, that it inflates no more than the bound, and that what it lists
// agrees with Read.
func FuzzScan(f *testing.F) {
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, compress := range []bool{false, true} {
			enc := encoder{order: order, compress: compress, smallNames: true}
			f.Add(enc.file(
				testVar{name: "Y", class: ClassDouble, dims: []int32{2, 2}, typ: miUINT8, re: []float64{1, 2, 3, 4}},
				testVar{name: "mask", class: ClassUint8, logical: true, dims: []int32{1, 2}, typ: miUINT8, re: []float64{1, 0}},
				testVar{name: "c", class: ClassChar, dims: []int32{1, 2}, typ: miUTF8, re: []float64{'o', 'k'}},
			))
		}
		enc := encoder{order: order}
		f.Add(enc.compressedFile(zlibBytes(append(enc.bombHeader("bomb", 65536, 6144), make([]byte, 4096)...))))
		f.Add(enc.compressedFile(zlibBytes(make([]byte, 4096))))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var n int64
		var err error
		alloc := allocatedNoGC(func() { n, err = scanInflated(data, fuzzOptions) })
		if n > fuzzOptions.MaxInflated {
			t.Fatalf("inflated %d bytes with a bound of %d", n, fuzzOptions.MaxInflated)
		}
		// A few buffers, and small values (a Var, a Header, a section) per
		// element: nothing in proportion to inflated or declared sizes.
		if alloc > 4<<20+64*uint64(len(data)) {
			t.Fatalf("Scan of %d bytes allocated %d bytes", len(data), alloc)
		}
		var fe *FormatError
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		vars, err := ReadWithOptions(bytes.NewReader(data), fuzzOptions)
		checkScanAgrees(t, data, fuzzOptions, vars, err)
	})
}

// allocatedNoGC returns the bytes allocated by f, without forcing a
// collection first (fast enough for a fuzz target).
func allocatedNoGC(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
