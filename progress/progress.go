// Package progress is the one type that numerical packages use to report how far a
// long computation has come. It has no dependencies, so solvers, the neural-network
// library and the codecs can import it without touching the service packages; the
// job runners in jobs/ turn updates into rows the API serves.
package progress

// Update is one report of a running computation.
type Update struct {
	// Fraction of the work done, in [0, 1]; negative when unknown.
	Fraction float64
	// Message is a short human-readable status ("iteration 120", "t = 3.5").
	Message string
	// Metrics are named scalar values worth showing while running
	// (residual, loss, current error, …).
	Metrics map[string]float64
}

// Func receives updates. A nil Func discards them; call Report rather than the
// function itself so that callers need not check.
type Func func(Update)

// Report sends u to f if f is not nil.
func (f Func) Report(u Update) {
	if f != nil {
		f(u)
	}
}
