// Package matfile reads MATLAB level-5 MAT-files (the format MATLAB writes with
// `save -v6` and `save -v7`), the format in which the labelled hyperspectral
// scenes are distributed.
//
// A level-5 file is a 128-byte header (descriptive text, a subsystem offset, the
// version 0x0100 and an endian indicator "IM" or "MI") followed by data
// elements. Each top-level element is either a miMATRIX (one variable) or a
// miCOMPRESSED element whose zlib stream holds one miMATRIX. Read understands
// both byte orders, both tag formats (normal and "small data element"), every
// numeric class (double, single, int8…uint64), logical and char arrays, and
// real or complex data. Cells, structs, objects, sparse matrices and opaque
// values (strings, tables, function handles) are recognised and listed with
// their class, but their contents are skipped.
//
// Arrays are kept in MATLAB's column-major order: the element with 0-based
// subscripts (i₀, i₁, …, i_{d−1}) of an array with dimensions (n₀, n₁, …) is
// Real[i₀ + n₀·(i₁ + n₁·(i₂ + …))]. Every numeric value is converted to float64;
// 64-bit integers beyond 2⁵³ lose precision.
//
// MAT-files of version 7.3 are HDF5 files; Read reports them as unsupported.
// Malformed input of any kind yields a *FormatError; Read never panics.
package matfile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unicode/utf8"
)

// Class is the MATLAB array class of a variable (the mxCLASS codes of the format).
type Class uint8

// The MATLAB array classes.
const (
	ClassCell     Class = 1
	ClassStruct   Class = 2
	ClassObject   Class = 3
	ClassChar     Class = 4
	ClassSparse   Class = 5
	ClassDouble   Class = 6
	ClassSingle   Class = 7
	ClassInt8     Class = 8
	ClassUint8    Class = 9
	ClassInt16    Class = 10
	ClassUint16   Class = 11
	ClassInt32    Class = 12
	ClassUint32   Class = 13
	ClassInt64    Class = 14
	ClassUint64   Class = 15
	ClassFunction Class = 16
	ClassOpaque   Class = 17
)

var classNames = [...]string{
	ClassCell: "cell", ClassStruct: "struct", ClassObject: "object", ClassChar: "char",
	ClassSparse: "sparse", ClassDouble: "double", ClassSingle: "single",
	ClassInt8: "int8", ClassUint8: "uint8", ClassInt16: "int16", ClassUint16: "uint16",
	ClassInt32: "int32", ClassUint32: "uint32", ClassInt64: "int64", ClassUint64: "uint64",
	ClassFunction: "function", ClassOpaque: "opaque",
}

// String returns MATLAB's name of the class ("double", "uint16", "struct", …).
func (c Class) String() string {
	if int(c) < len(classNames) && classNames[c] != "" {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// Numeric reports whether arrays of class c hold numbers that Read decodes
// (the floating-point and integer classes).
func (c Class) Numeric() bool { return c >= ClassDouble && c <= ClassUint64 }

// Var is one variable of a MAT-file.
type Var struct {
	Name  string
	Class Class
	// Dims are MATLAB's dimensions (at least two; a scalar is 1×1). Opaque
	// values have no dimensions.
	Dims []int
	// Logical is set for MATLAB logical arrays (stored with class uint8).
	Logical bool
	// Complex is set when the array has an imaginary part.
	Complex bool
	// Stored is the data type in which the real part was stored: MATLAB
	// saves a double array of integral values as its smallest integer type.
	Stored DataType
	// Real holds the real part in column-major order, converted to float64,
	// for numeric, logical and char arrays (char arrays hold the Unicode code
	// points). It is nil for the classes whose contents are skipped.
	Real []float64
	// Imag holds the imaginary part when Complex is set, else nil.
	Imag []float64
}

// Len returns the number of elements, the product of Dims.
func (v *Var) Len() int {
	if len(v.Dims) == 0 {
		return 0
	}
	n := 1
	for _, d := range v.Dims {
		n *= d
	}
	return n
}

// HasData reports whether v holds decoded contents (numeric, logical and char
// arrays, Real non-nil even when empty), as opposed to skipped ones (cell,
// struct, object, sparse, opaque).
func (v *Var) HasData() bool { return v.Real != nil }

// At returns the real part of the element at the given 0-based subscripts,
// one per dimension, in column-major order. It panics if the number of
// subscripts differs from len(v.Dims), if a subscript is out of range, or if
// v holds no data.
func (v *Var) At(sub ...int) float64 {
	if len(sub) != len(v.Dims) {
		panic(fmt.Sprintf("matfile: %d subscripts for a %d-dimensional variable %q", len(sub), len(v.Dims), v.Name))
	}
	if v.Real == nil {
		panic(fmt.Sprintf("matfile: variable %q of class %v holds no decoded data", v.Name, v.Class))
	}
	idx, stride := 0, 1
	for i, s := range sub {
		if s < 0 || s >= v.Dims[i] {
			panic(fmt.Sprintf("matfile: subscript %d = %d out of range [0, %d) for %q", i, s, v.Dims[i], v.Name))
		}
		idx += s * stride
		stride *= v.Dims[i]
	}
	return v.Real[idx]
}

// Text returns the contents of a char array as a string (the characters in
// column-major order) and true, or "" and false if v is not a char array.
func (v *Var) Text() (string, bool) {
	if v.Class != ClassChar || v.Real == nil {
		return "", false
	}
	r := make([]rune, len(v.Real))
	for i, c := range v.Real {
		r[i] = rune(c)
	}
	return string(r), true
}

// FormatError reports malformed or unsupported MAT-file input.
type FormatError struct {
	// Offset is the byte offset of the problem: in the file, or for data inside
	// a compressed element, in that element's decompressed stream.
	Offset int64
	// Var names the variable being decoded, when known.
	Var string
	Msg string
}

func (e *FormatError) Error() string {
	if e.Var != "" {
		return fmt.Sprintf("matfile: variable %q at offset %d: %s", e.Var, e.Offset, e.Msg)
	}
	return fmt.Sprintf("matfile: offset %d: %s", e.Offset, e.Msg)
}

// DataType is the type of a data element (the miTYPE codes of the format).
type DataType uint32

// String returns the name of the stored type ("double", "uint16", …), or
// "none" for variables whose contents were skipped.
func (t DataType) String() string {
	switch t {
	case 0:
		return "none"
	case miINT8:
		return "int8"
	case miUINT8:
		return "uint8"
	case miINT16:
		return "int16"
	case miUINT16:
		return "uint16"
	case miINT32:
		return "int32"
	case miUINT32:
		return "uint32"
	case miSINGLE:
		return "single"
	case miDOUBLE:
		return "double"
	case miINT64:
		return "int64"
	case miUINT64:
		return "uint64"
	case miUTF8:
		return "utf8"
	case miUTF16:
		return "utf16"
	case miUTF32:
		return "utf32"
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// Data types of elements.
const (
	miINT8       = 1
	miUINT8      = 2
	miINT16      = 3
	miUINT16     = 4
	miINT32      = 5
	miUINT32     = 6
	miSINGLE     = 7
	miDOUBLE     = 9
	miINT64      = 12
	miUINT64     = 13
	miMATRIX     = 14
	miCOMPRESSED = 15
	miUTF8       = 16
	miUTF16      = 17
	miUTF32      = 18
)

// elemSize is the size in bytes of one value of a numeric element type, or 0.
func elemSize(t uint32) int {
	switch t {
	case miINT8, miUINT8, miUTF8:
		return 1
	case miINT16, miUINT16, miUTF16:
		return 2
	case miINT32, miUINT32, miSINGLE, miUTF32:
		return 4
	case miDOUBLE, miINT64, miUINT64:
		return 8
	}
	return 0
}

const headerLen = 128

// maxElements bounds the number of elements of one array (2⁴⁰), far above
// anything that fits in memory, so that products of dimensions cannot overflow.
const maxElements = 1 << 40

// Read decodes every variable of a level-5 MAT-file and returns them by name.
// Variables with an empty name (MATLAB's hidden subsystem data) are left out;
// a name that occurs twice is an error. The whole input is read into memory.
// Errors in the data are *FormatError; errors of r are returned as they are.
func Read(r io.Reader) (map[string]*Var, error) {
	buf, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("matfile: reading input: %w", err)
	}
	return decode(buf)
}

func decode(buf []byte) (map[string]*Var, error) {
	if len(buf) < headerLen {
		if bytes.HasPrefix(buf, []byte("\x89HDF")) {
			return nil, &FormatError{Msg: "an HDF5 file (MAT-file v7.3?) is not a level-5 MAT-file; read it as HDF5"}
		}
		return nil, &FormatError{Offset: int64(len(buf)), Msg: fmt.Sprintf("file of %d bytes is shorter than the %d-byte MAT-file header", len(buf), headerLen)}
	}
	var order binary.ByteOrder
	switch string(buf[126:128]) {
	case "IM":
		order = binary.LittleEndian
	case "MI":
		order = binary.BigEndian
	default:
		if bytes.HasPrefix(buf, []byte("\x89HDF")) {
			return nil, &FormatError{Msg: "an HDF5 file (MAT-file v7.3?) is not a level-5 MAT-file; read it as HDF5"}
		}
		return nil, &FormatError{Offset: 126, Msg: fmt.Sprintf("endian indicator %q is neither \"IM\" nor \"MI\": not a level-5 MAT-file", buf[126:128])}
	}
	switch v := order.Uint16(buf[124:126]); v {
	case 0x0100:
	case 0x0200:
		return nil, &FormatError{Offset: 124, Msg: "MAT-file version 7.3 is HDF5-based and not supported here; read it as HDF5"}
	default:
		return nil, &FormatError{Offset: 124, Msg: fmt.Sprintf("unsupported MAT-file version 0x%04x (want 0x0100)", v)}
	}

	vars := make(map[string]*Var)
	p := parser{order: order}
	off := headerLen
	for off < len(buf) {
		rest := buf[off:]
		if len(rest) < 8 {
			if allZero(rest) {
				break // trailing padding
			}
			return nil, &FormatError{Offset: int64(off), Msg: fmt.Sprintf("%d trailing bytes are too few for an element tag", len(rest))}
		}
		if skip := p.padding(buf, off); skip > 0 {
			off += skip
			continue
		}
		el, err := p.element(rest, int64(off))
		if err != nil {
			return nil, err
		}
		var v *Var
		switch el.typ {
		case miCOMPRESSED:
			inner, err := inflate(el.data, int64(off))
			if err != nil {
				return nil, err
			}
			iel, err := p.element(inner, 0)
			if err != nil {
				return nil, err
			}
			if iel.typ != miMATRIX {
				return nil, &FormatError{Offset: int64(off), Msg: fmt.Sprintf("compressed element holds data type %d, want miMATRIX (14)", iel.typ)}
			}
			v, err = p.matrix(iel.data, 8)
			if err != nil {
				return nil, err
			}
			// A compressed element is not padded: the next one follows at once.
			off += el.dataOff + len(el.data)
		case miMATRIX:
			v, err = p.matrix(el.data, int64(off+el.dataOff))
			if err != nil {
				return nil, err
			}
			off += el.next
		default:
			return nil, &FormatError{Offset: int64(off), Msg: fmt.Sprintf("top-level element of data type %d; want miMATRIX (14) or miCOMPRESSED (15)", el.typ)}
		}
		if v.Name == "" {
			continue
		}
		if _, dup := vars[v.Name]; dup {
			return nil, &FormatError{Offset: int64(off), Var: v.Name, Msg: "variable occurs twice"}
		}
		vars[v.Name] = v
	}
	return vars, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// MaxInflated bounds the decompressed size of one compressed element (8 GiB).
// Variables larger than that are not read.
var MaxInflated int64 = 8 << 30

// inflate decompresses the zlib stream of a miCOMPRESSED element at file offset off.
func inflate(data []byte, off int64) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, &FormatError{Offset: off, Msg: fmt.Sprintf("compressed element: %v", err)}
	}
	// A small stream can expand without bound (a "zip bomb"): stop at
	// MaxInflated bytes per element.
	out, err := io.ReadAll(io.LimitReader(zr, MaxInflated+1))
	if err == nil && int64(len(out)) > MaxInflated {
		return nil, &FormatError{Offset: off, Msg: fmt.Sprintf("compressed element expands beyond %d bytes", int64(MaxInflated))}
	}
	if err != nil {
		// MATLAB writes complete streams; a checksum or truncation error is a
		// damaged file.
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &FormatError{Offset: off, Msg: "compressed element is truncated"}
		}
		return nil, &FormatError{Offset: off, Msg: fmt.Sprintf("compressed element: %v", err)}
	}
	return out, nil
}

type parser struct {
	order binary.ByteOrder
}

// padding returns the number of zero bytes to skip at off: MATLAB does not
// pad compressed elements, but some writers pad them to 8 bytes. Zeros up to
// the next multiple of 8 are skipped when no element starts at off and one
// starts after them.
func (p *parser) padding(buf []byte, off int) int {
	pad := (8 - off%8) % 8
	if pad == 0 || off+pad+8 > len(buf) || !allZero(buf[off:off+pad]) {
		return 0
	}
	topLevel := func(at int) bool {
		t := p.order.Uint32(buf[at:])
		return t == miMATRIX || t == miCOMPRESSED
	}
	if topLevel(off) || !topLevel(off+pad) {
		return 0
	}
	return pad
}

// element is one data element: its type, its data bytes, the offset of the
// data from the start of the tag, and the offset of the next element (after
// padding to 8 bytes).
type element struct {
	typ     uint32
	data    []byte
	dataOff int
	next    int
}

// element parses the element whose tag starts at b[0]; off is the offset of
// b[0] for error messages.
func (p *parser) element(b []byte, off int64) (element, error) {
	if len(b) < 8 {
		return element{}, &FormatError{Offset: off, Msg: "truncated element tag"}
	}
	w := p.order.Uint32(b[0:4])
	if w>>16 != 0 {
		// Small data element: 2-byte length, 2-byte type, up to 4 data bytes.
		var n, t uint32
		if p.order == binary.LittleEndian {
			n, t = w>>16, w&0xffff
		} else {
			n, t = w&0xffff, w>>16
		}
		if n > 4 {
			return element{}, &FormatError{Offset: off, Msg: fmt.Sprintf("small data element of %d bytes (at most 4)", n)}
		}
		return element{typ: t, data: b[4 : 4+n], dataOff: 4, next: 8}, nil
	}
	t := w
	n := uint64(p.order.Uint32(b[4:8]))
	if n > uint64(len(b)-8) {
		return element{}, &FormatError{Offset: off, Msg: fmt.Sprintf("element of type %d claims %d bytes but only %d remain", t, n, len(b)-8)}
	}
	next := 8 + int(n)
	if pad := next % 8; pad != 0 && t != miCOMPRESSED {
		next += 8 - pad
		if next > len(b) {
			// Tolerate missing padding at the very end of a stream.
			next = len(b)
		}
	}
	return element{typ: t, data: b[8 : 8+n], dataOff: 8, next: next}, nil
}

// matrix decodes the contents of a miMATRIX element (without its tag); off is
// the offset of b[0] for error messages.
func (p *parser) matrix(b []byte, off int64) (*Var, error) {
	v := &Var{}
	pos := 0
	sub := func(what string) (element, error) {
		if pos >= len(b) {
			return element{}, &FormatError{Offset: off + int64(pos), Var: v.Name, Msg: "missing " + what}
		}
		el, err := p.element(b[pos:], off+int64(pos))
		if err != nil {
			return element{}, err
		}
		el.dataOff += pos
		pos += el.next
		return el, nil
	}
	if len(b) == 0 {
		// MATLAB writes empty miMATRIX elements for empty cell entries.
		return v, nil
	}

	flags, err := sub("array flags")
	if err != nil {
		return nil, err
	}
	if flags.typ != miUINT32 || len(flags.data) != 8 {
		return nil, &FormatError{Offset: off, Msg: fmt.Sprintf("array flags of type %d and %d bytes, want miUINT32 (6) and 8 bytes", flags.typ, len(flags.data))}
	}
	fw := p.order.Uint32(flags.data[0:4])
	v.Class = Class(fw & 0xff)
	v.Complex = fw&0x0800 != 0
	v.Logical = fw&0x0200 != 0
	if v.Class < ClassCell || v.Class > ClassOpaque {
		return nil, &FormatError{Offset: off, Msg: fmt.Sprintf("unknown array class %d", uint8(v.Class))}
	}

	if v.Class == ClassOpaque {
		// Opaque values have no dimensions subelement: flags, name, then
		// the object's own encoding, which is skipped.
		name, err := sub("array name")
		if err != nil {
			return nil, err
		}
		v.Name, err = p.name(name, off)
		return v, err
	}

	dimsEl, err := sub("dimensions")
	if err != nil {
		return nil, err
	}
	if dimsEl.typ != miINT32 || len(dimsEl.data)%4 != 0 || len(dimsEl.data) < 8 {
		return nil, &FormatError{Offset: off + int64(dimsEl.dataOff), Msg: fmt.Sprintf("dimensions of type %d and %d bytes, want at least two miINT32 (5)", dimsEl.typ, len(dimsEl.data))}
	}
	nd := len(dimsEl.data) / 4
	v.Dims = make([]int, nd)
	total := int64(1)
	for i := range nd {
		d := int32(p.order.Uint32(dimsEl.data[4*i:]))
		if d < 0 {
			return nil, &FormatError{Offset: off + int64(dimsEl.dataOff), Msg: fmt.Sprintf("negative dimension %d", d)}
		}
		v.Dims[i] = int(d)
		if d > 0 && total > maxElements/int64(d) {
			return nil, &FormatError{Offset: off + int64(dimsEl.dataOff), Msg: fmt.Sprintf("dimensions %v exceed %d elements", v.Dims[:i+1], int64(maxElements))}
		}
		total *= int64(d)
	}

	nameEl, err := sub("array name")
	if err != nil {
		return nil, err
	}
	if v.Name, err = p.name(nameEl, off); err != nil {
		return nil, err
	}

	switch v.Class {
	case ClassCell, ClassStruct, ClassObject, ClassSparse, ClassFunction:
		return v, nil // contents skipped
	}

	re, err := sub("real part")
	if err != nil {
		return nil, err
	}
	if v.Real, err = p.values(re, v, int(total), off); err != nil {
		return nil, err
	}
	v.Stored = DataType(re.typ)
	if v.Complex {
		im, err := sub("imaginary part")
		if err != nil {
			return nil, err
		}
		if v.Imag, err = p.values(im, v, int(total), off); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (p *parser) name(el element, off int64) (string, error) {
	if el.typ != miINT8 && el.typ != miUINT8 && el.typ != miUTF8 {
		return "", &FormatError{Offset: off + int64(el.dataOff), Msg: fmt.Sprintf("array name of data type %d, want miINT8 (1)", el.typ)}
	}
	if !utf8.Valid(el.data) {
		return "", &FormatError{Offset: off + int64(el.dataOff), Msg: "array name is not valid text"}
	}
	return string(el.data), nil
}

// values converts the numeric data element el to n float64 values.
func (p *parser) values(el element, v *Var, n int, off int64) ([]float64, error) {
	at := off + int64(el.dataOff)
	if v.Class == ClassChar && el.typ == miUTF8 {
		if !utf8.Valid(el.data) {
			return nil, &FormatError{Offset: at, Var: v.Name, Msg: "char data is not valid UTF-8"}
		}
		out := make([]float64, 0, n)
		for _, r := range string(el.data) {
			out = append(out, float64(r))
		}
		if len(out) != n {
			return nil, &FormatError{Offset: at, Var: v.Name, Msg: fmt.Sprintf("%d characters for dimensions %v", len(out), v.Dims)}
		}
		return out, nil
	}
	size := elemSize(el.typ)
	if size == 0 || el.typ == miUTF8 {
		return nil, &FormatError{Offset: at, Var: v.Name, Msg: fmt.Sprintf("data of type %d is not numeric", el.typ)}
	}
	if len(el.data) != n*size {
		return nil, &FormatError{Offset: at, Var: v.Name, Msg: fmt.Sprintf("%d data bytes of type %d for dimensions %v (want %d)", len(el.data), el.typ, v.Dims, n*size)}
	}
	out := make([]float64, n)
	b, o := el.data, p.order
	switch el.typ {
	case miINT8:
		for i := range out {
			out[i] = float64(int8(b[i]))
		}
	case miUINT8:
		for i := range out {
			out[i] = float64(b[i])
		}
	case miINT16:
		for i := range out {
			out[i] = float64(int16(o.Uint16(b[2*i:])))
		}
	case miUINT16, miUTF16:
		for i := range out {
			out[i] = float64(o.Uint16(b[2*i:]))
		}
	case miINT32:
		for i := range out {
			out[i] = float64(int32(o.Uint32(b[4*i:])))
		}
	case miUINT32, miUTF32:
		for i := range out {
			out[i] = float64(o.Uint32(b[4*i:]))
		}
	case miSINGLE:
		for i := range out {
			out[i] = float64(math.Float32frombits(o.Uint32(b[4*i:])))
		}
	case miDOUBLE:
		for i := range out {
			out[i] = math.Float64frombits(o.Uint64(b[8*i:]))
		}
	case miINT64:
		for i := range out {
			out[i] = float64(int64(o.Uint64(b[8*i:])))
		}
	case miUINT64:
		for i := range out {
			out[i] = float64(o.Uint64(b[8*i:]))
		}
	}
	return out, nil
}
