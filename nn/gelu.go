package nn

import "math"

// Φ(x) and φ(x) for the exact GELU by piecewise Taylor polynomials.
//
// On [−geluEdge, geluEdge) the line is cut into intervals of width 1/32;
// on the interval with centre c,
//
//	Φ(c + t) = Σ_{k=0}^{geluDeg} a_k t^k,  a_0 = Φ(c),
//	a_k = Φ⁽ᵏ⁾(c)/k! = (−1)^{k−1} He_{k−1}(c) φ(c)/k!  (k ≥ 1),
//
// with He the probabilists' Hermite polynomials, and φ(c + t) is the
// derivative of the same polynomial. For |t| ≤ 1/64 the first omitted term
// is below 1e-18 for every c, so both are as accurate as the formula
// ½(1 + erf(x/√2)) in float64 (absolute errors of a few 1e-17), at a
// polynomial's cost instead of an erf and an exp. Outside the range
// Φ = 1 (x ≥ 8.5: 1 − Φ < 1e-17, below half an ulp of 1) or the erfc
// formula (x < −8.5).
const (
	geluEdge  = 8.5
	geluScale = 32 // intervals per unit
	geluDeg   = 8
	geluN     = 2 * geluEdge * geluScale
)

var geluTable = func() (tab [geluN][geluDeg + 1]float64) {
	for i := range tab {
		c := -geluEdge + (float64(i)+0.5)/geluScale
		dens := math.Exp(-0.5*c*c) / math.Sqrt(2*math.Pi)
		tab[i][0] = 0.5 * math.Erfc(-c/math.Sqrt2)
		hePrev, he := 0.0, 1.0 // He_{−1} (unused), He_0
		fact := 1.0
		for k := 1; k <= geluDeg; k++ {
			fact *= float64(k)
			sign := 1.0
			if (k-1)%2 == 1 {
				sign = -1
			}
			tab[i][k] = sign * he * dens / fact
			// He_k = c·He_{k−1} − (k−1)·He_{k−2}
			hePrev, he = he, c*he-float64(k-1)*hePrev
		}
	}
	return tab
}()

// normCDF returns Φ(x) and φ(x).
func normCDF(x float64) (cdf, dens float64) {
	if !(x >= -geluEdge) || x >= geluEdge {
		if x >= geluEdge {
			return 1, math.Exp(-0.5*x*x) * invSqrt2Pi
		}
		return 0.5 * math.Erfc(-x*invSqrt2), math.Exp(-0.5*x*x) * invSqrt2Pi
	}
	u := (x + geluEdge) * geluScale
	i := int(u)
	if i >= geluN {
		i = geluN - 1
	}
	t := x - (-geluEdge + (float64(i)+0.5)/geluScale)
	a := &geluTable[i]
	p := a[geluDeg]
	d := float64(geluDeg) * a[geluDeg]
	for k := geluDeg - 1; k >= 1; k-- {
		p = math.FMA(p, t, a[k])
		d = math.FMA(d, t, float64(k)*a[k])
	}
	return math.FMA(p, t, a[0]), d
}
