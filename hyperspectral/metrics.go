package hyperspectral

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Truth is the ground truth of a scene.
type Truth struct {
	// Endmembers is bands×K, column k the spectrum of endmember k. Its scale
	// is irrelevant: the spectral angle is scale-invariant.
	Endmembers *mat.Dense
	// Abundances is K×pixels, in the pixel order of the cube; nil when only
	// the endmembers are known (then no RMSE is computed).
	Abundances *mat.Dense
}

// Metrics compares an unmixing result with ground truth (§4 of the
// specification, the usual protocol of the hyperspectral unmixing
// literature). Slices are indexed by the true endmember.
type Metrics struct {
	// SAD[k] is the spectral angle, in radians, between true endmember k and
	// the estimated endmember matched to it, over the bands not excluded.
	SAD     []float64 `json:"sad"`
	MeanSAD float64   `json:"mean_sad"`
	// RMSE[k] = √(mean_n (A_kn − Â_jn)²) for the matched estimate j; nil
	// without true abundances.
	RMSE     []float64 `json:"rmse,omitempty"`
	MeanRMSE float64   `json:"mean_rmse,omitempty"`
	// Match[k] is the index of the estimated endmember matched to true
	// endmember k (Hungarian matching on the SAD matrix).
	Match []int `json:"match"`
	// Bands is the number of bands over which SAD was computed.
	Bands int `json:"bands"`
}

// SpectralAngle returns arccos(⟨x, y⟩ / (‖x‖₂ ‖y‖₂)) in radians, in [0, π],
// over the entries i with mask == nil or mask[i] true. A zero vector is taken
// to be orthogonal to everything (angle π/2). It panics if the lengths differ.
func SpectralAngle(x, y []float64, mask []bool) float64 {
	if len(x) != len(y) || (mask != nil && len(mask) != len(x)) {
		panic(fmt.Sprintf("hyperspectral: SpectralAngle: lengths %d, %d, mask %d", len(x), len(y), len(mask)))
	}
	var xy, xx, yy float64
	for i := range x {
		if mask != nil && !mask[i] {
			continue
		}
		xy += x[i] * y[i]
		xx += x[i] * x[i]
		yy += y[i] * y[i]
	}
	if xx == 0 || yy == 0 {
		return math.Pi / 2
	}
	cos := xy / math.Sqrt(xx*yy)
	return math.Acos(max(-1, min(1, cos)))
}

// RMSE returns √(mean_i (x_i − y_i)²). It panics if the lengths differ or are 0.
func RMSE(x, y []float64) float64 {
	if len(x) != len(y) || len(x) == 0 {
		panic(fmt.Sprintf("hyperspectral: RMSE: lengths %d and %d", len(x), len(y)))
	}
	var s float64
	for i := range x {
		d := x[i] - y[i]
		s += d * d
	}
	return math.Sqrt(s / float64(len(x)))
}

// Evaluate compares estimated endmembers m (bands×K̂) and abundances a
// (K̂×pixels, may be nil) with the truth. The K×K̂ matrix of spectral angles,
// computed without the bands listed in excludeBands (0-based), is matched by
// MinCostAssignment; SAD and RMSE are then reported per true endmember with
// their arithmetic means. K̂ may exceed K (surplus estimates are ignored).
//
// Evaluate returns an error, naming the mismatch, when the shapes of the
// truth do not fit the estimate, when K̂ < K, or when an excluded band is out
// of range or every band is excluded. Cost: O(K K̂ bands + K pixels + K³).
func Evaluate(m, a *mat.Dense, truth *Truth, excludeBands []int) (*Metrics, error) {
	if truth == nil || truth.Endmembers == nil {
		return nil, fmt.Errorf("hyperspectral: evaluate: no true endmembers")
	}
	bands, kEst := m.Dims()
	tb, k := truth.Endmembers.Dims()
	if tb != bands {
		return nil, fmt.Errorf("hyperspectral: evaluate: true endmembers have %d bands, the estimate %d", tb, bands)
	}
	if kEst < k {
		return nil, fmt.Errorf("hyperspectral: evaluate: %d estimated endmembers for %d true ones", kEst, k)
	}
	mask := make([]bool, bands)
	for i := range mask {
		mask[i] = true
	}
	for _, b := range excludeBands {
		if b < 0 || b >= bands {
			return nil, fmt.Errorf("hyperspectral: evaluate: outlier band %d out of range [0, %d)", b, bands)
		}
		mask[b] = false
	}
	used := 0
	for _, ok := range mask {
		if ok {
			used++
		}
	}
	if used == 0 {
		return nil, fmt.Errorf("hyperspectral: evaluate: all %d bands are excluded", bands)
	}

	trueCols := columns(truth.Endmembers)
	estCols := columns(m)
	sad := mat.NewDense(k, kEst, nil)
	for i := range k {
		for j := range kEst {
			sad.Set(i, j, SpectralAngle(trueCols[i], estCols[j], mask))
		}
	}
	match, _ := MinCostAssignment(sad)
	res := &Metrics{SAD: make([]float64, k), Match: match, Bands: used}
	for i, j := range match {
		res.SAD[i] = sad.At(i, j)
	}
	res.MeanSAD = mean(res.SAD)

	if truth.Abundances != nil && a != nil {
		tk, tn := truth.Abundances.Dims()
		ak, an := a.Dims()
		if tk != k || tn != an || ak != kEst {
			return nil, fmt.Errorf("hyperspectral: evaluate: true abundances are %d×%d, estimated %d×%d, true endmembers %d", tk, tn, ak, an, k)
		}
		res.RMSE = make([]float64, k)
		for i, j := range match {
			res.RMSE[i] = RMSE(truth.Abundances.RawRowView(i), a.RawRowView(j))
		}
		res.MeanRMSE = mean(res.RMSE)
	}
	return res, nil
}

// columns returns copies of the columns of m.
func columns(m *mat.Dense) [][]float64 {
	_, c := m.Dims()
	out := make([][]float64, c)
	for j := range out {
		out[j] = mat.Col(nil, j, m)
	}
	return out
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// distinct reports whether the ints are pairwise distinct.
func distinct(x []int) bool {
	y := slices.Clone(x)
	slices.Sort(y)
	for i := 1; i < len(y); i++ {
		if y[i] == y[i-1] {
			return false
		}
	}
	return true
}
