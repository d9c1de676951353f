// Package gphm solves high-frequency and multi-scale PDEs with Gaussian
// processes on tensor grids: GP-HM of Fang et al., "Solving High Frequency and
// Multi-Scale PDEs with Gaussian Processes", ICLR 2024 (arXiv 2311.04465).
//
// The solution u is a GP with a product kernel over the input dimensions; each
// dimension has a Q-component spectral-mixture kernel (GM: Gaussian mixture
// spectrum; StM: Student-t mixture, i.e. Matérn-5/2 × cosine) or one of the
// baselines SE and Matérn (kernel.go). The latent values U on a full tensor grid
// of collocation nodes are trained jointly with the kernel parameters and two
// noise precisions by maximising the log joint of §2.3 of the spec: the GP prior
// of U, a boundary likelihood weighted by λ_b and a likelihood of the PDE
// residual, whose derivatives come from the conditional mean,
// U_xx = K1″ K1⁻¹ U, U_yy = U K2⁻¹ K2″ (mode products; model.go).
//
// Every per-dimension matrix is Toeplitz on a uniform grid and is built from one
// kernel evaluation per lag; gradients with respect to kernel parameters
// contract through lag sums (toeplitz.go). All grid algebra is Kronecker: per
// dimension Cholesky factors, log-determinants and mode products; no dense
// kernel over the whole grid is ever formed.
//
// The solution is u = Σ_k β_k φ_k + v: a low-degree polynomial trend
// (Legendre, degree ≤ 3 in 1-D, total degree ≤ 2 in 2-D) with flat-prior
// coefficients β, plus the GP v (universal kriging; trend.go). β is solved
// exactly with the grid values, so that smooth parts of the solution cost
// nothing in the prior; Config.Trend = "none" gives the paper's zero-mean GP.
//
// Training paths (Result.Path), both beyond the paper, whose joint Adam
// optimisation of U and the spectra needs 1e5–1e6 steps:
//   - PathExactU, for 1-D problems: for fixed kernel parameters the objective
//     is minimised exactly in U and β (Newton for Poisson, Gauss–Newton for
//     Allen–Cahn) with a dense factorisation, and L-BFGS optimises the spectra
//     on the resulting profile, with fixed noise precisions (exact.go). The U
//     solve works in whitened coordinates U = T1 Z T2ᵀ with K_j = T_j T_jᵀ
//     (generalised eigenvectors of (K_j″, K_j)), where the prior is ‖Z‖² and no
//     inverse of the badly conditioned K_j is formed;
//   - PathKronCG, for 2-D problems: the same, with the Newton systems solved
//     matrix-free by Kronecker-structured preconditioned conjugate gradients
//     (kroncg.go).
//
// Every run is judged by what a user can observe (check.go): the PDE
// residual of the posterior mean at the midpoints between the nodes, in a
// negative Sobolev norm, plus its boundary misfit — an estimate of the
// relative error. It selects the iterate returned (the one of least
// residual; training stops when the residual keeps rising, or when line
// searches fail twice before it improves: the loss at its rounding noise),
// the nugget (Config.Nugget "auto"), and a restart with the other
// spectral-mixture kernel when a run stalls; a run is reported converged only
// when it stopped for a reason other than its budget and this residual is at
// most ResidualTol.
//
// K_j has eigenvalues down to the jitter (by default about 1e-6·k(0), unlike
// the paper's absolute 1e-6; see axis.nugget) and up to n·k(0), so K_j⁻¹ is
// applied only through triangular solves with its Cholesky factor. An error of
// the grid values along the eigenvectors of K_j near the jitter is invisible
// at the nodes but amplified by up to √(1/jitter) per axis between them, so
// the accuracy of the mean off the grid, the paper's metric, depends on it.
//
// Problems are the paper's presets (Presets) or user expressions (package
// eddy/pde/expr): an exact solution, from which the source and boundary data
// are derived by forward-mode differentiation, or a source and a boundary
// expression. The objective is not invariant under scaling of the data or
// of the coordinates (the precisions are fixed), so a problem whose data
// are much smaller than 1, or whose domain is much shorter or longer than
// the paper's, is solved with them multiplied by powers of two
// and its result taken back (dataScale, coordScales). Solve is the entry point; it takes a context and a progress
// callback and needs no service.
package gphm
