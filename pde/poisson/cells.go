package poisson

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Cell is the type of a grid cell in a pressure Poisson system.
type Cell uint8

// The cell types. The values are those of uploaded label volumes.
const (
	// Fluid cells carry the unknowns.
	Fluid Cell = 0
	// Solid cells are obstacles: the face between a fluid and a solid cell
	// has zero flux (homogeneous Neumann condition).
	Solid Cell = 1
	// Air cells hold the pressure p = 0 (homogeneous Dirichlet condition at
	// the air cell's centre).
	Air Cell = 2
)

// Cells labels every cell of an n^dim grid as Fluid, Solid or Air, and says
// what lies beyond each face of the domain: a wall (Solid) or open air (Air).
// Storage order is that of Grid (x fastest; the last axis, y in 2-D and z in
// 3-D, is vertical, so "top" is its high end).
type Cells struct {
	g *Grid
	// Label holds one Cell per grid cell in storage order.
	Label []Cell
	// Open[a][s] reports whether the domain face on axis a (x, y, z) at the
	// low (s = 0) or high (s = 1) end is open air rather than a wall.
	Open [3][2]bool
}

// NewCells returns the all-fluid grid of n^dim cells with walls on every
// domain face. It returns the errors of NewGrid.
func NewCells(dim, n int) (*Cells, error) {
	g, err := NewGrid(dim, n)
	if err != nil {
		return nil, err
	}
	return &Cells{g: g, Label: make([]Cell, g.Len())}, nil
}

// CellsFromLabels returns the grid whose labels are given as bytes (0 fluid,
// 1 solid, 2 air) in storage order, with walls on every domain face: an
// uploaded scene marks its open boundary with air cells. It returns an error
// if the length is not n^dim or a label is not 0, 1 or 2.
func CellsFromLabels(dim, n int, labels []uint8) (*Cells, error) {
	c, err := NewCells(dim, n)
	if err != nil {
		return nil, err
	}
	if len(labels) != len(c.Label) {
		return nil, fmt.Errorf("poisson: %d labels for a grid of %d cells", len(labels), len(c.Label))
	}
	for i, v := range labels {
		if v > uint8(Air) {
			return nil, fmt.Errorf("poisson: label %d at cell %d, want 0 (fluid), 1 (solid) or 2 (air)", v, i)
		}
		c.Label[i] = Cell(v)
	}
	return c, nil
}

// Grid returns the grid of the cells.
func (c *Cells) Grid() *Grid { return c.g }

// Count returns the number of cells of type t.
func (c *Cells) Count(t Cell) int {
	k := 0
	for _, v := range c.Label {
		if v == t {
			k++
		}
	}
	return k
}

// Scenes lists the names Scene accepts.
var Scenes = []string{"box", "open_top", "smoke", "sphere", "plate", "random"}

// Scene returns one of the named scenes on the n^dim grid. Coordinates are in
// cells, cell centres at (i + ½); the vertical axis is the last one.
//
//   - box: every cell fluid, open air beyond every face (pure Dirichlet,
//     all-positive spectrum; solvable by a sine transform).
//   - open_top: every cell fluid, walls on every face but the top, which is
//     open: the family DCDM trains on.
//   - smoke: open_top with a solid disc (2-D) or ball (3-D) of radius 0.18n
//     centred at (0.5, 0.35)·n or (0.5, 0.5, 0.35)·n, and a plate two cells
//     thick centred at height 0.65n over x ∈ [0.2, 0.6]·n (and, in 3-D,
//     y ∈ [0.3, 0.9]·n) — the scene of the reference measurements.
//   - sphere, plate: open_top with only the ball, or only the plate, of smoke.
//   - random: open_top with 3–6 balls of radius 0.06–0.15n centred in
//     [0.15, 0.85]^d·n and 1–2 plates two cells thick, 0.2–0.45n long, along a
//     random horizontal axis, all drawn from seed.
//
// It returns an error for an unknown name and the errors of NewGrid.
func Scene(name string, dim, n int, seed uint64) (*Cells, error) {
	c, err := NewCells(dim, n)
	if err != nil {
		return nil, err
	}
	v := dim - 1 // the vertical axis
	switch name {
	case "box":
		for a := range dim {
			c.Open[a] = [2]bool{true, true}
		}
		return c, nil
	case "open_top":
	case "smoke":
		c.smokeBall()
		c.smokePlate()
	case "sphere":
		c.smokeBall()
	case "plate":
		c.smokePlate()
	case "random":
		rnd := rand.New(rand.NewPCG(seed, 0x5eed_5ce1e))
		nb := 3 + rnd.IntN(4)
		for range nb {
			var ctr [3]float64
			for a := range dim {
				ctr[a] = (0.15 + 0.7*rnd.Float64()) * float64(n)
			}
			c.ball(ctr, (0.06+0.09*rnd.Float64())*float64(n))
		}
		np := 1 + rnd.IntN(2)
		for range np {
			var lo, hi [3]float64
			for a := range dim {
				ctr := (0.15 + 0.7*rnd.Float64()) * float64(n)
				half := (0.1 + 0.125*rnd.Float64()) * float64(n)
				lo[a], hi[a] = ctr-half, ctr+half
			}
			// Thin along the vertical or along a random horizontal axis.
			thin := v
			if rnd.IntN(2) == 1 {
				thin = rnd.IntN(dim - 1)
			}
			mid := (lo[thin] + hi[thin]) / 2
			lo[thin], hi[thin] = mid-1, mid+1
			c.slab(lo, hi)
		}
	default:
		return nil, fmt.Errorf("poisson: unknown scene %q", name)
	}
	c.Open[v][1] = true
	return c, nil
}

// smokeBall adds the ball of the smoke scene.
func (c *Cells) smokeBall() {
	n := float64(c.g.n)
	ctr := [3]float64{0.5 * n, 0.35 * n}
	if c.g.dim == 3 {
		ctr = [3]float64{0.5 * n, 0.5 * n, 0.35 * n}
	}
	c.ball(ctr, 0.18*n)
}

// smokePlate adds the plate of the smoke scene.
func (c *Cells) smokePlate() {
	n := float64(c.g.n)
	h := 0.65 * n
	if c.g.dim == 2 {
		c.slab([3]float64{0.2 * n, h - 1}, [3]float64{0.6 * n, h + 1})
		return
	}
	c.slab([3]float64{0.2 * n, 0.3 * n, h - 1}, [3]float64{0.6 * n, 0.9 * n, h + 1})
}

// ball makes solid the cells whose centre lies within distance r of ctr.
func (c *Cells) ball(ctr [3]float64, r float64) {
	c.each(func(idx int, x [3]float64) {
		var d2 float64
		for a := range c.g.dim {
			d := x[a] - ctr[a]
			d2 += d * d
		}
		if d2 < r*r {
			c.Label[idx] = Solid
		}
	})
}

// slab makes solid the cells whose centre lies in the box [lo, hi] (strictly
// inside along an axis whose extent is 2, so that a plate is 2 cells thick).
func (c *Cells) slab(lo, hi [3]float64) {
	c.each(func(idx int, x [3]float64) {
		for a := range c.g.dim {
			if x[a] < lo[a] || x[a] > hi[a] || (hi[a]-lo[a] <= 2 && (x[a] == lo[a] || x[a] == hi[a])) {
				return
			}
		}
		c.Label[idx] = Solid
	})
}

// each calls fn with every cell index and its centre in cell units.
func (c *Cells) each(fn func(idx int, x [3]float64)) {
	n := c.g.n
	nz := 1
	if c.g.dim == 3 {
		nz = n
	}
	idx := 0
	for k := range nz {
		for j := range n {
			for i := range n {
				fn(idx, [3]float64{float64(i) + 0.5, float64(j) + 0.5, float64(k) + 0.5})
				idx++
			}
		}
	}
}

// System is the pressure Poisson system of a Cells scene (Kaneda et al. 2023
// §4.1 of the DCDM notes): one unknown per fluid cell, the negated h²-scaled
// 5/7-point Laplacian
//
//	(A p)_c = Σ_{faces of c to a fluid or air cell} (p_c − p_nb),  p_air = 0,
//
// so the diagonal counts the fluid and air neighbours, each fluid neighbour
// adds −1 and a solid neighbour (or a wall) adds nothing. Vectors keep the
// full grid shape: solid and air cells carry the decoupled row x_c = b_c with
// b_c = 0 (see Stencil.Inactive).
//
// A connected set of fluid cells that touches no air (a closed pocket, or a
// closed box) makes A singular, with the constants on that set as null
// space; A x = b is solvable iff b sums to zero over the set. NewSystem
// grounds each such component: its first cell in storage order is treated as
// an air cell (p = 0 there; its neighbours keep it in their diagonal), which
// removes one equation and one unknown. Project makes b consistent (zero sum
// per component) and zeroes the grounded row; the grounded system is then
// SPD, and its solution solves the original singular system exactly (the
// removed equation is the negated sum of the others), normalised by
// p = 0 at the grounded cell.
type System struct {
	Cells *Cells
	// A is the operator, applied matrix-free (A.Apply) or assembled (A.CSR).
	A *Stencil
	// Grounded lists the cell grounded in each closed fluid component.
	Grounded []int
	// comp holds, for each cell of a closed component, the component's index
	// in Grounded; −1 elsewhere.
	comp []int32
}

// NewSystem assembles the system of c (see System). Cost O(n^dim).
func NewSystem(c *Cells) *System {
	g := c.g
	n := g.n
	nc := g.Len()
	s := &System{Cells: c, comp: make([]int32, nc)}
	for i := range s.comp {
		s.comp[i] = -1
	}
	// Closed components: flood fill over fluid cells.
	seen := make([]bool, nc)
	var stack, members []int
	for start := range nc {
		if c.Label[start] != Fluid || seen[start] {
			continue
		}
		seen[start] = true
		stack = append(stack[:0], start)
		members = members[:0]
		open := false
		for len(stack) > 0 {
			cur := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			members = append(members, cur)
			c.neighbours(cur, func(nb int, t Cell) {
				switch t {
				case Air:
					open = true
				case Fluid:
					if !seen[nb] {
						seen[nb] = true
						stack = append(stack, nb)
					}
				}
			})
		}
		if !open {
			id := int32(len(s.Grounded))
			s.Grounded = append(s.Grounded, start) // the smallest index: start scans in order
			for _, m := range members {
				s.comp[m] = id
			}
		}
	}
	grounded := make([]bool, nc)
	for _, i := range s.Grounded {
		grounded[i] = true
	}
	a := NewStencil(g.dim, [3]int{n, n, n}) // NewStencil sets Shape[2] = 1 in 2-D
	strides := [3]int{1, n, n * n}
	unknown := func(i int) bool { return c.Label[i] == Fluid && !grounded[i] }
	for i := range nc {
		if !unknown(i) {
			a.Inactive[i] = true
			a.Diag[i] = 1
			continue
		}
		var d float64
		c.neighbours(i, func(_ int, t Cell) {
			if t != Solid {
				d++
			}
		})
		a.Diag[i] = d
		for ax := range g.dim {
			if idx := axisIndex(i, ax, n); idx < n-1 && unknown(i+strides[ax]) {
				a.W[ax][i] = 1
			}
		}
	}
	s.A = a
	return s
}

// axisIndex returns the coordinate along axis ax of cell i on an n-grid.
func axisIndex(i, ax, n int) int {
	for range ax {
		i /= n
	}
	return i % n
}

// neighbours calls fn for each of the 2·dim faces of cell i with the index
// and label of the neighbour, or −1 and the boundary type (Solid for a wall,
// Air when open) beyond a domain face.
func (c *Cells) neighbours(i int, fn func(nb int, t Cell)) {
	n := c.g.n
	stride := 1
	for ax := range c.g.dim {
		idx := (i / stride) % n
		for side, ok := range [2]bool{idx > 0, idx < n-1} {
			if ok {
				nb := i + (2*side-1)*stride
				fn(nb, c.Label[nb])
				continue
			}
			b := Solid
			if c.Open[ax][side] {
				b = Air
			}
			fn(-1, b)
		}
		stride *= n
	}
}

// Len returns the length of the system's vectors, n^dim.
func (s *System) Len() int { return s.A.Len() }

// Singular reports whether the scene has closed fluid components, i.e.
// whether the ungrounded matrix is singular.
func (s *System) Singular() bool { return len(s.Grounded) > 0 }

// Project makes b a right-hand side of the system in place: it zeroes b on
// solid and air cells, subtracts from each closed fluid component its mean
// (projecting onto the range of the singular matrix) and zeroes the grounded
// rows. b must have length Len.
func (s *System) Project(b []float64) {
	if len(b) != s.Len() {
		panic(fmt.Sprintf("poisson: Project: len(b)=%d, want %d", len(b), s.Len()))
	}
	k := len(s.Grounded)
	sum := make([]float64, k)
	cnt := make([]float64, k)
	for i, l := range s.Cells.Label {
		if l != Fluid {
			b[i] = 0
			continue
		}
		if id := s.comp[i]; id >= 0 {
			sum[id] += b[i]
			cnt[id]++
		}
	}
	for i, id := range s.comp {
		if id >= 0 {
			b[i] -= sum[id] / cnt[id]
		}
	}
	for _, i := range s.Grounded {
		b[i] = 0
	}
}

// RandomRHS returns b with independent N(0, 1) entries on the fluid cells,
// drawn from seed, projected by Project: the right-hand side of the
// reference measurements.
func (s *System) RandomRHS(seed uint64) []float64 {
	rnd := rand.New(rand.NewPCG(seed, 0xb0b))
	b := make([]float64, s.Len())
	for i := range b {
		b[i] = rnd.NormFloat64()
	}
	s.Project(b)
	return b
}

// DivergenceRHS returns b = h²·(−div_h u) = −h·Σ_faces u·n, the h²-scaled
// negated divergence of a smooth random face velocity field u drawn from
// seed (the net outflow through the faces of each fluid cell). Each velocity
// component is a sum of 8 Fourier modes of wavenumber 1–4 (per unit length)
// with N(0, 1) amplitudes and random phases, set to zero on faces that touch
// a solid cell or a wall; this imitates the divergence of an intermediate
// velocity in a projection step and is dominated by low frequencies. The
// result is projected by Project.
func (s *System) DivergenceRHS(seed uint64) []float64 {
	c := s.Cells
	g := c.g
	n := g.n
	rnd := rand.New(rand.NewPCG(seed, 0xd17))
	const modes = 8
	type mode struct {
		k          [3]float64
		phase, amp float64
	}
	var field [3][modes]mode
	for a := range g.dim {
		for m := range modes {
			md := mode{phase: 2 * math.Pi * rnd.Float64(), amp: rnd.NormFloat64()}
			for b := range g.dim {
				md.k[b] = 2 * math.Pi * float64(1+rnd.IntN(4))
			}
			field[a][m] = md
		}
	}
	h := g.H()
	vel := func(a int, x [3]float64) float64 {
		var v float64
		for _, md := range field[a] {
			arg := md.phase
			for b := range g.dim {
				arg += md.k[b] * x[b]
			}
			v += md.amp * math.Sin(arg)
		}
		return v
	}
	bvec := make([]float64, s.Len())
	strides := [3]int{1, n, n * n}
	c.each(func(i int, x [3]float64) {
		if c.Label[i] != Fluid {
			return
		}
		var out float64
		for a := range g.dim {
			idx := axisIndex(i, a, n)
			for side := range 2 {
				// The face is closed if the neighbour is solid or a wall.
				closed := false
				if (side == 0 && idx == 0) || (side == 1 && idx == n-1) {
					closed = !c.Open[a][side]
				} else if c.Label[i+(2*side-1)*strides[a]] == Solid {
					closed = true
				}
				if closed {
					continue
				}
				xf := x
				xf[a] += float64(side) - 0.5
				for b := range 3 {
					xf[b] *= h
				}
				u := vel(a, xf)
				out += float64(2*side-1) * u
			}
		}
		bvec[i] = -out * h
	})
	s.Project(bvec)
	return bvec
}

// ManufacturedRHS returns the exact solution x* and b = A x*, where x* is the
// smooth function of Manufactured on the unknowns and 0 on the other cells
// (and on the grounded cells), so that the error of a solve can be measured.
func (s *System) ManufacturedRHS() (b, exact []float64) {
	_, exact = Manufactured(s.Cells.g)
	for i, in := range s.A.Inactive {
		if in {
			exact[i] = 0
		}
	}
	b = make([]float64, s.Len())
	s.A.Apply(b, exact)
	return b, exact
}
