package storage

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/rivermigrate"

	"eddy/migrations"
)

// migrationLockKey is the PostgreSQL advisory lock that serialises migrations of
// processes started at the same time ("eddy" in ASCII).
const migrationLockKey = 0x65646479

// Migrate brings River's tables and Eddy's own tables up to date. It is safe to call
// from several processes at once: on PostgreSQL they queue on a session advisory
// lock, on SQLite on an exclusive lock of a file beside the database.
func (db *DB) Migrate(ctx context.Context) error {
	unlock, err := db.lockMigrations(ctx)
	if err != nil {
		return err
	}
	defer unlock()

	// River first: its migrations are not transactional as a whole on a fresh
	// PostgreSQL, so they run one by one under the lock.
	migrator, err := rivermigrate.New(db.RiverDriver(), nil)
	if err != nil {
		return fmt.Errorf("storage: river migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("storage: river migrations: %w", err)
	}

	dialect, dir := goose.DialectSQLite3, "sqlite"
	if db.Dialect == Postgres {
		dialect, dir = goose.DialectPostgres, "postgres"
	}
	sub, err := fs.Sub(migrations.FS, dir)
	if err != nil {
		return fmt.Errorf("storage: migrations %s: %w", dir, err)
	}
	provider, err := goose.NewProvider(dialect, db.SQL, sub, goose.WithTableName("eddy_goose_version"))
	if err != nil {
		return fmt.Errorf("storage: goose: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("storage: eddy migrations: %w", err)
	}
	return nil
}

func (db *DB) lockMigrations(ctx context.Context) (unlock func(), err error) {
	if db.Dialect == Postgres {
		conn, err := db.SQL.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("storage: migration lock: %w", err)
		}
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLockKey)); err != nil {
			conn.Close()
			return nil, fmt.Errorf("storage: migration lock: %w", err)
		}
		return func() {
			conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", int64(migrationLockKey))
			conn.Close()
		}, nil
	}
	f, err := os.OpenFile(db.path+".migrate-lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("storage: migration lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("storage: migration lock: %w", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// tx runs fn in a transaction, committing when it returns nil.
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
