// Package dcdm implements the Deep Conjugate Direction Method of Kaneda et
// al. (ICML 2023) for the pressure Poisson systems of eddy/pde/poisson: a
// convolutional network f trained so that f(r) ≈ c·A⁻¹r for some unknown
// scale c, used as a nonlinear search-direction generator in a conjugate
// direction iteration with exact line search.
//
// # Network
//
// Model is the network of the authors' N = 64 model in 2-D (3×3 kernels) or
// 3-D (3×3×3): 16-channel convolutions with ReLU, residual blocks
// t = conv(a), a = conv(t) + a, one average-pool / nearest-upsample level
// with an additive skip, and a final 1×1 convolution to one channel. It is
// fully convolutional, so a model trained on one grid applies unchanged to
// any grid whose side is divisible by 2^levels. Input and output are
// full-grid images (solid and air cells included); the output is masked to
// the fluid unknowns before use. The authors' convolutions have biases;
// Config.NoBias drops them, which makes f positively homogeneous
// (f(c·r) = c·f(r), c > 0). The input r/‖r‖ has per-cell values that shrink
// as 1/√cells, so with biases a network meets inputs of another size on
// every larger grid; without them the size does not matter. Trained at 32²,
// the network without biases beats IC(0)-PCG at 64² and 128²; with them it
// does not (TestTrainedAt32BeatsIC0, BenchmarkDCDMTable).
//
// # Training
//
// Training vectors are random combinations of Ritz vectors of the training
// matrix (a Lanczos run with full reorthogonalisation; spec §3), with the
// coefficients of the lowest m/2 + Θ Ritz vectors multiplied by 9 and each
// vector normalised. The loss is scale invariant (spec §2.3):
//
//	L(b) = ‖b − α A q‖₂²,  q = f(b),  α = qᵀb / qᵀA q,
//
// the residual left by one exact line-search step along q; it needs A
// only, no reference solutions. Training uses Adam and is deterministic for
// a seed and a thread count.
//
// # Iteration
//
// Solve runs the DCDM iteration of spec §1.1: q = f(r/‖r‖), A-orthogonalised
// against the last few search directions (Gram–Schmidt; two in the authors'
// code, Options.Directions), then the exact
// line search α = qᵀr / qᵀA q, which never increases the A-norm of the error.
// If the direction is (numerically) orthogonal to the residual the step
// falls back to q = r. The residual is recomputed as b − A x every
// iteration, as the authors do. Since f is nonlinear, its directions are
// not conjugate by themselves: keeping two, the iteration count swings by
// ±30% from one right-hand side to the next; keeping 30 (the variant of the
// authors' code that orthogonalises against more) it is lower and steady,
// at 2 vectors and 2 dot products per direction, small beside an inference.
package dcdm
