// Package wav reads and writes RIFF WAVE files of linear PCM audio (8-,
// 16-, 24- or 32-bit integer samples, or 32-bit IEEE float), the audio
// container of the WaLLoC codec's command line and uploads.
//
// The reader treats its input as hostile: chunk sizes are checked against
// the limits before anything is allocated for them, the sample count is
// bounded by the caller, and malformed or truncated files give a
// *FormatError, never a panic. (go-dsp's wav package, a dependency of the
// module, is not used: it divides by the header's bits per sample without
// checking it for 0, allocates a fmt chunk of whatever size the file
// claims, maps 16-bit samples to [0, 1] with an offset, and has no writer.)
//
// Samples are floats in [−1, 1): an integer sample v of b bits is
// v/2^(b−1) (8-bit WAV is unsigned, v − 128); float samples are taken as
// they are. Encode writes 16-bit PCM, rounding and clamping to
// [−32768, 32767].
package wav

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Audio is multi-channel audio: Data[c][i] is sample i of channel c.
type Audio struct {
	SampleRate int
	Data       [][]float64
}

// Config is what the header of a WAV file says.
type Config struct {
	SampleRate    int
	Channels      int
	BitsPerSample int
	Float         bool
	// Frames is the number of samples per channel of the data chunk.
	Frames int64
}

// FormatError is a malformed or unsupported WAV file.
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return "wav: " + e.Msg }

// ErrTooLarge is returned (wrapped) when the file holds more samples than
// the caller's bound.
var ErrTooLarge = errors.New("wav: more samples than allowed")

// Limits of the reader.
const (
	MaxChannels   = 64
	maxFmtChunk   = 1 << 10
	maxSkipChunk  = 1 << 24 // other chunks (LIST, fact, …) are skipped up to 16 MiB each
	maxSkipChunks = 64
)

const (
	formatPCM        = 1
	formatFloat      = 3
	formatExtensible = 0xFFFE
)

// DecodeConfig reads the header of a WAV file from r up to the start of
// the samples and returns it; r is then positioned at the first sample.
func DecodeConfig(r io.Reader) (Config, error) {
	var c Config
	var b [12]byte
	if _, err := io.ReadFull(r, b[:12]); err != nil {
		return c, &FormatError{"truncated RIFF header"}
	}
	if string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return c, &FormatError{"not a RIFF WAVE file"}
	}
	hasFmt := false
	var align int
	for range maxSkipChunks {
		if _, err := io.ReadFull(r, b[:8]); err != nil {
			return c, &FormatError{"truncated before the data chunk"}
		}
		size := int64(binary.LittleEndian.Uint32(b[4:8]))
		switch string(b[:4]) {
		case "fmt ":
			if size < 16 || size > maxFmtChunk {
				return c, &FormatError{fmt.Sprintf("fmt chunk of %d bytes", size)}
			}
			f := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, f); err != nil {
				return c, &FormatError{"truncated fmt chunk"}
			}
			tag := binary.LittleEndian.Uint16(f[0:])
			c.Channels = int(binary.LittleEndian.Uint16(f[2:]))
			c.SampleRate = int(binary.LittleEndian.Uint32(f[4:]))
			align = int(binary.LittleEndian.Uint16(f[12:]))
			c.BitsPerSample = int(binary.LittleEndian.Uint16(f[14:]))
			if tag == formatExtensible && size >= 40 {
				tag = binary.LittleEndian.Uint16(f[24:]) // the sub-format GUID's first two bytes
			}
			switch {
			case tag == formatPCM && (c.BitsPerSample == 8 || c.BitsPerSample == 16 || c.BitsPerSample == 24 || c.BitsPerSample == 32):
			case tag == formatFloat && c.BitsPerSample == 32:
				c.Float = true
			default:
				return c, &FormatError{fmt.Sprintf("unsupported sample format %#x with %d bits", tag, c.BitsPerSample)}
			}
			if c.Channels < 1 || c.Channels > MaxChannels || c.SampleRate < 1 || c.SampleRate > 10_000_000 || align != c.Channels*c.BitsPerSample/8 {
				return c, &FormatError{fmt.Sprintf("%d channels at %d Hz, block align %d", c.Channels, c.SampleRate, align)}
			}
			hasFmt = true
		case "data":
			if !hasFmt {
				return c, &FormatError{"data chunk before the fmt chunk"}
			}
			c.Frames = size / int64(align)
			return c, nil
		default:
			if size > maxSkipChunk {
				return c, &FormatError{fmt.Sprintf("%q chunk of %d bytes", b[:4], size)}
			}
			if _, err := io.CopyN(io.Discard, r, size+size%2); err != nil {
				return c, &FormatError{"truncated chunk"}
			}
		}
	}
	return c, &FormatError{"no data chunk among the first chunks"}
}

// Decode reads a WAV file holding at most maxSamples samples (all channels
// together; ≤ 0: 2^28). A data chunk claiming more samples than the file
// holds is read to the end of the file (files written by streaming tools
// often leave the size unset); one claiming more than maxSamples wraps
// ErrTooLarge.
func Decode(r io.Reader, maxSamples int64) (*Audio, error) {
	if maxSamples <= 0 {
		maxSamples = 1 << 28
	}
	br := bufio.NewReader(r)
	c, err := DecodeConfig(br)
	if err != nil {
		return nil, err
	}
	if c.Frames*int64(c.Channels) > maxSamples {
		return nil, fmt.Errorf("%w: %d channels × %d samples exceed %d", ErrTooLarge, c.Channels, c.Frames, maxSamples)
	}
	a := &Audio{SampleRate: c.SampleRate, Data: make([][]float64, c.Channels)}
	bps := c.BitsPerSample / 8
	frame := make([]byte, bps*c.Channels)
	for range c.Frames {
		if _, err := io.ReadFull(br, frame); err != nil {
			break
		}
		for ch := range c.Channels {
			a.Data[ch] = append(a.Data[ch], sample(frame[ch*bps:(ch+1)*bps], c.Float))
		}
	}
	if len(a.Data[0]) == 0 {
		return nil, &FormatError{"no samples"}
	}
	return a, nil
}

// sample decodes one little-endian sample.
func sample(b []byte, float bool) float64 {
	switch len(b) {
	case 1:
		return (float64(b[0]) - 128) / 128
	case 2:
		return float64(int16(binary.LittleEndian.Uint16(b))) / (1 << 15)
	case 3:
		v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return float64(v) / (1 << 23)
	default:
		u := binary.LittleEndian.Uint32(b)
		if float {
			v := float64(math.Float32frombits(u))
			if math.IsNaN(v) {
				return 0
			}
			return v
		}
		return float64(int32(u)) / (1 << 31)
	}
}

// Encode writes a as a 16-bit PCM WAV file. All channels must have the
// same length.
func Encode(w io.Writer, a *Audio) error {
	ch := len(a.Data)
	if ch < 1 || ch > MaxChannels || a.SampleRate < 1 {
		return fmt.Errorf("wav: %d channels at %d Hz", ch, a.SampleRate)
	}
	n := len(a.Data[0])
	for _, d := range a.Data {
		if len(d) != n {
			return fmt.Errorf("wav: channels of %d and %d samples", n, len(d))
		}
	}
	data := int64(n) * int64(ch) * 2
	if data+36 > math.MaxUint32 {
		return fmt.Errorf("wav: %d bytes of samples exceed the RIFF limit", data)
	}
	bw := bufio.NewWriter(w)
	var h [44]byte
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+data))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], formatPCM)
	binary.LittleEndian.PutUint16(h[22:], uint16(ch))
	binary.LittleEndian.PutUint32(h[24:], uint32(a.SampleRate))
	binary.LittleEndian.PutUint32(h[28:], uint32(a.SampleRate*ch*2))
	binary.LittleEndian.PutUint16(h[32:], uint16(ch*2))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(data))
	bw.Write(h[:])
	var s [2]byte
	for i := range n {
		for c := range ch {
			v := math.Round(a.Data[c][i] * (1 << 15))
			binary.LittleEndian.PutUint16(s[:], uint16(int16(min(max(v, -32768), 32767))))
			bw.Write(s[:])
		}
	}
	return bw.Flush()
}
