package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"eddy/hdf5io"
	"eddy/nn"
	"eddy/pde/navierstokes"
	"eddy/progress"
	"eddy/solvers/stfno"
)

// STFNOPredictParams are the params of stfno.predict.
type STFNOPredictParams struct {
	Model   string `json:"model" required:"true" ref:"job:stfno.train" datasets:"val_rel_l2:1" doc:"id of the stfno.train job whose model predicts (a queued or running one is waited for)"`
	Dataset string `json:"dataset,omitempty" ref:"upload|job:navier_stokes.simulate" datasets:"vorticity:4" doc:"id of the trajectories to predict, a navier_stokes.simulate job or an upload with vorticity (sample, t, y, x) on any square grid at least as fine as the model's modes need (zero-shot on finer grids than trained on); empty means the model's training data set"`
	Samples []int  `json:"samples,omitempty" min:"0" max:"1048575" doc:"indices of the trajectories to predict, distinct; default: on the model's training data set its validation trajectories (never training ones), on another data set all of them"`
	Start   int    `json:"start" min:"0" max:"1000000" doc:"frame index of the first input frame: the model reads frames start … start + t_in − 1 and predicts the t_out frames after them"`
	TOut    int    `json:"t_out" min:"0" max:"1000" doc:"frames to predict; 0 means the model's t_out (the network resamples in time, so other lengths are allowed; accuracy is known only for the trained one)"`
	Refine  bool   `json:"refine" doc:"run the Spectral-Refiner on each trajectory: widen the output layer to the dealiasing limit of the grid and fit it, alone, to minimise the a-posteriori estimator (the H⁻¹ norm of the Navier–Stokes residual of the prediction); needs no ground truth"`
	stfno.RefineConfig
	ResidualMode navierstokes.ResidualMode `json:"residual_mode" enum:"trajectory_bdf2|solver_micro_step" doc:"how the estimator's residual takes ∂ω/∂t: trajectory_bdf2, by second-order backward differences of the predicted frames (the paper's intent); solver_micro_step, from ±δt IMEX Euler–CN micro-steps at each frame (the authors' code), a stationary high-frequency residual"`
	navierstokes.Flow
	FrameDt float64 `json:"frame_dt" gt:"0" max:"1e9" doc:"time between frames of an uploaded data set, in time units, for the estimator; like the flow params (length, viscosity, forcing, drag, wavenumber) it describes an upload, as a navier_stokes.simulate result records its own"`
}

// Validate checks the params against each other.
func (p *STFNOPredictParams) Validate(c *Checker) {
	seen := map[int]bool{}
	for i, s := range p.Samples {
		if seen[s] {
			c.Fail(fmt.Sprintf("/samples/%d", i), "sample %d is listed twice", s)
		}
		seen[s] = true
	}
}

func init() {
	Register(Spec[*STFNOPredictParams]{
		Name:  "stfno.predict",
		Title: "ST-FNO: predict Navier–Stokes trajectories, optionally refined by the Spectral-Refiner",
		Description: "Predicts, with a model of stfno.train, the t_out vorticity frames that follow t_in given frames of each " +
			"trajectory, on the training grid or a finer one (zero-shot), and optionally refines each prediction with the " +
			"Spectral-Refiner of Cao et al. (ICLR 2025): the output spectral layer, widened to the dealiasing limit of the grid, " +
			"is fitted alone to minimise the a-posteriori estimator, the L²(0,T;H⁻¹) norm of the Navier–Stokes residual " +
			"(Σ_j Δt Σ_m L²(α + |ξ_m|²)⁻¹ |R̂_m(t_j)|², α = 10^(−3/2))^(1/2) of the predicted trajectory, which needs no ground " +
			"truth. The estimator needs the flow: a navier_stokes.simulate result records it; for an upload, give it with " +
			"length, viscosity, forcing, drag, wavenumber and frame_dt. When the data set holds the frames predicted, the " +
			"relative L2 errors are reported too. Deterministic.",
		Defaults: func() *STFNOPredictParams {
			return &STFNOPredictParams{ResidualMode: navierstokes.ResidualTrajectoryBDF2, Flow: defaultFlow(), FrameDt: defaultFrameDt(),
				RefineConfig: stfno.RefineConfig{Iterations: 100, BiasLR: 20, WeightLR: 1e-4}}
		},
		Outputs: []string{"prediction", "samples", "estimator_before", "estimator_repo_before", "rel_l2_before", "persistence_rel_l2", "estimator_truth", "prediction_unrefined", "refine_estimator", "estimator_after", "estimator_repo_after", "rel_l2_after"},
		Metrics: map[string]string{
			"rel_l2_before":         "float64: mean over the trajectories of the relative L2 error (Bochner L²(0,T;L²)) of the network's prediction, when the data set holds the predicted frames",
			"rel_l2_after":          "float64: the same after refinement",
			"persistence_rel_l2":    "float64: the same for the persistence baseline (every frame = the last input frame)",
			"estimator_before":      "float64: mean a-posteriori estimator η₋₁ (L²(0,T;H⁻¹) norm of the residual, residual_mode) of the network's prediction",
			"estimator_after":       "float64: the same after refinement",
			"estimator_repo_before": "float64: the authors' repository metric (H^(−1/2)-weighted micro-step residual, spec §3.1) of the network's prediction, for comparison with their notebooks",
			"estimator_repo_after":  "float64: the same after refinement",
			"estimator_truth":       "float64: η₋₁ of the true frames, when the data set holds them: the floor a prediction can reach",
			"resolution":            "int64: grid side of the prediction",
			"trained_resolution":    "int64: grid side the model was trained on",
			"seconds_predict":       "float64: wall time of the network's predictions, in seconds, all trajectories",
			"seconds_refine":        "float64: wall time of the refinement, in seconds, all trajectories",
		},
		Timeout:     6 * time.Hour,
		MaxAttempts: 2,
		Run:         runSTFNOPredict,
	})
}

// trainedModel is a model read from a stfno.train result.
type trainedModel struct {
	model *stfno.Model
	rec   stfnoRecord
	val   []int // the validation split
}

func readTrainedModel(path string) (*trainedModel, error) {
	f, err := hdf5io.Open(path)
	if err != nil {
		return nil, Permanent(fmt.Errorf("model: %w", err))
	}
	defer f.Close()
	m, err := stfno.Read(f, "model")
	if err != nil {
		return nil, Permanent(fmt.Errorf("model: %w", err))
	}
	t := &trainedModel{model: m}
	text, err := f.AttrString("/model", "training")
	if err != nil {
		return nil, Permanent(fmt.Errorf("model: %w", err))
	}
	if err := json.Unmarshal([]byte(text), &t.rec); err != nil {
		return nil, Permanent(fmt.Errorf("model: training record: %w", err))
	}
	val, _, err := f.ReadInt64("split_val")
	if err != nil {
		return nil, Permanent(fmt.Errorf("model: %w", err))
	}
	for _, v := range val {
		t.val = append(t.val, int(v))
	}
	return t, nil
}

func runSTFNOPredict(ctx context.Context, p *STFNOPredictParams, env *Env) error {
	modelPath, err := env.Resolve(p.Model)
	if err != nil {
		return err
	}
	tm, err := readTrainedModel(modelPath)
	if err != nil {
		return err
	}
	datasetID := p.Dataset
	if datasetID == "" {
		datasetID = tm.rec.Dataset
	}
	dataPath, err := env.Resolve(datasetID)
	if err != nil {
		return fmt.Errorf("the data set %s: %w", datasetID, err)
	}
	env.Stage("reading the data set")
	d, err := readFlowData(dataPath)
	if err != nil {
		return err
	}
	flow, frameDt := p.Flow, p.FrameDt
	if d.hasFlow {
		flow, frameDt = d.flow, d.frameDt
	}
	tIn, tOut := tm.rec.TIn, p.TOut
	if tOut == 0 {
		tOut = tm.rec.TOut
	}
	samples := p.Samples
	if len(samples) == 0 {
		if datasetID == tm.rec.Dataset {
			samples = tm.val
		} else {
			for i := range d.samples {
				samples = append(samples, i)
			}
		}
	}
	var c Checker
	for i, s := range samples {
		if s >= d.samples {
			c.Fail(fmt.Sprintf("/samples/%d", i), "sample %d does not exist: the data set has samples 0 to %d", s, d.samples-1)
		}
	}
	if p.Start+tIn > d.frames {
		c.Fail("/start", "is %d: the %d input frames from it do not fit the data set's %d frames", p.Start, tIn, d.frames)
	}
	if m := max(tm.model.ModesX, tm.model.ModesY); d.n < 2*m {
		c.Fail("/dataset", "its %d×%d grid holds fewer than the model's %d×%d modes", d.n, d.n, tm.model.ModesX, tm.model.ModesY)
	}
	if err := c.Err(); err != nil {
		return err
	}
	n, area := d.n, d.n*d.n
	haveTruth := p.Start+tIn+tOut <= d.frames
	if !haveTruth {
		env.Warn("the data set ends before the predicted frames (start %d + %d + %d > %d frames): no errors against the truth", p.Start, tIn, tOut, d.frames)
	}
	if d.hasFlow && (p.Flow != defaultFlow() || p.FrameDt != defaultFrameDt()) {
		env.Warn("flow and frame_dt ignored: the data set records its own (viscosity %g, length %g, forcing %s, frame spacing %g)", flow.Viscosity, flow.Length, flow.Forcing, frameDt)
	}
	estimator := func(mode navierstokes.ResidualMode) (*navierstokes.Estimator, error) {
		e, err := navierstokes.NewEstimator(navierstokes.EstimatorConfig{N: n, Flow: flow, FrameDt: frameDt, Mode: mode})
		if err != nil {
			return nil, Permanent(fmt.Errorf("the estimator: %w", err))
		}
		return e, nil
	}
	est, err := estimator(p.ResidualMode)
	if err != nil {
		return err
	}
	repo, err := estimator(navierstokes.ResidualSolverMicroStep)
	if err != nil {
		return err
	}

	S := len(samples)
	r := stfnoPrediction{samples: samples, tOut: tOut, n: n, refine: p.Refine, iterations: p.Iterations, truth: haveTruth}
	r.alloc()
	for k, s := range samples {
		if err := ctx.Err(); err != nil {
			return err
		}
		env.Progress.Report(progress.Update{Fraction: float64(k) / float64(S),
			Message: fmt.Sprintf("trajectory %d of %d", k+1, S)})
		traj := d.vorticity[s*d.frames*area : (s+1)*d.frames*area]
		in := traj[p.Start*area : (p.Start+tIn)*area]
		t0 := time.Now()
		before := slices.Clone(tm.model.Forward(nn.TensorFrom(slices.Clone(in), 1, tIn, n, n), tOut).Data)
		r.secondsPredict += time.Since(t0).Seconds()
		after := before
		if p.Refine {
			res, err := tm.model.Refine(ctx, in, tIn, tOut, n, est, in, p.RefineConfig)
			if err != nil {
				return err
			}
			r.secondsRefine += res.Seconds
			after = res.After
			copy(r.unrefined[k*tOut*area:], before)
			copy(r.loss[k*(p.Iterations+1):], res.Loss)
		}
		copy(r.prediction[k*tOut*area:], after)
		r.etaBefore[k] = est.Eval(in, before, tOut, nil)
		r.repoBefore[k] = repo.Repo(in, before, tOut)
		r.etaAfter[k] = est.Eval(in, after, tOut, nil)
		r.repoAfter[k] = repo.Repo(in, after, tOut)
		if haveTruth {
			truth := traj[(p.Start+tIn)*area : (p.Start+tIn+tOut)*area]
			r.relBefore[k] = stfno.RelL2(before, truth, tOut, n)
			r.relAfter[k] = stfno.RelL2(after, truth, tOut, n)
			persist := make([]float64, tOut*area)
			for j := range tOut {
				copy(persist[j*area:], in[(tIn-1)*area:])
			}
			r.persistence[k] = stfno.RelL2(persist, truth, tOut, n)
			r.etaTruth[k] = est.Eval(in, truth, tOut, nil)
		}
		msg := fmt.Sprintf("trajectory %d of %d: estimator %.3g", k+1, S, r.etaBefore[k])
		if p.Refine {
			msg += fmt.Sprintf(" → %.3g", r.etaAfter[k])
		}
		env.Progress.Report(progress.Update{Fraction: float64(k+1) / float64(S), Message: msg,
			Metrics: map[string]float64{"estimator_before": r.etaBefore[k], "estimator_after": r.etaAfter[k]}})
	}
	r.metrics(env.Metrics)
	env.Metrics["resolution"] = n
	env.Metrics["trained_resolution"] = tm.rec.Resolution
	return r.write(env.Out)
}

// stfnoPrediction is what stfno.predict computes, per trajectory.
type stfnoPrediction struct {
	samples                                                                                []int
	tOut, n, iterations                                                                    int
	refine, truth                                                                          bool
	prediction, unrefined                                                                  []float64 // (sample, t, y, x)
	loss                                                                                   []float64 // (sample, iteration)
	relBefore, relAfter, persistence, etaBefore, etaAfter, repoBefore, repoAfter, etaTruth []float64
	secondsPredict, secondsRefine                                                          float64
}

func (r *stfnoPrediction) alloc() {
	S := len(r.samples)
	r.prediction = make([]float64, S*r.tOut*r.n*r.n)
	if r.refine {
		r.unrefined = make([]float64, len(r.prediction))
		r.loss = make([]float64, S*(r.iterations+1))
	}
	for _, a := range []*[]float64{&r.relBefore, &r.relAfter, &r.persistence, &r.etaBefore, &r.etaAfter, &r.repoBefore, &r.repoAfter, &r.etaTruth} {
		*a = make([]float64, S)
	}
}

// metrics sets the metrics of stfno.predict: means over the trajectories.
func (r *stfnoPrediction) metrics(m map[string]any) {
	mean := func(a []float64) float64 {
		s := 0.0
		for _, x := range a {
			s += x
		}
		return s / float64(len(a))
	}
	m["estimator_before"] = mean(r.etaBefore)
	m["estimator_repo_before"] = mean(r.repoBefore)
	if r.refine {
		m["estimator_after"] = mean(r.etaAfter)
		m["estimator_repo_after"] = mean(r.repoAfter)
	}
	if r.truth {
		m["rel_l2_before"] = mean(r.relBefore)
		m["persistence_rel_l2"] = mean(r.persistence)
		m["estimator_truth"] = mean(r.etaTruth)
		if r.refine {
			m["rel_l2_after"] = mean(r.relAfter)
		}
	}
	m["seconds_predict"] = r.secondsPredict
	if r.refine {
		m["seconds_refine"] = r.secondsRefine
	}
}

// write writes the datasets of stfno.predict.
func (r *stfnoPrediction) write(w *hdf5io.Writer) error {
	S := len(r.samples)
	frames := []int{S, r.tOut, r.n, r.n}
	if err := w.WriteFloat64("prediction", r.prediction, frames, "sample,t,y,x", "1/time"); err != nil {
		return err
	}
	idx := make([]int64, S)
	for i, s := range r.samples {
		idx[i] = int64(s)
	}
	if err := w.WriteInt64("samples", idx, []int{S}, "sample", ""); err != nil {
		return err
	}
	type ds struct {
		name string
		v    []float64
	}
	list := []ds{{"estimator_before", r.etaBefore}, {"estimator_repo_before", r.repoBefore}}
	if r.truth {
		list = append(list, ds{"rel_l2_before", r.relBefore}, ds{"persistence_rel_l2", r.persistence}, ds{"estimator_truth", r.etaTruth})
	}
	if r.refine {
		list = append(list, ds{"estimator_after", r.etaAfter}, ds{"estimator_repo_after", r.repoAfter})
		if r.truth {
			list = append(list, ds{"rel_l2_after", r.relAfter})
		}
		if err := w.WriteFloat64("prediction_unrefined", r.unrefined, frames, "sample,t,y,x", "1/time"); err != nil {
			return err
		}
		if err := w.WriteFloat64("refine_estimator", r.loss, []int{S, r.iterations + 1}, "sample,iteration", ""); err != nil {
			return err
		}
	}
	for _, d := range list {
		if err := w.WriteFloat64(d.name, d.v, []int{S}, "sample", ""); err != nil {
			return err
		}
	}
	return nil
}

func defaultFlow() navierstokes.Flow { return navierstokes.DefaultConfig().Flow }
func defaultFrameDt() float64        { return navierstokes.DefaultConfig().SnapshotDt }
