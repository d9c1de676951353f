package matfile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"math"
)

// This file writes small MAT-files for the tests, independently of the
// reader: elements are laid out from the format description (level-5
// MAT-file format, MathWorks), not from Read's code.

type testVar struct {
	name    string
	class   Class
	dims    []int32
	logical bool
	// typ is the data type in which re (and im) are stored.
	typ    uint32
	re, im []float64
	// raw, if set, replaces the whole content of the miMATRIX element after
	// the name (used for cells and structs).
	raw []byte
}

type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

type encoder struct {
	order      byteOrder
	compress   bool
	smallNames bool // names of up to 4 bytes in the small element format
}

func (e encoder) file(vars ...testVar) []byte {
	var b bytes.Buffer
	text := make([]byte, 116)
	copy(text, "MATLAB 5.0 MAT-file, written by the matfile tests")
	for i := len("MATLAB 5.0 MAT-file, written by the matfile tests"); i < 116; i++ {
		text[i] = ' '
	}
	b.Write(text)
	b.Write(make([]byte, 8)) // subsystem offset
	v := make([]byte, 2)
	e.order.PutUint16(v, 0x0100)
	b.Write(v)
	if e.order == byteOrder(binary.LittleEndian) {
		b.WriteString("IM")
	} else {
		b.WriteString("MI")
	}
	for _, tv := range vars {
		m := e.matrix(tv)
		if e.compress {
			var z bytes.Buffer
			w := zlib.NewWriter(&z)
			w.Write(m)
			w.Close()
			b.Write(e.tag(miCOMPRESSED, z.Len()))
			b.Write(z.Bytes())
		} else {
			b.Write(m)
		}
	}
	return b.Bytes()
}

func (e encoder) tag(t uint32, n int) []byte {
	out := make([]byte, 8)
	e.order.PutUint32(out[0:], t)
	e.order.PutUint32(out[4:], uint32(n))
	return out
}

// element returns a full element (tag, data, padding to 8 bytes).
func (e encoder) element(t uint32, data []byte) []byte {
	out := append(e.tag(t, len(data)), data...)
	for len(out)%8 != 0 {
		out = append(out, 0)
	}
	return out
}

// small returns a small data element (at most 4 bytes of data).
func (e encoder) small(t uint32, data []byte) []byte {
	out := make([]byte, 8)
	if e.order == byteOrder(binary.LittleEndian) {
		e.order.PutUint32(out[0:], uint32(len(data))<<16|t)
	} else {
		e.order.PutUint32(out[0:], t<<16|uint32(len(data)))
	}
	copy(out[4:], data)
	return out
}

func (e encoder) matrix(tv testVar) []byte {
	var body []byte
	flags := make([]byte, 8)
	w := uint32(tv.class)
	if tv.im != nil {
		w |= 0x0800
	}
	if tv.logical {
		w |= 0x0200
	}
	e.order.PutUint32(flags, w)
	body = append(body, e.element(miUINT32, flags)...)
	dims := make([]byte, 4*len(tv.dims))
	for i, d := range tv.dims {
		e.order.PutUint32(dims[4*i:], uint32(d))
	}
	body = append(body, e.element(miINT32, dims)...)
	if e.smallNames && len(tv.name) <= 4 {
		body = append(body, e.small(miINT8, []byte(tv.name))...)
	} else {
		body = append(body, e.element(miINT8, []byte(tv.name))...)
	}
	if tv.raw != nil {
		body = append(body, tv.raw...)
	} else {
		body = append(body, e.element(tv.typ, e.values(tv.typ, tv.re))...)
		if tv.im != nil {
			body = append(body, e.element(tv.typ, e.values(tv.typ, tv.im))...)
		}
	}
	return append(e.tag(miMATRIX, len(body)), body...)
}

func (e encoder) values(t uint32, x []float64) []byte {
	var out []byte
	for _, v := range x {
		switch t {
		case miINT8:
			out = append(out, byte(int8(v)))
		case miUINT8, miUTF8:
			out = append(out, byte(v))
		case miINT16:
			out = e.order.AppendUint16(out, uint16(int16(v)))
		case miUINT16, miUTF16:
			out = e.order.AppendUint16(out, uint16(v))
		case miINT32:
			out = e.order.AppendUint32(out, uint32(int32(v)))
		case miUINT32:
			out = e.order.AppendUint32(out, uint32(v))
		case miSINGLE:
			out = e.order.AppendUint32(out, math.Float32bits(float32(v)))
		case miDOUBLE:
			out = e.order.AppendUint64(out, math.Float64bits(v))
		case miINT64:
			out = e.order.AppendUint64(out, uint64(int64(v)))
		case miUINT64:
			out = e.order.AppendUint64(out, uint64(v))
		default:
			panic("test encoder: unsupported type")
		}
	}
	return out
}
