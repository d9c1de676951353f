package hyperspectral

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"eddy/hyperspectral/matfile"
)

func TestReadSceneJasper(t *testing.T) {
	s := loadScene(t, "Jasper_with_GT.mat")
	if l, n := s.Y.Dims(); l != 198 || n != 10000 || s.Rows != 100 || s.Cols != 100 {
		t.Fatalf("Y %d×%d, image %d×%d", l, n, s.Rows, s.Cols)
	}
	if s.Truth == nil || s.Truth.Abundances == nil {
		t.Fatal("no truth")
	}
	if l, k := s.Truth.Endmembers.Dims(); l != 198 || k != 4 {
		t.Fatalf("true endmembers %d×%d, want 198×4 (GT transposed)", l, k)
	}
	// Abundances of every pixel sum to one (README); the stored values are
	// rounded sums of four doubles, so within 1e-12.
	a := s.Truth.Abundances
	for p := range 10000 {
		if sum := floats.Sum(mat.Col(nil, p, a)); math.Abs(sum-1) > 1e-12 {
			t.Fatalf("pixel %d: abundances sum to %v", p, sum)
		}
	}
	// The pixel-order convention, checked on the file itself: the abundance
	// maps S_GT (rows, cols, K), read with the rows,cols,bands layout, must
	// equal A exactly (the README states S_GT[:,:,k] flattened in Fortran
	// order is A[k,:]).
	vars, err := matfile.Read(openShipped(t, "Jasper_with_GT.mat"))
	if err != nil {
		t.Fatal(err)
	}
	maps, rows, cols, err := CubeFromVar(vars["S_GT"], LayoutRowsColsBands)
	if err != nil || rows != 100 || cols != 100 {
		t.Fatalf("S_GT: %d×%d, %v", rows, cols, err)
	}
	if !mat.Equal(maps, a) {
		t.Errorf("S_GT in pixel order n = row + col·rows differs from A")
	}

	orig := loadScene(t, "jasperRidge2_R198.mat")
	if orig.Truth != nil || orig.Rows != 100 || orig.Cols != 100 || !mat.Equal(orig.Y, s.Y) {
		t.Errorf("jasperRidge2_R198: truth %v, image %d×%d, same Y %v", orig.Truth != nil, orig.Rows, orig.Cols, mat.Equal(orig.Y, s.Y))
	}
}

func TestReadSceneSamsonAndUrban(t *testing.T) {
	s := loadScene(t, "samson_dataset.mat")
	if l, n := s.Y.Dims(); l != 156 || n != 9025 || s.Rows != 95 || s.Cols != 95 {
		t.Errorf("Samson Y %d×%d, image %d×%d; want 156×9025, 95×95", l, n, s.Rows, s.Cols)
	}
	if s.Truth == nil || s.Truth.Abundances == nil || s.Init == nil {
		t.Fatalf("Samson: truth %v, init %v", s.Truth, s.Init)
	}
	if l, k := s.Init.Dims(); l != 156 || k != 3 {
		t.Errorf("Samson M1 %d×%d", l, k)
	}
	u := loadScene(t, "subimage_Urban_R162_noGT.mat")
	if l, n := u.Y.Dims(); l != 162 || n != 34*78 || u.Rows != 34 || u.Cols != 78 || u.Truth != nil {
		t.Errorf("Urban crop: Y %d×%d, image %d×%d, truth %v", l, n, u.Rows, u.Cols, u.Truth != nil)
	}
}

func TestScaleToData(t *testing.T) {
	y, _, m0 := jasperSetup(t)
	var bandMax float64
	for l := range 198 {
		bandMax += floats.Max(y.RawRowView(l))
	}
	bandMax /= 198
	if got := mat.Max(m0); math.Abs(got-bandMax) > 1e-12 {
		t.Errorf("max of scaled M0 = %v, want the mean band maximum %v", got, bandMax)
	}
}

// TestUrbanSmoke unmixes the Urban crop, which has no ground truth: a smoke
// test of the rows,cols,bands path end to end.
func TestUrbanSmoke(t *testing.T) {
	u := loadScene(t, "subimage_Urban_R162_noGT.mat")
	cfg := DefaultConfig()
	cfg.Endmembers = 4
	cfg.Iterations = 20
	cfg.Rows, cfg.Cols = u.Rows, u.Cols
	res := runUnmix(t, u.Y, cfg)
	if len(res.AbundanceCube()) != 4*34*78 || len(res.GuidanceImage()) != 34*78 {
		t.Errorf("cube %d, image %d", len(res.AbundanceCube()), len(res.GuidanceImage()))
	}
}

// TestTruthAbundancesUnderOtherNames: a scene file whose true abundances are
// stored only as S_GT (rows×cols×K) or as abundances gives the same matrix as
// A; a wrong shape is an error naming the variable.
func TestTruthAbundancesUnderOtherNames(t *testing.T) {
	vars, err := matfile.Read(openShipped(t, "Jasper_with_GT.mat"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := SceneFromVars(vars)
	if err != nil {
		t.Fatal(err)
	}
	a := vars["A"]
	delete(vars, "A")
	s, err := SceneFromVars(vars)
	if err != nil || s.Truth.Abundances == nil || !mat.Equal(s.Truth.Abundances, want.Truth.Abundances) {
		t.Fatalf("from S_GT: %v", err)
	}
	delete(vars, "S_GT")
	a.Name = "abundances"
	vars["abundances"] = a
	if s, err = SceneFromVars(vars); err != nil || !mat.Equal(s.Truth.Abundances, want.Truth.Abundances) {
		t.Fatalf("from abundances: %v", err)
	}
	if _, err := AbundancesFromVar(a, 3, 100, 100); err == nil || !strings.Contains(err.Error(), "abundances") {
		t.Errorf("K = 3 for a 4×10000 matrix: %v", err)
	}
}
