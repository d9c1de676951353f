package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Artifacts stores the files of results, uploads, checkpoints and models under
// string keys such as "results/<run>/<lease>.h5". It streams: an artifact is
// written through a Writer that publishes it atomically on Commit, and read
// through a Reader that seeks (so downloads answer Range requests). Nothing in
// it names a local file, so that an object store implements it as well as a
// directory does (Dir, Blob).
//
// Producers and readers that need a real file (HDF5 through cgo, format
// sniffers) go through Stage and Fetch, which use the store's own files
// where it has them and a local copy where it does not.
type Artifacts interface {
	// Create starts a new artifact under key. Nothing is visible under key
	// until the writer's Commit, which replaces what key held; Abort, or a
	// Commit that fails, leaves no trace.
	Create(ctx context.Context, key string) (Writer, error)
	// Open opens a stored artifact for reading. A missing one is an error
	// that wraps fs.ErrNotExist.
	Open(ctx context.Context, key string) (Reader, error)
	// Stat describes a stored artifact; a missing one is an error that wraps
	// fs.ErrNotExist.
	Stat(ctx context.Context, key string) (Info, error)
	// Remove deletes an artifact; a missing one is not an error. It takes no
	// context since it runs on clean-up paths, after a request or a run has
	// ended; a remote store bounds it by its own timeout.
	Remove(key string) error
}

// Writer writes a new artifact.
type Writer interface {
	io.Writer
	// Commit publishes what was written under the writer's key.
	Commit() error
	// Abort discards what was written. It may follow a failed Commit, and
	// does nothing after a successful one.
	Abort()
}

// Reader reads a stored artifact. Seeking is cheap: a remote store reads the
// range asked for, so http.ServeContent serves Range requests from it.
type Reader interface {
	io.ReadSeekCloser
	Info() Info
}

// Info describes a stored artifact.
type Info struct {
	Size    int64
	ModTime time.Time
	// ETag names this version of the artifact: a new version under the same
	// key has another. A directory store leaves it empty.
	ETag string
}

// cleanKey checks that key is relative, slash-separated and stays inside the
// store, and returns it cleaned.
func cleanKey(key string) (string, error) {
	clean := path.Clean(key)
	if key == "" || strings.Contains(key, `\`) || path.IsAbs(clean) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("storage: bad artifact key %q", key)
	}
	return clean, nil
}

// notExist wraps fs.ErrNotExist for key.
func notExist(key string) error {
	return fmt.Errorf("storage: artifact %s: %w", key, fs.ErrNotExist)
}

// Dir is an Artifacts kept in a local (or shared network) directory. Each key
// is the file of the same relative path under Root. New files are written
// beside their final name under a hidden temporary name and renamed onto it,
// so a reader sees either the old file or the whole new one.
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

// LocalPath returns the file behind key. It creates nothing, so a store
// mounted read-only serves what it holds.
func (d *Dir) LocalPath(key string) (string, error) {
	clean, err := cleanKey(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(d.Root, filepath.FromSlash(clean)), nil
}

// Create starts key's file as a hidden temporary file in its folder.
func (d *Dir) Create(ctx context.Context, key string) (Writer, error) {
	p, err := d.stage(key)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		os.Remove(p)
		return nil, err
	}
	return &dirWriter{d: d, f: f, key: key}, nil
}

type dirWriter struct {
	d    *Dir
	f    *os.File
	key  string
	done bool
}

func (w *dirWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

func (w *dirWriter) Commit() error {
	if w.done {
		return errors.New("storage: artifact already committed or aborted")
	}
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = w.d.publish(context.Background(), w.f.Name(), w.key)
	}
	if err != nil {
		os.Remove(w.f.Name())
	}
	w.done = true
	return err
}

func (w *dirWriter) Abort() {
	if !w.done {
		w.f.Close()
		os.Remove(w.f.Name())
		w.done = true
	}
}

// Open opens key's file.
func (d *Dir) Open(ctx context.Context, key string) (Reader, error) {
	p, err := d.LocalPath(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notExist(key)
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, notExist(key)
	}
	return &fileReader{File: f, info: Info{Size: fi.Size(), ModTime: fi.ModTime()}}, nil
}

type fileReader struct {
	*os.File
	info Info
}

func (r *fileReader) Info() Info { return r.info }

// Stat describes key's file.
func (d *Dir) Stat(ctx context.Context, key string) (Info, error) {
	p, err := d.LocalPath(key)
	if err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) || err == nil && fi.IsDir() {
		return Info{}, notExist(key)
	}
	if err != nil {
		return Info{}, err
	}
	return Info{Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Remove deletes key's file.
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

// stage reserves a hidden file beside key's for writing key's next version:
// on the same file system, so that publish is a rename.
func (d *Dir) stage(key string) (string, error) {
	p, err := d.LocalPath(key)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("storage: artifact folder: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".*.stage")
	if err != nil {
		return "", fmt.Errorf("storage: artifact file: %w", err)
	}
	f.Close()
	return f.Name(), nil
}

// publish renames the complete file at local onto key's and makes the
// rename durable (where the file system supports syncing a folder).
func (d *Dir) publish(_ context.Context, local, key string) error {
	p, err := d.LocalPath(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("storage: artifact folder: %w", err)
	}
	if err := os.Chmod(local, 0o644); err != nil {
		return err
	}
	if err := os.Rename(local, p); err != nil {
		return err
	}
	if f, err := os.Open(filepath.Dir(p)); err == nil {
		f.Sync()
		f.Close()
	}
	return nil
}

// fetch returns key's own file: a directory store needs no copy.
func (d *Dir) fetch(ctx context.Context, key string) (string, func(), error) {
	if _, err := d.Stat(ctx, key); err != nil {
		return "", nil, err
	}
	p, err := d.LocalPath(key)
	return p, func() {}, err
}

// localRoots is the folder the store's files are under.
func (d *Dir) localRoots() []string { return []string{d.Root} }

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
