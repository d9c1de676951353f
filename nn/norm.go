package nn

import (
	"fmt"
	"math"
)

// GroupNorm normalises each sample over groups of channels and all spatial
// points, then applies a per-channel affine map (Wu & He 2018). For x of
// shape N×C×S₁×…×S_d (d ≥ 0) and G groups of C/G channels,
//
//	μ_{n,g} = mean of x[n, c, s] over c ∈ group g and all s,
//	σ²_{n,g} = the (biased) variance over the same set,
//	y[n, c, s] = γ[c]·(x[n, c, s] − μ_{n,g})/√(σ²_{n,g} + ε) + β[c].
//
// γ ("weight", initialised to 1) and β ("bias", initialised to 0) have
// shape C. With G = 1 it is the "LayerNorm over C×S with a per-channel
// affine map" of FNO codes (NewLayerNorm); with G = C it is instance norm.
// Cost about 10 flops per element forward and backward.
type GroupNorm struct {
	Groups, Channels int
	Eps              float64
	Gamma, Beta      *Param

	x, y, dx, xhat *Tensor
	invStd         []float64
}

// NewGroupNorm returns group normalisation of channels into groups with
// ε = 1e-5. channels must be divisible by groups.
func NewGroupNorm(groups, channels int) *GroupNorm {
	if groups <= 0 || channels <= 0 || channels%groups != 0 {
		panic(fmt.Sprintf("nn: NewGroupNorm: %d channels not divisible into %d groups", channels, groups))
	}
	g := &GroupNorm{Groups: groups, Channels: channels, Eps: 1e-5,
		Gamma: newParam("weight", channels), Beta: newParam("bias", channels)}
	g.Gamma.Value.Fill(1)
	return g
}

// NewLayerNorm returns NewGroupNorm(1, channels): normalisation of each
// sample over all channels and points, with a per-channel affine map.
func NewLayerNorm(channels int) *GroupNorm { return NewGroupNorm(1, channels) }

// Params returns γ and β.
func (g *GroupNorm) Params() []*Param { return []*Param{g.Gamma, g.Beta} }

func (g *GroupNorm) dims(x *Tensor) (n, s int) {
	if len(x.Shape) < 2 || x.Shape[1] != g.Channels {
		panic(fmt.Sprintf("nn: GroupNorm(%d, %d): input shape %v, want N×%d×…", g.Groups, g.Channels, x.Shape, g.Channels))
	}
	return x.Shape[0], numel(x.Shape[2:])
}

// Forward returns the normalised and scaled x.
func (g *GroupNorm) Forward(x *Tensor) *Tensor {
	n, s := g.dims(x)
	g.x = x
	g.y = reuse(g.y, x.Shape...)
	g.xhat = reuse(g.xhat, x.Shape...)
	if cap(g.invStd) < n*g.Groups {
		g.invStd = make([]float64, n*g.Groups)
	}
	g.invStd = g.invStd[:n*g.Groups]
	cg := g.Channels / g.Groups
	m := cg * s
	gamma, beta := g.Gamma.Value.Data, g.Beta.Value.Data
	for i := 0; i < n*g.Groups; i++ {
		blk := x.Data[i*m : (i+1)*m]
		var mean float64
		for _, v := range blk {
			mean += v
		}
		mean /= float64(m)
		var vr float64
		for _, v := range blk {
			vr += (v - mean) * (v - mean)
		}
		vr /= float64(m)
		inv := 1 / math.Sqrt(vr+g.Eps)
		g.invStd[i] = inv
		xh := g.xhat.Data[i*m : (i+1)*m]
		y := g.y.Data[i*m : (i+1)*m]
		c0 := (i % g.Groups) * cg
		for c := 0; c < cg; c++ {
			ga, be := gamma[c0+c], beta[c0+c]
			for k := c * s; k < (c+1)*s; k++ {
				h := (blk[k] - mean) * inv
				xh[k] = h
				y[k] = ga*h + be
			}
		}
	}
	return g.y
}

// Backward returns ∂L/∂x = (1/σ)(ĝ − mean(ĝ) − x̂·mean(ĝ⊙x̂)) with ĝ = γ⊙dy
// per group, and accumulates ∂L/∂γ = Σ dy⊙x̂ and ∂L/∂β = Σ dy per channel.
func (g *GroupNorm) Backward(dy *Tensor) *Tensor {
	mustSameShape("GroupNorm", dy, g.y.Shape)
	n, s := g.dims(g.x)
	g.dx = reuse(g.dx, g.x.Shape...)
	cg := g.Channels / g.Groups
	m := cg * s
	gamma := g.Gamma.Value.Data
	for i := 0; i < n*g.Groups; i++ {
		xh := g.xhat.Data[i*m : (i+1)*m]
		gy := dy.Data[i*m : (i+1)*m]
		dx := g.dx.Data[i*m : (i+1)*m]
		c0 := (i % g.Groups) * cg
		var sg, sgx float64 // Σ ĝ and Σ ĝ·x̂
		for c := 0; c < cg; c++ {
			ga := gamma[c0+c]
			var dg, db float64
			for k := c * s; k < (c+1)*s; k++ {
				dg += gy[k] * xh[k]
				db += gy[k]
			}
			if !g.Gamma.Frozen {
				g.Gamma.Grad.Data[c0+c] += dg
			}
			if !g.Beta.Frozen {
				g.Beta.Grad.Data[c0+c] += db
			}
			sg += ga * db
			sgx += ga * dg
		}
		inv := g.invStd[i]
		mg, mgx := sg/float64(m), sgx/float64(m)
		for c := 0; c < cg; c++ {
			ga := gamma[c0+c]
			for k := c * s; k < (c+1)*s; k++ {
				dx[k] = inv * (ga*gy[k] - mg - xh[k]*mgx)
			}
		}
	}
	return g.dx
}
