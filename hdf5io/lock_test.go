package hdf5io

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// A process started while a file is open inherits libhdf5's descriptor; the
// file must still open again here once it is closed, while that process
// lives (it would not under libhdf5's own file locks).
func TestReopenWhileAChildHoldsTheDescriptor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.h5")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := w.WriteFloat64("x", []float64{1, 2, 3}, []int{3}, "i", "1"); err != nil {
		t.Fatal(err)
	}
	child := exec.Command("sleep", "30")
	if err := child.Start(); err != nil {
		t.Skip("cannot start a child process:", err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		f, err := Open(path)
		if err != nil {
			t.Fatalf("reopen while a child lives: %v", err)
		}
		f.Close()
	}
	w2, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Abort()
	if err := w2.Close(); err != nil {
		t.Fatalf("rewrite while a child lives: %v", err)
	}
}
