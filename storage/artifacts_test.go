package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"eddy/storage"
)

// testStore checks what every Artifacts promises: nothing is visible before
// Commit or after Abort, a commit replaces the whole artifact, reads seek (and
// so serve HTTP ranges), Stage and Fetch carry files in and out, Remove
// deletes, and keys cannot climb out of the store.
func testStore(t *testing.T, a storage.Artifacts) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 300_001)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	const key = "results/run1/lease1-attempt1.h5"

	if _, err := a.Stat(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat of a missing artifact: %v", err)
	}
	if _, err := a.Open(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of a missing artifact: %v", err)
	}

	// An aborted writer leaves nothing.
	w, err := a.Create(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:1000]); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Stat(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("an uncommitted artifact is visible: %v", err)
	}
	w.Abort()
	if _, err := a.Stat(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("an aborted artifact is visible: %v", err)
	}

	// A committed one is whole, and readable from any offset.
	w, err = a.Create(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 70_000)
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if _, err := a.Stat(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("an artifact is visible before its commit: %v", err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Abort() // does nothing after a commit
	info, err := a.Stat(ctx, key)
	if err != nil || info.Size != int64(len(data)) || time.Since(info.ModTime) > time.Hour {
		t.Fatalf("Stat: %+v, %v", info, err)
	}
	r, err := a.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes (%v), want the %d written", len(got), err, len(data))
	}
	for _, off := range []int64{0, 1, 65_536, 299_000, int64(len(data)) - 1} {
		if _, err := r.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 500)
		n, err := io.ReadFull(r, buf)
		want := data[off:min(off+500, int64(len(data)))]
		if n != len(want) || !bytes.Equal(buf[:n], want) || (n < 500 && err != io.ErrUnexpectedEOF) {
			t.Fatalf("at %d: %d bytes, %v", off, n, err)
		}
	}
	if end, err := r.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
		t.Fatalf("seek to the end: %d, %v", end, err)
	}
	if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Fatalf("read at the end: %d, %v", n, err)
	}
	r.Close()

	// Downloads answer Range requests from it.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r, err := a.Open(req.Context(), key)
		if err != nil {
			http.Error(w, err.Error(), http.StatusGone)
			return
		}
		defer r.Close()
		http.ServeContent(w, req, "", r.Info().ModTime, r)
	}))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Range", "bytes=123456-123999")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[123456:124000]) {
		t.Fatalf("range answer %d with %d bytes", resp.StatusCode, len(body))
	}

	// A second commit replaces the artifact whole.
	w, err = a.Create(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("short"))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, a, key); string(got) != "short" {
		t.Fatalf("after the second commit: %q", got)
	}

	// A staged file goes in under the key it is committed as, and comes
	// back out through Fetch.
	st, err := storage.Stage(a, "uploads/u1")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(st.Path, data[:5000], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx, "uploads/u1.h5"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(st.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the staged file stays after its commit: %v", err)
	}
	local, err := storage.Fetch(ctx, a, "uploads/u1.h5")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(local.Path); err != nil || !bytes.Equal(got, data[:5000]) {
		t.Fatalf("fetched %d bytes, %v", len(got), err)
	}
	local.Close()
	if _, err := storage.Fetch(ctx, a, "uploads/none.h5"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Fetch of a missing artifact: %v", err)
	}
	st, err = storage.Stage(a, "uploads/u2")
	if err != nil {
		t.Fatal(err)
	}
	st.Abort()
	if _, err := os.Stat(st.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an aborted staged file stays: %v", err)
	}
	if _, err := a.Stat(ctx, "uploads/u2"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an aborted staged file is visible: %v", err)
	}

	if err := a.Remove(key); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Stat(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a removed artifact: %v", err)
	}
	if err := a.Remove(key); err != nil {
		t.Fatalf("removing a missing artifact: %v", err)
	}

	for _, bad := range []string{"", "../x", "/etc/passwd", "a/../../x", `a\..\..\x`} {
		if _, err := a.Create(ctx, bad); err == nil {
			t.Errorf("key %q accepted", bad)
		}
		if _, err := storage.Stage(a, bad); err == nil {
			t.Errorf("key %q accepted for staging", bad)
		}
	}
}

func readAll(t *testing.T, a storage.Artifacts, key string) []byte {
	t.Helper()
	r, err := a.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDirStore(t *testing.T) {
	root := t.TempDir()
	d, err := storage.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, d)
	// Nothing is left beside the files: no temporary or staged file.
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasPrefix(info.Name(), ".") {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

// A directory store hands HDF5 its own files: Fetch copies nothing, and a
// staged file is renamed into place.
func TestDirStoreCopiesNothing(t *testing.T) {
	d, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.Stage(d, "results/r/x.h5")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(st.Path) != filepath.Join(d.Root, "results", "r") {
		t.Fatalf("staged at %s, not beside the result", st.Path)
	}
	os.WriteFile(st.Path, []byte("x"), 0o600)
	before, _ := os.Stat(st.Path)
	if err := st.Commit(context.Background(), "results/r/x.h5"); err != nil {
		t.Fatal(err)
	}
	l, err := storage.Fetch(context.Background(), d, "results/r/x.h5")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	want, _ := d.LocalPath("results/r/x.h5")
	after, _ := os.Stat(want)
	if l.Path != want || !os.SameFile(before, after) {
		t.Fatalf("fetched %s, want the stored file %s itself", l.Path, want)
	}
	if after.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", after.Mode())
	}
}

// Redact takes a directory store's root out of an error's text.
func TestRedactRoot(t *testing.T) {
	d, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	msg := storage.Redact(d, "writing "+filepath.Join(d.Root, "results", "r", "x.h5")+": failed")
	if msg != "writing "+filepath.Join("results", "r", "x.h5")+": failed" {
		t.Fatalf("%q", msg)
	}
}
