package expr_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"eddy/pde/expr"
)

// syntaxError parses src in x and y and returns its *SyntaxError, failing the
// test if there is none.
func syntaxError(t *testing.T, src string) *expr.SyntaxError {
	t.Helper()
	_, err := expr.Parse(src, "x", "y")
	var se *expr.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("Parse(%.40q…): error %v, want a *SyntaxError", src, err)
	}
	return se
}

// nest returns open repeated n times, then inner, then close repeated n times.
func nest(open, inner, close string, n int) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
}

// TestLengthLimit checks that the source of the measured incident, 2^2^…^x
// with 60000 "^" (120 KB), is refused at byte MaxLen before anything is
// parsed, and that a source of exactly MaxLen bytes is accepted.
func TestLengthLimit(t *testing.T) {
	src := strings.Repeat("2^", 60000) + "x"
	_, steps, nodes, err := expr.ParseWork(src, "x", "y")
	var se *expr.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %v, want a *SyntaxError", err)
	}
	want := "expression is 120001 bytes long; at most 4096 are allowed"
	if se.Pos != expr.MaxLen || se.Msg != want {
		t.Errorf("position %d, message %q; want %d, %q", se.Pos, se.Msg, expr.MaxLen, want)
	}
	if steps != 0 || nodes != 0 {
		t.Errorf("%d steps, %d nodes before refusing; want none", steps, nodes)
	}

	ok := strings.Repeat("x+", expr.MaxLen/2-1) + "xx"
	ok = ok[:expr.MaxLen-1] // "x+x+…+x", MaxLen-1 bytes
	ok += " "
	if len(ok) != expr.MaxLen {
		t.Fatalf("test source is %d bytes", len(ok))
	}
	if _, err := expr.Parse(ok, "x", "y"); err != nil {
		t.Errorf("%d bytes: %v", len(ok), err)
	}
	if se := syntaxError(t, ok+" "); se.Pos != expr.MaxLen {
		t.Errorf("%d bytes: position %d, want %d", len(ok)+1, se.Pos, expr.MaxLen)
	}
}

// TestNestingLimit checks every kind of nesting at MaxDepth levels (accepted)
// and at MaxDepth+1 (refused at the token that opens the extra level).
func TestNestingLimit(t *testing.T) {
	const d = expr.MaxDepth
	for _, tc := range []struct {
		name  string
		src   func(n int) string
		extra func(n int) int // position of the token opening level n
	}{
		{"parentheses", func(n int) string { return nest("(", "x", ")", n) },
			func(n int) int { return n - 1 }},
		{"functions", func(n int) string { return nest("sin(", "x", ")", n) },
			func(n int) int { return 4*n - 1 }},
		{"signs", func(n int) string { return strings.Repeat("-", n) + "x" },
			func(n int) int { return n - 1 }},
		{"exponents", func(n int) string { return strings.Repeat("2^", n) + "x" },
			func(n int) int { return 2*n - 1 }},
		{"signed groups", func(n int) string {
			// -(-(…)) : levels alternate between a sign and a parenthesis.
			s := strings.Repeat("-(", n/2)
			if n%2 == 1 {
				s += "-"
			}
			return s + "x" + strings.Repeat(")", n/2)
		}, func(n int) int { return n - 1 }},
		{"exponent groups", func(n int) string {
			// x^(x^(…y)): each "x^(" opens two levels, the "^" and the "(";
			// with n odd the last level is the "^" of a final "^x".
			s := nest("x^(", "y", ")", n/2)
			if n%2 == 1 {
				s = nest("x^(", "y^x", ")", n/2)
			}
			return s
		}, func(n int) int { return 3*(n/2) + 1 }},
	} {
		e, err := expr.Parse(tc.src(d), "x", "y")
		if err != nil {
			t.Errorf("%s, %d levels: %v", tc.name, d, err)
		} else if got := expr.TreeDepth(e); got > expr.MaxTreeDepth {
			t.Errorf("%s, %d levels: tree %d deep, want ≤ %d", tc.name, d, got, expr.MaxTreeDepth)
		}
		n := d + 1
		se := syntaxError(t, tc.src(n))
		want := fmt.Sprintf("nesting deeper than %d levels", d)
		if se.Pos != tc.extra(n) || se.Msg != want {
			t.Errorf("%s, %d levels: position %d, message %q; want %d, %q", tc.name, n, se.Pos, se.Msg, tc.extra(n), want)
		}
	}
}

// TestFlatChains checks that sums and products, stored flat, evaluate left to
// right exactly as the binary operations written out in Go (the same floating-
// point operations in the same order, so the comparison is exact) and keep the
// tree shallow however long they are.
func TestFlatChains(t *testing.T) {
	x, y := 0.7, -1.3
	for _, tc := range []struct {
		src  string
		want float64
	}{
		{"x-y-x+y-1", x - y - x + y - 1},
		{"x/y/3*y*x/7", x / y / 3 * y * x / 7},
		{"1+x*y/3-x/y*2", 1 + x*y/3 - x/y*2},
		{"(x+y)*(x-y)/(x*y)", (x + y) * (x - y) / (x * y)},
		{"x - (y - x) - -y", x - (y - x) - -y},
		{"2*3*x + 1/4 - 2^3", 6*x + 0.25 - 8},
	} {
		e, err := expr.Parse(tc.src, "x", "y")
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Eval([]float64{x, y}); got != tc.want {
			t.Errorf("%q = %v, want %v", tc.src, got, tc.want)
		}
	}
	long := strings.Repeat("x*y-", 500) + "x/y"
	e, err := expr.Parse(long, "x", "y")
	if err != nil {
		t.Fatal(err)
	}
	// A sum of products of leaves: three nodes deep.
	if d := expr.TreeDepth(e); d != 3 {
		t.Errorf("%d-byte sum of products: tree %d deep, want 3", len(long), d)
	}
	want := x * y // x*y - x*y - … (499 times) - x/y
	for range 499 {
		want -= x * y
	}
	want -= x / y
	if got := e.Eval([]float64{x, y}); got != want {
		t.Errorf("long sum = %v, want %v", got, want)
	}
	// The derivative along x, y - y - … - 1/y in the same order: the jet adds
	// the same numbers (times exact 1s), so a few ulps of the sum suffice.
	wantD := y
	for range 499 {
		wantD -= y
	}
	wantD -= 1 / y
	if got := e.Jet([]float64{x, y}, 0).D1; math.Abs(got-wantD) > 1e-14*math.Abs(wantD) {
		t.Errorf("long sum: d/dx = %v, want %v", got, wantD)
	}
}

// TestParseWorkLinear counts the parser's steps (bytes pre-scanned, tokens,
// nodes built, operands folded) on growing inputs of several shapes. Each of
// these is at most one per byte of source (tokens: one more, for the end), so
// steps ≤ 4·len+1 whatever the input; a parser that re-walks subtrees, as the
// exponent chain once did, grows as n² and fails the bound at once.
func TestParseWorkLinear(t *testing.T) {
	shapes := []struct {
		name string
		src  func(n int) string
	}{
		{"x+x+…", func(n int) string { return strings.Repeat("x+", n-1) + "x" }},
		{"x*y-…", func(n int) string { return strings.Repeat("x*y-", n/2) + "x" }},
		{"2^2^…^x", func(n int) string { return strings.Repeat("2^", n) + "x" }},
		{"2^(2^(…x))", func(n int) string { return nest("2^(", "x", ")", n) }},
		{"((…x…))", func(n int) string { return nest("(", "x", ")", n) }},
		{"sin(sin(…))", func(n int) string { return nest("sin(", "x", ")", n) }},
		{"----x", func(n int) string { return strings.Repeat("-", n) + "x" }},
		{"(x)+(x)+…", func(n int) string { return strings.Repeat("(x)+", n/2) + "x" }},
		{"1+2+…", func(n int) string { return strings.Repeat("1+", n) + "1" }},
		{"digits", func(n int) string { return strings.Repeat("1", n) + "*x" }},
	}
	for _, sh := range shapes {
		for _, n := range []int{250, 500, 1000, 2000} {
			src := sh.src(n)
			_, steps, nodes, err := expr.ParseWork(src, "x", "y")
			t.Logf("%-12s n=%4d len=%5d steps=%5d nodes=%5d steps/n=%.2f err=%v", sh.name, n, len(src), steps, nodes, float64(steps)/float64(n), err)
			if steps > 4*len(src)+1 {
				t.Errorf("%s n=%d: %d steps for %d bytes, want ≤ 4·len+1", sh.name, n, steps, len(src))
			}
			// Every shape is at most 5 bytes per repetition, so 20 steps per
			// repetition bounds them all.
			if steps > 20*n+1 {
				t.Errorf("%s n=%d: %d steps, want ≤ 20n+1", sh.name, n, steps)
			}
			if nodes > len(src) {
				t.Errorf("%s n=%d: %d nodes for %d bytes, want ≤ len", sh.name, n, nodes, len(src))
			}
		}
	}
}

// TestUnicodeAndNumbers checks the messages for bytes outside the grammar and
// numbers that do not fit a float64.
func TestUnicodeAndNumbers(t *testing.T) {
	for _, tc := range []struct {
		src, msg string
		pos      int
	}{
		{"2·x", `unexpected character '·'`, 1},
		{"x+\xff", "unexpected byte 0xff", 2},
		{"1e999*x", "number 1e999 is out of range", 0},
		{"x+1.2.3", `malformed number "1.2.3"`, 2},
	} {
		se := syntaxError(t, tc.src)
		if se.Pos != tc.pos || se.Msg != tc.msg {
			t.Errorf("Parse(%q): position %d, message %q; want %d, %q", tc.src, se.Pos, se.Msg, tc.pos, tc.msg)
		}
	}
}
