package wavelet_test

import (
	"fmt"
	"math"

	"eddy/codec/wavelet"
)

// The WaLLoC front end: an RGB image as a planar (3, H, W) array, J = 3,
// gives 3·4³ = 192 packet channels of H/8 × W/8.
func ExamplePacket2D() {
	const h, w = 32, 48
	p := wavelet.NewPacket2D[float32](h, w, 3)
	img := make([]float32, 3*h*w)
	for c := range 3 {
		for y := range h {
			for x := range w {
				img[(c*h+y)*w+x] = float32(0.1*float64(c) + 0.05*math.Sin(float64(x+y)))
			}
		}
	}
	coef := make([]float32, len(img))
	p.Forward(coef, img)
	rows, cols := p.BandShape()
	fmt.Printf("%d channels of %d×%d\n", 3*p.Bands(), rows, cols)

	// Green (image channel 1) after three lowpass levels: channel 1·64, whose
	// mean is 2³ times the mean of the green plane (0.1).
	k := p.Index(1, wavelet.LL, wavelet.LL, wavelet.LL)
	band := coef[k*rows*cols : (k+1)*rows*cols]
	mean := 0.0
	for _, v := range band {
		mean += float64(v) / float64(len(band))
	}
	fmt.Printf("channel %d: mean %.2f\n", k, mean)

	back := make([]float32, len(img))
	p.Inverse(back, coef)
	e := 0.0
	for i := range img {
		e = math.Max(e, math.Abs(float64(back[i]-img[i])))
	}
	fmt.Println("reconstructed to 1e-6:", e < 1e-6)
	// Output:
	// 192 channels of 4×6
	// channel 64: mean 0.80
	// reconstructed to 1e-6: true
}

// Stereo audio: a planar (2, L) array, J = 8, gives 2·2⁸ = 512 packet
// channels of L/256 samples.
func ExamplePacket1D() {
	const n = 1024
	p := wavelet.NewPacket1D[float32](n, 8)
	audio := make([]float32, 2*n) // left, then right
	for i := range n {
		audio[i] = float32(0.4 * math.Sin(2*math.Pi*440*float64(i)/44100))
		audio[n+i] = 0.5 * audio[i]
	}
	coef := make([]float32, len(audio))
	p.Forward(coef, audio)
	fmt.Printf("%d channels of %d samples\n", 2*p.Bands(), p.BandLen())
	lowpass := make([]int, p.Levels()) // Low at every level
	fmt.Println("right channel, lowpass band:", p.Index(1, lowpass...))
	// Output:
	// 512 channels of 4 samples
	// right channel, lowpass band: 256
}
