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
//
// The input is read as a stream, one element at a time: compressed elements
// are inflated as they are read, never held whole. The total size to which
// the compressed elements of one file expand is bounded (Options.MaxInflated),
// and a variable whose declared size exceeds what is left of the bound is
// refused from its header, before its data are inflated. Scan lists the
// variables (name, class, dimensions) with the same checks as Read but keeps
// none of the data: its memory is a few small buffers whatever the file.
package matfile

import (
	"errors"
	"fmt"
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

// FormatError reports malformed or unsupported MAT-file input, or input that
// exceeds the inflate bound (then Err is ErrTooLarge).
type FormatError struct {
	// Offset is the byte offset of the problem: in the file, or for data inside
	// a compressed element, in that element's decompressed stream.
	Offset int64
	// Var names the variable being decoded, when known.
	Var string
	Msg string
	// Err is ErrTooLarge when the file is refused for the size of its
	// compressed data rather than for being malformed; else nil.
	Err error
}

func (e *FormatError) Error() string {
	if e.Var != "" {
		return fmt.Sprintf("matfile: variable %q at offset %d: %s", e.Var, e.Offset, e.Msg)
	}
	return fmt.Sprintf("matfile: offset %d: %s", e.Offset, e.Msg)
}

// Unwrap returns Err, so that errors.Is(err, ErrTooLarge) holds for a file
// refused for its size.
func (e *FormatError) Unwrap() error { return e.Err }

// ErrTooLarge is the Err of a *FormatError for a file whose compressed
// elements expand, or declare that they expand, beyond Options.MaxInflated.
var ErrTooLarge = errors.New("matfile: compressed data exceed the inflate bound")

// DefaultMaxInflated is the inflate bound of Read and of a zero
// Options.MaxInflated: 2 GiB in all for the compressed elements of one file.
const DefaultMaxInflated int64 = 2 << 30

// Options configure ReadWithOptions and Scan.
type Options struct {
	// MaxInflated bounds the total number of bytes to which the compressed
	// (miCOMPRESSED) elements of one file expand, summed over all of them;
	// 0 means DefaultMaxInflated. Uncompressed elements are not counted: they
	// are no larger than the file.
	MaxInflated int64
}

func (o Options) maxInflated() int64 {
	if o.MaxInflated <= 0 {
		return DefaultMaxInflated
	}
	return o.MaxInflated
}

// Header describes one variable of a MAT-file without its data: what Scan
// reports for each variable, and what Var.Header returns.
type Header struct {
	Name  string
	Class Class
	// Dims are MATLAB's dimensions, as in Var.Dims.
	Dims    []int
	Logical bool
	Complex bool
}

// Header returns the name, class, dimensions and flags of v.
func (v *Var) Header() Header {
	return Header{Name: v.Name, Class: v.Class, Dims: v.Dims, Logical: v.Logical, Complex: v.Complex}
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
