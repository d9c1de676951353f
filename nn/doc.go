// Package nn is Eddy's small neural-network library: a float64 tensor,
// layers with hand-written forward and backward passes, losses, the Adam and
// AdamW optimisers with learning-rate schedules, parameter groups and
// freezing, gradient clipping, data-parallel training over goroutines and
// HDF5 checkpoints.
//
// # Conventions
//
// Tensors are dense, row-major float64 arrays. Batched feature maps are laid
// out N×C×(spatial), that is NC, NCL, NCHW or NCDHW for 0 to 3 spatial axes.
// A layer's Forward returns a tensor owned by the layer, overwritten by the
// next Forward; the layer keeps a reference to its input, which the caller
// must not modify before Backward. Backward takes ∂L/∂y for the last
// Forward, adds ∂L/∂θ to the gradients of the layer's parameters and returns
// ∂L/∂x, again owned by the layer. Buffers are reused from call to call, so
// after the first step with a given batch shape a training step allocates
// nothing in the layers.
//
// Shape errors are programmer errors and panic with a message naming the
// layer and both shapes; data errors (a checkpoint that does not match a
// model, a non-finite loss) are returned as errors.
//
// # Precision
//
// Everything is float64. Finite-difference gradient checks need it, Eddy's
// HDF5 files are float64, and the reference FNO training step fits its time
// budget in float64 (about 0.34 CPU-seconds per step; see the package
// benchmarks). OpenBLAS's float32 GEMM is about twice as fast as its
// float64 GEMM, but half of the step is outside GEMM (activations with erf
// and exp, biases, permutations, the optimiser), so float32 would buy well
// under 2× at the price of a second code path; blas.Sgemm is there if a
// caller needs it.
//
// # Kernels
//
// Dense layers and the spectral convolution's truncated DFT matrices
// multiply through package blas (OpenBLAS when it can be loaded, gonum
// otherwise). Convolutions whose channel counts and last grid axis are
// multiples of 8 (4 and 6 for the weight gradient) use hand-written AVX-512
// direct-convolution kernels (55–59 GFLOP/s for 16→16 channels, about 80%
// of the float64 GEMM peak of the development machine); other shapes, CPUs
// without AVX-512 and builds with the tag purego use im2col + GEMM.
//
// # Training
//
// A training step is DataParallel.LossAndGrad (forward and backward on each
// core's share of the batch, gradients summed), optionally ClipGradNorm,
// then Adam.Step. Parameters can be frozen (Param.Frozen) and grouped with
// their own learning rates (ParamGroup); schedules multiply the groups'
// rates. Package nn/checkpoint saves and loads parameters as HDF5.
package nn
