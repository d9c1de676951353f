package walloc

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"eddy/field"
)

// Signal is the kind of signal a file codes.
type Signal string

const (
	// Image is a Height × Width image of Channels colour planes; its latents
	// are (K, h, w) with h = (Height+PadTop+PadBottom)/2^J + Border and w
	// likewise.
	Image Signal = "image"
	// Audio is Channels channels of Samples samples; its latents are (K, l)
	// with l = (Samples+PadStart+PadEnd)/2^J + Border.
	Audio Signal = "audio"
)

// Coding is the entropy coding of the latents in a file.
type Coding string

const (
	// CodingPNG is the paper's route: the latents tiled into an 8-bit
	// grayscale PNG (pngtile.go).
	CodingPNG Coding = "png"
	// CodingRange is a context-adaptive binary range coder (context.go).
	CodingRange Coding = "range"
)

// Limits of version 1 of the format. They bound what a header may declare,
// so that a reader refuses a file claiming huge sizes before allocating
// anything for it, and keep every size product within int64.
const (
	MaxLevels         = 12      // J
	MaxLatentChannels = 4096    // K
	MaxBorder         = 16      // extra latent samples per axis
	MaxSide           = 1 << 16 // image height and width
	MaxSamples        = 1 << 30 // audio samples per channel
	MaxChannels       = 1024    // image colour planes or audio channels
	MaxPad            = 1<<16 - 1
	// MaxLatents bounds K·h·w (K·l for audio), the int8 values a reader
	// allocates: 256 MiB.
	MaxLatents = 1 << 28
)

// ModelID names the trained model that made the latents and can decode
// them: the first 16 bytes of the SHA-256 of the model file (a 128-bit
// prefix is ample to tell models apart, and costs half the bytes of the
// whole digest in every file). The zero ModelID means "no model named".
type ModelID [16]byte

// ModelIDFromSHA256 returns the ModelID of a model file whose SHA-256 is sum,
// as the artifact store records it.
func ModelIDFromSHA256(sum [sha256.Size]byte) ModelID {
	var id ModelID
	copy(id[:], sum[:])
	return id
}

// String returns the 32 hexadecimal digits of id.
func (id ModelID) String() string { return hex.EncodeToString(id[:]) }

// MarshalText encodes id as its hexadecimal digits.
func (id ModelID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText decodes 32 hexadecimal digits.
func (id *ModelID) UnmarshalText(b []byte) error {
	if len(b) != 2*len(id) {
		return fmt.Errorf("walloc: model id %q: want %d hexadecimal digits", b, 2*len(id))
	}
	_, err := hex.Decode(id[:], b)
	return err
}

// Header describes the latents of a .wlc file: the signal they code, how it
// was padded for the wavelet packet transform, the transform and model that
// made them, and the entropy coding of the payload. Fields of the other
// signal kind are 0.
type Header struct {
	Signal Signal  `json:"signal" doc:"kind of signal" enum:"image|audio" required:"true"`
	Coding Coding  `json:"coding" doc:"entropy coding of the latents" enum:"png|range" required:"true"`
	Model  ModelID `json:"model" doc:"first 16 bytes of the SHA-256 of the model file, in hexadecimal"`

	Levels         int `json:"levels" doc:"wavelet packet levels J" min:"1" max:"12"`
	LatentChannels int `json:"latent_channels" doc:"latent channels K" min:"1" max:"4096"`
	// Border is the number of latent samples that the encoder adds along
	// each axis beyond the transform's (the reference audio encoder's
	// Conv1d with padding 1 adds 2, spec §1.3); 0 for a 1×1 map.
	Border   int `json:"border" doc:"latent samples the encoder adds along each axis" min:"0" max:"16"`
	Channels int `json:"channels" doc:"colour planes of the image, or audio channels" min:"1" max:"1024"`

	// Image: the size before padding, and the padding on each side (the
	// reference pads by reflection and crops the centre back, spec §1.2).
	Height    int `json:"height,omitempty" doc:"image height in pixels, before padding" min:"0" max:"65536"`
	Width     int `json:"width,omitempty" doc:"image width in pixels, before padding" min:"0" max:"65536"`
	PadTop    int `json:"pad_top,omitempty" doc:"rows added above the image" min:"0" max:"65535"`
	PadBottom int `json:"pad_bottom,omitempty" doc:"rows added below the image" min:"0" max:"65535"`
	PadLeft   int `json:"pad_left,omitempty" doc:"columns added left of the image" min:"0" max:"65535"`
	PadRight  int `json:"pad_right,omitempty" doc:"columns added right of the image" min:"0" max:"65535"`

	// Audio: samples per channel before padding, and the padding in time.
	Samples  int `json:"samples,omitempty" doc:"audio samples per channel, before padding" min:"0" max:"1073741824"`
	PadStart int `json:"pad_start,omitempty" doc:"samples added before the audio" min:"0" max:"65535"`
	PadEnd   int `json:"pad_end,omitempty" doc:"samples added after the audio" min:"0" max:"65535"`
}

// Validate checks h against the limits and for consistency: the fields of
// its signal kind set and the others 0, padded sizes divisible by 2^J, and
// at most MaxLatents latents. Problems are reported as field.Errors at the
// JSON names of the fields.
func (h Header) Validate() error {
	errs := field.Check(h)
	if len(errs) > 0 {
		return errs
	}
	switch h.Signal {
	case Image:
		zeroFields(&errs, "an image", "/samples", h.Samples, "/pad_start", h.PadStart, "/pad_end", h.PadEnd)
		if h.Height < 1 {
			errs.Add("/height", "must be between 1 and %d, got %d", MaxSide, h.Height)
		}
		if h.Width < 1 {
			errs.Add("/width", "must be between 1 and %d, got %d", MaxSide, h.Width)
		}
		if len(errs) > 0 {
			return errs
		}
		if ph := h.Height + h.PadTop + h.PadBottom; ph%(1<<h.Levels) != 0 {
			errs.Add("/pad_bottom", "padded height %d+%d+%d = %d is not a multiple of 2^levels = %d", h.Height, h.PadTop, h.PadBottom, ph, 1<<h.Levels)
		}
		if pw := h.Width + h.PadLeft + h.PadRight; pw%(1<<h.Levels) != 0 {
			errs.Add("/pad_right", "padded width %d+%d+%d = %d is not a multiple of 2^levels = %d", h.Width, h.PadLeft, h.PadRight, pw, 1<<h.Levels)
		}
	case Audio:
		zeroFields(&errs, "audio", "/height", h.Height, "/width", h.Width, "/pad_top", h.PadTop,
			"/pad_bottom", h.PadBottom, "/pad_left", h.PadLeft, "/pad_right", h.PadRight)
		if h.Samples < 1 {
			errs.Add("/samples", "must be between 1 and %d, got %d", MaxSamples, h.Samples)
		}
		if len(errs) > 0 {
			return errs
		}
		if pl := h.Samples + h.PadStart + h.PadEnd; pl%(1<<h.Levels) != 0 {
			errs.Add("/pad_end", "padded length %d+%d+%d = %d is not a multiple of 2^levels = %d", h.Samples, h.PadStart, h.PadEnd, pl, 1<<h.Levels)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	// Every factor is bounded above (K ≤ 2^12, rows and cols ≤ 2^17 + 16,
	// l ≤ 2^30 + 2^17 + 16), so the product fits in an int64.
	if n := h.latents64(); n > MaxLatents {
		errs.Add("/latent_channels", "%d latent values (K·h·w) exceed the maximum %d", n, MaxLatents)
	}
	return errs.Err()
}

// zeroFields reports the fields, given as pairs of path and value, that are
// not 0 although they do not apply to kind.
func zeroFields(errs *field.Errors, kind string, pairs ...any) {
	for i := 0; i < len(pairs); i += 2 {
		if v := pairs[i+1].(int); v != 0 {
			errs.Add(pairs[i].(string), "must be 0 for %s, got %d", kind, v)
		}
	}
}

// latentDims returns the latent shape as (K, rows, cols), rows = 1 for
// audio, for a header that passed the field checks.
func (h Header) latentDims() (k, rows, cols int64) {
	b := int64(h.Border)
	if h.Signal == Audio {
		return int64(h.LatentChannels), 1, (int64(h.Samples)+int64(h.PadStart)+int64(h.PadEnd))>>h.Levels + b
	}
	return int64(h.LatentChannels),
		(int64(h.Height)+int64(h.PadTop)+int64(h.PadBottom))>>h.Levels + b,
		(int64(h.Width)+int64(h.PadLeft)+int64(h.PadRight))>>h.Levels + b
}

func (h Header) latents64() int64 {
	k, r, c := h.latentDims()
	return k * r * c
}

// LatentShape returns the shape of the latents of a valid header: [K, h, w]
// for an image, [K, l] for audio. The latents are a row-major array of that
// shape, the channel order of the model's encoder.
func (h Header) LatentShape() []int {
	k, r, c := h.latentDims()
	if h.Signal == Audio {
		return []int{int(k), int(c)}
	}
	return []int{int(k), int(r), int(c)}
}

// NumLatents returns the number of latent values of a valid header, the
// product of LatentShape.
func (h Header) NumLatents() int { return int(h.latents64()) }

// BitsPerPixel returns the rate of a file of fileBytes bytes with header h,
// as the paper reports it (spec §1.7): 8·bytes/(Height·Width) for an image,
// counting the pixels of the image before padding whatever its colour
// planes; for audio, bits per sample, 8·bytes/(Samples·Channels), counting
// the samples of every channel (CR = 16/bps for 16-bit audio).
func BitsPerPixel(fileBytes int, h Header) float64 {
	if h.Signal == Audio {
		return 8 * float64(fileBytes) / (float64(h.Samples) * float64(h.Channels))
	}
	return 8 * float64(fileBytes) / (float64(h.Height) * float64(h.Width))
}
