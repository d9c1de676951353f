package hdf5io

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNotFound is wrapped by errors for a dataset, group or attribute
	// that is not in the file.
	ErrNotFound = errors.New("not found")

	// ErrFormat is wrapped by errors for a file that is not HDF5 or that
	// libhdf5 cannot read (truncated or corrupt).
	ErrFormat = errors.New("not a readable HDF5 file")
)

// cleanPath returns the canonical form "/a/b" of an object path, in which a
// leading slash is optional. "/" and "" name the root group. Components must
// be non-empty and neither "." nor "..", and no byte may be NUL.
func cleanPath(p string) (string, error) {
	if strings.IndexByte(p, 0) >= 0 {
		return "", fmt.Errorf("invalid object path %q: contains a NUL byte", p)
	}
	rel := strings.TrimPrefix(p, "/")
	if rel == "" {
		return "/", nil
	}
	for _, c := range strings.Split(rel, "/") {
		if c == "" || c == "." || c == ".." {
			return "", fmt.Errorf("invalid object path %q", p)
		}
	}
	return "/" + rel, nil
}

// parents returns the proper ancestors of a canonical path, outermost first,
// without the root: parents("/a/b/c") is ["/a", "/a/b"].
func parents(p string) []string {
	var out []string
	for i := 1; i < len(p); i++ {
		if p[i] == '/' {
			out = append(out, p[:i])
		}
	}
	return out
}

func checkAttrName(name string) error {
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return fmt.Errorf("invalid attribute name %q", name)
	}
	return nil
}
