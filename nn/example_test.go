package nn_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"

	"eddy/nn"
)

// A spectral convolution over a 2-D grid that keeps modes |k₁| < 4 on the
// first axis and 0 ≤ k₂ < 5 on the last, resampling 16×12 to 32×24.
func ExampleSpectralConv() {
	r := rand.New(rand.NewPCG(1, 1))
	k := nn.NewSpectralConv(3, 2, []int{4, 5}, true, r)
	k.OutSize = []int{32, 24}
	x := nn.NewTensor(8, 3, 16, 12)
	y := k.Forward(x)
	fmt.Println(y.Shape, k.Wre.Value.Shape, k.Bre.Value.Shape)
	// Output: [8 2 32 24] [8 5 3 2] [8 5 2]
}

// Training the reference FNO with AdamW, a one-cycle schedule, gradient
// clipping and data parallelism over the available cores.
func ExampleNewFNO() {
	cfg := nn.FNOConfig{In: 3, Out: 1, Width: 32, Modes: []int{12, 12}, Layers: 4, ProjWidth: 128, Activation: nn.ActGELU}
	dp := nn.NewDataParallel(runtime.GOMAXPROCS(0), func() nn.Layer {
		m, err := nn.NewFNO(cfg, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			panic(err)
		}
		return m
	})
	opt := nn.NewAdamW(nn.ParamGroup{Params: dp.Params(), LR: 1e-3, WeightDecay: 1e-4})
	opt.Schedule = nn.OneCycle{Total: 2}
	x, y := nn.NewTensor(4, 3, 32, 32), nn.NewTensor(4, 1, 32, 32)
	x.FillNormal(rand.New(rand.NewPCG(2, 2)), 1)
	y.FillNormal(rand.New(rand.NewPCG(3, 3)), 1)
	for step := 0; step < 2; step++ {
		if _, err := dp.LossAndGrad(x, y, nn.MSE{}); err != nil {
			panic(err)
		}
		if _, err := nn.ClipGradNorm(dp.Params(), 1); err != nil {
			panic(err)
		}
		opt.Step()
	}
	// 3·32+32 (lifting) + 4·(2·24·12·32·32 + 32·32+32) + 32·128+128 + 128+1.
	fmt.Println(nn.CountParams(dp.Params()), dp.Predict(x).Shape)
	// Output: 2368001 [4 1 32 32]
}

// Parameter groups with their own learning rates and a frozen part, as the
// Spectral-Refiner fine-tunes only the output layer of a trained operator.
func ExampleParamGroup() {
	r := rand.New(rand.NewPCG(1, 1))
	body := nn.NewConv(2, 1, 4, 3, true, r)
	head := nn.NewSpectralConv(4, 1, []int{3, 3}, true, r)
	model := nn.NewSequential(body, head)
	nn.SetFrozen(body.Params(), true)
	opt := nn.NewAdam(
		nn.ParamGroup{Params: []*nn.Param{head.Wre, head.Wim}, LR: 1e-4},
		nn.ParamGroup{Params: []*nn.Param{head.Bre, head.Bim}, LR: 2e-1},
	)
	for _, p := range model.Params() {
		fmt.Println(p.Name, p.Value.Shape, p.Frozen)
	}
	fmt.Println(opt.LR(0), opt.LR(1))
	// Output:
	// 0.weight [4 1 3 3] true
	// 0.bias [4] true
	// 1.weight_re [6 3 4 1] false
	// 1.weight_im [6 3 4 1] false
	// 1.bias_re [6 3 1] false
	// 1.bias_im [6 3 1] false
	// 0.0001 0.2
}

// The DCDM network for 64³ grids (Kaneda et al. 2023, as in Eddy's DCDM
// spec): 3×3×3 convolutions with 16 channels and ReLU, residual blocks, one
// average-pool / nearest-upsample level with an additive skip, and a
// pointwise output. The spec derives 97,457 parameters.
func Example_dcdm() {
	r := rand.New(rand.NewPCG(1, 1))
	conv := func() nn.Layer { // 16→16 with ReLU
		return nn.NewSequential(nn.NewConv(3, 16, 16, 3, true, r), nn.NewActivation(nn.ActReLU))
	}
	rb := func() nn.Layer { return nn.NewResidual(nn.NewSequential(conv(), conv())) }
	net := nn.NewSequential(
		nn.NewConv(3, 1, 16, 3, true, r), // linear
		conv(),
		nn.NewResidual(nn.NewSequential(conv(), conv())),
		conv(),
		nn.NewResidual(nn.NewSequential(
			nn.NewAvgPool(3, 2),
			rb(), rb(), rb(),
			nn.NewUpsample(3, 2, nn.UpsampleNearest),
		)),
		rb(), rb(),
		nn.NewDense(16, 1, true, r),
	)
	y := net.Forward(nn.NewTensor(1, 1, 8, 8, 8))
	fmt.Println(nn.CountParams(net.Params()), y.Shape)
	// Output: 97457 [1 1 8 8 8]
}
