// Package fftw compares the transforms of eddy/fft with gonum's dsp/fourier
// and, when built with the tag fftw, with FFTW 3 (cgo, libfftw3, FFTW_MEASURE
// plans, one thread). The package exists for its benchmarks only: the product
// never imports it, and without the tag it contains no cgo.
//
//	go test -run XXX -bench . ./bench/fftw               # eddy/fft and gonum
//	go test -tags fftw -run XXX -bench . ./bench/fftw    # the same plus FFTW
//
// Every benchmark runs a forward and an inverse real transform of one batch
// (2-D 64², 256², 512², a batch of 256 grids of 64², and 3-D 64³).
package fftw
