package walloc_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"eddy/codec/walloc"
)

// Latents of a 64×48 RGB image at J = 3 and K = 12 (the 16× codec): 12
// channels of 8×6, written with the range coder and read back.
func ExampleWriteLatents() {
	h := walloc.Header{
		Signal: walloc.Image, Coding: walloc.CodingRange,
		Levels: 3, LatentChannels: 12, Channels: 3, Height: 64, Width: 48,
		Model: walloc.ModelIDFromSHA256(sha256.Sum256([]byte("model file bytes"))),
	}
	fmt.Println("latent shape", h.LatentShape())
	q := make([]int8, h.NumLatents())
	for i := range q {
		q[i] = int8(i%7 - 3) // small values, as companded latents mostly are
	}
	var buf bytes.Buffer
	if err := walloc.WriteLatents(&buf, h, q); err != nil {
		fmt.Println(err)
		return
	}
	size := buf.Len()
	h2, q2, err := walloc.ReadLatents(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("same header:", h2 == h, "same latents:", bytes.Equal(int8Bytes(q2), int8Bytes(q)))
	fmt.Printf("%d bytes, %.3f bpp\n", size, walloc.BitsPerPixel(size, h))
	// Output:
	// latent shape [12 8 6]
	// same header: true same latents: true
	// 156 bytes, 0.406 bpp
}

func int8Bytes(q []int8) []byte {
	b := make([]byte, len(q))
	for i, v := range q {
		b[i] = byte(v)
	}
	return b
}
