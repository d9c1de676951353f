package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"eddy/storage"
)

// A run whose params reference a queued or running job waits for it: it is
// queued with the unfinished jobs in waiting_for and no River job. When a run
// reaches a final state, settleTx, in the transaction that records that state,
// settles its waiting children: once all of a child's parents have
// succeeded, the child's River job is inserted; if a parent failed or was
// cancelled, the child fails with an error starting "parent_failed:", and its
// own children after it. Every change of a run to a final state goes through
// endRun, or calls settleTx in its own transaction.

// endRun applies change, which moves run id to a new state and reports whether
// it did, and settles the run's children in the same transaction.
func (s *Service) endRun(ctx context.Context, id string, change func(tx *sql.Tx) (bool, error)) (bool, error) {
	var changed bool
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		ok, err := change(tx)
		if err != nil || !ok {
			return err
		}
		changed = true
		return s.settleTx(ctx, tx, id)
	})
	if changed && err == nil {
		if r, gerr := storage.GetRun(ctx, s.db.SQL, id); gerr == nil && r.State.Final() {
			s.dropCheckpoint(id)
		}
	}
	return changed, err
}

// dropCheckpoint deletes the checkpoint of a run that has ended (see
// Env.Checkpoint).
func (s *Service) dropCheckpoint(id string) {
	if err := s.artifacts.Remove(checkpointKey(id)); err != nil {
		s.log.Warn("checkpoint of an ended run not deleted", "job_id", id, "err", err)
	}
}

// settleTx settles the waiting children of run id if the run has ended; see
// above.
func (s *Service) settleTx(ctx context.Context, tx *sql.Tx, id string) error {
	parent, err := storage.GetRun(ctx, tx, id)
	if err != nil {
		return fmt.Errorf("jobs: settling the children of %s: %w", id, err)
	}
	if !parent.State.Final() {
		return nil
	}
	children, err := storage.WaitingChildren(ctx, tx, id)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, c := range children {
		if parent.State != storage.Succeeded {
			if err := s.failChildTx(ctx, tx, c, parent, now); err != nil {
				return err
			}
			continue
		}
		if err := s.wakeTx(ctx, tx, c, now); err != nil {
			return err
		}
	}
	return nil
}

// failChildTx ends waiting run id because parent did not succeed, then its own
// children.
func (s *Service) failChildTx(ctx context.Context, tx *sql.Tx, id string, parent *storage.Run, now time.Time) error {
	msg := fmt.Sprintf("parent_failed: job %s (%s) %s", parent.ID, parent.Kind, parent.State)
	if parent.Error != "" {
		msg += ": " + parent.Error
	}
	ok, err := storage.FailWaiting(ctx, tx, id, msg, now)
	if err != nil || !ok {
		return err
	}
	if r, err := storage.GetRun(ctx, tx, id); err == nil {
		observeRun(r.Kind, outcomeFailed, 0)
	}
	s.log.Info("job failed: a job it needs did not succeed", "job_id", id, "parent", parent.ID, "parent_state", parent.State)
	return s.settleTx(ctx, tx, id)
}

// wakeTx re-examines the parents of waiting run id: it fails if one of them
// failed, keeps waiting for the unfinished ones, or, when all have
// succeeded, gets its River job.
func (s *Service) wakeTx(ctx context.Context, tx *sql.Tx, id string, now time.Time) error {
	parents, err := storage.Parents(ctx, tx, id)
	if err != nil {
		return err
	}
	var waiting []string
	for _, p := range parents {
		switch {
		case p.State == storage.Succeeded:
		case p.State.Final():
			return s.failChildTx(ctx, tx, id, p, now)
		default:
			waiting = append(waiting, p.ID)
		}
	}
	ok, err := storage.SetWaiting(ctx, tx, id, waiting, now)
	if err != nil || !ok || len(waiting) > 0 {
		return err
	}
	r, err := storage.GetRun(ctx, tx, id)
	if err != nil {
		return err
	}
	k, ok := Lookup(r.Kind)
	if !ok {
		_, err := storage.FailWaiting(ctx, tx, id, "unknown job kind "+r.Kind, now)
		return err
	}
	return s.insertJobTx(ctx, tx, id, k, r.Lease, 0)
}

// ErrLive is returned by DeleteJob for a job that is queued or running.
var ErrLive = errors.New("job has not ended")

// InUseError is returned when an upload or a job's result cannot be deleted
// because a queued or running job references it.
type InUseError struct {
	ID string // the upload or job to delete
	By string // a job that needs it
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("%s is referenced by job %s, which is queued or running; cancel it or wait until it ends", e.ID, e.By)
}

// DeleteUpload removes upload id, its record and its file, unless a queued or
// running job references it (*InUseError). It returns storage.ErrNotFound if
// there is no such upload.
func (s *Service) DeleteUpload(ctx context.Context, id string) error {
	var key string
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		// Delete first: the row lock makes a concurrent submission that
		// references the upload either commit before the check below, which
		// then sees it, or find the upload gone.
		var err error
		if key, err = storage.DeleteUpload(ctx, tx, id); err != nil {
			return err
		}
		return s.inUse(ctx, tx, id)
	})
	if err != nil {
		return err
	}
	if err := s.artifacts.Remove(key); err != nil {
		s.log.Warn("file of a deleted upload not removed", "upload", id, "err", err)
	}
	return nil
}

// DeleteJob removes a job that has ended, its record and its result file,
// unless a queued or running job references it (*InUseError). A queued or
// running job is not removed (ErrLive): cancel it first. It returns
// storage.ErrNotFound if there is no such job.
func (s *Service) DeleteJob(ctx context.Context, id string) error {
	var key string
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		k, ended, err := storage.DeleteRun(ctx, tx, id)
		if err != nil {
			return err
		}
		if !ended {
			return ErrLive
		}
		key = k
		return s.inUse(ctx, tx, id)
	})
	if err != nil {
		return err
	}
	if key != "" {
		if err := s.artifacts.Remove(key); err != nil {
			s.log.Warn("result file of a deleted job not removed", "job_id", id, "err", err)
		}
	}
	return nil
}

// inUse returns an *InUseError if a queued or running job references id.
func (s *Service) inUse(ctx context.Context, tx *sql.Tx, id string) error {
	by, err := storage.LiveReferrer(ctx, tx, id)
	if err != nil {
		return err
	}
	if by != "" {
		return &InUseError{ID: id, By: by}
	}
	return nil
}
