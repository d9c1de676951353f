package hyperspectral

import (
	"fmt"
	"io"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"eddy/hyperspectral/matfile"
)

// Scene is a published hyperspectral scene: its cube, image shape, ground
// truth and shipped initial endmembers.
type Scene struct {
	// Y is bands×pixels, in the units of the file, pixel n = row + col·Rows.
	Y          *mat.Dense
	Rows, Cols int
	// Truth is nil when the file has no ground truth; Truth.Abundances is
	// nil when it has only endmembers.
	Truth *Truth
	// Init holds initial endmembers shipped in the same file (bands×K, as
	// stored), or nil.
	Init *mat.Dense
}

// ReadScene reads a scene from a MAT-file; see SceneFromVars for the
// variables it recognises.
func ReadScene(r io.Reader) (*Scene, error) {
	vars, err := matfile.Read(r)
	if err != nil {
		return nil, err
	}
	return SceneFromVars(vars)
}

// SceneFromVars assembles a scene from the variables of a MAT-file, following
// the conventions of the labelled unmixing data sets (Zhu, arXiv 1708.05125)
// and their common copies:
//
//   - the cube is Y (bands×pixels) or im (rows×cols×bands);
//   - the image shape is nRow×nCol or lines×cols, else that of im, else
//     √N×√N when N is a perfect square;
//   - true endmembers are M (bands×K) or GT (K×bands, transposed here);
//     true abundances are the first of TruthAbundanceNames present (A,
//     K×pixels, or S_GT, rows×cols×K; see AbundancesFromVar);
//   - shipped initial endmembers are M1 or M0 (bands×K).
//
// Missing or malformed variables give an error naming them.
func SceneFromVars(vars map[string]*matfile.Var) (*Scene, error) {
	s := &Scene{}
	var err error
	switch {
	case vars["Y"] != nil:
		s.Y, _, _, err = CubeFromVar(vars["Y"], LayoutBandsPixels)
	case vars["im"] != nil:
		s.Y, s.Rows, s.Cols, err = CubeFromVar(vars["im"], LayoutRowsColsBands)
	default:
		return nil, fmt.Errorf("hyperspectral: scene: no cube (variable Y or im)")
	}
	if err != nil {
		return nil, fmt.Errorf("hyperspectral: scene: %w", err)
	}
	l, n := s.Y.Dims()

	if s.Rows == 0 {
		for _, names := range [][2]string{{"nRow", "nCol"}, {"lines", "cols"}} {
			r, okR := scalar(vars[names[0]])
			c, okC := scalar(vars[names[1]])
			if okR && okC {
				s.Rows, s.Cols = r, c
				break
			}
		}
	}
	if s.Rows == 0 {
		if q := int(math.Round(math.Sqrt(float64(n)))); q*q == n {
			s.Rows, s.Cols = q, q
		} else {
			return nil, fmt.Errorf("hyperspectral: scene: no image shape for %d pixels (nRow/nCol or lines/cols)", n)
		}
	}
	if s.Rows*s.Cols != n {
		return nil, fmt.Errorf("hyperspectral: scene: image shape %d×%d does not match %d pixels", s.Rows, s.Cols, n)
	}

	var m *mat.Dense
	if v := vars["M"]; v != nil {
		if m, err = MatrixFromVar(v); err != nil {
			return nil, fmt.Errorf("hyperspectral: scene: %w", err)
		}
	} else if v := vars["GT"]; v != nil {
		gt, err := MatrixFromVar(v)
		if err != nil {
			return nil, fmt.Errorf("hyperspectral: scene: %w", err)
		}
		m = mat.DenseCopyOf(gt.T())
	}
	if m != nil {
		if r, _ := m.Dims(); r != l {
			return nil, fmt.Errorf("hyperspectral: scene: true endmembers have %d bands, the cube %d", r, l)
		}
		s.Truth = &Truth{Endmembers: m}
		_, k := m.Dims()
		for _, name := range TruthAbundanceNames {
			if v := vars[name]; v != nil {
				if s.Truth.Abundances, err = AbundancesFromVar(v, k, s.Rows, s.Cols); err != nil {
					return nil, fmt.Errorf("hyperspectral: scene: %w", err)
				}
				break
			}
		}
	}
	for _, name := range []string{"M1", "M0"} {
		if v := vars[name]; v != nil {
			if s.Init, err = MatrixFromVar(v); err != nil {
				return nil, fmt.Errorf("hyperspectral: scene: %w", err)
			}
			if r, _ := s.Init.Dims(); r != l {
				return nil, fmt.Errorf("hyperspectral: scene: initial endmembers %s have %d bands, the cube %d", name, r, l)
			}
			break
		}
	}
	return s, nil
}

// TruthAbundanceNames are the names under which true abundances are looked
// for in a scene or ground-truth file, in order: A (K×pixels, Zhu's scenes),
// S_GT (rows×cols×K, common copies of the same scenes) and abundances.
var TruthAbundanceNames = []string{"A", "S_GT", "abundances"}

// AbundancesFromVar returns the true abundances held by the MAT variable v as
// a K×pixels matrix in the package's pixel order, for an image of rows×cols
// pixels and k endmembers. It accepts a K×pixels matrix (A) or an image of
// abundance maps with MATLAB dimensions rows×cols×K (S_GT), whose map k
// flattened in MATLAB order is row k. Any other shape gives an error naming
// the variable.
func AbundancesFromVar(v *matfile.Var, k, rows, cols int) (*mat.Dense, error) {
	n := rows * cols
	switch len(v.Dims) {
	case 2:
		a, err := MatrixFromVar(v)
		if err != nil {
			return nil, err
		}
		if ak, an := a.Dims(); ak != k || an != n {
			return nil, fmt.Errorf("true abundances %s are %d×%d, want %d×%d (K×pixels)", v.Name, ak, an, k, n)
		}
		return a, nil
	case 3:
		if v.Dims[0] != rows || v.Dims[1] != cols || v.Dims[2] != k {
			return nil, fmt.Errorf("true abundances %s are %v, want %d×%d×%d (rows×cols×K)", v.Name, v.Dims, rows, cols, k)
		}
		a, _, _, err := CubeFromVar(v, LayoutRowsColsBands)
		return a, err
	}
	return nil, fmt.Errorf("true abundances %s have dimensions %v, want K×pixels or rows×cols×K", v.Name, v.Dims)
}

// ReadMatrix reads the 2-D numeric variable name from a MAT-file, with
// MATLAB's row and column indices (for example the initial endmembers M0 of
// Jasper Ridge, bands×K).
func ReadMatrix(r io.Reader, name string) (*mat.Dense, error) {
	vars, err := matfile.Read(r)
	if err != nil {
		return nil, err
	}
	v := vars[name]
	if v == nil {
		return nil, fmt.Errorf("hyperspectral: MAT-file has no variable %q", name)
	}
	return MatrixFromVar(v)
}

// ScaleToData returns m (bands×K) multiplied by s = (mean over bands of the
// band maximum of y) / max(m): it brings endmembers given in other units (for
// example reflectance) to the scale of the data y (bands×pixels), so that
// sum-to-one abundances can fit. This is the rule the specification uses for
// the shipped Jasper Ridge initialisation.
func ScaleToData(m, y *mat.Dense) *mat.Dense {
	out := mat.DenseCopyOf(m)
	out.Scale(DataScale(m, y), out)
	return out
}

// DataScale is the factor ScaleToData multiplies the endmembers m (bands×K) by:
// the mean over the bands of the data y's (bands×pixels) band maxima, divided by
// the largest entry of m. A factor far from 1 says that m and y are in different
// units.
func DataScale(m, y *mat.Dense) float64 {
	l, _ := y.Dims()
	if r, _ := m.Dims(); r != l {
		panic(fmt.Sprintf("hyperspectral: DataScale: endmembers have %d bands, data %d", r, l))
	}
	var bandMax float64
	for i := range l {
		bandMax += floats.Max(y.RawRowView(i))
	}
	return bandMax / float64(l) / mat.Max(m)
}

// scalar returns a 1×1 numeric variable as a positive int.
func scalar(v *matfile.Var) (int, bool) {
	if v == nil || !v.HasData() || v.Len() != 1 {
		return 0, false
	}
	x := v.Real[0]
	if x < 1 || x != math.Trunc(x) || x > 1<<30 {
		return 0, false
	}
	return int(x), true
}
