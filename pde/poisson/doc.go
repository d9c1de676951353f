// Package poisson defines cell-centred grid Poisson problems on the unit square
// and the unit cube: the grid, the matrix-free finite-volume Laplacian with
// homogeneous Dirichlet walls, a manufactured problem with a known exact
// solution, and the error measure used to check convergence.
//
// # Discretisation
//
// The domain [0,1]^d (d = 2 or 3) is divided into n^d square cells of side
// h = 1/n. Unknowns live at the cell centres ((i+½)h, (j+½)h[, (k+½)h]) and are
// stored row-major with x fastest: index = j·n + i in 2-D and (k·n + j)·n + i in
// 3-D, i.e. arrays have axes "y,x" and "z,y,x".
//
// The operator is the standard 5-point (2-D) or 7-point (3-D) stencil scaled
// by h²:
//
//	(A u)_c = Σ_{faces f of c} (u_c − u_nb(f))  =  h²·(−Δ_h u)_c,
//
// so A has integer entries: off-diagonal −1 for each neighbouring cell and a
// diagonal of 2d plus one for every face of c that lies on a wall. The wall
// value u = 0 is imposed by ghost-cell reflection, u_ghost = −u_c, which places
// the zero exactly on the wall face. A is symmetric positive definite; its
// eigenvalues lie in (0, 4d]. A system −Δu = f becomes A u = b with b = h²·f
// (see Laplacian.RHS). The discrete solution is second-order accurate in the
// discrete L2 norm.
//
// # Pressure systems on cell grids
//
// Cells labels every cell Fluid, Solid or Air, and each domain face a wall or
// open air; Scene builds the named test scenes (box, open_top, smoke, sphere,
// plate, random) and CellsFromLabels an uploaded one. NewSystem assembles the
// pressure Poisson matrix of a scene (fluid unknowns; a solid neighbour adds
// nothing, an air neighbour adds 1 to the diagonal with p = 0 at its centre;
// same h² scaling) as a Stencil, a variable-coefficient 5/7-point operator
// applied matrix-free or assembled as CSR, on full-grid vectors in which
// solid and air cells carry decoupled identity rows. Closed fluid regions
// (no air, a singular block) are grounded at one cell after the right-hand
// side is projected to zero mean on them (System). Stencil.Coarsen gives the
// Galerkin coarse operators of the multigrid in eddy/solvers/krylov.
//
// Numerical code here imports no service package; the solvers that act on
// these operators live in eddy/solvers/krylov.
package poisson
