package dcdm

import (
	"context"
	"fmt"
	"math"
	"time"

	"eddy/nn"
	"eddy/pde/poisson"
	"eddy/progress"
	"eddy/solvers/krylov"
)

// Options control Solve. Tol, MaxIter and ProgressEvery are those of
// krylov.Options (zero values select its defaults, MaxIter 2n).
type Options struct {
	krylov.Options
	// Directions is the number of previous search directions each new one
	// is A-orthogonalised against: 2 in the authors' code (the default,
	// selected by 0); −1 keeps all of them.
	Directions int
}

// Result describes a DCDM solve. History, RelResidual and TrueRelResidual
// are relative to ‖b‖₂; since the residual is recomputed as b − A x in
// every iteration, RelResidual is the true one.
type Result struct {
	krylov.Result
	// NetworkSeconds is the wall time spent in the network's inferences.
	NetworkSeconds float64
	// Fallbacks counts the iterations whose network direction was
	// orthogonal to the residual and replaced by the residual itself.
	Fallbacks int
}

// direction is a kept search direction p with A p and pᵀA p.
type direction struct {
	p, ap []float64
	pap   float64
}

// Solve solves A x = b for the pressure system a (SPD on its active cells,
// identity rows on the inactive ones) by the DCDM iteration of spec §1.1,
// from the initial guess held in x, which is overwritten. Each iteration
// applies the network to r/‖r‖ (masked to the active cells), A-orthogonalises
// the output against the last Directions directions, steps by the exact line
// search α = qᵀr / qᵀA q and recomputes r = b − A x; it stops when
// ‖r‖₂ ≤ Tol·‖b‖₂. On inactive cells x is set to b at once. The grid sides
// must be multiples of m.Multiple() and m.Config.Dim must be a's dimension.
// Cost per iteration: one inference (m.FLOPs), two operator applications
// and 2·Directions + 6 vector operations.
func Solve(ctx context.Context, m *Model, a *poisson.Stencil, b, x []float64, opts Options, fn progress.Func) (Result, error) {
	shape, err := inputShape(m, a)
	if err != nil {
		return Result{}, err
	}
	in := nn.NewTensor(shape...)
	return iterate(ctx, a, b, x, opts, fn, func(dst, r []float64) {
		copy(in.Data, r)
		copy(dst, m.Forward(in).Data)
	})
}

// iterate is the DCDM iteration with the search-direction map f, which
// sets dst = f(r) for a unit-norm residual r.
func iterate(ctx context.Context, a *poisson.Stencil, b, x []float64, opts Options, fn progress.Func, f func(dst, r []float64)) (Result, error) {
	n := a.Len()
	if len(b) != n || len(x) != n {
		panic(fmt.Sprintf("dcdm: Solve: len(b)=%d, len(x)=%d, want %d", len(b), len(x), n))
	}
	tol, maxIter, every := opts.Tol, opts.MaxIter, opts.ProgressEvery
	if !(tol >= 0) || maxIter < 0 || every < 0 || opts.Directions < -1 {
		panic(fmt.Sprintf("dcdm: Solve: invalid options %+v", opts))
	}
	if tol == 0 {
		tol = 1e-8
	}
	if maxIter == 0 {
		maxIter = 2 * n
	}
	if every == 0 {
		every = 10
	}
	keep := opts.Directions
	if keep == 0 {
		keep = 2
	}
	bnorm := math.Sqrt(dot(b, b))
	if math.IsNaN(bnorm) || math.IsInf(bnorm, 0) {
		return Result{}, fmt.Errorf("dcdm: ‖b‖ = %g, want a finite right-hand side", bnorm)
	}
	var res Result
	if bnorm == 0 {
		clear(x)
		res.History, res.Converged = []float64{0}, true
		return res, nil
	}
	for i, in := range a.Inactive {
		if in {
			x[i] = b[i]
		}
	}
	r := make([]float64, n)
	residual := func() float64 {
		a.Apply(r, x)
		for i := range r {
			r[i] = b[i] - r[i]
		}
		return math.Sqrt(dot(r, r))
	}
	rn := residual()
	res.RelResidual = rn / bnorm
	res.History = append(res.History, res.RelResidual)
	unit := make([]float64, n)
	var dirs []direction
	var spare *direction
	for k := 1; k <= maxIter && res.RelResidual > tol; k++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		for i, v := range r {
			unit[i] = v / rn
		}
		d := spare
		if d == nil {
			d = &direction{p: make([]float64, n), ap: make([]float64, n)}
		}
		spare = nil
		start := time.Now()
		f(d.p, unit)
		res.NetworkSeconds += time.Since(start).Seconds()
		if !finite(d.p) {
			return res, fmt.Errorf("dcdm: iteration %d: the network's output is not finite", k)
		}
		mask(d.p, a.Inactive)
		qr, qaq := d.conjugate(a, r, dirs)
		// A direction (numerically) orthogonal to r makes no progress:
		// fall back to the residual, i.e. a conjugate gradient step.
		if !(qaq > 0) || math.Abs(qr) <= 1e-12*math.Sqrt(dot(d.p, d.p))*rn {
			res.Fallbacks++
			copy(d.p, r)
			mask(d.p, a.Inactive)
			qr, qaq = d.conjugate(a, r, dirs)
			if !(qaq > 0) {
				return res, fmt.Errorf("dcdm: iteration %d: qᵀA q = %g: %w", k, qaq, krylov.ErrNotPositiveDefinite)
			}
		}
		alpha := qr / qaq
		axpy(x, alpha, d.p)
		rn = residual()
		res.Iterations = k
		res.RelResidual = rn / bnorm
		res.History = append(res.History, res.RelResidual)
		dirs = append(dirs, *d)
		if keep >= 0 && len(dirs) > keep {
			old := dirs[0]
			spare = &old
			dirs = append(dirs[:0], dirs[1:]...)
		}
		if k%every == 0 && fn != nil {
			report(fn, res, tol)
		}
	}
	res.Converged = res.RelResidual <= tol
	res.TrueRelResidual = res.RelResidual
	if fn != nil {
		report(fn, res, tol)
	}
	return res, nil
}

// conjugate A-orthogonalises d.p against dirs by Gram–Schmidt, sets d.ap and
// d.pap, and returns d.pᵀr and d.pᵀA d.p.
func (d *direction) conjugate(a *poisson.Stencil, r []float64, dirs []direction) (qr, qaq float64) {
	for _, o := range dirs {
		axpy(d.p, -dot(d.p, o.ap)/o.pap, o.p)
	}
	a.Apply(d.ap, d.p)
	d.pap = dot(d.p, d.ap)
	return dot(d.p, r), d.pap
}

// inputShape returns the network input shape 1×1×(grid) of the operator a,
// or an error if the model does not fit it.
func inputShape(m *Model, a *poisson.Stencil) ([]int, error) {
	if a.Dim != m.Config.Dim {
		return nil, fmt.Errorf("dcdm: the model is %d-D and the system %d-D", m.Config.Dim, a.Dim)
	}
	shape := []int{1, 1, a.Shape[1], a.Shape[0]}
	if a.Dim == 3 {
		shape = []int{1, 1, a.Shape[2], a.Shape[1], a.Shape[0]}
	}
	for _, s := range shape[2:] {
		if s%m.Multiple() != 0 {
			return nil, fmt.Errorf("dcdm: grid %v: the model's %d pooling level(s) need sides divisible by %d", shape[2:], m.Config.Levels, m.Multiple())
		}
	}
	return shape, nil
}

func finite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// report sends the progress of res to fn: the fraction log(‖r‖/‖b‖)/log(tol).
func report(fn progress.Func, res Result, tol float64) {
	f := 1.0
	if !res.Converged && tol < 1 && res.RelResidual > 0 {
		f = max(0, min(1, math.Log(res.RelResidual)/math.Log(tol)))
	}
	fn.Report(progress.Update{
		Fraction: f,
		Message:  fmt.Sprintf("iteration %d", res.Iterations),
		Metrics:  map[string]float64{"rel_residual": res.RelResidual},
	})
}
