package hyperspectral

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"eddy/hyperspectral/matfile"
)

// Layout names the axis order of a stored cube. The names are API (the
// `layout` param).
type Layout string

// The cube layouts.
const (
	// LayoutBandsPixels is a bands×pixels matrix, pixels in the order
	// n = row + col·rows (the layout of the published MAT scenes).
	LayoutBandsPixels Layout = "bands,pixels"
	// LayoutRowsColsBands is an image of spectra: rows×cols×bands.
	LayoutRowsColsBands Layout = "rows,cols,bands"
)

// CubeFromRowMajor converts a row-major (C-order) array, the order of HDF5
// datasets, into Y (bands×pixels, pixel n = row + col·rows):
//
//   - LayoutBandsPixels, dims (L, N): Y[l, n] = data[l·N + n]; the image
//     shape is unknown and rows = cols = 0 are returned;
//   - LayoutRowsColsBands, dims (R, C, L): Y[l, r + c·R] = data[(r·C + c)·L + l].
//
// A wrong number of dimensions or an unknown layout is returned as an error;
// CubeFromRowMajor panics if len(data) differs from the product of dims.
func CubeFromRowMajor(data []float64, dims []int, layout Layout) (y *mat.Dense, rows, cols int, err error) {
	checkLen(len(data), dims)
	switch layout {
	case LayoutBandsPixels:
		if len(dims) != 2 || dims[0] == 0 || dims[1] == 0 {
			return nil, 0, 0, fmt.Errorf("hyperspectral: layout %q needs 2 non-zero dimensions, got %v", layout, dims)
		}
		return mat.NewDense(dims[0], dims[1], append([]float64(nil), data...)), 0, 0, nil
	case LayoutRowsColsBands:
		if len(dims) != 3 || dims[0] == 0 || dims[1] == 0 || dims[2] == 0 {
			return nil, 0, 0, fmt.Errorf("hyperspectral: layout %q needs 3 non-zero dimensions, got %v", layout, dims)
		}
		r, c, l := dims[0], dims[1], dims[2]
		y = mat.NewDense(l, r*c, nil)
		for i := range r {
			for j := range c {
				px := data[(i*c+j)*l : (i*c+j+1)*l]
				n := i + j*r
				for b, v := range px {
					y.Set(b, n, v)
				}
			}
		}
		return y, r, c, nil
	}
	return nil, 0, 0, fmt.Errorf("hyperspectral: unknown layout %q (want %q or %q)", layout, LayoutBandsPixels, LayoutRowsColsBands)
}

// CubeToRowMajor returns Y (bands×pixels) as a row-major rows×cols×bands
// array, the inverse of CubeFromRowMajor with LayoutRowsColsBands. It panics
// unless rows·cols equals the number of pixels.
func CubeToRowMajor(y *mat.Dense, rows, cols int) []float64 {
	l, n := y.Dims()
	if rows*cols != n || rows <= 0 {
		panic(fmt.Sprintf("hyperspectral: CubeToRowMajor: %d×%d image for %d pixels", rows, cols, n))
	}
	out := make([]float64, n*l)
	for b := range l {
		row := y.RawRowView(b)
		for i := range rows {
			for j := range cols {
				out[(i*cols+j)*l+b] = row[i+j*rows]
			}
		}
	}
	return out
}

// CubeFromVar converts a numeric MAT-file variable, stored column-major by
// MATLAB, into Y (bands×pixels):
//
//   - LayoutBandsPixels, dims (L, N): Y[l, n] = Real[l + L·n];
//   - LayoutRowsColsBands, dims (R, C, L): Y[l, r + c·R] = Real[r + R·c + R·C·l],
//     so that MATLAB's reshape(im, R·C, L)' is Y.
//
// Variables that are not numeric, are complex, or have the wrong number of
// dimensions give an error naming the variable.
func CubeFromVar(v *matfile.Var, layout Layout) (y *mat.Dense, rows, cols int, err error) {
	if !v.Class.Numeric() && !v.Logical || !v.HasData() {
		return nil, 0, 0, fmt.Errorf("hyperspectral: MAT variable %q is of class %v, not numeric", v.Name, v.Class)
	}
	if v.Complex {
		return nil, 0, 0, fmt.Errorf("hyperspectral: MAT variable %q is complex", v.Name)
	}
	switch layout {
	case LayoutBandsPixels:
		if len(v.Dims) != 2 || v.Len() == 0 {
			return nil, 0, 0, fmt.Errorf("hyperspectral: MAT variable %q has dimensions %v; layout %q needs 2 non-zero", v.Name, v.Dims, layout)
		}
		return denseFromColMajor(v.Real, v.Dims[0], v.Dims[1]), 0, 0, nil
	case LayoutRowsColsBands:
		if len(v.Dims) != 3 || v.Len() == 0 {
			return nil, 0, 0, fmt.Errorf("hyperspectral: MAT variable %q has dimensions %v; layout %q needs 3 non-zero", v.Name, v.Dims, layout)
		}
		r, c, l := v.Dims[0], v.Dims[1], v.Dims[2]
		// Band l is the contiguous slab Real[l·R·C : (l+1)·R·C], already in
		// pixel order: it is row l of Y.
		return mat.NewDense(l, r*c, append([]float64(nil), v.Real...)), r, c, nil
	}
	return nil, 0, 0, fmt.Errorf("hyperspectral: unknown layout %q (want %q or %q)", layout, LayoutBandsPixels, LayoutRowsColsBands)
}

// MatrixFromVar returns a 2-D numeric MAT-file variable as a matrix with
// MATLAB's row and column indices.
func MatrixFromVar(v *matfile.Var) (*mat.Dense, error) {
	if !v.Class.Numeric() && !v.Logical || !v.HasData() {
		return nil, fmt.Errorf("hyperspectral: MAT variable %q is of class %v, not numeric", v.Name, v.Class)
	}
	if v.Complex {
		return nil, fmt.Errorf("hyperspectral: MAT variable %q is complex", v.Name)
	}
	if len(v.Dims) != 2 || v.Len() == 0 {
		return nil, fmt.Errorf("hyperspectral: MAT variable %q has dimensions %v, want a non-empty matrix", v.Name, v.Dims)
	}
	return denseFromColMajor(v.Real, v.Dims[0], v.Dims[1]), nil
}

// denseFromColMajor returns the r×c matrix whose column-major storage is data.
func denseFromColMajor(data []float64, r, c int) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	for j := range c {
		for i := range r {
			m.Set(i, j, data[i+j*r])
		}
	}
	return m
}

func checkLen(n int, dims []int) {
	p := 1
	for _, d := range dims {
		if d < 0 {
			panic(fmt.Sprintf("hyperspectral: negative dimension in %v", dims))
		}
		p *= d
	}
	if p != n {
		panic(fmt.Sprintf("hyperspectral: %d values for dimensions %v", n, dims))
	}
}
