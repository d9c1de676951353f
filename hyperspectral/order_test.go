package hyperspectral

import (
	"testing"

	"gonum.org/v1/gonum/mat"
)

// toRowMajor renumbers a K×pixels matrix of a rows×cols image from the
// package's column-major order to row-major: what a NumPy user's C-order
// reshape of the same maps gives.
func toRowMajor(a *mat.Dense, rows, cols int) *mat.Dense {
	k, n := a.Dims()
	out := mat.NewDense(k, n, nil)
	for i := range k {
		src, dst := a.RawRowView(i), out.RawRowView(i)
		for r := range rows {
			for c := range cols {
				dst[r*cols+c] = src[r+c*rows]
			}
		}
	}
	return out
}

// True abundances given row-major are recognised by the cube and renumbered
// exactly; given column-major they are left as they are. Checked on a
// synthetic scene (non-square image, 30 dB) and on both shipped scenes with
// ground truth.
func TestAlignAbundanceOrder(t *testing.T) {
	m := jasperEndmembers(t)
	sy, sa := Synthetic(m, 12, 20, 0.3, 30, 5)
	cases := []struct {
		name       string
		y, a       *mat.Dense
		rows, cols int
	}{
		{"synthetic 12×20", sy, sa, 12, 20},
	}
	for _, name := range []string{"Jasper_with_GT.mat", "samson_dataset.mat"} {
		s := loadScene(t, name)
		cases = append(cases, struct {
			name       string
			y, a       *mat.Dense
			rows, cols int
		}{name, s.Y, s.Truth.Abundances, s.Rows, s.Cols})
	}
	for _, c := range cases {
		got, fit := AlignAbundanceOrder(c.y, c.a, c.rows, c.cols)
		t.Logf("%s: residual column-major %.4f, row-major %.4f", c.name, fit.ColumnMajor, fit.RowMajor)
		if fit.Order != OrderColumnMajor || got != c.a {
			t.Errorf("%s given column-major: read %s", c.name, fit.Order)
		}
		if !(fit.ColumnMajor < orderMargin*fit.RowMajor) {
			t.Errorf("%s: residuals %.4f (right order) and %.4f (wrong) too close to tell", c.name, fit.ColumnMajor, fit.RowMajor)
		}
		got, fit = AlignAbundanceOrder(c.y, toRowMajor(c.a, c.rows, c.cols), c.rows, c.cols)
		if fit.Order != OrderRowMajor || !mat.Equal(got, c.a) {
			t.Errorf("%s given row-major: read %s, equal to the truth %v", c.name, fit.Order, mat.Equal(got, c.a))
		}
	}
	// One order only: a single row or column of pixels.
	y1, a1 := Synthetic(m, 1, 30, 0.3, 30, 6)
	if got, fit := AlignAbundanceOrder(y1, a1, 1, 30); got != a1 || fit.Order != OrderColumnMajor {
		t.Errorf("1×30 image: read %s", fit.Order)
	}
}
