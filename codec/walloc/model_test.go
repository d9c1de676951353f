package walloc

import (
	"bytes"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// Test images (spec §4): the committed public-domain/CC0 fixtures of
// images (see builtin.go). Held out for testing: astronaut, coffee, chelsea.
// Training: rocket, hubble_deep_field, retina, and, when the directory named
// by EDDY_WALLOC_DATA holds them (extracted from the python3-skimage and
// python3-scipy packages), motorcycle_left.png and face.png. Validation:
// grace_hopper.
var (
	testNames  = []string{"astronaut.png", "coffee.png", "chelsea.png"}
	trainNames = []string{"rocket.jpg", "hubble_deep_field.jpg", "retina.jpg", "grace_hopper.jpg"}
	extraNames = []string{"motorcycle_left.png", "motorcycle_right.png"}
	valNames   = []string{"camera.png"}
)

var imageCache sync.Map

func loadImage(t testing.TB, name string) image.Image {
	t.Helper()
	if v, ok := imageCache.Load(name); ok {
		return v.(image.Image)
	}
	path := filepath.Join("images", name)
	if _, err := os.Stat(path); err != nil {
		if dir := os.Getenv("EDDY_WALLOC_DATA"); dir != "" {
			path = filepath.Join(dir, name)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("test image: %v", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	imageCache.Store(name, img)
	return img
}

// trainSamples returns the training samples: the committed ones and those
// of EDDY_WALLOC_DATA that exist.
func trainSamples(t testing.TB) []Sample {
	var s []Sample
	for _, n := range trainNames {
		s = append(s, SampleFromImage(loadImage(t, n), 8))
	}
	if dir := os.Getenv("EDDY_WALLOC_DATA"); dir != "" {
		for _, n := range extraNames {
			if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
				s = append(s, SampleFromImage(loadImage(t, n), 8))
			}
		}
	}
	return s
}

var pcaCache sync.Map

// linearModel returns the PCA-initialised model with k latents and gain g.
func linearModel(t testing.TB, k int, g float64) *Model {
	t.Helper()
	key := [2]float64{float64(k), g}
	if v, ok := pcaCache.Load(key); ok {
		return v.(*Model)
	}
	c := ImageConfig(k)
	c.Gain = g
	m, err := New(c, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.InitPCA(trainSamples(t)); err != nil {
		t.Fatal(err)
	}
	pcaCache.Store(key, m)
	return m
}

// codeImage encodes img with m and coding c, decodes the bytes, and returns
// the reconstruction, the file and the latents.
func codeImage(t testing.TB, m *Model, img image.Image, c Coding) (image.Image, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodeWith(&buf, img, m, c); err != nil {
		t.Fatal(err)
	}
	file := slices.Clone(buf.Bytes())
	out, err := Decode(&buf, m)
	if err != nil {
		t.Fatal(err)
	}
	return out, file
}

func TestCompanding(t *testing.T) {
	s := companderScale
	for z := -2 * s; z <= 2*s; z += 0.37 {
		if got := ToNormal(ToUniform(z)); math.Abs(got-z) > 1e-3 {
			t.Fatalf("ToNormal(ToUniform(%g)) = %g", z, got)
		}
	}
	for _, z := range []float64{-1e9, -500, -3, 0, 3, 500, 1e9, math.Inf(1), math.Inf(-1), math.NaN()} {
		if q := Quantize(z); q < -127 || q > 127 {
			t.Fatalf("Quantize(%g) = %d outside [−127, 127]", z, q)
		}
	}
	if Quantize(1e9) != 127 || Quantize(-1e9) != -127 {
		t.Fatalf("saturation: %d %d", Quantize(1e9), Quantize(-1e9))
	}
	// Near 0 one level is 1/slope = s/(2M φ(0)) z-units, about 0.674.
	if q := Quantize(0.674); q != 1 {
		t.Fatalf("Quantize(0.674) = %d, want 1", q)
	}
}

// TestLinearCodec is spec §6 A.3 and B: the PCA-initialised codec with the
// exact companding (g = 20) round-trips its latents bit for bit through both
// codings, has dimension reduction exactly 16 or 4, and reaches the PSNR
// floors of the calibration prototype (§5 with 0.25 dB slack) at a rate
// from the real file size.
func TestLinearCodec(t *testing.T) {
	floors := map[int][]float64{12: {28.0, 26.9, 31.9}, 48: {34.3, 32.2, 37.5}}
	maxBPP := map[int]float64{12: 0.9, 48: 2.6}
	for _, k := range []int{12, 48} {
		m := linearModel(t, k, 20)
		for i, name := range testNames {
			img := loadImage(t, name)
			h, q, err := m.EncodeImageLatents(img)
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			ph, pw := b.Dy()+h.PadTop+h.PadBottom, b.Dx()+h.PadLeft+h.PadRight
			if red := float64(3*ph*pw) / float64(len(q)); red != 192/float64(k) {
				t.Fatalf("dimension reduction %g, want %g", red, 192/float64(k))
			}
			var sizes [2]int
			var recs [2]image.Image
			for j, c := range []Coding{CodingPNG, CodingRange} {
				rec, file := codeImage(t, m, img, c)
				h2, q2, err := ReadLatents(bytes.NewReader(file))
				if err != nil || !slices.Equal(q, q2) || h2.Model != m.ID() {
					t.Fatalf("%s %s: latents do not round-trip (%v)", name, c, err)
				}
				sizes[j], recs[j] = len(file), rec
			}
			if !bytes.Equal(recs[0].(*image.NRGBA).Pix, recs[1].(*image.NRGBA).Pix) {
				t.Fatalf("%s: the codings decode differently", name)
			}
			psnr := PSNR(img, recs[1])
			bpp := BitsPerPixel(sizes[1], h)
			t.Logf("K=%d %-14s PSNR %.2f dB, %.3f bpp (range coder), %.3f bpp (tiled PNG), zeroth-order entropy %.3f bpp",
				k, name, psnr, bpp, BitsPerPixel(sizes[0], h), entropyBits(q, k)/float64(b.Dx()*b.Dy()))
			if psnr < floors[k][i] {
				t.Errorf("K=%d %s: PSNR %.2f dB below the floor %.1f", k, name, psnr, floors[k][i])
			}
			if bpp > maxBPP[k] {
				t.Errorf("K=%d %s: %.3f bpp above %.1f", k, name, bpp, maxBPP[k])
			}
		}
	}
}

// entropyBits returns Σ over channels of n·H₀, the zeroth-order entropy of
// each channel's values, in bits.
func entropyBits(q []int8, k int) float64 {
	n := len(q) / k
	var bits float64
	for c := range k {
		var hist [256]int
		for _, v := range q[c*n : (c+1)*n] {
			hist[int(v)+128]++
		}
		for _, h := range hist {
			if h > 0 {
				p := float64(h) / float64(n)
				bits -= float64(h) * math.Log2(p)
			}
		}
	}
	return bits
}
