package hyperspectral

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Synthetic generates a linear-mixture cube from the endmembers m
// (bands×K): pixels (rows·cols of them) of which a fraction pureFraction,
// chosen at random, are pure (pure pixel i of a random order takes endmember
// i mod K) and the others have Dirichlet(1, …, 1) abundances; the mixture
// Y₀ = M·A receives white Gaussian noise at snrDB decibels,
// σ² = mean(Y₀²)/10^(snrDB/10), and is clipped at 0. This is the generator of
// §7.2 of the specification. It returns Y (bands×pixels) and the true
// abundances A (K×pixels), deterministic for a given seed (PCG).
// It panics on a non-positive size or a fraction outside [0, 1].
func Synthetic(m *mat.Dense, rows, cols int, pureFraction, snrDB float64, seed uint64) (y, a *mat.Dense) {
	l, k := m.Dims()
	n := rows * cols
	if rows <= 0 || cols <= 0 || !(pureFraction >= 0 && pureFraction <= 1) {
		panic(fmt.Sprintf("hyperspectral: Synthetic: %d×%d pixels, pure fraction %v", rows, cols, pureFraction))
	}
	rng := rand.New(rand.NewPCG(seed, 0x517e7c))
	a = mat.NewDense(k, n, nil)
	perm := rng.Perm(n)
	pure := int(math.Round(pureFraction * float64(n)))
	for i, p := range perm {
		if i < pure {
			a.Set(i%k, p, 1)
			continue
		}
		var s float64
		for j := range k {
			e := -math.Log(1 - rng.Float64()) // Exp(1); Dirichlet(1) after normalising
			a.Set(j, p, e)
			s += e
		}
		for j := range k {
			a.Set(j, p, a.At(j, p)/s)
		}
	}
	y = mat.NewDense(l, n, nil)
	y.Mul(m, a)
	var power float64
	for i := range l {
		for _, v := range y.RawRowView(i) {
			power += v * v
		}
	}
	sigma := math.Sqrt(power / float64(l*n) / math.Pow(10, snrDB/10))
	for i := range l {
		row := y.RawRowView(i)
		for j := range row {
			row[j] = max(0, row[j]+sigma*rng.NormFloat64())
		}
	}
	return y, a
}

// InjectOutlierBands corrupts count bands of y (bands×pixels) in place and
// returns their indices in the order drawn: the bands are drawn without
// replacement, uniformly, from a PCG generator seeded with seed; the picks of
// even position (0, 2, …) become "dead", |N(0, deadSigma²)| in every pixel,
// those of odd position "hot", |y + N(0, hotSigma²)|. This is the outlier
// recipe of §6.3 of the specification (there deadSigma = 0.01 and
// hotSigma = 0.3 on data scaled to max 1, count = L/10). It panics if count
// exceeds the number of bands.
func InjectOutlierBands(y *mat.Dense, count int, deadSigma, hotSigma float64, seed uint64) []int {
	l, _ := y.Dims()
	if count < 0 || count > l {
		panic(fmt.Sprintf("hyperspectral: InjectOutlierBands: %d bands of %d", count, l))
	}
	rng := rand.New(rand.NewPCG(seed, 0x0b7a11e7))
	bands := rng.Perm(l)[:count]
	for i, b := range bands {
		row := y.RawRowView(b)
		for j := range row {
			if i%2 == 0 {
				row[j] = math.Abs(deadSigma * rng.NormFloat64())
			} else {
				row[j] = math.Abs(row[j] + hotSigma*rng.NormFloat64())
			}
		}
	}
	return bands
}
