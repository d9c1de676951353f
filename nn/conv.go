package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"eddy/blas"
)

// Conv is the stride-1 convolution with zero "same" padding over 1, 2 or 3
// spatial axes (as in deep-learning libraries, it is a cross-correlation).
// For x of shape N×In×S₁×…×S_d and an odd kernel size k,
//
//	y[n, o, s] = b[o] + Σ_i Σ_{t ∈ {−p…p}^d} W[o, i, t+p]·x[n, i, s+t],  p = (k−1)/2,
//
// with x taken as 0 outside the grid; y has shape N×Out×S₁×…×S_d. W has
// shape Out×In×k×…×k ("weight"), b has shape Out ("bias").
//
// On CPUs with AVX-512 (and without the purego build tag), outputs with a
// multiple of 8 channels and a last grid axis that is a multiple of 8 are
// computed directly from a zero-padded copy of each sample by an assembly
// kernel (8 channels × 16 points per call, all taps accumulated in
// registers); ∂L/∂x is the same kernel applied to dy with the flipped,
// transposed weights, and ∂L/∂W has its own kernel (4 channels × 6 taps)
// when Out is a multiple of 4 and In·k^d of 6. Otherwise it is im2col + GEMM
// over blocks of grid rows, so that the column buffer stays near 2 MiB
// whatever the grid size; Backward rebuilds the columns rather than storing
// them. Cost 2·N·S·Out·In·k^d flops forward and twice that backward.
type Conv struct {
	Dims, In, Out, Kernel int
	W, B                  *Param // B is nil without bias

	x, y, dx    *Tensor
	cols, dcols []float64
	pad, xpad   []float64 // zero-padded input of one sample (direct paths)
	wpack       []float64 // weights packed for the direct kernel
	offs, goffs []int64   // byte offsets of the kernel taps in the padded grid
	acc         []float64 // weight-gradient accumulators of the direct path
}

// colsTarget is the number of float64 values aimed at for one im2col block
// (2 MiB, half the L2 cache of the development machine's cores). A variable
// so that tests can force many small blocks.
var colsTarget = 1 << 18

// NewConv returns a convolution over dims spatial axes (1, 2 or 3) with an
// odd kernel size, initialised as PyTorch does: W and b drawn from
// U(−1/√(In·k^d), 1/√(In·k^d)).
func NewConv(dims, in, out, kernel int, bias bool, r *rand.Rand) *Conv {
	if dims < 1 || dims > 3 || in <= 0 || out <= 0 || kernel <= 0 || kernel%2 == 0 {
		panic(fmt.Sprintf("nn: NewConv: dims=%d in=%d out=%d kernel=%d: want dims 1–3, positive channels and an odd kernel", dims, in, out, kernel))
	}
	wshape := []int{out, in}
	fan := in
	for range dims {
		wshape = append(wshape, kernel)
		fan *= kernel
	}
	c := &Conv{Dims: dims, In: in, Out: out, Kernel: kernel, W: newParam("weight", wshape...)}
	bound := 1 / math.Sqrt(float64(fan))
	c.W.Value.FillUniform(r, -bound, bound)
	if bias {
		c.B = newParam("bias", out)
		c.B.Value.FillUniform(r, -bound, bound)
	}
	return c
}

// Params returns W and, if present, b.
func (c *Conv) Params() []*Param {
	if c.B == nil {
		return []*Param{c.W}
	}
	return []*Param{c.W, c.B}
}

// geom is a convolution's grid as three axes (D, H, W) with kernel extents
// (kd, kh, kw); lower-dimensional grids have leading axes of size 1 and
// kernel extent 1.
type geom struct {
	d, h, w    int
	kd, kh, kw int
	ck         int // In·kd·kh·kw, the rows of the column matrix
	rows       int // grid rows (d, h) per block
}

func (c *Conv) geometry(x *Tensor) (n int, g geom) {
	if len(x.Shape) != 2+c.Dims || x.Shape[1] != c.In {
		panic(fmt.Sprintf("nn: Conv%dd %d→%d: input shape %v, want N×%d×(%d spatial axes)", c.Dims, c.In, c.Out, x.Shape, c.In, c.Dims))
	}
	sp := x.Shape[2:]
	g = geom{d: 1, h: 1, kd: 1, kh: 1, kw: c.Kernel}
	switch c.Dims {
	case 1:
		g.w = sp[0]
	case 2:
		g.h, g.w, g.kh = sp[0], sp[1], c.Kernel
	case 3:
		g.d, g.h, g.w, g.kd, g.kh = sp[0], sp[1], sp[2], c.Kernel, c.Kernel
	}
	g.ck = c.In * g.kd * g.kh * g.kw
	g.rows = max(1, min(g.d*g.h, colsTarget/(g.ck*g.w)))
	return x.Shape[0], g
}

// Forward returns the convolution of x.
func (c *Conv) Forward(x *Tensor) *Tensor {
	n, g := c.geometry(x)
	c.x = x
	s := g.d * g.h * g.w
	var buf [8]int
	shape := withChannels(buf[:0], n, c.Out, x.Shape[2:])
	c.y = reuse(c.y, shape...)
	w := c.W.Value.Data
	if direct(c.Out, g) {
		c.packForward(g)
		for i := 0; i < n; i++ {
			c.directSample(c.y.Data[i*c.Out*s:(i+1)*c.Out*s], c.Out, x.Data[i*c.In*s:(i+1)*c.In*s], c.In, g)
		}
		if c.B != nil {
			addChannelBias(c.y.Data, c.B.Value.Data, n, c.Out, s)
		}
		return c.y
	}
	c.cols = grow(c.cols, g.ck*g.rows*g.w)
	for i := 0; i < n; i++ {
		xi := x.Data[i*c.In*s : (i+1)*c.In*s]
		yi := c.y.Data[i*c.Out*s : (i+1)*c.Out*s]
		for r0 := 0; r0 < g.d*g.h; r0 += g.rows {
			nr := min(g.rows, g.d*g.h-r0)
			p := nr * g.w
			im2col(c.cols[:g.ck*p], xi, c.In, g, r0, nr)
			blas.Dgemm(false, false, c.Out, p, g.ck, 1, w, g.ck, c.cols, p, 0, yi[r0*g.w:], s)
		}
	}
	if c.B != nil {
		addChannelBias(c.y.Data, c.B.Value.Data, n, c.Out, s)
	}
	return c.y
}

// Backward returns the transposed convolution of dy and accumulates the
// weight and bias gradients.
func (c *Conv) Backward(dy *Tensor) *Tensor {
	mustSameShape("Conv", dy, c.y.Shape)
	n, g := c.geometry(c.x)
	s := g.d * g.h * g.w
	c.dx = reuse(c.dx, c.x.Shape...)
	w := c.W.Value.Data
	fastX := direct(c.In, g)
	fastW := !c.W.Frozen && directGrad(c.Out, g)
	if fastX {
		c.packBackward(g)
	} else {
		c.dx.Zero()
		c.dcols = grow(c.dcols, g.ck*g.rows*g.w)
	}
	if fastW {
		c.goffs = tapOffsets(c.goffs, c.In, g)
		c.acc = grow(c.acc, c.Out*g.ck*8)
		clear(c.acc)
	}
	slowW := !c.W.Frozen && !fastW
	if slowW {
		c.cols = grow(c.cols, g.ck*g.rows*g.w)
	}
	for i := 0; i < n; i++ {
		xi := c.x.Data[i*c.In*s : (i+1)*c.In*s]
		gi := dy.Data[i*c.Out*s : (i+1)*c.Out*s]
		dxi := c.dx.Data[i*c.In*s : (i+1)*c.In*s]
		if fastX {
			// ∂L/∂x is the convolution of dy with the kernel flipped in
			// space and transposed in channels.
			c.directSample(dxi, c.In, gi, c.Out, g)
		}
		if fastW {
			c.directGradSample(gi, xi, g)
		}
		if fastX && !slowW {
			continue
		}
		for r0 := 0; r0 < g.d*g.h; r0 += g.rows {
			nr := min(g.rows, g.d*g.h-r0)
			p := nr * g.w
			if slowW {
				im2col(c.cols[:g.ck*p], xi, c.In, g, r0, nr)
				blas.Dgemm(false, true, c.Out, g.ck, p, 1, gi[r0*g.w:], s, c.cols, p, 1, c.W.Grad.Data, g.ck)
			}
			if !fastX {
				blas.Dgemm(true, false, g.ck, p, c.Out, 1, w, g.ck, gi[r0*g.w:], s, 0, c.dcols, p)
				col2im(dxi, c.dcols[:g.ck*p], c.In, g, r0, nr)
			}
		}
	}
	if fastW {
		c.reduceGrad(g)
	}
	if c.B != nil && !c.B.Frozen {
		sumChannelGrad(c.B.Grad.Data, dy.Data, n, c.Out, s)
	}
	return c.dx
}

// im2col fills cols (g.ck × nr·g.w, row-major) for grid rows [r0, r0+nr):
// cols[((ch·kd + a)·kh + b)·kw + e, j·w + x] = in[ch, d+a−pd, h+b−ph, x+e−pw]
// where (d, h) is grid row r0+j, and 0 outside the grid.
func im2col(cols, in []float64, channels int, g geom, r0, nr int) {
	p := nr * g.w
	pd, ph, pw := g.kd/2, g.kh/2, g.kw/2
	plane := g.d * g.h * g.w
	row := 0
	for ch := 0; ch < channels; ch++ {
		src := in[ch*plane : (ch+1)*plane]
		for a := 0; a < g.kd; a++ {
			for b := 0; b < g.kh; b++ {
				for e := 0; e < g.kw; e++ {
					dst := cols[row*p : (row+1)*p]
					row++
					sh := e - pw
					lo := min(g.w, max(0, -sh)) // valid x range [lo, hi)
					hi := max(lo, min(g.w, g.w-sh))
					for j := 0; j < nr; j++ {
						r := r0 + j
						sd, sy := r/g.h+a-pd, r%g.h+b-ph
						out := dst[j*g.w : (j+1)*g.w]
						if sd < 0 || sd >= g.d || sy < 0 || sy >= g.h {
							clear(out)
							continue
						}
						line := src[(sd*g.h+sy)*g.w : (sd*g.h+sy+1)*g.w]
						clear(out[:lo])
						copy(out[lo:hi], line[lo+sh:hi+sh])
						clear(out[hi:])
					}
				}
			}
		}
	}
}

// col2im adds the columns back into the grid: the transpose of im2col.
func col2im(in, cols []float64, channels int, g geom, r0, nr int) {
	p := nr * g.w
	pd, ph, pw := g.kd/2, g.kh/2, g.kw/2
	plane := g.d * g.h * g.w
	row := 0
	for ch := 0; ch < channels; ch++ {
		dst := in[ch*plane : (ch+1)*plane]
		for a := 0; a < g.kd; a++ {
			for b := 0; b < g.kh; b++ {
				for e := 0; e < g.kw; e++ {
					src := cols[row*p : (row+1)*p]
					row++
					sh := e - pw
					lo := min(g.w, max(0, -sh))
					hi := max(lo, min(g.w, g.w-sh))
					for j := 0; j < nr; j++ {
						r := r0 + j
						sd, sy := r/g.h+a-pd, r%g.h+b-ph
						if sd < 0 || sd >= g.d || sy < 0 || sy >= g.h {
							continue
						}
						line := dst[(sd*g.h+sy)*g.w+lo+sh : (sd*g.h+sy)*g.w+hi+sh]
						addTo(line, src[j*g.w+lo:j*g.w+hi])
					}
				}
			}
		}
	}
}

// direct reports whether the AVX-512 kernel computes a convolution with
// the given number of output rows (channels) on grid g: it needs rows and
// the last grid axis to be multiples of 8.
func direct(rows int, g geom) bool {
	return hasConvKernel && rows%8 == 0 && g.w%8 == 0
}

// packForward packs W (Out × In·k^d) for the direct kernel as blocks of 8
// output channels: wpack[(b·K + q)·8 + r] = W[8b + r, q].
func (c *Conv) packForward(g geom) {
	K := g.ck
	c.wpack = grow(c.wpack, c.Out*K)
	w := c.W.Value.Data
	for o := 0; o < c.Out; o++ {
		b, r := o/8, o%8
		for q := 0; q < K; q++ {
			c.wpack[(b*K+q)*8+r] = w[o*K+q]
		}
	}
	c.offs = tapOffsets(c.offs, c.In, g)
}

// packBackward packs the adjoint kernel W′[i, o, t] = W[o, i, T−1−t]
// (T = k^d taps, all spatial axes flipped) as packForward does, with the
// roles of In and Out exchanged.
func (c *Conv) packBackward(g geom) {
	T := g.kd * g.kh * g.kw
	K := c.Out * T
	c.wpack = grow(c.wpack, c.In*K)
	w := c.W.Value.Data
	for i := 0; i < c.In; i++ {
		b, r := i/8, i%8
		for o := 0; o < c.Out; o++ {
			for t := 0; t < T; t++ {
				c.wpack[(b*K+o*T+t)*8+r] = w[(o*c.In+i)*T+T-1-t]
			}
		}
	}
	c.offs = tapOffsets(c.offs, c.Out, g)
}

// tapOffsets returns offs resized to the number of taps, with offs[q] for
// tap q = ((ch·kd + a)·kh + b)·kw + e set to the byte offset of the
// padded-grid point (ch, a, b, e) from (0, 0, 0, 0).
func tapOffsets(offs []int64, channels int, g geom) []int64 {
	dp, hp, wp := g.d+g.kd-1, g.h+g.kh-1, g.w+g.kw-1
	n := channels * g.kd * g.kh * g.kw
	if cap(offs) < n {
		offs = make([]int64, n)
	}
	offs = offs[:n]
	q := 0
	for ch := 0; ch < channels; ch++ {
		for a := 0; a < g.kd; a++ {
			for b := 0; b < g.kh; b++ {
				for e := 0; e < g.kw; e++ {
					offs[q] = int64((((ch*dp+a)*hp+b)*wp + e) * 8)
					q++
				}
			}
		}
	}
	return offs
}

// padSample returns buf resized and filled with the channels of one
// sample surrounded by a zero border of half the kernel in each axis.
func padSample(buf, in []float64, channels int, g geom) []float64 {
	dp, hp, wp := g.d+g.kd-1, g.h+g.kh-1, g.w+g.kw-1
	pd, ph, pw := g.kd/2, g.kh/2, g.kw/2
	buf = grow(buf, channels*dp*hp*wp)
	clear(buf)
	for ch := 0; ch < channels; ch++ {
		for z := 0; z < g.d; z++ {
			for y := 0; y < g.h; y++ {
				src := in[((ch*g.d+z)*g.h+y)*g.w : ((ch*g.d+z)*g.h+y+1)*g.w]
				copy(buf[((ch*dp+z+pd)*hp+y+ph)*wp+pw:], src)
			}
		}
	}
	return buf
}

// directGrad reports whether the AVX-512 kernel computes the weight
// gradient: out channels in blocks of 4, taps in blocks of 6, the last grid
// axis in vectors of 8.
func directGrad(out int, g geom) bool {
	return hasConvKernel && out%4 == 0 && g.ck%6 == 0 && g.w%8 == 0
}

// gradBand is the number of grid rows that the weight-gradient kernel
// sweeps per call, so that the rows of dy and x it reads stay in cache
// across the blocks of channels and taps.
const gradBand = 8

// directGradSample adds, for one sample, Σ_s dy[o, s]·x_pad[tap q at s] to
// the accumulators of (o, q), eight lanes each, for all o and q.
func (c *Conv) directGradSample(dy, x []float64, g geom) {
	hp, wp := g.h+g.kh-1, g.w+g.kw-1
	c.xpad = padSample(c.xpad, x, c.In, g)
	s := g.d * g.h * g.w
	nqb := g.ck / 6
	for z := 0; z < g.d; z++ {
		for y0 := 0; y0 < g.h; y0 += gradBand {
			rows := min(gradBand, g.h-y0)
			xp := &c.xpad[(z*hp+y0)*wp]
			for ob := 0; ob < c.Out/4; ob++ {
				dyp := &dy[ob*4*s+(z*g.h+y0)*g.w]
				for qb := 0; qb < nqb; qb++ {
					convGradKernel4x6(dyp, 8*s, xp, &c.goffs[qb*6], rows, 8*g.w, 8*wp, g.w/8, &c.acc[(ob*nqb+qb)*192])
				}
			}
		}
	}
}

// reduceGrad adds the lane sums of the accumulators to ∂L/∂W.
func (c *Conv) reduceGrad(g geom) {
	nqb := g.ck / 6
	dw := c.W.Grad.Data
	for ob := 0; ob < c.Out/4; ob++ {
		for qb := 0; qb < nqb; qb++ {
			blk := c.acc[(ob*nqb+qb)*192 : (ob*nqb+qb+1)*192]
			for oi := 0; oi < 4; oi++ {
				for qi := 0; qi < 6; qi++ {
					var sum float64
					for _, v := range blk[(oi*6+qi)*8 : (oi*6+qi+1)*8] {
						sum += v
					}
					dw[(ob*4+oi)*g.ck+qb*6+qi] += sum
				}
			}
		}
	}
}

// directSample computes out[r, s] = Σ_q wpack[q, r]·in_pad[q-th tap at s]
// for one sample: rows output channels from channels input channels, with
// the packed weights and tap offsets already set.
func (c *Conv) directSample(out []float64, rows int, in []float64, channels int, g geom) {
	hp, wp := g.h+g.kh-1, g.w+g.kw-1
	c.pad = padSample(c.pad, in, channels, g)
	K := len(c.offs)
	s := g.d * g.h * g.w
	for b := 0; b < rows/8; b++ {
		wb := &c.wpack[b*K*8]
		for z := 0; z < g.d; z++ {
			for y := 0; y < g.h; y++ {
				base := (z*hp + y) * wp
				o := b*8*s + (z*g.h+y)*g.w
				x := 0
				for ; x+16 <= g.w; x += 16 {
					convKernel8x16(wb, &c.pad[base+x], &c.offs[0], K, &out[o+x], 8*s)
				}
				if x < g.w {
					convKernel8x8(wb, &c.pad[base+x], &c.offs[0], K, &out[o+x], 8*s)
				}
			}
		}
	}
}
