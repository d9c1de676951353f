package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"os"
	"slices"
	"strings"
	"time"

	"eddy/codec/walloc"
	"eddy/fileformat"
	"eddy/hdf5io"
	"eddy/storage"
)

// WallocEncodeParams are the params of walloc.encode.
type WallocEncodeParams struct {
	Model  string        `json:"model" required:"true" ref:"job:walloc.train" doc:"id of the walloc.train job whose model codes (a queued or running one is waited for)"`
	Input  string        `json:"input" required:"true" ref:"upload" doc:"upload id of the signal to code: a PNG or JPEG image for an image model, a WAV file for an audio model"`
	Coding walloc.Coding `json:"coding" enum:"range|png" doc:"entropy coding of the latents: range, the context-adaptive range coder; png, the paper's route (latents tiled into a lossless grayscale PNG)"`
}

// Validate has nothing to check beyond the tags.
func (p *WallocEncodeParams) Validate(c *Checker) {}

// WallocDecodeParams are the params of walloc.decode.
type WallocDecodeParams struct {
	Model     string `json:"model" required:"true" ref:"job:walloc.train" doc:"id of the walloc.train job whose model made the bitstream (the file records the model's id, which must match)"`
	Bitstream string `json:"bitstream" required:"true" ref:"upload" doc:"upload id of a .wlc file (the bitstream of walloc.encode or eddy encode)"`
}

// Validate has nothing to check beyond the tags.
func (p *WallocDecodeParams) Validate(c *Checker) {}

// wallocModelShape returns what the dataset listing of a walloc.train
// result tells of its model: the signal (the encoder's 1×1 weight is
// (K, D, 1, 1) for an image, (K, D, 1) for audio) and K. ok is false when
// the listing holds no such weight.
func wallocModelShape(u *storage.Upload) (sig walloc.Signal, k int, ok bool) {
	if u == nil { // a queued or running training: not known yet
		return "", 0, false
	}
	d := findDataset(u, walloc.ModelGroup+"/params/encoder.weight")
	if d == nil || len(d.Shape) < 3 || len(d.Shape) > 4 {
		return "", 0, false
	}
	if len(d.Shape) == 3 {
		return walloc.Audio, d.Shape[0], true
	}
	return walloc.Image, d.Shape[0], true
}

// wallocInputs names the upload formats each signal is coded from.
var wallocInputs = map[walloc.Signal][]string{
	walloc.Image: {string(fileformat.PNG), string(fileformat.JPEG)},
	walloc.Audio: {string(fileformat.WAV)},
}

// CheckUploads refuses, before the job is queued, an input that is no PNG,
// JPEG or WAV file, and one of the wrong kind for the model when the model
// has been trained: an image model codes PNG and JPEG, an audio model WAV.
func (p *WallocEncodeParams) CheckUploads(c *Checker, uploads map[string]*storage.Upload) {
	u := uploads["/input"]
	if u == nil {
		return
	}
	if !slices.Contains(wallocInputs[walloc.Image], u.Format) && !slices.Contains(wallocInputs[walloc.Audio], u.Format) {
		c.Fail("/input", "upload %s is of format %s; walloc.encode codes a PNG or JPEG image or a WAV file", u.ID, u.Format)
		return
	}
	if sig, _, ok := wallocModelShape(uploads["/model"]); ok && !slices.Contains(wallocInputs[sig], u.Format) {
		c.Fail("/input", "upload %s is of format %s; the model of job %s codes %s (%s)", u.ID, u.Format, p.Model, sig,
			strings.Join(wallocInputs[sig], " or "))
	}
}

// CheckUploads refuses, before the job is queued, a bitstream that is no
// .wlc file, and one whose signal or latent channels differ from those of
// the model when the model has been trained.
func (p *WallocDecodeParams) CheckUploads(c *Checker, uploads map[string]*storage.Upload) {
	u := uploads["/bitstream"]
	if u == nil {
		return
	}
	if u.Format != string(fileformat.WLC) {
		c.Fail("/bitstream", "upload %s is of format %s, not a .wlc bitstream", u.ID, u.Format)
		return
	}
	sig, k, ok := wallocModelShape(uploads["/model"])
	lat := findDataset(u, fileformat.LatentArray)
	if !ok || lat == nil || len(lat.Shape) < 2 {
		return
	}
	// The latents are (K, h, w) for an image, (K, l) for audio.
	fileSig := walloc.Image
	if len(lat.Shape) == 2 {
		fileSig = walloc.Audio
	}
	switch {
	case fileSig != sig:
		c.Fail("/bitstream", "upload %s codes %s; the model of job %s codes %s", u.ID, fileSig, p.Model, sig)
	case lat.Shape[0] != k:
		c.Fail("/bitstream", "upload %s holds %d latent channels; the model of job %s has %d: it was made by another model", u.ID, lat.Shape[0], p.Model, k)
	}
}

func init() {
	Register(Spec[*WallocEncodeParams]{
		Name:  "walloc.encode",
		Title: "WaLLoC: code an image or audio file with a trained codec",
		Description: "Codes an uploaded PNG/JPEG image or WAV file with the model of a walloc.train job: wavelet packet " +
			"transform, linear encoder, companding, 8-bit latents, entropy coding. The result holds the exact bytes of " +
			"the .wlc file and the reconstruction's quality (for an image, also its original and decoded pixels, uint8 " +
			"height × width × 3); the rate counts the whole file (header and checksum " +
			"included). Deterministic.",
		Defaults: func() *WallocEncodeParams { return &WallocEncodeParams{Coding: walloc.CodingRange} },
		Outputs:  []string{"bitstream", "original", "decoded"},
		Metrics: map[string]string{
			"bytes":     "int64: size of the .wlc file",
			"bpp":       "float64: 8·bytes/(height·width) for an image, bits per sample (all channels) for audio",
			"psnr":      "float64: PSNR of the decoded signal in dB (images: 8-bit RGB, peak 255; audio: peak of the input)",
			"reduction": "float64: dimension reduction of the model, input values per latent value",
		},
		Timeout:     time.Hour,
		MaxAttempts: 2,
		Run:         runWallocEncode,
	})
	Register(Spec[*WallocDecodeParams]{
		Name:  "walloc.decode",
		Title: "WaLLoC: decode a .wlc bitstream",
		Description: "Decodes an uploaded .wlc file with the model of the walloc.train job that made it (the file's model " +
			"id must match) into the dataset image (uint8, height × width × 3) or audio (float64, channels × samples in " +
			"[−1, 1), attribute sample_rate). Deterministic.",
		Defaults:    func() *WallocDecodeParams { return &WallocDecodeParams{} },
		Outputs:     []string{"image", "audio"},
		Metrics:     map[string]string{"bpp": "float64: rate of the bitstream, as for walloc.encode"},
		Timeout:     time.Hour,
		MaxAttempts: 2,
		Run:         runWallocDecode,
	})
}

// CheckFiles refuses, before the job is queued, a bitstream made by
// another model than the one named (the .wlc header records the model's
// id, the model file its own), as decoding would.
func (p *WallocDecodeParams) CheckFiles(c *Checker, uploads map[string]*storage.Upload, file func(string) (string, bool)) {
	modelPath, ok := file("/model")
	if !ok {
		return
	}
	bitsPath, ok := file("/bitstream")
	if !ok {
		return
	}
	f, err := hdf5io.Open(modelPath)
	if err != nil {
		c.Fail("/model", "the result of job %s cannot be read: %v", p.Model, err)
		return
	}
	info, err := walloc.ReadInfo(f, walloc.ModelGroup)
	f.Close()
	if err != nil {
		c.Fail("/model", "the result of job %s holds no readable model: %v", p.Model, err)
		return
	}
	bf, err := os.Open(bitsPath)
	if err != nil {
		return
	}
	defer bf.Close()
	h, err := walloc.ReadHeader(bf)
	if err != nil {
		c.Fail("/bitstream", "upload %s: %v", p.Bitstream, err)
		return
	}
	if err := info.CheckHeader(h); err != nil {
		c.Fail("/bitstream", "upload %s cannot be decoded by the model of job %s: %v", p.Bitstream, p.Model, err)
	}
}

// loadWallocModel reads the model of a walloc.train result.
func loadWallocModel(env *Env, id string) (*walloc.Model, error) {
	path, err := env.Resolve(id)
	if err != nil {
		return nil, err
	}
	m, err := walloc.Load(path)
	if err != nil {
		return nil, Permanent(fmt.Errorf("model: %w", err))
	}
	return m, nil
}

func runWallocEncode(ctx context.Context, p *WallocEncodeParams, env *Env) error {
	m, err := loadWallocModel(env, p.Model)
	if err != nil {
		return err
	}
	path, err := env.Resolve(p.Input)
	if err != nil {
		return err
	}
	format, err := fileformat.SniffFile(path)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	var psnr float64
	// An image's original and decoded pixels go into the result, so that the
	// two can be looked at side by side without the upload or the model.
	var original, decoded image.Image
	switch {
	case m.Signal == walloc.Image && (format == fileformat.PNG || format == fileformat.JPEG):
		img, err := fileformat.ReadImage(path)
		if err != nil {
			return Permanent(fmt.Errorf("input: %w", err))
		}
		if err := walloc.EncodeWith(&buf, img, m, p.Coding); err != nil {
			return Permanent(fmt.Errorf("input: %w", err))
		}
		rec, err := walloc.Decode(bytes.NewReader(buf.Bytes()), m)
		if err != nil {
			return err
		}
		psnr = walloc.PSNR(img, rec)
		original, decoded = img, rec
	case m.Signal == walloc.Audio && format == fileformat.WAV:
		a, err := fileformat.ReadWAV(path)
		if err != nil {
			return Permanent(fmt.Errorf("input: %w", err))
		}
		if err := walloc.EncodeAudioWith(&buf, a, m, p.Coding); err != nil {
			return Permanent(fmt.Errorf("input: %w", err))
		}
		rec, err := walloc.DecodeAudio(bytes.NewReader(buf.Bytes()), m)
		if err != nil {
			return err
		}
		if len(a.Data) == 1 { // mono was coded as two equal channels
			rec.Data = rec.Data[:1]
		}
		psnr = walloc.AudioPSNR(a, rec)
	default:
		return Permanent(fmt.Errorf("input: a %q file cannot be coded by an %s model (want PNG or JPEG for images, WAV for audio)", format, m.Signal))
	}
	h, err := walloc.ReadHeader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return err
	}
	if err := env.Out.WriteUint8("bitstream", buf.Bytes(), []int{buf.Len()}, "byte", ""); err != nil {
		return err
	}
	if original != nil {
		for name, img := range map[string]image.Image{"original": original, "decoded": decoded} {
			b := img.Bounds()
			if err := env.Out.WriteUint8(name, rgbPixels(img), []int{b.Dy(), b.Dx(), 3}, "y,x,rgb", ""); err != nil {
				return err
			}
		}
	}
	env.Metrics["bytes"] = buf.Len()
	env.Metrics["bpp"] = walloc.BitsPerPixel(buf.Len(), h)
	env.Metrics["psnr"] = psnr
	env.Metrics["reduction"] = float64(m.PacketChannels()) / float64(m.LatentChannels)
	return nil
}

func runWallocDecode(ctx context.Context, p *WallocDecodeParams, env *Env) error {
	m, err := loadWallocModel(env, p.Model)
	if err != nil {
		return err
	}
	path, err := env.Resolve(p.Bitstream)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	h, q, err := walloc.ReadLatents(f)
	if err != nil {
		return Permanent(fmt.Errorf("bitstream: %w", err))
	}
	env.Metrics["bpp"] = walloc.BitsPerPixel(int(st.Size()), h)
	if h.Signal == walloc.Image {
		img, err := m.DecodeImageLatents(h, q)
		if errors.Is(err, walloc.ErrModel) {
			return Permanent(fmt.Errorf("bitstream: %w", err))
		} else if err != nil {
			return err
		}
		pix := make([]uint8, 0, 3*h.Width*h.Height)
		for i := 0; i < len(img.Pix); i += 4 {
			pix = append(pix, img.Pix[i], img.Pix[i+1], img.Pix[i+2])
		}
		return env.Out.WriteUint8("image", pix, []int{h.Height, h.Width, 3}, "y,x,rgb", "")
	}
	a, err := m.DecodeAudioLatents(h, q)
	if errors.Is(err, walloc.ErrModel) {
		return Permanent(fmt.Errorf("bitstream: %w", err))
	} else if err != nil {
		return err
	}
	data := append(append([]float64{}, a.Data[0]...), a.Data[1]...)
	if err := env.Out.WriteFloat64("audio", data, []int{2, h.Samples}, "channel,sample", ""); err != nil {
		return err
	}
	return env.Out.SetAttrFloat64("/audio", "sample_rate", float64(a.SampleRate))
}

// rgbPixels returns an image's 8-bit RGB values row by row (y,x,rgb), alpha
// dropped.
func rgbPixels(img image.Image) []uint8 {
	b := img.Bounds()
	pix := make([]uint8, 0, 3*b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			pix = append(pix, c.R, c.G, c.B)
		}
	}
	return pix
}
