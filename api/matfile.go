package api

import (
	"errors"

	"eddy/storage"
)

// inspectMAT lists the variables of a MATLAB v5 MAT-file upload.
func inspectMAT(path string) (string, []storage.Dataset, error) {
	return "", nil, errors.New("MATLAB MAT-file uploads are not accepted yet; convert the cube to HDF5")
}
