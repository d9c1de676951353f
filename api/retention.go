package api

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"eddy/jobs"
	"eddy/storage"
)

// expireBatch bounds the jobs and the uploads one expiry pass reads; a
// longer backlog is taken by the passes that follow.
const expireBatch = 1000

// Expire deletes the jobs that ended before cutoff and the uploads made
// before it, rows and files together, as DELETE /v1/jobs/{id} and DELETE
// /v1/uploads/{id} do: what a queued or running job references (an input, a
// stored model) is kept until that job ends. Jobs go first, so that an upload
// only they referenced goes in the same pass. It returns how many of each
// were deleted.
func Expire(ctx context.Context, svc *jobs.Service, db *storage.DB, cutoff time.Time) (nJobs, nUploads int, err error) {
	runs, err := storage.ExpiredRuns(ctx, db.Read, cutoff, expireBatch)
	if err != nil {
		return 0, 0, err
	}
	var inUse *jobs.InUseError
	for _, id := range runs {
		switch err := svc.DeleteJob(ctx, id); {
		case err == nil:
			nJobs++
		case errors.As(err, &inUse), errors.Is(err, storage.ErrNotFound), errors.Is(err, jobs.ErrLive):
			// Needed by a live job, deleted meanwhile by its owner, or
			// (never for an ended job) live.
		default:
			return nJobs, nUploads, err
		}
	}
	uploads, err := storage.ExpiredUploads(ctx, db.Read, cutoff, expireBatch)
	if err != nil {
		return nJobs, 0, err
	}
	for _, id := range uploads {
		switch err := svc.DeleteUpload(ctx, id); {
		case err == nil:
			nUploads++
		case errors.As(err, &inUse), errors.Is(err, storage.ErrNotFound):
		default:
			return nJobs, nUploads, err
		}
	}
	return nJobs, nUploads, nil
}

// RunRetention deletes, until ctx ends, the jobs and uploads older than
// maxAge (see Expire), looking every quarter of maxAge, but at most every
// second and at least every hour. Several API processes may run it: a thing
// deleted by one is skipped by the others.
func RunRetention(ctx context.Context, svc *jobs.Service, db *storage.DB, maxAge time.Duration, log *slog.Logger) {
	every := min(max(maxAge/4, time.Second), time.Hour)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		nj, nu, err := Expire(ctx, svc, db, time.Now().Add(-maxAge))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("retention: expiry pass failed", "err", err)
		case nj+nu > 0:
			log.Info("retention: expired jobs and uploads deleted", "jobs", nj, "uploads", nu, "older_than", maxAge)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
