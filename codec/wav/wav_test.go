package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// TestRoundTrip writes 16-bit stereo and reads it back: every sample is a
// multiple of 2^−15, so it must come back exactly.
func TestRoundTrip(t *testing.T) {
	a := &Audio{SampleRate: 44100, Data: [][]float64{make([]float64, 1001), make([]float64, 1001)}}
	for i := range a.Data[0] {
		a.Data[0][i] = math.Round(math.Sin(float64(i)/7)*30000) / 32768
		a.Data[1][i] = float64(i%200-100) / 128
	}
	a.Data[0][0], a.Data[1][0] = -1, 32767.0/32768
	var buf bytes.Buffer
	if err := Encode(&buf, a); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 44+4*1001 {
		t.Fatalf("%d bytes, want %d", buf.Len(), 44+4*1001)
	}
	c, err := DecodeConfig(bytes.NewReader(buf.Bytes()))
	if err != nil || c.Channels != 2 || c.SampleRate != 44100 || c.BitsPerSample != 16 || c.Frames != 1001 {
		t.Fatalf("config %+v, %v", c, err)
	}
	b, err := Decode(bytes.NewReader(buf.Bytes()), 0)
	if err != nil {
		t.Fatal(err)
	}
	for ch := range 2 {
		for i, v := range a.Data[ch] {
			if b.Data[ch][i] != v {
				t.Fatalf("channel %d sample %d: %g, want %g", ch, i, b.Data[ch][i], v)
			}
		}
	}
	if _, err := Decode(bytes.NewReader(buf.Bytes()), 2001); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a bound of 2001 samples: %v", err)
	}
}

// TestHostile checks headers that would divide by zero or allocate the
// claimed size.
func TestHostile(t *testing.T) {
	hdr := func(bits uint16, fmtSize uint32) []byte {
		b := []byte("RIFF\x00\x00\x00\x00WAVEfmt ")
		b = binary.LittleEndian.AppendUint32(b, fmtSize)
		b = binary.LittleEndian.AppendUint16(b, 1)
		b = binary.LittleEndian.AppendUint16(b, 2)
		b = binary.LittleEndian.AppendUint32(b, 44100)
		b = binary.LittleEndian.AppendUint32(b, 0)
		b = binary.LittleEndian.AppendUint16(b, 2*bits/8)
		b = binary.LittleEndian.AppendUint16(b, bits)
		return append(b, "data\xff\xff\xff\xff"...)
	}
	for _, in := range [][]byte{hdr(0, 16), hdr(16, 0xffffffff), hdr(12, 16), []byte("RIFF"), nil} {
		var fe *FormatError
		if _, err := Decode(bytes.NewReader(in), 0); !errors.As(err, &fe) && !errors.Is(err, ErrTooLarge) {
			t.Errorf("%q: %v, want a *FormatError", in, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	Encode(&buf, &Audio{SampleRate: 8000, Data: [][]float64{{0, 0.5, -0.5}}})
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Decode(bytes.NewReader(b), 1<<16)
		if err == nil && len(a.Data) == 0 {
			t.Fatal("no channels without an error")
		}
	})
}
