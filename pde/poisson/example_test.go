package poisson_test

import (
	"context"
	"fmt"
	"log"

	"eddy/pde/poisson"
	"eddy/solvers/krylov"
)

// Solve −Δu = f on the unit square with the manufactured right-hand side by
// conjugate gradients, and compare with the exact solution. The discretisation
// error at n = 64 is about 5e-4 and falls by 4 each time n doubles.
func Example() {
	g, err := poisson.NewGrid(2, 64)
	if err != nil {
		log.Fatal(err)
	}
	a := poisson.NewLaplacian(g)
	f, exact := poisson.Manufactured(g)
	b := make([]float64, g.Len())
	a.RHS(b, f) // b = h²·f, since A = h²·(−Δ_h)
	u := make([]float64, g.Len())
	res, err := krylov.CG(context.Background(), a, b, u, krylov.Options{Tol: 1e-10}, nil)
	if err != nil {
		log.Fatal(err)
	}
	e := poisson.RelL2Error(u, exact)
	fmt.Println("converged:", res.Converged)
	fmt.Println("relative L2 error below 1e-3:", e < 1e-3)
	// Output:
	// converged: true
	// relative L2 error below 1e-3: true
}
