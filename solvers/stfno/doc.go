// Package stfno is the space-time Fourier neural operator (ST-FNO) and its
// Spectral-Refiner, after Cao, Brarda, Li and Xi, "Spectral-Refiner:
// Accurate Fine-Tuning of Spatiotemporal Fourier Neural Operator for
// Turbulent Flows" (ICLR 2025); the ST-FNO spec, §2–§3.
//
// An ST-FNO maps a trajectory of T_in vorticity frames on an n×n periodic
// grid to the T_out frames that follow, for any n with 2·modes ≤ n
// (zero-shot super-resolution: train on 32², evaluate on 64²) and any T_in,
// T_out. Its spectral convolutions act jointly in (y, x, t), and its output
// operator, a spectral convolution with a per-mode bias, is a residual in
// time on the last input frame. See Model for the architecture.
//
// Trainer trains a Model with Adam and the one-cycle schedule on random
// windows of stored trajectories (relative L² loss), data-parallel over the
// cores, and saves and restores its whole state at epoch boundaries so that
// resumed runs are bit-identical. Model.Refine is the Spectral-Refiner:
// freeze the network, widen the output operator to more modes and minimise
// an a-posteriori estimator of the prediction (the H⁻¹ norm of the
// Navier–Stokes residual, navierstokes.Estimator) over that layer alone.
//
// # Conventions
//
// Data sets and model inputs are (sample, t, y, x), row-major, as in
// package navierstokes: frame value (i, j) sits at (x_j, y_i). Inside the
// model latent fields are (sample, channel, y, x, t), so that time is the
// real half-spectrum axis of nn.SpectralConv. Everything is float64.
//
// # Differences from the authors' code
//
//   - The positional encoding uses the periodic grid x_j = j/n rather than
//     linspace(0, 1, n), so that the encoding of a 2n grid at its even
//     points is that of the n grid.
//   - The spectral transforms carry 1/N forward and none backward (see
//     nn.SpectralConv), so that temporal resampling preserves amplitudes.
//   - The refiner starts the added modes at exactly zero by default (the
//     paper: Xavier with gain 1e-6), so that its first iterate is the
//     unrefined prediction; RefineConfig.NewWeightGain restores the paper's
//     choice.
//   - Training windows start anywhere in [0, frames − T_in − T_out].
package stfno
