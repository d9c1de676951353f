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

// Solve the pressure system of the smoke scene (open top, a disc and a plate)
// for a random right-hand side by multigrid-preconditioned CG and by
// MIC(0)-PCG on the assembled matrix.
func ExampleNewSystem() {
	cells, err := poisson.Scene("smoke", 2, 64, 0)
	if err != nil {
		log.Fatal(err)
	}
	sys := poisson.NewSystem(cells)
	b := sys.RandomRHS(1)
	opts := krylov.Options{Tol: 1e-6}

	mg, err := krylov.NewMG(sys.A, krylov.MGOptions{})
	if err != nil {
		log.Fatal(err)
	}
	x := make([]float64, sys.Len())
	res, err := krylov.PCG(context.Background(), sys.A, mg, b, x, opts, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("MG-PCG: %d iterations, true residual below 1e-6: %v\n", res.Iterations, res.TrueRelResidual <= 1e-6)

	rp, col, val := sys.A.CSR()
	csr, err := krylov.NewCSR(sys.Len(), rp, col, val)
	if err != nil {
		log.Fatal(err)
	}
	mic, err := krylov.NewIC(csr, krylov.ICOptions{Modified: true})
	if err != nil {
		log.Fatal(err)
	}
	clear(x) // start again from x = 0
	res, err = krylov.PCG(context.Background(), csr, mic, b, x, opts, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("MIC(0)-PCG: %d iterations\n", res.Iterations)
	// Output:
	// MG-PCG: 10 iterations, true residual below 1e-6: true
	// MIC(0)-PCG: 49 iterations
}
