package hdf5io

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestAtomicWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "result.h5")

	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFloat64("x", []float64{1, 2}, []int{2}, "i", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("destination exists before Close: %v", err)
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0][0] != '.' {
		t.Fatalf("while writing, directory holds %v, want one hidden temporary file", names)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"result.h5"}) {
		t.Fatalf("after Close, directory holds %v", names)
	}
	w.Abort() // after Close: does nothing
	if err := w.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Close: %v, want os.ErrClosed", err)
	}
	if err := w.WriteFloat64("y", []float64{1}, []int{1}, "", ""); !errors.Is(err, os.ErrClosed) {
		t.Errorf("write after Close: %v, want os.ErrClosed", err)
	}
	if err := w.SetAttrString("/", "a", "b"); !errors.Is(err, os.ErrClosed) {
		t.Errorf("attribute after Close: %v, want os.ErrClosed", err)
	}
	if _, err := Inspect(path); err != nil {
		t.Fatal(err)
	}

	// A second writer replaces the file only when it closes; an aborted one
	// leaves the first file and nothing else.
	w2, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.WriteUint8("other", []uint8{1}, []int{1}, "", ""); err != nil {
		t.Fatal(err)
	}
	w2.Abort()
	w2.Abort()
	if err := w2.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Close after Abort: %v, want os.ErrClosed", err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"result.h5"}) {
		t.Fatalf("after Abort, directory holds %v", names)
	}
	infos, err := Inspect(path)
	if err != nil || len(infos) != 1 || infos[0].Name != "/x" {
		t.Fatalf("after Abort, file lists %v, %v; want the first file", infos, err)
	}

	w3, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w3.WriteUint8("other", []uint8{1}, []int{1}, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := w3.Close(); err != nil {
		t.Fatal(err)
	}
	infos, err = Inspect(path)
	if err != nil || len(infos) != 1 || infos[0].Name != "/other" {
		t.Fatalf("after replacing, file lists %v, %v", infos, err)
	}

	if _, err := Create(filepath.Join(dir, "missing", "r.h5")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Create in a missing directory: %v, want os.ErrNotExist", err)
	}
}

// TestConcurrent writes and reads files from many goroutines at once; run
// with -race it checks that the package serialises its use of libhdf5.
func TestConcurrent(t *testing.T) {
	dir := t.TempDir()
	shared := writeSample(t)
	const workers = 8
	const rounds = 5
	var wg sync.WaitGroup
	errs := make(chan error, 4*workers)
	for g := range workers {
		wg.Add(2)
		go func() { // writer, then reader of its own files
			defer wg.Done()
			for r := range rounds {
				path := filepath.Join(dir, fmt.Sprintf("w%d-%d.h5", g, r))
				if err := writeAndCheck(path, float64(100*g+r)); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() { // reader of a shared file
			defer wg.Done()
			for range rounds {
				f, err := Open(shared)
				if err != nil {
					errs <- err
					return
				}
				v, _, err := f.ReadFloat64("/vorticity")
				if err == nil && len(v) != 120 {
					err = fmt.Errorf("read %d values, want 120", len(v))
				}
				if err == nil {
					_, err = f.AttrInt64("/metrics", "iterations")
				}
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err == nil {
					_, err = Inspect(shared)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func writeAndCheck(path string, seed float64) error {
	w, err := Create(path)
	if err != nil {
		return err
	}
	defer w.Abort()
	data := make([]float64, 64*64)
	for i := range data {
		data[i] = seed + float64(i)
	}
	if err := w.WriteFloat64("/u/solution", data, []int{64, 64}, "y,x", ""); err != nil {
		return err
	}
	if err := w.SetAttrFloat64("/u", "seed", seed); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	f, err := Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	got, _, err := f.ReadFloat64("/u/solution")
	if err != nil {
		return err
	}
	for i := range got {
		if got[i] != data[i] {
			return fmt.Errorf("%s: element %d is %v, want %v", path, i, got[i], data[i])
		}
	}
	if s, err := f.AttrFloat64("/u", "seed"); err != nil || s != seed {
		return fmt.Errorf("%s: seed %v, %v", path, s, err)
	}
	return nil
}
