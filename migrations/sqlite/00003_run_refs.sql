-- +goose Up
-- The uploads and jobs each run references (reference params and inputs), recorded
-- at submit: a file that a queued or running run needs is found in one query.
CREATE TABLE run_refs (
    run_id TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    path   TEXT NOT NULL,
    PRIMARY KEY (run_id, path)
);
CREATE INDEX run_refs_ref_id ON run_refs (ref_id);
-- waiting_for is the JSON array of the unfinished jobs a queued run waits for;
-- NULL when its River job exists (or it never waited).
ALTER TABLE runs ADD COLUMN waiting_for TEXT;

-- +goose Down
ALTER TABLE runs DROP COLUMN waiting_for;
DROP TABLE run_refs;
