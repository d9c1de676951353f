package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RunRef is an upload or job that a run references, and where: the JSON
// Pointer of the param or input that names it ("/params/cube").
type RunRef struct {
	RefID string
	Path  string
}

// InsertRunRefs records the references of run runID, in the transaction that
// inserts the run.
func InsertRunRefs(ctx context.Context, q Querier, runID string, refs []RunRef) error {
	for _, r := range refs {
		if _, err := q.ExecContext(ctx, `INSERT INTO run_refs (run_id, ref_id, path) VALUES ($1, $2, $3)`,
			runID, r.RefID, r.Path); err != nil {
			return fmt.Errorf("storage: references of run %s: %w", runID, err)
		}
	}
	return nil
}

// RefsOf returns the references recorded for run runID, by path.
func RefsOf(ctx context.Context, q Querier, runID string) ([]RunRef, error) {
	rows, err := q.QueryContext(ctx, `SELECT ref_id, path FROM run_refs WHERE run_id = $1 ORDER BY path`, runID)
	if err != nil {
		return nil, fmt.Errorf("storage: references of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []RunRef
	for rows.Next() {
		var r RunRef
		if err := rows.Scan(&r.RefID, &r.Path); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Target is what an id names, as LockTargets finds it: an upload, or a run
// in some state, or nothing (neither field set).
type Target struct {
	Upload bool
	Run    *Run
}

// LockTargets returns what each id names, and on PostgreSQL holds a share lock
// on those rows until tx ends: a run cannot change state, nor an upload or a
// run be deleted, between this read and the commit of a submission that
// references them. (SQLite runs one writing transaction at a time.)
func (db *DB) LockTargets(ctx context.Context, tx *sql.Tx, ids []string) (map[string]Target, error) {
	lock := ""
	if db.Dialect == Postgres {
		lock = " FOR SHARE"
	}
	out := map[string]Target{}
	for _, id := range ids {
		var x string
		err := tx.QueryRowContext(ctx, `SELECT id FROM uploads WHERE id = $1`+lock, id).Scan(&x)
		if err == nil {
			out[id] = Target{Upload: true}
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("storage: upload %s: %w", id, err)
		}
		r, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`+lock, id))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out[id] = Target{}
		case err != nil:
			return nil, fmt.Errorf("storage: run %s: %w", id, err)
		default:
			out[id] = Target{Run: r}
		}
	}
	return out, nil
}

// WaitingChildren returns the queued runs that reference run id and wait for
// some unfinished job.
func WaitingChildren(ctx context.Context, q Querier, id string) ([]string, error) {
	return ids(ctx, q, `SELECT DISTINCT x.run_id FROM run_refs x JOIN runs r ON r.id = x.run_id
		WHERE x.ref_id = $1 AND r.state = 'queued' AND r.waiting_for IS NOT NULL ORDER BY x.run_id`, id)
}

// Parents returns the runs that run id references, whatever their state.
func Parents(ctx context.Context, q Querier, id string) ([]*Run, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id IN
		(SELECT ref_id FROM run_refs WHERE run_id = $1) ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("storage: parents of run %s: %w", id, err)
	}
	return scanRuns(rows)
}

// SetWaiting records the jobs a waiting run still waits for; with none, the
// run waits no more (its River job is being inserted). It reports false when
// the run is no longer a waiting queued run.
func SetWaiting(ctx context.Context, q Querier, id string, parents []string, now time.Time) (bool, error) {
	var waiting any
	if len(parents) > 0 {
		var err error
		if waiting, err = jsonText(parents); err != nil {
			return false, err
		}
	}
	res, err := q.ExecContext(ctx, `UPDATE runs SET waiting_for = $2, updated_at = $3
		WHERE id = $1 AND state = 'queued' AND waiting_for IS NOT NULL`, id, waiting, now.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("storage: waiting of run %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// FailWaiting ends a waiting run as failed with message msg. It reports false
// when the run is no longer a waiting queued run.
func FailWaiting(ctx context.Context, q Querier, id, msg string, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE runs SET state = 'failed', error = $2, waiting_for = NULL,
		finished_at = $3, updated_at = $3
		WHERE id = $1 AND state = 'queued' AND waiting_for IS NOT NULL`, id, msg, now.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("storage: fail waiting run %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// LiveReferrer returns a queued or running run that references id (an upload
// or a job), or "" if there is none.
func LiveReferrer(ctx context.Context, q Querier, id string) (string, error) {
	var run string
	err := q.QueryRowContext(ctx, `SELECT x.run_id FROM run_refs x JOIN runs r ON r.id = x.run_id
		WHERE x.ref_id = $1 AND r.state IN ('queued', 'running') ORDER BY x.run_id LIMIT 1`, id).Scan(&run)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("storage: runs that need %s: %w", id, err)
	}
	return run, nil
}

// DeleteUpload deletes the record of upload id and returns its artifact key,
// or ErrNotFound.
func DeleteUpload(ctx context.Context, q Querier, id string) (string, error) {
	if !ValidText(id) {
		return "", ErrNotFound
	}
	var key string
	err := q.QueryRowContext(ctx, `DELETE FROM uploads WHERE id = $1 RETURNING path`, id).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("storage: delete upload %s: %w", id, err)
	}
	return key, nil
}

// DeleteRun deletes the record of run id, which must have ended, and its
// references, and returns its result's artifact key ("" if none). It returns
// ErrNotFound if there is no such run and false if the run has not ended.
func DeleteRun(ctx context.Context, q Querier, id string) (key string, ended bool, err error) {
	if !ValidText(id) {
		return "", false, ErrNotFound
	}
	var path sql.NullString
	err = q.QueryRowContext(ctx, `DELETE FROM runs WHERE id = $1 AND state IN ('succeeded', 'failed', 'cancelled')
		RETURNING result_path`, id).Scan(&path)
	if errors.Is(err, sql.ErrNoRows) {
		if _, gerr := GetRun(ctx, q, id); gerr != nil {
			return "", false, gerr
		}
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("storage: delete run %s: %w", id, err)
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM run_refs WHERE run_id = $1`, id); err != nil {
		return "", false, fmt.Errorf("storage: delete references of run %s: %w", id, err)
	}
	return path.String, true, nil
}

// ids runs a query of one text column.
func ids(ctx context.Context, q Querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
