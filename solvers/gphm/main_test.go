package gphm

import (
	"os"
	"testing"

	"eddy/nn/gemm"
)

// TestMain runs the tests and benchmarks with the BLAS the worker uses.
func TestMain(m *testing.M) {
	gemm.UseInGonum()
	os.Exit(m.Run())
}
