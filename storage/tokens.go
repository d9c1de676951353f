package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Scope is what a token may do. A user token sees and changes its owner's
// jobs and uploads only; an admin token sees every owner's, and the
// operator's endpoints (/metrics, the queue's UI).
type Scope string

const (
	ScopeUser  Scope = "user"
	ScopeAdmin Scope = "admin"
)

// Valid reports whether s names a scope.
func (s Scope) Valid() bool { return s == ScopeUser || s == ScopeAdmin }

// Token is a bearer token as stored: never the token itself, only its
// SHA-256 (the token holds 256 random bits, so a plain hash suffices and a
// lookup by hash is an index probe).
type Token struct {
	ID    string
	Name  string
	Owner string
	Scope Scope
	// Hash is the hex SHA-256 of the token.
	Hash       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero if never used
	RevokedAt  time.Time // zero while valid
}

// tokenPrefix starts every token Eddy makes, so that one found in a log or a
// repository is recognised.
const tokenPrefix = "eddy_"

// NewSecret returns a new token: the prefix and 32 random bytes, base64url.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go 1.24)
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the hex SHA-256 of a token, as stored.
func HashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// ErrTokenExists is returned by InsertToken for a token already stored.
var ErrTokenExists = errors.New("storage: token already stored")

// InsertToken stores a token of the given secret (see NewSecret) and returns
// its record, or ErrTokenExists if that token is stored already.
func InsertToken(ctx context.Context, q Querier, secret, name, owner string, scope Scope, now time.Time) (*Token, error) {
	if !scope.Valid() {
		return nil, fmt.Errorf("storage: token scope %q: want user or admin", scope)
	}
	if !ValidOwner(owner) {
		return nil, fmt.Errorf("storage: owner %q: want 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit", owner)
	}
	if !ValidText(name) || len(name) > 200 {
		return nil, fmt.Errorf("storage: token name: at most 200 characters, no NUL")
	}
	t := &Token{ID: uuid.NewString()[:8], Name: name, Owner: owner, Scope: scope, Hash: HashToken(secret), CreatedAt: now.UTC()}
	res, err := q.ExecContext(ctx, `INSERT INTO tokens (id, name, owner, scope, hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hash) DO NOTHING`,
		t.ID, t.Name, t.Owner, string(t.Scope), t.Hash, now.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("storage: insert token: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("storage: insert token: %w", err)
	} else if n == 0 {
		return nil, ErrTokenExists
	}
	return t, nil
}

const tokenColumns = `id, name, owner, scope, hash, created_at, last_used_at, revoked_at`

func scanToken(s scanner) (*Token, error) {
	var (
		t             Token
		created       int64
		used, revoked sql.NullInt64
	)
	if err := s.Scan(&t.ID, &t.Name, &t.Owner, &t.Scope, &t.Hash, &created, &used, &revoked); err != nil {
		return nil, err
	}
	t.CreatedAt = time.UnixMicro(created).UTC()
	t.LastUsedAt, t.RevokedAt = fromMicros(used), fromMicros(revoked)
	return &t, nil
}

// TokenBySecret returns the valid (not revoked) token whose SHA-256 is the
// given secret's, or ErrNotFound. The stored hash is compared again in
// constant time, so that no answer depends on how much of it matched.
func TokenBySecret(ctx context.Context, q Querier, secret string) (*Token, error) {
	hash := HashToken(secret)
	t, err := scanToken(q.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens
		WHERE hash = $1 AND revoked_at IS NULL`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(hash)) != 1 {
		return nil, ErrNotFound
	}
	return t, nil
}

// ListTokens returns every token, valid and revoked, oldest first.
func ListTokens(ctx context.Context, q Querier) ([]*Token, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("storage: tokens: %w", err)
	}
	defer rows.Close()
	var out []*Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CountValidTokens returns how many tokens are not revoked.
func CountValidTokens(ctx context.Context, q Querier) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE revoked_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("storage: count tokens: %w", err)
	}
	return n, nil
}

// RevokeToken revokes token id. It returns ErrNotFound if there is no such
// token; revoking a revoked token changes nothing.
func RevokeToken(ctx context.Context, q Querier, id string, now time.Time) error {
	if !ValidText(id) {
		return ErrNotFound
	}
	res, err := q.ExecContext(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, id, now.UnixMicro())
	if err != nil {
		return fmt.Errorf("storage: revoke token %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

// TouchToken records that token id was used at now.
func TouchToken(ctx context.Context, q Querier, id string, now time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE tokens SET last_used_at = $2 WHERE id = $1`, id, now.UnixMicro()); err != nil {
		return fmt.Errorf("storage: token %s used: %w", id, err)
	}
	return nil
}
