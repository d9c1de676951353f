// Package navierstokes solves the 2-D incompressible Navier–Stokes equations in
// vorticity–streamfunction form on the periodic square [0, L)² with a
// pseudo-spectral Fourier method, and generates the trajectory data sets of
// Cao et al., "Spectral-Refiner" (ICLR 2025), §1 of the ST-FNO spec.
//
// # Equations
//
//	∂t ω + u·∇ω = ν Δω − μ ω + f,   u = (∂y ψ, −∂x ψ),   −Δψ = ω,
//
// with viscosity ν, linear drag μ and a fixed vorticity forcing f; ω has zero
// mean. In Fourier space, with integer wavenumbers m = (m_x, m_y) and
// ξ = 2π m/L, ψ̂ = ω̂/|ξ|² (ψ̂₀ = 0), û = iξ_y ψ̂, v̂ = −iξ_x ψ̂, and
//
//	dω̂/dt = G ω̂ + F(ω̂),   G = −ν|ξ|² − μ,   F = −P(u ∂x ω + v ∂y ω)^ + f̂,
//
// where the products are formed on the grid and P is the 2/3 rule: only modes
// with 3|m_x| < n and 3|m_y| < n are kept (fft.Retained). The initial vorticity
// and the forcing are projected onto the same modes, so the discrete system is
// the Fourier–Galerkin truncation: for ν = μ = f = 0 its energy and enstrophy
// are exact invariants. (The authors' code keeps rows |m_y| < ⌊⌊2n/3⌋/2⌋ and
// columns m_x < ⌊(2/3)(n/2+1)⌋, an asymmetric variant; this package uses the
// symmetric rule.)
//
// # Layout
//
// A grid field is n×n row-major: value (i, j) sits at (x_j, y_i) = (jL/n, iL/n),
// so x is the contiguous (last) axis, the half axis of the real transforms.
//
// # Time stepping
//
// The linear term G, diagonal in Fourier space, is treated implicitly by
// Crank–Nicolson, F explicitly:
//   - imex_euler_cn: ω̂ⁿ⁺¹ = [(1 + ½ΔtG)ω̂ⁿ + Δt F(ω̂ⁿ)]/(1 − ½ΔtG), first order;
//   - rk2_cn: Heun predictor–corrector with CN (Chandler & Kerswell 2013), second order;
//   - rk4_cn: the five-stage low-storage RK4 of Carpenter & Kennedy for F with a
//     CN step per stage for G (as in jax-cfd and torch-cfd); fourth order in F,
//     second order overall because of CN.
//
// Each evaluation of F costs two inverse and two forward real 2-D FFTs (the
// advection term in the form of Basdevant 1983, see Solver.Nonlinear).
package navierstokes
