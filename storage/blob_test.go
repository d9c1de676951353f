package storage_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"eddy/storage"
	"eddy/storage/blobtest"
)

func openBlob(t *testing.T, srv *blobtest.Server, cacheBytes int64) (*storage.Blob, *storage.Cache) {
	t.Helper()
	cache, err := storage.NewCache(t.TempDir(), cacheBytes)
	if err != nil {
		t.Fatal(err)
	}
	b, err := storage.OpenBlob(context.Background(), srv.URL("eddy"), t.TempDir(), cache)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.CheckAccess(context.Background()); err != nil {
		t.Fatal(err)
	}
	return b, cache
}

// The S3 backend keeps every promise of the store, against an S3-compatible
// server; an aborted upload leaves no object behind.
func TestBlobStore(t *testing.T) {
	srv := blobtest.Start(t, "eddy")
	b, _ := openBlob(t, srv, 1<<30)
	testStore(t, b)
	if keys := srv.Keys(t, "eddy"); !slices.Equal(keys, []string{"uploads/u1.h5"}) {
		t.Fatalf("objects left: %v", keys)
	}
}

// A store that cannot be reached is told at start.
func TestBlobStoreUnreachable(t *testing.T) {
	srv := blobtest.Start(t, "eddy")
	_, err := storage.OpenStore(context.Background(), srv.URL("missing-bucket"), t.TempDir(), t.TempDir(), 1<<20)
	if err == nil {
		t.Fatal("a missing bucket was accepted")
	}
}

// EDDY_STORE names a bucket by URL and a folder otherwise.
func TestOpenStoreChoosesTheBackend(t *testing.T) {
	srv := blobtest.Start(t, "eddy")
	ctx := context.Background()
	a, err := storage.OpenStore(ctx, srv.URL("eddy"), t.TempDir(), t.TempDir(), 1<<20)
	if _, ok := a.(*storage.Blob); err != nil || !ok {
		t.Fatalf("%T, %v", a, err)
	}
	dir := t.TempDir()
	for _, spec := range []string{dir, "file://" + dir} {
		a, err = storage.OpenStore(ctx, spec, "", "", 0)
		if d, ok := a.(*storage.Dir); err != nil || !ok || d.Root != dir {
			t.Fatalf("%s: %T %v", spec, a, err)
		}
	}
}

func put(t *testing.T, a storage.Artifacts, key, text string) {
	t.Helper()
	w, err := a.Create(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(text))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

func fetchText(t *testing.T, a storage.Artifacts, key string) (string, *storage.Local) {
	t.Helper()
	l, err := storage.Fetch(context.Background(), a, key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(l.Path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), l
}

// Read copies are shared, follow new versions, stay within the bound (except
// those in use) and survive a restart.
func TestCacheBoundAndVersions(t *testing.T) {
	srv := blobtest.Start(t, "eddy")
	b, cache := openBlob(t, srv, 250)
	a100 := strings.Repeat("a", 100)
	put(t, b, "results/a.h5", a100)
	put(t, b, "results/b.h5", strings.Repeat("b", 100))
	put(t, b, "results/c.h5", strings.Repeat("c", 100))

	got, la := fetchText(t, b, "results/a.h5")
	if got != a100 || filepath.Dir(la.Path) != cache.Dir() || filepath.Ext(la.Path) != ".h5" {
		t.Fatalf("fetched %q at %s", got, la.Path)
	}
	_, la2 := fetchText(t, b, "results/a.h5")
	if la2.Path != la.Path {
		t.Fatalf("a second reader got another copy: %s, %s", la2.Path, la.Path)
	}
	la2.Close()
	_, lb := fetchText(t, b, "results/b.h5")
	lb.Close()
	// a is held, b is not: fetching c evicts b.
	_, lc := fetchText(t, b, "results/c.h5")
	lc.Close()
	if cache.Size() > 250 {
		t.Errorf("cache holds %d bytes, bound 250", cache.Size())
	}
	if _, err := os.Stat(la.Path); err != nil {
		t.Fatalf("a copy in use was evicted: %v", err)
	}
	la.Close()

	// A new version under the same key is fetched anew.
	put(t, b, "results/a.h5", "new")
	got, la = fetchText(t, b, "results/a.h5")
	la.Close()
	if got != "new" {
		t.Fatalf("after an update: %q", got)
	}
	// A huge artifact is kept while in use, and goes once released.
	put(t, b, "results/big.h5", strings.Repeat("x", 1000))
	_, lbig := fetchText(t, b, "results/big.h5")
	if _, err := os.Stat(lbig.Path); err != nil {
		t.Fatal(err)
	}
	lbig.Close()
	if cache.Size() > 250 {
		t.Errorf("cache holds %d bytes after release, bound 250", cache.Size())
	}
	if _, err := storage.Fetch(context.Background(), b, "results/none.h5"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}

	// A new cache on the folder takes over its copies.
	_, lc = fetchText(t, b, "results/c.h5")
	lc.Close()
	again, err := storage.NewCache(cache.Dir(), 250)
	if err != nil {
		t.Fatal(err)
	}
	if again.Size() != cache.Size() || again.Size() == 0 {
		t.Fatalf("taken over %d bytes, had %d", again.Size(), cache.Size())
	}
}
