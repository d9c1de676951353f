package krylov

import (
	"context"
	"errors"
	"fmt"
	"math"

	"eddy/progress"
)

// ErrNotPositiveDefinite is returned (wrapped) when a solver meets a
// curvature pᵀA p ≤ 0, or a preconditioned inner product rᵀM⁻¹r ≤ 0, which
// cannot happen for SPD A and M.
var ErrNotPositiveDefinite = errors.New("operator or preconditioner is not positive definite")

// Options control the iteration. The zero value selects the defaults.
type Options struct {
	// Tol is the relative residual tolerance: the iteration stops when
	// ‖r_k‖₂ ≤ Tol·‖b‖₂. Zero means 1e-8. It must not be negative or NaN.
	Tol float64
	// MaxIter is the largest number of iterations. Zero means 2n.
	// It must not be negative.
	MaxIter int
	// ProgressEvery is the number of iterations between two progress
	// reports. Zero means 10. It must not be negative.
	ProgressEvery int
}

const (
	defaultTol           = 1e-8
	defaultProgressEvery = 10
	// maxHistoryPrealloc bounds the capacity reserved for Result.History up
	// front; longer runs grow it by append.
	maxHistoryPrealloc = 1 << 20
)

// HistoryBytes returns the memory, in bytes, that CG and PCG reserve up front
// for Result.History with the iteration limit maxIter (after defaults):
// min(maxIter, 2^20) + 1 float64s. A run of more than 2^20 iterations grows
// the history beyond that by appending.
func HistoryBytes(maxIter int) int64 {
	return 8 * int64(historyCap(maxIter))
}

// historyCap is the capacity reserved for the residual history of a solve of
// at most maxIter iterations.
func historyCap(maxIter int) int { return min(max(maxIter, 0), maxHistoryPrealloc) + 1 }

// Result describes a finished (or interrupted) solve.
type Result struct {
	// Iterations is the number of iterations done (matrix–vector products
	// after the initial residual).
	Iterations int
	// RelResidual is ‖r_k‖₂/‖b‖₂ for the recursively updated residual r_k of
	// the last iteration; the stopping rule compares it with Tol.
	RelResidual float64
	// TrueRelResidual is ‖b − A x‖₂/‖b‖₂ recomputed from the returned x
	// with one extra operator application. It differs from RelResidual by
	// rounding drift, noticeable only near machine precision. It is not
	// computed (zero) when the solve returns an error.
	TrueRelResidual float64
	// History holds ‖r_k‖₂/‖b‖₂ for k = 0, …, Iterations.
	History []float64
	// Converged reports whether RelResidual ≤ Tol.
	Converged bool
}

// CG solves A x = b for symmetric positive definite A by the conjugate gradient
// method of Hestenes and Stiefel, starting from the initial guess held in x,
// which is overwritten by the solution. It is PCG with no preconditioner.
func CG(ctx context.Context, a Operator, b, x []float64, opts Options, fn progress.Func) (Result, error) {
	return PCG(ctx, a, nil, b, x, opts, fn)
}

// PCG solves A x = b by the preconditioned conjugate gradient method with the
// SPD preconditioner m (nil means none, i.e. plain CG), starting from the
// initial guess held in x, which is overwritten by the iterate. With
// r_0 = b − A x_0, z_0 = M⁻¹r_0, p_0 = z_0, each iteration computes
//
//	α = rᵀz / pᵀAp,  x += α p,  r −= α Ap,  z = M⁻¹ r,
//	β = rᵀz(new) / rᵀz(old),  p = z + β p,
//
// and stops when ‖r‖₂ ≤ Tol·‖b‖₂ or after MaxIter iterations. In exact
// arithmetic the error ‖x − x*‖_A decreases by at least the factor
// 2((√κ−1)/(√κ+1))^k, κ the condition number of M⁻¹A.
//
// Cost per iteration: one Apply, one Precondition, two dot products and three
// vector updates (the update of x and r and the norm are fused in one pass).
// Memory: three work vectors of length n (four with a preconditioner),
// allocated once per call, plus the residual history; the iteration itself
// allocates nothing apart from progress reports. From 2^19 unknowns the
// vector kernels are split between the caller and one worker goroutine
// that lives for the call.
//
// If m is a VariablePreconditioner reporting Variable() = true (a nonlinear
// M⁻¹ such as a multigrid K-cycle), PCG runs flexible CG (Notay 2000,
// FCG(1)): p = z − (zᵀA p_old / p_oldᵀA p_old)·p_old and
// α = pᵀr / pᵀA p, which keeps each direction A-orthogonal to the previous
// one whatever z is, at the cost of two more dot products per iteration.
//
// ctx is checked at every iteration; on cancellation PCG returns the partial
// Result, x holding the current iterate, and ctx.Err(). fn receives, every
// ProgressEvery iterations and at the end, the fraction
// log(‖r‖/‖b‖)/log(Tol) clamped to [0, 1] and the metric "rel_residual".
//
// If b = 0, x is set to 0 and the result is converged at iteration 0. PCG
// returns an error wrapping ErrNotPositiveDefinite if it detects that A or M
// is not positive definite, and an error if b is not finite. It panics if the
// lengths of b and x differ from a.Len() or if opts holds negative values.
func PCG(ctx context.Context, a Operator, m Preconditioner, b, x []float64, opts Options, fn progress.Func) (Result, error) {
	n := a.Len()
	if len(b) != n || len(x) != n {
		panic(fmt.Sprintf("krylov: len(b)=%d, len(x)=%d, want a.Len()=%d", len(b), len(x), n))
	}
	tol, maxIter, every := opts.Tol, opts.MaxIter, opts.ProgressEvery
	if !(tol >= 0) || maxIter < 0 || every < 0 {
		panic(fmt.Sprintf("krylov: invalid options %+v", opts))
	}
	if tol == 0 {
		tol = defaultTol
	}
	if maxIter == 0 {
		maxIter = 2 * n
	}
	if every == 0 {
		every = defaultProgressEvery
	}

	t := newPair(n)
	defer t.close()
	bnorm := math.Sqrt(t.dot(b, b))
	if math.IsNaN(bnorm) || math.IsInf(bnorm, 0) {
		return Result{}, fmt.Errorf("krylov: n=%d: ‖b‖ = %g, want a finite right-hand side", n, bnorm)
	}
	if bnorm == 0 {
		clear(x)
		res := Result{History: []float64{0}, Converged: true}
		report(fn, res, tol)
		return res, nil
	}

	res := Result{History: make([]float64, 0, historyCap(maxIter))}
	r := make([]float64, n)
	p := make([]float64, n)
	ap := make([]float64, n)
	z := r // without a preconditioner z = r
	if m != nil {
		z = make([]float64, n)
	}

	// r = b − A x.
	a.Apply(ap, x)
	for i := range r {
		r[i] = b[i] - ap[i]
	}
	rr := t.dot(r, r)
	res.RelResidual = math.Sqrt(rr) / bnorm
	res.History = append(res.History, res.RelResidual)
	if res.RelResidual <= tol {
		return finish(t, a, b, x, ap, bnorm, res, tol, fn)
	}
	rz := rr
	if m != nil {
		m.Precondition(z, r)
		rz = t.dot(r, z)
		if !(rz > 0) {
			return res, fmt.Errorf("krylov: n=%d: iteration 0: rᵀM⁻¹r = %g: %w", n, rz, ErrNotPositiveDefinite)
		}
	}
	copy(p, z)

	flexible := false
	if v, ok := m.(VariablePreconditioner); ok {
		flexible = v.Variable()
	}
	for k := 1; k <= maxIter; k++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		a.Apply(ap, p)
		pap := t.dot(p, ap)
		if !(pap > 0) {
			return res, fmt.Errorf("krylov: n=%d: iteration %d: pᵀAp = %g: %w", n, k, pap, ErrNotPositiveDefinite)
		}
		alpha := rz / pap
		rr = t.stepXR(x, r, p, ap, alpha)
		res.Iterations = k
		res.RelResidual = math.Sqrt(rr) / bnorm
		res.History = append(res.History, res.RelResidual)
		if res.RelResidual <= tol {
			break
		}
		rzNew := rr
		if m != nil {
			m.Precondition(z, r)
			rzNew = t.dot(r, z)
			if !(rzNew > 0) {
				return res, fmt.Errorf("krylov: n=%d: iteration %d: rᵀM⁻¹r = %g: %w", n, k, rzNew, ErrNotPositiveDefinite)
			}
		}
		if flexible {
			// β = −zᵀA p / pᵀA p makes p A-orthogonal to the previous
			// direction whatever z is; the step length pᵀr / pᵀA p is the
			// exact line search along p (Notay 2000, FCG(1)).
			t.stepP(p, z, -t.dot(z, ap)/pap)
			rz = t.dot(p, r)
		} else {
			t.stepP(p, z, rzNew/rz)
			rz = rzNew
		}
		if k%every == 0 {
			report(fn, res, tol)
		}
	}
	return finish(t, a, b, x, ap, bnorm, res, tol, fn)
}

// finish sets Converged and TrueRelResidual, using work as scratch, and sends
// the final progress report.
func finish(t *pair, a Operator, b, x, work []float64, bnorm float64, res Result, tol float64, fn progress.Func) (Result, error) {
	res.Converged = res.RelResidual <= tol
	a.Apply(work, x)
	for i, v := range b {
		work[i] = v - work[i]
	}
	res.TrueRelResidual = math.Sqrt(t.dot(work, work)) / bnorm
	report(fn, res, tol)
	return res, nil
}

// report sends the progress of res to fn; it does nothing if fn is nil.
func report(fn progress.Func, res Result, tol float64) {
	if fn == nil {
		return
	}
	fn.Report(progress.Update{
		Fraction: fraction(res, tol),
		Message:  fmt.Sprintf("iteration %d", res.Iterations),
		Metrics:  map[string]float64{"rel_residual": res.RelResidual},
	})
}

// fraction estimates the fraction of the work done as log(‖r‖/‖b‖)/log(Tol),
// which is linear in k when the residual falls geometrically.
func fraction(res Result, tol float64) float64 {
	if res.Converged {
		return 1
	}
	if tol >= 1 || res.RelResidual >= 1 {
		return 0
	}
	if res.RelResidual <= 0 {
		return 1
	}
	return min(1, math.Log(res.RelResidual)/math.Log(tol))
}
