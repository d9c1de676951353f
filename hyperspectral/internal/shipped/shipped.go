// Package shipped locates the data shipped beside the repository for the
// tests and benchmarks of the hyperspectral packages: the folder
// shared/data/unmixing next to the module root.
package shipped

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// UnmixingDir returns the directory of the shipped unmixing scenes, found by
// walking up from the working directory (a package directory under go test)
// to the module root (the directory holding go.mod) and then to
// ../shared/data/unmixing. It returns an error if there is no such directory.
func UnmixingDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("shipped: no go.mod above the working directory")
		}
		dir = parent
	}
	data := filepath.Join(dir, "..", "shared", "data", "unmixing")
	if st, err := os.Stat(data); err != nil || !st.IsDir() {
		return "", fmt.Errorf("shipped: shipped unmixing data not found at %s", data)
	}
	return data, nil
}
