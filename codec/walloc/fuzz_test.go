package walloc

import (
	"bytes"
	"slices"
	"testing"
)

// FuzzDecode feeds ReadLatents arbitrary bytes, each input twice: as it is,
// and with its payload length and checksum made consistent with its length,
// so that mutations reach the entropy decoders instead of stopping at the
// checksum. Every outcome must be a *FormatError or a valid header with its
// latents, which then round-trip. The committed corpus
// (testdata/fuzz/FuzzDecode) holds valid files of both codings and signal
// kinds and mutilated ones: truncated, corrupted, huge sizes, bad payloads.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
		if len(data) >= headerLen+trailerLen {
			checkDecode(t, withLength(slices.Clone(data)))
		}
	})
}

func checkDecode(t *testing.T, data []byte) {
	h, q, err := ReadLatents(bytes.NewReader(data))
	if err != nil {
		if !isFormatError(err) {
			t.Fatalf("ReadLatents error %v (%T) is not a *FormatError", err, err)
		}
		return
	}
	if err := h.Validate(); err != nil {
		t.Fatalf("ReadLatents accepted an invalid header: %v", err)
	}
	if len(q) != h.NumLatents() {
		t.Fatalf("ReadLatents gave %d latents for shape %v", len(q), h.LatentShape())
	}
	if rh, err := ReadHeader(bytes.NewReader(data)); err != nil || rh != h {
		t.Fatalf("ReadHeader = %+v, %v; ReadLatents read %+v", rh, err, h)
	}
	var buf bytes.Buffer
	if err := WriteLatents(&buf, h, q); err != nil {
		t.Fatalf("WriteLatents of what ReadLatents read: %v", err)
	}
	h2, q2, err := ReadLatents(&buf)
	if err != nil || h2 != h || firstDiff(q, q2) >= 0 {
		t.Fatalf("re-encoded file does not read back: %v", err)
	}
}
