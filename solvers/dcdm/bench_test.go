package dcdm

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"eddy/pde/poisson"
	"eddy/progress"
	"eddy/solvers/krylov"
)

// BenchmarkDCDMTable trains the authors' N = 64 layout (one pooling level)
// on the open_top scene — 2-D at 32² and 3-D at 16³, 1000 Lanczos steps,
// Θ = 50, 1000 training vectors, 16 epochs of Adam 3e-4, seed 1 — twice: as
// dcdm.train does by default (no biases) and with the authors' biases; and
// applies each unchanged to the smoke scene and to an unseen random-obstacle
// scene (seed 3) at 64²–512² and 32³–64³ (N(0,1) right-hand side, seed 1,
// x0 = 0), next to CG, IC(0)-, MIC(0)- and MG-PCG on the same systems in the
// same run. DCDM runs keeping 30 directions (poisson.solve's default) and 2
// (the authors'). It records the iterations and wall time at which the
// relative residual first fell below 1e-4 and 1e-6 (DCDM capped at 400
// iterations: "—" when not reached) and the network's share of DCDM's
// time, and prints one Markdown table. It runs only with EDDY_LONG set; use
// -benchtime 1x.
func BenchmarkDCDMTable(b *testing.B) {
	if os.Getenv("EDDY_LONG") == "" {
		b.Skip("set EDDY_LONG=1: training takes minutes")
	}
	ctx := context.Background()
	type variant struct {
		model *Model
		dirs  int
	}
	variants := map[string]variant{}
	for _, t := range []struct {
		dim, n int
		bias   bool
	}{{2, 32, false}, {2, 32, true}, {3, 16, false}} {
		train := system(b, "open_top", t.dim, t.n)
		tc := TrainConfig{Epochs: 16, Samples: 1000, Batch: 10, LR: 3e-4, LanczosSteps: 1000, Theta: 50, Seed: 1}
		cfg := DefaultConfig(t.dim)
		cfg.NoBias = !t.bias
		start := time.Now()
		tr, err := NewTrainer(ctx, train.A, cfg, tc, runtime.GOMAXPROCS(0))
		if err != nil {
			b.Fatal(err)
		}
		var losses []string
		for tr.Epoch() < tc.Epochs {
			st, err := tr.RunEpoch(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			losses = append(losses, fmt.Sprintf("%.3g", st.Loss))
		}
		name := "dcdm"
		if t.bias {
			name = "dcdm-bias"
		}
		fmt.Printf("    %s (%d-D): trained at %d^%d (open_top) in %.0f s wall, loss per epoch %s\n\n", name, t.dim, t.n, t.dim, time.Since(start).Seconds(), strings.Join(losses, " "))
		key := fmt.Sprintf("%d/", t.dim)
		variants[key+name+"-30"] = variant{tr.Model(), 30}
		variants[key+name+"-2"] = variant{tr.Model(), 2}
	}
	var rows []string
	for _, sys := range []struct {
		scene  string
		dim, n int
	}{
		{"smoke", 2, 64}, {"smoke", 2, 128}, {"smoke", 2, 256}, {"smoke", 2, 512},
		{"random", 2, 64}, {"random", 2, 128}, {"random", 2, 256},
		{"smoke", 3, 32}, {"smoke", 3, 64}, {"random", 3, 32},
	} {
		c, err := poisson.Scene(sys.scene, sys.dim, sys.n, 3)
		if err != nil {
			b.Fatal(err)
		}
		s := poisson.NewSystem(c)
		rhs := s.RandomRHS(1)
		key := fmt.Sprintf("%dd-%d", sys.dim, sys.n)
		for _, meth := range []string{"dcdm-30", "dcdm-2", "dcdm-bias-30", "dcdm-bias-2", "cg", "ic0", "mic0", "mg"} {
			v, isDCDM := variants[fmt.Sprintf("%d/", sys.dim)+meth]
			if strings.HasPrefix(meth, "dcdm") && !isDCDM {
				continue
			}
			b.Run(sys.scene+"/"+key+"/"+meth, func(b *testing.B) {
				var it4, it6 int
				var t4, t6 time.Duration
				share := "—"
				for b.Loop() {
					start := time.Now()
					it4, it6 = -1, -1
					fn := progress.Func(func(u progress.Update) {
						r := u.Metrics["rel_residual"]
						if it4 < 0 && r <= 1e-4 {
							fmt.Sscanf(u.Message, "iteration %d", &it4)
							t4 = time.Since(start)
						}
					})
					x := make([]float64, s.Len())
					opts := krylov.Options{Tol: 1e-6, MaxIter: 20000, ProgressEvery: 1}
					var res krylov.Result
					if isDCDM {
						opts.MaxIter = 400
						r, err := Solve(ctx, v.model, s.A, rhs, x, Options{Options: opts, Directions: v.dirs}, fn)
						if err != nil {
							b.Fatal(err)
						}
						res = r.Result
						share = fmt.Sprintf("%.0f%%", 100*r.NetworkSeconds/time.Since(start).Seconds())
					} else {
						var pre krylov.Preconditioner
						var err error
						switch meth {
						case "ic0", "mic0":
							rp, col, val := s.A.CSR()
							var a *krylov.CSR
							if a, err = krylov.NewCSR(s.Len(), rp, col, val); err == nil {
								pre, err = krylov.NewIC(a, krylov.ICOptions{Modified: meth == "mic0"})
							}
						case "mg":
							pre, err = krylov.NewMG(s.A, krylov.MGOptions{})
						}
						if err != nil {
							b.Fatal(err)
						}
						if res, err = krylov.PCG(ctx, s.A, pre, rhs, x, opts, fn); err != nil {
							b.Fatal(err)
						}
					}
					t6 = time.Since(start)
					if res.Converged {
						it6 = res.Iterations
					}
					if it4 < 0 {
						it4 = slices.IndexFunc(res.History, func(r float64) bool { return r <= 1e-4 })
					}
				}
				cell := func(it int, t time.Duration) string {
					if it < 0 {
						return "— | —"
					}
					return fmt.Sprintf("%d | %.3g", it, t.Seconds())
				}
				b.ReportMetric(float64(it4), "iters-1e-4")
				b.ReportMetric(float64(it6), "iters-1e-6")
				rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s | %s |", key, sys.scene, meth, cell(it4, t4), cell(it6, t6), share))
			})
		}
	}
	if len(rows) == 0 {
		return
	}
	m2, m3 := variants["2/dcdm-30"].model, variants["3/dcdm-30"].model
	fmt.Printf("    network: %d parameters (2-D), %d (3-D); %.2f GFLOP per inference at 128², %.2f at 512², %.1f at 64³\n\n", nnParams(m2), nnParams(m3), m2.FLOPs(128*128)/1e9, m2.FLOPs(512*512)/1e9, m3.FLOPs(64*64*64)/1e9)
	fmt.Println("    | grid | scene | method | iters 1e-4 | wall s 1e-4 | iters 1e-6 | wall s 1e-6 | network share |\n    |---|---|---|---|---|---|---|---|\n    " + strings.Join(rows, "\n    "))
}

func nnParams(m *Model) int {
	k := 0
	for _, p := range m.Params() {
		k += p.Value.Len()
	}
	return k
}
