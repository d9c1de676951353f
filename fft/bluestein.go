package fft

// bluestein computes a length-n DFT as a circular convolution of length
// m = 2^⌈log2(2n−1)⌉ (Bluestein's chirp-z algorithm). With the chirp
// c_j = exp(−iπ j²/n), jk = (j² + k² − (k−j)²)/2 gives
//
//	X_k = c_k Σ_j (x_j c_j) conj(c_{k−j}),
//
// a convolution of a = x·c with b = conj(c) that three length-m transforms
// evaluate. The inverse uses conj(DFT(conj(x))).
type bluestein struct {
	n, m  int
	chirp []complex128 // c_j, j < n
	bhat  []complex128 // DFT_m of b, scaled by 1/m
	inner *line
}

func newBluestein(n int) *bluestein {
	m := 1
	for m < 2*n-1 {
		m *= 2
	}
	b := &bluestein{n: n, m: m, inner: newLine(m)}
	b.chirp = make([]complex128, n)
	for j := range n {
		// j² mod 2n is exact in integers; exp(−iπ t/n) = expi(t, 2n).
		t := (j * j) % (2 * n)
		b.chirp[j] = expi(t, 2*n)
	}
	bb := make([]complex128, m)
	bb[0] = conj(b.chirp[0])
	for j := 1; j < n; j++ {
		bb[j] = conj(b.chirp[j])
		bb[m-j] = bb[j]
	}
	b.bhat = make([]complex128, m)
	work := make([]complex128, b.inner.workLen(1))
	b.inner.run(b.bhat, bb, work, 1, false)
	inv := complex(1/float64(m), 0)
	for i := range b.bhat {
		b.bhat[i] *= inv
	}
	return b
}

// workLen is the work length needed by run.
func (b *bluestein) workLen() int { return 2*b.m + b.inner.workLen(1) }

// run transforms v interleaved vectors one at a time (see line.run).
func (b *bluestein) run(dst, src, work []complex128, v int, inverse bool) {
	n, m := b.n, b.m
	a := work[:m]
	ah := work[m : 2*m]
	w := work[2*m:]
	for c := range v {
		for j := range n {
			x := src[j*v+c]
			if inverse {
				x = conj(x)
			}
			a[j] = x * b.chirp[j]
		}
		clear(a[n:])
		b.inner.run(ah, a, w, 1, false)
		for i, z := range b.bhat {
			ah[i] *= z
		}
		// Inverse DFT_m via conj(DFT(conj(·))); the 1/m is in bhat.
		for i := range ah {
			ah[i] = conj(ah[i])
		}
		b.inner.run(a, ah, w, 1, false)
		for k := range n {
			x := conj(a[k]) * b.chirp[k]
			if inverse {
				x = conj(x)
			}
			dst[k*v+c] = x
		}
	}
}
