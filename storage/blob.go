package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/s3blob" // s3:// buckets
	"gocloud.dev/gcerrors"
)

// Blob is an Artifacts in an object store bucket opened through
// gocloud.dev/blob: S3 or an S3-compatible server (MinIO, Ceph, …), as
//
//	s3://bucket?endpoint=http://host:9000&region=us-east-1&use_path_style=true
//
// with credentials from the usual AWS variables (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY). An object is written by one upload that the
// store makes visible whole when it completes, so a reader never sees a
// partial artifact. Files for HDF5 are staged in a local scratch folder and
// uploaded on commit; read copies are kept in a bounded local Cache.
type Blob struct {
	bucket  *blob.Bucket
	scratch string
	cache   *Cache
}

// removeTimeout bounds a Remove, which has no context of its own.
const removeTimeout = 30 * time.Second

// OpenBlob opens the bucket at url. Staged files are written under scratch
// (the system's temporary folder if empty); cache holds read copies (nil:
// every Fetch downloads a copy of its own).
func OpenBlob(ctx context.Context, url, scratch string, cache *Cache) (*Blob, error) {
	b, err := blob.OpenBucket(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("storage: opening the artifact store: %w", err)
	}
	return &Blob{bucket: b, scratch: scratch, cache: cache}, nil
}

// Close closes the bucket.
func (b *Blob) Close() error { return b.bucket.Close() }

// CheckAccess asks for the bucket, so that a store that cannot be reached,
// refuses the credentials or has no such bucket is told at start rather
// than by the first job.
func (b *Blob) CheckAccess(ctx context.Context) error {
	ok, err := b.bucket.IsAccessible(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("storage: the artifact store does not answer: %w", err)
	case !ok:
		return errors.New("storage: the artifact store has no such bucket")
	}
	return nil
}

// blobErr maps a missing object to fs.ErrNotExist.
func blobErr(key string, err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return notExist(key)
	}
	return fmt.Errorf("storage: artifact %s: %w", key, err)
}

// Create starts an upload to key. The object appears on Commit; Abort
// cancels the upload.
func (b *Blob) Create(ctx context.Context, key string) (Writer, error) {
	clean, err := cleanKey(key)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	w, err := b.bucket.NewWriter(wctx, clean, &blob.WriterOptions{ContentType: "application/octet-stream"})
	if err != nil {
		cancel()
		return nil, blobErr(key, err)
	}
	return &blobWriter{w: w, cancel: cancel, key: key}, nil
}

type blobWriter struct {
	w      *blob.Writer
	cancel context.CancelFunc
	key    string
	done   bool
}

func (w *blobWriter) Write(p []byte) (int, error) { return w.w.Write(p) }

func (w *blobWriter) Commit() error {
	if w.done {
		return errors.New("storage: artifact already committed or aborted")
	}
	w.done = true
	err := w.w.Close()
	w.cancel()
	if err != nil {
		return blobErr(w.key, err)
	}
	return nil
}

// Abort cancels the upload's context before closing the writer: gocloud
// then discards the upload instead of completing it.
func (w *blobWriter) Abort() {
	if !w.done {
		w.done = true
		w.cancel()
		w.w.Close()
	}
}

// Stat reads key's attributes.
func (b *Blob) Stat(ctx context.Context, key string) (Info, error) {
	clean, err := cleanKey(key)
	if err != nil {
		return Info{}, err
	}
	a, err := b.bucket.Attributes(ctx, clean)
	if err != nil {
		return Info{}, blobErr(key, err)
	}
	return Info{Size: a.Size, ModTime: a.ModTime, ETag: a.ETag}, nil
}

// Open returns a reader of key that reads ranges: each Read after a Seek
// opens a ranged read from the new offset to the end.
func (b *Blob) Open(ctx context.Context, key string) (Reader, error) {
	info, err := b.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	clean, _ := cleanKey(key)
	return &blobReader{ctx: ctx, b: b.bucket, key: clean, info: info}, nil
}

type blobReader struct {
	ctx  context.Context
	b    *blob.Bucket
	key  string
	info Info
	off  int64
	r    *blob.Reader // open at off, or nil
}

func (r *blobReader) Info() Info { return r.info }

func (r *blobReader) Read(p []byte) (int, error) {
	if r.off >= r.info.Size {
		return 0, io.EOF
	}
	if r.r == nil {
		rr, err := r.b.NewRangeReader(r.ctx, r.key, r.off, -1, nil)
		if err != nil {
			return 0, blobErr(r.key, err)
		}
		r.r = rr
	}
	n, err := r.r.Read(p)
	r.off += int64(n)
	if err == io.EOF && r.off < r.info.Size {
		// The object was replaced by a shorter one while being read.
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (r *blobReader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.off + offset
	case io.SeekEnd:
		abs = r.info.Size + offset
	default:
		return 0, errors.New("storage: bad whence")
	}
	if abs < 0 {
		return 0, errors.New("storage: seek before the start")
	}
	if abs != r.off && r.r != nil {
		r.r.Close()
		r.r = nil
	}
	r.off = abs
	return abs, nil
}

func (r *blobReader) Close() error {
	if r.r != nil {
		err := r.r.Close()
		r.r = nil
		return err
	}
	return nil
}

// Remove deletes key.
func (b *Blob) Remove(key string) error {
	clean, err := cleanKey(key)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	if err := b.bucket.Delete(ctx, clean); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return blobErr(key, err)
	}
	return nil
}

// stage reserves a file in the scratch folder.
func (b *Blob) stage(key string) (string, error) { return scratchFile(b.scratch, key) }

// publish uploads the staged file and removes it.
func (b *Blob) publish(ctx context.Context, local, key string) error {
	defer os.Remove(local)
	return copyIn(ctx, b, key, local)
}

// fetch returns the cached copy of key's current version, downloading it if
// the cache lacks it.
func (b *Blob) fetch(ctx context.Context, key string) (string, func(), error) {
	info, err := b.Stat(ctx, key)
	if err != nil {
		return "", nil, err
	}
	if b.cache == nil {
		p, err := scratchFile(b.scratch, key)
		if err != nil {
			return "", nil, err
		}
		if err := copyOut(ctx, b, key, p); err != nil {
			os.Remove(p)
			return "", nil, err
		}
		return p, func() { os.Remove(p) }, nil
	}
	etag := info.ETag
	if etag == "" {
		etag = strconv.FormatInt(info.Size, 10) + "@" + strconv.FormatInt(info.ModTime.UnixNano(), 10)
	}
	return b.cache.get(ctx, key, etag, func(ctx context.Context, dst string) error {
		return copyOut(ctx, b, key, dst)
	})
}

// localRoots are the scratch and cache folders.
func (b *Blob) localRoots() []string {
	roots := []string{b.scratch}
	if b.scratch == "" {
		roots[0] = os.TempDir()
	}
	if b.cache != nil {
		roots = append(roots, b.cache.dir)
	}
	return roots
}

// OpenStore opens the artifact store named by spec: a bucket URL
// (s3://bucket?endpoint=…) for a Blob, or else a folder for a Dir. A Blob
// stages under scratch and caches up to cacheBytes of read copies under
// cacheDir.
func OpenStore(ctx context.Context, spec, scratch, cacheDir string, cacheBytes int64) (Artifacts, error) {
	u, err := url.Parse(spec)
	switch {
	case err != nil || u.Scheme == "":
		return NewDir(spec)
	case u.Scheme == "file":
		return NewDir(u.Path)
	default:
		cache, err := NewCache(cacheDir, cacheBytes)
		if err != nil {
			return nil, err
		}
		b, err := OpenBlob(ctx, spec, scratch, cache)
		if err != nil {
			return nil, err
		}
		if err := b.CheckAccess(ctx); err != nil {
			b.Close()
			return nil, err
		}
		return b, nil
	}
}
