package blas

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// TestCrewSplit checks that a product split across this library's threads
// (crewSplit) gives the bits of the same split on goroutines, by rows and by
// columns, with every transpose, padded leading dimensions and odd sizes;
// likewise the triangular solve and product. The equality is exact: the
// shares are the same engine calls on the same operands. (It need not equal
// one unsplit call to the bit: the engine's kernels for the edges of a share
// sum in another order; at 63×233×120 a split by rows differs.)
func TestCrewSplit(t *testing.T) {
	if !openblasReady || min(runtime.GOMAXPROCS(0), cap(slots)) < 2 {
		t.Skip("needs the engine and two cores")
	}
	r := rand.New(rand.NewPCG(11, 13))
	for _, sz := range [][3]int{{201, 150, 170}, {63, 233, 120}, {1, 300, 40}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				for _, rows := range []bool{true, false} {
					name := fmt.Sprintf("m=%d n=%d k=%d tA=%v tB=%v rows=%v", m, n, k, ta, tb, rows)
					a, lda, b, ldb, c, ldc := operands(r, m, n, k, ta, tb, [3]int{3, 1, 2})
					split := slices.Clone(c)
					if rows {
						inParts(m, 2, func(r0, r1 int) {
							off := r0 * lda
							if ta {
								off = r0
							}
							Dgemm(ta, tb, r1-r0, n, k, 1.3, a[off:], lda, b, ldb, 0.4, split[r0*ldc:], ldc)
						})
					} else {
						inParts(n, 2, func(c0, c1 int) {
							off := c0
							if tb {
								off = c0 * ldb
							}
							Dgemm(ta, tb, m, c1-c0, k, 1.3, a, lda, b[off:], ldb, 0.4, split[c0:], ldc)
						})
					}
					got := slices.Clone(c)
					if !openblasDgemmSplit(2, rows, ta, tb, m, n, k, 1.3, a, lda, b, ldb, 0.4, got, ldc) {
						t.Fatalf("%s: the crew did not take the product", name)
					}
					if !slices.Equal(got, split) {
						t.Fatalf("%s: the crew's split differs from the goroutines'", name)
					}
				}
			}
		}
	}
	for _, trmm := range []bool{false, true} {
		call := openblasDtrsm
		if trmm {
			call = openblasDtrmm
		}
		for _, right := range []bool{false, true} {
			for _, upper := range []bool{false, true} {
				for _, tr := range []bool{false, true} {
					m, n := 150, 171
					k := m
					if right {
						k = n
					}
					lda, ldb := k+1, n+2
					a := dominantTriangle(r, k, lda)
					b := randSlice(r, m*ldb)
					split := slices.Clone(b)
					if right {
						inParts(m, 2, func(r0, r1 int) { call(right, upper, tr, false, r1-r0, n, 0.8, a, lda, split[r0*ldb:], ldb) })
					} else {
						inParts(n, 2, func(c0, c1 int) { call(right, upper, tr, false, m, c1-c0, 0.8, a, lda, split[c0:], ldb) })
					}
					got := slices.Clone(b)
					if !openblasTriSplit(2, trmm, right, upper, tr, false, m, n, 0.8, a, lda, got, ldb) {
						t.Fatal("the crew did not take the triangular operation")
					}
					if !slices.Equal(got, split) {
						t.Fatalf("trmm=%v right=%v upper=%v trans=%v: the crew's split differs from the goroutines'", trmm, right, upper, tr)
					}
				}
			}
		}
	}
}

// BenchmarkSplitGemm times an n×n×n product in one engine call, split in two
// by rows on goroutines (one cgo call per share), and split on the crew (one
// cgo call).
func BenchmarkSplitGemm(b *testing.B) {
	for _, n := range []int{100, 200, 400} {
		r := rand.New(rand.NewPCG(1, 2))
		x, y, z := randSlice(r, n*n), randSlice(r, n*n), make([]float64, n*n)
		b.Run(fmt.Sprintf("one/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				Dgemm(false, false, n, n, n, 1, x, n, y, n, 0, z, n)
			}
		})
		b.Run(fmt.Sprintf("goroutines/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				inParts(n, 2, func(r0, r1 int) {
					Dgemm(false, false, r1-r0, n, n, 1, x[r0*n:], n, y, n, 0, z[r0*n:], n)
				})
			}
		})
		b.Run(fmt.Sprintf("crew/n=%d", n), func(b *testing.B) {
			if !openblasReady || min(runtime.GOMAXPROCS(0), cap(slots)) < 2 {
				b.Skip("needs the engine and two cores")
			}
			for b.Loop() {
				if !openblasDgemmSplit(2, true, false, false, n, n, n, 1, x, n, y, n, 0, z, n) {
					b.Fatal("the crew did not take the product")
				}
			}
		})
	}
}
