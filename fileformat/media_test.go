package fileformat

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"eddy/codec/walloc"
	"eddy/codec/wav"
)

func writeMedia(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMediaInspect sniffs and inspects a PNG, a JPEG, a WAV and a .wlc
// file and checks the shapes listed from their headers.
func TestMediaInspect(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 24, 16))
	var pb, jb, wb, lb bytes.Buffer
	png.Encode(&pb, img)
	jpeg.Encode(&jb, img, nil)
	wav.Encode(&wb, &wav.Audio{SampleRate: 44100, Data: [][]float64{make([]float64, 300), make([]float64, 300)}})
	h := walloc.Header{Signal: walloc.Image, Coding: walloc.CodingRange, Levels: 3, LatentChannels: 12, Channels: 3, Height: 16, Width: 24}
	if err := walloc.WriteLatents(&lb, h, make([]int8, 12*2*3)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		b      []byte
		format Format
		name   string
		shape  []int
	}{
		{pb.Bytes(), PNG, ImageArray, []int{16, 24, 3}},
		{jb.Bytes(), JPEG, ImageArray, []int{16, 24, 3}},
		{wb.Bytes(), WAV, AudioArray, []int{2, 300}},
		{lb.Bytes(), WLC, LatentArray, []int{12, 2, 3}},
	} {
		f, ds, err := Inspect(context.Background(), writeMedia(t, "f", c.b), Limits{})
		if err != nil || f != c.format || len(ds) != 1 || ds[0].Name != c.name || !slices.Equal(ds[0].Shape, c.shape) {
			t.Errorf("%s: %s %+v %v", c.format, f, ds, err)
		}
	}
}

// TestImageBomb: a PNG header declaring 100000 × 100000 pixels is refused
// from its header, before any pixel is decoded.
func TestImageBomb(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := []byte("IHDR")
	ihdr = binary.BigEndian.AppendUint32(ihdr, 100000)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 60000)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(ihdr)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(ihdr))
	path := writeMedia(t, "bomb.png", b.Bytes())
	if _, _, err := Inspect(context.Background(), path, Limits{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Inspect: %v, want ErrTooLarge", err)
	}
	if _, err := ReadImage(path); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadImage: %v, want ErrTooLarge", err)
	}
}

// TestAudioBomb: a WAV file whose data chunk declares more than
// MaxAudioSamples samples is too large (413 at the API), both from its
// header (Inspect) and when decoded (ReadWAV), while a damaged one is
// malformed.
func TestAudioBomb(t *testing.T) {
	var b bytes.Buffer
	wav.Encode(&b, &wav.Audio{SampleRate: 44100, Data: [][]float64{make([]float64, 8), make([]float64, 8)}})
	big := bytes.Clone(b.Bytes())
	// The data chunk's size follows its id; 2^30 bytes of 16-bit stereo
	// are 2^28 frames, 2^29 samples.
	i := bytes.Index(big, []byte("data"))
	binary.LittleEndian.PutUint32(big[i+4:], 1<<30)
	path := writeMedia(t, "bomb.wav", big)
	if _, _, err := Inspect(context.Background(), path, Limits{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Inspect: %v, want ErrTooLarge", err)
	}
	if _, err := ReadWAV(path); !errors.Is(err, ErrTooLarge) || errors.Is(err, ErrMalformed) {
		t.Fatalf("ReadWAV: %v, want ErrTooLarge", err)
	}
	bad := bytes.Clone(b.Bytes())
	copy(bad[8:], "WAVX")
	if _, err := ReadWAV(writeMedia(t, "bad.wav", bad)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("ReadWAV of a damaged header: %v, want ErrMalformed", err)
	}
	if a, err := ReadWAV(writeMedia(t, "ok.wav", b.Bytes())); err != nil || len(a.Data) != 2 || len(a.Data[0]) != 8 {
		t.Fatalf("ReadWAV: %v", err)
	}
}
