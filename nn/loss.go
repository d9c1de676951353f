package nn

import (
	"fmt"
	"math"
)

// Loss is a loss that is a sum over the samples of a batch (axis 0).
//
// Eval returns weight·Σ_n ℓ(pred_n, target_n) and writes
// weight·∂/∂pred of the same into grad, which must have pred's shape. With
// weight = 1/N it is the batch mean; the data-parallel trainer passes
// 1/N_total to each part so that the parts add up to the mean.
type Loss interface {
	Eval(pred, target, grad *Tensor, weight float64) float64
}

// MSE is the mean squared error per sample, ℓ_n = (1/M) Σ_j (p_nj − t_nj)²
// over the M elements of a sample; its batch mean is the usual MSE.
type MSE struct{}

// Eval implements Loss.
func (MSE) Eval(pred, target, grad *Tensor, weight float64) float64 {
	n, m := lossShape("MSE", pred, target, grad)
	var s float64
	c := weight / float64(m)
	for i := 0; i < n*m; i++ {
		d := pred.Data[i] - target.Data[i]
		s += d * d
		grad.Data[i] = 2 * c * d
	}
	return c * s
}

// RelL2 is the relative L2 error per sample, ℓ_n = ‖p_n − t_n‖₂/‖t_n‖₂, the
// training loss of FNO codes (LpLoss with p = 2). A sample with t_n = 0
// makes the loss infinite; a sample with p_n = t_n has gradient 0.
type RelL2 struct{}

// Eval implements Loss.
func (RelL2) Eval(pred, target, grad *Tensor, weight float64) float64 {
	n, m := lossShape("RelL2", pred, target, grad)
	var total float64
	for i := 0; i < n; i++ {
		p, t, g := pred.Data[i*m:(i+1)*m], target.Data[i*m:(i+1)*m], grad.Data[i*m:(i+1)*m]
		var dd, tt float64
		for j := range p {
			d := p[j] - t[j]
			dd += d * d
			tt += t[j] * t[j]
		}
		nd, nt := math.Sqrt(dd), math.Sqrt(tt)
		total += weight * nd / nt
		if nd == 0 {
			clear(g)
			continue
		}
		c := weight / (nd * nt)
		for j := range p {
			g[j] = c * (p[j] - t[j])
		}
	}
	return total
}

func lossShape(name string, pred, target, grad *Tensor) (n, m int) {
	if !pred.SameShape(target) || !pred.SameShape(grad) || len(pred.Shape) == 0 {
		panic(fmt.Sprintf("nn: %s: shapes pred %v, target %v, grad %v must be equal", name, pred.Shape, target.Shape, grad.Shape))
	}
	n = pred.Shape[0]
	if n == 0 {
		return 0, 0
	}
	return n, pred.Len() / n
}

// RelL2Error returns the mean over samples of ‖p_n − t_n‖₂/‖t_n‖₂, without
// gradient, for evaluation.
func RelL2Error(pred, target *Tensor) float64 {
	if !pred.SameShape(target) || len(pred.Shape) == 0 {
		panic(fmt.Sprintf("nn: RelL2Error: shapes %v and %v", pred.Shape, target.Shape))
	}
	n := pred.Shape[0]
	m := pred.Len() / n
	var total float64
	for i := 0; i < n; i++ {
		var dd, tt float64
		for j := i * m; j < (i+1)*m; j++ {
			d := pred.Data[j] - target.Data[j]
			dd += d * d
			tt += target.Data[j] * target.Data[j]
		}
		total += math.Sqrt(dd / tt)
	}
	return total / float64(n)
}
