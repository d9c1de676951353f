package walloc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
)

// Tiled PNG coding (Coding "png"), the paper's route (spec §1.7).
//
// The reference stores ŷ + 128 as uint8 and tiles the K latent channels of
// h × w into one image, channel k = c·n² + i·n + j going to colour plane c,
// tile row i, tile column j (einops "(c nh nw) h w -> (nh h) (nw w) c"), and
// saves it as lossless WebP; its documentation also shows the grayscale
// variant (one plane, K padded to a square n²) saved as PNG. The standard
// library has no WebP encoder, so this coding is that grayscale variant:
//
//   - n = ⌈√K⌉; channels K … n²−1 are padding and hold 0 (byte 128);
//   - an image latent (K, h, w) becomes an 8-bit grayscale image of n·h rows
//     and n·w columns, pixel (i·h + y, j·w + x) = q[i·n+j][y][x] + 128;
//   - an audio latent (K, l) is first zero-padded in time to a multiple of
//     256 and each channel laid out as l′/256 rows of 256 (spec §1.7), then
//     tiled the same way with h = l′/256, w = 256;
//   - the image is written by image/png at BestCompression: 8-bit grayscale
//     (colour type 0), not interlaced.
//
// The decoder accepts exactly that kind of PNG, of exactly that size, and
// refuses non-zero padding, so that a file has one reading.

// tileGeometry returns the side n of the square of tiles and the size of one
// tile (rows × cols) for latents of shape (k, rows, cols) — rows = 1 for
// audio.
func tileGeometry(k, rows, cols int, audio bool) (n, th, tw int) {
	n = 1
	for n*n < k {
		n++
	}
	if audio {
		return n, (cols + 255) / 256, 256
	}
	return n, rows, cols
}

// tile lays the latents out as the grayscale image described above.
func tile(q []int8, k, rows, cols int, audio bool) *image.Gray {
	n, th, tw := tileGeometry(k, rows, cols, audio)
	img := image.NewGray(image.Rect(0, 0, n*tw, n*th))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	plane := rows * cols
	for c := range k {
		pl := q[c*plane : (c+1)*plane]
		oy, ox := (c/n)*th, (c%n)*tw
		for t, v := range pl {
			// Position t of the channel: (y, x) of the image latent, or
			// (t/256, t%256) of the audio latent.
			y, x := t/tw, t%tw
			img.Pix[(oy+y)*img.Stride+ox+x] = uint8(int(v) + 128)
		}
	}
	return img
}

// untile reads the latents back from img, which has the geometry of
// tileGeometry; it reports the first non-zero padding value, if any.
func untile(q []int8, img *image.Gray, k, rows, cols int, audio bool) error {
	n, th, tw := tileGeometry(k, rows, cols, audio)
	plane := rows * cols
	for c := range n * n {
		oy, ox := (c/n)*th, (c%n)*tw
		for y := range th {
			row := img.Pix[(oy+y)*img.Stride+ox : (oy+y)*img.Stride+ox+tw]
			for x, p := range row {
				t := y*tw + x
				if c < k && t < plane {
					q[c*plane+t] = int8(int(p) - 128)
				} else if p != 128 {
					return fmt.Errorf("padding pixel (%d, %d) is %d, want 128 (latent 0)", oy+y, ox+x, p)
				}
			}
		}
	}
	return nil
}

// encodePNG appends the tiled PNG of the latents to out.
func encodePNG(out []byte, q []int8, k, rows, cols int, audio bool) ([]byte, error) {
	buf := bytes.NewBuffer(out)
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(buf, tile(q, k, rows, cols, audio)); err != nil {
		return nil, fmt.Errorf("walloc: png: %w", err)
	}
	return buf.Bytes(), nil
}

// pngSignature and the IHDR layout: the 8-byte signature, then the IHDR
// chunk (length 13, "IHDR", width, height, bit depth, colour type,
// compression, filter, interlace, CRC).
var pngSignature = []byte("\x89PNG\r\n\x1a\n")

const pngHeaderLen = 8 + 8 + 13 + 4

// decodePNG fills q from the tiled PNG in. It returns the offset in in of
// the problem, and a message, for a PNG that is not the expected one.
func decodePNG(q []int8, in []byte, k, rows, cols int, audio bool) (off int, err error) {
	n, th, tw := tileGeometry(k, rows, cols, audio)
	if len(in) < pngHeaderLen {
		return len(in), fmt.Errorf("PNG of %d bytes is shorter than its %d-byte header", len(in), pngHeaderLen)
	}
	if !bytes.Equal(in[:8], pngSignature) {
		return 0, fmt.Errorf("not a PNG (signature % x)", in[:8])
	}
	if binary.BigEndian.Uint32(in[8:]) != 13 || string(in[12:16]) != "IHDR" {
		return 8, fmt.Errorf("PNG does not start with a 13-byte IHDR chunk")
	}
	w, h := binary.BigEndian.Uint32(in[16:]), binary.BigEndian.Uint32(in[20:])
	if uint64(w) != uint64(n*tw) || uint64(h) != uint64(n*th) {
		return 16, fmt.Errorf("PNG is %d×%d, want %d×%d for the header's latent shape", w, h, n*tw, n*th)
	}
	if depth, ct, il := in[24], in[25], in[28]; depth != 8 || ct != 0 || il != 0 {
		return 24, fmt.Errorf("PNG has bit depth %d, colour type %d, interlace %d; want 8-bit grayscale (0), not interlaced", depth, ct, il)
	}
	r := bytes.NewReader(in)
	m, err := png.Decode(r)
	if err != nil {
		return len(in) - r.Len(), fmt.Errorf("PNG: %v", err)
	}
	g, ok := m.(*image.Gray)
	if !ok {
		return 0, fmt.Errorf("PNG decodes to %T, want 8-bit grayscale", m)
	}
	if r.Len() != 0 {
		return len(in) - r.Len(), fmt.Errorf("%d bytes follow the PNG's IEND chunk", r.Len())
	}
	if err := untile(q, g, k, rows, cols, audio); err != nil {
		return 0, err
	}
	return 0, nil
}
