package gphm

import "math"

// lbfgs is limited-memory BFGS (Nocedal & Wright, Algorithm 7.4) with a
// backtracking Armijo line search; a failed evaluation (f = +Inf or NaN, e.g. a
// kernel matrix that is not positive definite) shortens the step.
type lbfgs struct {
	mem        int
	s, y       [][]float64
	rho, alpha []float64
	d, xNew    []float64
	gNew       []float64
	// scale, if set, is the diagonal of the initial inverse Hessian up to a
	// factor (a metric on the variables); the factor is chosen as usual from
	// the latest curvature pair.
	scale []float64
}

func newLBFGS(n, mem int) *lbfgs {
	o := &lbfgs{mem: mem, rho: make([]float64, 0, mem), alpha: make([]float64, mem),
		d: make([]float64, n), xNew: make([]float64, n), gNew: make([]float64, n)}
	return o
}

// step takes one quasi-Newton step from x with value f and gradient g, both
// updated in place. eval(x, g, bound) returns the value at x and writes the
// gradient into g; bound is the value the trial must not exceed to be
// accepted, and eval may instead return any value above it, without the
// gradient, once it judges that the value there exceeds it (an evaluation
// cut short; a wrong judgement only shortens the step). The last trial of
// the line search gets bound +Inf, so that a search fails only on values
// evaluated in full. It returns the number of evaluations used and false if
// no step lowering f was found.
func (o *lbfgs) step(x []float64, f *float64, g []float64, eval func(x, g []float64, bound float64) float64) (int, bool) {
	n := len(x)
	// Two-loop recursion: d = −H g.
	copy(o.d, g)
	k := len(o.s)
	for i := k - 1; i >= 0; i-- {
		o.alpha[i] = o.rho[i] * dot(o.s[i], o.d)
		axpy(-o.alpha[i], o.y[i], o.d)
	}
	sc := func(i int) float64 {
		if o.scale == nil {
			return 1
		}
		return o.scale[i]
	}
	gamma := 1.0
	if k > 0 {
		yy := 0.0
		for i, v := range o.y[k-1] {
			yy += v * v * sc(i)
		}
		gamma = dot(o.s[k-1], o.y[k-1]) / yy
	} else {
		gg := 0.0
		for i, v := range g {
			gg += v * v * sc(i)
		}
		gamma = 1e-2 / math.Max(math.Sqrt(gg), 1e-300)
	}
	for i := range o.d {
		o.d[i] *= gamma * sc(i)
	}
	for i := range k {
		b := o.rho[i] * dot(o.y[i], o.d)
		axpy(o.alpha[i]-b, o.s[i], o.d)
	}
	for i := range o.d {
		o.d[i] = -o.d[i]
	}
	slope := dot(g, o.d)
	if !(slope < 0) {
		// Not a descent direction: restart from steepest descent.
		o.s, o.y, o.rho = o.s[:0], o.y[:0], o.rho[:0]
		for i := range o.d {
			o.d[i] = -g[i] * 1e-2 / math.Max(math.Sqrt(dot(g, g)), 1e-300)
		}
		slope = dot(g, o.d)
	}
	// Backtracking line search with the Armijo condition.
	t := 1.0
	evals := 0
	for trial := range searchTrials {
		for i := range x {
			o.xNew[i] = x[i] + t*o.d[i]
		}
		armijo := *f + 1e-4*t*slope // below *f: slope < 0
		bound := armijo
		if trial == searchTrials-1 {
			bound = math.Inf(1)
		}
		fNew := eval(o.xNew, o.gNew, bound)
		evals++
		if fNew < *f && fNew <= armijo {
			s := make([]float64, n)
			y := make([]float64, n)
			for i := range x {
				s[i] = o.xNew[i] - x[i]
				y[i] = o.gNew[i] - g[i]
			}
			if sy := dot(s, y); sy > 1e-12*math.Sqrt(dot(s, s)*dot(y, y)) {
				if len(o.s) == o.mem {
					o.s, o.y, o.rho = o.s[1:], o.y[1:], o.rho[1:]
				}
				o.s = append(o.s, s)
				o.y = append(o.y, y)
				o.rho = append(o.rho, 1/sy)
			}
			copy(x, o.xNew)
			copy(g, o.gNew)
			*f = fNew
			return evals, true
		}
		t *= 0.3
	}
	return evals, false
}

// searchTrials is the number of trial steps of one line search (the step
// shrinks by 0.3 between them).
const searchTrials = 12

func dot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func axpy(a float64, x, y []float64) {
	for i, v := range x {
		y[i] += a * v
	}
}

// reset forgets the curvature pairs (restart from a scaled gradient step).
func (o *lbfgs) reset() { o.s, o.y, o.rho = o.s[:0], o.y[:0], o.rho[:0] }

// empty reports whether no curvature pairs are stored.
func (o *lbfgs) empty() bool { return len(o.s) == 0 }
