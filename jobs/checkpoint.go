package jobs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"eddy/hdf5io"
	"eddy/storage"
)

// DefaultCheckpointEvery is how often, by default, a long run saves a
// checkpoint (Config.CheckpointEvery, Env.CheckpointDue).
const DefaultCheckpointEvery = 2 * time.Minute

// checkpointKey is the artifact key of a run's checkpoint. It is the same for
// every lease and attempt of the run, so that a run re-queued after its worker
// died, or handed back by a shutdown, continues where the last one stopped.
func checkpointKey(runID string) string { return "checkpoints/" + runID + "/latest.h5" }

// checkpointer is an Env's access to its run's checkpoint.
type checkpointer struct {
	ctx   context.Context
	store storage.Artifacts
	key   string        // the checkpoint's artifact key
	every time.Duration // Config.CheckpointEvery
	last  time.Time     // the last checkpoint saved, or the attempt's start
}

// CheckpointDue reports whether the run should save a checkpoint now: the
// service's checkpoint period (Config.CheckpointEvery, EDDY_CHECKPOINT_EVERY
// for the daemons, default DefaultCheckpointEvery) has passed since this
// attempt's last checkpoint or, before the first, since the attempt started.
// A kind that runs for minutes calls it at the points where its state is
// cheap to save (between samples, after an epoch) and, when it is due, saves
// with Checkpoint.
func (e *Env) CheckpointDue() bool {
	if e.ckpt == nil {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return time.Since(e.ckpt.last) >= e.ckpt.every
}

// Checkpoint saves the run's state: save writes it into a new local HDF5
// file, which then replaces the run's checkpoint in the artifact store
// atomically (storage.Stage), so the stored checkpoint is always a complete
// one, and a worker on another machine can resume from it. The root
// attributes eddy_kind, eddy_job_id and eddy_version are written for the
// kind. The checkpoint outlives the attempt: a later
// attempt or lease of the same run reads it with Resume; the runner deletes
// it when the run succeeds, fails for good or is cancelled. Checkpoint
// returns save's error, or the error of writing the file; the previous
// checkpoint then stays.
func (e *Env) Checkpoint(save func(w *hdf5io.Writer) error) error {
	if e.ckpt == nil {
		return errors.New("jobs: checkpoints are not available to this run")
	}
	staged, err := storage.Stage(e.ckpt.store, e.ckpt.key)
	if err != nil {
		return fmt.Errorf("jobs: checkpoint: %w", err)
	}
	defer staged.Abort()
	w, err := hdf5io.Create(staged.Path)
	if err != nil {
		return fmt.Errorf("jobs: checkpoint: %w", err)
	}
	if err = writeIdentityAttrs(w, e.kind, e.RunID); err == nil {
		err = save(w)
	}
	if err != nil {
		w.Abort()
		return fmt.Errorf("jobs: checkpoint: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("jobs: checkpoint: %w", err)
	}
	if err := staged.Commit(e.ckpt.ctx, e.ckpt.key); err != nil {
		return fmt.Errorf("jobs: checkpoint: %w", err)
	}
	e.mu.Lock()
	e.ckpt.last = time.Now()
	e.mu.Unlock()
	return nil
}

// Resume reads the run's checkpoint, if an earlier attempt or lease saved
// one, with load, and reports whether there was one. A kind calls it before
// it starts and, when it resumed, continues from the state load read (and
// says so with Stage). A checkpoint that cannot be read, or that load
// refuses, is deleted and its error returned, so that the next attempt
// starts from the beginning.
func (e *Env) Resume(load func(f *hdf5io.File) error) (resumed bool, err error) {
	if e.ckpt == nil {
		return false, nil
	}
	local, err := storage.Fetch(e.ckpt.ctx, e.ckpt.store, e.ckpt.key)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err == nil {
		var f *hdf5io.File
		f, err = hdf5io.Open(local.Path)
		if err == nil {
			err = load(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		local.Close()
	}
	if err != nil {
		e.ckpt.store.Remove(e.ckpt.key)
		return false, fmt.Errorf("jobs: reading the checkpoint (deleted; the next attempt starts over): %w", err)
	}
	return true, nil
}
