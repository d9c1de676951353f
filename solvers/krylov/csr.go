package krylov

import "fmt"

// CSR is a square sparse matrix in compressed sparse row form: the entries of
// row i are Val[RowPtr[i]:RowPtr[i+1]] in the columns Col[RowPtr[i]:RowPtr[i+1]],
// in increasing column order. It implements Operator.
type CSR struct {
	N      int
	RowPtr []int
	Col    []int32
	Val    []float64
}

// NewCSR returns the n×n matrix with the given arrays (retained, not copied).
// It returns an error if they are inconsistent or a row's columns are not
// strictly increasing and in [0, n).
func NewCSR(n int, rowPtr []int, col []int32, val []float64) (*CSR, error) {
	if len(rowPtr) != n+1 || rowPtr[0] != 0 || rowPtr[n] != len(col) || len(col) != len(val) {
		return nil, fmt.Errorf("krylov: CSR: n=%d, len(rowPtr)=%d, len(col)=%d, len(val)=%d: inconsistent", n, len(rowPtr), len(col), len(val))
	}
	for i := range n {
		if rowPtr[i+1] < rowPtr[i] {
			return nil, fmt.Errorf("krylov: CSR: row %d: rowPtr decreases", i)
		}
		for p := rowPtr[i]; p < rowPtr[i+1]; p++ {
			if c := col[p]; c < 0 || int(c) >= n || (p > rowPtr[i] && c <= col[p-1]) {
				return nil, fmt.Errorf("krylov: CSR: row %d: column %d out of range or out of order", i, c)
			}
		}
	}
	return &CSR{N: n, RowPtr: rowPtr, Col: col, Val: val}, nil
}

// Len returns n.
func (a *CSR) Len() int { return a.N }

// Apply sets dst = A x; 2·nnz flops.
func (a *CSR) Apply(dst, x []float64) {
	if len(dst) != a.N || len(x) != a.N {
		panic(fmt.Sprintf("krylov: CSR.Apply: len(dst)=%d, len(x)=%d, want %d", len(dst), len(x), a.N))
	}
	for i := range a.N {
		var s float64
		for p := a.RowPtr[i]; p < a.RowPtr[i+1]; p++ {
			s += a.Val[p] * x[a.Col[p]]
		}
		dst[i] = s
	}
}

// Bytes returns the memory held by the matrix, in bytes.
func (a *CSR) Bytes() int64 {
	return int64(8*len(a.RowPtr) + 4*len(a.Col) + 8*len(a.Val))
}
