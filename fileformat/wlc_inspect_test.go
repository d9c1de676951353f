package fileformat

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"eddy/codec/walloc"
)

// A .wlc upload is inspected through its whole file: cut to its first 300
// bytes it is refused as truncated, with one payload byte flipped as
// corrupted (CRC-32C), while the whole file is accepted.
func TestWLCInspectReadsWholeFile(t *testing.T) {
	h := walloc.Header{Signal: walloc.Image, Coding: walloc.CodingPNG, Levels: 3, LatentChannels: 12, Channels: 3, Height: 64, Width: 64}
	q := make([]int8, h.NumLatents())
	x := uint32(1) // a xorshift sequence: latents that do not compress away
	for i := range q {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		q[i] = int8(x%31) - 15
	}
	var b bytes.Buffer
	if err := walloc.WriteLatents(&b, h, q); err != nil {
		t.Fatal(err)
	}
	whole := b.Bytes()
	if len(whole) <= 300 {
		t.Fatalf("the test file has %d bytes; it must be longer than the 300 cut", len(whole))
	}
	flipped := bytes.Clone(whole)
	flipped[len(flipped)/2] ^= 0x40
	if f, ds, err := Inspect(context.Background(), writeMedia(t, "ok.wlc", whole), Limits{}); err != nil || f != WLC || len(ds) != 1 {
		t.Fatalf("whole file: %s %v %v", f, ds, err)
	}
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"truncated", whole[:300], "truncated"},
		{"flipped", flipped, "corrupted"},
	} {
		_, _, err := Inspect(context.Background(), writeMedia(t, c.name+".wlc", c.b), Limits{})
		var fe *Error
		if !errors.As(err, &fe) || fe.Kind != ErrMalformed || !strings.Contains(fe.Msg, c.want) {
			t.Errorf("%s: %v, want a malformed-file error saying %q", c.name, err, c.want)
		}
	}
}
