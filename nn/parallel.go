package nn

import (
	"fmt"
	"math"
	"slices"
	"sync"
)

// DataParallel trains one model on several goroutines: each replica runs
// Forward and Backward on a contiguous slice of the batch, and the
// gradients are summed into the parameters of replica 0, which are the ones
// to optimise and to save. All replicas read the same parameter values
// (their Values are replica 0's tensors), so an optimiser step on replica
// 0's parameters is seen by all of them at once.
//
// Splitting the batch is exact for every layer of this package: none of
// them couples samples (GroupNorm normalises within a sample).
type DataParallel struct {
	replicas []Layer
	params   [][]*Param
	grads    []*Tensor
	xs, ts   []Tensor
	losses   []float64
}

// NewDataParallel builds workers replicas with build, which must return
// models of identical architecture, and ties their parameters to those of
// the first. workers is typically runtime.GOMAXPROCS(0).
func NewDataParallel(workers int, build func() Layer) *DataParallel {
	if workers < 1 {
		panic(fmt.Sprintf("nn: NewDataParallel: %d workers", workers))
	}
	d := &DataParallel{}
	for w := 0; w < workers; w++ {
		m := build()
		ps := m.Params()
		if w > 0 {
			master := d.params[0]
			if len(ps) != len(master) {
				panic(fmt.Sprintf("nn: NewDataParallel: replica %d has %d parameters, replica 0 has %d", w, len(ps), len(master)))
			}
			for i, p := range ps {
				if p.Name != master[i].Name || !p.Value.SameShape(master[i].Value) {
					panic(fmt.Sprintf("nn: NewDataParallel: replica %d parameter %q %v differs from %q %v", w, p.Name, p.Value.Shape, master[i].Name, master[i].Value.Shape))
				}
				p.Value = master[i].Value
			}
		}
		d.replicas = append(d.replicas, m)
		d.params = append(d.params, ps)
	}
	d.grads = make([]*Tensor, workers)
	d.xs = make([]Tensor, workers)
	d.ts = make([]Tensor, workers)
	d.losses = make([]float64, workers)
	return d
}

// Model returns replica 0.
func (d *DataParallel) Model() Layer { return d.replicas[0] }

// Params returns the parameters of replica 0.
func (d *DataParallel) Params() []*Param { return d.params[0] }

// Workers returns the number of replicas.
func (d *DataParallel) Workers() int { return len(d.replicas) }

// split sets d.xs[w] (and d.ts[w] if t is not nil) to the w-th of k nearly
// equal slices of the batch, sharing storage, and returns k.
func (d *DataParallel) split(x, t *Tensor) int {
	n := x.Shape[0]
	k := min(len(d.replicas), n)
	for w := 0; w < k; w++ {
		lo, hi := w*n/k, (w+1)*n/k
		view(&d.xs[w], x, lo, hi)
		if t != nil {
			view(&d.ts[w], t, lo, hi)
		}
	}
	return k
}

// view makes v the samples [lo, hi) of x without allocating once v's shape
// slice has the right length.
func view(v *Tensor, x *Tensor, lo, hi int) {
	inner := numel(x.Shape[1:])
	v.Shape = append(v.Shape[:0], x.Shape...)
	v.Shape[0] = hi - lo
	v.Data = x.Data[lo*inner : hi*inner]
}

// LossAndGrad zeroes the gradients, evaluates loss on the batch (x, target)
// with weight 1/N, back-propagates it, and leaves the summed gradient in
// Params(). It returns the batch-mean loss, or an error if the loss is not
// finite (the gradients are then unspecified).
func (d *DataParallel) LossAndGrad(x, target *Tensor, loss Loss) (float64, error) {
	if len(x.Shape) == 0 || len(target.Shape) == 0 || x.Shape[0] != target.Shape[0] {
		panic(fmt.Sprintf("nn: DataParallel: batch sizes of x %v and target %v differ", x.Shape, target.Shape))
	}
	k := d.split(x, target)
	weight := 1 / float64(x.Shape[0])
	var wg sync.WaitGroup
	for w := 0; w < k; w++ {
		for i, p := range d.params[w] {
			p.Frozen = d.params[0][i].Frozen
			p.Grad.Zero()
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			m := d.replicas[w]
			y := m.Forward(&d.xs[w])
			d.grads[w] = reuse(d.grads[w], y.Shape...)
			d.losses[w] = loss.Eval(y, &d.ts[w], d.grads[w], weight)
			m.Backward(d.grads[w])
		}(w)
	}
	wg.Wait()
	total := 0.0
	for w := 0; w < k; w++ {
		total += d.losses[w]
	}
	if math.IsNaN(total) || math.IsInf(total, 0) {
		return total, fmt.Errorf("nn: loss is %v", total)
	}
	d.reduce(k)
	return total, nil
}

// reduce adds the gradients of replicas 1…k−1 to replica 0, splitting the
// parameters among k goroutines.
func (d *DataParallel) reduce(k int) {
	if k == 1 {
		return
	}
	master := d.params[0]
	var wg sync.WaitGroup
	for w := 0; w < k; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(master); i += k {
				if master[i].Frozen {
					continue
				}
				dst := master[i].Grad.Data
				for r := 1; r < k; r++ {
					addTo(dst, d.params[r][i].Grad.Data)
				}
			}
		}(w)
	}
	wg.Wait()
}

// Predict returns the model's output for x, computed in parallel, as a new
// tensor.
func (d *DataParallel) Predict(x *Tensor) *Tensor {
	k := d.split(x, nil)
	outs := make([]*Tensor, k)
	var wg sync.WaitGroup
	for w := 0; w < k; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			outs[w] = d.replicas[w].Forward(&d.xs[w])
		}(w)
	}
	wg.Wait()
	shape := slices.Clone(outs[0].Shape)
	shape[0] = x.Shape[0]
	y := NewTensor(shape...)
	off := 0
	for _, o := range outs {
		off += copy(y.Data[off:], o.Data)
	}
	return y
}
