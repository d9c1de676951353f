package stfno

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"eddy/nn"
)

// Estimator is the loss of the Spectral-Refiner: a functional of a
// predicted trajectory, frames (T×n×n, layout (t, y, x)), that follows the
// frames history at the same spacing. Eval returns its value and, if grad
// is not nil, overwrites grad with its gradient with respect to frames.
// *navierstokes.Estimator (the a-posteriori estimator η of the residual in
// L²(0, T; H⁻¹), spec §3) implements it.
type Estimator interface {
	Eval(history, frames []float64, T int, grad []float64) float64
}

// RefineConfig sets up the Spectral-Refiner (spec §3). Its JSON names and
// tags declare it as job parameters (see package field).
type RefineConfig struct {
	// Iterations is the number of Adam steps (the paper uses 50–100).
	Iterations int `json:"refine_iterations" min:"0" max:"100000" doc:"Adam steps of the refinement (the paper uses 50–100); 0 evaluates the estimator of the unrefined prediction only"`
	// BiasLR and WeightLR are the learning rates of the output operator's
	// per-mode bias and of its weights (paper: 2e-1 or 1e-2, and 1e-4), in
	// the units of the authors' code, whose transforms are unnormalised
	// forward and carry 1/N backward: there a bias b adds b/N_out to the
	// amplitude of its mode, here b (see nn.SpectralConv), and a weight
	// maps N_in·x̂ to N_out·ŷ. Adam being equivariant under rescaling of a
	// parameter, Refine applies BiasLR/N_out and WeightLR·N_in/N_out, with
	// N_in = n²·2(T_lat+1) and N_out = n²·(T_out+T_lat+2) the sizes of the
	// operator's input and output grids, so that the paper's rates mean
	// what they meant there.
	BiasLR   float64 `json:"bias_lr" min:"0" max:"1e9" doc:"learning rate of the output operator's per-mode bias, in the units of the authors' code (unnormalised forward FFT): the amplitude of a mode moves by about bias_lr/N_out per step, N_out = n²·(t_out + t_latent + 2). On 64² with 10 output frames, 20 lowers the H⁻¹ estimator of fno-mini predictions about 17× in 100 steps"`
	WeightLR float64 `json:"weight_lr" min:"0" max:"1e9" doc:"learning rate of the output operator's spectral weights, in the units of the authors' code (the paper uses 1e-4)"`
	// Modes are the modes (x, y, t) of the widened output operator. A zero
	// entry means: for x and y the modes the 2/3 rule keeps on the grid,
	// ⌊(n−1)/3⌋ + 1 (22 on 64²); for t, 6 (the paper's choice), limited
	// to what the layer's time lengths allow. Entries below the trained
	// model's modes are raised to them.
	Modes [3]int `json:"modes" min:"0" max:"4096" doc:"Fourier modes (x, y, t) of the widened output operator; 0 takes, for x and y, the modes that the 2/3 rule keeps on the grid (22 on 64²) and, for t, 6 (the paper's choice, limited by the time lengths); values below the trained model's modes are raised to them"`
	// NewWeightGain scales the initial weights of the added modes, drawn
	// uniformly from ±gain·√3 (Xavier for one channel in and out). The
	// paper uses 1e-6; 0 (the default) starts them at exactly 0, so that
	// the first iterate is the unrefined prediction.
	NewWeightGain float64 `json:"new_weight_gain" min:"0" max:"1" doc:"scale of the random initial weights of the added modes (Xavier gain; the paper uses 1e-6); 0 starts them at exactly 0, so that the first iterate is the unrefined prediction"`
	// Seed seeds the draw of the new weights when NewWeightGain > 0.
	Seed uint64 `json:"refine_seed" min:"0" max:"9007199254740991" doc:"seed of the initial weights of the added modes when new_weight_gain > 0"`
}

// RefineResult is the outcome of Refine: the prediction before and after
// refinement (T_out×n×n each), the estimator of both, its value at every
// iterate (Iterations + 1 values, the first being the unrefined
// prediction's) and the wall time.
type RefineResult struct {
	Before, After                   []float64
	EstimatorBefore, EstimatorAfter float64
	Loss                            []float64
	Modes                           [3]int // modes (x, y, t) of the widened operator
	Seconds                         float64
}

// Refine applies the Spectral-Refiner (spec §3) to one trajectory: with
// input the tIn frames (tIn×n×n) that precede the prediction, it computes
// the latent q of the frozen network once, replaces the output operator by
// a copy widened to rc.Modes (the trained weights and biases copied into
// the low modes; the bias scale δ set to 1 and the copied biases
// multiplied by the old δ, so that the output is unchanged), and minimises
// est.Eval(history, ω_out) over that copy's weights (learning rate
// WeightLR) and per-mode bias (BiasLR) with Adam. history is passed to est
// unchanged (for BDF2, at least the last two frames before the prediction,
// i.e. the end of input). After is the iterate with the lowest estimator
// value. m is not changed. Cost per iteration: one forward and backward of
// the output operator (two 3-D spectral transforms of n×n×(T_out+T_lat+2)
// points each way) plus one estimator evaluation with gradient.
func (m *Model) Refine(ctx context.Context, input []float64, tIn, tOut, n int, est Estimator, history []float64, rc RefineConfig) (*RefineResult, error) {
	start := time.Now()
	if len(input) != tIn*n*n {
		return nil, fmt.Errorf("stfno: Refine: %d input values for %d frames of %d²", len(input), tIn, n)
	}
	if err := m.checkGrid(n, tIn, tOut); err != nil {
		return nil, err
	}
	if rc.Iterations < 0 || !(rc.BiasLR >= 0) || !(rc.WeightLR >= 0) {
		return nil, fmt.Errorf("stfno: Refine: iterations %d and learning rates %v, %v must not be negative", rc.Iterations, rc.BiasLR, rc.WeightLR)
	}
	modes, err := m.refineModes(rc.Modes, n, tOut)
	if err != nil {
		return nil, err
	}
	x := nn.TensorFrom(append([]float64(nil), input...), 1, tIn, n, n)
	q := m.latent(x, tOut).Clone()
	wl := m.wl.Clone()
	res := &RefineResult{Before: append([]float64(nil), m.out.forward(q, wl, tOut).Data...), Modes: modes}

	// The widened copy of the output operator, modes ordered (y, x, t).
	r := rand.New(rand.NewPCG(rc.Seed, 0x5eed))
	wide := newOutputOp([]int{modes[1], modes[0], modes[2]}, 1, m.TLat, r)
	a := rc.NewWeightGain * math.Sqrt(3)
	for _, p := range []*nn.Param{wide.conv.Wre, wide.conv.Wim} {
		p.Value.FillUniform(r, -a, a)
	}
	wide.conv.CopyModesFrom(m.out.conv)
	for _, p := range []*nn.Param{wide.conv.Bre, wide.conv.Bim} {
		for i := range p.Value.Data {
			p.Value.Data[i] *= m.out.conv.BiasScale
		}
	}
	c := wide.conv
	nIn := float64(n * n * 2 * (m.TLat + 1))
	nOut := float64(n * n * (tOut + m.TLat + 2))
	opt := nn.NewAdam(nn.ParamGroup{Params: []*nn.Param{c.Wre, c.Wim}, LR: rc.WeightLR * nIn / nOut},
		nn.ParamGroup{Params: []*nn.Param{c.Bre, c.Bim}, LR: rc.BiasLR / nOut})
	grad := nn.NewTensor(1, tOut, n, n)
	best := math.Inf(1)
	for it := 0; ; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		y := wide.forward(q, wl, tOut)
		eta := est.Eval(history, y.Data, tOut, grad.Data)
		if math.IsNaN(eta) || math.IsInf(eta, 0) {
			return nil, fmt.Errorf("stfno: Refine: estimator is %v at iteration %d", eta, it)
		}
		res.Loss = append(res.Loss, eta)
		if eta < best {
			best = eta
			res.After = append(res.After[:0], y.Data...)
		}
		if it == rc.Iterations {
			break
		}
		nn.ZeroGrad(c.Params())
		wide.backward(grad)
		opt.Step()
	}
	res.EstimatorBefore, res.EstimatorAfter = res.Loss[0], best
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// refineModes resolves RefineConfig.Modes (x, y, t) for an n×n grid and
// tOut output frames.
func (m *Model) refineModes(req [3]int, n, tOut int) ([3]int, error) {
	out := req
	dealias := (n-1)/3 + 1
	if out[0] == 0 {
		out[0] = dealias
	}
	if out[1] == 0 {
		out[1] = dealias
	}
	// Half spectra of the operator's input (2(T_lat+1)) and output
	// (T_out + T_lat + 2) time lengths.
	tMax := min(m.TLat+2, (tOut+m.TLat+2)/2+1)
	if out[2] == 0 {
		out[2] = min(6, tMax)
	}
	out[0], out[1], out[2] = max(out[0], m.ModesX), max(out[1], m.ModesY), max(out[2], m.ModesT)
	if 2*out[0] > n || 2*out[1] > n || out[2] > tMax {
		return out, fmt.Errorf("stfno: Refine: modes %v do not fit the grid %d² (2·modes ≤ n) or the time lengths (modes_t ≤ %d)", out, n, tMax)
	}
	return out, nil
}
