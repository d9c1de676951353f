package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"
)

// Stores that keep or cache artifacts as local files implement these, so that
// Stage and Fetch use those files instead of copying through Create and Open.
type (
	// stager reserves a local file for key's next version (stage) and
	// publishes it as key, taking the file (publish).
	stager interface {
		stage(key string) (string, error)
		publish(ctx context.Context, local, key string) error
	}
	// fetcher returns a local file holding key, valid until release is
	// called.
	fetcher interface {
		fetch(ctx context.Context, key string) (path string, release func(), err error)
	}
	// rooted names the local folders a store writes under (see Redact).
	rooted interface{ localRoots() []string }
)

// Staged is a local file being written for a store by a producer that needs a
// real file (HDF5). Nothing is visible in the store until Commit.
type Staged struct {
	// Path is the file to write. It exists (empty) and may be replaced by a
	// rename.
	Path  string
	store Artifacts
	done  bool
}

// Stage reserves a local file for a new artifact that will be published as
// key (or, for a producer that learns the key late, another key in the same
// folder). A directory store stages beside key's file and Commit renames it;
// any other store stages in its scratch folder (or the system's temporary
// one) and Commit uploads it.
func Stage(a Artifacts, key string) (*Staged, error) {
	if _, err := cleanKey(key); err != nil {
		return nil, err
	}
	if s, ok := a.(stager); ok {
		p, err := s.stage(key)
		if err != nil {
			return nil, err
		}
		return &Staged{Path: p, store: a}, nil
	}
	p, err := scratchFile("", key)
	if err != nil {
		return nil, err
	}
	return &Staged{Path: p, store: a}, nil
}

// scratchFile creates an empty temporary file in dir (the system's temporary
// folder if empty) named after key's last element.
func scratchFile(dir, key string) (string, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("storage: scratch folder: %w", err)
		}
	}
	f, err := os.CreateTemp(dir, "."+path.Base(key)+".*.stage")
	if err != nil {
		return "", fmt.Errorf("storage: scratch file: %w", err)
	}
	f.Close()
	return f.Name(), nil
}

// Commit publishes the staged file as key; the local file is taken (renamed
// or removed). On error nothing is visible under key.
func (s *Staged) Commit(ctx context.Context, key string) error {
	if s.done {
		return errors.New("storage: staged file already committed or aborted")
	}
	s.done = true
	if st, ok := s.store.(stager); ok {
		if err := st.publish(ctx, s.Path, key); err != nil {
			os.Remove(s.Path)
			return err
		}
		return nil
	}
	defer os.Remove(s.Path)
	return copyIn(ctx, s.store, key, s.Path)
}

// copyIn writes the local file at local to a as key.
func copyIn(ctx context.Context, a Artifacts, key, local string) error {
	f, err := os.Open(local)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := a.Create(ctx, key)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, f); err != nil {
		w.Abort()
		return err
	}
	if err := w.Commit(); err != nil {
		w.Abort()
		return err
	}
	return nil
}

// Abort removes the staged file; it does nothing after Commit.
func (s *Staged) Abort() {
	if !s.done {
		s.done = true
		os.Remove(s.Path)
	}
}

// Local is a stored artifact as a local file, for readers that need one
// (HDF5). Close releases it: a cached copy may then be evicted.
type Local struct {
	Path    string
	release func()
	once    sync.Once
}

// Close releases the file.
func (l *Local) Close() error {
	l.once.Do(l.release)
	return nil
}

// Fetch returns key as a local file: a directory store's own file, a remote
// store's cached copy, or else a temporary copy that Close removes. A missing
// artifact is an error that wraps fs.ErrNotExist.
func Fetch(ctx context.Context, a Artifacts, key string) (*Local, error) {
	if f, ok := a.(fetcher); ok {
		p, release, err := f.fetch(ctx, key)
		if err != nil {
			return nil, err
		}
		return &Local{Path: p, release: release}, nil
	}
	p, err := scratchFile("", key)
	if err != nil {
		return nil, err
	}
	if err := copyOut(ctx, a, key, p); err != nil {
		os.Remove(p)
		return nil, err
	}
	return &Local{Path: p, release: func() { os.Remove(p) }}, nil
}

// copyOut writes artifact key of a into the local file at local.
func copyOut(ctx context.Context, a Artifacts, key, local string) error {
	r, err := a.Open(ctx, key)
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := os.OpenFile(local, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != r.Info().Size {
		err = fmt.Errorf("storage: artifact %s: read %d of %d bytes", key, n, r.Info().Size)
	}
	return err
}

// Redact removes the store's local folders from msg (an error's text), so
// that a message shown to a client names no server path.
func Redact(a Artifacts, msg string) string {
	r, ok := a.(rooted)
	if !ok {
		return msg
	}
	for _, root := range r.localRoots() {
		if root != "" {
			msg = strings.ReplaceAll(msg, strings.TrimSuffix(root, string(os.PathSeparator))+string(os.PathSeparator), "")
		}
	}
	return msg
}
