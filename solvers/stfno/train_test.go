package stfno

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"eddy/hdf5io"
	"eddy/nn"
)

// TestWriteRead stores a model and reads it back: the architecture and
// every parameter survive, so the outputs are bit-identical.
func TestWriteRead(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	m, err := New(tinyConfig(), 11)
	if err != nil {
		t.Fatal(err)
	}
	randomize(m, r)
	path := filepath.Join(t.TempDir(), "model.h5")
	w, err := hdf5io.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Write(w, "/model"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := hdf5io.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m2, err := Read(f, "/model")
	if err != nil {
		t.Fatal(err)
	}
	if m2.Config != m.Config {
		t.Fatalf("config %+v, want %+v", m2.Config, m.Config)
	}
	x := nn.NewTensor(2, 4, 8, 8)
	x.FillNormal(r, 1)
	y := m.Forward(x, 3).Clone()
	if y2 := m2.Forward(x, 3); !slices.Equal(y.Data, y2.Data) {
		t.Error("outputs of the stored and the read model differ")
	}
}

// trainData returns smooth trajectories: band-limited fields advected
// along x with a sample-dependent speed, samples×frames×n×n.
func trainData(r *rand.Rand, samples, frames, n int) []float64 {
	out := make([]float64, 0, samples*frames*n*n)
	for s := 0; s < samples; s++ {
		a := bandLimited(r, 1, n, 2)
		speed := 1 + r.IntN(2)
		for f := 0; f < frames; f++ {
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					out = append(out, a[i*n+(j+speed*f)%n]*math.Exp(-0.05*float64(f)))
				}
			}
		}
	}
	return out
}

func saveState(t *testing.T, tr *Trainer) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.h5")
	w, err := hdf5io.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.WriteState(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTrainerResume trains 3 epochs at once and 2 + 1 epochs with the
// state saved and read into a new trainer (and a model built from another
// seed) in between: parameters and epoch statistics are bit-identical.
func TestTrainerResume(t *testing.T) {
	const samples, frames, n = 7, 9, 8
	data := trainData(rand.New(rand.NewPCG(1, 1)), samples, frames, n)
	split := SplitLast(samples, 0.25)
	tc := TrainConfig{TIn: 3, TOut: 2, Epochs: 3, Batch: 2, LR: 1e-2, Seed: 42, ValStart: 2, Workers: 2}
	c := tinyConfig()
	ctx := context.Background()

	run := func(m *Model, epochs int, tr *Trainer) (*Trainer, []EpochStats) {
		var err error
		if tr == nil {
			tr, err = NewTrainer(m, data, samples, frames, n, split, tc)
			if err != nil {
				t.Fatal(err)
			}
		}
		var st []EpochStats
		for range epochs {
			s, err := tr.RunEpoch(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			st = append(st, s)
		}
		return tr, st
	}
	a, _ := New(c, 1)
	_, full := run(a, 3, nil)

	b, _ := New(c, 1)
	trB, _ := run(b, 2, nil)
	path := saveState(t, trB)

	fresh, _ := New(c, 99)
	trC, err := NewTrainer(fresh, data, samples, frames, n, split, tc)
	if err != nil {
		t.Fatal(err)
	}
	f, err := hdf5io.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := trC.ReadState(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if trC.Epoch() != 2 || len(trC.History()) != 2 {
		t.Fatalf("resumed at epoch %d with %d history entries", trC.Epoch(), len(trC.History()))
	}
	_, last := run(fresh, 1, trC)
	if last[0].TrainRelL2 != full[2].TrainRelL2 || last[0].ValRelL2 != full[2].ValRelL2 || last[0].Epoch != 3 {
		t.Errorf("epoch 3 resumed %+v, uninterrupted %+v", last[0], full[2])
	}
	for i, p := range a.Params() {
		if !slices.Equal(p.Value.Data, fresh.Params()[i].Value.Data) {
			t.Errorf("parameter %s differs after resuming", p.Name)
		}
	}
	if !(full[2].TrainRelL2 < full[0].TrainRelL2) {
		t.Errorf("training loss did not fall: %v → %v", full[0].TrainRelL2, full[2].TrainRelL2)
	}
	t.Logf("epochs: %+v", full)
}
