package hdf5io

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// smallFS mounts a 4 MB tmpfs for the test, or skips when mounting is not
// allowed (not root, or in a container without the capability).
func smallFS(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// A dataset that does not fit the file system fails with a NoSpaceError
// that names no path, leaves no file behind, and the next file fits.
func TestWriteOnFullFileSystem(t *testing.T) {
	dir := smallFS(t)
	path := filepath.Join(dir, "result.h5")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]float64, 1<<20) // 8 MB
	err = w.WriteFloat64("big", big, []int{len(big)}, "i", "")
	if err == nil {
		err = w.Close()
	} else {
		w.Abort()
	}
	var ns *NoSpaceError
	if !errors.As(err, &ns) || ns.Needed != 8<<20 {
		t.Fatalf("writing 8 MB on 4 MB: %v, want a NoSpaceError for 8388608 bytes", err)
	}
	if strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "no space left") {
		t.Errorf("message %q", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}
	w, err = Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFloat64("small", big[:1000], []int{1000}, "i", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("a small file after the failure: %v", err)
	}
}
