package walloc

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"eddy/codec/wavelet"
)

// Synthetic latents for the tests and benchmarks. Real latents are the
// rounded output of the companding of spec §1.4,
//
//	ŷ = round(2M·(Φ(z/s) − ½)),  s = 127/1.85,  M = 127.499,
//
// applied to the encoder's output z, which is concentrated well inside ±s:
// most ŷ are small, with a peak at 0 and Laplacian-like tails.

const (
	compandS = 127 / 1.85
	compandM = 127.499
)

// compand returns the rounded companded value of z (spec §1.4).
func compand(z float64) int8 {
	phi := 0.5 * math.Erfc(-z/compandS/math.Sqrt2)
	return int8(math.Round(2 * compandM * (phi - 0.5)))
}

// laplace draws from the Laplace distribution of scale b (mean |z| = b).
func laplace(rng *rand.Rand, b float64) float64 {
	e := rng.ExpFloat64() * b
	if rng.IntN(2) == 0 {
		return -e
	}
	return e
}

// iidLaplacian returns n companded Laplacian latents of scale b (in z units;
// the companding is about linear with slope 1.48 near 0, so the latents have
// mean magnitude about 1.48·b).
func iidLaplacian(rng *rand.Rand, n int, b float64) []int8 {
	q := make([]int8, n)
	for i := range q {
		q[i] = compand(laplace(rng, b))
	}
	return q
}

// uniformLatents returns n latents uniform over [−128, 127]: incompressible.
func uniformLatents(rng *rand.Rand, n int) []int8 {
	q := make([]int8, n)
	for i := range q {
		q[i] = int8(rng.IntN(256) - 128)
	}
	return q
}

// structuredLatents returns companded latents of shape (k, rows, cols) with
// the structure of a linear encoder's output on a natural image: channel c
// has scale b·0.8^c (energy decreasing along the channels, as with PCA
// rows), modulated by an activity map shared by all channels (textured and
// flat regions: a smooth random field, exponentiated), plus in the first
// channels a smooth component (the image's low frequencies).
func structuredLatents(rng *rand.Rand, k, rows, cols int, b float64) []int8 {
	act := smoothField(rng, rows, cols, 6)
	for i, a := range act {
		act[i] = math.Exp(1.2 * a)
	}
	q := make([]int8, k*rows*cols)
	for c := range k {
		scale := b * math.Pow(0.8, float64(c))
		var lowpass []float64
		if c < 3 {
			lowpass = smoothField(rng, rows, cols, 10)
		}
		for i := range rows * cols {
			z := laplace(rng, scale*act[i])
			if lowpass != nil {
				z += 4 * b * lowpass[i]
			}
			q[c*rows*cols+i] = compand(z)
		}
	}
	return q
}

// smoothField returns a random field of unit standard deviation and
// correlation length about r samples: white noise box-filtered three times.
func smoothField(rng *rand.Rand, rows, cols, r int) []float64 {
	f := make([]float64, rows*cols)
	for i := range f {
		f[i] = rng.NormFloat64()
	}
	tmp := make([]float64, len(f))
	for range 3 {
		for y := range rows {
			boxFilter(tmp[y*cols:], f[y*cols:], cols, 1, r) // along x
		}
		for x := range cols {
			boxFilter(f[x:], tmp[x:], rows, cols, r) // along y
		}
	}
	m, v := 0.0, 0.0
	for _, x := range f {
		m += x
	}
	m /= float64(len(f))
	for _, x := range f {
		v += (x - m) * (x - m)
	}
	sd := math.Sqrt(v / float64(len(f)))
	if sd == 0 {
		sd = 1
	}
	for i := range f {
		f[i] = (f[i] - m) / sd
	}
	return f
}

// boxFilter sets dst[i·stride] to the mean of src[j·stride] over
// |j − i| ≤ r, 0 ≤ j < n.
func boxFilter(dst, src []float64, n, stride, r int) {
	for i := range n {
		s, m := 0.0, 0
		for j := max(i-r, 0); j <= min(i+r, n-1); j++ {
			s += src[j*stride]
			m++
		}
		dst[i*stride] = s / float64(m)
	}
}

// entropy0 returns the zeroth-order empirical entropy of q in bits per
// latent, per channel of plane values and averaged: the rate of an ideal
// static coder that knows each channel's histogram (spec §5's estimate).
func entropy0(q []int8, plane int) float64 {
	total := 0.0
	for c := 0; c < len(q); c += plane {
		var hist [256]int
		for _, v := range q[c : c+plane] {
			hist[uint8(v)]++
		}
		for _, n := range hist {
			if n > 0 {
				p := float64(n) / float64(plane)
				total -= float64(n) * math.Log2(p)
			}
		}
	}
	return total / float64(len(q))
}

// linearLatents returns the latents of "linear WaLLoC" (spec §5) on a
// synthetic RGB image of size × size: the J = 3 packet transform (192
// channels of size/8 × size/8), projected on the top k principal
// directions of its own 192-vectors, times the encoder gain g, companded
// and rounded. The image is a gradient under 40 random discs of flat
// colour, some of them textured with noise: flat regions, edges and
// texture, as in a photograph.
func linearLatents(rng *rand.Rand, size, k int, g float64) []int8 {
	const levels = 3
	img := make([]float32, 3*size*size)
	for c := range 3 {
		for y := range size {
			for x := range size {
				img[(c*size+y)*size+x] = float32(0.2*float64(x)/float64(size) - 0.1*float64(y)/float64(size))
			}
		}
	}
	for range 40 {
		cx, cy, r := rng.Float64()*float64(size), rng.Float64()*float64(size), 5+rng.Float64()*float64(size)/6
		col := [3]float64{rng.Float64() - 0.5, rng.Float64() - 0.5, rng.Float64() - 0.5}
		noise := 0.0
		if rng.Float64() < 0.4 {
			noise = 0.08
		}
		for y := range size {
			for x := range size {
				if dx, dy := float64(x)-cx, float64(y)-cy; dx*dx+dy*dy < r*r {
					n := noise * rng.NormFloat64()
					for c := range 3 {
						i := (c*size+y)*size + x
						img[i] = float32(0.7*float64(img[i]) + 0.3*col[c] + n)
					}
				}
			}
		}
	}
	p := wavelet.NewPacket2D[float32](size, size, levels)
	coef := make([]float32, len(img))
	p.Forward(coef, img)
	rows, cols := p.BandShape()
	bands, plane := 3*p.Bands(), rows*cols
	x := mat.NewDense(bands, plane, nil) // one 192-vector per column
	for i := range bands {
		for j := range plane {
			x.Set(i, j, float64(coef[i*plane+j]))
		}
	}
	var cov mat.SymDense
	cov.SymOuterK(1/float64(plane), x)
	var eig mat.EigenSym
	if !eig.Factorize(&cov, true) {
		panic("linearLatents: eigendecomposition failed")
	}
	var vecs mat.Dense
	eig.VectorsTo(&vecs) // ascending eigenvalues: the top k are the last columns
	var z mat.Dense
	z.Mul(vecs.Slice(0, bands, bands-k, bands).T(), x)
	q := make([]int8, k*plane)
	for c := range k {
		for j := range plane {
			q[c*plane+j] = compand(g * z.At(k-1-c, j))
		}
	}
	return q
}
