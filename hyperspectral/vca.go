package hyperspectral

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// VCA extracts k endmembers from y (bands×pixels) by vertex component
// analysis (Nascimento & Bioucas-Dias, TGRS 2005). It returns the endmembers
// as a bands×k matrix and the indices of the pixels chosen as vertices.
//
// The data are first projected onto a k-dimensional signal subspace. If the
// estimated signal-to-noise ratio exceeds 15 + 10·log₁₀(k) dB, the subspace is
// spanned by the k leading eigenvectors of YYᵀ/N and every projected pixel x
// is scaled to the hyperplane uᵀx = 1 (u the mean projected pixel): a
// projective projection. Otherwise the data are centred, projected onto the
// k − 1 leading principal components, and a constant coordinate equal to the
// largest norm is appended. Then, k times, the projected pixels are projected
// onto a random direction orthogonal to the span of the vertices found so far
// (uniform on [0,1)ᵏ before projection, drawn from a PCG generator seeded with
// seed), and the pixel of largest absolute projection becomes the next
// vertex. An endmember is the subspace projection of its vertex pixel (which
// removes noise outside the subspace), with negative entries set to 0.
//
// Deviation from the paper: the vertex search is run 10 times with fresh
// random directions and the vertex set whose simplex has the largest volume
// in the subspace coordinates is kept (the N-FINDR criterion). A single
// search often picks two noisy pixels of a dark endmember (water), whose
// projective coordinates are inflated by the division by a small uᵀx; the
// volume test rejects such degenerate sets.
//
// Cost: O(bands²·pixels) for the second-moment matrix, O(bands³) for its
// eigen-decomposition, O(k·bands·pixels) for the projections. VCA returns an
// error if k < 1 or k exceeds the number of bands or pixels, and ctx.Err()
// if ctx is done between stages.
func VCA(ctx context.Context, y *mat.Dense, k int, seed uint64) (*mat.Dense, []int, error) {
	bands, n := y.Dims()
	if k < 1 || k > bands || k > n {
		return nil, nil, fmt.Errorf("hyperspectral: VCA: %d endmembers for %d bands and %d pixels", k, bands, n)
	}

	// Mean spectrum and centred data.
	mean := make([]float64, bands)
	for l := range bands {
		mean[l] = floats.Sum(y.RawRowView(l)) / float64(n)
	}
	centred := mat.NewDense(bands, n, nil)
	for l := range bands {
		row := centred.RawRowView(l)
		copy(row, y.RawRowView(l))
		floats.AddConst(-mean[l], row)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	ud, err := leadingEigenvectors(centred, k, n)
	if err != nil {
		return nil, nil, err
	}
	var xp mat.Dense // k×N: centred data in the principal subspace
	xp.Mul(ud.T(), centred)
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}

	// SNR estimate of the original paper: P_y is the power of the data, P_x
	// that of the projection onto the k-dimensional subspace.
	py := sumSquares(y) / float64(n)
	px := sumSquares(&xp)/float64(n) + floats.Dot(mean, mean)
	snr := math.Inf(1)
	if py > px {
		snr = 10 * math.Log10((px-float64(k)/float64(bands)*py)/(py-px))
	}
	// NaN (negative argument) counts as low SNR.
	highSNR := k == 1 || snr > 15+10*math.Log10(float64(k))

	var proj *mat.Dense // the d×N coordinates used for vertex search (d = k)
	var basis *mat.Dense
	var offset []float64
	if highSNR {
		basis, err = leadingEigenvectors(y, k, n)
		if err != nil {
			return nil, nil, err
		}
		var x mat.Dense
		x.Mul(basis.T(), y)
		u := make([]float64, k)
		for i := range k {
			u[i] = floats.Sum(x.RawRowView(i)) / float64(n)
		}
		proj = mat.NewDense(k, n, nil)
		for p := range n {
			var s float64
			for i := range k {
				s += u[i] * x.At(i, p)
			}
			if math.Abs(s) < 1e-300 {
				s = math.Copysign(1e-300, s)
			}
			for i := range k {
				proj.Set(i, p, x.At(i, p)/s)
			}
		}
		offset = make([]float64, bands)
		// The endmember of vertex p is basis·x[:,p].
		xp = x
	} else {
		d := k - 1
		basis = mat.DenseCopyOf(ud.Slice(0, bands, 0, d))
		proj = mat.NewDense(k, n, nil)
		var c float64
		for p := range n {
			var s float64
			for i := range d {
				v := xp.At(i, p)
				proj.Set(i, p, v)
				s += v * v
			}
			c = max(c, math.Sqrt(s))
		}
		for p := range n {
			proj.Set(k-1, p, c)
		}
		offset = mean
		xp = *mat.DenseCopyOf(xp.Slice(0, d, 0, n))
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}

	// Several draws of the random directions; the vertex set spanning the
	// simplex of largest volume in the signal subspace wins (the N-FINDR
	// criterion). The volume is measured on the subspace coordinates, not
	// on the projective ones, which magnify the noise of dark pixels.
	rng := rand.New(rand.NewPCG(seed, 0x5ca1ab1e))
	var pixels []int
	bestVol := -1.0
	cand := make([]int, k)
	dim, _ := xp.Dims()
	draws := vcaDraws
	var edges, gram mat.Dense
	if k == 1 || dim == 0 {
		draws = 1 // a single vertex: nothing to compare
	} else {
		edges.ReuseAs(dim, k-1)
	}
	for range draws {
		vertexSearch(cand, proj, rng)
		vol := 0.0
		if draws > 1 {
			for i := 1; i < k; i++ {
				for j := range dim {
					edges.Set(j, i-1, xp.At(j, cand[i])-xp.At(j, cand[0]))
				}
			}
			// Squared (k−1)-volume up to a constant: the Gram determinant.
			gram.Mul(edges.T(), &edges)
			vol = mat.Det(&gram)
		}
		if vol > bestVol {
			bestVol = vol
			pixels = append(pixels[:0], cand...)
		}
	}

	m := mat.NewDense(bands, k, nil)
	_, d := basis.Dims()
	coef := make([]float64, d)
	for i, p := range pixels {
		for j := range d {
			coef[j] = xp.At(j, p)
		}
		for l := range bands {
			s := offset[l]
			for j := range d {
				s += basis.At(l, j) * coef[j]
			}
			m.Set(l, i, max(s, 0))
		}
	}
	return m, pixels, nil
}

// leadingEigenvectors returns the bands×k matrix of the eigenvectors of
// X·Xᵀ/n for its k largest eigenvalues, largest first.
func leadingEigenvectors(x *mat.Dense, k, n int) (*mat.Dense, error) {
	bands, _ := x.Dims()
	var s mat.SymDense
	s.SymOuterK(1/float64(n), x)
	var eig mat.EigenSym
	if !eig.Factorize(&s, true) {
		return nil, fmt.Errorf("hyperspectral: VCA: eigen-decomposition of the %d×%d second-moment matrix failed", bands, bands)
	}
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	out := mat.NewDense(bands, k, nil)
	for j := range k { // eigenvalues are ascending
		for l := range bands {
			out.Set(l, j, vecs.At(l, bands-1-j))
		}
	}
	return out, nil
}

func sumSquares(m *mat.Dense) float64 {
	r, _ := m.Dims()
	var s float64
	for i := range r {
		row := m.RawRowView(i)
		s += floats.Dot(row, row)
	}
	return s
}

// vcaDraws is the number of independent vertex searches of VCA.
const vcaDraws = 10

// vertexSearch runs the vertex search of VCA on the k×N coordinates proj,
// storing the k chosen pixels in pixels.
func vertexSearch(pixels []int, proj *mat.Dense, rng *rand.Rand) {
	k, n := proj.Dims()
	q := make([][]float64, 0, k) // orthonormal basis of the vertices so far
	last := make([]float64, k)
	last[k-1] = 1
	w := make([]float64, k)
	for i := range k {
		span := q
		if i == 0 {
			span = [][]float64{last}
		}
		for try := 0; ; try++ {
			for j := range w {
				w[j] = rng.Float64()
			}
			for _, e := range span {
				floats.AddScaled(w, -floats.Dot(e, w), e)
			}
			if nrm := floats.Norm(w, 2); nrm > 1e-12 || try == 100 {
				if nrm > 0 {
					floats.Scale(1/nrm, w)
				}
				break
			}
		}
		best, bestV := 0, -1.0
		for p := range n {
			var s float64
			for j := range k {
				s += w[j] * proj.At(j, p)
			}
			if s = math.Abs(s); s > bestV {
				best, bestV = p, s
			}
		}
		pixels[i] = best
		// Gram–Schmidt: extend q by the new vertex.
		e := mat.Col(nil, best, proj)
		for _, b := range q {
			floats.AddScaled(e, -floats.Dot(b, e), b)
		}
		if nrm := floats.Norm(e, 2); nrm > 1e-12 {
			floats.Scale(1/nrm, e)
			q = append(q, e)
		}
	}
}
