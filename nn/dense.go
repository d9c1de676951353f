package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"eddy/blas"
)

// Dense is the affine map over the channel axis, applied at every spatial
// position: for x of shape N×In×S₁×…×S_d (d ≥ 0),
//
//	y[n, o, s] = Σ_i W[o, i]·x[n, i, s] + b[o],
//
// so that with d = 0 it is a fully connected layer and with d ≥ 1 a
// pointwise (1×1, 1×1×1) convolution. W has shape Out×In and is named
// "weight"; b has shape Out and is named "bias". Cost 2·N·S·In·Out flops
// forward and twice that backward.
type Dense struct {
	In, Out int
	W, B    *Param // B is nil without bias

	x, y, dx *Tensor
}

// NewDense returns a dense layer initialised as PyTorch does: W and b drawn
// from U(−1/√In, 1/√In).
func NewDense(in, out int, bias bool, r *rand.Rand) *Dense {
	if in <= 0 || out <= 0 {
		panic(fmt.Sprintf("nn: NewDense: in=%d out=%d must be positive", in, out))
	}
	d := &Dense{In: in, Out: out, W: newParam("weight", out, in)}
	bound := 1 / math.Sqrt(float64(in))
	d.W.Value.FillUniform(r, -bound, bound)
	if bias {
		d.B = newParam("bias", out)
		d.B.Value.FillUniform(r, -bound, bound)
	}
	return d
}

// Params returns W and, if present, b.
func (d *Dense) Params() []*Param {
	if d.B == nil {
		return []*Param{d.W}
	}
	return []*Param{d.W, d.B}
}

func (d *Dense) check(x *Tensor) (n, s int) {
	if len(x.Shape) < 2 || x.Shape[1] != d.In {
		panic(fmt.Sprintf("nn: Dense %d→%d: input shape %v, want N×%d×…", d.In, d.Out, x.Shape, d.In))
	}
	return x.Shape[0], numel(x.Shape[2:])
}

// Forward returns W·x + b over the channel axis.
func (d *Dense) Forward(x *Tensor) *Tensor {
	n, s := d.check(x)
	d.x = x
	var buf [8]int
	shape := withChannels(buf[:0], n, d.Out, x.Shape[2:])
	d.y = reuse(d.y, shape...)
	w, y := d.W.Value.Data, d.y.Data
	if s == 1 {
		blas.Dgemm(false, true, n, d.Out, d.In, 1, x.Data, d.In, w, d.In, 0, y, d.Out)
	} else {
		for i := 0; i < n; i++ {
			blas.Dgemm(false, false, d.Out, s, d.In, 1, w, d.In, x.Data[i*d.In*s:], s, 0, y[i*d.Out*s:], s)
		}
	}
	if d.B != nil {
		addChannelBias(y, d.B.Value.Data, n, d.Out, s)
	}
	return d.y
}

// Backward returns Wᵀ·dy and adds dy·xᵀ to ∂L/∂W and Σ dy to ∂L/∂b.
func (d *Dense) Backward(dy *Tensor) *Tensor {
	mustSameShape("Dense", dy, d.y.Shape)
	n, s := d.check(d.x)
	x, g := d.x.Data, dy.Data
	if !d.W.Frozen {
		dw := d.W.Grad.Data
		if s == 1 {
			blas.Dgemm(true, false, d.Out, d.In, n, 1, g, d.Out, x, d.In, 1, dw, d.In)
		} else {
			for i := 0; i < n; i++ {
				blas.Dgemm(false, true, d.Out, d.In, s, 1, g[i*d.Out*s:], s, x[i*d.In*s:], s, 1, dw, d.In)
			}
		}
	}
	if d.B != nil && !d.B.Frozen {
		sumChannelGrad(d.B.Grad.Data, g, n, d.Out, s)
	}
	d.dx = reuse(d.dx, d.x.Shape...)
	w := d.W.Value.Data
	if s == 1 {
		blas.Dgemm(false, false, n, d.In, d.Out, 1, g, d.Out, w, d.In, 0, d.dx.Data, d.In)
	} else {
		for i := 0; i < n; i++ {
			blas.Dgemm(true, false, d.In, s, d.Out, 1, w, d.In, g[i*d.Out*s:], s, 0, d.dx.Data[i*d.In*s:], s)
		}
	}
	return d.dx
}

// addChannelBias adds b[c] to y[n, c, s] for y of shape n×c×s.
func addChannelBias(y, b []float64, n, c, s int) {
	for i := 0; i < n; i++ {
		for j := 0; j < c; j++ {
			row := y[(i*c+j)*s : (i*c+j+1)*s]
			bj := b[j]
			for k := range row {
				row[k] += bj
			}
		}
	}
}

// sumChannelGrad adds Σ_{n,s} g[n, c, s] to db[c].
func sumChannelGrad(db, g []float64, n, c, s int) {
	for i := 0; i < n; i++ {
		for j := 0; j < c; j++ {
			var acc float64
			for _, v := range g[(i*c+j)*s : (i*c+j+1)*s] {
				acc += v
			}
			db[j] += acc
		}
	}
}
