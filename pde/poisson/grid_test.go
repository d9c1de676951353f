package poisson

import (
	"errors"
	"testing"
)

func TestNewGridValidation(t *testing.T) {
	for _, tc := range []struct {
		dim, n int
		ok     bool
	}{
		{2, 2, true}, {3, 2, true}, {2, 1000, true}, {3, 300, true},
		{1, 8, false}, {4, 8, false}, {0, 8, false},
		{2, 1, false}, {2, 0, false}, {3, -5, false},
		{2, 1 << 17, true}, {2, 1<<17 + 1, false}, // MaxCells = 2^34 = (2^17)^2
		{3, 2580, true}, {3, 2581, false}, // 2580³ < 2^34 < 2581³
		{3, 1 << 40, false},
	} {
		g, err := NewGrid(tc.dim, tc.n)
		if tc.ok {
			if err != nil {
				t.Errorf("NewGrid(%d, %d): unexpected error %v", tc.dim, tc.n, err)
				continue
			}
			if g.Dim() != tc.dim || g.N() != tc.n {
				t.Errorf("NewGrid(%d, %d) = dim %d, n %d", tc.dim, tc.n, g.Dim(), g.N())
			}
			continue
		}
		if !errors.Is(err, ErrSize) {
			t.Errorf("NewGrid(%d, %d): error %v, want ErrSize", tc.dim, tc.n, err)
		}
		if _, err := MemoryEstimate(tc.dim, tc.n); !errors.Is(err, ErrSize) {
			t.Errorf("MemoryEstimate(%d, %d): error %v, want ErrSize", tc.dim, tc.n, err)
		}
	}
}

func TestGridGeometry(t *testing.T) {
	g, _ := NewGrid(3, 5)
	if g.Len() != 125 || g.H() != 0.2 {
		t.Errorf("3-D n=5: Len %d H %g, want 125 0.2", g.Len(), g.H())
	}
	if s := g.Shape(); len(s) != 3 || s[0] != 5 || s[1] != 5 || s[2] != 5 {
		t.Errorf("3-D n=5: Shape %v", s)
	}
	g, _ = NewGrid(2, 4)
	if g.Len() != 16 || len(g.Shape()) != 2 {
		t.Errorf("2-D n=4: Len %d Shape %v", g.Len(), g.Shape())
	}
}

func TestMemoryEstimate(t *testing.T) {
	// Nine float64 vectors of n^dim entries.
	for _, tc := range []struct {
		dim, n int
		want   int64
	}{
		{2, 256, 9 * 8 * 256 * 256},
		{3, 64, 9 * 8 * 64 * 64 * 64},
		{3, 2580, 9 * 8 * 2580 * 2580 * 2580},
	} {
		got, err := MemoryEstimate(tc.dim, tc.n)
		if err != nil || got != tc.want {
			t.Errorf("MemoryEstimate(%d, %d) = %d, %v; want %d", tc.dim, tc.n, got, err, tc.want)
		}
	}
}
