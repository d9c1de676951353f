package gphm

import (
	"errors"
	"fmt"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// jitter is added to the diagonal of every per-dimension kernel matrix K_j (spec §1.4).
const jitter = 1e-6

// axis is one dimension of the collocation grid, x_i = x0 + i h, i = 0..n−1, with
// the matrices of its kernel factor: K = k(X, X) + jitter·I, the derivative
// cross-covariance Kd = ∂^order k/∂x^order (X, X) (K″, symmetric, for order 2;
// K′, antisymmetric, for order 1), the Cholesky factor and inverse of K and
// log det K. All are Toeplitz and built from n lag evaluations (toeplitz.go).
type axis struct {
	n     int
	x0, h float64
	order int // 1 or 2
	kind  Kernel
	spec  Spectrum // the spectrum the matrices were built from

	k0, kd []float64 // lag tables of k and of its order-th derivative
	sym    *mat.SymDense
	chol   mat.Cholesky
	inv    *mat.SymDense
	Kd     *mat.Dense
	Kinv   *mat.Dense
	K      *mat.Dense
	logdet float64
}

func newAxis(kind Kernel, n int, x0, x1 float64, order int) *axis {
	if n < 2 {
		panic(fmt.Sprintf("gphm: axis with %d points", n))
	}
	if order != 1 && order != 2 {
		panic(fmt.Sprintf("gphm: derivative order %d", order))
	}
	return &axis{
		n: n, x0: x0, h: (x1 - x0) / float64(n-1), order: order, kind: kind,
		k0: make([]float64, n), kd: make([]float64, n),
		sym: mat.NewSymDense(n, nil), inv: mat.NewSymDense(n, nil),
		Kd: mat.NewDense(n, n, nil), Kinv: mat.NewDense(n, n, nil), K: mat.NewDense(n, n, nil),
	}
}

// even reports whether the derivative kernel is even (order 2) or odd (order 1).
func (a *axis) even() bool { return a.order == 2 }

// coord returns the i-th grid coordinate.
func (a *axis) coord(i int) float64 {
	if i == a.n-1 {
		return a.x0 + a.h*float64(a.n-1) // exact end point up to one rounding
	}
	return a.x0 + a.h*float64(i)
}

// update rebuilds every matrix of a for the spectrum s. Cost O(nQ) kernel
// evaluations, O(n²) fills, and n³/3 + 2n³/3 flops for the Cholesky factor and
// the inverse. It returns an error if K is not numerically positive definite.
func (a *axis) update(s Spectrum) error {
	a.spec = s
	if a.order == 2 {
		lagTable(a.kind, s, a.h, a.k0, nil, a.kd)
	} else {
		lagTable(a.kind, s, a.h, a.k0, a.kd, nil)
	}
	raw := a.sym.RawSymmetric()
	fillToeplitz(generalView(raw.Data, a.n, raw.Stride), a.k0, true, jitter)
	fillToeplitz(a.Kd.RawMatrix(), a.kd, a.even(), 0)
	fillToeplitz(a.K.RawMatrix(), a.k0, true, jitter)
	if ok := a.chol.Factorize(a.sym); !ok {
		return fmt.Errorf("kernel matrix of %d points is not positive definite", a.n)
	}
	a.logdet = a.chol.LogDet()
	if err := a.chol.InverseTo(a.inv); err != nil {
		// A mat.Condition error only warns of a large condition number; the
		// jitter bounds it by about n·k(0)/1e-6, which double precision handles.
		var c mat.Condition
		if !errors.As(err, &c) {
			return fmt.Errorf("inverting the kernel matrix of %d points: %w", a.n, err)
		}
	}
	a.Kinv.Copy(a.inv)
	return nil
}

func generalView(data []float64, n, stride int) blas64.General {
	return blas64.General{Rows: n, Cols: n, Stride: stride, Data: data}
}
