// Package hyperspectral unmixes hyperspectral images: it estimates K endmember
// spectra M and per-pixel abundances A such that Y ≈ M·A, with A ≥ 0 and the
// abundances of every pixel summing to one.
//
// # Conventions
//
// A cube is held as Y, a bands×pixels matrix (L×N, row-major *mat.Dense: row l
// is channel l, column n is the spectrum of pixel n). Pixels are numbered in
// MATLAB's column-major image order, as in the published scenes:
//
//	n = row + col·rows   (0-based)
//
// so the pixel at image row r and column c is column r + c·rows of Y, and an
// abundance map k reshaped to (rows, cols) is A[k, r + c·rows] at (r, c).
// CubeFromRowMajor and CubeToRowMajor convert between Y and row-major
// (rows, cols, bands) arrays, the layout of HDF5 cubes.
//
// Endmembers are L×K (column k is spectrum k), abundances K×N. Spectral angles
// (SAD) are in radians.
//
// # Methods
//
// Unmix is the entry point. It runs one of
//
//   - rrlbs: robust representation and learning-based sparsity (Zhu et al.,
//     arXiv 1409.0685): ℓ2,1 error over channels, so that outlier bands cannot
//     dominate, plus a per-pixel ℓp sparsity term weighted by a learned guidance
//     map h (by default replaced by h ≡ 1 on scenes that the mixing model does
//     not explain to their noise level: Config.Guidance); the ℓ2,1 error in
//     its Huber form when the start's channel errors spread widely
//     (Config.Loss); and, when the endmembers of its run are far enough apart
//     in angle, a second run with a brightness per pixel (Config.Mixing);
//   - l21nmf: ℓ2,1 error, no sparsity;
//   - l12nmf: Frobenius error with ℓ1/2 sparsity (Qian et al., TGRS 2011);
//   - nmf: Frobenius error (Lee–Seung);
//   - vca_fcls: VCA endmembers (Nascimento & Bioucas-Dias, TGRS 2005) and
//     FCLS abundances (Heinz & Chang, TGRS 2001).
//
// The iterative methods share one majorisation–minimisation scheme with
// multiplicative updates, the sum-to-one constraint enforced exactly by a
// per-pixel Lagrange multiplier (see the Unmix documentation for the
// objective and the steps). Every method of a run starts from the same
// (M₀, A₀): VCA or given endmembers M₀ and A₀ = FCLS(Y, M₀) (flat abundances
// only with InitVCAFlat). A run stops when, over a window of iterations, both
// the objective and the endmembers have stopped moving (Config.Tol and
// Config.StopWindow), or at Config.Iterations; Result.StoppedBy says which. The exact objective and h-regulariser of the paper
// are not public; this package implements the reconstruction of the project's
// specification, which marks it as such, and every step provably does not
// increase the objective (rrlbs's Huber scale is re-estimated between
// windows, which changes the objective there). Unless Config.Lambda is set,
// rrlbs chooses its sparsity weight from the data: in proportion to the
// misfit of the start that the bands' noise (NoiseEstimate) does not explain
// (Result.LambdaRule).
//
// Besides the sum-to-one mixing model the iterative methods offer a scaled
// one, y_n ≈ b_n M a_n with a brightness b_n per pixel (Config.Mixing,
// Result.Brightness), for scenes whose illumination varies from pixel to
// pixel, where the sum-to-one model mixes in the darkest endmember as shade.
//
// Evaluate computes the standard metrics against ground truth: SAD per
// endmember after Hungarian matching on the SAD matrix, abundance RMSE, and
// their means. ReadScene loads a published scene (cube, ground truth, initial
// endmembers) from a MAT-file read by package matfile; package envi reads
// ENVI cubes (header and raw BSQ, BIL or BIP data) in the same conventions.
//
// The package imports no service code: computations take a context.Context,
// report through a progress.Func, and return plain values.
package hyperspectral
