package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// State is a run's state. queued and running are live; the others are final.
type State string

const (
	Queued    State = "queued"
	Running   State = "running"
	Succeeded State = "succeeded"
	Failed    State = "failed"
	Cancelled State = "cancelled"
)

// States lists every state, in lifecycle order.
var States = []State{Queued, Running, Succeeded, Failed, Cancelled}

// Final reports whether s is a final state.
func (s State) Final() bool { return s == Succeeded || s == Failed || s == Cancelled }

// Valid reports whether s names a state.
func (s State) Valid() bool {
	for _, v := range States {
		if s == v {
			return true
		}
	}
	return false
}

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// Progress is what a running job last reported.
type Progress struct {
	Fraction float64            `json:"fraction"`
	Message  string             `json:"message"`
	Metrics  map[string]float64 `json:"metrics,omitempty"`
}

// Result describes a succeeded run's output file.
type Result struct {
	Bytes    int64          `json:"bytes"`
	SHA256   string         `json:"sha256"`
	Datasets []string       `json:"datasets"`
	Metrics  map[string]any `json:"metrics"`
	// Warnings say what a user should know about the result (a solver that
	// did not converge, say); the API shows them at the top of the job.
	Warnings []string `json:"warnings,omitempty"`
}

// Run is one submitted job: the durable record that outlives River's job rows.
type Run struct {
	ID   string
	Kind string
	// Owner owns the run (see Token.Owner); AnonymousOwner without tokens.
	Owner           string
	State           State
	Params          json.RawMessage
	Inputs          map[string]string
	IdempotencyKey  string
	Lease           int64
	RiverJobID      int64
	Attempt         int
	MaxAttempts     int
	WorkerID        string
	HeartbeatAt     time.Time
	CancelRequested bool
	Error           string
	Progress        *Progress
	Result          *Result
	ResultPath      string
	// WaitingFor lists the unfinished jobs whose results a queued run waits
	// for; its River job is inserted once they have all succeeded.
	WaitingFor []string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
}

// Querier is what both *sql.DB and *sql.Tx offer.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// InTx runs fn inside one transaction, committed when fn returns nil.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error { return db.tx(ctx, fn) }

func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func jsonText(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

const runColumns = `id, kind, state, params_json, inputs_json, idempotency_key, lease, river_job_id,
	attempt, max_attempts, worker_id, heartbeat_at, cancel_requested, error, progress_json,
	result_json, result_path, created_at, updated_at, started_at, finished_at, waiting_for, owner`

type scanner interface{ Scan(dest ...any) error }

func scanRun(s scanner) (*Run, error) {
	var (
		r                                       Run
		params, inputs                          string
		idem, worker, errText, prog, res, rpath sql.NullString
		waiting                                 sql.NullString
		riverID, hb, created, updated, started  sql.NullInt64
		finished                                sql.NullInt64
	)
	err := s.Scan(&r.ID, &r.Kind, &r.State, &params, &inputs, &idem, &r.Lease, &riverID,
		&r.Attempt, &r.MaxAttempts, &worker, &hb, &r.CancelRequested, &errText, &prog,
		&res, &rpath, &created, &updated, &started, &finished, &waiting, &r.Owner)
	if err != nil {
		return nil, err
	}
	r.Params = json.RawMessage(params)
	if inputs != "" {
		if err := json.Unmarshal([]byte(inputs), &r.Inputs); err != nil {
			return nil, fmt.Errorf("storage: run %s inputs: %w", r.ID, err)
		}
	}
	r.WorkerID, r.Error, r.ResultPath = worker.String, errText.String, rpath.String
	if idem.Valid {
		_, r.IdempotencyKey, _ = strings.Cut(idem.String, ":")
	}
	r.RiverJobID = riverID.Int64
	if prog.Valid {
		r.Progress = new(Progress)
		if err := json.Unmarshal([]byte(prog.String), r.Progress); err != nil {
			return nil, fmt.Errorf("storage: run %s progress: %w", r.ID, err)
		}
	}
	if res.Valid {
		r.Result = new(Result)
		if err := json.Unmarshal([]byte(res.String), r.Result); err != nil {
			return nil, fmt.Errorf("storage: run %s result: %w", r.ID, err)
		}
	}
	if waiting.Valid {
		if err := json.Unmarshal([]byte(waiting.String), &r.WaitingFor); err != nil {
			return nil, fmt.Errorf("storage: run %s waiting_for: %w", r.ID, err)
		}
	}
	r.HeartbeatAt, r.CreatedAt, r.UpdatedAt = fromMicros(hb), fromMicros(created), fromMicros(updated)
	r.StartedAt, r.FinishedAt = fromMicros(started), fromMicros(finished)
	return &r, nil
}

// InsertRun inserts r (state queued) through q, usually the transaction that also
// inserts its River job, or records what it waits for (r.WaitingFor). A run
// without an owner gets AnonymousOwner.
func InsertRun(ctx context.Context, q Querier, r *Run) error {
	inputs, err := jsonText(r.Inputs)
	if err != nil {
		return err
	}
	var waiting any
	if len(r.WaitingFor) > 0 {
		if waiting, err = jsonText(r.WaitingFor); err != nil {
			return err
		}
	}
	if inputs == nil {
		inputs = "{}"
	}
	if r.Owner == "" {
		r.Owner = AnonymousOwner
	}
	var idem any
	if r.IdempotencyKey != "" {
		idem = ownerKey(r.Owner, r.IdempotencyKey)
	}
	_, err = q.ExecContext(ctx, `INSERT INTO runs (id, kind, state, params_json, inputs_json,
		idempotency_key, lease, attempt, max_attempts, created_at, updated_at, waiting_for, owner)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $9, $10, $11)`,
		r.ID, r.Kind, string(r.State), string(r.Params), inputs, idem,
		r.Lease, r.MaxAttempts, r.CreatedAt.UnixMicro(), waiting, r.Owner)
	if err != nil {
		return fmt.Errorf("storage: insert run %s: %w", r.ID, err)
	}
	return nil
}

// SetRiverJobID records the River job currently carrying run id.
func SetRiverJobID(ctx context.Context, q Querier, id string, jobID int64) error {
	_, err := q.ExecContext(ctx, `UPDATE runs SET river_job_id = $2 WHERE id = $1`, id, jobID)
	return err
}

// ValidText reports whether s can be stored in and compared with a text column of
// both databases: PostgreSQL refuses invalid UTF-8 and NUL characters outright.
func ValidText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// GetRun returns the run with the given id, or ErrNotFound.
func GetRun(ctx context.Context, q Querier, id string) (*Run, error) {
	if !ValidText(id) {
		return nil, ErrNotFound // no stored id is such a string
	}
	r, err := scanRun(q.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return r, err
}

// ownerKey is the stored form of an idempotency key: keys are unique per
// owner, and an owner's name has no colon (see ValidOwner).
func ownerKey(owner, key string) string { return owner + ":" + key }

// GetRunByIdempotencyKey returns the run that owner ("": AnonymousOwner)
// submitted with key, or ErrNotFound.
func GetRunByIdempotencyKey(ctx context.Context, q Querier, owner, key string) (*Run, error) {
	if !ValidText(key) || !ValidText(owner) {
		return nil, ErrNotFound
	}
	if owner == "" {
		owner = AnonymousOwner
	}
	r, err := scanRun(q.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE idempotency_key = $1`, ownerKey(owner, key)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return r, err
}

// RunFilter selects runs for ListRuns. Runs come newest first; BeforeID continues a
// listing after the last id of the previous page (ids are time-ordered).
type RunFilter struct {
	// Owner, when set, keeps the runs of that owner only.
	Owner    string
	Kind     string
	State    State
	BeforeID string
	Limit    int
}

// ListRuns returns at most f.Limit runs matching f, newest first.
func ListRuns(ctx context.Context, q Querier, f RunFilter) ([]*Run, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Owner != "" {
		add("owner = $%d", f.Owner)
	}
	if f.Kind != "" {
		add("kind = $%d", f.Kind)
	}
	if f.State != "" {
		add("state = $%d", string(f.State))
	}
	if f.BeforeID != "" {
		add("id < $%d", f.BeforeID)
	}
	query := `SELECT ` + runColumns + ` FROM runs`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	query += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args))
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: list runs: %w", err)
	}
	return scanRuns(rows)
}

// ClaimRun marks run id as running under lease for worker, counting an attempt. It
// reports false when the lease is no longer current or the run is final: the River
// job carrying it is stale and must not do the work.
func ClaimRun(ctx context.Context, q Querier, id string, lease int64, worker string, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE runs SET state = 'running', attempt = attempt + 1,
		worker_id = $3, heartbeat_at = $4, updated_at = $4, started_at = COALESCE(started_at, $4),
		error = NULL, progress_json = NULL
		WHERE id = $1 AND lease = $2 AND state IN ('queued', 'running') AND NOT cancel_requested`,
		id, lease, worker, now.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("storage: claim run %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Heartbeat renews a running run's lease. held is false when the worker no longer
// holds it (the run was re-queued elsewhere or finished); cancel is true when a user
// asked to cancel the run.
func Heartbeat(ctx context.Context, q Querier, id string, lease int64, worker string, now time.Time) (held, cancel bool, err error) {
	err = q.QueryRowContext(ctx, `UPDATE runs SET heartbeat_at = $4
		WHERE id = $1 AND lease = $2 AND worker_id = $3 AND state = 'running'
		RETURNING cancel_requested`, id, lease, worker, now.UnixMicro()).Scan(&cancel)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("storage: heartbeat run %s: %w", id, err)
	}
	return true, cancel, nil
}

// SetProgress records the latest progress of a running run held under lease.
func SetProgress(ctx context.Context, q Querier, id string, lease int64, p Progress, now time.Time) error {
	text, err := jsonText(p)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `UPDATE runs SET progress_json = $3, updated_at = $4
		WHERE id = $1 AND lease = $2 AND state = 'running'`, id, lease, text, now.UnixMicro())
	if err != nil {
		return fmt.Errorf("storage: progress of run %s: %w", id, err)
	}
	return nil
}

// Finish moves a run held under lease to a final state, or back to queued when
// state is Queued (a failed attempt that River will retry, or a worker shutting
// down). A run whose cancellation was requested is not queued again: it ends
// cancelled, since nothing would ever run it (it can no longer be claimed, and
// River cancels a job that was asked to cancel instead of retrying it). It reports
// false when the lease is no longer held: another worker's result was, or will
// be, committed instead, and the caller's result must be discarded.
func Finish(ctx context.Context, q Querier, id string, lease int64, state State, errMsg string, result *Result, resultPath string, now time.Time) (bool, error) {
	res, err := jsonText(result)
	if err != nil {
		return false, err
	}
	var resultBytes int64
	if result == nil {
		res = nil
	} else {
		resultBytes = result.Bytes
	}
	var finished any
	if state.Final() {
		finished = now.UnixMicro()
	}
	out, err := q.ExecContext(ctx, `UPDATE runs SET
		state = CASE WHEN $3 = 'queued' AND cancel_requested THEN 'cancelled' ELSE $3 END,
		error = CASE WHEN $3 = 'queued' AND cancel_requested THEN 'cancelled by request' ELSE $4 END,
		finished_at = CASE WHEN $3 = 'queued' AND cancel_requested THEN CAST($8 AS BIGINT) ELSE CAST($7 AS BIGINT) END,
		result_json = $5, result_path = $6, updated_at = $8, worker_id = NULL, result_bytes = $9
		WHERE id = $1 AND lease = $2 AND state = 'running'`,
		id, lease, string(state), nullString(errMsg), res, nullString(resultPath), finished, now.UnixMicro(), resultBytes)
	if err != nil {
		return false, fmt.Errorf("storage: finish run %s: %w", id, err)
	}
	n, err := out.RowsAffected()
	return n == 1, err
}

// Interrupt puts a run held under lease back in the queue without counting
// the interrupted attempt: its worker is shutting down, and the same River job,
// snoozed, carries the run again. A run whose cancellation was requested ends
// cancelled instead. It reports false when the lease is no longer held.
func Interrupt(ctx context.Context, q Querier, id string, lease int64, now time.Time, reason string) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE runs SET
		state = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END,
		attempt = CASE WHEN cancel_requested OR attempt = 0 THEN attempt ELSE attempt - 1 END,
		error = CASE WHEN cancel_requested THEN 'cancelled by request' ELSE $3 END,
		finished_at = CASE WHEN cancel_requested THEN $4 ELSE finished_at END,
		worker_id = NULL, updated_at = $4
		WHERE id = $1 AND lease = $2 AND state = 'running'`,
		id, lease, reason, now.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("storage: interrupt run %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RequestCancel flags a live run for cancellation and returns it as it was before.
// A queued run is cancelled at once; a running one is flagged, and its worker ends
// it as cancelled. Final runs are returned unchanged.
func RequestCancel(ctx context.Context, q Querier, id string, now time.Time) (*Run, error) {
	// The run may change between the read and the conditional update (a worker
	// claims it, a reaper re-queues it): then the update matches nothing and the
	// run is read again, so that the request is never silently dropped.
	for {
		r, err := GetRun(ctx, q, id)
		if err != nil {
			return nil, err
		}
		var res sql.Result
		switch r.State {
		case Queued:
			res, err = q.ExecContext(ctx, `UPDATE runs SET state = 'cancelled', cancel_requested = TRUE,
				finished_at = $2, updated_at = $2, waiting_for = NULL WHERE id = $1 AND state = 'queued' AND lease = $3`, id, now.UnixMicro(), r.Lease)
		case Running:
			res, err = q.ExecContext(ctx, `UPDATE runs SET cancel_requested = TRUE, updated_at = $2
				WHERE id = $1 AND state = 'running' AND lease = $3`, id, now.UnixMicro(), r.Lease)
		default:
			return r, nil
		}
		if err != nil {
			return nil, fmt.Errorf("storage: cancel run %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("storage: cancel run %s: %w", id, err)
		} else if n == 1 {
			return r, nil
		}
	}
}

// StaleRun is a running run whose worker stopped heartbeating.
type StaleRun struct {
	ID              string
	Kind            string
	Lease           int64
	Attempt         int
	MaxAttempts     int
	CancelRequested bool
}

// StaleRuns lists running runs whose last heartbeat is older than cutoff.
func StaleRuns(ctx context.Context, q Querier, cutoff time.Time) ([]StaleRun, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, kind, lease, attempt, max_attempts, cancel_requested
		FROM runs WHERE state = 'running' AND heartbeat_at < $1`, cutoff.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("storage: stale runs: %w", err)
	}
	return scanStaleRuns(rows)
}

// scanRuns reads rows of runColumns and closes them.
func scanRuns(rows *sql.Rows) ([]*Run, error) {
	defer rows.Close()
	var out []*Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// scanStaleRuns reads rows of (id, kind, lease, attempt, max_attempts,
// cancel_requested) and closes them.
func scanStaleRuns(rows *sql.Rows) ([]StaleRun, error) {
	defer rows.Close()
	var out []StaleRun
	for rows.Next() {
		var s StaleRun
		if err := rows.Scan(&s.ID, &s.Kind, &s.Lease, &s.Attempt, &s.MaxAttempts, &s.CancelRequested); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Requeue takes a stale run away from its worker by moving it to a new lease
// (lease+1) in state queued. It reports false when the run changed meanwhile (it
// heartbeated, finished, another process re-queued it first, or a cancel was
// requested: such a run is to be ended, see FailStale, not queued again).
func Requeue(ctx context.Context, q Querier, s StaleRun, cutoff, now time.Time, reason string) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE runs SET state = 'queued', lease = lease + 1, worker_id = NULL,
		error = $4, updated_at = $5
		WHERE id = $1 AND lease = $2 AND state = 'running' AND heartbeat_at < $3 AND NOT cancel_requested`,
		s.ID, s.Lease, cutoff.UnixMicro(), reason, now.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("storage: requeue run %s: %w", s.ID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RequeueOrphan moves a queued run under lease, handed back to the queue
// before cutoff, to a new lease (lease+1), for a new River job to carry: its
// River job was lost with the worker that handed it back (see
// jobs.Service.rescueOrphans). It reports false when the run changed
// meanwhile (it was claimed, ended, cancelled or re-queued by another
// process).
func RequeueOrphan(ctx context.Context, q Querier, id string, lease int64, cutoff, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE runs SET lease = lease + 1, updated_at = $4
		WHERE id = $1 AND lease = $2 AND state = 'queued' AND updated_at < $3 AND NOT cancel_requested`,
		id, lease, cutoff.UnixMicro(), now.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("storage: requeue orphaned run %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// FailStale ends a stale run that has no attempts left (or was to be cancelled).
func FailStale(ctx context.Context, q Querier, s StaleRun, state State, cutoff, now time.Time, reason string) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE runs SET state = $4, worker_id = NULL, error = $5,
		finished_at = $6, updated_at = $6
		WHERE id = $1 AND lease = $2 AND state = 'running' AND heartbeat_at < $3`,
		s.ID, s.Lease, cutoff.UnixMicro(), string(state), nullString(reason), now.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("storage: end stale run %s: %w", s.ID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CountRuns returns the number of runs by kind and state.
func CountRuns(ctx context.Context, q Querier) (map[[2]string]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT kind, state, COUNT(*) FROM runs GROUP BY kind, state`)
	if err != nil {
		return nil, fmt.Errorf("storage: count runs: %w", err)
	}
	defer rows.Close()
	out := map[[2]string]int{}
	for rows.Next() {
		var k, s string
		var n int
		if err := rows.Scan(&k, &s, &n); err != nil {
			return nil, err
		}
		out[[2]string{k, s}] = n
	}
	return out, rows.Err()
}

// RunsChangedSince returns the runs whose row changed at or after since (state,
// progress, result, cancellation; heartbeats do not count), oldest change first,
// at most limit of them.
func RunsChangedSince(ctx context.Context, q Querier, since time.Time, limit int) ([]*Run, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+runColumns+` FROM runs WHERE updated_at >= $1
		ORDER BY updated_at LIMIT $2`, since.UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("storage: changed runs: %w", err)
	}
	return scanRuns(rows)
}

// HeldRuns lists the running runs held by worker.
func HeldRuns(ctx context.Context, q Querier, worker string) ([]StaleRun, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, kind, lease, attempt, max_attempts, cancel_requested
		FROM runs WHERE state = 'running' AND worker_id = $1`, worker)
	if err != nil {
		return nil, fmt.Errorf("storage: runs held by %s: %w", worker, err)
	}
	return scanStaleRuns(rows)
}

// Release hands a run that worker still holds back to the queue under a new lease
// (lease+1) without counting the interrupted attempt: the worker is shutting down
// and abandons a job that did not stop in time. A run whose cancellation was
// requested ends cancelled instead. It reports false when the run changed
// meanwhile (finished, or no longer held by worker under s.Lease).
func Release(ctx context.Context, q Querier, s StaleRun, worker string, now time.Time, reason string) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE runs SET
		state = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END,
		lease = lease + 1, worker_id = NULL, attempt = CASE WHEN attempt > 0 THEN attempt - 1 ELSE 0 END,
		error = CASE WHEN cancel_requested THEN 'cancelled by request' ELSE $4 END,
		finished_at = CASE WHEN cancel_requested THEN $5 ELSE finished_at END, updated_at = $5
		WHERE id = $1 AND lease = $2 AND state = 'running' AND worker_id = $3`,
		s.ID, s.Lease, worker, reason, now.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("storage: release run %s: %w", s.ID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
