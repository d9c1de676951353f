package walloc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"eddy/field"
)

// Layout of version 1 (see the package documentation for the table).
const (
	headerLen  = 50 // bytes before the payload
	trailerLen = 4  // CRC-32C after the payload
	version    = 1

	offVersion  = 4
	offSignal   = 5
	offCoding   = 6
	offLevels   = 7
	offK        = 8
	offBorder   = 10
	offReserved = 11
	offSize0    = 12 // height | samples
	offSize1    = 16 // width | 0
	offChannels = 20
	offPad0     = 22 // top | start
	offPad1     = 24 // bottom | end
	offPad2     = 26 // left | 0
	offPad3     = 28 // right | 0
	offModel    = 30
	offPayload  = 46 // payload length

	// maxLatentsPerByte bounds the latents a range-coded payload of P bytes
	// can hold: every latent costs at least one decision, every decision at
	// least −log2(1 − 2^-10 + 2^-19) ≈ 0.0014068 bits (probabilities are
	// kept in [pMin, probOne−pMin]), and the decoder, which reads 4 bytes
	// plus one per 8 bits of cost less 8, reads at most 4 bytes past the
	// payload: so K·h·w ≤ 8(P+1)/0.0014068 < 5700(P+1).
	maxLatentsPerByte = 5700
	// maxInflate is deflate's largest expansion, 258 bytes for every two
	// bits; a PNG payload of P bytes holds at most 1032·P bytes of filtered
	// rows.
	maxInflate = 1032
)

var magic = [4]byte{0x89, 'W', 'L', 'C'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// FormatError reports a malformed or truncated .wlc file, or one this
// package cannot read (another version, sizes beyond the limits).
type FormatError struct {
	// Offset is the byte offset in the file of the problem: the field at
	// fault, or how far the file went when it ended early.
	Offset int64
	Msg    string
	// Err is io.ErrUnexpectedEOF for a truncated file, ErrChecksum for a
	// checksum mismatch, the field.Errors of a header that fails
	// Header.Validate, else nil.
	Err error
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("walloc: offset %d: %s", e.Offset, e.Msg)
}

// Unwrap returns Err, so that errors.Is(err, io.ErrUnexpectedEOF) and
// errors.Is(err, ErrChecksum) hold for truncated and corrupted files.
func (e *FormatError) Unwrap() error { return e.Err }

// ErrChecksum is the Err of a *FormatError for a file whose CRC-32C does not
// match its contents.
var ErrChecksum = errors.New("walloc: checksum mismatch")

// WriteLatents writes a .wlc file of the latents q with header h to w. q is
// the row-major array of shape h.LatentShape() (values in [−128, 127], the
// rounded companded latents of spec §1.4) and is coded with h.Coding. An
// invalid header is returned as an error wrapping its field.Errors. Panics
// if len(q) is not h.NumLatents().
func WriteLatents(w io.Writer, h Header, q []int8) error {
	if err := h.Validate(); err != nil {
		return fmt.Errorf("walloc: invalid header: %w", err)
	}
	if len(q) != h.NumLatents() {
		panic(fmt.Sprintf("walloc: %d latents for a header of shape %v (%d)", len(q), h.LatentShape(), h.NumLatents()))
	}
	k, rows, cols := h.latentDims()
	audio := h.Signal == Audio
	buf := make([]byte, headerLen, headerLen+len(q)/2+64)
	putHeader(buf, h)
	var err error
	switch h.Coding {
	case CodingPNG:
		buf, err = encodePNG(buf, q, int(k), int(rows), int(cols), audio)
		if err != nil {
			return err
		}
	case CodingRange:
		buf = encodeRange(buf, q, int(k), int(rows), int(cols), audio)
	}
	p := len(buf) - headerLen
	if uint64(p) > math.MaxUint32 {
		return fmt.Errorf("walloc: payload of %d bytes exceeds the format's 4 GiB", p)
	}
	if err := checkPayloadLen(h, int64(p)); err != nil {
		// Cannot happen: the bounds hold for every encoder output. Checked
		// so that a file this package writes is always one it reads.
		return fmt.Errorf("walloc: writing: %w", err)
	}
	binary.LittleEndian.PutUint32(buf[offPayload:], uint32(p))
	buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(buf, castagnoli))
	_, err = w.Write(buf)
	return err
}

// ReadLatents reads a .wlc file from r: its header and its latents, the
// row-major array of shape Header.LatentShape(). It reads exactly the file's
// bytes and no further. Malformed, truncated and corrupted files give a
// *FormatError; errors of r other than an early end are returned wrapped.
//
// A header is checked before anything is allocated for it: against the
// limits (MaxLatents and the others), and its payload length against the
// latent count, which bounds how much a payload of that length can expand
// to. The payload is read as it arrives, so a file claiming a long payload
// costs memory only for the bytes it really has; the checksum is verified
// before the payload is decoded.
func ReadLatents(r io.Reader) (Header, []int8, error) {
	hdr, h, p, err := readHeader(r)
	if err != nil {
		return Header{}, nil, err
	}
	file, err := readPayload(r, hdr, p)
	if err != nil {
		return Header{}, nil, err
	}
	sum := binary.LittleEndian.Uint32(file[headerLen+p:])
	if got := crc32.Checksum(file[:headerLen+p], castagnoli); got != sum {
		return Header{}, nil, &FormatError{Offset: int64(headerLen + p), Msg: fmt.Sprintf("CRC-32C %08x of the file does not match the stored %08x", got, sum), Err: ErrChecksum}
	}
	q, err := decodePayload(h, file[headerLen:headerLen+p])
	if err != nil {
		return Header{}, nil, err
	}
	return h, q, nil
}

// ReadHeader reads and checks the header of a .wlc file from r, without its
// payload: the file's checksum is not verified (ReadLatents does).
func ReadHeader(r io.Reader) (Header, error) {
	_, h, _, err := readHeader(r)
	return h, err
}

// putHeader writes the header of h into b[:headerLen], payload length 0.
func putHeader(b []byte, h Header) {
	le := binary.LittleEndian
	copy(b, magic[:])
	b[offVersion] = version
	b[offSignal] = signalCode[h.Signal]
	b[offCoding] = codingCode[h.Coding]
	b[offLevels] = uint8(h.Levels)
	le.PutUint16(b[offK:], uint16(h.LatentChannels))
	b[offBorder] = uint8(h.Border)
	b[offReserved] = 0
	le.PutUint16(b[offChannels:], uint16(h.Channels))
	if h.Signal == Audio {
		le.PutUint32(b[offSize0:], uint32(h.Samples))
		le.PutUint32(b[offSize1:], 0)
		le.PutUint16(b[offPad0:], uint16(h.PadStart))
		le.PutUint16(b[offPad1:], uint16(h.PadEnd))
		le.PutUint16(b[offPad2:], 0)
		le.PutUint16(b[offPad3:], 0)
	} else {
		le.PutUint32(b[offSize0:], uint32(h.Height))
		le.PutUint32(b[offSize1:], uint32(h.Width))
		le.PutUint16(b[offPad0:], uint16(h.PadTop))
		le.PutUint16(b[offPad1:], uint16(h.PadBottom))
		le.PutUint16(b[offPad2:], uint16(h.PadLeft))
		le.PutUint16(b[offPad3:], uint16(h.PadRight))
	}
	copy(b[offModel:], h.Model[:])
	le.PutUint32(b[offPayload:], 0)
}

// The codes of the signal and coding bytes, both ways.
var (
	signals    = [...]Signal{1: Image, 2: Audio}
	codings    = [...]Coding{1: CodingPNG, 2: CodingRange}
	signalCode = map[Signal]byte{Image: 1, Audio: 2}
	codingCode = map[Coding]byte{CodingPNG: 1, CodingRange: 2}
)

// fieldOffset locates the header fields by their JSON Pointer.
var fieldOffset = map[string]int64{
	"/signal": offSignal, "/coding": offCoding, "/model": offModel,
	"/levels": offLevels, "/latent_channels": offK, "/border": offBorder,
	"/channels": offChannels,
	"/height":   offSize0, "/samples": offSize0, "/width": offSize1,
	"/pad_top": offPad0, "/pad_start": offPad0, "/pad_bottom": offPad1, "/pad_end": offPad1,
	"/pad_left": offPad2, "/pad_right": offPad3,
}

// readHeader reads and checks the header; it returns its bytes, the
// header and the payload length.
func readHeader(r io.Reader) ([]byte, Header, int, error) {
	b := make([]byte, headerLen)
	if n, err := io.ReadFull(r, b); err != nil {
		return nil, Header{}, 0, readErr(err, int64(n), "the header")
	}
	h, err := parseHeader(b)
	if err != nil {
		return nil, Header{}, 0, err
	}
	p := int64(binary.LittleEndian.Uint32(b[offPayload:]))
	if err := checkPayloadLen(h, p); err != nil {
		return nil, Header{}, 0, err
	}
	return b, h, int(p), nil
}

// readErr turns an early end of the file into a *FormatError at offset
// off, and wraps other errors of the reader.
func readErr(err error, off int64, what string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return &FormatError{Offset: off, Msg: "file ends inside " + what, Err: io.ErrUnexpectedEOF}
	}
	return fmt.Errorf("walloc: reading %s: %w", what, err)
}

// parseHeader decodes and validates b[:headerLen].
func parseHeader(b []byte) (Header, error) {
	le := binary.LittleEndian
	if !bytes.Equal(b[:4], magic[:]) {
		return Header{}, &FormatError{Offset: 0, Msg: fmt.Sprintf("magic % x is not that of a .wlc file (% x)", b[:4], magic)}
	}
	if b[offVersion] != version {
		return Header{}, &FormatError{Offset: offVersion, Msg: fmt.Sprintf("version %d is not supported (want %d)", b[offVersion], version)}
	}
	var h Header
	if v := b[offSignal]; int(v) >= len(signals) || signals[v] == "" {
		return Header{}, &FormatError{Offset: offSignal, Msg: fmt.Sprintf("signal %d is neither 1 (image) nor 2 (audio)", v)}
	}
	if v := b[offCoding]; int(v) >= len(codings) || codings[v] == "" {
		return Header{}, &FormatError{Offset: offCoding, Msg: fmt.Sprintf("coding %d is neither 1 (png) nor 2 (range)", v)}
	}
	h.Signal, h.Coding = signals[b[offSignal]], codings[b[offCoding]]
	if b[offReserved] != 0 {
		return Header{}, &FormatError{Offset: offReserved, Msg: fmt.Sprintf("reserved byte is %d, want 0", b[offReserved])}
	}
	h.Levels = int(b[offLevels])
	h.LatentChannels = int(le.Uint16(b[offK:]))
	h.Border = int(b[offBorder])
	h.Channels = int(le.Uint16(b[offChannels:]))
	size0, size1 := int64(le.Uint32(b[offSize0:])), int64(le.Uint32(b[offSize1:]))
	if size0 > MaxSamples || size1 > MaxSide {
		// Beyond every limit; refused here so that the conversion to int
		// below is exact on 32-bit platforms too.
		off, v := int64(offSize0), size0
		if size1 > MaxSide {
			off, v = offSize1, size1
		}
		return Header{}, &FormatError{Offset: off, Msg: fmt.Sprintf("size %d exceeds the limits", v)}
	}
	pads := [4]int{int(le.Uint16(b[offPad0:])), int(le.Uint16(b[offPad1:])), int(le.Uint16(b[offPad2:])), int(le.Uint16(b[offPad3:]))}
	if h.Signal == Audio {
		h.Samples, h.Width = int(size0), int(size1)
		h.PadStart, h.PadEnd, h.PadLeft, h.PadRight = pads[0], pads[1], pads[2], pads[3]
	} else {
		h.Height, h.Width = int(size0), int(size1)
		h.PadTop, h.PadBottom, h.PadLeft, h.PadRight = pads[0], pads[1], pads[2], pads[3]
	}
	copy(h.Model[:], b[offModel:])
	if err := h.Validate(); err != nil {
		fe := &FormatError{Msg: "invalid header: " + err.Error(), Err: err}
		var errs field.Errors
		if errors.As(err, &errs) && len(errs) > 0 {
			fe.Offset = fieldOffset[errs[0].Path]
		}
		return Header{}, fe
	}
	return h, nil
}

// checkPayloadLen refuses a payload length that no file of header h can
// have: longer than the coding can make it, or shorter than the latents
// need (see maxLatentsPerByte and maxInflate).
func checkPayloadLen(h Header, p int64) error {
	k, rows, cols := h.latentDims()
	n := k * rows * cols
	var lo, hi int64
	switch h.Coding {
	case CodingRange:
		// At most 15 decisions per latent of at most 10.003 bits each.
		hi = 20*n + 8
		if n > maxLatentsPerByte*(p+1) {
			lo = n/maxLatentsPerByte - 1
		}
	case CodingPNG:
		tn, th, tw := tileGeometry(int(k), int(rows), int(cols), h.Signal == Audio)
		raw := int64(tn*th) * int64(tn*tw+1) // filtered rows: a filter byte each
		hi = raw + raw/64 + 1024
		if raw > maxInflate*p {
			lo = (raw + maxInflate - 1) / maxInflate
		}
	}
	if p > hi || p < lo {
		return &FormatError{Offset: offPayload, Msg: fmt.Sprintf("payload length %d is impossible for %d latents coded %s (want %d to %d)", p, n, h.Coding, lo, hi)}
	}
	return nil
}

// readPayload reads the payload of p bytes and the checksum that follow the
// header hdr, and returns the whole file. The buffer starts at 1 MiB at most
// and doubles as bytes arrive.
func readPayload(r io.Reader, hdr []byte, p int) ([]byte, error) {
	total := headerLen + p + trailerLen
	buf := make([]byte, headerLen, min(total, 1<<20))
	copy(buf, hdr)
	for len(buf) < total {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(total, 2*cap(buf)))
			copy(grown, buf)
			buf = grown
		}
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			what := "the payload"
			if len(buf) >= headerLen+p {
				what = "the checksum"
			}
			return nil, readErr(err, int64(len(buf)), what)
		}
	}
	return buf, nil
}

// decodePayload decodes the latents of a payload whose checksum matched.
func decodePayload(h Header, payload []byte) ([]int8, error) {
	k, rows, cols := h.latentDims()
	audio := h.Signal == Audio
	q := make([]int8, k*rows*cols)
	switch h.Coding {
	case CodingPNG:
		if off, err := decodePNG(q, payload, int(k), int(rows), int(cols), audio); err != nil {
			return nil, &FormatError{Offset: int64(headerLen + off), Msg: err.Error()}
		}
	case CodingRange:
		pos, over := decodeRange(q, payload, int(k), int(rows), int(cols), audio)
		switch {
		case over > maxOver:
			return nil, &FormatError{Offset: int64(headerLen + len(payload)), Msg: "range-coded payload ends before its latents"}
		case pos < len(payload):
			return nil, &FormatError{Offset: int64(headerLen + pos), Msg: fmt.Sprintf("%d bytes follow the range-coded latents", len(payload)-pos)}
		}
	}
	return q, nil
}
