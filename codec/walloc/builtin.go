package walloc

import (
	"embed"
	"fmt"
	"image"
	_ "image/jpeg" // the built-in images are JPEG and PNG
	_ "image/png"
	"math"
	"math/rand/v2"
	"path"

	"eddy/codec/wav"
)

// The built-in images, public domain or CC0 (spec §4.1): from scikit-image
// rocket (SpaceX), hubble_deep_field (NASA), retina (CC0), camera (CC0), and
// astronaut (NASA), coffee and chelsea (CC0), which are held out for tests;
// from matplotlib grace_hopper (US Navy).
//
//go:embed images/*.jpg images/*.png
var images embed.FS

// BuiltinTrain and BuiltinValidation name the built-in training and
// validation images; the test images astronaut.png, coffee.png and
// chelsea.png are in neither.
var (
	BuiltinTrain      = []string{"rocket.jpg", "hubble_deep_field.jpg", "retina.jpg", "grace_hopper.jpg"}
	BuiltinValidation = []string{"camera.png"}
	BuiltinTest       = []string{"astronaut.png", "coffee.png", "chelsea.png"}
)

// BuiltinImage decodes the built-in image of the given name.
func BuiltinImage(name string) (image.Image, error) {
	f, err := images.Open(path.Join("images", name))
	if err != nil {
		return nil, fmt.Errorf("walloc: no built-in image %q", name)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	return img, err
}

// SynthMusic returns n samples of deterministic stereo "music" at rate Hz,
// the built-in audio: plucked notes (five harmonics of amplitude 1/h²
// decaying as e^(−3t)) of a random pentatonic melody, eight per second,
// panned at random, with white noise of standard deviation 10⁻³, rounded
// to 16 bits.
func SynthMusic(seed uint64, n, rate int) *wav.Audio {
	r := rand.New(rand.NewPCG(seed, 1))
	a := &wav.Audio{SampleRate: rate, Data: [][]float64{make([]float64, n), make([]float64, n)}}
	scale := []float64{0, 2, 4, 7, 9, 12, 14, 16}
	step := max(rate/8, 1)
	for start := 0; start < n; start += step {
		f := 220 * math.Pow(2, scale[r.IntN(len(scale))]/12)
		pan := r.Float64()
		amp := 0.1 + 0.15*r.Float64()
		for i := start; i < min(n, start+4*step); i++ {
			t := float64(i-start) / float64(rate)
			var v float64
			for h := 1; h <= 5; h++ {
				v += math.Sin(2*math.Pi*f*float64(h)*t) / float64(h*h)
			}
			v *= amp * math.Exp(-3*t)
			a.Data[0][i] += pan * v
			a.Data[1][i] += (1 - pan) * v
		}
	}
	for c := range 2 {
		for i := range a.Data[c] {
			v := a.Data[c][i] + 1e-3*r.NormFloat64()
			a.Data[c][i] = math.Round(min(max(v, -1), 1-1/32768.0)*32768) / 32768
		}
	}
	return a
}
