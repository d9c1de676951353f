package nn

import (
	"fmt"
	"math"
)

// ActivationKind names an element-wise nonlinearity.
type ActivationKind string

// The element-wise nonlinearities. The names are stable: they appear in
// architecture JSON.
const (
	// ActReLU is max(x, 0), with derivative 0 at x = 0.
	ActReLU ActivationKind = "relu"
	// ActGELU is the exact Gaussian error linear unit x·Φ(x) = ½x(1 + erf(x/√2)).
	ActGELU ActivationKind = "gelu"
	// ActGELUTanh is the tanh approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
	ActGELUTanh ActivationKind = "gelu_tanh"
	// ActSiLU is x·σ(x) with the logistic σ(x) = 1/(1 + e⁻ˣ).
	ActSiLU ActivationKind = "silu"
	// ActIdentity is the identity.
	ActIdentity ActivationKind = "identity"
)

// ParseActivation returns the kind named s, or an error.
func ParseActivation(s string) (ActivationKind, error) {
	switch k := ActivationKind(s); k {
	case ActReLU, ActGELU, ActGELUTanh, ActSiLU, ActIdentity:
		return k, nil
	}
	return "", fmt.Errorf("nn: unknown activation %q (want relu, gelu, gelu_tanh, silu or identity)", s)
}

// Activation applies an element-wise nonlinearity y_i = f(x_i) to a tensor
// of any shape. Forward also stores f′(x_i), so that Backward is one
// multiplication per element: ∂L/∂x_i = f′(x_i)·∂L/∂y_i. Cost: one
// evaluation of f and f′ per element (a degree-8 polynomial from a table
// for ActGELU, see normCDF; tanh for ActGELUTanh, exp for ActSiLU).
type Activation struct {
	Kind     ActivationKind
	y, d, dx *Tensor
}

// NewActivation returns the nonlinearity of the given kind. It panics on an
// unknown kind; use ParseActivation on user input.
func NewActivation(kind ActivationKind) *Activation {
	if _, err := ParseActivation(string(kind)); err != nil {
		panic(err.Error())
	}
	return &Activation{Kind: kind}
}

const (
	invSqrt2    = 0.70710678118654752440
	invSqrt2Pi  = 0.39894228040143267794
	sqrt2OverPi = 0.79788456080286535588
	geluCoef    = 0.044715
)

// Forward returns f(x) element-wise.
func (a *Activation) Forward(x *Tensor) *Tensor {
	a.y = reuse(a.y, x.Shape...)
	a.d = reuse(a.d, x.Shape...)
	y := a.y.Data
	d, xs := a.d.Data[:len(y)], x.Data[:len(y)]
	switch a.Kind {
	case ActReLU:
		for i, v := range xs {
			if v > 0 {
				y[i], d[i] = v, 1
			} else {
				y[i], d[i] = 0, 0
			}
		}
	case ActGELU:
		for i, v := range xs {
			phi, dens := normCDF(v)
			y[i] = v * phi
			d[i] = phi + v*dens
		}
	case ActGELUTanh:
		for i, v := range xs {
			u := sqrt2OverPi * (v + geluCoef*v*v*v)
			t := math.Tanh(u)
			y[i] = 0.5 * v * (1 + t)
			d[i] = 0.5*(1+t) + 0.5*v*(1-t*t)*sqrt2OverPi*(1+3*geluCoef*v*v)
		}
	case ActSiLU:
		for i, v := range xs {
			s := 1 / (1 + math.Exp(-v))
			y[i] = v * s
			d[i] = s * (1 + v*(1-s))
		}
	case ActIdentity:
		copy(y, xs)
		for i := range d {
			d[i] = 1
		}
	default:
		panic(fmt.Sprintf("nn: Activation: unknown kind %q", a.Kind))
	}
	return a.y
}

// Backward returns f′(x) ⊙ dy.
func (a *Activation) Backward(dy *Tensor) *Tensor {
	mustSameShape("Activation", dy, a.y.Shape)
	a.dx = reuse(a.dx, dy.Shape...)
	dx, d := a.dx.Data, a.d.Data[:len(a.dx.Data)]
	for i, g := range dy.Data[:len(dx)] {
		dx[i] = d[i] * g
	}
	return a.dx
}

// Params returns nil.
func (a *Activation) Params() []*Param { return nil }
