package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Dataset describes one array inside an uploaded or produced file.
type Dataset struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	Dtype string `json:"dtype"`
}

// Upload is a user file kept for use as a job input.
type Upload struct {
	ID        string
	Filename  string
	Format    string // "hdf5" or "mat"
	Bytes     int64
	SHA256    string
	Datasets  []Dataset
	Path      string // artifact key
	CreatedAt time.Time
	// Owner owns the upload (see Token.Owner); AnonymousOwner without tokens.
	Owner string
}

// InsertUpload records u; an upload without an owner gets AnonymousOwner.
func InsertUpload(ctx context.Context, q Querier, u *Upload) error {
	if u.Owner == "" {
		u.Owner = AnonymousOwner
	}
	ds, err := json.Marshal(u.Datasets)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `INSERT INTO uploads (id, filename, format, bytes, sha256, datasets_json, path, created_at, owner)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		u.ID, u.Filename, u.Format, u.Bytes, u.SHA256, string(ds), u.Path, u.CreatedAt.UnixMicro(), u.Owner)
	if err != nil {
		return fmt.Errorf("storage: insert upload %s: %w", u.ID, err)
	}
	return nil
}

// GetUpload returns the upload with the given id, or ErrNotFound.
func GetUpload(ctx context.Context, q Querier, id string) (*Upload, error) {
	if !ValidText(id) {
		return nil, ErrNotFound // no stored id is such a string
	}
	var (
		u       Upload
		ds      string
		created int64
	)
	err := q.QueryRowContext(ctx, `SELECT id, filename, format, bytes, sha256, datasets_json, path, created_at, owner
		FROM uploads WHERE id = $1`, id).Scan(&u.ID, &u.Filename, &u.Format, &u.Bytes, &u.SHA256, &ds, &u.Path, &created, &u.Owner)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: upload %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(ds), &u.Datasets); err != nil {
		return nil, fmt.Errorf("storage: upload %s datasets: %w", id, err)
	}
	u.CreatedAt = time.UnixMicro(created).UTC()
	return &u, nil
}

// UploadFilter selects uploads for ListUploads. Uploads come newest first;
// After continues a listing after the last upload of the previous page.
type UploadFilter struct {
	// Owner, when set, keeps the uploads of that owner only.
	Owner string
	// After, when set, is the last upload of the previous page: the listing
	// resumes with the uploads created before it (ids break ties, as upload
	// ids are random and not ordered by time).
	After *UploadCursor
	Limit int
}

// UploadCursor is the position of one upload in the newest-first order.
type UploadCursor struct {
	CreatedAt time.Time
	ID        string
}

// ListUploads returns at most f.Limit uploads matching f, newest first.
func ListUploads(ctx context.Context, q Querier, f UploadFilter) ([]*Upload, error) {
	var (
		where []string
		args  []any
	)
	if f.Owner != "" {
		args = append(args, f.Owner)
		where = append(where, fmt.Sprintf("owner = $%d", len(args)))
	}
	if f.After != nil {
		args = append(args, f.After.CreatedAt.UnixMicro(), f.After.ID)
		where = append(where, fmt.Sprintf("(created_at < $%d OR (created_at = $%d AND id < $%d))", len(args)-1, len(args)-1, len(args)))
	}
	query := `SELECT id, filename, format, bytes, sha256, datasets_json, path, created_at, owner FROM uploads`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	query += fmt.Sprintf(" ORDER BY created_at DESC, id DESC LIMIT $%d", len(args))
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: list uploads: %w", err)
	}
	defer rows.Close()
	var out []*Upload
	for rows.Next() {
		var (
			u       Upload
			ds      string
			created int64
		)
		if err := rows.Scan(&u.ID, &u.Filename, &u.Format, &u.Bytes, &u.SHA256, &ds, &u.Path, &created, &u.Owner); err != nil {
			return nil, fmt.Errorf("storage: list uploads: %w", err)
		}
		if err := json.Unmarshal([]byte(ds), &u.Datasets); err != nil {
			return nil, fmt.Errorf("storage: upload %s datasets: %w", u.ID, err)
		}
		u.CreatedAt = time.UnixMicro(created).UTC()
		out = append(out, &u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: list uploads: %w", err)
	}
	return out, nil
}
