package stfno

import (
	"math/rand/v2"

	"eddy/nn"
)

// outputOp is step 4 of the forward pass, the layer that the
// Spectral-Refiner widens and fine-tunes: for the latent q (B×1×n×n×T_lat)
// and the last input frame ω_l (B×n×n),
//
//	z = [0 × (T_lat+1), ω_l, q]                (length L = 2(T_lat+1) in time),
//	s = K z  resampled to T_out + T_lat + 2 points, with bias ×δ,
//	ω_out[b, k] = ω_l[b] + s[b, 0, ·, ·, T_lat + 2 + k],  k < T_out.
type outputOp struct {
	conv *nn.SpectralConv
	tLat int

	z, y, ds, dq, dwl *nn.Tensor
	outSize           []int
}

func newOutputOp(modes []int, delta float64, tLat int, r *rand.Rand) *outputOp {
	conv := newSpectral(1, 1, modes, true, r)
	conv.BiasScale = delta
	return &outputOp{conv: conv, tLat: tLat, outSize: make([]int, 3)}
}

func (o *outputOp) forward(q, wl *nn.Tensor, tOut int) *nn.Tensor {
	b, n := q.Shape[0], q.Shape[2]
	tl := o.tLat
	L := 2 * (tl + 1)
	o.z = reuseT(o.z, b, 1, n, n, L)
	lines := b * n * n
	for j := 0; j < lines; j++ {
		row := o.z.Data[j*L : (j+1)*L]
		clear(row[:tl+1])
		row[tl+1] = wl.Data[j]
		copy(row[tl+2:], q.Data[j*tl:(j+1)*tl])
	}
	lo := tOut + tl + 2
	o.outSize[0], o.outSize[1], o.outSize[2] = n, n, lo
	o.conv.OutSize = o.outSize
	s := o.conv.Forward(o.z)
	o.y = reuseT(o.y, b, tOut, n, n)
	nn2 := n * n
	for i := 0; i < b; i++ {
		for p := 0; p < nn2; p++ {
			w := wl.Data[i*nn2+p]
			src := s.Data[(i*nn2+p)*lo+tl+2:]
			for k := 0; k < tOut; k++ {
				o.y.Data[(i*tOut+k)*nn2+p] = w + src[k]
			}
		}
	}
	return o.y
}

// backward returns ∂L/∂q and ∂L/∂ω_l for ∂L/∂ω_out = dy and accumulates the
// layer's parameter gradients.
func (o *outputOp) backward(dy *nn.Tensor) (dq, dwl *nn.Tensor) {
	b, tOut, n := dy.Shape[0], dy.Shape[1], dy.Shape[2]
	tl := o.tLat
	lo := tOut + tl + 2
	L := 2 * (tl + 1)
	nn2 := n * n
	o.ds = reuseT(o.ds, b, 1, n, n, lo)
	o.dwl = reuseT(o.dwl, b, n, n)
	for i := 0; i < b; i++ {
		for p := 0; p < nn2; p++ {
			row := o.ds.Data[(i*nn2+p)*lo : (i*nn2+p+1)*lo]
			clear(row[:tl+2])
			var sum float64
			for k := 0; k < tOut; k++ {
				g := dy.Data[(i*tOut+k)*nn2+p]
				row[tl+2+k] = g
				sum += g
			}
			o.dwl.Data[i*nn2+p] = sum
		}
	}
	dz := o.conv.Backward(o.ds)
	o.dq = reuseT(o.dq, b, 1, n, n, tl)
	for j := 0; j < b*nn2; j++ {
		row := dz.Data[j*L : (j+1)*L]
		o.dwl.Data[j] += row[tl+1]
		copy(o.dq.Data[j*tl:(j+1)*tl], row[tl+2:])
	}
	return o.dq, o.dwl
}
