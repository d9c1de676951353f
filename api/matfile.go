package api

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"eddy/hyperspectral/matfile"
	"eddy/storage"
)

// inspectMAT reads a MATLAB v5 MAT-file upload and lists its numeric variables with
// MATLAB's dimensions (column-major) and element type.
func inspectMAT(path string) (string, []storage.Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	vars, err := matfile.Read(f)
	var fe *matfile.FormatError
	if errors.As(err, &fe) {
		return "", nil, fmt.Errorf("not a readable MAT-file: %v", err)
	}
	if err != nil {
		return "", nil, err
	}
	var out []storage.Dataset
	for name, v := range vars {
		if !v.Class.Numeric() {
			continue
		}
		dtype := v.Class.String()
		switch v.Class {
		case matfile.ClassDouble:
			dtype = "float64"
		case matfile.ClassSingle:
			dtype = "float32"
		}
		out = append(out, storage.Dataset{Name: name, Shape: v.Dims, Dtype: dtype})
	}
	if len(out) == 0 {
		return "", nil, errors.New("the MAT-file holds no numeric variables")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return "mat", out, nil
}
