package krylov

import (
	"fmt"
	"math"
)

// Operator is a linear map x ↦ A x on R^n, given without its matrix.
// The solvers in this package require A to be symmetric positive definite.
type Operator interface {
	// Len returns n, the length of the vectors A acts on.
	Len() int
	// Apply sets dst = A x. dst and x have length n and do not overlap.
	Apply(dst, x []float64)
}

// Preconditioner applies the inverse of a symmetric positive definite
// approximation M of A. Implementations may keep internal work buffers and
// need not be safe for concurrent use.
type Preconditioner interface {
	// Precondition sets dst = M⁻¹ r. dst and r have length n and do not
	// overlap.
	Precondition(dst, r []float64)
}

// VariablePreconditioner is a preconditioner that may be a nonlinear map
// (a multigrid K-cycle, an inner iteration): when Variable reports true,
// PCG runs flexible CG, which keeps only the last direction's
// A-orthogonality, instead of using the symmetry of M.
type VariablePreconditioner interface {
	Preconditioner
	Variable() bool
}

// Jacobi is the diagonal preconditioner M = diag(A).
type Jacobi struct {
	inv []float64
}

// NewJacobi returns the Jacobi preconditioner for an operator whose diagonal is
// diag. It returns an error if an entry is not a positive finite number, since
// then M is not SPD. diag is not retained.
func NewJacobi(diag []float64) (*Jacobi, error) {
	inv := make([]float64, len(diag))
	for i, d := range diag {
		if !(d > 0) || math.IsInf(d, 1) {
			return nil, fmt.Errorf("krylov: Jacobi: diagonal entry %d is %g, want a positive finite number", i, d)
		}
		inv[i] = 1 / d
	}
	return &Jacobi{inv: inv}, nil
}

// Precondition sets dst = diag(A)⁻¹ r; one multiplication per entry.
func (j *Jacobi) Precondition(dst, r []float64) {
	n := len(j.inv)
	if len(dst) != n || len(r) != n {
		panic(fmt.Sprintf("krylov: Jacobi: len(dst)=%d, len(r)=%d, want %d", len(dst), len(r), n))
	}
	inv := j.inv
	r = r[:len(inv)]
	dst = dst[:len(inv)]
	for i, w := range inv {
		dst[i] = w * r[i]
	}
}
