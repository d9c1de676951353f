package krylov_test

import (
	"context"
	"fmt"
	"testing"

	"eddy/solvers/krylov"
)

// BenchmarkSolve times a full solve of the manufactured Poisson problem to a
// relative residual of 1e-8 from x = 0, by CG and by Jacobi-PCG.
func BenchmarkSolve(b *testing.B) {
	for _, tc := range []struct{ dim, n int }{{2, 256}, {3, 64}} {
		a, rhs := manufacturedSystem(b, tc.dim, tc.n)
		diag := make([]float64, a.Len())
		a.Diagonal(diag)
		jac, err := krylov.NewJacobi(diag)
		if err != nil {
			b.Fatal(err)
		}
		x := make([]float64, a.Len())
		for _, m := range []struct {
			name string
			pre  krylov.Preconditioner
		}{{"cg", nil}, {"pcg-jacobi", jac}} {
			b.Run(fmt.Sprintf("dim=%d/n=%d/%s", tc.dim, tc.n, m.name), func(b *testing.B) {
				var res krylov.Result
				for b.Loop() {
					clear(x)
					res, err = krylov.PCG(context.Background(), a, m.pre, rhs, x, krylov.Options{Tol: 1e-8}, nil)
					if err != nil || !res.Converged {
						b.Fatal(res.Converged, err)
					}
				}
				b.ReportMetric(float64(res.Iterations), "iters")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*res.Iterations)/1e3, "µs/iter")
			})
		}
	}
}
