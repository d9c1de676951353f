package fileformat

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"eddy/hyperspectral/envi"
)

// An ENVI upload is an uncompressed tar archive of exactly two regular files:
// a header whose name ends in ".hdr" (any case) and the data file. Directory
// entries are skipped; any other entry (links, devices, a third file) is
// refused. The archive is read twice as a stream, once for the header and
// once for the data, so the two may come in either order.

// maxTarEntries bounds the entries (directories included) of an ENVI tar.
const maxTarEntries = 16

// Names of the arrays InspectENVI lists.
const (
	// ENVICube is the cube: shape (lines, samples, bands), row-major as an
	// image of spectra.
	ENVICube = "cube"
	// ENVIWavelengths are the band centres, shape (bands), when the header
	// gives them.
	ENVIWavelengths = "wavelength"
)

// enviMembers finds the header and data entries of the tar at path.
type enviMembers struct {
	header, data     string
	headerSize, size int64
}

func scanENVITar(path string) (*enviMembers, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fileformat: %w", err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	m := &enviMembers{}
	for i := 0; ; i++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, enviRefused("not a readable tar archive: "+err.Error(), err)
		}
		if i >= maxTarEntries {
			return nil, enviRefused(fmt.Sprintf("the tar holds more than %d entries; an ENVI cube is a header and a data file", maxTarEntries), nil)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		default:
			return nil, enviRefused(fmt.Sprintf("the tar entry %q is not a regular file", clip(h.Name)), nil)
		}
		if strings.HasSuffix(strings.ToLower(h.Name), ".hdr") {
			if m.header != "" {
				return nil, enviRefused("the tar holds two .hdr headers", nil)
			}
			m.header, m.headerSize = h.Name, h.Size
			continue
		}
		if m.data != "" {
			return nil, enviRefused(fmt.Sprintf("the tar holds two data files (%q and %q); an ENVI cube is a header and one data file", clip(m.data), clip(h.Name)), nil)
		}
		m.data, m.size = h.Name, h.Size
	}
	switch {
	case m.header == "":
		return nil, enviRefused("the tar holds no ENVI header (a file name.hdr)", nil)
	case m.data == "":
		return nil, enviRefused("the tar holds an ENVI header but no data file", nil)
	case m.headerSize > envi.MaxHeaderBytes:
		return nil, enviRefused(fmt.Sprintf("the ENVI header is longer than %d bytes", envi.MaxHeaderBytes), nil)
	}
	return m, nil
}

// openMember returns a reader of the named entry of the tar at path, and the
// file to close.
func openMember(path, name string) (io.Reader, *os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("fileformat: %w", err)
	}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			f.Close()
			return nil, nil, enviRefused("not a readable tar archive", err)
		}
		if h.Name == name && h.Typeflag == tar.TypeReg {
			return tr, f, nil
		}
	}
}

// readENVIHeader finds and checks the header of the ENVI tar at path, and
// checks that the data file has exactly the size the header implies.
func readENVIHeader(path string) (*envi.Header, *enviMembers, error) {
	m, err := scanENVITar(path)
	if err != nil {
		return nil, nil, err
	}
	r, f, err := openMember(path, m.header)
	if err != nil {
		return nil, nil, err
	}
	h, err := envi.ParseHeader(r)
	f.Close()
	var fe *envi.FormatError
	switch {
	case errors.As(err, &fe):
		return nil, nil, enviRefused("not a readable ENVI header: "+strings.TrimPrefix(err.Error(), "envi: "), err)
	case err != nil:
		return nil, nil, enviRefused("the ENVI header could not be read", err)
	}
	if m.size != h.DataBytes() {
		return nil, nil, enviRefused(fmt.Sprintf(
			"the data file %q has %d bytes, but the header (%d samples × %d lines × %d bands of %s, header offset %d) needs %d",
			clip(m.data), m.size, h.Samples, h.Lines, h.Bands, h.Dtype(), h.HeaderOffset, h.DataBytes()), nil)
	}
	return h, m, nil
}

// InspectENVI checks the ENVI cube in the tar at path and lists its arrays:
// the cube as ENVICube, shape (lines, samples, bands) with the dtype of the
// header's data type, and the band centres as ENVIWavelengths, shape (bands),
// when the header gives them. It checks what ParseHeader checks (bands,
// interleave, data type, byte order, one wavelength per band) and that the
// data file's size is the header offset plus the samples. A file refused for
// what it holds gives an *Error; reading costs the header and the tar's
// entry headers, not the data.
func InspectENVI(path string) ([]Dataset, error) {
	h, _, err := readENVIHeader(path)
	if err != nil {
		return nil, err
	}
	ds := []Dataset{{Name: ENVICube, Shape: []int{h.Lines, h.Samples, h.Bands}, Dtype: h.Dtype()}}
	if h.Wavelengths != nil {
		ds = append(ds, Dataset{Name: ENVIWavelengths, Shape: []int{h.Bands}, Dtype: "float64"})
	}
	return ds, nil
}

// ReadENVI reads the ENVI cube in the tar at path: its header and its samples
// as a bands×pixels array in the convention of package hyperspectral (see
// envi.ReadCube), refusing more than maxElements samples (≤ 0: no bound).
func ReadENVI(path string, maxElements int64) (*envi.Header, []float64, error) {
	h, m, err := readENVIHeader(path)
	if err != nil {
		return nil, nil, err
	}
	r, f, err := openMember(path, m.data)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	y, err := envi.ReadCube(h, r, maxElements)
	var fe *envi.FormatError
	if errors.As(err, &fe) {
		return nil, nil, enviRefused("the ENVI data cannot be read: "+strings.TrimPrefix(err.Error(), "envi: "), err)
	}
	return h, y, err
}

func enviRefused(msg string, cause error) *Error {
	return &Error{Kind: ErrMalformed, Msg: msg, Cause: cause}
}

// clip shortens a name quoted in a message.
func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
