package gphm

import "gonum.org/v1/gonum/blas/blas64"

// On a uniform grid x_i = x_0 + i h a stationary kernel gives Toeplitz matrices:
// K_ij = k((i−j)h). They are built from one kernel evaluation per distinct lag,
// and the gradient of a scalar φ(K) with respect to the kernel parameters θ
// contracts through lag sums:
//
//	∂φ/∂θ = Σ_ij G_ij ∂k((i−j)h)/∂θ = Σ_m S[m] ∂k(mh)/∂θ,    G = ∂φ/∂K,
//
// with S[m] = Σ_{|i−j|=m} G_ij for an even k and the signed sum
// S[m] = Σ_{i−j=m} G_ij − Σ_{i−j=−m} G_ij for an odd k (S[0] = 0).

// fillToeplitz sets the n×n matrix a to a_ij = lag[|i−j|] if even, or
// sign(i−j)·lag[|i−j|] if not, and adds diag to the diagonal. Cost O(n²).
func fillToeplitz(a blas64.General, lag []float64, even bool, diag float64) {
	n := a.Rows
	if a.Cols != n || len(lag) < n {
		panic("gphm: Toeplitz size mismatch")
	}
	for i := range n {
		row := a.Data[i*a.Stride : i*a.Stride+n]
		for j := range n {
			if i >= j {
				row[j] = lag[i-j]
			} else if even {
				row[j] = lag[j-i]
			} else {
				row[j] = -lag[j-i]
			}
		}
		row[i] += diag
	}
}

// addLagSums adds to s the lag sums of the n×n matrix g scaled by c: even gives
// s[m] += c Σ_{|i−j|=m} g_ij, odd gives s[m] += c (Σ_{i−j=m} g_ij − Σ_{j−i=m} g_ij)
// for m ≥ 1, leaving s[0] alone.
// Cost O(n²).
func addLagSums(s []float64, g blas64.General, even bool, c float64) {
	n := g.Rows
	if g.Cols != n || len(s) < n {
		panic("gphm: lag-sum size mismatch")
	}
	sign := 1.0
	if !even {
		sign = -1
	}
	for i := range n {
		row := g.Data[i*g.Stride : i*g.Stride+n]
		for j := 0; j < i; j++ {
			s[i-j] += c * row[j]
		}
		if even {
			s[0] += c * row[i]
		}
		for j := i + 1; j < n; j++ {
			s[j-i] += sign * c * row[j]
		}
	}
}
