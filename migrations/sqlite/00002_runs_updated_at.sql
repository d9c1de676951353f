-- +goose Up
-- The event streams' change feed reads the runs changed since its last poll.
CREATE INDEX runs_updated_at ON runs (updated_at);

-- +goose Down
DROP INDEX runs_updated_at;
