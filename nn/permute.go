package nn

// permute writes src, a row-major tensor of the given shape, into dst with
// its axes reordered: axis i of dst is axis perm[i] of src. Axes that stay
// adjacent and in order are merged first, so that the innermost runs are as
// long as possible; runs contiguous in src are copied, others gathered.
// idx must have room for len(shape) ints; nothing is allocated.
func permute(dst, src []float64, shape, perm, idx []int) {
	r := len(shape)
	if r == 0 {
		dst[0] = src[0]
		return
	}
	var sstr [16]int // src strides
	s := 1
	for i := r - 1; i >= 0; i-- {
		sstr[i] = s
		s *= shape[i]
	}
	// Merged dst axes: sizes and src strides.
	var dshape, st [16]int
	m := 0
	for i, p := range perm {
		if i > 0 && p == perm[i-1]+1 {
			// dst axis i follows axis i−1 in src too: merge
			dshape[m-1] *= shape[p]
			st[m-1] = sstr[p]
			continue
		}
		dshape[m], st[m] = shape[p], sstr[p]
		m++
	}
	n, last := dshape[m-1], st[m-1]
	idx = idx[:m]
	clear(idx)
	off, o := 0, 0
	total := len(dst)
	for o < total {
		switch {
		case last == 1 && n >= 16:
			copy(dst[o:o+n], src[off:off+n])
		case last == 1:
			d, s := dst[o:o+n], src[off:off+n]
			for k := range d {
				d[k] = s[k]
			}
		default:
			j := off
			d := dst[o : o+n]
			for k := range d {
				d[k] = src[j]
				j += last
			}
		}
		o += n
		// advance the odometer over merged axes m−2 … 0
		for a := m - 2; a >= 0; a-- {
			idx[a]++
			off += st[a]
			if idx[a] < dshape[a] {
				break
			}
			off -= st[a] * dshape[a]
			idx[a] = 0
		}
	}
}

// inversePerm returns the permutation q with q[perm[i]] = i.
func inversePerm(perm []int) []int {
	q := make([]int, len(perm))
	for i, p := range perm {
		q[p] = i
	}
	return q
}
