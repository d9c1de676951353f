package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Kinds of ProgressPoint.
const (
	// PointProgress is a progress update as the runner stored it.
	PointProgress = "progress"
	// PointStage marks the start of a stage of the attempt.
	PointStage = "stage"
	// PointWarning is a warning about the result (see Result.Warnings).
	PointWarning = "warning"
)

// ProgressPoint is one entry of a run's progress history (table run_progress):
// a progress update, or a stage or warning of the attempt, which carries the
// fraction reached when it happened.
type ProgressPoint struct {
	// Seq orders the entries of an attempt.
	Seq      int64              `json:"-"`
	At       time.Time          `json:"at"`
	Kind     string             `json:"kind"`
	Fraction float64            `json:"fraction"`
	Message  string             `json:"message"`
	Metrics  map[string]float64 `json:"metrics,omitempty"`
}

// AppendProgress adds p to the history of run id, if the run is running
// under lease: a worker that lost its lease adds nothing. An entry whose Seq
// is already taken is ignored. Metrics must be finite (JSON has no NaN).
func AppendProgress(ctx context.Context, q Querier, id string, lease int64, p ProgressPoint) error {
	var metrics any
	if len(p.Metrics) > 0 {
		b, err := json.Marshal(p.Metrics)
		if err != nil {
			return fmt.Errorf("storage: progress history of run %s: %w", id, err)
		}
		metrics = string(b)
	}
	_, err := q.ExecContext(ctx, `INSERT INTO run_progress (run_id, seq, at, kind, fraction, message, metrics_json)
		SELECT $1, CAST($3 AS BIGINT), CAST($4 AS BIGINT), CAST($5 AS TEXT), CAST($6 AS DOUBLE PRECISION),
			CAST($7 AS TEXT), CAST($8 AS TEXT)
		WHERE EXISTS (SELECT 1 FROM runs WHERE id = $1 AND lease = $2 AND state = 'running')
		ON CONFLICT DO NOTHING`,
		id, lease, p.Seq, p.At.UnixMicro(), p.Kind, p.Fraction, p.Message, metrics)
	if err != nil {
		return fmt.Errorf("storage: progress history of run %s: %w", id, err)
	}
	return nil
}

// ThinProgress halves the progress updates kept in the history of run id:
// of its entries of kind progress, in order, the 2nd, 4th, … are deleted
// (stages and warnings stay). It returns how many were deleted.
func ThinProgress(ctx context.Context, q Querier, id string) (int, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM run_progress WHERE run_id = $1 AND seq IN (
		SELECT seq FROM (
			SELECT seq, ROW_NUMBER() OVER (ORDER BY seq) AS rn
			FROM run_progress WHERE run_id = $1 AND kind = 'progress'
		) AS numbered WHERE rn % 2 = 0)`, id)
	if err != nil {
		return 0, fmt.Errorf("storage: thin progress history of run %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ClearProgress deletes the progress history of run id: a new attempt starts
// a new one.
func ClearProgress(ctx context.Context, q Querier, id string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM run_progress WHERE run_id = $1`, id); err != nil {
		return fmt.Errorf("storage: clear progress history of run %s: %w", id, err)
	}
	return nil
}

// ProgressHistory returns the progress history of run id in order; it is
// empty for a run that has not started, and ErrNotFound if there is no such
// run.
func ProgressHistory(ctx context.Context, q Querier, id string) ([]ProgressPoint, error) {
	if _, err := GetRun(ctx, q, id); err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT seq, at, kind, fraction, message, metrics_json
		FROM run_progress WHERE run_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("storage: progress history of run %s: %w", id, err)
	}
	defer rows.Close()
	out := []ProgressPoint{}
	for rows.Next() {
		var (
			p       ProgressPoint
			at      int64
			metrics sql.NullString
		)
		if err := rows.Scan(&p.Seq, &at, &p.Kind, &p.Fraction, &p.Message, &metrics); err != nil {
			return nil, fmt.Errorf("storage: progress history of run %s: %w", id, err)
		}
		p.At = time.UnixMicro(at).UTC()
		if metrics.Valid {
			if err := json.Unmarshal([]byte(metrics.String), &p.Metrics); err != nil {
				return nil, fmt.Errorf("storage: progress history of run %s: %w", id, err)
			}
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
