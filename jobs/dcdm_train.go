package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"time"

	"eddy/hdf5io"
	"eddy/nn"
	"eddy/pde/poisson"
	"eddy/progress"
	"eddy/solvers/dcdm"
	"eddy/storage"
)

// DCDMTrainParams are the params of dcdm.train: the training matrix (a
// pressure system of pde/poisson), the network's depth and the schedule
// (dcdm.TrainConfig, whose json names are the API).
type DCDMTrainParams struct {
	Dim       int    `json:"dim" enum:"2|3" doc:"spatial dimension of the training matrix and of the network (3×3 or 3×3×3 convolutions); a model solves systems of this dimension only"`
	N         int    `json:"n" min:"4" max:"512" doc:"cells per side of the training grid (n^dim cells); a multiple of 2^levels. The trained model applies unchanged to other grid sizes"`
	Scene     string `json:"scene" enum:"box|open_top|smoke|sphere|plate|random" doc:"scene of the training matrix (see poisson.solve); the authors train on the obstacle-free domain, here open_top (walls, open top)"`
	SceneSeed uint64 `json:"scene_seed" min:"0" max:"9007199254740991" doc:"seed of the obstacles of scene random"`
	Levels    int    `json:"levels" min:"1" max:"6" doc:"pool/upsample levels of the network: 1 is the authors' layout (one level, 3 residual blocks at half resolution); more levels nest the same structure for a larger receptive field (trained at 32², 2 levels needed about twice the iterations of 1 at 64² and did not reach 1e-4 in 400 at 128² with 2 directions: not recommended)"`
	Bias      bool   `json:"bias" doc:"give the convolutions biases, as the authors' layout has. Off by default: a network without biases is positively homogeneous (f(c·r) = c·f(r)), so the per-cell size of its unit-norm input, which shrinks as the grid grows, does not change its directions; trained at 32², it then beats IC(0) at 64² and 128², which with biases it does not"`
	dcdm.TrainConfig
}

// Validate checks that the grid fits the network, the size bound, and the
// Lanczos steps the fluid cells of the training scene (a closed pocket of a
// random scene grounds one more cell; the run then reports it).
func (p *DCDMTrainParams) Validate(c *Checker) {
	if p.N%(1<<p.Levels) != 0 {
		c.Fail("/n", "is %d; the network's %d pooling level(s) need a multiple of %d", p.N, p.Levels, 1<<p.Levels)
		return
	}
	if p.cells() > maxTrainCells {
		c.Fail("/n", "%d^%d cells; training grids have at most %d cells (the model applies to larger grids)", p.N, p.Dim, maxTrainCells)
		return
	}
	if int64(p.LanczosSteps)*p.cells() > 1<<30 {
		c.Fail("/lanczos_steps", "%d Lanczos vectors of %d cells need %d MiB; at most 8 GiB", p.LanczosSteps, p.cells(), int64(p.LanczosSteps)*p.cells()*8>>20)
		return
	}
	cells, err := poisson.Scene(p.Scene, p.Dim, p.N, p.SceneSeed)
	if err != nil {
		c.Fail("/scene", "%v", err)
		return
	}
	if u := cells.Count(poisson.Fluid); p.LanczosSteps > u {
		c.Fail("/lanczos_steps", "is %d; the training matrix has %d unknowns, the most Lanczos steps there can be", p.LanczosSteps, u)
	}
}

// maxTrainCells bounds the training grid (128³, 2048²): Lanczos vectors,
// activations and the epochs' cost grow with it, and a fully convolutional
// model is trained small and applied large.
const maxTrainCells = 1 << 22

func (p *DCDMTrainParams) cells() int64 { return gridCells(p.Dim, p.N) }

// gridCells returns n^dim, the cells of a dim-dimensional grid of n per axis.
func gridCells(dim, n int) int64 {
	c := int64(1)
	for range dim {
		c *= int64(n)
	}
	return c
}

// system builds the training matrix.
func (p *DCDMTrainParams) system() (*poisson.System, error) {
	cells, err := poisson.Scene(p.Scene, p.Dim, p.N, p.SceneSeed)
	if err != nil {
		return nil, err
	}
	return poisson.NewSystem(cells), nil
}

// unknowns counts the active cells of a.
func unknowns(a *poisson.Stencil) int {
	k := 0
	for _, in := range a.Inactive {
		if !in {
			k++
		}
	}
	return k
}

// memory is the Lanczos basis (m vectors of the grid), three dense m×m
// matrices of the eigendecomposition, and per worker the network's
// activations and gradients: about 12 width-channel grid tensors per
// residual block and the batch, in float64.
func (p *DCDMTrainParams) memory(map[string]*storage.Upload) int64 {
	m, cells := int64(p.LanczosSteps), p.cells()
	c := dcdm.DefaultConfig(p.Dim)
	blocks := int64(2 + c.PreBlocks + c.PostBlocks + c.CoarseBlocks)
	act := 12 * blocks * int64(c.Width) * cells * 8 * int64(p.Batch)
	return 8*m*cells + 3*8*m*m + act + 64<<20
}

func init() {
	Register(Spec[*DCDMTrainParams]{
		Name:  "dcdm.train",
		Title: "DCDM: train the search-direction network of the Deep Conjugate Direction Method",
		Description: "Trains the convolutional network of the Deep Conjugate Direction Method (Kaneda et al., ICML 2023) on the " +
			"pressure Poisson matrix A of a scene: training vectors are random combinations of Ritz vectors from a Lanczos run " +
			"with full reorthogonalisation (the lowest m/2 + Θ weighted 9×, each normalised), and the loss is the scale-invariant " +
			"‖b − αAf(b)‖² with the exact line search α = f(b)ᵀb / f(b)ᵀAf(b), which needs no reference solutions; Adam. The " +
			"result's model is used by poisson.solve (method dcdm, param model) on any grid size. Deterministic for a given seed " +
			"and thread count. Checkpoints at epoch boundaries; an interrupted run resumes from the last one.",
		Defaults: func() *DCDMTrainParams {
			return &DCDMTrainParams{Dim: 2, N: 32, Scene: "open_top", Levels: 1,
				TrainConfig: dcdm.TrainConfig{Epochs: 16, Samples: 1000, Batch: 10, LR: 3e-4, LanczosSteps: 1000, Theta: 50}}
		},
		Outputs: []string{"model", "loss", "ritz_values", "labels"},
		Metrics: map[string]string{
			"loss":            "float64: mean training loss ‖b − αAf(b)‖² of the last epoch (1 is no better than α = 0; unit-norm b)",
			"first_loss":      "float64: the same in the first epoch",
			"epochs":          "int64: epochs trained",
			"resumed_epoch":   "int64: the epoch a checkpoint let this run resume from (0: trained from the start)",
			"steps":           "int64: Adam steps",
			"parameters":      "int64: trainable parameters of the network",
			"lanczos_steps":   "int64: Lanczos steps taken (fewer than asked when the Krylov space became invariant)",
			"ritz_values":     "int64: Ritz pairs kept (θ > 1e-8)",
			"ritz_min":        "float64: smallest kept Ritz value",
			"ritz_max":        "float64: largest Ritz value",
			"lanczos_seconds": "float64: wall time of the Lanczos run and the eigendecomposition, in seconds",
			"seconds":         "float64: wall time of the whole training, in seconds",
			"gflop_inference": "float64: floating-point operations of one inference on the training grid, in GFLOP",
		},
		Class:       ClassTrain,
		Timeout:     12 * time.Hour,
		MaxAttempts: 3,
		Run:         runDCDMTrain,
		Memory:      (*DCDMTrainParams).memory,
		MemoryParam: "/n",
	})
}

// dcdmRecord is what a trained model records of its training, as the JSON
// attribute training of the result's /model group.
type dcdmRecord struct {
	Dim       int    `json:"dim"`
	N         int    `json:"n"`
	Scene     string `json:"scene"`
	SceneSeed uint64 `json:"scene_seed"`
	dcdm.TrainConfig
}

func runDCDMTrain(ctx context.Context, p *DCDMTrainParams, env *Env) error {
	start := time.Now()
	env.UseSeed(p.Seed)
	if p.Scene == "random" {
		env.UseSeed(p.SceneSeed)
	}
	sys, err := p.system()
	if err != nil {
		return Permanent(err)
	}
	cfg := dcdm.DefaultConfig(p.Dim)
	cfg.Levels = p.Levels
	cfg.NoBias = !p.Bias
	env.Stage("Lanczos run of %d steps on the %d unknowns of the training matrix", p.LanczosSteps, unknowns(sys.A))
	tr, err := dcdm.NewTrainer(ctx, sys.A, cfg, p.TrainConfig, runtime.GOMAXPROCS(0))
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return Permanent(err)
	}
	lanczos := time.Since(start)
	resumed, err := env.Resume(tr.ReadState)
	if err != nil {
		env.Warn("%v", err)
	}
	resumedAt := 0
	if resumed {
		resumedAt = tr.Epoch()
		env.Stage("resumed at epoch %d of %d from a checkpoint", resumedAt, p.Epochs)
	}
	for tr.Epoch() < p.Epochs {
		e := tr.Epoch()
		st, err := tr.RunEpoch(ctx, func(done, total int) {
			env.Progress.Report(progress.Update{
				Fraction: (float64(e) + float64(done)/float64(total)) / float64(p.Epochs),
				Message:  fmt.Sprintf("epoch %d of %d, step %d of %d", e+1, p.Epochs, done, total),
			})
		})
		if err != nil {
			return err
		}
		env.Progress.Report(progress.Update{
			Fraction: float64(tr.Epoch()) / float64(p.Epochs),
			Message:  fmt.Sprintf("epoch %d of %d: loss %.4g", tr.Epoch(), p.Epochs, st.Loss),
			Metrics:  map[string]float64{"epoch": float64(tr.Epoch()), "loss": st.Loss},
		})
		if tr.Epoch() < p.Epochs && env.CheckpointDue() {
			if err := env.Checkpoint(tr.WriteState); err != nil {
				env.Stage("checkpoint at epoch %d not saved: %v", tr.Epoch(), err)
			}
		}
	}
	m := tr.Model()
	w := env.Out
	if err := m.Write(w, "model"); err != nil {
		return fmt.Errorf("writing the model: %w", err)
	}
	text, _ := json.Marshal(dcdmRecord{Dim: p.Dim, N: p.N, Scene: p.Scene, SceneSeed: p.SceneSeed, TrainConfig: p.TrainConfig})
	if err := w.SetAttrString("/model", "training", string(text)); err != nil {
		return err
	}
	hist := tr.History()
	loss := make([]float64, len(hist))
	for i, h := range hist {
		loss[i] = h.Loss
	}
	ritz := tr.Ritz()
	g, _ := poisson.NewGrid(p.Dim, p.N)
	dims := "y,x"
	if p.Dim == 3 {
		dims = "z,y,x"
	}
	labels := make([]uint8, len(sys.Cells.Label))
	for i, l := range sys.Cells.Label {
		labels[i] = uint8(l)
	}
	if err := w.WriteFloat64("loss", loss, []int{len(loss)}, "epoch", ""); err != nil {
		return err
	}
	if err := w.WriteFloat64("ritz_values", ritz.Values, []int{len(ritz.Values)}, "pair", ""); err != nil {
		return err
	}
	if err := w.WriteUint8("labels", labels, g.Shape(), dims, ""); err != nil {
		return err
	}
	env.Metrics["loss"] = loss[len(loss)-1]
	env.Metrics["first_loss"] = loss[0]
	env.Metrics["epochs"] = p.Epochs
	env.Metrics["resumed_epoch"] = resumedAt
	env.Metrics["steps"] = tr.StepsPerEpoch() * p.Epochs
	env.Metrics["parameters"] = nn.CountParams(m.Params())
	env.Metrics["lanczos_steps"] = ritz.Steps
	env.Metrics["ritz_values"] = len(ritz.Values)
	env.Metrics["ritz_min"] = ritz.Values[0]
	env.Metrics["ritz_max"] = ritz.Values[len(ritz.Values)-1]
	env.Metrics["lanczos_seconds"] = lanczos.Seconds()
	env.Metrics["seconds"] = time.Since(start).Seconds()
	env.Metrics["gflop_inference"] = m.FLOPs(len(labels)) / 1e9
	return nil
}

// readDCDMModel reads the model of a dcdm.train result.
func readDCDMModel(path string) (*dcdm.Model, *dcdmRecord, error) {
	f, err := hdf5io.Open(path)
	if err != nil {
		return nil, nil, Permanent(fmt.Errorf("model: %w", err))
	}
	defer f.Close()
	m, err := dcdm.Read(f, "model")
	if err != nil {
		return nil, nil, Permanent(fmt.Errorf("model: %w", err))
	}
	var rec dcdmRecord
	text, err := f.AttrString("/model", "training")
	if err != nil {
		return nil, nil, Permanent(fmt.Errorf("model: %w", err))
	}
	if err := json.Unmarshal([]byte(text), &rec); err != nil {
		return nil, nil, Permanent(fmt.Errorf("model: training record: %w", err))
	}
	return m, &rec, nil
}
