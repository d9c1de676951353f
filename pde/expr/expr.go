// Package expr parses and evaluates the scalar expressions with which users state
// PDE data: an exact solution, a source term or boundary values, written in the
// coordinates of the problem (x, and y or t).
//
// The grammar, from lowest to highest precedence:
//
//	expr    = term { ("+" | "-") term }
//	term    = unary { ("*" | "/") unary }
//	unary   = ("+" | "-") unary | power
//	power   = primary [ "^" unary ]           (right-associative: 2^3^2 = 2^9)
//	primary = number | "pi" | variable | func "(" expr ")" | "(" expr ")"
//	func    = sin | cos | exp | log | sqrt | tanh
//
// As in ordinary notation -x^2 = -(x^2). Numbers are decimal with an optional
// exponent (1e-3, .5, 2.). Whitespace is ignored.
//
// Besides plain evaluation, an expression evaluates to a second-order Taylor jet
// along one coordinate direction (forward-mode automatic differentiation), which
// gives u, ∂u/∂x_d and ∂²u/∂x_d² exactly — up to rounding — at one point. This is
// how source terms and boundary data are derived from an exact solution without
// finite differences.
//
// A parsed Expr is immutable and safe for concurrent use; evaluation allocates
// nothing.
package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// SyntaxError reports a malformed expression. Pos is the 0-based byte offset in
// Expr of the first character that could not be accepted (len(Expr) when the
// expression ended too early).
type SyntaxError struct {
	Expr string
	Pos  int
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("expr: position %d: %s", e.Pos, e.Msg)
}

type op uint8

const (
	opNum op = iota
	opVar
	opNeg
	opAdd
	opSub
	opMul
	opDiv
	opPow  // general power a^b = exp(b log a)
	opPowC // power with an exponent that does not depend on the variables
	opSin
	opCos
	opExp
	opLog
	opSqrt
	opTanh
)

var funcs = map[string]op{
	"sin": opSin, "cos": opCos, "exp": opExp, "log": opLog, "sqrt": opSqrt, "tanh": opTanh,
}

type node struct {
	op   op
	val  float64 // opNum: the number; opPowC: the exponent
	v    int     // opVar: index of the variable
	a, b *node
}

// Expr is a parsed expression in a fixed list of variables.
type Expr struct {
	src  string
	vars []string
	root *node
	uses []bool
}

// Parse parses src as an expression in the named variables. Every identifier in
// src must be one of vars, "pi" or a function name. A malformed src gives a
// *SyntaxError. Parse panics if a variable name is empty, repeated, or clashes
// with "pi" or a function name (a programmer error).
func Parse(src string, vars ...string) (*Expr, error) {
	for i, v := range vars {
		if v == "" || v == "pi" || funcs[v] != 0 {
			panic(fmt.Sprintf("expr: invalid variable name %q", v))
		}
		for _, w := range vars[:i] {
			if w == v {
				panic(fmt.Sprintf("expr: variable %q repeated", v))
			}
		}
	}
	p := parser{src: src, vars: vars}
	p.next()
	if p.err != nil {
		return nil, p.err
	}
	if p.tok.kind == tokEOF {
		return nil, p.errAt(p.tok.pos, "empty expression")
	}
	root, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.err != nil {
		return nil, p.err
	}
	if p.tok.kind != tokEOF {
		return nil, p.errAt(p.tok.pos, fmt.Sprintf("unexpected %s", p.tok.describe()))
	}
	e := &Expr{src: src, vars: append([]string(nil), vars...), root: root, uses: make([]bool, len(vars))}
	markUses(root, e.uses)
	return e, nil
}

func markUses(n *node, uses []bool) {
	if n == nil {
		return
	}
	if n.op == opVar {
		uses[n.v] = true
	}
	markUses(n.a, uses)
	markUses(n.b, uses)
}

// String returns the source text of e.
func (e *Expr) String() string { return e.src }

// Vars returns the variable names of e in the order Eval expects their values.
func (e *Expr) Vars() []string { return append([]string(nil), e.vars...) }

// Uses reports whether e depends syntactically on the variable with index i.
func (e *Expr) Uses(i int) bool { return e.uses[i] }

// Eval returns the value of e at the point at, where at[i] is the value of the
// i-th variable. Eval panics if len(at) differs from the number of variables.
// Domain errors (log of a negative number, division by zero) give NaN or ±Inf as
// in package math; callers check the result.
func (e *Expr) Eval(at []float64) float64 {
	if len(at) != len(e.vars) {
		panic(fmt.Sprintf("expr: Eval with %d values for %d variables", len(at), len(e.vars)))
	}
	return eval(e.root, at)
}

// Jet is a truncated Taylor expansion of order 2 along one direction:
// f(x + h e_d) = V + D1 h + D2 h²/2 + O(h³), so D1 = ∂f/∂x_d and D2 = ∂²f/∂x_d².
type Jet struct {
	V, D1, D2 float64
}

// Jet returns the value and the first and second partial derivatives of e with
// respect to variable dir at the point at, computed by forward-mode automatic
// differentiation. It panics if len(at) differs from the number of variables or
// dir is out of range.
func (e *Expr) Jet(at []float64, dir int) Jet {
	if len(at) != len(e.vars) {
		panic(fmt.Sprintf("expr: Jet with %d values for %d variables", len(at), len(e.vars)))
	}
	if dir < 0 || dir >= len(e.vars) {
		panic(fmt.Sprintf("expr: Jet direction %d out of range [0, %d)", dir, len(e.vars)))
	}
	return jet(e.root, at, dir)
}

func eval(n *node, at []float64) float64 {
	switch n.op {
	case opNum:
		return n.val
	case opVar:
		return at[n.v]
	case opNeg:
		return -eval(n.a, at)
	case opAdd:
		return eval(n.a, at) + eval(n.b, at)
	case opSub:
		return eval(n.a, at) - eval(n.b, at)
	case opMul:
		return eval(n.a, at) * eval(n.b, at)
	case opDiv:
		return eval(n.a, at) / eval(n.b, at)
	case opPow:
		return math.Pow(eval(n.a, at), eval(n.b, at))
	case opPowC:
		return math.Pow(eval(n.a, at), n.val)
	case opSin:
		return math.Sin(eval(n.a, at))
	case opCos:
		return math.Cos(eval(n.a, at))
	case opExp:
		return math.Exp(eval(n.a, at))
	case opLog:
		return math.Log(eval(n.a, at))
	case opSqrt:
		return math.Sqrt(eval(n.a, at))
	case opTanh:
		return math.Tanh(eval(n.a, at))
	}
	panic("expr: unknown operation")
}

// chain applies a scalar function with derivatives f0, f1, f2 at u.V to the jet u.
func chain(u Jet, f0, f1, f2 float64) Jet {
	return Jet{V: f0, D1: f1 * u.D1, D2: f2*u.D1*u.D1 + f1*u.D2}
}

func jet(n *node, at []float64, dir int) Jet {
	switch n.op {
	case opNum:
		return Jet{V: n.val}
	case opVar:
		if n.v == dir {
			return Jet{V: at[n.v], D1: 1}
		}
		return Jet{V: at[n.v]}
	case opNeg:
		a := jet(n.a, at, dir)
		return Jet{-a.V, -a.D1, -a.D2}
	case opAdd:
		a, b := jet(n.a, at, dir), jet(n.b, at, dir)
		return Jet{a.V + b.V, a.D1 + b.D1, a.D2 + b.D2}
	case opSub:
		a, b := jet(n.a, at, dir), jet(n.b, at, dir)
		return Jet{a.V - b.V, a.D1 - b.D1, a.D2 - b.D2}
	case opMul:
		return mul(jet(n.a, at, dir), jet(n.b, at, dir))
	case opDiv:
		a, b := jet(n.a, at, dir), jet(n.b, at, dir)
		inv := 1 / b.V
		return mul(a, chain(b, inv, -inv*inv, 2*inv*inv*inv))
	case opPow:
		// a^b = exp(b log a), valid for a > 0.
		a, b := jet(n.a, at, dir), jet(n.b, at, dir)
		la := chain(a, math.Log(a.V), 1/a.V, -1/(a.V*a.V))
		e := mul(b, la)
		x := math.Exp(e.V)
		return chain(e, x, x, x)
	case opPowC:
		a := jet(n.a, at, dir)
		c := n.val
		switch c {
		case 0:
			return Jet{V: 1}
		case 1:
			return a
		case 2:
			return mul(a, a)
		}
		return chain(a, math.Pow(a.V, c), c*math.Pow(a.V, c-1), c*(c-1)*math.Pow(a.V, c-2))
	case opSin:
		a := jet(n.a, at, dir)
		s, c := math.Sincos(a.V)
		return chain(a, s, c, -s)
	case opCos:
		a := jet(n.a, at, dir)
		s, c := math.Sincos(a.V)
		return chain(a, c, -s, -c)
	case opExp:
		a := jet(n.a, at, dir)
		x := math.Exp(a.V)
		return chain(a, x, x, x)
	case opLog:
		a := jet(n.a, at, dir)
		return chain(a, math.Log(a.V), 1/a.V, -1/(a.V*a.V))
	case opSqrt:
		a := jet(n.a, at, dir)
		s := math.Sqrt(a.V)
		return chain(a, s, 0.5/s, -0.25/(s*s*s))
	case opTanh:
		a := jet(n.a, at, dir)
		t := math.Tanh(a.V)
		d := 1 - t*t
		return chain(a, t, d, -2*t*d)
	}
	panic("expr: unknown operation")
}

func mul(a, b Jet) Jet {
	return Jet{
		V:  a.V * b.V,
		D1: a.D1*b.V + a.V*b.D1,
		D2: a.D2*b.V + 2*a.D1*b.D1 + a.V*b.D2,
	}
}

// Lexer and recursive-descent parser.

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokNum
	tokIdent
	tokOp // one of + - * / ^ ( )
)

type token struct {
	kind tokKind
	pos  int
	text string
	num  float64
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of expression"
	case tokNum:
		return "number " + t.text
	case tokIdent:
		return "name " + strconv.Quote(t.text)
	}
	return strconv.Quote(t.text)
}

type parser struct {
	src  string
	vars []string
	off  int
	tok  token
	err  error
}

func (p *parser) errAt(pos int, msg string) error {
	return &SyntaxError{Expr: p.src, Pos: pos, Msg: msg}
}

// next advances to the next token; a lexical error is kept in p.err and
// surfaces as the token kind tokEOF with p.err set.
func (p *parser) next() {
	s := p.src
	for p.off < len(s) && (s[p.off] == ' ' || s[p.off] == '\t' || s[p.off] == '\n' || s[p.off] == '\r') {
		p.off++
	}
	start := p.off
	if p.off >= len(s) {
		p.tok = token{kind: tokEOF, pos: start}
		return
	}
	c := s[p.off]
	switch {
	case c >= '0' && c <= '9' || c == '.':
		i := p.off
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
			j := i + 1
			if j < len(s) && (s[j] == '+' || s[j] == '-') {
				j++
			}
			if j < len(s) && s[j] >= '0' && s[j] <= '9' {
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
				i = j
			}
		}
		text := s[start:i]
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			p.err = p.errAt(start, fmt.Sprintf("malformed number %q", text))
			p.tok = token{kind: tokEOF, pos: start}
			return
		}
		p.off = i
		p.tok = token{kind: tokNum, pos: start, text: text, num: v}
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_':
		i := p.off
		for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] == '_' || s[i] >= '0' && s[i] <= '9') {
			i++
		}
		p.off = i
		p.tok = token{kind: tokIdent, pos: start, text: s[start:i]}
	case strings.IndexByte("+-*/^()", c) >= 0:
		p.off++
		p.tok = token{kind: tokOp, pos: start, text: s[start:p.off]}
	default:
		p.err = p.errAt(start, fmt.Sprintf("unexpected character %q", rune(c)))
		p.tok = token{kind: tokEOF, pos: start}
	}
}

func (p *parser) isOp(text string) bool { return p.tok.kind == tokOp && p.tok.text == text }

func (p *parser) expr() (*node, error) {
	a, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") {
		o := opAdd
		if p.tok.text == "-" {
			o = opSub
		}
		p.next()
		b, err := p.term()
		if err != nil {
			return nil, err
		}
		a = &node{op: o, a: a, b: b}
	}
	return a, nil
}

func (p *parser) term() (*node, error) {
	a, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.isOp("*") || p.isOp("/") {
		o := opMul
		if p.tok.text == "/" {
			o = opDiv
		}
		p.next()
		b, err := p.unary()
		if err != nil {
			return nil, err
		}
		a = &node{op: o, a: a, b: b}
	}
	return a, nil
}

func (p *parser) unary() (*node, error) {
	if p.isOp("-") || p.isOp("+") {
		neg := p.tok.text == "-"
		p.next()
		a, err := p.unary()
		if err != nil {
			return nil, err
		}
		if !neg {
			return a, nil
		}
		if a.op == opNum {
			return &node{op: opNum, val: -a.val}, nil
		}
		return &node{op: opNeg, a: a}, nil
	}
	return p.power()
}

func (p *parser) power() (*node, error) {
	a, err := p.primary()
	if err != nil {
		return nil, err
	}
	if !p.isOp("^") {
		return a, nil
	}
	p.next()
	b, err := p.unary()
	if err != nil {
		return nil, err
	}
	if !dependsOnVars(b) {
		c := eval(b, nil)
		if a.op == opNum {
			return &node{op: opNum, val: math.Pow(a.val, c)}, nil
		}
		return &node{op: opPowC, val: c, a: a}, nil
	}
	return &node{op: opPow, a: a, b: b}, nil
}

func dependsOnVars(n *node) bool {
	if n == nil {
		return false
	}
	return n.op == opVar || dependsOnVars(n.a) || dependsOnVars(n.b)
}

func (p *parser) primary() (*node, error) {
	if p.err != nil {
		return nil, p.err
	}
	t := p.tok
	switch t.kind {
	case tokEOF:
		return nil, p.errAt(t.pos, "unexpected end of expression")
	case tokNum:
		p.next()
		return &node{op: opNum, val: t.num}, nil
	case tokIdent:
		p.next()
		if f, ok := funcs[t.text]; ok {
			if !p.isOp("(") {
				if p.err != nil {
					return nil, p.err
				}
				return nil, p.errAt(p.tok.pos, fmt.Sprintf("expected ( after %s", t.text))
			}
			open := p.tok.pos
			p.next()
			a, err := p.expr()
			if err != nil {
				return nil, err
			}
			if !p.isOp(")") {
				return nil, p.closeErr(open)
			}
			p.next()
			if a.op == opNum {
				return &node{op: opNum, val: eval(&node{op: f, a: a}, nil)}, nil
			}
			return &node{op: f, a: a}, nil
		}
		if t.text == "pi" {
			return &node{op: opNum, val: math.Pi}, nil
		}
		for i, v := range p.vars {
			if v == t.text {
				return &node{op: opVar, v: i}, nil
			}
		}
		return nil, p.errAt(t.pos, fmt.Sprintf("unknown name %q (allowed: %s)", t.text, p.allowed()))
	case tokOp:
		if t.text == "(" {
			p.next()
			a, err := p.expr()
			if err != nil {
				return nil, err
			}
			if !p.isOp(")") {
				return nil, p.closeErr(t.pos)
			}
			p.next()
			return a, nil
		}
	}
	return nil, p.errAt(t.pos, fmt.Sprintf("unexpected %s", t.describe()))
}

func (p *parser) closeErr(open int) error {
	if p.err != nil {
		return p.err
	}
	return p.errAt(p.tok.pos, fmt.Sprintf("expected ) to close ( at position %d, found %s", open, p.tok.describe()))
}

func (p *parser) allowed() string {
	names := append([]string(nil), p.vars...)
	names = append(names, "pi", "sin", "cos", "exp", "log", "sqrt", "tanh")
	return strings.Join(names, ", ")
}
