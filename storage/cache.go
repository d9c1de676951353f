package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
)

// Cache keeps local copies of a remote store's artifacts for readers that
// need a file (HDF5), bounded in bytes. A copy is named by its key and the
// version it holds (ETag), so a new version under the same key is fetched
// anew and the old copy ages out. Copies in use are never evicted; the
// least recently used of the others go first once the bound is passed (a
// single copy larger than the bound is kept while it is used).
//
// Copies outlive the process: a new Cache on the same folder takes over the
// copies it finds. One process should use a folder at a time, since each
// evicts without knowing what another one reads.
type Cache struct {
	dir string
	max int64

	mu      sync.Mutex
	entries map[string]*cacheEntry // by file name
	size    int64                  // bytes of the ready copies
	clock   int64                  // ticks on every use, for the eviction order
}

type cacheEntry struct {
	name  string
	size  int64
	pins  int   // readers holding the copy
	used  int64 // clock at the last use
	ready chan struct{}
	err   error // the download's, once ready is closed
}

// cacheName matches the names of a cache's copies.
var cacheName = regexp.MustCompile(`^[0-9a-f]{64}(\.[A-Za-z0-9]{1,16})?$`)

// NewCache returns a cache of at most maxBytes in dir, creating the folder
// and taking over the copies in it (the oldest counted as least recently
// used). Unfinished downloads left by a process that died are removed.
func NewCache(dir string, maxBytes int64) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: cache folder: %w", err)
	}
	c := &Cache{dir: dir, max: maxBytes, entries: map[string]*cacheEntry{}}
	files, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: cache folder: %w", err)
	}
	type found struct {
		name string
		size int64
		mod  int64
	}
	var have []found
	for _, f := range files {
		info, err := f.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		switch {
		case cacheName.MatchString(f.Name()):
			have = append(have, found{f.Name(), info.Size(), info.ModTime().UnixNano()})
		case filepath.Ext(f.Name()) == ".part":
			os.Remove(filepath.Join(dir, f.Name()))
		}
	}
	sort.Slice(have, func(i, j int) bool { return have[i].mod < have[j].mod })
	for _, f := range have {
		e := &cacheEntry{name: f.name, size: f.size, used: c.clock, ready: make(chan struct{})}
		close(e.ready)
		c.clock++
		c.entries[f.name] = e
		c.size += f.size
	}
	c.mu.Lock()
	c.evictLocked()
	c.mu.Unlock()
	return c, nil
}

// Dir is the cache's folder.
func (c *Cache) Dir() string { return c.dir }

// Size is the bytes the cache holds.
func (c *Cache) Size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

// get returns the local copy of version etag of key, downloading it with
// download (into the file it is given) if the cache lacks it; several
// readers of one missing copy share one download. The copy stays until
// release is called.
func (c *Cache) get(ctx context.Context, key, etag string, download func(ctx context.Context, dst string) error) (string, func(), error) {
	sum := sha256.Sum256([]byte(key + "\x00" + etag))
	name := hex.EncodeToString(sum[:])
	if ext := path.Ext(key); cacheName.MatchString(name + ext) {
		name += ext // a format sniffer may look at the extension
	}
	file := filepath.Join(c.dir, name)

	c.mu.Lock()
	e, ok := c.entries[name]
	if ok {
		e.pins++
		e.used = c.clock
		c.clock++
		c.mu.Unlock()
		<-e.ready
		if e.err != nil {
			c.release(e)
			return "", nil, e.err
		}
		return file, func() { c.release(e) }, nil
	}
	e = &cacheEntry{name: name, pins: 1, used: c.clock, ready: make(chan struct{})}
	c.clock++
	c.entries[name] = e
	c.mu.Unlock()

	size, err := c.download(ctx, file, download)
	c.mu.Lock()
	if err != nil {
		e.err = err
		delete(c.entries, name)
	} else {
		e.size = size
		c.size += size
	}
	close(e.ready)
	c.mu.Unlock()
	if err != nil {
		c.release(e)
		return "", nil, err
	}
	c.mu.Lock()
	c.evictLocked()
	c.mu.Unlock()
	return file, func() { c.release(e) }, nil
}

// download fetches a copy into a temporary file and renames it to file.
func (c *Cache) download(ctx context.Context, file string, download func(ctx context.Context, dst string) error) (int64, error) {
	tmp, err := os.CreateTemp(c.dir, filepath.Base(file)+".*.part")
	if err != nil {
		return 0, fmt.Errorf("storage: cache: %w", err)
	}
	tmp.Close()
	if err := download(ctx, tmp.Name()); err != nil {
		os.Remove(tmp.Name())
		return 0, err
	}
	info, err := os.Stat(tmp.Name())
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return 0, fmt.Errorf("storage: cache: %w", err)
	}
	return info.Size(), nil
}

// release lets go of a reader's hold on e.
func (c *Cache) release(e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.pins--
	c.evictLocked()
}

// evictLocked removes the least recently used copies nobody holds until the
// cache is within its bound; c.mu is held.
func (c *Cache) evictLocked() {
	if c.size <= c.max {
		return
	}
	var idle []*cacheEntry
	for _, e := range c.entries {
		select {
		case <-e.ready:
			if e.pins == 0 {
				idle = append(idle, e)
			}
		default:
		}
	}
	sort.Slice(idle, func(i, j int) bool { return idle[i].used < idle[j].used })
	for _, e := range idle {
		if c.size <= c.max {
			return
		}
		if err := os.Remove(filepath.Join(c.dir, e.name)); err != nil && !os.IsNotExist(err) {
			continue
		}
		delete(c.entries, e.name)
		c.size -= e.size
	}
}
