package dcdm

import (
	"fmt"

	"eddy/nn"
	"eddy/pde/poisson"
)

// Loss is the scale-invariant loss of spec §2.3 for the operator A: for a
// training vector b (the target, ‖b‖₂ = 1, zero on inactive cells) and the
// network output y, with q = y masked to the active cells,
//
//	α = qᵀb / qᵀA q,   ℓ = ‖b − α A q‖₂²,
//
// the squared residual left by one exact line-search step from 0 along q.
// With s = qᵀA q and r = b − αAq its gradient is
//
//	∂ℓ/∂q = −2·[ (rᵀA q / s)·(b − 2α A q) + α A r ],
//
// masked again for ∂ℓ/∂y. A sample with qᵀA q = 0 has ℓ = ‖b‖² and a
// zero gradient. Eval is safe for concurrent use (the data-parallel trainer
// calls it on every replica). Cost two operator applications per sample.
type Loss struct {
	A *poisson.Stencil
}

// Eval implements nn.Loss: pred and target are N×1×grid with the operator's
// cell count per sample.
func (l Loss) Eval(pred, target, grad *nn.Tensor, weight float64) float64 {
	n := l.A.Len()
	if !pred.SameShape(target) || !pred.SameShape(grad) || pred.Len() != pred.Shape[0]*n {
		panic(fmt.Sprintf("dcdm: Loss: pred %v, target %v, grad %v for an operator of %d cells", pred.Shape, target.Shape, grad.Shape, n))
	}
	q := make([]float64, n)
	aq := make([]float64, n)
	r := make([]float64, n)
	ar := make([]float64, n)
	var total float64
	for k := range pred.Shape[0] {
		y := pred.Data[k*n : (k+1)*n]
		b := target.Data[k*n : (k+1)*n]
		g := grad.Data[k*n : (k+1)*n]
		copy(q, y)
		mask(q, l.A.Inactive)
		l.A.Apply(aq, q)
		s, t := dot(q, aq), dot(q, b)
		if !(s > 0) {
			total += weight * dot(b, b)
			clear(g)
			continue
		}
		alpha := t / s
		for i := range r {
			r[i] = b[i] - alpha*aq[i]
		}
		total += weight * dot(r, r)
		l.A.Apply(ar, r)
		c := dot(r, aq) / s
		for i := range g {
			g[i] = -2 * weight * (c*(b[i]-2*alpha*aq[i]) + alpha*ar[i])
		}
		mask(g, l.A.Inactive)
	}
	return total
}
