-- +goose Up
-- Bearer tokens, stored as the hex SHA-256 of the token (never the token
-- itself). A token acts for its owner: the runs and uploads it creates carry
-- that owner, and only tokens of the same owner, or of scope admin, see them.
-- A revoked token stays listed with the time of its revocation.
CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL DEFAULT '',
    owner        TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('user', 'admin')),
    hash         TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
-- Rows from before owners belong to the owner of an API without tokens.
ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT 'anonymous';
ALTER TABLE uploads ADD COLUMN owner TEXT NOT NULL DEFAULT 'anonymous';
-- An idempotency key is unique per owner: the stored key is "owner:key"
-- (an owner name has no colon).
UPDATE runs SET idempotency_key = 'anonymous:' || idempotency_key WHERE idempotency_key IS NOT NULL;
-- The size of a succeeded run's result file, for the owner's stored-bytes quota.
ALTER TABLE runs ADD COLUMN result_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE runs SET result_bytes = COALESCE(json_extract(result_json, '$.bytes'), 0) WHERE result_json IS NOT NULL;
CREATE INDEX runs_owner_id ON runs (owner, id);
CREATE INDEX runs_owner_state ON runs (owner, state);
CREATE INDEX runs_finished_at ON runs (finished_at);
CREATE INDEX uploads_owner ON uploads (owner);
CREATE INDEX uploads_created_at ON uploads (created_at);

-- +goose Down
DROP INDEX uploads_created_at;
DROP INDEX uploads_owner;
DROP INDEX runs_finished_at;
DROP INDEX runs_owner_state;
DROP INDEX runs_owner_id;
ALTER TABLE runs DROP COLUMN result_bytes;
UPDATE runs SET idempotency_key = substr(idempotency_key, instr(idempotency_key, ':') + 1) WHERE idempotency_key IS NOT NULL;
ALTER TABLE uploads DROP COLUMN owner;
ALTER TABLE runs DROP COLUMN owner;
DROP TABLE tokens;
