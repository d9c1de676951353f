package gphm

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// frobEach gives frob's sums bit for bit, for every count of matrices from
// one to past two groups of four, on views with a stride past their columns.
func TestFrobEach(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func(r, c int) *mat.Dense {
		return normalDense(rng, r, c+2).Slice(0, r, 1, c+1).(*mat.Dense)
	}
	v := fill(7, 9)
	for p := 1; p <= 9; p++ {
		xs := make([]*mat.Dense, p)
		for a := range xs {
			xs[a] = fill(7, 9)
		}
		got := make([]float64, p)
		frobEach(got, xs, v)
		for a, x := range xs {
			if want := frob(x, v); got[a] != want {
				t.Errorf("p = %d, matrix %d: %v, frob %v", p, a, got[a], want)
			}
		}
	}
}

// mulScaleAdd gives MulElem, Scale and Add in turn bit for bit, with and
// without each operand, on views with a stride past their columns.
func TestMulScaleAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	fill := func(r, c int) *mat.Dense {
		return normalDense(rng, r, c+2).Slice(0, r, 1, c+1).(*mat.Dense)
	}
	const c = 0.37
	for _, withW := range []bool{true, false} {
		for _, withV := range []bool{true, false} {
			out, w, v := fill(6, 11), fill(6, 11), fill(6, 11)
			want := mat.DenseCopyOf(out)
			var ww, vv *mat.Dense
			if withW {
				ww = w
				want.MulElem(want, w)
			}
			want.Scale(c, want)
			if withV {
				vv = v
				want.Add(want, v)
			}
			mulScaleAdd(out, ww, c, vv)
			for i := range 6 {
				for j := range 11 {
					if out.At(i, j) != want.At(i, j) {
						t.Fatalf("w %v, v %v: [%d, %d] = %v, want %v", withW, withV, i, j, out.At(i, j), want.At(i, j))
					}
				}
			}
		}
	}
}
