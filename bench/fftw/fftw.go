//go:build fftw

package fftw

/*
#cgo LDFLAGS: -lfftw3 -lm
#include <fftw3.h>
*/
import "C"

import (
	"unsafe"
)

// Plan is a pair of FFTW plans, real-to-complex and complex-to-real, over
// the same buffers, for batch grids of the given shape.
type Plan struct {
	fwd, inv C.fftw_plan
	Real     []float64
	Spec     []complex128
	rp       *C.double
	cp       *C.fftw_complex
}

// NewPlan plans with FFTW_MEASURE (which overwrites the buffers while
// planning) a batch of real transforms of the given shape (rank 1 to 3).
func NewPlan(batch int, shape ...int) *Plan {
	size, hsize := 1, 1
	for i, n := range shape {
		size *= n
		if i == len(shape)-1 {
			hsize *= n/2 + 1
		} else {
			hsize *= n
		}
	}
	p := &Plan{}
	p.rp = (*C.double)(C.fftw_malloc(C.size_t(8 * size * batch)))
	p.cp = (*C.fftw_complex)(C.fftw_malloc(C.size_t(16 * hsize * batch)))
	p.Real = unsafe.Slice((*float64)(unsafe.Pointer(p.rp)), size*batch)
	p.Spec = unsafe.Slice((*complex128)(unsafe.Pointer(p.cp)), hsize*batch)
	dims := make([]C.int, len(shape))
	for i, n := range shape {
		dims[i] = C.int(n)
	}
	p.fwd = C.fftw_plan_many_dft_r2c(C.int(len(shape)), &dims[0], C.int(batch),
		p.rp, nil, 1, C.int(size), p.cp, nil, 1, C.int(hsize), C.FFTW_MEASURE)
	p.inv = C.fftw_plan_many_dft_c2r(C.int(len(shape)), &dims[0], C.int(batch),
		p.cp, nil, 1, C.int(hsize), p.rp, nil, 1, C.int(size), C.FFTW_MEASURE)
	return p
}

// Forward executes the real-to-complex plan (Real → Spec, unnormalised).
func (p *Plan) Forward() { C.fftw_execute(p.fwd) }

// Inverse executes the complex-to-real plan (Spec → Real, unnormalised; FFTW
// destroys Spec).
func (p *Plan) Inverse() { C.fftw_execute(p.inv) }

// Destroy frees the plans and buffers.
func (p *Plan) Destroy() {
	C.fftw_destroy_plan(p.fwd)
	C.fftw_destroy_plan(p.inv)
	C.fftw_free(unsafe.Pointer(p.rp))
	C.fftw_free(unsafe.Pointer(p.cp))
	p.Real, p.Spec = nil, nil
}
