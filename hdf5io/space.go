package hdf5io

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// NoSpaceError reports a write that failed because the file system holding
// the file has no room left: Needed bytes were being written and Free were
// available. Its message names no path. It is permanent (Permanent reports
// true): a job runner does not retry the same write on a full store.
type NoSpaceError struct {
	Needed, Free int64
}

func (e *NoSpaceError) Error() string {
	if e.Needed <= 0 {
		return fmt.Sprintf("no space left on the storage (%s free)", byteSize(e.Free))
	}
	return fmt.Sprintf("no space left on the storage (needed about %s, %s free)", byteSize(e.Needed), byteSize(e.Free))
}

// Permanent reports true.
func (e *NoSpaceError) Permanent() bool { return true }

// byteSize formats a byte count with a decimal unit ("107 MB").
func byteSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, u := float64(n), 0
	for f >= unit && u < 4 {
		f /= unit
		u++
	}
	return fmt.Sprintf("%.3g %cB", f, "kMGT"[u-1])
}

// noSpace returns a *NoSpaceError if the file system holding path, the file
// being written, has fewer than needed bytes (plus a margin for HDF5's own
// metadata) available to unprivileged writers, and nil otherwise or when
// that cannot be told. The space path takes counts as free: the failed file
// is removed.
func noSpace(path string, needed int64) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(path), &st); err != nil {
		return nil
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	if fi, err := os.Stat(path); err == nil {
		free += fi.Size()
	}
	const margin = 1 << 20
	if free >= needed+margin {
		return nil
	}
	return &NoSpaceError{Needed: needed, Free: free}
}
