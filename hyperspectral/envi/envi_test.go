package envi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// value is the test cube's sample at band l, line r, sample c: distinct for
// every position, exact in every data type used below (≤ 127).
func value(l, r, c int) float64 { return float64(l*30 + r*5 + c) }

// writeCube encodes the test cube (bands×lines×samples) as an ENVI header and
// data file, in the given interleave, data type and byte order, with offset
// bytes of padding before the data. It is the test's own encoder, written
// from the format's definition (package comment), not from ReadCube.
func writeCube(bands, lines, samples int, il Interleave, dataType int, order binary.ByteOrder, offset int) (hdr string, data []byte) {
	bo := 0
	if order == binary.BigEndian {
		bo = 1
	}
	var wl []string
	for l := range bands {
		wl = append(wl, fmt.Sprintf("%.1f", 400+10*float64(l)))
	}
	hdr = fmt.Sprintf("ENVI\ndescription = {test cube,\n  two lines}\nsamples = %d\nlines   = %d\nbands = %d\n"+
		"header offset = %d\nfile type = ENVI Standard\ndata type = %d\nInterleave = %s\nbyte order = %d\n"+
		"wavelength units = Nanometers\nwavelength = {\n %s}\n", samples, lines, bands, offset, dataType, strings.ToUpper(string(il)), bo, strings.Join(wl, ",\n "))
	var buf bytes.Buffer
	buf.Write(make([]byte, offset))
	put := func(v float64) {
		switch dataType {
		case 1:
			buf.WriteByte(byte(v))
		case 2:
			binary.Write(&buf, order, int16(v))
		case 3:
			binary.Write(&buf, order, int32(v))
		case 4:
			binary.Write(&buf, order, float32(v))
		case 5:
			binary.Write(&buf, order, v)
		case 12:
			binary.Write(&buf, order, uint16(v))
		case 13:
			binary.Write(&buf, order, uint32(v))
		case 14:
			binary.Write(&buf, order, int64(v))
		case 15:
			binary.Write(&buf, order, uint64(v))
		}
	}
	switch il {
	case BSQ:
		for l := range bands {
			for r := range lines {
				for c := range samples {
					put(value(l, r, c))
				}
			}
		}
	case BIL:
		for r := range lines {
			for l := range bands {
				for c := range samples {
					put(value(l, r, c))
				}
			}
		}
	case BIP:
		for r := range lines {
			for c := range samples {
				for l := range bands {
					put(value(l, r, c))
				}
			}
		}
	}
	return hdr, buf.Bytes()
}

// TestRoundTrip writes a 3-band, 4-line, 5-sample cube in every interleave,
// data type and byte order and reads it back: every sample must be exact and
// in the package's order (band l, pixel r + c·lines); the wavelengths come
// back as written.
func TestRoundTrip(t *testing.T) {
	const bands, lines, samples = 3, 4, 5
	for _, il := range []Interleave{BSQ, BIL, BIP} {
		for dt := range sampleSize {
			for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
				name := fmt.Sprintf("%s/type%d/%v", il, dt, order)
				hdr, data := writeCube(bands, lines, samples, il, dt, order, 7)
				h, err := ParseHeader(strings.NewReader(hdr))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if h.Interleave != il || h.DataType != dt || h.ByteOrder != order || h.HeaderOffset != 7 || h.DataBytes() != int64(len(data)) {
					t.Fatalf("%s: header %+v, data %d bytes", name, h, len(data))
				}
				if len(h.Wavelengths) != bands || h.Wavelengths[2] != 420 || h.WavelengthUnits != "Nanometers" {
					t.Fatalf("%s: wavelengths %v %q", name, h.Wavelengths, h.WavelengthUnits)
				}
				y, err := ReadCube(h, bytes.NewReader(data), 0)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				for l := range bands {
					for r := range lines {
						for c := range samples {
							if got := y[l*lines*samples+r+c*lines]; got != value(l, r, c) {
								t.Fatalf("%s: band %d line %d sample %d = %v, want %v", name, l, r, c, got, value(l, r, c))
							}
						}
					}
				}
			}
		}
	}
}

// TestReadCubeSpansBlocks reads a cube larger than one read block, so that
// the position bookkeeping crosses block boundaries.
func TestReadCubeSpansBlocks(t *testing.T) {
	const bands, lines, samples = 7, 40, 60 // 16800 float64 samples: 2 blocks
	for _, il := range []Interleave{BSQ, BIL, BIP} {
		hdr, data := writeCube(bands, lines, samples, il, 5, binary.LittleEndian, 0)
		h, err := ParseHeader(strings.NewReader(hdr))
		if err != nil {
			t.Fatal(err)
		}
		y, err := ReadCube(h, bytes.NewReader(data), 0)
		if err != nil {
			t.Fatal(err)
		}
		for l := range bands {
			for r := range lines {
				for c := range samples {
					if got := y[l*lines*samples+r+c*lines]; got != value(l, r, c) {
						t.Fatalf("%s: (%d, %d, %d) = %v", il, l, r, c, got)
					}
				}
			}
		}
	}
}

func TestHeaderErrors(t *testing.T) {
	good, _ := writeCube(3, 4, 5, BSQ, 12, binary.LittleEndian, 0)
	replace := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	for _, c := range []struct{ hdr, key string }{
		{"", ""},
		{"NOT ENVI\nsamples = 1\n", ""},
		{replace("samples = 5", "samples = 0"), "samples"},
		{replace("samples = 5", "samples = five"), "samples"},
		{replace("lines   = 4\n", ""), "lines"},
		{replace("bands = 3", "bands = -3"), "bands"},
		{replace("data type = 12", "data type = 6"), "data type"},
		{replace("data type = 12", "data type = 7"), "data type"},
		{replace("Interleave = BSQ", "interleave = bsx"), "interleave"},
		{replace("Interleave = BSQ\n", ""), "interleave"},
		{replace("byte order = 0", "byte order = 2"), "byte order"},
		{replace("byte order = 0\n", ""), "byte order"},
		{replace("header offset = 0", "header offset = -1"), "header offset"},
		{replace("400.0,", ""), "wavelength"},
		{replace("400.0", "NaN"), "wavelength"},
		{replace("400.0", "4x"), "wavelength"},
		{replace("wavelength = {", "wavelength = "), ""},     // the list's lines are not key = value
		{replace("}\n", "\n"), "samples"},                    // the description swallows the keys up to the next "}"
		{replace("}\n", "\n")[:len(good)-12], "description"}, // and without one, it never ends
		{good + "samples = 5\n", "samples"},
		{good + "just words\n", ""},
		{strings.NewReplacer("samples = 5", "samples = 3000000000", "lines   = 4", "lines = 3000000000", "bands = 3", "bands = 3000000000").Replace(good), ""},
	} {
		_, err := ParseHeader(strings.NewReader(c.hdr))
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Key != c.key {
			t.Errorf("header %q: error %v, want a *FormatError at key %q", clip(c.hdr), err, c.key)
		}
	}
	// Single-byte samples need no byte order.
	u8 := strings.Replace(strings.Replace(good, "data type = 12", "data type = 1", 1), "byte order = 0\n", "", 1)
	if _, err := ParseHeader(strings.NewReader(u8)); err != nil {
		t.Errorf("uint8 without byte order: %v", err)
	}
	if _, err := ParseHeader(strings.NewReader("ENVI\n" + strings.Repeat(" ", MaxHeaderBytes))); err == nil {
		t.Errorf("a header beyond MaxHeaderBytes was read")
	}
}

func TestReadCubeErrors(t *testing.T) {
	hdr, data := writeCube(3, 4, 5, BIL, 4, binary.BigEndian, 3)
	h, err := ParseHeader(strings.NewReader(hdr))
	if err != nil {
		t.Fatal(err)
	}
	var fe *FormatError
	for _, n := range []int{0, 2, 3, len(data) - 1} {
		if _, err := ReadCube(h, bytes.NewReader(data[:n]), 0); !errors.As(err, &fe) {
			t.Errorf("data cut to %d bytes: %v, want a *FormatError", n, err)
		}
	}
	if _, err := ReadCube(h, bytes.NewReader(data), 59); !errors.As(err, &fe) {
		t.Errorf("60 samples with a limit of 59: %v", err)
	}
	y, err := ReadCube(h, bytes.NewReader(data), 60)
	if err != nil || len(y) != 60 {
		t.Errorf("60 samples with a limit of 60: %d, %v", len(y), err)
	}
}

// FuzzENVI: no header or data makes ParseHeader or ReadCube panic or give
// anything but a *FormatError, and a cube that reads has the header's size.
func FuzzENVI(f *testing.F) {
	for _, il := range []Interleave{BSQ, BIL, BIP} {
		hdr, data := writeCube(2, 3, 2, il, 2, binary.BigEndian, 1)
		f.Add(hdr, data)
	}
	hdr, data := writeCube(1, 2, 2, BIP, 1, binary.LittleEndian, 0)
	f.Add(hdr, data)
	f.Fuzz(func(t *testing.T, hdr string, data []byte) {
		h, err := ParseHeader(strings.NewReader(hdr))
		var fe *FormatError
		if err != nil {
			if !errors.As(err, &fe) {
				t.Fatalf("ParseHeader: error of type %T: %v", err, err)
			}
			return
		}
		if math.IsNaN(float64(h.DataBytes())) || h.DataBytes() < 0 {
			t.Fatalf("data bytes %d", h.DataBytes())
		}
		y, err := ReadCube(h, bytes.NewReader(data), 1<<16)
		if err != nil {
			if !errors.As(err, &fe) {
				t.Fatalf("ReadCube: error of type %T: %v", err, err)
			}
			return
		}
		if int64(len(y)) != h.Elements() || int64(len(data)) < h.DataBytes() {
			t.Fatalf("read %d samples from %d bytes; header: %d samples, %d bytes", len(y), len(data), h.Elements(), h.DataBytes())
		}
	})
}
