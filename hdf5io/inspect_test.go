//go:build linux

package hdf5io

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// captureStderr runs fn with file descriptor 2 redirected to a file, which
// catches what libhdf5 prints, and returns what was written.
func captureStderr(t *testing.T, fn func()) string {
	t.Helper()
	out, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup3(int(out.Fd()), 2, 0); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			syscall.Dup3(saved, 2, 0)
			syscall.Close(saved)
		}()
		fn()
	}()
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInspect(t *testing.T) {
	good := writeSample(t)
	real, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad := map[string][]byte{
		"empty":   nil,
		"garbage": make([]byte, 4096),
		"text":    []byte("name,value\nx,1\n"),
		// Only the 8-byte signature.
		"signature": real[:8],
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := range bad["garbage"] {
		bad["garbage"][i] = byte(r.Uint32())
	}
	for _, n := range []int{64, 512, len(real) / 2, len(real) - 1} {
		bad[fmt.Sprintf("truncated-%d", n)] = real[:n]
	}
	for name, b := range bad {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	var errs sync.Map
	stderr := captureStderr(t, func() {
		// Each goroutine holds its own OS thread, so libhdf5 is called from
		// several threads, each with its own error stack.
		var wg sync.WaitGroup
		for name := range bad {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				_, err := Inspect(filepath.Join(dir, name))
				errs.Store(name, err)
			}()
		}
		wg.Wait()
	})
	if stderr != "" {
		t.Errorf("libhdf5 printed to stderr:\n%s", stderr)
	}
	for name := range bad {
		err, _ := errs.Load(name)
		t.Logf("Inspect(%s): %v", name, err)
		if err == nil {
			t.Errorf("Inspect accepted %s", name)
		} else if !errors.Is(err.(error), ErrFormat) {
			t.Errorf("Inspect of %s: %v, want ErrFormat", name, err)
		} else if strings.HasPrefix(name, "truncated-") && !strings.Contains(err.(error).Error(), "truncated file") {
			t.Errorf("Inspect of %s: %v, want the library's diagnosis", name, err)
		}
	}

	if _, err := Inspect(dir); err == nil || errors.Is(err, ErrFormat) {
		t.Errorf("Inspect of a directory: %v, want an error other than ErrFormat", err)
	}
	if _, err := Inspect(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Inspect of a missing file: %v, want os.ErrNotExist", err)
	}

	infos, err := Inspect(good)
	if err != nil {
		t.Fatal(err)
	}
	want := []DatasetInfo{
		{Name: "/mask", Shape: []int{4, 5}, Dtype: "uint8"},
		{Name: "/vorticity", Shape: []int{2, 3, 4, 5}, Dtype: "float64"},
	}
	if len(infos) != len(want) {
		t.Fatalf("Inspect = %v, want %v", infos, want)
	}
	for i := range want {
		if infos[i].Name != want[i].Name || infos[i].Dtype != want[i].Dtype || !equalInts(infos[i].Shape, want[i].Shape) {
			t.Errorf("Inspect[%d] = %v, want %v", i, infos[i], want[i])
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
