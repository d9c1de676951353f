package walloc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"eddy/field"
)

func imageHeader(coding Coding, k, height, width, levels int) Header {
	return Header{Signal: Image, Coding: coding, Levels: levels, LatentChannels: k, Channels: 3, Height: height, Width: width}
}

func audioHeader(coding Coding, k, samples, levels, border int) Header {
	pad := (1<<levels - samples%(1<<levels)) % (1 << levels)
	return Header{Signal: Audio, Coding: coding, Levels: levels, LatentChannels: k, Channels: 2, Samples: samples,
		PadStart: pad / 2, PadEnd: pad - pad/2, Border: border}
}

func encodeFile(t testing.TB, h Header, q []int8) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteLatents(&buf, h, q); err != nil {
		t.Fatalf("WriteLatents: %v", err)
	}
	return buf.Bytes()
}

// checkRoundTrip writes q with h, reads the file back and requires the same
// header and bit-identical latents; it returns the file.
func checkRoundTrip(t *testing.T, h Header, q []int8) []byte {
	t.Helper()
	file := encodeFile(t, h, q)
	got, gq, err := ReadLatents(bytes.NewReader(file))
	if err != nil {
		t.Fatalf("ReadLatents: %v", err)
	}
	if got != h {
		t.Fatalf("header read back as %+v, want %+v", got, h)
	}
	if i := firstDiff(gq, q); i >= 0 {
		t.Fatalf("latent %d of %d read back as %d, want %d", i, len(q), gq[i], q[i])
	}
	return file
}

func firstDiff(a, b []int8) int {
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	type shape struct {
		name string
		h    func(Coding) Header
	}
	shapes := []shape{
		{"image K=12 J=3 64x48", func(c Coding) Header { return imageHeader(c, 12, 64, 48, 3) }},
		{"image K=48 J=3 40x24", func(c Coding) Header { return imageHeader(c, 48, 40, 24, 3) }},
		{"image K=1 J=1 2x2", func(c Coding) Header { return imageHeader(c, 1, 2, 2, 1) }},
		{"image K=3 J=2 padded 30x21", func(c Coding) Header {
			h := imageHeader(c, 3, 30, 21, 2)
			h.PadTop, h.PadBottom, h.PadLeft, h.PadRight = 1, 1, 1, 2
			return h
		}},
		{"image K=7 J=4 border 1 16x64", func(c Coding) Header {
			h := imageHeader(c, 7, 16, 64, 4)
			h.Border = 1
			return h
		}},
		{"audio K=27 J=8 border 2", func(c Coding) Header { return audioHeader(c, 27, 9000, 8, 2) }},
		{"audio K=108 J=8", func(c Coding) Header { return audioHeader(c, 108, 1<<16, 8, 0) }},
		{"audio K=5 J=3 one frame", func(c Coding) Header { return audioHeader(c, 5, 8, 3, 0) }},
	}
	type data struct {
		name string
		make func(n int, h Header) []int8
	}
	datas := []data{
		{"uniform", func(n int, _ Header) []int8 { return uniformLatents(rng, n) }},
		{"laplacian b=0.3", func(n int, _ Header) []int8 { return iidLaplacian(rng, n, 0.3) }},
		{"laplacian b=3", func(n int, _ Header) []int8 { return iidLaplacian(rng, n, 3) }},
		{"laplacian b=40", func(n int, _ Header) []int8 { return iidLaplacian(rng, n, 40) }},
		{"structured", func(n int, h Header) []int8 {
			s := h.LatentShape()
			if len(s) == 2 {
				return structuredLatents(rng, s[0], 1, s[1], 2)
			}
			return structuredLatents(rng, s[0], s[1], s[2], 2)
		}},
		{"zero", func(n int, _ Header) []int8 { return make([]int8, n) }},
		{"extremes", func(n int, _ Header) []int8 {
			q := make([]int8, n)
			for i := range q {
				q[i] = [...]int8{-128, 127, 0, -128, -128, 127, 127, 1, -1}[rng.IntN(9)]
			}
			return q
		}},
	}
	for _, coding := range []Coding{CodingRange, CodingPNG} {
		for _, s := range shapes {
			for _, d := range datas {
				t.Run(fmt.Sprintf("%s/%s/%s", coding, s.name, d.name), func(t *testing.T) {
					h := s.h(coding)
					if err := h.Validate(); err != nil {
						t.Fatal(err)
					}
					checkRoundTrip(t, h, d.make(h.NumLatents(), h))
				})
			}
		}
	}
}

// The PNG coding tiles the channels as the reference's latent_to_pil with
// one plane: channel i·n + j at tile row i, tile column j, values + 128.
func TestPNGTiling(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 9))
	t.Run("image", func(t *testing.T) {
		h := imageHeader(CodingPNG, 12, 24, 40, 3) // latents 12 × 3 × 5, n = 4
		q := uniformLatents(rng, h.NumLatents())
		img := decodePayloadPNG(t, encodeFile(t, h, q))
		if b := img.Bounds(); b.Dx() != 4*5 || b.Dy() != 4*3 {
			t.Fatalf("tiled image is %v, want 20×12", b)
		}
		for k := range 16 {
			for y := range 3 {
				for x := range 5 {
					want := uint8(128) // padding channels 12..15
					if k < 12 {
						want = uint8(int(q[(k*3+y)*5+x]) + 128)
					}
					if got := img.GrayAt((k%4)*5+x, (k/4)*3+y).Y; got != want {
						t.Fatalf("channel %d (%d, %d): pixel %d, want %d", k, y, x, got, want)
					}
				}
			}
		}
	})
	t.Run("audio", func(t *testing.T) {
		h := audioHeader(CodingPNG, 5, 600*8, 3, 0) // latents 5 × 600: 3 rows of 256, n = 3
		q := uniformLatents(rng, h.NumLatents())
		img := decodePayloadPNG(t, encodeFile(t, h, q))
		if b := img.Bounds(); b.Dx() != 3*256 || b.Dy() != 3*3 {
			t.Fatalf("tiled image is %v, want 768×9", b)
		}
		for k := range 9 {
			for i := range 3 * 256 {
				want := uint8(128)
				if k < 5 && i < 600 {
					want = uint8(int(q[k*600+i]) + 128)
				}
				if got := img.GrayAt((k%3)*256+i%256, (k/3)*3+i/256).Y; got != want {
					t.Fatalf("channel %d frame %d: pixel %d, want %d", k, i, got, want)
				}
			}
		}
	})
}

func decodePayloadPNG(t *testing.T, file []byte) *image.Gray {
	t.Helper()
	m, err := png.Decode(bytes.NewReader(file[headerLen : len(file)-trailerLen]))
	if err != nil {
		t.Fatal(err)
	}
	g, ok := m.(*image.Gray)
	if !ok {
		t.Fatalf("payload decodes to %T, want *image.Gray", m)
	}
	return g
}

// The header is laid out byte by byte as the package documentation says.
func TestHeaderLayout(t *testing.T) {
	h := Header{Signal: Image, Coding: CodingRange, Levels: 3, LatentChannels: 0x0130, Border: 2, Channels: 3,
		Height: 0x01020304, Width: 0x0a0b, PadTop: 1, PadBottom: 0x0203, PadLeft: 4, PadRight: 5}
	for i := range h.Model {
		h.Model[i] = byte(0xa0 + i)
	}
	b := make([]byte, headerLen)
	putHeader(b, h)
	want := []byte{0x89, 'W', 'L', 'C', 1, 1, 2, 3, 0x30, 0x01, 2, 0,
		4, 3, 2, 1, 0x0b, 0x0a, 0, 0, 3, 0, 1, 0, 3, 2, 4, 0, 5, 0,
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
		0, 0, 0, 0}
	if !bytes.Equal(b, want) {
		t.Fatalf("header\n% x\nwant\n% x", b, want)
	}
	a := audioHeader(CodingPNG, 108, 1000, 3, 2)
	putHeader(b, a)
	if b[5] != 2 || b[6] != 1 || binary.LittleEndian.Uint32(b[12:]) != 1000 || binary.LittleEndian.Uint32(b[16:]) != 0 ||
		binary.LittleEndian.Uint16(b[22:]) != uint16(a.PadStart) || binary.LittleEndian.Uint16(b[24:]) != uint16(a.PadEnd) {
		t.Fatalf("audio header % x", b)
	}
}

// A file is header, payload, CRC-32C of both; BitsPerPixel counts all of it.
func TestFileLayoutAndRate(t *testing.T) {
	h := imageHeader(CodingRange, 12, 64, 64, 3)
	file := checkRoundTrip(t, h, iidLaplacian(rand.New(rand.NewPCG(3, 1)), h.NumLatents(), 1))
	p := int(binary.LittleEndian.Uint32(file[offPayload:]))
	if len(file) != headerLen+p+trailerLen {
		t.Fatalf("file of %d bytes, payload length %d: want %d", len(file), p, headerLen+p+trailerLen)
	}
	if sum := crc32.Checksum(file[:headerLen+p], crc32.MakeTable(crc32.Castagnoli)); sum != binary.LittleEndian.Uint32(file[headerLen+p:]) {
		t.Fatalf("stored CRC is not the CRC-32C of header and payload")
	}
	if got, want := BitsPerPixel(len(file), h), 8*float64(len(file))/(64*64); got != want {
		t.Fatalf("BitsPerPixel = %v, want %v", got, want)
	}
	a := audioHeader(CodingRange, 27, 1000, 8, 2)
	if got, want := BitsPerPixel(500, a), 8*500/(1000*2.0); got != want {
		t.Fatalf("BitsPerPixel of audio = %v, want %v bits per sample", got, want)
	}
	rh, err := ReadHeader(bytes.NewReader(file))
	if err != nil || rh != h {
		t.Fatalf("ReadHeader = %+v, %v; want %+v", rh, err, h)
	}
}

// ReadLatents reads exactly one file, so that files can follow one another.
func TestReadsOneFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	h1, h2 := imageHeader(CodingPNG, 3, 16, 16, 2), audioHeader(CodingRange, 4, 512, 4, 0)
	q1, q2 := uniformLatents(rng, h1.NumLatents()), iidLaplacian(rng, h2.NumLatents(), 2)
	r := bytes.NewReader(append(encodeFile(t, h1, q1), encodeFile(t, h2, q2)...))
	for _, want := range []struct {
		h Header
		q []int8
	}{{h1, q1}, {h2, q2}} {
		h, q, err := ReadLatents(r)
		if err != nil || h != want.h || firstDiff(q, want.q) >= 0 {
			t.Fatalf("ReadLatents = %+v, %v", h, err)
		}
	}
	if _, _, err := ReadLatents(r); !isFormatError(err) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadLatents at the end = %v, want a FormatError for a truncated file", err)
	}
}

func isFormatError(err error) bool {
	var fe *FormatError
	return errors.As(err, &fe)
}

// Cutting a file anywhere gives a *FormatError for a truncated file.
func TestTruncated(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	for _, h := range []Header{imageHeader(CodingRange, 3, 16, 16, 2), imageHeader(CodingPNG, 3, 16, 16, 2), audioHeader(CodingRange, 2, 100, 3, 2)} {
		file := encodeFile(t, h, iidLaplacian(rng, h.NumLatents(), 2))
		for n := range len(file) {
			_, _, err := ReadLatents(bytes.NewReader(file[:n]))
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, io.ErrUnexpectedEOF) || fe.Offset != int64(n) {
				t.Fatalf("%s, file cut to %d of %d bytes: %v, want a truncation FormatError at offset %d", h.Coding, n, len(file), err, n)
			}
		}
	}
}

// Flipping any bit of a file gives a *FormatError, never wrong latents:
// in the header a field check or the checksum, elsewhere the checksum.
func TestCorrupted(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 2))
	for _, h := range []Header{imageHeader(CodingRange, 3, 16, 16, 2), imageHeader(CodingPNG, 3, 16, 16, 2)} {
		file := encodeFile(t, h, iidLaplacian(rng, h.NumLatents(), 2))
		for i := range len(file) {
			for bit := range 8 {
				bad := slices.Clone(file)
				bad[i] ^= 1 << bit
				_, _, err := ReadLatents(bytes.NewReader(bad))
				if !isFormatError(err) {
					t.Fatalf("%s, bit %d of byte %d flipped: %v, want a FormatError", h.Coding, bit, i, err)
				}
				if i >= headerLen && !errors.Is(err, ErrChecksum) {
					t.Fatalf("%s, bit %d of payload/checksum byte %d flipped: %v, want a checksum mismatch", h.Coding, bit, i, err)
				}
			}
		}
	}
}

// withLength sets the payload length of file to what it holds and
// recomputes the checksum, so that a modified file reaches the decoders.
func withLength(file []byte) []byte {
	if len(file) < headerLen+trailerLen {
		return file
	}
	p := len(file) - headerLen - trailerLen
	binary.LittleEndian.PutUint32(file[offPayload:], uint32(p))
	binary.LittleEndian.PutUint32(file[headerLen+p:], crc32.Checksum(file[:headerLen+p], castagnoli))
	return file
}

// rawFile makes a file of header h with payload as it is, checksum correct.
func rawFile(h Header, payload []byte) []byte {
	file := make([]byte, headerLen, headerLen+len(payload)+trailerLen)
	putHeader(file, h)
	file = append(file, payload...)
	return withLength(append(file, 0, 0, 0, 0))
}

func TestValidate(t *testing.T) {
	ok := imageHeader(CodingRange, 12, 512, 512, 3)
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid header: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Header)
		path string
	}{
		{"no signal", func(h *Header) { h.Signal = "" }, "/signal"},
		{"unknown coding", func(h *Header) { h.Coding = "webp" }, "/coding"},
		{"levels 0", func(h *Header) { h.Levels = 0 }, "/levels"},
		{"levels 13", func(h *Header) { h.Levels = 13 }, "/levels"},
		{"K 0", func(h *Header) { h.LatentChannels = 0 }, "/latent_channels"},
		{"K 4097", func(h *Header) { h.LatentChannels = 4097 }, "/latent_channels"},
		{"border 17", func(h *Header) { h.Border = 17 }, "/border"},
		{"channels 0", func(h *Header) { h.Channels = 0 }, "/channels"},
		{"height 0", func(h *Header) { h.Height = 0 }, "/height"},
		{"width too large", func(h *Header) { h.Width = MaxSide + 8 }, "/width"},
		{"negative pad", func(h *Header) { h.PadTop = -1 }, "/pad_top"},
		{"height not divisible", func(h *Header) { h.Height = 511 }, "/pad_bottom"},
		{"width not divisible", func(h *Header) { h.Width = 500; h.PadLeft = 2 }, "/pad_right"},
		{"samples on an image", func(h *Header) { h.Samples = 8 }, "/samples"},
		{"too many latents", func(h *Header) { h.LatentChannels, h.Height, h.Width = 4096, MaxSide, MaxSide }, "/latent_channels"},
		{"too many latents, just", func(h *Header) { h.LatentChannels, h.Height, h.Width = 1024, 8*512+8, 8*512 }, "/latent_channels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := ok
			tc.edit(&h)
			err := h.Validate()
			var errs field.Errors
			if !errors.As(err, &errs) || !errs.Has(tc.path) {
				t.Fatalf("Validate = %v, want a problem at %s", err, tc.path)
			}
		})
	}
	a := audioHeader(CodingPNG, 108, 1<<20, 8, 2)
	if err := a.Validate(); err != nil {
		t.Fatalf("valid audio header: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Header)
		path string
	}{
		{"samples 0", func(h *Header) { h.Samples = 0 }, "/samples"},
		{"samples too many", func(h *Header) { h.Samples = MaxSamples + 256 }, "/samples"},
		{"width on audio", func(h *Header) { h.Width = 4 }, "/width"},
		{"not divisible", func(h *Header) { h.PadEnd++ }, "/pad_end"},
		{"too many latents", func(h *Header) { h.LatentChannels, h.Samples = 4096, MaxSamples }, "/latent_channels"},
	} {
		t.Run("audio "+tc.name, func(t *testing.T) {
			h := a
			tc.edit(&h)
			var errs field.Errors
			if err := h.Validate(); !errors.As(err, &errs) || !errs.Has(tc.path) {
				t.Fatalf("Validate = %v, want a problem at %s", err, tc.path)
			}
		})
	}
}

// Headers that claim too much are refused at the field at fault before the
// reader allocates anything for the latents, checksum or not.
func TestHugeHeadersRefused(t *testing.T) {
	base := make([]byte, headerLen)
	putHeader(base, imageHeader(CodingRange, 12, 64, 64, 3))
	le := binary.LittleEndian
	for _, tc := range []struct {
		name string
		edit func([]byte)
		off  int64
	}{
		{"bad magic", func(b []byte) { b[1] = 'X' }, 0},
		{"version 2", func(b []byte) { b[offVersion] = 2 }, offVersion},
		{"signal 3", func(b []byte) { b[offSignal] = 3 }, offSignal},
		{"coding 0", func(b []byte) { b[offCoding] = 0 }, offCoding},
		{"reserved", func(b []byte) { b[offReserved] = 1 }, offReserved},
		{"levels 200", func(b []byte) { b[offLevels] = 200 }, offLevels},
		{"K 65535", func(b []byte) { le.PutUint16(b[offK:], 0xFFFF) }, offK},
		{"height 2^32-1", func(b []byte) { le.PutUint32(b[offSize0:], 0xFFFFFFFF) }, offSize0},
		{"width 2^32-8", func(b []byte) { le.PutUint32(b[offSize1:], 0xFFFFFFF8) }, offSize1},
		{"K·h·w overflow", func(b []byte) {
			le.PutUint16(b[offK:], 4096)
			le.PutUint32(b[offSize0:], MaxSide)
			le.PutUint32(b[offSize1:], MaxSide)
		}, offK},
		{"payload 4 GiB", func(b []byte) { le.PutUint32(b[offPayload:], 0xFFFFFFFF) }, offPayload},
		{"256 Mi latents in 10 bytes", func(b []byte) {
			le.PutUint16(b[offK:], 64)
			le.PutUint32(b[offSize0:], 16384)
			le.PutUint32(b[offSize1:], 16384)
			le.PutUint32(b[offPayload:], 10)
		}, offPayload},
		{"png of 2^28 pixels in 1000 bytes", func(b []byte) {
			b[offCoding] = 1
			le.PutUint16(b[offK:], 64)
			le.PutUint32(b[offSize0:], 16384)
			le.PutUint32(b[offSize1:], 16384)
			le.PutUint32(b[offPayload:], 1000)
		}, offPayload},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := slices.Clone(base)
			tc.edit(b)
			file := append(b, make([]byte, 16)...) // a little payload
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			_, _, err := ReadLatents(bytes.NewReader(file))
			runtime.ReadMemStats(&m1)
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Offset != tc.off {
				t.Fatalf("ReadLatents = %v, want a FormatError at offset %d", err, tc.off)
			}
			if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 1<<20 {
				t.Fatalf("refusing the header allocated %d bytes", alloc)
			}
		})
	}
}

// A file whose payload length claims more than the file has is read only as
// far as it goes: memory follows the bytes present, not the claim.
func TestLongPayloadClaim(t *testing.T) {
	h := imageHeader(CodingRange, 64, 8192, 8192, 3) // 64 Mi latents
	b := make([]byte, headerLen)
	putHeader(b, h)
	binary.LittleEndian.PutUint32(b[offPayload:], 1<<30)
	file := append(b, make([]byte, 1000)...)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	_, _, err := ReadLatents(bytes.NewReader(file))
	runtime.ReadMemStats(&m1)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !isFormatError(err) {
		t.Fatalf("ReadLatents = %v, want a truncation FormatError", err)
	}
	if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 3<<20 {
		t.Fatalf("reading a 1 KB file claiming 1 GiB allocated %d bytes", alloc)
	}
}

// Payloads with a correct checksum that are not what the encoder writes.
func TestMalformedPayloads(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	hr := imageHeader(CodingRange, 3, 16, 16, 2)
	good := encodeFile(t, hr, iidLaplacian(rng, hr.NumLatents(), 2))
	payload := good[headerLen : len(good)-trailerLen]

	hp := imageHeader(CodingPNG, 3, 16, 16, 2) // 3 × 4 × 4, tiled 8 × 8
	tiled := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range tiled.Pix {
		tiled.Pix[i] = 128
	}
	pngOf := func(m image.Image) []byte {
		var buf bytes.Buffer
		if err := png.Encode(&buf, m); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	badPad := image.NewGray(tiled.Rect)
	copy(badPad.Pix, tiled.Pix)
	badPad.Pix[7*8+7] = 3 // the fourth, padding, channel
	wrongSize := image.NewGray(image.Rect(0, 0, 8, 9))
	rgb := image.NewRGBA(tiled.Rect)
	gray16 := image.NewGray16(tiled.Rect)

	for _, tc := range []struct {
		name string
		file []byte
		msg  string
	}{
		{"range: trailing bytes", rawFile(hr, append(slices.Clone(payload), 1, 2, 3, 4, 5, 6)), "follow"},
		{"range: too short", rawFile(hr, payload[:len(payload)/2]), "ends before"},
		{"png: valid", rawFile(hp, pngOf(tiled)), ""},
		{"png: non-zero padding", rawFile(hp, pngOf(badPad)), "padding"},
		{"png: wrong size", rawFile(hp, pngOf(wrongSize)), "want 8×8"},
		{"png: RGBA", rawFile(hp, pngOf(rgb)), "grayscale"},
		{"png: 16-bit", rawFile(hp, pngOf(gray16)), "bit depth 16"},
		{"png: not a PNG", rawFile(hp, bytes.Repeat([]byte{7}, 60)), "not a PNG"},
		{"png: trailing bytes", rawFile(hp, append(pngOf(tiled), 0)), "follow"},
		{"png: cut", rawFile(hp, pngOf(tiled)[:50]), "PNG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadLatents(bytes.NewReader(tc.file))
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("ReadLatents: %v", err)
				}
				return
			}
			if !isFormatError(err) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("ReadLatents = %v, want a FormatError about %q", err, tc.msg)
			}
		})
	}
}

func TestWriteLatentsChecks(t *testing.T) {
	h := imageHeader(CodingRange, 3, 16, 16, 2)
	h.Height = 15
	var errs field.Errors
	if err := WriteLatents(io.Discard, h, make([]int8, 3*4*4)); !errors.As(err, &errs) {
		t.Fatalf("WriteLatents with an invalid header = %v, want field.Errors", err)
	}
	h.Height = 16
	defer func() {
		if recover() == nil {
			t.Fatal("WriteLatents with too few latents did not panic")
		}
	}()
	_ = WriteLatents(io.Discard, h, make([]int8, 5))
}

// The range coder is exact for any decisions and probabilities, including
// runs that propagate a carry through many 0xFF bytes, and respects the
// bounds on its output length that the reader relies on.
func TestRangeCoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 200 {
		n := rng.IntN(5000)
		bits := make([]int, n)
		skew := rng.Float64()
		for i := range bits {
			if rng.Float64() < skew {
				bits[i] = 1
			}
		}
		nctx := 1 + rng.IntN(4)
		ctxOf := func(i int) int { return (i * 7) % nctx }
		var e rangeEncoder
		e.reset([]byte{0xAB}) // appends after what out holds
		encProbs := make([]prob, nctx)
		for i := range encProbs {
			encProbs[i] = newProb()
		}
		for i, b := range bits {
			e.encode(&encProbs[ctxOf(i)], b)
		}
		out := e.finish()
		if out[0] != 0xAB {
			t.Fatal("encoder overwrote what out held")
		}
		var d rangeDecoder
		d.reset(out[1:])
		decProbs := make([]prob, nctx)
		for i := range decProbs {
			decProbs[i] = newProb()
		}
		for i, want := range bits {
			if got := d.decode(&decProbs[ctxOf(i)]); got != want {
				t.Fatalf("trial %d: decision %d of %d is %d, want %d", trial, i, n, got, want)
			}
		}
		if d.pos != len(out)-1 || d.over > maxOver {
			t.Fatalf("trial %d: decoder read %d of %d bytes and %d beyond", trial, d.pos, len(out)-1, d.over)
		}
	}
}

// Bounds of checkPayloadLen, at their extremes: all-zero latents (the
// smallest payload per latent) and uniform ones.
func TestPayloadBounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    Header
		q    func(n int) []int8
	}{
		{"range zeros", imageHeader(CodingRange, 64, 1024, 1024, 3), func(n int) []int8 { return make([]int8, n) }},
		{"range -128", imageHeader(CodingRange, 4, 256, 256, 3), func(n int) []int8 { return bytes8(n, -128) }},
		{"range uniform", imageHeader(CodingRange, 4, 256, 256, 3), func(n int) []int8 { return uniformLatents(rand.New(rand.NewPCG(1, 1)), n) }},
		{"png zeros", imageHeader(CodingPNG, 64, 1024, 1024, 3), func(n int) []int8 { return make([]int8, n) }},
		{"png uniform", imageHeader(CodingPNG, 4, 256, 256, 3), func(n int) []int8 { return uniformLatents(rand.New(rand.NewPCG(1, 1)), n) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.h.NumLatents()
			file := checkRoundTrip(t, tc.h, tc.q(n))
			p := len(file) - headerLen - trailerLen
			t.Logf("%d latents in %d payload bytes (%.1f per byte)", n, p, float64(n)/float64(p))
		})
	}
}

func bytes8(n int, v int8) []int8 {
	q := make([]int8, n)
	for i := range q {
		q[i] = v
	}
	return q
}

// The context-adaptive range coder against the paper's route (tiled PNG)
// on latents like those of a trained codec: companded, mostly small, peaked
// at 0. The goal is at least 10 % fewer bytes; the margins are logged.
func TestRangeBeatsPNG(t *testing.T) {
	rng := rand.New(rand.NewPCG(2024, 12))
	type latents struct {
		name   string
		h      Header
		q      []int8
		assert bool // require ≥ 10 % fewer bytes
	}
	var cases []latents
	for _, b := range []float64{0.5, 1, 2, 4, 8} {
		h := imageHeader(CodingRange, 12, 512, 512, 3)
		cases = append(cases, latents{fmt.Sprintf("iid Laplacian b=%g", b), h, iidLaplacian(rng, h.NumLatents(), b), b <= 2})
	}
	for _, b := range []float64{1, 3, 8} {
		h := imageHeader(CodingRange, 12, 512, 768, 3)
		cases = append(cases, latents{fmt.Sprintf("structured b=%g", b), h, structuredLatents(rng, 12, 64, 96, b), true})
	}
	for _, k := range []int{12, 48} {
		h := imageHeader(CodingRange, k, 256, 256, 3)
		cases = append(cases, latents{fmt.Sprintf("linear WaLLoC K=%d", k), h, linearLatents(rng, 256, k, 20), true})
	}
	a := audioHeader(CodingRange, 27, 1<<18, 8, 2)
	cases = append(cases, latents{"audio iid Laplacian b=1", a, iidLaplacian(rng, a.NumLatents(), 1), true})
	for _, c := range cases {
		c.h.Coding = CodingRange
		nr := len(encodeFile(t, c.h, c.q))
		c.h.Coding = CodingPNG
		np := len(encodeFile(t, c.h, c.q))
		n := float64(len(c.q))
		s := c.h.LatentShape()
		gain := 1 - float64(nr)/float64(np)
		t.Logf("%-24s H0 %.3f, range %.3f, png %.3f bits/latent: %.1f %% fewer bytes",
			c.name, entropy0(c.q, len(c.q)/s[0]), 8*float64(nr)/n, 8*float64(np)/n, 100*gain)
		if c.assert && gain < 0.10 {
			t.Errorf("%s: range coding %d bytes, PNG %d: only %.1f %% fewer", c.name, nr, np, 100*gain)
		}
		if gain <= 0 {
			t.Errorf("%s: range coding %d bytes is no smaller than PNG %d", c.name, nr, np)
		}
	}
}
