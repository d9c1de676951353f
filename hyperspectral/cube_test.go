package hyperspectral

import (
	"testing"

	"gonum.org/v1/gonum/mat"

	"eddy/hyperspectral/matfile"
)

// value is the test content of a cube: distinct for every (row, col, band).
func value(r, c, b int) float64 { return float64(10000*r + 100*c + b) }

func TestCubeFromRowMajor(t *testing.T) {
	rows, cols, bands := 3, 4, 5
	data := make([]float64, rows*cols*bands)
	for r := range rows {
		for c := range cols {
			for b := range bands {
				data[(r*cols+c)*bands+b] = value(r, c, b)
			}
		}
	}
	y, gr, gc, err := CubeFromRowMajor(data, []int{rows, cols, bands}, LayoutRowsColsBands)
	if err != nil || gr != rows || gc != cols {
		t.Fatalf("shape %d×%d, %v", gr, gc, err)
	}
	if l, n := y.Dims(); l != bands || n != rows*cols {
		t.Fatalf("Y is %d×%d", l, n)
	}
	for r := range rows {
		for c := range cols {
			for b := range bands {
				if got := y.At(b, r+c*rows); got != value(r, c, b) {
					t.Fatalf("Y[%d, %d + %d·%d] = %v, want %v", b, r, c, rows, got, value(r, c, b))
				}
			}
		}
	}
	back := CubeToRowMajor(y, rows, cols)
	for i := range data {
		if back[i] != data[i] {
			t.Fatalf("round trip differs at %d", i)
		}
	}

	bp := make([]float64, bands*rows*cols)
	for i := range bp {
		bp[i] = float64(i)
	}
	y2, r2, c2, err := CubeFromRowMajor(bp, []int{bands, rows * cols}, LayoutBandsPixels)
	if err != nil || r2 != 0 || c2 != 0 || y2.At(2, 7) != float64(2*rows*cols+7) {
		t.Errorf("bands,pixels: %v, %d, %d, %v", y2.At(2, 7), r2, c2, err)
	}

	for name, f := range map[string]func() error{
		"2-D as rows,cols,bands": func() error {
			_, _, _, err := CubeFromRowMajor(bp, []int{bands, rows * cols}, LayoutRowsColsBands)
			return err
		},
		"3-D as bands,pixels": func() error {
			_, _, _, err := CubeFromRowMajor(data, []int{rows, cols, bands}, LayoutBandsPixels)
			return err
		},
		"unknown layout": func() error {
			_, _, _, err := CubeFromRowMajor(data, []int{rows, cols, bands}, "pixels,bands")
			return err
		},
	} {
		if f() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestCubeFromVarMatchesRowMajor: the same logical cube stored by MATLAB
// (column-major) and by HDF5 (row-major) gives the same Y.
func TestCubeFromVarMatchesRowMajor(t *testing.T) {
	rows, cols, bands := 2, 3, 4
	colMajor := make([]float64, rows*cols*bands)
	rowMajor := make([]float64, rows*cols*bands)
	for r := range rows {
		for c := range cols {
			for b := range bands {
				colMajor[r+rows*c+rows*cols*b] = value(r, c, b)
				rowMajor[(r*cols+c)*bands+b] = value(r, c, b)
			}
		}
	}
	v := &matfile.Var{Name: "im", Class: matfile.ClassDouble, Dims: []int{rows, cols, bands}, Real: colMajor}
	y1, r1, c1, err := CubeFromVar(v, LayoutRowsColsBands)
	if err != nil {
		t.Fatal(err)
	}
	y2, r2, c2, err := CubeFromRowMajor(rowMajor, []int{rows, cols, bands}, LayoutRowsColsBands)
	if err != nil {
		t.Fatal(err)
	}
	if r1 != r2 || c1 != c2 || !mat.Equal(y1, y2) {
		t.Errorf("MAT and HDF5 layouts disagree:\n%v\n%v", mat.Formatted(y1), mat.Formatted(y2))
	}
}

func TestCubeFromVarErrors(t *testing.T) {
	for name, v := range map[string]*matfile.Var{
		"struct":  {Name: "s", Class: matfile.ClassStruct, Dims: []int{1, 1}},
		"complex": {Name: "z", Class: matfile.ClassDouble, Dims: []int{2, 1}, Complex: true, Real: []float64{1, 2}, Imag: []float64{0, 1}},
		"1-D":     {Name: "v", Class: matfile.ClassDouble, Dims: []int{2, 1, 1, 1}, Real: []float64{1, 2}},
	} {
		if _, _, _, err := CubeFromVar(v, LayoutBandsPixels); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
