package krylov

import (
	"fmt"
	"math"
	"runtime"

	"eddy/pde/poisson"
)

// MG is an aggregation multigrid preconditioner for the cell-grid operators
// of eddy/pde/poisson (fluid cells with solid and air neighbours).
//
// Hierarchy. Level 0 is the stencil itself; level l+1 has one unknown per
// aggregate of level l. An aggregate is a set of unknowns whose positions
// fall into one block of 2^d positions (2×2 or 2×2×2) and that are connected
// through couplings inside the block: a block cut by a thin obstacle yields
// one aggregate per side, so no coarse unknown joins fluid on both sides of a
// wall and every fluid cell takes part in every coarse level. The coarse
// operators are Galerkin products Pᵀ A P for the piecewise-constant P of the
// aggregation (stored as sparse rows), so walls, air cells and closed
// pockets are inherited from the fine couplings with no case analysis, and
// every coarse operator is SPD when A is. Couplings join only face-adjacent
// positions, so the red–black colouring by position parity holds on every
// level. Setup is O(n) per level.
//
// Cycle. Smoothing is symmetric red–black Gauss–Seidel: Nu sweeps red then
// black before the coarse correction and Nu sweeps black then red after it,
// the adjoint order. The default cycle is the K-cycle of Notay and
// Vassilevski (Numer. Linear Algebra Appl. 15, 2008): on every level but the
// finest the coarse problem is solved by up to two steps of flexible CG
// preconditioned by the next cycle (the second step is skipped when the
// first reduces the residual by Trunc), which gives iteration counts that do
// not grow with the number of levels despite the weak piecewise-constant
// interpolation. A K-cycle is a nonlinear map, so MG reports Variable() and
// PCG then runs flexible CG (Notay 2000). With VCycle set, the coarse
// correction is instead scaled by Scale (Vaněk's over-correction) and MG is
// a fixed symmetric positive definite preconditioner (0 < Scale < 2).
// The coarsest level (at most coarsestCells unknowns) is solved by a dense
// Cholesky factorisation. Coarsening stops early where it stalls (fluid in
// many pieces, as an uploaded label volume may have); a coarsest level too
// large to factor is then smoothed by coarsestSweeps symmetric sweeps, which
// keeps the preconditioner valid, only weaker.
//
// With GOMAXPROCS > 1, the sweeps, residuals and transfers of levels of at
// least mgParallelMin unknowns are split over the caller and one worker
// goroutine (started by NewMG, stopped when the MG is garbage collected).
// Red–black updates of one colour are independent, so the split does not
// change the result: a cycle is deterministic and bitwise reproducible.
// Precondition allocates nothing.
type MG struct {
	levels []*mgLevel
	chol   []float64 // dense Cholesky factor of the coarsest operator
	opts   MGOptions
	work   chan mgJob // nil: serial
	done   chan struct{}
	// unfused makes level 0 run its passes separately, as the coarse
	// levels do; tests compare the two.
	unfused bool
}

// MGOptions tune MG; the zero value selects the defaults.
type MGOptions struct {
	// Nu is the number of red–black Gauss–Seidel sweeps before and after
	// the coarse correction; zero means 1, negative is invalid. Measured on the smoke scene at
	// 128³: 9 iterations to 1e-6 and 0.8 CPU-s with 1, 8 and 1.0–1.7 CPU-s
	// with 2.
	Nu int
	// VCycle selects the V-cycle with a scaled coarse correction instead of
	// the K-cycle; it makes the preconditioner fixed and SPD, for plain PCG,
	// but its iteration count grows with the number of levels (smoke scene,
	// to 1e-6: 14, 16, 19 at 128², 256², 512²; 11, 16 at 32³, 64³).
	VCycle bool
	// Scale multiplies the coarse correction of the V-cycle; zero means 1.8.
	Scale float64
	// Trunc is the K-cycle's residual reduction after one inner step below
	// which the second step is skipped; zero means 0.25 (Notay's choice).
	Trunc float64
}

// mgLevel is one level of the hierarchy. Level 0 applies the stencil st over
// the full grid (inactive cells included, with their identity rows); coarse
// levels hold their active unknowns only, A = D + off-diagonal rows.
type mgLevel struct {
	n  int
	st *poisson.Stencil // level 0 only
	// Coarse levels: the off-diagonal entries of row i are
	// val[rowPtr[i]:rowPtr[i+1]] in the columns col[…]; unknowns [0, nRed)
	// are red, [nRed, n) black.
	rowPtr []int
	col    []int32
	val    []float64
	diag   []float64
	inv    []float64 // inverse diagonal
	nRed   int
	// Transfer to the next coarser level (nil on the coarsest): agg[i] is
	// the aggregate of unknown i (−1 for an inactive cell), and aggregate I
	// has the members mem[memPtr[I]:memPtr[I+1]].
	agg    []int32
	memPtr []int32
	mem    []int32
	next   *mgLevel
	zero   []float64 // level 0: a grid row of zeros
	// x and b are the level's solution and right-hand side (on level 0 the
	// caller's dst and r), r its residual; c1, v1, v2 the K-cycle's work on
	// coarse levels.
	x, b, r    []float64
	c1, v1, v2 []float64
}

// coarsestCells bounds the size of the coarsest level.
const coarsestCells = 512

// mgParallelMin is the number of unknowns from which a level's kernels are
// split over two goroutines. A hand-off costs a few microseconds, a sweep
// over 2^15 cells about 100 µs.
const mgParallelMin = 1 << 15

// NewMG builds the hierarchy for the operator a (retained, not copied). It
// returns an error wrapping ErrNotPositiveDefinite if the coarsest operator
// is not positive definite (a closed fluid pocket that was not grounded,
// say).
func NewMG(a *poisson.Stencil, o MGOptions) (*MG, error) {
	if o.Nu == 0 {
		o.Nu = 1
	}
	if o.Scale == 0 {
		o.Scale = 1.8
	}
	if o.Trunc == 0 {
		o.Trunc = 0.25
	}
	if o.Nu < 1 || !(o.Scale > 0 && o.Scale < 2) || !(o.Trunc > 0 && o.Trunc < 1) {
		panic(fmt.Sprintf("krylov: invalid MG options %+v", o))
	}
	m := &MG{opts: o}
	nc := a.Len()
	inv := make([]float64, nc)
	for i, d := range a.Diag {
		inv[i] = 1 / d
	}
	// Level 0 needs no residual vector: its residual goes straight into
	// the coarse right-hand side.
	fine := &mgLevel{n: nc, st: a, inv: inv, zero: make([]float64, a.Shape[0])}
	m.levels = append(m.levels, fine)

	// Positions of the current level's unknowns on a grid of shape sh.
	sh := a.Shape
	if a.Dim == 2 {
		sh[2] = 1
	}
	pos := make([]int32, nc)
	for i := range pos {
		pos[i] = int32(i)
	}
	for {
		l := m.levels[len(m.levels)-1]
		csh, cpos := l.aggregate(a.Dim, sh, pos)
		c := l.galerkin(len(l.memPtr) - 1)
		c.x, c.b, c.r = make([]float64, c.n), make([]float64, c.n), make([]float64, c.n)
		// The colour split: aggregate sorts the red aggregates first.
		for c.nRed = 0; c.nRed < c.n; c.nRed++ {
			if parity(cpos[c.nRed], csh) != 0 {
				break
			}
		}
		m.levels = append(m.levels, c)
		l.next = c
		sh, pos = csh, cpos
		// Coarsening ends at a small level, at a single block, or where
		// it stalls (fluid in many pieces that touch no common block: an
		// uploaded scene can do that).
		if c.n <= coarsestCells || sh == [3]int{1, 1, 1} || c.n > len(l.mem)*9/10 {
			break
		}
	}
	if !o.VCycle { // the K-cycle's work on the levels between
		for _, c := range m.levels[1 : len(m.levels)-1] {
			c.c1, c.v1, c.v2 = make([]float64, c.n), make([]float64, c.n), make([]float64, c.n)
		}
	}
	if err := m.factorCoarsest(); err != nil {
		return nil, err
	}
	if runtime.GOMAXPROCS(0) > 1 && nc >= mgParallelMin {
		m.work, m.done = make(chan mgJob), make(chan struct{})
		go mgWorker(m.work, m.done)
		runtime.AddCleanup(m, func(w chan mgJob) { close(w) }, m.work)
	}
	return m, nil
}

// parity returns the red–black colour of position p on a grid of shape sh.
func parity(p int32, sh [3]int) int {
	i := int(p) % sh[0]
	j := int(p) / sh[0] % sh[1]
	k := int(p) / (sh[0] * sh[1])
	return (i + j + k) & 1
}

// active reports whether unknown i takes part in coarsening.
func (l *mgLevel) active(i int) bool {
	return l.st == nil || l.st.Inactive == nil || !l.st.Inactive[i]
}

// aggregate sets l.agg, l.memPtr and l.mem: the aggregates are the connected
// components (through the level's couplings) of the active unknowns of each
// block of 2^dim positions, numbered block by block, the blocks of even
// parity first. It returns the coarse grid's shape and the aggregates'
// positions on it.
func (l *mgLevel) aggregate(dim int, sh [3]int, pos []int32) ([3]int, []int32) {
	csh := [3]int{(sh[0] + 1) / 2, (sh[1] + 1) / 2, (sh[2] + 1) / 2}
	if dim == 2 {
		csh[2] = 1
	}
	n := l.n
	// blk[i] is the block of unknown i, −1 if i is inactive.
	blk := make([]int32, n)
	if l.st != nil {
		i := 0
		for k := range sh[2] {
			for j := range sh[1] {
				row := int32((k/2*csh[1] + j/2) * csh[0])
				for x := range sh[0] {
					blk[i] = row + int32(x/2)
					if !l.active(i) {
						blk[i] = -1
					}
					i++
				}
			}
		}
	} else {
		for i, p := range pos {
			x := int(p) % sh[0]
			j := int(p) / sh[0] % sh[1]
			k := int(p) / (sh[0] * sh[1])
			blk[i] = int32((k/2*csh[1]+j/2)*csh[0] + x/2)
		}
	}
	root := make([]int32, n)
	for i := range root {
		root[i] = int32(i)
	}
	find := func(i int32) int32 {
		for root[i] != i {
			root[i] = root[root[i]]
			i = root[i]
		}
		return i
	}
	union := func(i, j int) {
		if ri, rj := find(int32(i)), find(int32(j)); ri != rj {
			root[max(ri, rj)] = min(ri, rj)
		}
	}
	nb := csh[0] * csh[1] * csh[2]
	count := make([]int32, nb+1)
	for i, bi := range blk {
		if bi < 0 {
			continue
		}
		count[bi+1]++
		if s := l.st; s != nil {
			strides := [3]int{1, sh[0], sh[0] * sh[1]}
			for a := range dim {
				if j := i + strides[a]; s.W[a][i] != 0 && blk[j] == bi {
					union(i, j)
				}
			}
			continue
		}
		for p := l.rowPtr[i]; p < l.rowPtr[i+1]; p++ {
			if j := int(l.col[p]); j > i && blk[j] == bi {
				union(i, j)
			}
		}
	}
	// Unknowns grouped by block, in increasing order within a block.
	for b := range nb {
		count[b+1] += count[b]
	}
	byBlock := make([]int32, count[nb])
	fill := make([]int32, nb)
	copy(fill, count)
	for i, bi := range blk {
		if bi >= 0 {
			byBlock[fill[bi]] = int32(i)
			fill[bi]++
		}
	}
	// Number the components block by block, red blocks first.
	id := make([]int32, n) // aggregate of a component root, −1 until numbered
	for i := range id {
		id[i] = -1
	}
	l.agg = make([]int32, n)
	for i := range l.agg {
		l.agg[i] = -1
	}
	var cpos []int32
	for colour := range 2 {
		for b := range nb {
			if parity(int32(b), csh) != colour {
				continue
			}
			for _, i := range byBlock[count[b]:count[b+1]] {
				r := find(i)
				if id[r] < 0 {
					id[r] = int32(len(cpos))
					cpos = append(cpos, int32(b))
				}
				l.agg[i] = id[r]
			}
		}
	}
	// Members by aggregate, in increasing order.
	na := len(cpos)
	l.memPtr = make([]int32, na+1)
	for _, a := range l.agg {
		if a >= 0 {
			l.memPtr[a+1]++
		}
	}
	for a := range na {
		l.memPtr[a+1] += l.memPtr[a]
	}
	l.mem = make([]int32, l.memPtr[na])
	fill = make([]int32, na)
	copy(fill, l.memPtr[:na])
	for i, a := range l.agg {
		if a >= 0 {
			l.mem[fill[a]] = int32(i)
			fill[a]++
		}
	}
	return csh, cpos
}

// galerkin returns the coarse level Pᵀ A P for the aggregation of l onto nc
// aggregates: a_IJ = Σ_{i∈I, j∈J} a_ij.
func (l *mgLevel) galerkin(nc int) *mgLevel {
	dim := 3
	if l.st != nil {
		dim = l.st.Dim
	}
	c := &mgLevel{n: nc, rowPtr: make([]int, nc+1), diag: make([]float64, nc), inv: make([]float64, nc)}
	c.col = make([]int32, 0, 2*dim*nc+nc/4)
	c.val = make([]float64, 0, cap(c.col))
	slot := make([]int32, nc) // position of column J in the current row, −1 if absent
	for i := range slot {
		slot[i] = -1
	}
	add := func(I int, j int, v float64) {
		J := l.agg[j]
		switch {
		case J == int32(I):
			c.diag[I] += v
		case slot[J] >= 0:
			c.val[slot[J]] += v
		default:
			slot[J] = int32(len(c.col))
			c.col = append(c.col, J)
			c.val = append(c.val, v)
		}
	}
	var strides [3]int
	if s := l.st; s != nil {
		strides = [3]int{1, s.Shape[0], s.Shape[0] * s.Shape[1]}
	}
	for I := range nc {
		start := len(c.col)
		for _, m := range l.mem[l.memPtr[I]:l.memPtr[I+1]] {
			i := int(m)
			if s := l.st; s != nil {
				c.diag[I] += s.Diag[i]
				for a := range s.Dim {
					if j := i - strides[a]; j >= 0 && s.W[a][j] != 0 {
						add(I, j, -s.W[a][j])
					}
					if w := s.W[a][i]; w != 0 {
						add(I, i+strides[a], -w)
					}
				}
				continue
			}
			c.diag[I] += l.diag[i]
			for p := l.rowPtr[i]; p < l.rowPtr[i+1]; p++ {
				add(I, int(l.col[p]), l.val[p])
			}
		}
		for _, J := range c.col[start:] {
			slot[J] = -1
		}
		c.rowPtr[I+1] = len(c.col)
		c.inv[I] = 1 / c.diag[I]
	}
	return c
}

// factorCoarsest computes the dense Cholesky factor of the coarsest
// operator if it has at most coarsestCells unknowns; a larger one (where
// coarsening stalled) is left to coarsestSweeps smoothing sweeps.
func (m *MG) factorCoarsest() error {
	c := m.levels[len(m.levels)-1]
	k := c.n
	if k > coarsestCells {
		return nil
	}
	dense := make([]float64, k*k)
	for i := range k {
		dense[i*k+i] = c.diag[i]
		for p := c.rowPtr[i]; p < c.rowPtr[i+1]; p++ {
			dense[i*k+int(c.col[p])] = c.val[p]
		}
	}
	for j := range k {
		s := dense[j*k+j]
		for p := range j {
			s -= dense[j*k+p] * dense[j*k+p]
		}
		if !(s > 0) {
			return fmt.Errorf("krylov: MG: coarsest operator of %d unknowns: pivot %d is %g: %w", k, j, s, ErrNotPositiveDefinite)
		}
		s = math.Sqrt(s)
		dense[j*k+j] = s
		for i := j + 1; i < k; i++ {
			t := dense[i*k+j]
			for p := range j {
				t -= dense[i*k+p] * dense[j*k+p]
			}
			dense[i*k+j] = t / s
		}
	}
	m.chol = dense
	return nil
}

// Levels returns the number of levels, the finest included.
func (m *MG) Levels() int { return len(m.levels) }

// Unknowns returns the number of unknowns of each level (cells, active or
// not, on the finest).
func (m *MG) Unknowns() []int {
	u := make([]int, len(m.levels))
	for i, l := range m.levels {
		u[i] = l.n
	}
	return u
}

// Variable reports whether M⁻¹ is a nonlinear map (the K-cycle), for which
// PCG runs flexible CG.
func (m *MG) Variable() bool { return !m.opts.VCycle }

// Bytes returns the memory of the hierarchy, in bytes (the finest operator
// excluded): 16 bytes per finest cell (inverse diagonal, aggregation)
// plus about 84 + 24d bytes per coarse unknown (sparse row of 2d couplings,
// diagonal, six vectors, transfers), and the dense coarsest factor (at most
// 8·512² bytes). The coarse levels hold about 1/(2^d − 1) as many unknowns
// as the finest has cells, fewer where cells are solid or air.
func (m *MG) Bytes() int64 {
	var b int64
	for _, l := range m.levels {
		b += 8 * int64(len(l.rowPtr)+len(l.val)+len(l.diag)+len(l.inv)+len(l.r)+len(l.c1)+len(l.v1)+len(l.v2))
		b += 4 * int64(len(l.col)+len(l.agg)+len(l.memPtr)+len(l.mem))
		if l.st == nil {
			b += 16 * int64(l.n) // x and b
		}
	}
	return b + 8*int64(len(m.chol))
}

// Precondition sets dst = M⁻¹ r, one cycle from a zero guess.
func (m *MG) Precondition(dst, r []float64) {
	l0 := m.levels[0]
	if len(dst) != l0.n || len(r) != l0.n {
		panic(fmt.Sprintf("krylov: MG: len(dst)=%d, len(r)=%d, want %d", len(dst), len(r), l0.n))
	}
	l0.x, l0.b = dst, r
	m.cycle(0)
	l0.x, l0.b = nil, nil
}

// cycle solves approximately A_l x_l = b_l from x_l = 0.
func (m *MG) cycle(l int) {
	lv := m.levels[l]
	if l == len(m.levels)-1 {
		m.solveCoarsest(lv)
		return
	}
	c := m.levels[l+1]
	// The finest level fuses its passes over the grid (memory traffic is
	// its cost): the first red and black half-sweeps, the residual with the
	// restriction, the prolongation with the next black half-sweep.
	fused := lv.st != nil && !m.unfused
	if fused {
		m.run(mgJob{op: opFirstBlack, l: lv, hi: lv.rows()})
	} else {
		// From x = 0 the first red half-sweep is x = D⁻¹b on red.
		m.run(mgJob{op: opFirst, l: lv, hi: lv.rows()})
		m.smooth(lv, 1)
	}
	for range m.opts.Nu - 1 {
		m.smooth(lv, 0)
		m.smooth(lv, 1)
	}
	// After a black half-sweep the black residuals are zero: only the red
	// ones are computed.
	if fused {
		clear(c.b)
		m.run(mgJob{op: opResidualRestrict, l: lv, hi: lv.rows(), align: lv.blockRows()})
	} else {
		if lv.r == nil { // level 0 unfused, in tests
			lv.r = make([]float64, lv.n)
		}
		m.run(mgJob{op: opResidual, l: lv, hi: lv.rows(), colour: 1})
		m.run(mgJob{op: opRestrict, l: lv, hi: c.n})
	}
	switch {
	case l+2 == len(m.levels): // the coarsest level
		m.cycle(l + 1)
	case m.opts.VCycle:
		m.cycle(l + 1)
		m.scale(c.x, m.opts.Scale)
	default:
		m.kstep(l + 1)
	}
	if fused {
		m.run(mgJob{op: opProlongBlack, l: lv, hi: lv.rows()})
		m.smooth(lv, 0)
	} else {
		m.run(mgJob{op: opProlong, l: lv, hi: lv.n})
	}
	for i := range m.opts.Nu {
		if i > 0 || !fused {
			m.smooth(lv, 1)
			m.smooth(lv, 0)
		}
	}
}

// blockRows returns the number of grid rows of level 0 that make up one row
// of 2^d blocks: a split of the rows at a multiple of it keeps every
// aggregate on one side.
func (l *mgLevel) blockRows() int {
	if l.st.Dim == 3 {
		return 2 * l.st.Shape[1]
	}
	return 2
}

// kstep sets c.x to the K-cycle's approximate solution of A_c x = b_c: one
// or two steps of flexible CG from 0 preconditioned by cycle(l), with the
// directions c1 and c2 A-orthogonalised. c.b is overwritten.
func (m *MG) kstep(l int) {
	c := m.levels[l]
	bb := dotRange(c.b, c.b)
	if bb == 0 {
		clear(c.x)
		return
	}
	m.cycle(l)
	copy(c.c1, c.x)
	m.run(mgJob{op: opApply, l: c, hi: c.n, dst: c.v1, src: c.c1})
	rho1 := dotRange(c.c1, c.v1)
	a1 := dotRange(c.c1, c.b) / rho1
	// b ← b − a1·v1, the residual after the first step.
	var rr float64
	for i, v := range c.v1 {
		t := c.b[i] - a1*v
		c.b[i] = t
		rr += t * t
	}
	if rr <= m.opts.Trunc*m.opts.Trunc*bb {
		m.scaleTo(c.x, c.c1, a1)
		return
	}
	m.cycle(l) // c.x = c2
	m.run(mgJob{op: opApply, l: c, hi: c.n, dst: c.v2, src: c.x})
	gamma := dotRange(c.x, c.v1)
	beta := dotRange(c.x, c.v2)
	a2 := dotRange(c.x, c.b)
	rho2 := beta - gamma*gamma/rho1
	if !(rho2 > 0) { // c2 is (numerically) in the span of c1
		m.scaleTo(c.x, c.c1, a1)
		return
	}
	s1, s2 := a1-gamma*a2/(rho1*rho2), a2/rho2
	for i, v := range c.c1 {
		c.x[i] = s1*v + s2*c.x[i]
	}
}

// scale sets x *= s.
func (m *MG) scale(x []float64, s float64) {
	for i := range x {
		x[i] *= s
	}
}

// scaleTo sets dst = s·x.
func (m *MG) scaleTo(dst, x []float64, s float64) {
	for i, v := range x {
		dst[i] = s * v
	}
}

// smooth performs the half-sweep of one colour on x.
func (m *MG) smooth(lv *mgLevel, colour int) {
	if lv.st != nil {
		m.run(mgJob{op: opSweep, l: lv, colour: colour, hi: lv.rows()})
		return
	}
	lo, hi := 0, lv.nRed
	if colour == 1 {
		lo, hi = lv.nRed, lv.n
	}
	m.run(mgJob{op: opSweep, l: lv, colour: colour, lo: lo, hi: hi})
}

// coarsestSweeps is the number of symmetric red–black Gauss–Seidel sweeps
// that stand in for the exact solve on a coarsest level too large to factor.
const coarsestSweeps = 8

// solveCoarsest solves the coarsest level exactly, or approximately by
// coarsestSweeps forward sweeps followed by as many backward ones (a
// symmetric iteration, so the V-cycle stays symmetric).
func (m *MG) solveCoarsest(lv *mgLevel) {
	if m.chol == nil {
		m.run(mgJob{op: opFirst, l: lv, hi: lv.n})
		m.smooth(lv, 1)
		for range coarsestSweeps - 1 {
			m.smooth(lv, 0)
			m.smooth(lv, 1)
		}
		for range coarsestSweeps {
			m.smooth(lv, 1)
			m.smooth(lv, 0)
		}
		return
	}
	k := lv.n
	y := lv.x
	for i := range k {
		s := lv.b[i]
		row := m.chol[i*k : i*k+i]
		for p, v := range row {
			s -= v * y[p]
		}
		y[i] = s / m.chol[i*k+i]
	}
	for i := k - 1; i >= 0; i-- {
		s := y[i]
		for p := i + 1; p < k; p++ {
			s -= m.chol[p*k+i] * y[p]
		}
		y[i] = s / m.chol[i*k+i]
	}
}
