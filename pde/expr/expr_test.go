package expr

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestEval(t *testing.T) {
	// Values computed by hand from the stated precedence rules; the tolerance is a
	// few ulps of the result.
	x, y := 0.7, -1.3
	for _, tc := range []struct {
		src  string
		want float64
	}{
		{"1+2*3", 7},
		{"(1+2)*3", 9},
		{"2^3^2", 512},
		{"-2^2", -4},
		{"2^-1", 0.5},
		{"1e-3*1E3", 1},
		{".5+2.", 2.5},
		{"8/4/2", 1},
		{"1-2-3", -4},
		{"pi", math.Pi},
		{"x*y", x * y},
		{"sin(x)^2+cos(x)^2", 1},
		{"exp(log(x))", x},
		{"sqrt(x*x)", x},
		{"tanh(y)", math.Tanh(y)},
		{"sin(100*x)", math.Sin(100 * x)},
		{"sin(6*x)*cos(100*x)", math.Sin(6*x) * math.Cos(100*x)},
		{"x^y", math.Pow(x, y)},
		{"- - x", x},
		{"+x", x},
		{"y^2", y * y},
		{"y^3", y * y * y},
	} {
		e, err := Parse(tc.src, "x", "y")
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.src, err)
			continue
		}
		got := e.Eval([]float64{x, y})
		if math.Abs(got-tc.want) > 4e-16*math.Max(1, math.Abs(tc.want)) {
			t.Errorf("%q = %v, want %v", tc.src, got, tc.want)
		}
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	for _, tc := range []struct {
		src string
		pos int
	}{
		{"", 0},
		{"   ", 3},
		{"1+", 2},
		{"sin(x", 5},
		{"sin x", 4},
		{"(1+x))", 5},
		{"x + z", 4},
		{"2*#", 2},
		{"1..2", 0},
		{"foo(x)", 0},
		{"x y", 2},
		{"3*()", 3},
		{"sin(x)^", 7},
	} {
		_, err := Parse(tc.src, "x", "y")
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q): error %v, want a *SyntaxError", tc.src, err)
			continue
		}
		if se.Pos != tc.pos {
			t.Errorf("Parse(%q): position %d (%v), want %d", tc.src, se.Pos, err, tc.pos)
		}
	}
}

// TestJetExact compares forward-mode derivatives with closed-form derivatives
// worked out by hand. Both are exact up to rounding, so the tolerance is a small
// multiple of machine epsilon relative to the size of the terms involved.
func TestJetExact(t *testing.T) {
	type fn = func(x, y float64) float64
	for _, tc := range []struct {
		src        string
		dir        int
		u, du, ddu fn
		scale      float64 // size of the largest term, for the tolerance
	}{
		{"sin(100*x)", 0,
			func(x, y float64) float64 { return math.Sin(100 * x) },
			func(x, y float64) float64 { return 100 * math.Cos(100*x) },
			func(x, y float64) float64 { return -1e4 * math.Sin(100*x) }, 1e4},
		{"sin(6*x)*cos(100*x)", 0,
			func(x, y float64) float64 { return math.Sin(6*x) * math.Cos(100*x) },
			func(x, y float64) float64 { return 6*math.Cos(6*x)*math.Cos(100*x) - 100*math.Sin(6*x)*math.Sin(100*x) },
			func(x, y float64) float64 {
				return -10036*math.Sin(6*x)*math.Cos(100*x) - 1200*math.Cos(6*x)*math.Sin(100*x)
			}, 1e4},
		{"x*sin(200*x)", 0,
			func(x, y float64) float64 { return x * math.Sin(200*x) },
			func(x, y float64) float64 { return math.Sin(200*x) + 200*x*math.Cos(200*x) },
			func(x, y float64) float64 { return 400*math.Cos(200*x) - 4e4*x*math.Sin(200*x) }, 1e5},
		{"sin(x-200*y)", 1,
			func(x, y float64) float64 { return math.Sin(x - 200*y) },
			func(x, y float64) float64 { return -200 * math.Cos(x-200*y) },
			func(x, y float64) float64 { return -4e4 * math.Sin(x-200*y) }, 4e4},
		{"exp(x*y)/(1+x^2)", 0,
			func(x, y float64) float64 { return math.Exp(x*y) / (1 + x*x) },
			func(x, y float64) float64 {
				d := 1 + x*x
				return math.Exp(x*y) * (y/d - 2*x/(d*d))
			},
			func(x, y float64) float64 {
				// f = e g with e = exp(xy), g = 1/(1+x²): f'' = e(y²g + 2y g' + g'').
				d := 1 + x*x
				g, g1, g2 := 1/d, -2*x/(d*d), (6*x*x-2)/(d*d*d)
				return math.Exp(x*y) * (y*y*g + 2*y*g1 + g2)
			}, 10},
		{"sqrt(x)+log(x)+tanh(x)+x^2.5", 0,
			func(x, y float64) float64 { return math.Sqrt(x) + math.Log(x) + math.Tanh(x) + math.Pow(x, 2.5) },
			func(x, y float64) float64 {
				th := math.Tanh(x)
				return 0.5/math.Sqrt(x) + 1/x + (1 - th*th) + 2.5*math.Pow(x, 1.5)
			},
			func(x, y float64) float64 {
				th := math.Tanh(x)
				return -0.25/math.Pow(x, 1.5) - 1/(x*x) - 2*th*(1-th*th) + 3.75*math.Sqrt(x)
			}, 10},
		{"x^y", 1,
			func(x, y float64) float64 { return math.Pow(x, y) },
			func(x, y float64) float64 { return math.Pow(x, y) * math.Log(x) },
			func(x, y float64) float64 { return math.Pow(x, y) * math.Log(x) * math.Log(x) }, 10},
	} {
		e, err := Parse(tc.src, "x", "y")
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.src, err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for range 20 {
			x, y := 0.1+2*rng.Float64(), 0.1+2*rng.Float64()
			j := e.Jet([]float64{x, y}, tc.dir)
			tol := 1e-13 * tc.scale
			for k, pair := range [][2]float64{{j.V, tc.u(x, y)}, {j.D1, tc.du(x, y)}, {j.D2, tc.ddu(x, y)}} {
				if math.Abs(pair[0]-pair[1]) > tol {
					t.Errorf("%q at (%v,%v): derivative %d = %v, want %v", tc.src, x, y, k, pair[0], pair[1])
				}
			}
		}
	}
}

// TestJetFiniteDifference checks jets of random compositions against central
// differences, whose truncation error O(h²) with h = 1e-4 and rounding error
// O(ε/h²) bound the agreement to about 1e-6 relative for the second derivative.
func TestJetFiniteDifference(t *testing.T) {
	srcs := []string{
		"sin(3*x)*exp(-x^2)+cos(x*y)/(2+sin(y))",
		"tanh(x-y)^3 - sqrt(1+x^2)*log(2+y)",
		"(x+1)^(y+1)",
	}
	for _, src := range srcs {
		e, err := Parse(src, "x", "y")
		if err != nil {
			t.Fatal(err)
		}
		for dir := range 2 {
			at := []float64{0.4, 0.9}
			j := e.Jet(at, dir)
			const h = 1e-4
			p := append([]float64(nil), at...)
			p[dir] += h
			fp := e.Eval(p)
			p[dir] -= 2 * h
			fm := e.Eval(p)
			f0 := e.Eval(at)
			d1 := (fp - fm) / (2 * h)
			d2 := (fp - 2*f0 + fm) / (h * h)
			if math.Abs(j.V-f0) > 1e-15 || math.Abs(j.D1-d1) > 1e-7*math.Max(1, math.Abs(d1)) || math.Abs(j.D2-d2) > 1e-5*math.Max(1, math.Abs(d2)) {
				t.Errorf("%q dir %d: jet %+v, differences (%v, %v, %v)", src, dir, j, f0, d1, d2)
			}
		}
	}
}

func TestUses(t *testing.T) {
	e, err := Parse("sin(x)+pi", "x", "y")
	if err != nil {
		t.Fatal(err)
	}
	if !e.Uses(0) || e.Uses(1) {
		t.Errorf("Uses = %v, %v; want true, false", e.Uses(0), e.Uses(1))
	}
}

func ExampleExpr_Jet() {
	u, err := Parse("sin(6*x)*cos(100*x)", "x")
	if err != nil {
		panic(err)
	}
	j := u.Jet([]float64{0.25}, 0)
	fmt.Printf("u=%.6f u'=%.4f u''=%.3f\n", j.V, j.D1, j.D2)
	// Output: u=0.988720 u'=13.6227 u''=-9911.558
}

func ExampleParse_error() {
	_, err := Parse("sin(x) + 2*", "x")
	fmt.Println(err)
	// Output: expr: position 11: unexpected end of expression
}
