package fileformat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // registers JPEG with image.DecodeConfig and image.Decode
	_ "image/png"  // registers PNG
	"io"
	"os"

	"eddy/codec/walloc"
	"eddy/codec/wav"
)

// Media formats: images and audio for the WaLLoC codec, and its bitstreams.
const (
	PNG  Format = "png"
	JPEG Format = "jpeg"
	// WAV is a RIFF WAVE file of PCM audio (see package codec/wav).
	WAV Format = "wav"
	// WLC is a WaLLoC bitstream (package codec/walloc).
	WLC Format = "wlc"
)

// Names of the arrays that Inspect lists for media files.
const (
	// ImageArray is an image: shape (height, width, 3), uint8 RGB.
	ImageArray = "image"
	// AudioArray is audio: shape (channels, samples), float (samples in
	// [−1, 1)).
	AudioArray = "audio"
	// LatentArray is the latents of a .wlc file: shape (K, h, w) or (K, l),
	// int8.
	LatentArray = "latents"
)

// Bounds of media files, checked from their headers before any decoding.
const (
	// MaxImagePixels bounds width × height of an image (a PNG or JPEG of a
	// few kilobytes can declare gigapixels: a decompression bomb).
	MaxImagePixels = 1 << 26
	// MaxAudioSamples bounds channels × samples of a WAV file.
	MaxAudioSamples = 1 << 28
)

var (
	pngSignature  = []byte("\x89PNG\r\n\x1a\n")
	jpegSignature = []byte{0xFF, 0xD8, 0xFF}
	wlcSignature  = []byte("\x89WLC")
)

// sniffMedia returns PNG, JPEG, WAV or WLC for a file starting with head,
// else Unknown.
func sniffMedia(head []byte) Format {
	switch {
	case bytes.HasPrefix(head, pngSignature):
		return PNG
	case bytes.HasPrefix(head, jpegSignature):
		return JPEG
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		return WAV
	case bytes.HasPrefix(head, wlcSignature):
		return WLC
	}
	return Unknown
}

// inspectMedia lists the array of a media file from its header alone: an
// image's size (refusing more than MaxImagePixels), a WAV file's channels
// and samples (refusing more than MaxAudioSamples), a .wlc file's latent
// shape.
func inspectMedia(path string, format Format) ([]Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fileformat: %w", err)
	}
	defer f.Close()
	switch format {
	case PNG, JPEG:
		c, _, err := image.DecodeConfig(f)
		if err != nil {
			return nil, &Error{Kind: ErrMalformed, Msg: fmt.Sprintf("not a readable %s image: its header is damaged", format), Cause: err}
		}
		if err := checkImageSize(c.Width, c.Height); err != nil {
			return nil, err
		}
		return []Dataset{{Name: ImageArray, Shape: []int{c.Height, c.Width, 3}, Dtype: "uint8"}}, nil
	case WAV:
		c, err := wav.DecodeConfig(f)
		if err != nil {
			return nil, &Error{Kind: ErrMalformed, Msg: "not a readable WAV file: " + err.Error(), Cause: err}
		}
		if c.Frames*int64(c.Channels) > MaxAudioSamples {
			return nil, &Error{Kind: ErrTooLarge, Msg: fmt.Sprintf("the WAV file declares %d channels × %d samples = %d samples, more than the %d accepted", c.Channels, c.Frames, int64(c.Channels)*c.Frames, MaxAudioSamples)}
		}
		return []Dataset{{Name: AudioArray, Shape: []int{c.Channels, int(c.Frames)}, Dtype: "float64"}}, nil
	default: // WLC
		// The whole file is read, as a job will read it: a header alone
		// would let a truncated or corrupted file in, to fail only when the
		// job runs. ReadLatents checks the payload length, the CRC-32C
		// trailer and that the payload decodes.
		h, _, err := walloc.ReadLatents(bufio.NewReader(f))
		var fe *walloc.FormatError
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, &Error{Kind: ErrMalformed, Msg: "the WaLLoC bitstream (.wlc) is truncated: " + err.Error(), Cause: err}
		case errors.Is(err, walloc.ErrChecksum):
			return nil, &Error{Kind: ErrMalformed, Msg: "the WaLLoC bitstream (.wlc) is corrupted: " + err.Error(), Cause: err}
		case errors.As(err, &fe):
			return nil, &Error{Kind: ErrMalformed, Msg: "not a readable WaLLoC bitstream: " + err.Error(), Cause: err}
		case err != nil:
			return nil, fmt.Errorf("fileformat: %w", err)
		}
		return []Dataset{{Name: LatentArray, Shape: h.LatentShape(), Dtype: "int8"}}, nil
	}
}

// checkImageSize refuses images beyond MaxImagePixels or walloc.MaxSide.
func checkImageSize(w, h int) error {
	if w < 1 || h < 1 || w > walloc.MaxSide || h > walloc.MaxSide || int64(w)*int64(h) > MaxImagePixels {
		return &Error{Kind: ErrTooLarge, Msg: fmt.Sprintf("the image declares %d×%d pixels; at most %d per side and %d in all are accepted", w, h, walloc.MaxSide, MaxImagePixels)}
	}
	return nil
}

// ReadImage decodes the PNG or JPEG image at path after checking its
// declared size against MaxImagePixels.
func ReadImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fileformat: %w", err)
	}
	defer f.Close()
	c, _, err := image.DecodeConfig(f)
	if err != nil {
		return nil, &Error{Kind: ErrMalformed, Msg: "not a readable PNG or JPEG image", Cause: err}
	}
	if err := checkImageSize(c.Width, c.Height); err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, fmt.Errorf("fileformat: %w", err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, &Error{Kind: ErrMalformed, Msg: "the image could not be decoded: it is truncated or damaged", Cause: err}
	}
	return img, nil
}

// ReadWAV decodes the WAV file at path, refusing more than MaxAudioSamples
// with an ErrTooLarge error, as Inspect does from the header.
func ReadWAV(path string) (*wav.Audio, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fileformat: %w", err)
	}
	defer f.Close()
	a, err := wav.Decode(f, MaxAudioSamples)
	switch {
	case errors.Is(err, wav.ErrTooLarge):
		return nil, &Error{Kind: ErrTooLarge, Msg: fmt.Sprintf("the WAV file declares more than %d samples", MaxAudioSamples), Cause: err}
	case err != nil:
		return nil, &Error{Kind: ErrMalformed, Msg: "not a readable WAV file: " + err.Error(), Cause: err}
	}
	return a, nil
}
