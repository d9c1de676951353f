package storage

import (
	"context"
	"time"
)

// ExpiredRuns returns up to limit runs that ended before cutoff, oldest first.
func ExpiredRuns(ctx context.Context, q Querier, cutoff time.Time, limit int) ([]string, error) {
	return ids(ctx, q, `SELECT id FROM runs WHERE state IN ('succeeded', 'failed', 'cancelled')
		AND finished_at < $1 ORDER BY finished_at LIMIT $2`, cutoff.UnixMicro(), limit)
}

// ExpiredUploads returns up to limit uploads made before cutoff, oldest first.
func ExpiredUploads(ctx context.Context, q Querier, cutoff time.Time, limit int) ([]string, error) {
	return ids(ctx, q, `SELECT id FROM uploads WHERE created_at < $1 ORDER BY created_at LIMIT $2`, cutoff.UnixMicro(), limit)
}
