package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
)

// AnonymousOwner owns what is created without a token: everything an API
// that runs open (no token configured, loopback only) stores, and the rows
// from before owners existed.
const AnonymousOwner = "anonymous"

var ownerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// ValidOwner reports whether s can name an owner: 1 to 64 letters, digits
// and ".", "_", "@", "-", starting with a letter or digit. An owner name has
// no colon, which keeps the per-owner idempotency keys apart (see ownerKey).
func ValidOwner(s string) bool { return ownerName.MatchString(s) }

// RunOwner returns the owner of run id, or ErrNotFound.
func RunOwner(ctx context.Context, q Querier, id string) (string, error) {
	return ownerOf(ctx, q, `SELECT owner FROM runs WHERE id = $1`, id)
}

// UploadOwner returns the owner of upload id, or ErrNotFound.
func UploadOwner(ctx context.Context, q Querier, id string) (string, error) {
	return ownerOf(ctx, q, `SELECT owner FROM uploads WHERE id = $1`, id)
}

func ownerOf(ctx context.Context, q Querier, query, id string) (string, error) {
	if !ValidText(id) {
		return "", ErrNotFound
	}
	var owner string
	err := q.QueryRowContext(ctx, query, id).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("storage: owner of %s: %w", id, err)
	}
	return owner, nil
}

// Usage is what one owner holds, for quotas.
type Usage struct {
	// Bytes is the size of the owner's uploads and result files.
	Bytes int64
	// Unfinished counts the owner's queued and running jobs.
	Unfinished int
}

// OwnerUsage returns what owner holds.
func OwnerUsage(ctx context.Context, q Querier, owner string) (Usage, error) {
	var u Usage
	// PostgreSQL sums BIGINT as NUMERIC: the cast keeps one type for both.
	err := q.QueryRowContext(ctx, `SELECT CAST(
		(SELECT COALESCE(SUM(bytes), 0) FROM uploads WHERE owner = $1) +
		(SELECT COALESCE(SUM(result_bytes), 0) FROM runs WHERE owner = $1) AS BIGINT),
		(SELECT COUNT(*) FROM runs WHERE owner = $1 AND state IN ('queued', 'running'))`, owner).Scan(&u.Bytes, &u.Unfinished)
	if err != nil {
		return Usage{}, fmt.Errorf("storage: usage of owner %s: %w", owner, err)
	}
	return u, nil
}
