-- +goose Up
CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    params_json      TEXT NOT NULL,
    inputs_json      TEXT NOT NULL DEFAULT '{}',
    idempotency_key  TEXT UNIQUE,
    -- lease is the fencing token: it changes whenever the run is handed to a new River
    -- job (first insert, re-queue after a lost worker). Only the holder of the current
    -- lease may heartbeat, report progress or finish the run.
    lease            BIGINT NOT NULL DEFAULT 1,
    river_job_id     BIGINT,
    attempt          BIGINT NOT NULL DEFAULT 0,
    max_attempts     BIGINT NOT NULL,
    worker_id        TEXT,
    heartbeat_at     BIGINT,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    error            TEXT,
    progress_json    TEXT,
    result_json      TEXT,
    result_path      TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    started_at       BIGINT,
    finished_at      BIGINT
);
CREATE INDEX runs_kind_id ON runs (kind, id);
CREATE INDEX runs_state_id ON runs (state, id);
CREATE INDEX runs_running_heartbeat ON runs (state, heartbeat_at);

CREATE TABLE uploads (
    id             TEXT PRIMARY KEY,
    filename       TEXT NOT NULL DEFAULT '',
    format         TEXT NOT NULL,
    bytes          BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    datasets_json  TEXT NOT NULL,
    path           TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

-- +goose Down
DROP TABLE uploads;
DROP TABLE runs;
