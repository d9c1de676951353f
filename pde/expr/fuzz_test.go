package expr_test

import (
	"errors"
	"testing"

	"eddy/pde/expr"
)

// FuzzParse parses arbitrary sources in x and y. The seed corpus is in
// testdata/fuzz/FuzzParse (deep nesting, long chains, malformed and huge
// numbers, non-ASCII bytes). Whatever the input, Parse must not panic, must
// do at most 4·len+1 steps (see TestParseWorkLinear) and build at most one
// node per byte, must report errors as a *SyntaxError inside the source, and
// a parsed expression must have a tree at most MaxTreeDepth deep and evaluate
// without panicking.
func FuzzParse(f *testing.F) {
	f.Add("sin(6*x)*cos(100*y) - x^2/(1+y)")
	f.Fuzz(func(t *testing.T, src string) {
		e, steps, nodes, err := expr.ParseWork(src, "x", "y")
		if steps > 4*len(src)+1 {
			t.Errorf("%d steps for %d bytes, want ≤ 4·len+1", steps, len(src))
		}
		if nodes > len(src) {
			t.Errorf("%d nodes for %d bytes, want ≤ len", nodes, len(src))
		}
		if err != nil {
			var se *expr.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v, want a *SyntaxError", err)
			}
			if se.Pos < 0 || se.Pos > len(src) || se.Msg == "" {
				t.Fatalf("position %d, message %q for a %d-byte source", se.Pos, se.Msg, len(src))
			}
			return
		}
		if d := expr.TreeDepth(e); d > expr.MaxTreeDepth {
			t.Errorf("tree %d deep, want ≤ %d", d, expr.MaxTreeDepth)
		}
		for _, at := range [][]float64{{0.3, -1.7}, {0, 0}} {
			e.Eval(at)
			e.Jet(at, 0)
			e.Jet(at, 1)
		}
	})
}
