// Package migrations holds Eddy's own schema as goose SQL migrations, one folder per
// dialect, embedded into the binaries. River's tables are migrated separately by
// rivermigrate (see storage.Migrate); these files never touch them.
//
// Timestamps are stored as BIGINT microseconds since the Unix epoch (UTC) and JSON as
// TEXT in both dialects, so that the same SQL text (with $n placeholders, which
// modernc's SQLite driver accepts) serves both databases.
package migrations

import "embed"

// FS holds sqlite/*.sql and postgres/*.sql.
//
//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
