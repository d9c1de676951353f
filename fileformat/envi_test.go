package fileformat

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// enviHeader is a header for a BIP float32 little-endian cube.
func enviHeader(bands, lines, samples int, extra string) string {
	var wl []string
	for l := range bands {
		wl = append(wl, fmt.Sprint(500+l))
	}
	return fmt.Sprintf("ENVI\nsamples = %d\nlines = %d\nbands = %d\nheader offset = 0\ndata type = 4\ninterleave = bip\n"+
		"byte order = 0\nwavelength units = nm\nwavelength = {%s}\n%s", samples, lines, bands, strings.Join(wl, ", "), extra)
}

// enviData is the BIP float32 little-endian data of the cube whose sample
// at band l, line r, sample c is 100l + 10r + c.
func enviData(bands, lines, samples int) []byte {
	var b bytes.Buffer
	for r := range lines {
		for c := range samples {
			for l := range bands {
				binary.Write(&b, binary.LittleEndian, float32(100*l+10*r+c))
			}
		}
	}
	return b.Bytes()
}

type tarEntry struct {
	name string
	body []byte
	typ  byte
}

// writeTar writes the entries to a new tar file and returns its path.
func writeTar(t *testing.T, entries ...tarEntry) string {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: e.typ, Format: tar.FormatPAX}
		if e.typ == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeSymlink || h.Typeflag == tar.TypeDir {
			h.Size, h.Linkname = 0, "elsewhere"
		}
		if err := w.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			w.Write(e.body)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cube.tar")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// An ENVI tar is recognised and listed as its cube (lines, samples, bands)
// and wavelengths, in either order of header and data, and reads back
// exactly in the bands×pixels order of package hyperspectral.
func TestInspectAndReadENVI(t *testing.T) {
	const bands, lines, samples = 3, 4, 2
	hdr, data := []byte(enviHeader(bands, lines, samples, "")), enviData(bands, lines, samples)
	for _, order := range [][]tarEntry{
		{{name: "scene/", typ: tar.TypeDir}, {name: "scene/x.hdr", body: hdr}, {name: "scene/x.img", body: data}},
		{{name: "x", body: data}, {name: "X.HDR", body: hdr}},
	} {
		p := writeTar(t, order...)
		format, ds, err := Inspect(context.Background(), p, Limits{})
		if err != nil || format != ENVI {
			t.Fatalf("Inspect: %q, %v", format, err)
		}
		want := []Dataset{{ENVICube, []int{lines, samples, bands}, "float32"}, {ENVIWavelengths, []int{bands}, "float64"}}
		if len(ds) != 2 || ds[0].Name != want[0].Name || !slices.Equal(ds[0].Shape, want[0].Shape) || ds[0].Dtype != "float32" ||
			ds[1].Name != want[1].Name || !slices.Equal(ds[1].Shape, want[1].Shape) {
			t.Errorf("datasets %+v, want %+v", ds, want)
		}
		h, y, err := ReadENVI(p, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(h.Wavelengths, []float64{500, 501, 502}) || h.WavelengthUnits != "nm" {
			t.Errorf("wavelengths %v %q", h.Wavelengths, h.WavelengthUnits)
		}
		for l := range bands {
			for r := range lines {
				for c := range samples {
					if got := y[l*lines*samples+r+c*lines]; got != float64(100*l+10*r+c) {
						t.Fatalf("band %d line %d sample %d: %v", l, r, c, got)
					}
				}
			}
		}
		if _, _, err := ReadENVI(p, bands*lines*samples-1); !errors.Is(err, ErrMalformed) {
			t.Errorf("a cube above the sample bound: %v", err)
		}
	}
}

// Tars that are not one ENVI cube, and headers that contradict their data,
// are refused at inspection with a message naming the problem.
func TestInspectENVIRefusals(t *testing.T) {
	hdr, data := enviHeader(3, 4, 2, ""), enviData(3, 4, 2)
	for _, c := range []struct {
		name    string
		entries []tarEntry
		msg     string
	}{
		{"no header", []tarEntry{{name: "x.img", body: data}}, "no ENVI header"},
		{"no data", []tarEntry{{name: "x.hdr", body: []byte(hdr)}}, "no data file"},
		{"two data files", []tarEntry{{name: "x.hdr", body: []byte(hdr)}, {name: "a", body: data}, {name: "b", body: data}}, "two data files"},
		{"two headers", []tarEntry{{name: "x.hdr", body: []byte(hdr)}, {name: "y.hdr", body: []byte(hdr)}, {name: "a", body: data}}, "two .hdr"},
		{"a link", []tarEntry{{name: "x.hdr", body: []byte(hdr)}, {name: "x.img", typ: tar.TypeSymlink}}, "not a regular file"},
		{"short data", []tarEntry{{name: "x.hdr", body: []byte(hdr)}, {name: "x.img", body: data[:len(data)-4]}}, "needs 96"},
		{"long data", []tarEntry{{name: "x.hdr", body: []byte(hdr)}, {name: "x.img", body: append(data, 0)}}, "needs 96"},
		{"bands", []tarEntry{{name: "x.hdr", body: []byte(strings.Replace(hdr, "bands = 3", "bands = 4", 1))}, {name: "x.img", body: data}}, "wavelength"},
		{"interleave", []tarEntry{{name: "x.hdr", body: []byte(strings.Replace(hdr, "bip", "bsx", 1))}, {name: "x.img", body: data}}, "interleave"},
		{"data type", []tarEntry{{name: "x.hdr", body: []byte(strings.Replace(hdr, "data type = 4", "data type = 6", 1))}, {name: "x.img", body: data}}, "data type"},
		{"byte order", []tarEntry{{name: "x.hdr", body: []byte(strings.Replace(hdr, "byte order = 0", "byte order = 3", 1))}, {name: "x.img", body: data}}, "byte order"},
		{"wavelengths", []tarEntry{{name: "x.hdr", body: []byte(strings.Replace(hdr, "501", "inf", 1))}, {name: "x.img", body: data}}, "wavelength"},
	} {
		_, _, err := Inspect(context.Background(), writeTar(t, c.entries...), Limits{})
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrMalformed) || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%s: %v, want a refusal mentioning %q", c.name, err, c.msg)
		}
	}
	// A tar whose header block is damaged after the magic.
	p := writeTar(t, tarEntry{name: "x.hdr", body: []byte(hdr)}, tarEntry{name: "x.img", body: data})
	b, _ := os.ReadFile(p)
	b[148] ^= 0xff // checksum field
	os.WriteFile(p, b, 0o644)
	if _, _, err := Inspect(context.Background(), p, Limits{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("damaged tar: %v", err)
	}
}
