package gphm

import (
	"os"
	"testing"

	"eddy/blas"
)

// TestMain runs the tests and benchmarks with the BLAS the worker uses.
func TestMain(m *testing.M) {
	blas.UseInGonum()
	os.Exit(m.Run())
}
