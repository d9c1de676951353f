package walloc

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/gonum/blas"
	gonum32 "gonum.org/v1/gonum/blas/gonum"

	"eddy/codec/wav"
	"eddy/codec/wavelet"
	"eddy/nn"
)

// Sample is a signal scaled to [−½, ½] (spec §1.1), a row-major array of
// shape (3, H, W) for an RGB image (uint8 v ↦ v/255 − ½) or (2, L) for stereo
// audio (a sample v ∈ [−1, 1) ↦ v/2).
type Sample struct {
	Data  []float32
	Shape []int
}

// ErrModel is returned when a file was made by another model than the one
// given to decode it, or for another kind of signal.
var ErrModel = errors.New("walloc: the file does not match the model")

// reflect maps i to [0, n) by reflection without repeating the edge
// sample (…, 2, 1, 0, 1, 2, …, n−1, n−2, …), as the reference pads.
func reflect(i, n int) int {
	if n == 1 {
		return 0
	}
	p := 2 * (n - 1)
	i %= p
	if i < 0 {
		i += p
	}
	if i >= n {
		i = p - i
	}
	return i
}

// padding returns the padding (before, after) that centres n in the next
// multiple of b.
func padding(n, b int) (int, int) {
	t := (b - n%b) % b
	return t / 2, t - t/2
}

// imagePlanes returns the (3, H+top+bottom, W+left+right) planes of img in
// [−½, ½], reflect-padded. A gray image gives three equal planes; alpha is
// ignored.
func imagePlanes(img image.Image, top, bottom, left, right int) []float32 {
	b := img.Bounds()
	return planes(img, b.Dy(), b.Dx(), top, bottom, left, right)
}

// planes is imagePlanes of the top-left h × w pixels of img.
func planes(img image.Image, h, w, top, bottom, left, right int) []float32 {
	b := img.Bounds()
	ph, pw := h+top+bottom, w+left+right
	out := make([]float32, 3*ph*pw)
	row := make([][3]float32, w)
	for y := range ph {
		sy := reflect(y-top, h)
		readRow(row, img, b.Min.Y+sy)
		for x := range pw {
			px := row[reflect(x-left, w)]
			for c := range 3 {
				out[(c*ph+y)*pw+x] = px[c]
			}
		}
	}
	return out
}

// readRow reads row y of img as RGB in [−½, ½].
func readRow(row [][3]float32, img image.Image, y int) {
	b := img.Bounds()
	const s = 1.0 / 255
	switch m := img.(type) {
	case *image.RGBA:
		readRGBX(row, m.Pix[m.PixOffset(b.Min.X, y):])
	case *image.NRGBA:
		readRGBX(row, m.Pix[m.PixOffset(b.Min.X, y):])
	case *image.YCbCr:
		for x := range row {
			yi, ci := m.YOffset(b.Min.X+x, y), m.COffset(b.Min.X+x, y)
			r, g, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			row[x] = [3]float32{float32(r)*s - 0.5, float32(g)*s - 0.5, float32(bb)*s - 0.5}
		}
	case *image.Gray:
		p := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range row {
			v := float32(p[x])*s - 0.5
			row[x] = [3]float32{v, v, v}
		}
	default:
		for x := range row {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, y)).(color.NRGBA)
			row[x] = [3]float32{float32(c.R)*s - 0.5, float32(c.G)*s - 0.5, float32(c.B)*s - 0.5}
		}
	}
}

// readRGBX reads the RGB of the 4-byte pixels p (alpha ignored) into row,
// in [−½, ½].
func readRGBX(row [][3]float32, p []byte) {
	const s = 1.0 / 255
	for x := range row {
		row[x] = [3]float32{float32(p[4*x])*s - 0.5, float32(p[4*x+1])*s - 0.5, float32(p[4*x+2])*s - 0.5}
	}
}

// SampleFromImage returns the top-left crop of img whose sides are multiples
// of block, as a training or evaluation sample. Panics if img is smaller
// than block × block.
func SampleFromImage(img image.Image, block int) Sample {
	b := img.Bounds()
	h, w := b.Dy()/block*block, b.Dx()/block*block
	if h == 0 || w == 0 {
		panic(fmt.Sprintf("walloc: image %dx%d smaller than a block of %d", b.Dx(), b.Dy(), block))
	}
	return Sample{Data: planes(img, h, w, 0, 0, 0, 0), Shape: []int{3, h, w}}
}

// SampleFromAudio returns the first L samples of the first two channels of
// a (L the largest multiple of block), scaled by ½; mono is duplicated.
func SampleFromAudio(a *wav.Audio, block int) Sample {
	n := len(a.Data[0]) / block * block
	out := make([]float32, 2*n)
	for c := range 2 {
		src := a.Data[min(c, len(a.Data)-1)]
		for i := range n {
			out[c*n+i] = float32(src[i] / 2)
		}
	}
	return Sample{Data: out, Shape: []int{2, n}}
}

// encoderMatrix returns the encoder's weights as float32, W (K × D) and b (K).
func (m *Model) encoderMatrix() ([]float32, []float32) {
	w := make([]float32, len(m.Encoder.W.Value.Data))
	for i, v := range m.Encoder.W.Value.Data {
		w[i] = float32(v)
	}
	b := make([]float32, len(m.Encoder.B.Value.Data))
	for i, v := range m.Encoder.B.Value.Data {
		b[i] = float32(v)
	}
	return w, b
}

// quantizeCoeffs maps the wavelet packet channels x (D, n) to the latents
// q (K, n): z = W x + b by one float32 matrix product (gonum's Sgemm), then
// q = round(ToUniform(z)). Cost K·D·n multiply-adds.
func (m *Model) quantizeCoeffs(x []float32, n int) []int8 {
	w, b := m.encoderMatrix()
	k, d := m.LatentChannels, m.PacketChannels()
	z := make([]float32, k*n)
	for i := range k {
		zi := z[i*n : (i+1)*n]
		for j := range zi {
			zi[j] = b[i]
		}
	}
	gonum32.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, k, n, d, 1, w, d, x, n, 1, z, n)
	q := make([]int8, k*n)
	for i, v := range z {
		q[i] = Quantize(float64(v))
	}
	return q
}

// decodeCoeffs runs the decoder on the latents q of shape (K, grid…) and
// returns the wavelet packet channels (D, grid…) as float32.
func (m *Model) decodeCoeffs(q []int8, grid ...int) []float32 {
	shape := append([]int{1, m.LatentChannels}, grid...)
	t := nn.NewTensor(shape...)
	for i, v := range q {
		t.Data[i] = Dequantize(v)
	}
	y := m.Decoder.Forward(t)
	out := make([]float32, len(y.Data))
	for i, v := range y.Data {
		out[i] = float32(v)
	}
	return out
}

// EncodeImageLatents returns the header (coding unset) and the latents of
// img: reflect padding to multiples of 2^J centred, J-level wavelet packet
// transform, encoder, companding and rounding.
func (m *Model) EncodeImageLatents(img image.Image) (Header, []int8, error) {
	if m.Signal != Image {
		return Header{}, nil, fmt.Errorf("%w: an %s model cannot code an image", ErrModel, m.Signal)
	}
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	if h < 1 || w < 1 || h > MaxSide || w > MaxSide {
		return Header{}, nil, fmt.Errorf("walloc: image %dx%d outside 1…%d per side", w, h, MaxSide)
	}
	bl := m.Block()
	top, bottom := padding(h, bl)
	left, right := padding(w, bl)
	ph, pw := h+top+bottom, w+left+right
	x := imagePlanes(img, top, bottom, left, right)
	wavelet.NewPacket2D[float32](ph, pw, m.Levels).Forward(x, x)
	hdr := Header{Signal: Image, Model: m.ID(), Levels: m.Levels, LatentChannels: m.LatentChannels,
		Channels: 3, Height: h, Width: w, PadTop: top, PadBottom: bottom, PadLeft: left, PadRight: right}
	return hdr, m.quantizeCoeffs(x, (ph/bl)*(pw/bl)), nil
}

// Bounds of what the decoder reconstructs: the work buffers are 3 (2)
// float32 planes of the padded size plus the decoder's activations on the
// latent grid, so a file declaring more is refused before any allocation.
const (
	MaxDecodePixels  = 1 << 26 // 64 megapixels (padded)
	MaxDecodeSamples = 1 << 27 // samples per channel (padded), about 50 min at 44.1 kHz
)

// checkHeader checks that h was made by m and that its sizes are within
// MaxDecodePixels or MaxDecodeSamples.
func (m *Model) checkHeader(h Header) error {
	return ModelInfo{Config: m.Config, ID: m.ID()}.CheckHeader(h)
}

// CheckHeader checks that h was made by the model i describes and that its
// sizes are within MaxDecodePixels or MaxDecodeSamples: what decoding checks
// before it allocates anything, so that a caller holding only a model file's
// description can refuse a file early. A mismatch wraps ErrModel.
func (i ModelInfo) CheckHeader(h Header) error {
	switch {
	case h.Signal != i.Signal:
		return fmt.Errorf("%w: the file codes %s, the model %s", ErrModel, h.Signal, i.Signal)
	case h.Model != i.ID:
		return fmt.Errorf("%w: the file names model %s, this model is %s", ErrModel, h.Model, i.ID)
	case h.Levels != i.Levels || h.LatentChannels != i.LatentChannels || h.Border != 0:
		return fmt.Errorf("%w: the file has J = %d, K = %d, border %d; the model J = %d, K = %d", ErrModel, h.Levels, h.LatentChannels, h.Border, i.Levels, i.LatentChannels)
	case h.Channels != i.Planes():
		return fmt.Errorf("%w: the file has %d channels, the model %d", ErrModel, h.Channels, i.Planes())
	case h.Signal == Image && int64(h.Height+h.PadTop+h.PadBottom)*int64(h.Width+h.PadLeft+h.PadRight) > MaxDecodePixels:
		return fmt.Errorf("walloc: the file codes a %d×%d image; at most %d pixels are decoded", h.Width, h.Height, MaxDecodePixels)
	case h.Signal == Audio && h.Samples+h.PadStart+h.PadEnd > MaxDecodeSamples:
		return fmt.Errorf("walloc: the file codes %d samples per channel; at most %d are decoded", h.Samples, MaxDecodeSamples)
	}
	return nil
}

// DecodeImageLatents reconstructs the image of header h from its latents q:
// dequantisation, decoder, inverse transform, crop of the padding, clamp to
// [−½, ½] and rounding to 8 bits.
func (m *Model) DecodeImageLatents(h Header, q []int8) (*image.NRGBA, error) {
	if err := m.checkHeader(h); err != nil {
		return nil, err
	}
	sh := h.LatentShape()
	x := m.decodeCoeffs(q, sh[1], sh[2])
	ph, pw := h.Height+h.PadTop+h.PadBottom, h.Width+h.PadLeft+h.PadRight
	wavelet.NewPacket2D[float32](ph, pw, m.Levels).Inverse(x, x)
	img := image.NewNRGBA(image.Rect(0, 0, h.Width, h.Height))
	for y := range h.Height {
		p := img.Pix[y*img.Stride:]
		for xx := range h.Width {
			for c := range 3 {
				p[4*xx+c] = to8(x[(c*ph+y+h.PadTop)*pw+xx+h.PadLeft])
			}
			p[4*xx+3] = 255
		}
	}
	return img, nil
}

// to8 maps v ∈ [−½, ½] (clamped) to round(255·(v + ½)).
func to8(v float32) uint8 {
	u := (min(max(v, -0.5), 0.5) + 0.5) * 255
	return uint8(u + 0.5)
}

// Encode writes img to w as a .wlc file coded by m, with the range coder.
func Encode(w io.Writer, img image.Image, m *Model) error { return EncodeWith(w, img, m, CodingRange) }

// EncodeWith is Encode with the entropy coding c.
func EncodeWith(w io.Writer, img image.Image, m *Model, c Coding) error {
	h, q, err := m.EncodeImageLatents(img)
	if err != nil {
		return err
	}
	h.Coding = c
	return WriteLatents(w, h, q)
}

// Decode reads a .wlc image file made by m and returns the image (an
// *image.NRGBA, opaque). A file of another model or signal gives an error
// wrapping ErrModel, a malformed one a *FormatError.
func Decode(r io.Reader, m *Model) (image.Image, error) {
	h, q, err := ReadLatents(r)
	if err != nil {
		return nil, err
	}
	return m.DecodeImageLatents(h, q)
}

// EncodeAudioLatents returns the header (coding unset) and the latents of
// a: the first two channels (mono duplicated) scaled by ½, reflect-padded to
// a multiple of 2^J, 1-D wavelet packet transform, encoder, companding and
// rounding.
func (m *Model) EncodeAudioLatents(a *wav.Audio) (Header, []int8, error) {
	if m.Signal != Audio {
		return Header{}, nil, fmt.Errorf("%w: an %s model cannot code audio", ErrModel, m.Signal)
	}
	if len(a.Data) < 1 || len(a.Data) > 2 || len(a.Data[0]) < 1 {
		return Header{}, nil, fmt.Errorf("walloc: audio with %d channels: want 1 or 2, not empty", len(a.Data))
	}
	if a.SampleRate != m.SampleRate {
		return Header{}, nil, fmt.Errorf("%w: the audio has %d Hz, the model codes %d Hz", ErrModel, a.SampleRate, m.SampleRate)
	}
	n := len(a.Data[0])
	if n > MaxSamples {
		return Header{}, nil, fmt.Errorf("walloc: %d samples exceed %d", n, MaxSamples)
	}
	bl := m.Block()
	before, after := padding(n, bl)
	if before > MaxPad || after > MaxPad {
		return Header{}, nil, fmt.Errorf("walloc: padding of %d samples exceeds %d", before+after, MaxPad)
	}
	pl := n + before + after
	x := make([]float32, 2*pl)
	for c := range 2 {
		src := a.Data[min(c, len(a.Data)-1)]
		if len(src) != n {
			return Header{}, nil, fmt.Errorf("walloc: channels of %d and %d samples", n, len(src))
		}
		for i := range pl {
			x[c*pl+i] = float32(src[reflect(i-before, n)] / 2)
		}
	}
	wavelet.NewPacket1D[float32](pl, m.Levels).Forward(x, x)
	hdr := Header{Signal: Audio, Model: m.ID(), Levels: m.Levels, LatentChannels: m.LatentChannels,
		Channels: 2, Samples: n, PadStart: before, PadEnd: after}
	return hdr, m.quantizeCoeffs(x, pl/bl), nil
}

// DecodeAudioLatents reconstructs the stereo audio of header h from its
// latents q, clamped to [−1, 1).
func (m *Model) DecodeAudioLatents(h Header, q []int8) (*wav.Audio, error) {
	if err := m.checkHeader(h); err != nil {
		return nil, err
	}
	sh := h.LatentShape()
	x := m.decodeCoeffs(q, sh[1])
	pl := h.Samples + h.PadStart + h.PadEnd
	wavelet.NewPacket1D[float32](pl, m.Levels).Inverse(x, x)
	a := &wav.Audio{SampleRate: m.SampleRate, Data: make([][]float64, 2)}
	for c := range 2 {
		a.Data[c] = make([]float64, h.Samples)
		for i := range h.Samples {
			a.Data[c][i] = min(max(2*float64(x[c*pl+i+h.PadStart]), -1), 32767.0/32768)
		}
	}
	return a, nil
}

// EncodeAudio writes a to w as a .wlc file coded by m, with the range coder.
func EncodeAudio(w io.Writer, a *wav.Audio, m *Model) error {
	return EncodeAudioWith(w, a, m, CodingRange)
}

// EncodeAudioWith is EncodeAudio with the entropy coding c.
func EncodeAudioWith(w io.Writer, a *wav.Audio, m *Model, c Coding) error {
	h, q, err := m.EncodeAudioLatents(a)
	if err != nil {
		return err
	}
	h.Coding = c
	return WriteLatents(w, h, q)
}

// DecodeAudio reads a .wlc audio file made by m.
func DecodeAudio(r io.Reader, m *Model) (*wav.Audio, error) {
	h, q, err := ReadLatents(r)
	if err != nil {
		return nil, err
	}
	return m.DecodeAudioLatents(h, q)
}

// PSNR returns 10·log10(255²/MSE) over the RGB values of two images of the
// same size (+Inf when equal).
func PSNR(a, b image.Image) float64 {
	ba, bb := a.Bounds(), b.Bounds()
	if ba.Dx() != bb.Dx() || ba.Dy() != bb.Dy() {
		panic("walloc: PSNR of images of different sizes")
	}
	ra, rb := make([][3]float32, ba.Dx()), make([][3]float32, ba.Dx())
	var s float64
	for y := range ba.Dy() {
		readRow(ra, a, ba.Min.Y+y)
		readRow(rb, b, bb.Min.Y+y)
		for x := range ra {
			for c := range 3 {
				d := float64(ra[x][c]-rb[x][c]) * 255
				s += d * d
			}
		}
	}
	mse := s / float64(3*ba.Dx()*ba.Dy())
	return 10 * math.Log10(255*255/mse)
}

// AudioPSNR returns 10·log10(peak²/MSE) over all channels, the peak being
// the largest |sample| of the reference ref (spec §3.2 reports PSNR against
// the signal's peak).
func AudioPSNR(ref, got *wav.Audio) float64 {
	var s, peak float64
	var n int
	for c := range ref.Data {
		for i, v := range ref.Data[c] {
			d := v - got.Data[c][i]
			s += d * d
			peak = max(peak, math.Abs(v))
			n++
		}
	}
	return 10 * math.Log10(peak*peak/(s/float64(n)))
}
