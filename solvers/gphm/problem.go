package gphm

import (
	"fmt"
	"math"
	"sort"

	"eddy/field"
	"eddy/pde/expr"
)

// Preset is one benchmark problem of Fang et al. (spec §3) with the authors'
// settings: exact solution, domain, grid size, frequency scale F, boundary
// weight λ_b and the iteration count of their runs.
type Preset struct {
	Name       string
	PDE        PDE
	Exact      string // exact solution in x (and y, or t for advection)
	XMin, XMax float64
	YMin, YMax float64 // second axis (2-D only)
	Beta       float64 // advection speed
	N          int
	FreqScale  float64
	LambdaB    float64
	Iterations int // the authors' Adam iterations
}

var presets = map[string]Preset{
	"p1":   {Name: "p1", PDE: Poisson1D, Exact: "sin(100*x)", XMax: 2 * math.Pi, N: 400, FreqScale: 20, LambdaB: 200, Iterations: 100000},
	"p2":   {Name: "p2", PDE: Poisson1D, Exact: "sin(x) + 0.1*sin(20*x) + 0.05*sin(100*x)", XMax: 1, N: 900, FreqScale: 30, LambdaB: 200, Iterations: 1000000},
	"p3":   {Name: "p3", PDE: Poisson1D, Exact: "sin(6*x)*cos(100*x)", XMax: 2 * math.Pi, N: 400, FreqScale: 20, LambdaB: 200, Iterations: 100000},
	"p4":   {Name: "p4", PDE: Poisson1D, Exact: "x*sin(200*x)", XMax: 2 * math.Pi, N: 900, FreqScale: 50, LambdaB: 200, Iterations: 100000},
	"p5":   {Name: "p5", PDE: Poisson1D, Exact: "sin(500*x) - 2*(x - 0.5)^2", XMax: 1, N: 400, FreqScale: 100, LambdaB: 200, Iterations: 1000000},
	"ac1":  {Name: "ac1", PDE: AllenCahn1D, Exact: "sin(100*x)", XMax: 2 * math.Pi, N: 400, FreqScale: 20, LambdaB: 200, Iterations: 100000},
	"ac2":  {Name: "ac2", PDE: AllenCahn1D, Exact: "sin(6*x)*cos(100*x)", XMax: 2 * math.Pi, N: 400, FreqScale: 20, LambdaB: 200, Iterations: 100000},
	"p2d1": {Name: "p2d1", PDE: Poisson2D, Exact: "sin(100*x)*sin(100*y)", XMax: 2 * math.Pi, YMax: 2 * math.Pi, N: 400, FreqScale: 20, LambdaB: 200, Iterations: 100000},
	"p2d2": {Name: "p2d2", PDE: Poisson2D, Exact: "sin(6*x)*cos(20*x) + sin(6*y)*cos(20*y)", XMax: 2 * math.Pi, YMax: 2 * math.Pi, N: 200, FreqScale: 20, LambdaB: 200, Iterations: 1000000},
	"ac2d": {Name: "ac2d", PDE: AllenCahn2D, Exact: "(sin(x) + 0.1*sin(20*x) + cos(100*x))*(sin(y) + 0.1*sin(20*y) + cos(100*y))", XMax: 1, YMax: 1, N: 400, FreqScale: 30, LambdaB: 200, Iterations: 3000000},
	"adv":  {Name: "adv", PDE: Advection, Exact: "sin(x - 200*t)", XMax: 1, YMax: 1, Beta: 200, N: 200, FreqScale: 40, LambdaB: 500, Iterations: 1000000},
}

// Presets returns the names of the built-in problems in sorted order: p1…p5
// (1-D Poisson), ac1, ac2 (1-D Allen–Cahn), p2d1, p2d2 (2-D Poisson), ac2d
// (2-D Allen–Cahn) and adv (advection, β = 200).
func Presets() []string {
	names := make([]string, 0, len(presets))
	for k := range presets {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// LookupPreset returns the preset with the given name.
func LookupPreset(name string) (Preset, bool) {
	p, ok := presets[name]
	return p, ok
}

// varNames returns the expression variables of the PDE.
func varNames(p PDE) []string {
	switch {
	case p == Advection:
		return []string{"x", "t"}
	case p.Dims() == 2:
		return []string{"x", "y"}
	}
	return []string{"x"}
}

// parseField parses the expression src of the Config field name in the
// variables of p; a malformed one gives field.Errors at that field, with the
// character position of a syntax error.
func parseField(name, src string, p PDE) (*expr.Expr, error) {
	e, err := expr.Parse(src, varNames(p)...)
	if err != nil {
		if se, ok := err.(*expr.SyntaxError); ok {
			return nil, field.Errors{{Path: "/" + name, Message: fmt.Sprintf("at character %d: %s", se.Pos, se.Msg)}}
		}
		return nil, field.Errors{{Path: "/" + name, Message: err.Error()}}
	}
	return e, nil
}

// problem is a resolved PDE problem: its equation and the functions giving the
// source on every node, the Dirichlet data on the boundary and, when known, the
// exact solution.
type problem struct {
	pde    PDE
	beta   float64
	exact  *expr.Expr // nil when unknown
	source *expr.Expr // nil when derived from exact
	bound  *expr.Expr // nil when derived from exact
	// scale is the power of two s by which the source, the Dirichlet data
	// and the exact solution are divided (dataScale): the solve runs on
	// u/s, and Solve multiplies its result back.
	scale float64
	// coord[j] is the power of two c_j by which axis j's coordinates are
	// multiplied (coordScales): the solve runs on x′ = c x, and the
	// expressions are evaluated at x = x′/c.
	coord [2]float64
}

// newProblem returns the problem of pde with advection speed beta, its data
// neither divided nor its coordinates multiplied.
func newProblem(pde PDE, beta float64) problem {
	return problem{pde: pde, beta: beta, scale: 1, coord: [2]float64{1, 1}}
}

// sourceFactor returns what the source is multiplied by in the solve's
// coordinates, which keeps the equation's form: 1/c² for Poisson and
// Allen–Cahn (c the same on both axes), 1/c_t for advection (whose β is
// multiplied by c_x/c_t).
func (p *problem) sourceFactor() float64 {
	if p.pde == Advection {
		return 1 / p.coord[1]
	}
	return 1 / (p.coord[0] * p.coord[0])
}

// physical takes the point at from the solve's coordinates to the
// problem's own, in place (back: the other way). Both are exact: the
// factors are powers of two.
func (p *problem) physical(at []float64, back bool) {
	for j := range at {
		if back {
			at[j] *= p.coord[j]
		} else {
			at[j] /= p.coord[j]
		}
	}
}

// per returns 1/s (scale); a power of two, so that dividing by s is exact.
func (p *problem) per() float64 { return 1 / p.scale }

// exactAt returns the exact solution at the point at (in the solve's
// coordinates), divided by the scale.
func (p *problem) exactAt(at []float64) float64 {
	return p.eval(p.exact, at) * p.per()
}

// eval evaluates e at the point at, given in the solve's coordinates.
func (p *problem) eval(e *expr.Expr, at []float64) float64 {
	p.physical(at, false)
	v := e.Eval(at)
	p.physical(at, true)
	return v
}

// sourceAt returns f at the point at. With an exact solution u it is derived by
// forward-mode differentiation: Poisson f = Δu, Allen–Cahn f = Δu + u³ − u,
// advection f = β u_x + u_t.
func (p *problem) sourceAt(at []float64) float64 {
	p.physical(at, false)
	f := p.rawSourceAt(at)
	p.physical(at, true)
	return f * p.sourceFactor() * p.per()
}

// rawSourceAt is sourceAt in the problem's own coordinates and size.
func (p *problem) rawSourceAt(at []float64) float64 {
	if p.source != nil {
		return p.source.Eval(at)
	}
	jx := p.exact.Jet(at, 0)
	switch p.pde {
	case Poisson1D:
		return jx.D2
	case AllenCahn1D:
		return jx.D2 + jx.V*jx.V*jx.V - jx.V
	case Advection:
		return p.beta*jx.D1 + p.exact.Jet(at, 1).D1
	}
	f := jx.D2 + p.exact.Jet(at, 1).D2
	if p.pde == AllenCahn2D {
		f += jx.V*jx.V*jx.V - jx.V
	}
	return f
}

// interiorAt returns the source f at the point at and, when the exact
// solution is known, its value u there (0 otherwise), both divided by the
// scale. A value that is not finite gives field.Errors at the Config field it
// comes from.
func (p *problem) interiorAt(at []float64) (f, u float64, err error) {
	f = p.sourceAt(at)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		if p.source == nil {
			return 0, 0, field.Errors{{Path: "/exact", Message: fmt.Sprintf("the source f derived from it is %v at %s", f, p.point(at))}}
		}
		return 0, 0, field.Errors{{Path: "/source", Message: fmt.Sprintf("is %v at %s", f, p.point(at))}}
	}
	if p.exact != nil {
		u = p.eval(p.exact, at)
		if math.IsNaN(u) || math.IsInf(u, 0) {
			return 0, 0, field.Errors{{Path: "/exact", Message: fmt.Sprintf("is %v at %s", u, p.point(at))}}
		}
	}
	return f, u * p.per(), nil
}

// dirichletAt returns the Dirichlet value at the point at, divided by the
// scale; a value that is not finite gives field.Errors at the Config field
// it comes from.
func (p *problem) dirichletAt(at []float64) (float64, error) {
	g := p.boundaryAt(at)
	if math.IsNaN(g) || math.IsInf(g, 0) {
		if p.bound == nil {
			return 0, field.Errors{{Path: "/exact", Message: fmt.Sprintf("is %v at the boundary point %s", g, p.point(at))}}
		}
		return 0, field.Errors{{Path: "/boundary", Message: fmt.Sprintf("is %v at %s", g, p.point(at))}}
	}
	return g, nil
}

// point names the point at (in the solve's coordinates) in the variables of
// the PDE: "x = 0.5" or "(x, t) = (0, 0.25)".
func (p *problem) point(at []float64) string {
	at = append([]float64(nil), at...)
	p.physical(at, false)
	names := varNames(p.pde)
	if len(at) == 1 {
		return fmt.Sprintf("%s = %g", names[0], at[0])
	}
	return fmt.Sprintf("(%s, %s) = (%g, %g)", names[0], names[1], at[0], at[1])
}

// boundaryAt returns the Dirichlet value at the point at, divided by the
// scale.
func (p *problem) boundaryAt(at []float64) float64 {
	if p.bound != nil {
		return p.eval(p.bound, at) * p.per()
	}
	return p.exactAt(at)
}
