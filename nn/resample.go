package nn

import (
	"fmt"
	"math"
)

// AvgPool is average pooling over non-overlapping blocks of Factor points
// in each of Dims spatial axes (1, 2 or 3): for x of shape N×C×S₁×…×S_d,
// each S_i divisible by f,
//
//	y[n, c, s] = f^{−d} Σ_{t ∈ {0…f−1}^d} x[n, c, f·s + t],
//
// of shape N×C×(S₁/f)×…×(S_d/f). Cost one addition per input element.
type AvgPool struct {
	Dims, Factor int

	inShape []int
	y, dx   *Tensor
}

// NewAvgPool returns average pooling by factor over dims spatial axes.
func NewAvgPool(dims, factor int) *AvgPool {
	if dims < 1 || dims > 3 || factor < 1 {
		panic(fmt.Sprintf("nn: NewAvgPool: dims=%d factor=%d", dims, factor))
	}
	return &AvgPool{Dims: dims, Factor: factor}
}

// Params returns nil.
func (p *AvgPool) Params() []*Param { return nil }

// grid3 pads a spatial shape of rank 1–3 to (D, H, W) with leading 1s.
func grid3(sp []int) (d, h, w int) {
	d, h, w = 1, 1, 1
	switch len(sp) {
	case 1:
		w = sp[0]
	case 2:
		h, w = sp[0], sp[1]
	case 3:
		d, h, w = sp[0], sp[1], sp[2]
	}
	return
}

// geometry returns the input grid as (D, H, W), the pooling factors of the
// two leading axes (1 where the grid has fewer axes) and the weight f^{−d}.
func (p *AvgPool) geometry(shape []int) (d, h, w, fd, fh int, scale float64) {
	d, h, w = grid3(shape[2:])
	fd, fh = p.Factor, p.Factor
	if p.Dims < 3 {
		fd = 1
	}
	if p.Dims < 2 {
		fh = 1
	}
	return d, h, w, fd, fh, 1 / math.Pow(float64(p.Factor), float64(p.Dims))
}

// Forward returns the block averages of x.
func (p *AvgPool) Forward(x *Tensor) *Tensor {
	if len(x.Shape) != 2+p.Dims {
		panic(fmt.Sprintf("nn: AvgPool%dd: input shape %v, want rank %d", p.Dims, x.Shape, 2+p.Dims))
	}
	var buf [8]int
	out := append(buf[:0], x.Shape...)
	for i := 2; i < len(out); i++ {
		if out[i]%p.Factor != 0 {
			panic(fmt.Sprintf("nn: AvgPool%dd: input shape %v not divisible by %d", p.Dims, x.Shape, p.Factor))
		}
		out[i] /= p.Factor
	}
	p.inShape = append(p.inShape[:0], x.Shape...)
	p.y = reuse(p.y, out...)
	p.y.Zero()
	f := p.Factor
	d, h, w, fd, fh, scale := p.geometry(x.Shape)
	od, oh, ow := d/fd, h/fh, w/f
	nc := x.Shape[0] * x.Shape[1]
	for c := 0; c < nc; c++ {
		src := x.Data[c*d*h*w : (c+1)*d*h*w]
		dst := p.y.Data[c*od*oh*ow : (c+1)*od*oh*ow]
		for z := 0; z < d; z++ {
			for yy := 0; yy < h; yy++ {
				line := src[(z*h+yy)*w : (z*h+yy+1)*w]
				out := dst[((z/fd)*oh+yy/fh)*ow : ((z/fd)*oh+yy/fh+1)*ow]
				for xx, v := range line {
					out[xx/f] += scale * v
				}
			}
		}
	}
	return p.y
}

// Backward spreads each output gradient evenly over its block.
func (p *AvgPool) Backward(dy *Tensor) *Tensor {
	mustSameShape("AvgPool", dy, p.y.Shape)
	p.dx = reuse(p.dx, p.inShape...)
	f := p.Factor
	d, h, w, fd, fh, scale := p.geometry(p.inShape)
	od, oh, ow := d/fd, h/fh, w/f
	nc := p.inShape[0] * p.inShape[1]
	for c := 0; c < nc; c++ {
		dst := p.dx.Data[c*d*h*w : (c+1)*d*h*w]
		src := dy.Data[c*od*oh*ow : (c+1)*od*oh*ow]
		for z := 0; z < d; z++ {
			for yy := 0; yy < h; yy++ {
				line := dst[(z*h+yy)*w : (z*h+yy+1)*w]
				in := src[((z/fd)*oh+yy/fh)*ow : ((z/fd)*oh+yy/fh+1)*ow]
				for xx := range line {
					line[xx] = scale * in[xx/f]
				}
			}
		}
	}
	return p.dx
}

// UpsampleMode selects the interpolation of Upsample.
type UpsampleMode string

// Interpolation modes of Upsample.
const (
	// UpsampleNearest repeats each value Factor times along each axis.
	UpsampleNearest UpsampleMode = "nearest"
	// UpsampleLinear interpolates linearly along each axis (bilinear, trilinear),
	// with half-pixel centres: output point j samples the input at
	// max(0, (j + ½)/f − ½), clamped at the last point (PyTorch's
	// align_corners=False).
	UpsampleLinear UpsampleMode = "linear"
)

// Upsample enlarges each of Dims spatial axes by an integer Factor:
// N×C×S₁×…×S_d → N×C×(f·S₁)×…×(f·S_d). Both modes are separable linear maps,
// applied one axis at a time; Backward applies their transposes. Cost about
// two multiply-adds per output element and axis.
type Upsample struct {
	Dims, Factor int
	Mode         UpsampleMode

	inShape []int
	stage   [4]*Tensor // stage[0] = input; stage[k] after k axes
	grad    [4]*Tensor
	taps    map[int]*taps
}

// taps are the two input indices and weights of each output point of a
// 1-D interpolation from n to f·n points.
type taps struct {
	i0, i1 []int
	w0, w1 []float64
}

// NewUpsample returns upsampling by factor over dims spatial axes.
func NewUpsample(dims, factor int, mode UpsampleMode) *Upsample {
	if dims < 1 || dims > 3 || factor < 1 || (mode != UpsampleNearest && mode != UpsampleLinear) {
		panic(fmt.Sprintf("nn: NewUpsample: dims=%d factor=%d mode=%q", dims, factor, mode))
	}
	return &Upsample{Dims: dims, Factor: factor, Mode: mode, taps: map[int]*taps{}}
}

// Params returns nil.
func (u *Upsample) Params() []*Param { return nil }

func (u *Upsample) tapsFor(n int) *taps {
	if t, ok := u.taps[n]; ok {
		return t
	}
	f := u.Factor
	m := n * f
	t := &taps{i0: make([]int, m), i1: make([]int, m), w0: make([]float64, m), w1: make([]float64, m)}
	for j := 0; j < m; j++ {
		if u.Mode == UpsampleNearest {
			t.i0[j], t.i1[j], t.w0[j] = j/f, j/f, 1
			continue
		}
		src := max(0, (float64(j)+0.5)/float64(f)-0.5)
		i0 := min(int(src), n-1)
		i1 := min(i0+1, n-1)
		w1 := src - float64(i0)
		if i1 == i0 {
			w1 = 0
		}
		t.i0[j], t.i1[j], t.w0[j], t.w1[j] = i0, i1, 1-w1, w1
	}
	u.taps[n] = t
	return t
}

// Forward returns the upsampled x.
func (u *Upsample) Forward(x *Tensor) *Tensor {
	if len(x.Shape) != 2+u.Dims {
		panic(fmt.Sprintf("nn: Upsample%dd: input shape %v, want rank %d", u.Dims, x.Shape, 2+u.Dims))
	}
	u.inShape = append(u.inShape[:0], x.Shape...)
	cur := x
	var buf [8]int
	shape := append(buf[:0], x.Shape...)
	for k := 0; k < u.Dims; k++ {
		axis := len(shape) - 1 - k // last axis first
		t := u.tapsFor(shape[axis])
		shape[axis] *= u.Factor
		u.stage[k+1] = reuse(u.stage[k+1], shape...)
		outer, inner := numel(shape[:axis]), numel(shape[axis+1:])
		interp(u.stage[k+1].Data, cur.Data, outer, cur.Shape[axis], shape[axis], inner, t)
		cur = u.stage[k+1]
	}
	return cur
}

// Backward applies the transposed interpolations in reverse order.
func (u *Upsample) Backward(dy *Tensor) *Tensor {
	mustSameShape("Upsample", dy, u.stage[u.Dims].Shape)
	cur := dy
	var buf [8]int
	shape := append(buf[:0], dy.Shape...)
	for k := u.Dims - 1; k >= 0; k-- {
		axis := len(shape) - 1 - k
		n := shape[axis] / u.Factor
		t := u.tapsFor(n)
		shape[axis] = n
		u.grad[k] = reuse(u.grad[k], shape...)
		outer, inner := numel(shape[:axis]), numel(shape[axis+1:])
		interpT(u.grad[k].Data, cur.Data, outer, n, n*u.Factor, inner, t)
		cur = u.grad[k]
	}
	return cur
}

// interp sets dst[o, j, i] = w0[j]·src[o, i0[j], i] + w1[j]·src[o, i1[j], i]
// for src of shape outer×n×inner and dst of shape outer×m×inner.
func interp(dst, src []float64, outer, n, m, inner int, t *taps) {
	for o := 0; o < outer; o++ {
		s := src[o*n*inner : (o+1)*n*inner]
		d := dst[o*m*inner : (o+1)*m*inner]
		for j := 0; j < m; j++ {
			a := s[t.i0[j]*inner : (t.i0[j]+1)*inner]
			b := s[t.i1[j]*inner : (t.i1[j]+1)*inner]
			out := d[j*inner : (j+1)*inner]
			w0, w1 := t.w0[j], t.w1[j]
			if w1 == 0 {
				for i := range out {
					out[i] = w0 * a[i]
				}
				continue
			}
			for i := range out {
				out[i] = w0*a[i] + w1*b[i]
			}
		}
	}
}

// interpT is the transpose of interp: dst (outer×n×inner) = interpᵀ src.
func interpT(dst, src []float64, outer, n, m, inner int, t *taps) {
	clear(dst)
	for o := 0; o < outer; o++ {
		s := src[o*m*inner : (o+1)*m*inner]
		d := dst[o*n*inner : (o+1)*n*inner]
		for j := 0; j < m; j++ {
			g := s[j*inner : (j+1)*inner]
			a := d[t.i0[j]*inner : (t.i0[j]+1)*inner]
			w0, w1 := t.w0[j], t.w1[j]
			for i, v := range g {
				a[i] += w0 * v
			}
			if w1 != 0 {
				b := d[t.i1[j]*inner : (t.i1[j]+1)*inner]
				for i, v := range g {
					b[i] += w1 * v
				}
			}
		}
	}
}
