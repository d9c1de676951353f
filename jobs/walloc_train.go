package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"eddy/codec/walloc"
	"eddy/fileformat"
	"eddy/hdf5io"
	"eddy/nn"
	"eddy/progress"
)

// WallocTrainParams are the params of walloc.train: the codec's architecture
// (walloc.Config), the training schedule (walloc.TrainConfig) and the data.
type WallocTrainParams struct {
	walloc.Config
	walloc.TrainConfig
	TrainingSet []string `json:"training_set,omitempty" format:"uuid" doc:"upload ids of the training signals: PNG or JPEG images, WAV files, or HDF5 files holding image (uint8, height × width × 3) or audio (float64, channels × samples in [−1, 1)); the last one validates (with a single upload it also validates). Empty with builtin"`
	Builtin     bool     `json:"builtin" doc:"train on the built-in public-domain/CC0 images (rocket, hubble_deep_field, retina, grace_hopper; camera validates) or, for audio, on synthetic stereo music; the training set is then ignored"`
}

// Validate checks the architecture, the schedule and the data choice.
func (p *WallocTrainParams) Validate(c *Checker) {
	if err := p.Config.Validate(); err != nil {
		c.Fail("/latent_channels", "%v", err)
	}
	if b := p.Block(); p.Crop%b != 0 {
		c.Fail("/crop", "is %d; it must be a multiple of 2^levels = %d", p.Crop, b)
	}
	if len(p.TrainingSet) > 64 {
		c.Fail("/training_set", "holds %d uploads; at most 64", len(p.TrainingSet))
	}
	if !p.Builtin && len(p.TrainingSet) == 0 {
		c.Fail("/training_set", "is empty; give upload ids or set builtin")
	}
	if p.Steps == 0 && p.Seconds == 0 {
		c.Fail("/seconds", "is 0 and steps is 0: nothing bounds the run")
	}
	if p.Signal == walloc.Audio && p.SampleRate == 0 {
		c.Fail("/sample_rate", "an audio model needs the sample rate it codes")
	}
}

func init() {
	def := walloc.ImageConfig(12)
	Register(Spec[*WallocTrainParams]{
		Name:  "walloc.train",
		Title: "WaLLoC: train a wavelet learned lossy codec for images or stereo audio",
		Description: "Trains a WaLLoC codec (Jacobellis & Yadwadkar, DCC 2025): a J-level bior4.4 wavelet packet transform, " +
			"a linear 1×1 encoder to latent_channels channels initialised by PCA of the training set, normal-CDF companding " +
			"and 8-bit quantisation (additive uniform noise in training), and a decoder made of the PCA's linear path plus a " +
			"residual CNN on the latent grid, trained by AdamW on random crops for mean squared error. The best model on the " +
			"validation signal (the PCA start included) is kept, so training never ends worse on validation than PCA. " +
			"The result file is the model file for walloc.encode, walloc.decode and `eddy encode/decode`. Deterministic " +
			"when bounded by steps; checkpoints every few minutes, and a restarted run resumes.",
		Defaults: func() *WallocTrainParams {
			return &WallocTrainParams{Config: def, TrainConfig: walloc.DefaultTrainConfig(), Builtin: true}
		},
		Outputs: []string{"model", "train_loss", "val_loss", "val_step"},
		Metrics: map[string]string{
			"val_loss_start": "float64: validation mean squared error (wavelet domain, real rounding) of the PCA start",
			"val_loss_best":  "float64: the same of the kept model",
			"best_step":      "int64: the step of the kept model (0: the PCA start)",
			"steps":          "int64: optimiser steps taken",
			"parameters":     "int64: parameters of the model",
			"reduction":      "float64: dimension reduction, input values per latent value",
			"model_id":       "string: the model id that .wlc files made by the model record",
			"seconds":        "float64: wall time of the run, in seconds",
		},
		Class:       ClassTrain,
		Timeout:     12 * time.Hour,
		MaxAttempts: 3,
		Run:         runWallocTrain,
	})
}

// wallocSamples reads the training signals of p: the built-in ones or the
// uploads, the last of which validates.
func wallocSamples(p *WallocTrainParams, env *Env) (train, val []walloc.Sample, err error) {
	bl := p.Block()
	if p.Builtin {
		if p.Signal == walloc.Audio {
			a := walloc.SynthMusic(p.Seed+1, 1<<20, p.SampleRate)
			v := walloc.SynthMusic(p.Seed+2, 1<<18, p.SampleRate)
			return []walloc.Sample{walloc.SampleFromAudio(a, bl)}, []walloc.Sample{walloc.SampleFromAudio(v, bl)}, nil
		}
		for i, names := range [][]string{walloc.BuiltinTrain, walloc.BuiltinValidation} {
			for _, n := range names {
				img, err := walloc.BuiltinImage(n)
				if err != nil {
					return nil, nil, err
				}
				s := walloc.SampleFromImage(img, bl)
				if i == 0 {
					train = append(train, s)
				} else {
					val = append(val, s)
				}
			}
		}
		return train, val, nil
	}
	for i, id := range p.TrainingSet {
		path, err := env.Resolve(id)
		if err != nil {
			return nil, nil, err
		}
		s, err := readWallocSample(path, p.Signal, bl)
		if err != nil {
			return nil, nil, Permanent(fmt.Errorf("training_set/%d: %w", i, err))
		}
		train = append(train, s)
	}
	val = train[len(train)-1:]
	if len(train) > 1 {
		train = train[:len(train)-1]
	} else {
		env.Warn("a single training signal also validates: the kept model is chosen on its training data")
	}
	return train, val, nil
}

// readWallocSample reads an image (PNG, JPEG, or HDF5 dataset image) or
// audio (WAV, or HDF5 dataset audio) file as a sample of the given signal.
func readWallocSample(path string, sig walloc.Signal, block int) (walloc.Sample, error) {
	format, err := fileformat.SniffFile(path)
	if err != nil {
		return walloc.Sample{}, err
	}
	small := fmt.Errorf("the signal is shorter than one block of %d", block)
	switch {
	case sig == walloc.Image && (format == fileformat.PNG || format == fileformat.JPEG):
		img, err := fileformat.ReadImage(path)
		if err != nil {
			return walloc.Sample{}, err
		}
		if b := img.Bounds(); b.Dx() < block || b.Dy() < block {
			return walloc.Sample{}, small
		}
		return walloc.SampleFromImage(img, block), nil
	case sig == walloc.Audio && format == fileformat.WAV:
		a, err := fileformat.ReadWAV(path)
		if err != nil {
			return walloc.Sample{}, err
		}
		if len(a.Data[0]) < block {
			return walloc.Sample{}, small
		}
		return walloc.SampleFromAudio(a, block), nil
	case format == fileformat.HDF5:
		f, err := hdf5io.Open(path)
		if err != nil {
			return walloc.Sample{}, err
		}
		defer f.Close()
		if sig == walloc.Image {
			v, shape, err := f.ReadUint8(fileformat.ImageArray)
			if err != nil || len(shape) != 3 || shape[2] != 3 || shape[0] < block || shape[1] < block {
				return walloc.Sample{}, fmt.Errorf("want a uint8 dataset image of shape (height ≥ %d, width ≥ %d, 3): %v %v", block, block, shape, err)
			}
			h, w := shape[0]/block*block, shape[1]/block*block
			out := make([]float32, 3*h*w)
			for c := range 3 {
				for y := range h {
					for x := range w {
						out[(c*h+y)*w+x] = float32(v[(y*shape[1]+x)*3+c])/255 - 0.5
					}
				}
			}
			return walloc.Sample{Data: out, Shape: []int{3, h, w}}, nil
		}
		v, shape, err := f.ReadFloat64(fileformat.AudioArray)
		if err != nil || len(shape) != 2 || shape[0] < 1 || shape[0] > 2 || shape[1] < block {
			return walloc.Sample{}, fmt.Errorf("want a float64 dataset audio of shape (1 or 2, samples ≥ %d): %v %v", block, shape, err)
		}
		n := shape[1] / block * block
		out := make([]float32, 2*n)
		for c := range 2 {
			src := v[min(c, shape[0]-1)*shape[1]:]
			for i := range n {
				out[c*n+i] = float32(min(max(src[i], -1), 1) / 2)
			}
		}
		return walloc.Sample{Data: out, Shape: []int{2, n}}, nil
	}
	return walloc.Sample{}, fmt.Errorf("a %q file cannot train an %s model (want PNG, JPEG, WAV or HDF5)", format, sig)
}

func runWallocTrain(ctx context.Context, p *WallocTrainParams, env *Env) error {
	start := time.Now()
	env.UseSeed(p.Seed)
	env.Stage("reading the training signals")
	train, val, err := wallocSamples(p, env)
	if err != nil {
		return err
	}
	m, err := walloc.New(p.Config, p.Seed)
	if err != nil {
		return Permanent(err)
	}
	env.Stage("PCA initialisation on %d signals", len(train))
	if err := m.InitPCA(train); err != nil {
		return Permanent(err)
	}
	tr, err := walloc.NewTrainer(m, train, val, p.TrainConfig)
	if err != nil {
		return Permanent(err)
	}
	resumed, err := env.Resume(tr.ReadState)
	if err != nil {
		env.Warn("%v", err)
	}
	if resumed {
		env.Stage("resumed at step %d from a checkpoint", tr.Steps())
	}
	env.Stage("training")
	err = tr.Run(ctx, func(step int, trainLoss, valLoss float64) {
		frac := 0.0
		if p.Steps > 0 {
			frac = float64(step) / float64(p.Steps)
		}
		if p.Seconds > 0 {
			frac = max(frac, time.Since(start).Seconds()/p.Seconds)
		}
		env.Progress.Report(progress.Update{Fraction: min(frac, 1),
			Message: fmt.Sprintf("step %d: training loss %.4g, validation %.4g", step, trainLoss, valLoss),
			Metrics: map[string]float64{"step": float64(step), "train_loss": trainLoss, "val_loss": valLoss}})
		if env.CheckpointDue() {
			if err := env.Checkpoint(tr.WriteState); err != nil {
				env.Stage("checkpoint at step %d not saved: %v", step, err)
			}
		}
	})
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return fmt.Errorf("training: %w", err)
	}
	w := env.Out
	if err := m.Write(w, walloc.ModelGroup); err != nil {
		return fmt.Errorf("writing the model: %w", err)
	}
	steps := make([]float64, len(tr.ValStep))
	for i, s := range tr.ValStep {
		steps[i] = float64(s)
	}
	for _, x := range []struct {
		name string
		v    []float64
	}{{"train_loss", tr.TrainLoss}, {"val_loss", tr.ValLoss}, {"val_step", steps}} {
		if err := w.WriteFloat64(x.name, x.v, []int{len(x.v)}, "validation", ""); err != nil {
			return err
		}
	}
	best, bestLoss := tr.BestStep()
	if best == 0 && tr.Steps() > 0 && p.DecoderChannels > 0 {
		// The kept model is then the PCA start: a user who asked for a
		// learned decoder should know that none was learned.
		env.Warn("the nonlinear decoder did not improve on its PCA start in %d steps (validation MSE %.4g): the model codes as the linear codec; train longer (seconds) or on more images", tr.Steps(), tr.ValLoss[0])
	}
	env.Metrics["val_loss_start"] = tr.ValLoss[0]
	env.Metrics["val_loss_best"] = bestLoss
	env.Metrics["best_step"] = best
	env.Metrics["steps"] = tr.Steps()
	env.Metrics["parameters"] = nn.CountParams(m.Params())
	env.Metrics["reduction"] = float64(m.PacketChannels()) / float64(m.LatentChannels)
	env.Metrics["model_id"] = m.ID().String()
	env.Metrics["seconds"] = time.Since(start).Seconds()
	return nil
}
