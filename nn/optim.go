package nn

import (
	"fmt"
	"math"
)

// ParamGroup is a set of parameters that share a learning rate and weight
// decay. The learning rate in effect at a step is LR times the optimiser's
// schedule factor.
type ParamGroup struct {
	Params      []*Param
	LR          float64
	WeightDecay float64
}

// Adam is the Adam optimiser (Kingma & Ba 2015) and, with Decoupled set,
// AdamW (Loshchilov & Hutter 2019), as PyTorch implements them. At step
// t = 1, 2, … each non-frozen parameter θ with gradient g, in a group with
// learning rate η = LR·Schedule.Factor(t−1) and weight decay λ, is updated by
//
//	Adam:  g ← g + λθ
//	AdamW: θ ← θ − ηλθ
//	m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,
//	θ ← θ − η·(m/(1−β₁ᵗ))/(√(v/(1−β₂ᵗ)) + ε).
//
// Frozen parameters are skipped and their moments left unchanged. Cost
// about 15 flops per parameter; no allocation after the first Step.
type Adam struct {
	Groups       []ParamGroup
	Beta1, Beta2 float64
	Eps          float64
	Decoupled    bool
	Schedule     Schedule // nil means a constant factor 1

	t    int
	m, v map[*Param][]float64
}

// NewAdam returns Adam with β₁ = 0.9, β₂ = 0.999, ε = 1e-8 over the groups.
func NewAdam(groups ...ParamGroup) *Adam {
	for i, g := range groups {
		if !(g.LR >= 0) || !(g.WeightDecay >= 0) {
			panic(fmt.Sprintf("nn: NewAdam: group %d has LR %v and weight decay %v", i, g.LR, g.WeightDecay))
		}
	}
	return &Adam{Groups: groups, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8,
		m: map[*Param][]float64{}, v: map[*Param][]float64{}}
}

// NewAdamW returns NewAdam with decoupled weight decay.
func NewAdamW(groups ...ParamGroup) *Adam {
	a := NewAdam(groups...)
	a.Decoupled = true
	return a
}

// Steps returns the number of steps taken.
func (a *Adam) Steps() int { return a.t }

// LR returns the learning rate that the next Step applies to group i.
func (a *Adam) LR(i int) float64 {
	f := 1.0
	if a.Schedule != nil {
		f = a.Schedule.Factor(a.t)
	}
	return a.Groups[i].LR * f
}

// Step updates the parameters from their gradients. It does not zero the
// gradients.
func (a *Adam) Step() {
	f := 1.0
	if a.Schedule != nil {
		f = a.Schedule.Factor(a.t)
	}
	a.t++
	b1, b2 := a.Beta1, a.Beta2
	c1 := 1 - math.Pow(b1, float64(a.t))
	c2 := 1 - math.Pow(b2, float64(a.t))
	for _, g := range a.Groups {
		lr := g.LR * f
		step := lr / c1
		isc2 := 1 / math.Sqrt(c2)
		wd := g.WeightDecay
		for _, p := range g.Params {
			if p.Frozen {
				continue
			}
			m, v := a.m[p], a.v[p]
			if m == nil {
				m = make([]float64, p.Value.Len())
				v = make([]float64, p.Value.Len())
				a.m[p], a.v[p] = m, v
			}
			th, gr := p.Value.Data, p.Grad.Data[:len(m)]
			th = th[:len(m)]
			for j, gj := range gr {
				if wd != 0 {
					if a.Decoupled {
						th[j] -= lr * wd * th[j]
					} else {
						gj += wd * th[j]
					}
				}
				mj := b1*m[j] + (1-b1)*gj
				vj := b2*v[j] + (1-b2)*gj*gj
				m[j], v[j] = mj, vj
				th[j] -= step * mj / (math.Sqrt(vj)*isc2 + a.Eps)
			}
		}
	}
}

// AdamState is the state of an Adam optimiser: the number of steps taken and
// the first and second moments of every parameter of its groups, in group
// order and within a group in parameter order. A parameter that has not
// been stepped yet has zero moments. Restoring it with SetState makes the
// following steps bit-identical to those of the optimiser it came from.
type AdamState struct {
	Steps int
	M, V  [][]float64
}

// State returns a copy of a's state.
func (a *Adam) State() AdamState {
	s := AdamState{Steps: a.t}
	for _, g := range a.Groups {
		for _, p := range g.Params {
			m, v := make([]float64, p.Value.Len()), make([]float64, p.Value.Len())
			copy(m, a.m[p])
			copy(v, a.v[p])
			s.M, s.V = append(s.M, m), append(s.V, v)
		}
	}
	return s
}

// SetState replaces a's state by s. It returns an error, leaving a
// unchanged, unless s has one moment pair per parameter of a's groups with
// the parameters' lengths and a non-negative step count.
func (a *Adam) SetState(s AdamState) error {
	var ps []*Param
	for _, g := range a.Groups {
		ps = append(ps, g.Params...)
	}
	if s.Steps < 0 || len(s.M) != len(ps) || len(s.V) != len(ps) {
		return fmt.Errorf("nn: Adam state with %d steps and %d/%d moments for %d parameters", s.Steps, len(s.M), len(s.V), len(ps))
	}
	for i, p := range ps {
		if len(s.M[i]) != p.Value.Len() || len(s.V[i]) != p.Value.Len() {
			return fmt.Errorf("nn: Adam state of parameter %q has %d/%d moments, want %d", p.Name, len(s.M[i]), len(s.V[i]), p.Value.Len())
		}
	}
	a.t = s.Steps
	for i, p := range ps {
		a.m[p] = append([]float64(nil), s.M[i]...)
		a.v[p] = append([]float64(nil), s.V[i]...)
	}
	return nil
}
