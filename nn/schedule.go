package nn

import "math"

// Schedule gives the factor by which an optimiser multiplies each group's
// base learning rate at step t = 0, 1, 2, ….
type Schedule interface {
	Factor(t int) float64
}

// OneCycle is the one-cycle policy (Smith & Topin 2019) with cosine
// annealing, as PyTorch's OneCycleLR: over Total steps the factor rises
// from 1/DivFactor to 1 during the first PctStart fraction of the steps and
// falls to 1/(DivFactor·FinalDivFactor) at step Total−1; it stays there
// afterwards. Zero fields take PyTorch's defaults (PctStart 0.3,
// DivFactor 25, FinalDivFactor 1e4).
type OneCycle struct {
	Total                     int
	PctStart                  float64
	DivFactor, FinalDivFactor float64
}

// Factor implements Schedule.
func (o OneCycle) Factor(t int) float64 {
	pct, div, fdiv := o.PctStart, o.DivFactor, o.FinalDivFactor
	if pct == 0 {
		pct = 0.3
	}
	if div == 0 {
		div = 25
	}
	if fdiv == 0 {
		fdiv = 1e4
	}
	start, peak, end := 1/div, 1.0, 1/(div*fdiv)
	up := pct*float64(o.Total) - 1
	last := float64(o.Total - 1)
	x := float64(min(t, o.Total-1))
	if x <= up {
		return cosAnneal(start, peak, x/up)
	}
	return cosAnneal(peak, end, (x-up)/(last-up))
}

// cosAnneal goes from a (f = 0) to b (f = 1) along half a cosine.
func cosAnneal(a, b, f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b
	}
	return b + (a-b)/2*(1+math.Cos(math.Pi*f))
}

// Cosine decays the factor from 1 at t = 0 to Min at t = Total along half a
// cosine (Loshchilov & Hutter 2017, without restarts) and keeps Min after.
type Cosine struct {
	Total int
	Min   float64
}

// Factor implements Schedule.
func (c Cosine) Factor(t int) float64 {
	if t >= c.Total {
		return c.Min
	}
	return cosAnneal(1, c.Min, float64(t)/float64(c.Total))
}

// Warmup raises the factor linearly from Start at t = 0 to 1 at t = Steps
// and then follows Then, shifted by Steps (constant 1 if Then is nil).
type Warmup struct {
	Steps int
	Start float64
	Then  Schedule
}

// Factor implements Schedule.
func (w Warmup) Factor(t int) float64 {
	if t < w.Steps {
		return w.Start + (1-w.Start)*float64(t)/float64(w.Steps)
	}
	if w.Then == nil {
		return 1
	}
	return w.Then.Factor(t - w.Steps)
}
