package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Artifacts stores the files of results, uploads and models under string keys such
// as "results/<run>/<lease>.h5". Files are written by their producers to the local
// path the store hands out (HDF5 needs a real file) and published atomically by
// rename; an object store can implement the same interface by uploading on Commit.
type Artifacts interface {
	// LocalPath is the file behind key, for reading. It creates nothing, so a
	// store mounted read-only serves what it holds.
	LocalPath(key string) (string, error)
	// WritePath is the file behind key for writing a new artifact, its
	// folder created.
	WritePath(key string) (string, error)
	// Open opens a stored artifact for reading.
	Open(key string) (*os.File, error)
	// Remove deletes an artifact; a missing one is not an error.
	Remove(key string) error
}

// Dir is an Artifacts kept in a local (or shared network) directory.
type Dir struct{ Root string }

// NewDir returns a Dir rooted at root, creating it.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("storage: data dir %s: %w", root, err)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	return &Dir{Root: abs}, nil
}

// LocalPath returns the path of key under the root. Keys are relative,
// slash-separated and may not climb out of the root.
func (d *Dir) LocalPath(key string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(key))
	if key == "" || filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("storage: bad artifact key %q", key)
	}
	return filepath.Join(d.Root, clean), nil
}

// WritePath returns the path of key under the root, creating its folder.
func (d *Dir) WritePath(key string) (string, error) {
	p, err := d.LocalPath(key)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("storage: artifact folder: %w", err)
	}
	return p, nil
}

// Open opens key for reading.
func (d *Dir) Open(key string) (*os.File, error) {
	p, err := d.LocalPath(key)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Remove deletes key.
func (d *Dir) Remove(key string) error {
	p, err := d.LocalPath(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// FileDigest returns the size and hex SHA-256 of the file at path.
func FileDigest(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
