package walloc

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"eddy/codec/walloc"
)

// The committed test images of codec/walloc (public domain or CC0): the
// PCA is fitted on the training images and the curves are measured on the
// held-out ones, as in codec/walloc's acceptance tests.
var (
	imageDir   = filepath.Join("..", "..", "codec", "walloc", "images")
	testNames  = []string{"astronaut.png", "coffee.png", "chelsea.png"}
	trainNames = []string{"rocket.jpg", "hubble_deep_field.jpg", "retina.jpg", "grace_hopper.jpg"}
)

// plotPath is where the benchmark draws the curves, next to the report
// bench/run.sh writes.
var plotPath = filepath.Join("..", "results", "walloc-rd.png")

func loadImage(tb testing.TB, name string) image.Image {
	tb.Helper()
	f, err := os.Open(filepath.Join(imageDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return img
}

// rdPoint is one rate–distortion point: bits per pixel from the size of
// the whole file and PSNR on 8-bit RGB.
type rdPoint struct{ bpp, psnr float64 }

// curve is a codec's points on one image.
type curve struct {
	name string
	pts  []rdPoint
}

// BenchmarkRD computes rate–distortion curves on the held-out test images:
// linear WaLLoC (PCA encoder and decoder, range-coded .wlc files) at 16×
// and 4× for encoder gains 3, 5, 7, 10 and 20 (quantiser steps of about
// 0.23 to 0.034 in coefficient units); Go image/jpeg at qualities 10–95;
// and, when installed, cjpeg, opj_compress (PPM input: a PNG with an iCCP
// chunk is misread, spec §4.3) and cwebp at several settings. Each curve's
// BD-PSNR against libjpeg-turbo's JPEG (Go's when cjpeg is missing) is
// logged, with WaLLoC 4×'s PSNR minus JPEG's at equal rate at each of its
// points, and the curves are drawn to bench/results/walloc-rd.png. It runs
// once whatever b.N.
func BenchmarkRD(b *testing.B) {
	var lines []string
	logf := func(format string, a ...any) { lines = append(lines, fmt.Sprintf(format, a...)) }
	var train []walloc.Sample
	for _, n := range trainNames {
		train = append(train, walloc.SampleFromImage(loadImage(b, n), 8))
	}
	gains := []float64{3, 5, 7, 10, 20}
	models := map[int][]*walloc.Model{}
	for _, k := range []int{12, 48} {
		for _, g := range gains {
			c := walloc.ImageConfig(k)
			c.Gain = g
			m, err := walloc.New(c, 1)
			if err != nil {
				b.Fatal(err)
			}
			if err := m.InitPCA(train); err != nil {
				b.Fatal(err)
			}
			models[k] = append(models[k], m)
		}
	}
	panels := map[string][]curve{}
	for b.Loop() {
		lines = lines[:0]
		for _, name := range testNames {
			img := loadImage(b, name)
			var cs []curve
			var gojpeg []rdPoint
			for _, q := range []int{10, 25, 50, 75, 90, 95} {
				var buf bytes.Buffer
				jpeg.Encode(&buf, img, &jpeg.Options{Quality: q})
				rec, _ := jpeg.Decode(bytes.NewReader(buf.Bytes()))
				gojpeg = append(gojpeg, rdPoint{bpp(buf.Len(), img), walloc.PSNR(img, rec)})
			}
			cs = append(cs, curve{"Go image/jpeg q10,25,50,75,90,95", gojpeg})
			cs = append(cs, externalCodecs(b, img)...)
			for _, k := range []int{12, 48} {
				var pts []rdPoint
				var saved []string
				for _, m := range models[k] {
					var buf, tiled bytes.Buffer
					if err := walloc.Encode(&buf, img, m); err != nil {
						b.Fatal(err)
					}
					if err := walloc.EncodeWith(&tiled, img, m, walloc.CodingPNG); err != nil {
						b.Fatal(err)
					}
					n := buf.Len()
					saved = append(saved, fmt.Sprintf("%.1f%%", 100*(1-float64(n)/float64(tiled.Len()))))
					rec, err := walloc.Decode(&buf, m)
					if err != nil {
						b.Fatal(err)
					}
					pts = append(pts, rdPoint{bpp(n, img), walloc.PSNR(img, rec)})
				}
				cs = append(cs, curve{fmt.Sprintf("WaLLoC %d× (linear) g=3,5,7,10,20", 192/k), pts})
				logf("%s WaLLoC %d× g=3,5,7,10,20: the range coder's file is smaller than the tiled PNG's by %s", strings.TrimSuffix(name, ".png"), 192/k, strings.Join(saved, ", "))
			}
			ref := cs[0]
			for _, c := range cs {
				if strings.HasPrefix(c.name, "cjpeg") {
					ref = c
				}
			}
			refName := strings.Fields(ref.name)[0]
			for _, c := range cs {
				logf("%s %s: %s", strings.TrimSuffix(name, ".png"), c.name, points(c.pts))
			}
			for _, c := range cs {
				if c.name != ref.name {
					logf("%s BD-PSNR of %s vs %s: %+.2f dB", strings.TrimSuffix(name, ".png"), strings.Fields(c.name)[0]+" "+strings.Fields(c.name)[1], refName, bdPSNR(ref.pts, c.pts))
				}
			}
			w4 := cs[len(cs)-1]
			var d []string
			for _, p := range w4.pts {
				d = append(d, fmt.Sprintf("%+.2f", p.psnr-interp(ref.pts, p.bpp)))
			}
			logf("%s WaLLoC 4× minus %s at equal bpp, g=3,5,7,10,20: %s dB", strings.TrimSuffix(name, ".png"), refName, strings.Join(d, " "))
			panels[name] = cs
		}
	}
	for _, l := range lines {
		b.Log(l)
	}
	if err := drawRD(plotPath, testNames, panels); err != nil {
		b.Fatal(err)
	}
	b.Logf("curves drawn to bench/results/%s", filepath.Base(plotPath))
}

func bpp(n int, img image.Image) float64 {
	return 8 * float64(n) / float64(img.Bounds().Dx()*img.Bounds().Dy())
}

func points(p []rdPoint) string {
	var s []string
	for _, x := range p {
		s = append(s, fmt.Sprintf("%.3f/%.2f", x.bpp, x.psnr))
	}
	return strings.Join(s, " ")
}

// interp returns the PSNR of curve c at rate r by linear interpolation in
// bpp (the ends extrapolated).
func interp(c []rdPoint, r float64) float64 {
	s := sorted(c)
	i := sort.Search(len(s), func(i int) bool { return s[i].bpp >= r })
	i = min(max(i, 1), len(s)-1)
	a, z := s[i-1], s[i]
	return a.psnr + (z.psnr-a.psnr)*(r-a.bpp)/(z.bpp-a.bpp)
}

func sorted(c []rdPoint) []rdPoint {
	s := append([]rdPoint(nil), c...)
	sort.Slice(s, func(i, j int) bool { return s[i].bpp < s[j].bpp })
	return s
}

// bdPSNR is the Bjøntegaard delta PSNR of curve test against ref: each
// curve's PSNR fitted by a polynomial of degree min(3, points−1) in
// log10(bpp), the difference of the integrals over the common log-rate
// range divided by its length. NaN when the ranges do not overlap.
func bdPSNR(ref, test []rdPoint) float64 {
	lo := math.Max(minRate(ref), minRate(test))
	hi := math.Min(maxRate(ref), maxRate(test))
	if !(hi > lo) {
		return math.NaN()
	}
	ia, ib := polyIntegral(fitLog(ref), lo, hi), polyIntegral(fitLog(test), lo, hi)
	return (ib - ia) / (hi - lo)
}

func minRate(c []rdPoint) float64 {
	m := math.Inf(1)
	for _, p := range c {
		m = math.Min(m, math.Log10(p.bpp))
	}
	return m
}

func maxRate(c []rdPoint) float64 {
	m := math.Inf(-1)
	for _, p := range c {
		m = math.Max(m, math.Log10(p.bpp))
	}
	return m
}

// fitLog returns the least-squares polynomial coefficients (constant first)
// of PSNR in log10(bpp).
func fitLog(c []rdPoint) []float64 {
	deg := min(3, len(c)-1)
	a := mat.NewDense(len(c), deg+1, nil)
	y := mat.NewVecDense(len(c), nil)
	for i, p := range c {
		x := math.Log10(p.bpp)
		for j := 0; j <= deg; j++ {
			a.Set(i, j, math.Pow(x, float64(j)))
		}
		y.SetVec(i, p.psnr)
	}
	var coef mat.VecDense
	if err := coef.SolveVec(a, y); err != nil {
		return []float64{math.NaN()}
	}
	return coef.RawVector().Data
}

func polyIntegral(c []float64, lo, hi float64) float64 {
	var s float64
	for j, v := range c {
		s += v * (math.Pow(hi, float64(j+1)) - math.Pow(lo, float64(j+1))) / float64(j+1)
	}
	return s
}

// externalCodecs runs cjpeg, opj_compress and cwebp, with their decoders
// djpeg, opj_decompress and dwebp, on a PPM copy of img, each that is on
// PATH; the rate counts the whole compressed file.
func externalCodecs(b *testing.B, img image.Image) []curve {
	dir := b.TempDir()
	ppm := filepath.Join(dir, "in.ppm")
	writePPM(b, ppm, img)
	var out []curve
	run := func(name, ext string, settings []string, enc func(s, out string) []string, dec func(in, out string) []string) {
		for _, tool := range []string{enc("", "")[0], dec("", "")[0]} {
			if _, err := exec.LookPath(tool); err != nil {
				b.Logf("%s not installed: no %s curve", tool, name)
				return
			}
		}
		var pts []rdPoint
		for _, s := range settings {
			// opj_compress and opj_decompress pick the format from the extension.
			c, r := filepath.Join(dir, "c"+ext), filepath.Join(dir, "r.ppm")
			for _, cmd := range [][]string{enc(s, c), dec(c, r)} {
				if msg, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
					b.Fatalf("%v: %v\n%s", cmd, err, msg)
				}
			}
			st, err := os.Stat(c)
			if err != nil {
				b.Fatal(err)
			}
			pts = append(pts, rdPoint{bpp(int(st.Size()), img), walloc.PSNR(img, readPPM(b, r))})
		}
		out = append(out, curve{name + " " + strings.Join(settings, ","), pts})
	}
	run("cjpeg -quality", ".jpg", []string{"10", "25", "50", "75", "90", "95"},
		func(s, o string) []string { return []string{"cjpeg", "-quality", s, "-outfile", o, ppm} },
		func(i, o string) []string { return []string{"djpeg", "-pnm", "-outfile", o, i} })
	run("opj_compress -r", ".j2k", []string{"96", "64", "48", "35", "24", "16", "8"},
		func(s, o string) []string { return []string{"opj_compress", "-i", ppm, "-o", o, "-r", s} },
		func(i, o string) []string { return []string{"opj_decompress", "-i", i, "-o", o} })
	run("cwebp -q", ".webp", []string{"5", "20", "40", "60", "80", "95"},
		func(s, o string) []string { return []string{"cwebp", "-quiet", "-q", s, ppm, "-o", o} },
		func(i, o string) []string { return []string{"dwebp", "-quiet", i, "-ppm", "-o", o} })
	return out
}

func writePPM(b *testing.B, path string, img image.Image) {
	bd := img.Bounds()
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "P6\n%d %d\n255\n", bd.Dx(), bd.Dy())
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			buf.Write([]byte{c.R, c.G, c.B})
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
}

// readPPM reads an 8-bit binary PPM, whose header may hold comments
// (OpenJPEG writes one).
func readPPM(b *testing.B, path string) image.Image {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var fields []string
	i := 0
	for len(fields) < 4 && i < len(data) {
		switch c := data[i]; {
		case c == '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		default:
			j := i
			for j < len(data) && !strings.ContainsRune(" \t\n\r", rune(data[j])) {
				j++
			}
			fields = append(fields, string(data[i:j]))
			i = j
		}
	}
	i++ // the single whitespace byte before the pixels
	var w, h int
	if len(fields) == 4 {
		fmt.Sscan(fields[1], &w)
		fmt.Sscan(fields[2], &h)
	}
	if len(fields) != 4 || fields[0] != "P6" || fields[3] != "255" || w < 1 || h < 1 || len(data)-i != 3*w*h {
		b.Fatalf("%s: not an 8-bit binary PPM (header %q)", path, fields)
	}
	pix := data[i:]
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		copy(img.Pix[4*i:], pix[3*i:3*i+3])
		img.Pix[4*i+3] = 255
	}
	return img
}
