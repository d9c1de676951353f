package hyperspectral

import (
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/mat"

	"eddy/hyperspectral/internal/shipped"
)

// openShipped opens a file of the shipped unmixing data, or skips the test
// when the data are not beside the repository.
func openShipped(tb testing.TB, name string) *os.File {
	tb.Helper()
	dir, err := shipped.UnmixingDir()
	if err != nil {
		tb.Skipf("shipped unmixing data not available: %v", err)
	}
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

func loadScene(tb testing.TB, name string) *Scene {
	tb.Helper()
	s, err := ReadScene(openShipped(tb, name))
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return s
}

// jasperSetup returns Jasper Ridge scaled to max 1, its truth, and the
// shipped initial endmembers M0 brought to the scale of the data by the
// specification's rule (§6.3).
func jasperSetup(tb testing.TB) (y *mat.Dense, truth *Truth, m0 *mat.Dense) {
	tb.Helper()
	s := loadScene(tb, "Jasper_with_GT.mat")
	raw, err := ReadMatrix(openShipped(tb, "M0_jasperRidge_init.mat"), "M0")
	if err != nil {
		tb.Fatal(err)
	}
	y = mat.DenseCopyOf(s.Y)
	y.Scale(1/mat.Max(y), y)
	return y, s.Truth, ScaleToData(raw, y)
}

// jasperEndmembers returns the true Jasper Ridge spectra scaled to max 1,
// the endmembers of the synthetic data of §7.2.
func jasperEndmembers(tb testing.TB) *mat.Dense {
	tb.Helper()
	s := loadScene(tb, "Jasper_with_GT.mat")
	m := mat.DenseCopyOf(s.Truth.Endmembers)
	m.Scale(1/mat.Max(m), m)
	return m
}
