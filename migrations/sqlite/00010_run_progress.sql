-- +goose Up
-- The progress history of a run's current attempt: every progress update the
-- runner stored (throttled, and thinned when long), plus the stages and
-- warnings of the attempt, in the order they happened (seq). A new attempt
-- starts a new history. Rows go with their run.
CREATE TABLE run_progress (
    run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('progress', 'stage', 'warning')),
    fraction     REAL NOT NULL,
    message      TEXT NOT NULL DEFAULT '',
    metrics_json TEXT,
    PRIMARY KEY (run_id, seq)
);

-- +goose Down
DROP TABLE run_progress;
