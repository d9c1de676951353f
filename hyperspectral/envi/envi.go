// Package envi reads ENVI raster cubes: a text header (name.hdr) beside a
// file of raw samples in one of the interleaves BSQ, BIL or BIP, the format
// in which AVIRIS-style cubes ship.
//
// # Format
//
// The header starts with the line "ENVI" and holds "key = value" pairs, one a
// line; a value in braces ("wavelength = { 400.1, 410.3, … }") may span
// lines. Keys are case-insensitive. ParseHeader needs samples, lines, bands,
// data type and interleave, and byte order for samples of more than one byte;
// header offset defaults to 0. The data file holds samples·lines·bands
// samples after header offset bytes, ordered by interleave:
//
//	bsq: band, line, sample   (sample fastest)
//	bil: line, band, sample
//	bip: line, sample, band
//
// Supported data types are ENVI's 1 (uint8), 2 (int16), 3 (int32),
// 4 (float32), 5 (float64), 12 (uint16), 13 (uint32), 14 (int64) and
// 15 (uint64); byte order 0 is little-endian, 1 big-endian. Complex types are
// refused.
//
// # Conventions
//
// ReadCube returns the cube as the package hyperspectral holds it: a
// bands×pixels array, row-major (element (l, n) at l·pixels + n), with pixels
// in MATLAB's column-major image order n = line + sample·lines, so that
// line r and sample c of the image is pixel r + c·lines.
//
// Malformed input of any kind gives a *FormatError; nothing panics on bad
// bytes. Reading is a stream: the header is bounded by MaxHeaderBytes, the
// data are read in blocks, and the cube's size is checked against a caller's
// bound before anything is allocated.
package envi

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Interleave is the order of the samples in the data file. The names are
// those of the header ("bsq", "bil", "bip").
type Interleave string

// The interleaves.
const (
	BSQ Interleave = "bsq" // band sequential: band, line, sample
	BIL Interleave = "bil" // band interleaved by line: line, band, sample
	BIP Interleave = "bip" // band interleaved by pixel: line, sample, band
)

// Header is the parsed content of an ENVI header.
type Header struct {
	// Samples (image columns), Lines (image rows) and Bands.
	Samples, Lines, Bands int
	// HeaderOffset is the number of bytes before the data in the data file.
	HeaderOffset int64
	// DataType is ENVI's code of the sample type (see the package comment).
	DataType   int
	Interleave Interleave
	// ByteOrder is binary.LittleEndian (header byte order 0) or
	// binary.BigEndian (1).
	ByteOrder binary.ByteOrder
	// Wavelengths has one centre wavelength per band, or is nil when the
	// header has none; WavelengthUnits is as written ("Nanometers"), or "".
	Wavelengths     []float64
	WavelengthUnits string
}

// FormatError reports a malformed or unsupported header or data file.
type FormatError struct {
	// Key is the header key at fault, or "" for the data or the header as a
	// whole.
	Key string
	Msg string
}

func (e *FormatError) Error() string {
	if e.Key != "" {
		return fmt.Sprintf("envi: header %q: %s", e.Key, e.Msg)
	}
	return "envi: " + e.Msg
}

func formatErr(key, format string, args ...any) error {
	return &FormatError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// MaxHeaderBytes bounds the size of a header that ParseHeader reads.
const MaxHeaderBytes = 1 << 20

// sampleSize maps the supported data types to their size in bytes.
var sampleSize = map[int]int{1: 1, 2: 2, 3: 4, 4: 4, 5: 8, 12: 2, 13: 4, 14: 8, 15: 8}

// dtypeName maps the supported data types to the names fileformat lists.
var dtypeName = map[int]string{1: "uint8", 2: "int16", 3: "int32", 4: "float32", 5: "float64", 12: "uint16", 13: "uint32", 14: "int64", 15: "uint64"}

// SampleSize returns the size in bytes of one sample.
func (h *Header) SampleSize() int { return sampleSize[h.DataType] }

// Dtype returns the sample type as a Go-style name ("uint16", "float32", …).
func (h *Header) Dtype() string { return dtypeName[h.DataType] }

// Elements returns samples·lines·bands; ParseHeader checked that it does not
// overflow an int64 byte count.
func (h *Header) Elements() int64 {
	return int64(h.Samples) * int64(h.Lines) * int64(h.Bands)
}

// DataBytes returns the length the data file must have: the header offset
// plus the samples.
func (h *Header) DataBytes() int64 {
	return h.HeaderOffset + h.Elements()*int64(h.SampleSize())
}

// ParseHeader reads an ENVI header from r (at most MaxHeaderBytes) and checks
// it: the "ENVI" line; samples, lines and bands positive with a product
// whose byte size fits an int64; a supported data type and interleave; a
// byte order of 0 or 1 (required unless samples are single bytes); a
// non-negative header offset; one finite wavelength per band when
// wavelengths are given. A header that fails any check gives a *FormatError
// naming the key.
func ParseHeader(r io.Reader) (*Header, error) {
	text, err := io.ReadAll(io.LimitReader(r, MaxHeaderBytes+1))
	if err != nil {
		return nil, err
	}
	if len(text) > MaxHeaderBytes {
		return nil, formatErr("", "header longer than %d bytes", MaxHeaderBytes)
	}
	fields, err := splitHeader(string(text))
	if err != nil {
		return nil, err
	}
	h := &Header{}
	positive := func(key string) (int, error) {
		v, ok := fields[key]
		if !ok {
			return 0, formatErr(key, "missing")
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return 0, formatErr(key, "%q is not a positive integer", clip(v))
		}
		return n, nil
	}
	if h.Samples, err = positive("samples"); err != nil {
		return nil, err
	}
	if h.Lines, err = positive("lines"); err != nil {
		return nil, err
	}
	if h.Bands, err = positive("bands"); err != nil {
		return nil, err
	}
	if h.DataType, err = positive("data type"); err != nil {
		return nil, err
	}
	if sampleSize[h.DataType] == 0 {
		return nil, formatErr("data type", "%d is not supported (want 1, 2, 3, 4, 5, 12, 13, 14 or 15; complex types are not)", h.DataType)
	}
	// The byte count, offset included, must fit an int64.
	bytes := float64(h.Samples) * float64(h.Lines) * float64(h.Bands) * float64(h.SampleSize())
	if bytes >= math.MaxInt64/2 {
		return nil, formatErr("", "samples·lines·bands = %d·%d·%d is too large", h.Samples, h.Lines, h.Bands)
	}
	switch v := strings.ToLower(fields["interleave"]); Interleave(v) {
	case BSQ, BIL, BIP:
		h.Interleave = Interleave(v)
	case "":
		return nil, formatErr("interleave", "missing (want bsq, bil or bip)")
	default:
		return nil, formatErr("interleave", "%q is not bsq, bil or bip", clip(v))
	}
	switch v, ok := fields["byte order"]; {
	case !ok && h.SampleSize() == 1:
		h.ByteOrder = binary.LittleEndian
	case !ok:
		return nil, formatErr("byte order", "missing (0 for little-endian, 1 for big-endian)")
	case v == "0":
		h.ByteOrder = binary.LittleEndian
	case v == "1":
		h.ByteOrder = binary.BigEndian
	default:
		return nil, formatErr("byte order", "%q is not 0 (little-endian) or 1 (big-endian)", clip(v))
	}
	if v, ok := fields["header offset"]; ok {
		if h.HeaderOffset, err = strconv.ParseInt(v, 10, 64); err != nil || h.HeaderOffset < 0 || h.HeaderOffset > math.MaxInt64/4 {
			return nil, formatErr("header offset", "%q is not a non-negative integer", clip(v))
		}
	}
	if v, ok := fields["wavelength"]; ok {
		list, ok := braces(v)
		if !ok {
			return nil, formatErr("wavelength", "not a list in braces")
		}
		parts := strings.Split(list, ",")
		if len(parts) != h.Bands {
			return nil, formatErr("wavelength", "%d values for %d bands", len(parts), h.Bands)
		}
		h.Wavelengths = make([]float64, len(parts))
		for i, p := range parts {
			x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, formatErr("wavelength", "value %d, %q, is not a finite number", i, clip(strings.TrimSpace(p)))
			}
			h.Wavelengths[i] = x
		}
		h.WavelengthUnits = fields["wavelength units"]
	}
	return h, nil
}

// splitHeader checks the "ENVI" line and returns the key = value pairs, keys
// lower-cased with single spaces, values trimmed (a braced value keeps its
// braces and may span lines).
func splitHeader(text string) (map[string]string, error) {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), MaxHeaderBytes+1)
	first := true
	fields := map[string]string{}
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if first {
			if line != "ENVI" {
				return nil, formatErr("", "the header does not start with the line ENVI")
			}
			first = false
			continue
		}
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, formatErr("", "line %q is not key = value", clip(line))
		}
		key = strings.ToLower(strings.Join(strings.Fields(key), " "))
		value = strings.TrimSpace(value)
		if strings.HasPrefix(value, "{") {
			var b strings.Builder
			b.WriteString(value)
			for !strings.Contains(value, "}") {
				if !sc.Scan() {
					return nil, formatErr(key, "opening brace without a closing one")
				}
				value = strings.TrimSpace(sc.Text())
				b.WriteString(" ")
				b.WriteString(value)
			}
			value = b.String()
		}
		if _, dup := fields[key]; dup {
			return nil, formatErr(key, "given twice")
		}
		fields[key] = value
	}
	if err := sc.Err(); err != nil {
		return nil, formatErr("", "unreadable header: %v", err)
	}
	if first {
		return nil, formatErr("", "empty header")
	}
	return fields, nil
}

// braces returns the text between a leading "{" and a trailing "}".
func braces(v string) (string, bool) {
	if !strings.HasPrefix(v, "{") || !strings.HasSuffix(v, "}") {
		return "", false
	}
	return v[1 : len(v)-1], true
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// blockBytes is the size of the blocks in which ReadCube reads the data.
const blockBytes = 1 << 16

// ReadCube reads the samples described by h from r, which must be positioned
// at the start of the data file (ReadCube skips HeaderOffset bytes), and
// returns them as a bands×pixels array in the package's convention (see the
// package comment). It refuses, before allocating, a cube of more than
// maxElements samples (maxElements ≤ 0: no bound), and gives a *FormatError
// when the data end early. Integer samples are converted exactly (64-bit
// integers beyond 2^53 round); float samples are kept, NaN and infinities
// included. Cost: one pass over the data, O(samples) time, 8 bytes per
// sample plus one block of memory.
func ReadCube(h *Header, r io.Reader, maxElements int64) ([]float64, error) {
	if maxElements > 0 && h.Elements() > maxElements {
		return nil, formatErr("", "the cube has %d samples, more than the limit of %d", h.Elements(), maxElements)
	}
	if _, err := io.CopyN(io.Discard, r, h.HeaderOffset); err != nil {
		return nil, dataErr(err, 0, h)
	}
	l, rows, cols := h.Bands, h.Lines, h.Samples
	n := rows * cols
	out := make([]float64, h.Elements())
	size := h.SampleSize()
	decode := decoder(h.DataType, h.ByteOrder)
	buf := make([]byte, blockBytes-blockBytes%size)
	// (i, j, k) is the position in the file's order: outer, middle, inner.
	var i, j, k int
	var nj, nk int // extents of the middle and inner axes
	switch h.Interleave {
	case BSQ:
		nj, nk = rows, cols
	case BIL:
		nj, nk = l, cols
	default:
		nj, nk = cols, l
	}
	total := h.Elements()
	var done int64
	for done < total {
		want := min(int64(len(buf)), (total-done)*int64(size))
		if _, err := io.ReadFull(r, buf[:want]); err != nil {
			return nil, dataErr(err, done, h)
		}
		for off := int64(0); off < want; off += int64(size) {
			v := decode(buf[off : off+int64(size)])
			var band, row, col int
			switch h.Interleave {
			case BSQ:
				band, row, col = i, j, k
			case BIL:
				row, band, col = i, j, k
			default:
				row, col, band = i, j, k
			}
			out[band*n+row+col*rows] = v
			if k++; k == nk {
				k = 0
				if j++; j == nj {
					j = 0
					i++
				}
			}
		}
		done += want / int64(size)
	}
	return out, nil
}

// dataErr turns an early end of the data into a *FormatError.
func dataErr(err error, done int64, h *Header) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return formatErr("", "the data file ends after %d of %d samples (want %d bytes with a header offset of %d)",
			done, h.Elements(), h.DataBytes(), h.HeaderOffset)
	}
	return err
}

// decoder returns the function that converts one sample of the data type in
// the byte order to float64.
func decoder(dataType int, order binary.ByteOrder) func([]byte) float64 {
	switch dataType {
	case 1:
		return func(b []byte) float64 { return float64(b[0]) }
	case 2:
		return func(b []byte) float64 { return float64(int16(order.Uint16(b))) }
	case 3:
		return func(b []byte) float64 { return float64(int32(order.Uint32(b))) }
	case 4:
		return func(b []byte) float64 { return float64(math.Float32frombits(order.Uint32(b))) }
	case 5:
		return func(b []byte) float64 { return math.Float64frombits(order.Uint64(b)) }
	case 12:
		return func(b []byte) float64 { return float64(order.Uint16(b)) }
	case 13:
		return func(b []byte) float64 { return float64(order.Uint32(b)) }
	case 14:
		return func(b []byte) float64 { return float64(int64(order.Uint64(b))) }
	case 15:
		return func(b []byte) float64 { return float64(order.Uint64(b)) }
	}
	panic(fmt.Sprintf("envi: internal: data type %d", dataType))
}
