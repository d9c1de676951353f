package matfile

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unicode/utf8"
)

const headerLen = 128

// maxElements bounds the number of elements of one array (2⁴⁰), far above
// anything that fits in memory, so that products of dimensions cannot overflow.
const maxElements = 1 << 40

// maxDims bounds the number of dimensions of one array and maxName the length
// of a variable's name in bytes (MATLAB's own limit is 63 characters), so that
// the header of a variable fits in a small buffer.
const (
	maxDims = 1024
	maxName = 4096
)

// chunk is the size of the buffer through which data are read and converted:
// a multiple of every element size, and larger than 4·maxDims and maxName.
const chunk = 32 << 10

// Read decodes every variable of a level-5 MAT-file and returns them by name,
// with the default inflate bound (DefaultMaxInflated); see ReadWithOptions.
func Read(r io.Reader) (map[string]*Var, error) {
	return ReadWithOptions(r, Options{})
}

// ReadWithOptions decodes every variable of a level-5 MAT-file and returns
// them by name. Variables with an empty name (MATLAB's hidden subsystem data)
// are left out; a name that occurs twice is an error. The input is read once,
// as a stream; memory holds the decoded variables (8 bytes per element) and a
// few small buffers. Compressed elements that expand beyond opts.MaxInflated
// bytes in all are refused with a *FormatError whose Err is ErrTooLarge.
// Errors in the data are *FormatError; errors of r are returned wrapped.
func ReadWithOptions(r io.Reader, opts Options) (map[string]*Var, error) {
	vars := make(map[string]*Var)
	d := newDecoder(r, opts, true)
	if err := d.file(func(v *Var) { vars[v.Name] = v }); err != nil {
		return nil, err
	}
	return vars, nil
}

// Scan lists the variables of a level-5 MAT-file in file order, without
// keeping their data: it checks the file exactly as ReadWithOptions does
// (element structure, compressed streams and their checksums, data sizes and
// types, the inflate bound), so that it fails where ReadWithOptions fails,
// but its memory is a few buffers of tens of KiB whatever the file. The
// names, classes, dimensions and flags it reports are those of the variables
// that ReadWithOptions returns.
func Scan(r io.Reader, opts Options) ([]Header, error) {
	var hs []Header
	d := newDecoder(r, opts, false)
	if err := d.file(func(v *Var) { hs = append(hs, v.Header()) }); err != nil {
		return nil, err
	}
	return hs, nil
}

// decoder reads one file as a stream of elements.
type decoder struct {
	order binary.ByteOrder
	in    *fileReader
	// keep is set to decode the arrays (Read), unset to check and drop them (Scan).
	keep bool
	// max is the inflate bound of the file and left what remains of it.
	max, left int64
	zr        io.ReadCloser // reused for every compressed element
	buf       []byte        // data are read and converted through buf
	skipBuf   []byte        // data are dropped through skipBuf
}

func newDecoder(r io.Reader, opts Options, keep bool) *decoder {
	max := opts.maxInflated()
	return &decoder{in: &fileReader{br: bufio.NewReaderSize(r, 64<<10)}, keep: keep, max: max, left: max}
}

// inflated returns the number of decompressed bytes read so far.
func (d *decoder) inflated() int64 { return d.max - d.left }

var hdf5Signature = []byte("\x89HDF")

// file decodes the header and the top-level elements, calling add for each
// named variable.
func (d *decoder) file(add func(*Var)) error {
	var head [headerLen]byte
	n, err := io.ReadFull(d.in, head[:])
	if err != nil {
		if e := ioErr(err); e != nil {
			return e
		}
		if bytes.HasPrefix(head[:n], hdf5Signature) {
			return &FormatError{Msg: "an HDF5 file (MAT-file v7.3?) is not a level-5 MAT-file; read it as HDF5"}
		}
		return &FormatError{Offset: int64(n), Msg: fmt.Sprintf("file of %d bytes is shorter than the %d-byte MAT-file header", n, headerLen)}
	}
	switch string(head[126:128]) {
	case "IM":
		d.order = binary.LittleEndian
	case "MI":
		d.order = binary.BigEndian
	default:
		if bytes.HasPrefix(head[:], hdf5Signature) {
			return &FormatError{Msg: "an HDF5 file (MAT-file v7.3?) is not a level-5 MAT-file; read it as HDF5"}
		}
		return &FormatError{Offset: 126, Msg: fmt.Sprintf("endian indicator %q is neither \"IM\" nor \"MI\": not a level-5 MAT-file", head[126:128])}
	}
	switch v := d.order.Uint16(head[124:126]); v {
	case 0x0100:
	case 0x0200:
		return &FormatError{Offset: 124, Msg: "MAT-file version 7.3 is HDF5-based and not supported here; read it as HDF5"}
	default:
		return &FormatError{Offset: 124, Msg: fmt.Sprintf("unsupported MAT-file version 0x%04x (want 0x0100)", v)}
	}

	d.buf = make([]byte, chunk)
	d.skipBuf = make([]byte, 8<<10)
	names := make(map[string]bool)
	for {
		p, err := d.in.peek(8)
		if len(p) < 8 {
			if e := ioErr(err); e != nil {
				return e
			}
			if allZero(p) {
				return nil // end of file, or trailing padding
			}
			return &FormatError{Offset: d.in.off, Msg: fmt.Sprintf("%d trailing bytes are too few for an element tag", len(p))}
		}
		if pad := d.padding(); pad > 0 {
			if err := d.in.discard(pad); err != nil {
				return ioErr(err)
			}
			continue
		}
		off := d.in.off
		t, ok := d.parseTag(p)
		if !ok {
			return &FormatError{Offset: off, Msg: fmt.Sprintf("small data element of %d bytes (at most 4)", t.n)}
		}
		if err := d.in.discard(8); err != nil {
			return ioErr(err)
		}
		var v *Var
		switch t.typ {
		case miCOMPRESSED:
			v, err = d.compressed(t, off)
		case miMATRIX:
			v, err = d.uncompressed(t, off)
		default:
			return &FormatError{Offset: off, Msg: fmt.Sprintf("top-level element of data type %d; want miMATRIX (14) or miCOMPRESSED (15)", t.typ)}
		}
		if err != nil {
			return err
		}
		if v.Name == "" {
			continue
		}
		if names[v.Name] {
			return &FormatError{Offset: off, Var: v.Name, Msg: "variable occurs twice"}
		}
		names[v.Name] = true
		add(v)
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// padding returns the number of zero bytes to skip at the current offset:
// MATLAB does not pad compressed elements, but some writers pad them to 8
// bytes. Zeros up to the next multiple of 8 are skipped when no element
// starts here and one starts after them.
func (d *decoder) padding() int {
	pad := int((8 - d.in.off%8) % 8)
	if pad == 0 {
		return 0
	}
	p, _ := d.in.peek(pad + 8)
	if len(p) < pad+8 || !allZero(p[:pad]) {
		return 0
	}
	topLevel := func(b []byte) bool {
		t := d.order.Uint32(b)
		return t == miMATRIX || t == miCOMPRESSED
	}
	if topLevel(p) || !topLevel(p[pad:]) {
		return 0
	}
	return pad
}

// tag is a parsed element tag.
type tag struct {
	typ uint32
	n   int64 // number of data bytes
	// small is set for a small data element, whose data are in the tag.
	small bool
	data  [4]byte
}

// parseTag parses the 8-byte tag b; ok is false for a small data element
// claiming more than 4 bytes.
func (d *decoder) parseTag(b []byte) (t tag, ok bool) {
	w := d.order.Uint32(b[0:4])
	if w>>16 == 0 {
		return tag{typ: w, n: int64(d.order.Uint32(b[4:8]))}, true
	}
	// Small data element: 2-byte length, 2-byte type, up to 4 data bytes.
	if d.order == binary.LittleEndian {
		t.n, t.typ = int64(w>>16), w&0xffff
	} else {
		t.n, t.typ = int64(w&0xffff), w>>16
	}
	t.small = true
	copy(t.data[:], b[4:8])
	return t, t.n <= 4
}

// uncompressed decodes the top-level miMATRIX element with tag t at file offset off.
func (d *decoder) uncompressed(t tag, off int64) (*Var, error) {
	if t.small {
		return d.matrix(d.smallSection(t, off+4, false))
	}
	s := &section{d: d, r: d.in, off: off + 8, left: t.n}
	v, err := d.matrix(s)
	if err == nil {
		err = s.skipRest()
	}
	if err != nil {
		return nil, err
	}
	// Padding to 8 bytes; missing padding at the very end of the file is tolerated.
	if pad := (8 - t.n%8) % 8; pad > 0 {
		if err := d.in.discard(int(pad)); err != nil && err != io.EOF {
			return nil, ioErr(err)
		}
	}
	return v, nil
}

// compressed decodes the miCOMPRESSED element with tag t at file offset off:
// a zlib stream holding one miMATRIX element. The stream is inflated as it is
// read; every decompressed byte counts against the inflate bound, and the
// declared size of the matrix is checked against what is left of the bound
// before its contents are read.
func (d *decoder) compressed(t tag, off int64) (*Var, error) {
	var src io.Reader
	var lim *limited
	if t.small {
		src = bytes.NewReader(t.data[:t.n])
	} else {
		lim = &limited{r: d.in, n: t.n}
		src = lim
	}
	if err := d.resetZlib(src); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = errTruncated // the zlib header is cut short
		}
		return nil, d.streamErr(err, off, "", true)
	}
	inf := &inflater{r: d.zr, d: d}
	stream := &section{d: d, r: inf, left: math.MaxInt64, inflated: true}
	var tb [8]byte
	if err := stream.read(tb[:]); err != nil {
		return nil, err
	}
	it, ok := d.parseTag(tb[:])
	if !ok {
		return nil, &FormatError{Offset: off, Msg: fmt.Sprintf("compressed element: small data element of %d bytes (at most 4)", it.n)}
	}
	if it.typ != miMATRIX {
		return nil, &FormatError{Offset: off, Msg: fmt.Sprintf("compressed element holds data type %d, want miMATRIX (14)", it.typ)}
	}
	var body *section
	if it.small {
		body = d.smallSection(it, 4, true)
	} else {
		if it.n > d.left {
			return nil, &FormatError{Offset: off, Err: ErrTooLarge, Msg: fmt.Sprintf(
				"compressed variable of %d bytes exceeds what is left of the inflate bound (%d of %d bytes per file)", it.n, d.left, d.max)}
		}
		body = &section{d: d, r: inf, off: 8, left: it.n, inflated: true}
	}
	v, err := d.matrix(body)
	if err == nil {
		err = body.skipRest()
	}
	if err != nil {
		return nil, err
	}
	// The rest of the stream is read to its end: it counts against the bound,
	// and the checksum at the end is verified.
	if _, err := io.CopyBuffer(io.Discard, inf, d.skipBuf); err != nil {
		return nil, d.streamErr(err, off, v.Name, true)
	}
	if lim != nil {
		if _, err := io.CopyBuffer(io.Discard, lim, d.skipBuf); err != nil {
			return nil, ioErr(err)
		}
		if lim.n > 0 {
			return nil, &FormatError{Offset: off, Var: v.Name, Msg: fmt.Sprintf("compressed element claims %d bytes but the file ends %d bytes short", t.n, lim.n)}
		}
	}
	return v, nil
}

// resetZlib points the decoder's zlib reader at src and reads the zlib header.
func (d *decoder) resetZlib(src io.Reader) error {
	if d.zr != nil {
		return d.zr.(zlib.Resetter).Reset(src, nil)
	}
	zr, err := zlib.NewReader(src)
	if err != nil {
		return err
	}
	d.zr = zr
	return nil
}

// smallSection returns the data of the small element t as a section whose
// first byte is at offset off.
func (d *decoder) smallSection(t tag, off int64, inflated bool) *section {
	return &section{d: d, r: bytes.NewReader(t.data[:t.n]), off: off, left: t.n, inflated: inflated}
}

// section is the rest of one element's data: the next left bytes of r.
type section struct {
	d *decoder
	r io.Reader
	// off is the offset of the next byte: in the file, or in the
	// decompressed stream when inflated is set.
	off      int64
	left     int64
	inflated bool
	name     string // the variable being decoded, once known
}

func (s *section) errorf(off int64, format string, args ...any) error {
	return &FormatError{Offset: off, Var: s.name, Msg: fmt.Sprintf(format, args...)}
}

// read fills p with the next len(p) bytes of the section.
func (s *section) read(p []byte) error {
	if int64(len(p)) > s.left {
		return s.errorf(s.off, "%d bytes needed but only %d remain in the element", len(p), s.left)
	}
	n, err := io.ReadFull(s.r, p)
	s.off += int64(n)
	s.left -= int64(n)
	if err != nil {
		return s.d.streamErr(err, s.off, s.name, s.inflated)
	}
	return nil
}

// skip reads and drops the next n bytes.
func (s *section) skip(n int64) error {
	for n > 0 {
		k := min(n, int64(len(s.d.skipBuf)))
		if err := s.read(s.d.skipBuf[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

func (s *section) skipRest() error { return s.skip(s.left) }

// Errors of the streams beneath a section.
var (
	errBound     = errors.New("inflate bound reached")
	errTruncated = errors.New("compressed stream truncated")
)

// streamErr turns an error of a section's stream into the error to return.
func (d *decoder) streamErr(err error, off int64, name string, inflated bool) error {
	if e := ioErr(err); e != nil {
		return e
	}
	fe := &FormatError{Offset: off, Var: name}
	switch {
	case errors.Is(err, errBound):
		fe.Err = ErrTooLarge
		fe.Msg = fmt.Sprintf("compressed data expand beyond the inflate bound of %d bytes per file", d.max)
	case errors.Is(err, errTruncated):
		fe.Msg = "compressed element is truncated"
	case (err == io.EOF || err == io.ErrUnexpectedEOF) && inflated:
		fe.Msg = "the decompressed data end inside an element"
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		fe.Msg = "the file ends inside an element (truncated)"
	default:
		fe.Msg = fmt.Sprintf("compressed element: %v", err)
	}
	return fe
}

// subElem is a data element inside a matrix.
type subElem struct {
	tag
	off int64 // offset of the data
}

// sub reads the tag of the next element of s.
func (d *decoder) sub(s *section, what string) (subElem, error) {
	off := s.off
	if s.left == 0 {
		return subElem{}, s.errorf(off, "missing %s", what)
	}
	if s.left < 8 {
		return subElem{}, s.errorf(off, "truncated element tag")
	}
	var b [8]byte
	if err := s.read(b[:]); err != nil {
		return subElem{}, err
	}
	t, ok := d.parseTag(b[:])
	if !ok {
		return subElem{}, s.errorf(off, "small data element of %d bytes (at most 4)", t.n)
	}
	if t.small {
		return subElem{t, off + 4}, nil
	}
	if t.n > s.left {
		return subElem{}, s.errorf(off, "element of type %d claims %d bytes but only %d remain", t.typ, t.n, s.left)
	}
	return subElem{t, off + 8}, nil
}

// data returns the section from which the data of el are read: s itself,
// or the tag's own bytes for a small element.
func (d *decoder) data(s *section, el subElem) *section {
	if el.small {
		ds := d.smallSection(el.tag, el.off, s.inflated)
		ds.name = s.name
		return ds
	}
	return s
}

// endOf skips the padding after the data of el: up to the next multiple of 8
// bytes, except after compressed data and at the end of the enclosing element.
func (s *section) endOf(el subElem) error {
	if el.small || el.typ == miCOMPRESSED {
		return nil
	}
	return s.skip(min((8-el.n%8)%8, s.left))
}

// bytesOf reads the data of el, at most chunk bytes, into the decoder's buffer.
func (d *decoder) bytesOf(s *section, el subElem) ([]byte, error) {
	b := d.buf[:el.n]
	if err := d.data(s, el).read(b); err != nil {
		return nil, err
	}
	return b, s.endOf(el)
}

// matrix decodes the contents of a miMATRIX element (after its tag).
func (d *decoder) matrix(s *section) (*Var, error) {
	v := &Var{}
	if s.left == 0 {
		// MATLAB writes empty miMATRIX elements for empty cell entries.
		return v, nil
	}
	start := s.off
	flags, err := d.sub(s, "array flags")
	if err != nil {
		return nil, err
	}
	if flags.typ != miUINT32 || flags.n != 8 {
		return nil, s.errorf(start, "array flags of type %d and %d bytes, want miUINT32 (6) and 8 bytes", flags.typ, flags.n)
	}
	fb, err := d.bytesOf(s, flags)
	if err != nil {
		return nil, err
	}
	fw := d.order.Uint32(fb[0:4])
	v.Class = Class(fw & 0xff)
	v.Complex = fw&0x0800 != 0
	v.Logical = fw&0x0200 != 0
	if v.Class < ClassCell || v.Class > ClassOpaque {
		return nil, s.errorf(start, "unknown array class %d", uint8(v.Class))
	}

	if v.Class == ClassOpaque {
		// Opaque values have no dimensions subelement: flags, name, then
		// the object's own encoding, which is skipped.
		v.Name, err = d.name(s)
		return v, err
	}

	dims, err := d.sub(s, "dimensions")
	if err != nil {
		return nil, err
	}
	if dims.typ != miINT32 || dims.n%4 != 0 || dims.n < 8 {
		return nil, s.errorf(dims.off, "dimensions of type %d and %d bytes, want at least two miINT32 (5)", dims.typ, dims.n)
	}
	if dims.n/4 > maxDims {
		return nil, s.errorf(dims.off, "%d dimensions (at most %d)", dims.n/4, maxDims)
	}
	db, err := d.bytesOf(s, dims)
	if err != nil {
		return nil, err
	}
	v.Dims = make([]int, len(db)/4)
	total := int64(1)
	for i := range v.Dims {
		n := int32(d.order.Uint32(db[4*i:]))
		if n < 0 {
			return nil, s.errorf(dims.off, "negative dimension %d", n)
		}
		v.Dims[i] = int(n)
		if n > 0 && total > maxElements/int64(n) {
			return nil, s.errorf(dims.off, "dimensions %v exceed %d elements", v.Dims[:i+1], int64(maxElements))
		}
		total *= int64(n)
	}

	if v.Name, err = d.name(s); err != nil {
		return nil, err
	}

	switch v.Class {
	case ClassCell, ClassStruct, ClassObject, ClassSparse, ClassFunction:
		return v, nil // contents skipped
	}

	re, err := d.sub(s, "real part")
	if err != nil {
		return nil, err
	}
	if v.Real, err = d.values(s, re, v, total); err != nil {
		return nil, err
	}
	v.Stored = DataType(re.typ)
	if v.Complex {
		im, err := d.sub(s, "imaginary part")
		if err != nil {
			return nil, err
		}
		if v.Imag, err = d.values(s, im, v, total); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// name reads the array name element of a matrix and records it in s.
func (d *decoder) name(s *section) (string, error) {
	el, err := d.sub(s, "array name")
	if err != nil {
		return "", err
	}
	if el.typ != miINT8 && el.typ != miUINT8 && el.typ != miUTF8 {
		return "", s.errorf(el.off, "array name of data type %d, want miINT8 (1)", el.typ)
	}
	if el.n > maxName {
		return "", s.errorf(el.off, "array name of %d bytes (at most %d)", el.n, maxName)
	}
	b, err := d.bytesOf(s, el)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", s.errorf(el.off, "array name is not valid text")
	}
	s.name = string(b)
	return s.name, nil
}

// values reads the numeric data element el holding n values of v and, when
// the decoder keeps data, returns them converted to float64 (non-nil even
// when n is 0). The output grows with the data actually read, so that a
// declared size that the data do not back allocates nothing.
func (d *decoder) values(s *section, el subElem, v *Var, n int64) ([]float64, error) {
	if v.Class == ClassChar && el.typ == miUTF8 {
		return d.utf8Chars(s, el, v, n)
	}
	size := int64(elemSize(el.typ))
	if size == 0 || el.typ == miUTF8 {
		return nil, s.errorf(el.off, "data of type %d is not numeric", el.typ)
	}
	if el.n != n*size {
		return nil, s.errorf(el.off, "%d data bytes of type %d for dimensions %v (want %d)", el.n, el.typ, v.Dims, n*size)
	}
	var out []float64
	if d.keep {
		out = make([]float64, 0, min(n, chunk))
	}
	ds := d.data(s, el)
	for rest := el.n; rest > 0; {
		b := d.buf[:min(rest, chunk)]
		if err := ds.read(b); err != nil {
			return nil, err
		}
		rest -= int64(len(b))
		if d.keep {
			out = grow(out, len(b)/int(size), n)
			out = d.convert(out, b, el.typ)
		}
	}
	return out, s.endOf(el)
}

// grow returns x with room for k more values, doubling its capacity up to
// at most n.
func grow(x []float64, k int, n int64) []float64 {
	if len(x)+k <= cap(x) {
		return x
	}
	c := int(min(max(2*int64(cap(x)), int64(len(x)+k)), n))
	y := make([]float64, len(x), c)
	copy(y, x)
	return y
}

// utf8Chars reads a char array stored as UTF-8: n characters.
func (d *decoder) utf8Chars(s *section, el subElem, v *Var, n int64) ([]float64, error) {
	var out []float64
	if d.keep {
		out = make([]float64, 0, min(n, chunk))
	}
	ds := d.data(s, el)
	count, carry := int64(0), 0
	for rest := el.n; rest > 0; {
		// carry bytes of an incomplete character are kept at the start of buf.
		k := min(rest, int64(len(d.buf)-carry))
		if err := ds.read(d.buf[carry : carry+int(k)]); err != nil {
			return nil, err
		}
		rest -= k
		b := d.buf[:carry+int(k)]
		i := 0
		for i < len(b) {
			if rest > 0 && !utf8.FullRune(b[i:]) {
				break
			}
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, s.errorf(el.off, "char data is not valid UTF-8")
			}
			if count++; count > n {
				return nil, s.errorf(el.off, "more than %d characters for dimensions %v", n, v.Dims)
			}
			if d.keep {
				out = grow(out, 1, n)
				out = append(out, float64(r))
			}
			i += size
		}
		carry = copy(d.buf, b[i:])
	}
	if count != n {
		return nil, s.errorf(el.off, "%d characters for dimensions %v", count, v.Dims)
	}
	return out, s.endOf(el)
}

// convert appends the values of b, of data type typ, to out.
func (d *decoder) convert(out []float64, b []byte, typ uint32) []float64 {
	o := d.order
	switch typ {
	case miINT8:
		for _, c := range b {
			out = append(out, float64(int8(c)))
		}
	case miUINT8:
		for _, c := range b {
			out = append(out, float64(c))
		}
	case miINT16:
		for i := 0; i < len(b); i += 2 {
			out = append(out, float64(int16(o.Uint16(b[i:]))))
		}
	case miUINT16, miUTF16:
		for i := 0; i < len(b); i += 2 {
			out = append(out, float64(o.Uint16(b[i:])))
		}
	case miINT32:
		for i := 0; i < len(b); i += 4 {
			out = append(out, float64(int32(o.Uint32(b[i:]))))
		}
	case miUINT32, miUTF32:
		for i := 0; i < len(b); i += 4 {
			out = append(out, float64(o.Uint32(b[i:])))
		}
	case miSINGLE:
		for i := 0; i < len(b); i += 4 {
			out = append(out, float64(math.Float32frombits(o.Uint32(b[i:]))))
		}
	case miDOUBLE:
		for i := 0; i < len(b); i += 8 {
			out = append(out, math.Float64frombits(o.Uint64(b[i:])))
		}
	case miINT64:
		for i := 0; i < len(b); i += 8 {
			out = append(out, float64(int64(o.Uint64(b[i:]))))
		}
	case miUINT64:
		for i := 0; i < len(b); i += 8 {
			out = append(out, float64(o.Uint64(b[i:])))
		}
	}
	return out
}

// fileReader reads the input through a buffer, counting the offset. Errors
// of the input other than io.EOF are wrapped in *ioError, so that they can be
// told from format errors after passing through the zlib reader.
type fileReader struct {
	br  *bufio.Reader
	off int64
}

func (f *fileReader) Read(p []byte) (int, error) {
	n, err := f.br.Read(p)
	f.off += int64(n)
	return n, wrapIO(err)
}

func (f *fileReader) peek(n int) ([]byte, error) {
	p, err := f.br.Peek(n)
	return p, wrapIO(err)
}

func (f *fileReader) discard(n int) error {
	k, err := f.br.Discard(n)
	f.off += int64(k)
	return wrapIO(err)
}

type ioError struct{ err error }

func (e *ioError) Error() string { return e.err.Error() }

func wrapIO(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return &ioError{err}
}

// ioErr returns the error to report for an error of the input, or nil if err
// is not one.
func ioErr(err error) error {
	var e *ioError
	if errors.As(err, &e) {
		return fmt.Errorf("matfile: reading input: %w", e.err)
	}
	return nil
}

func (f *fileReader) ReadByte() (byte, error) {
	c, err := f.br.ReadByte()
	if err == nil {
		f.off++
	}
	return c, wrapIO(err)
}

// limited reads the next n bytes of r, the data of one compressed element.
// It is an io.ByteReader, so that the zlib reader reads it without a buffer
// of its own.
type limited struct {
	r *fileReader
	n int64
}

func (l *limited) ReadByte() (byte, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	c, err := l.r.ReadByte()
	if err == nil {
		l.n--
	}
	return c, err
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// inflater reads a zlib stream, counting its bytes against the decoder's
// inflate bound: it returns errBound on the first byte beyond it.
type inflater struct {
	r io.Reader
	d *decoder
}

func (z *inflater) Read(p []byte) (int, error) {
	d := z.d
	if int64(len(p)) > d.left {
		if d.left == 0 {
			var one [1]byte
			n, err := z.r.Read(one[:])
			if n > 0 {
				return 0, errBound
			}
			return 0, z.err(err)
		}
		p = p[:d.left]
	}
	n, err := z.r.Read(p)
	d.left -= int64(n)
	return n, z.err(err)
}

// err marks a compressed stream that ends early, which the zlib reader
// reports as io.ErrUnexpectedEOF, so that io.ReadFull does not confuse it
// with a complete stream that is shorter than the data it declares.
func (z *inflater) err(err error) error {
	if err == io.ErrUnexpectedEOF {
		return errTruncated
	}
	return err
}
