// Package krylov solves symmetric positive definite linear systems A x = b by
// Krylov subspace methods: the conjugate gradient method (CG) and
// preconditioned CG (PCG), with the preconditioners Jacobi, IC(0) and MIC(0)
// (IC, on a CSR matrix) and an aggregation multigrid K-cycle on the cell
// grids of eddy/pde/poisson (MG), whose iteration count stays flat as the
// grid grows. A preconditioner that is a nonlinear map (the K-cycle)
// reports it through VariablePreconditioner, and PCG then runs flexible CG.
//
// Operators and preconditioners are matrix-free interfaces (Operator,
// Preconditioner), so a stencil such as eddy/pde/poisson's Laplacian is used
// without ever assembling a matrix. Solvers take a context, checked every
// iteration, and a progress.Func, and return plain values: the package has no
// dependency on the service.
//
// All solvers use the same stopping rule, the relative residual
//
//	‖b − A x_k‖₂ ≤ Tol · ‖b‖₂,
//
// evaluated on the recursively updated residual, and record it at every
// iteration. Failing to reach Tol within MaxIter iterations is a result
// (Result.Converged = false), not an error.
package krylov
