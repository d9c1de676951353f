package krylov_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"eddy/pde/poisson"
	"eddy/progress"
	"eddy/solvers/krylov"
)

// hypreRef holds the reference measurements of the smoke scene (C and hypre
// 2.26 on a 2-core machine, one thread): iterations to 1e-4 and to 1e-6 for
// CG, IC(0), MIC(0) and geometric MG-PCG (PFMG), with seconds where measured.
var hypreRef = map[string]map[string]string{
	"2d-128": {"cg": "523 / 629", "ic0": "160 / 191", "mic0": "70 / 87", "mg": "PFMG 8 / 11"},
	"2d-256": {"cg": "998 / 1227", "ic0": "309 / 380", "mic0": "132 / 162", "mg": "PFMG 8 / 11"},
	"2d-512": {"cg": "— / 2428", "ic0": "— / 757", "mic0": "— / 313", "mg": "PFMG — / 11"},
	"3d-32":  {"cg": "149 / —", "ic0": "48 / —", "mic0": "26 / —", "mg": "PFMG 9 / —"},
	"3d-64":  {"cg": "284 / 422, 1.2 s", "ic0": "92 / 137, 0.98 s", "mic0": "47 / 69, 0.50 s", "mg": "PFMG 9 / 12, 0.13 s"},
	"3d-128": {"cg": "526 / 826, 39 s", "ic0": "172 / 271, 28.6 s", "mic0": "89 / 127, 13.8 s", "mg": "PFMG 8 / 12, 1.85 s (0.94 s on 2 ranks)"},
}

// cpuTime returns the user + system CPU time of the process so far. On a
// shared machine it measures the work where wall time also counts waiting.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPoissonTable solves the smoke scene (N(0,1) right-hand side,
// seed 1, x0 = 0) with CG, IC(0)-, MIC(0)- and MG-PCG at 2-D 128², 256², 512²
// and 3-D 32³, 64³, 128³, once each to 1e-6, and records the iterations and
// the wall time (preconditioner set-up included) at which the relative
// residual first fell below 1e-4 and below 1e-6, and the process CPU time
// to 1e-6 (PCG's vector kernels split over two goroutines from 2^19 cells,
// MG's levels from 2^15 unknowns; the operator is applied in one). It
// prints one Markdown table next to the reference measurements. It runs
// only with EDDY_LONG set (several minutes on two cores); use -benchtime 1x.
func BenchmarkPoissonTable(b *testing.B) {
	if os.Getenv("EDDY_LONG") == "" {
		b.Skip("set EDDY_LONG=1: the table takes minutes")
	}
	var rows []string
	for _, g := range []struct{ dim, n int }{{2, 128}, {2, 256}, {2, 512}, {3, 32}, {3, 64}, {3, 128}} {
		key := fmt.Sprintf("%dd-%d", g.dim, g.n)
		s, a, rhs := sceneCSR(b, "smoke", g.dim, g.n)
		for _, m := range []string{"cg", "ic0", "mic0", "mg"} {
			b.Run(key+"/"+m, func(b *testing.B) {
				var it4, it6 int
				var t4, t6, setup, cpu time.Duration
				for b.Loop() {
					start, cpu0 := time.Now(), cpuTime()
					var pre krylov.Preconditioner
					var err error
					switch m {
					case "ic0", "mic0":
						pre, err = krylov.NewIC(a, krylov.ICOptions{Modified: m == "mic0"})
					case "mg":
						pre, err = krylov.NewMG(s.A, krylov.MGOptions{})
					}
					if err != nil {
						b.Fatal(err)
					}
					setup = time.Since(start)
					it4 = -1
					fn := progress.Func(func(u progress.Update) {
						if it4 < 0 && u.Metrics["rel_residual"] <= 1e-4 {
							fmt.Sscanf(u.Message, "iteration %d", &it4)
							t4 = time.Since(start)
						}
					})
					x := make([]float64, s.Len())
					res, err := krylov.PCG(context.Background(), s.A, pre, rhs, x, krylov.Options{Tol: 1e-6, MaxIter: 20000, ProgressEvery: 1}, fn)
					t6, cpu = time.Since(start), cpuTime()-cpu0
					if err != nil || !res.Converged || res.TrueRelResidual > 1e-6 {
						b.Fatalf("converged %v, true residual %g, %v", res.Converged, res.TrueRelResidual, err)
					}
					it6 = res.Iterations
				}
				b.ReportMetric(float64(it4), "iters-1e-4")
				b.ReportMetric(t4.Seconds(), "s-1e-4")
				b.ReportMetric(float64(it6), "iters-1e-6")
				b.ReportMetric(t6.Seconds(), "s-1e-6")
				b.ReportMetric(setup.Seconds(), "s-setup")
				b.ReportMetric(cpu.Seconds(), "cpu-s-1e-6")
				rows = append(rows, fmt.Sprintf("| %s | %s | %d | %.3g | %d | %.3g | %.3g | %.3g | %s |",
					key, m, it4, t4.Seconds(), it6, t6.Seconds(), cpu.Seconds(), setup.Seconds(), hypreRef[key][m]))
			})
		}
	}
	if len(rows) == 0 { // every case filtered out by -bench
		return
	}
	// Printed indented, as bench/run.sh keeps indented lines in its report.
	fmt.Println("    | grid | method | iters 1e-4 | s 1e-4 | iters 1e-6 | s 1e-6 | CPU s 1e-6 | set-up s | reference iters 1e-4 / 1e-6, s |\n    |---|---|---|---|---|---|---|---|---|\n    " + strings.Join(rows, "\n    "))
}

// BenchmarkPoissonTableMG runs MG-PCG alone on the smoke, sphere and random
// scenes (N(0,1) right-hand side, seed 1, x0 = 0) at 2-D 128², 256², 512²
// and 3-D 32³, 64³, 128³: the default K-cycle with flexible CG, and the
// V-cycle variant with plain PCG. It records the iterations to 1e-4 and
// 1e-6, the growth of the latter per doubling of n, the set-up and total
// wall time, the process CPU time (both goroutines; set-up included), the
// levels and the hierarchy's memory, and prints one Markdown table. It runs
// only with EDDY_LONG set; use -benchtime 1x.
func BenchmarkPoissonTableMG(b *testing.B) {
	if os.Getenv("EDDY_LONG") == "" {
		b.Skip("set EDDY_LONG=1: the table takes a minute")
	}
	var rows []string
	for _, v := range []struct {
		name string
		o    krylov.MGOptions
	}{{"K", krylov.MGOptions{}}, {"V", krylov.MGOptions{VCycle: true}}} {
		for _, scene := range []string{"smoke", "sphere", "random"} {
			prev := map[int]int{}
			for _, g := range []struct{ dim, n int }{{2, 128}, {2, 256}, {2, 512}, {3, 32}, {3, 64}, {3, 128}} {
				if v.name == "V" && scene != "smoke" {
					continue
				}
				c, err := poisson.Scene(scene, g.dim, g.n, 3)
				if err != nil {
					b.Fatal(err)
				}
				s := poisson.NewSystem(c)
				rhs := s.RandomRHS(1)
				key := fmt.Sprintf("%dd-%d", g.dim, g.n)
				b.Run(v.name+"/"+scene+"/"+key, func(b *testing.B) {
					var it4, it6, levels int
					var setup, total, cpu time.Duration
					var bytes int64
					for b.Loop() {
						start, cpu0 := time.Now(), cpuTime()
						mg, err := krylov.NewMG(s.A, v.o)
						if err != nil {
							b.Fatal(err)
						}
						setup = time.Since(start)
						levels, bytes = mg.Levels(), mg.Bytes()
						x := make([]float64, s.Len())
						res, err := krylov.PCG(context.Background(), s.A, mg, rhs, x, krylov.Options{Tol: 1e-6, MaxIter: 500}, nil)
						total, cpu = time.Since(start), cpuTime()-cpu0
						if err != nil || !res.Converged || res.TrueRelResidual > 1e-6 {
							b.Fatalf("converged %v, true residual %g, %v", res.Converged, res.TrueRelResidual, err)
						}
						it6 = res.Iterations
						it4 = slices.IndexFunc(res.History, func(r float64) bool { return r <= 1e-4 })
					}
					b.ReportMetric(float64(it4), "iters-1e-4")
					b.ReportMetric(float64(it6), "iters-1e-6")
					b.ReportMetric(setup.Seconds(), "s-setup")
					b.ReportMetric(total.Seconds(), "s-1e-6")
					b.ReportMetric(cpu.Seconds(), "cpu-s-1e-6")
					growth := "—"
					if p := prev[g.dim]; p > 0 {
						growth = fmt.Sprintf("%.2f", float64(it6)/float64(p))
					}
					prev[g.dim] = it6
					rows = append(rows, fmt.Sprintf("| %s | %s | %s | %d | %d | %s | %.3g | %.3g | %.3g | %.3g | %d | %.1f | %s |",
						key, scene, v.name, it4, it6, growth, setup.Seconds(), (total-setup).Seconds(), total.Seconds(), cpu.Seconds(), levels, float64(bytes)/(1<<20), hypreRef[key]["mg"]))
				})
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Println("    | grid | scene | cycle | iters 1e-4 | iters 1e-6 | growth 1e-6 | set-up s | solve s 1e-6 | total s 1e-6 | CPU s 1e-6 | levels | MiB | reference (smoke) iters 1e-4 / 1e-6, s |\n    |---|---|---|---|---|---|---|---|---|---|---|---|---|\n    " + strings.Join(rows, "\n    "))
}
