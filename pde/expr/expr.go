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
// Limits. A source longer than MaxLen bytes is refused before it is parsed, and
// so is one whose parentheses nest deeper than MaxDepth levels. Signs and
// exponents nest too: every parenthesis (of a group or a function call), every
// unary sign and every "^" opens one level, so "((x))", "--x", "2^2^x" and
// "sin(-x)" are each two levels deep, and the parser refuses the token that
// would open level MaxDepth+1. Parsing costs time and memory linear in the
// length of the source; the tree of a parsed expression is at most
// 4·(MaxDepth+1) nodes deep (sums and products are stored flat), so one Eval or
// Jet costs time linear in the length of the source and bounded recursion.
// Every malformed or over-limit source gives a *SyntaxError, never a panic.
//
// Besides plain evaluation, an expression evaluates to a second-order Taylor jet
// along one coordinate direction (forward-mode automatic differentiation), which
// gives u, ∂u/∂x_d and ∂²u/∂x_d² exactly — up to rounding — at one point. This is
// how source terms and boundary data are derived from an exact solution without
// finite differences.
//
// Subexpressions without variables are evaluated once, when parsed, and enter
// jets as constants. A parsed Expr is immutable and safe for concurrent use;
// evaluation allocates nothing.
package expr

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	// MaxLen is the longest source Parse accepts, in bytes.
	MaxLen = 4096
	// MaxDepth is the deepest nesting Parse accepts: the number of
	// parentheses, signs and exponents that may enclose a subexpression.
	MaxDepth = 64
)

// SyntaxError reports a malformed expression. Pos is the 0-based byte offset in
// Expr of the first character that could not be accepted (len(Expr) when the
// expression ended too early). For a source over a limit it is where the limit
// was crossed: MaxLen for one that is too long, the parenthesis, sign or "^"
// that opens level MaxDepth+1 for one nested too deeply.
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
	opSum  // t0 ± t1 ± … ± tk, evaluated left to right
	opProd // t0 ∗ t1 ∗ … ∗ tk with ∗ one of × and ÷, evaluated left to right
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

// node is one operation of the expression tree. A subtree without variables is
// folded into an opNum as soon as it is built, so a node depends on the
// variables exactly when its op is not opNum, which is known without walking
// the subtree.
//
// A sum or product t0 ∘ t1 ∘ … ∘ tk is one node, not a left-leaning chain of k
// binary nodes, so that long sums do not make the tree deep: a is t0, the
// terms are linked through next, and inv marks a term that is subtracted (in
// a sum) or divided by (in a product). A node is a term of at most one chain.
type node struct {
	op   op
	val  float64 // opNum: the number; opPowC: the exponent
	v    int     // opVar: index of the variable
	a, b *node   // operands; opSum, opProd: a is the first term
	next *node   // the next term of the chain this node is a term of
	inv  bool    // this node is subtracted or divided by in its chain
}

// Expr is a parsed expression in a fixed list of variables.
type Expr struct {
	src  string
	vars []string
	root *node
	uses []bool
}

// Parse parses src as an expression in the named variables. Every identifier in
// src must be one of vars, "pi" or a function name. A malformed src, one longer
// than MaxLen bytes or one nested deeper than MaxDepth levels gives a
// *SyntaxError. Parse takes time linear in len(src). It panics if a variable
// name is empty, repeated, or clashes with "pi" or a function name (a
// programmer error).
func Parse(src string, vars ...string) (*Expr, error) {
	e, _, err := parse(src, vars)
	return e, err
}

// work is what one parse cost: steps counts bytes pre-scanned, tokens read,
// nodes built and operands folded, nodes the nodes built (each one heap
// allocation). Both are at most linear in the length of the source.
type work struct {
	steps, nodes int
}

func parse(src string, vars []string) (*Expr, work, error) {
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
	p := parser{src: src, vars: vars, uses: make([]bool, len(vars))}
	if err := p.checkLimits(); err != nil {
		return nil, p.work, err
	}
	p.next()
	if p.err != nil {
		return nil, p.work, p.err
	}
	if p.tok.kind == tokEOF {
		return nil, p.work, p.errAt(p.tok.pos, "empty expression")
	}
	root, err := p.expr()
	if err != nil {
		return nil, p.work, err
	}
	if p.err != nil {
		return nil, p.work, p.err
	}
	if p.tok.kind != tokEOF {
		return nil, p.work, p.errAt(p.tok.pos, fmt.Sprintf("unexpected %s", p.tok.describe()))
	}
	return &Expr{src: src, vars: append([]string(nil), vars...), root: root, uses: p.uses}, p.work, nil
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
	case opSum:
		s := eval(n.a, at)
		for t := n.a.next; t != nil; t = t.next {
			if t.inv {
				s -= eval(t, at)
			} else {
				s += eval(t, at)
			}
		}
		return s
	case opProd:
		s := eval(n.a, at)
		for t := n.a.next; t != nil; t = t.next {
			if t.inv {
				s /= eval(t, at)
			} else {
				s *= eval(t, at)
			}
		}
		return s
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
	case opSum:
		s := jet(n.a, at, dir)
		for t := n.a.next; t != nil; t = t.next {
			b := jet(t, at, dir)
			if t.inv {
				s = Jet{s.V - b.V, s.D1 - b.D1, s.D2 - b.D2}
			} else {
				s = Jet{s.V + b.V, s.D1 + b.D1, s.D2 + b.D2}
			}
		}
		return s
	case opProd:
		s := jet(n.a, at, dir)
		for t := n.a.next; t != nil; t = t.next {
			b := jet(t, at, dir)
			if t.inv {
				inv := 1 / b.V
				b = chain(b, inv, -inv*inv, 2*inv*inv*inv)
			}
			s = mul(s, b)
		}
		return s
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
		return "number " + clip(t.text)
	case tokIdent:
		return "name " + strconv.Quote(clip(t.text))
	}
	return strconv.Quote(t.text)
}

// clip shortens a token of the source for an error message: a number or a
// name may be up to MaxLen bytes long.
func clip(text string) string {
	const keep = 24
	if len(text) <= keep {
		return text
	}
	return text[:keep] + "…"
}

type parser struct {
	src   string
	vars  []string
	uses  []bool // uses[i]: variable i occurs in src
	off   int
	tok   token
	err   error // the first lexical error
	depth int   // nesting level of the construct being parsed, at most MaxDepth
	work
}

func (p *parser) errAt(pos int, msg string) error {
	return &SyntaxError{Expr: p.src, Pos: pos, Msg: msg}
}

func (p *parser) depthErr(pos int) error {
	return p.errAt(pos, fmt.Sprintf("nesting deeper than %d levels", MaxDepth))
}

// checkLimits refuses, before any parsing, a source longer than MaxLen bytes
// and one whose parentheses nest deeper than MaxDepth, in one pass over the
// bytes. The parser bounds the nesting of signs and exponents as it goes.
func (p *parser) checkLimits() error {
	s := p.src
	if len(s) > MaxLen {
		return p.errAt(MaxLen, fmt.Sprintf("expression is %d bytes long; at most %d are allowed", len(s), MaxLen))
	}
	depth := 0
	for i := 0; i < len(s); i++ {
		p.steps++
		switch s[i] {
		case '(':
			depth++
			if depth > MaxDepth {
				return p.depthErr(i)
			}
		case ')':
			// An unmatched ")" is the parser's to report.
			depth = max(depth-1, 0)
		}
	}
	return nil
}

// next advances to the next token; a lexical error is kept in p.err and
// surfaces as the token kind tokEOF with p.err set.
func (p *parser) next() {
	p.steps++
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
			msg := fmt.Sprintf("malformed number %q", clip(text))
			if errors.Is(err, strconv.ErrRange) {
				msg = fmt.Sprintf("number %s is out of range", clip(text))
			}
			p.err = p.errAt(start, msg)
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
		msg := fmt.Sprintf("unexpected byte 0x%02x", c)
		if r, _ := utf8.DecodeRuneInString(s[start:]); r != utf8.RuneError {
			msg = fmt.Sprintf("unexpected character %q", r)
		}
		p.err = p.errAt(start, msg)
		p.tok = token{kind: tokEOF, pos: start}
	}
}

func (p *parser) isOp(text string) bool { return p.tok.kind == tokOp && p.tok.text == text }

// build returns a new node with the contents of n.
func (p *parser) build(n node) *node {
	p.steps++
	p.nodes++
	return &n
}

// fold replaces n, whose operands are all numbers (terms of them for a chain),
// by its value.
func (p *parser) fold(n *node, operands int) {
	p.steps += operands
	*n = node{op: opNum, val: eval(n, nil)}
}

// nested consumes the current token, a parenthesis, a sign or "^", and parses
// what follows it with parse one nesting level deeper. The token that would
// open level MaxDepth+1 is refused, so the parser's recursion and the tree's
// depth stay bounded.
func (p *parser) nested(parse func() (*node, error)) (*node, error) {
	if p.depth >= MaxDepth {
		return nil, p.depthErr(p.tok.pos)
	}
	p.depth++
	p.next()
	n, err := parse()
	p.depth--
	return n, err
}

func (p *parser) expr() (*node, error) { return p.chain(opSum, "+", "-", p.term) }

func (p *parser) term() (*node, error) { return p.chain(opProd, "*", "/", p.unary) }

// chain parses operand { (fwd | inv) operand } into one node of kind o whose
// terms are linked in order; a single operand is returned as it is, and a
// chain of numbers is folded.
func (p *parser) chain(o op, fwd, inv string, operand func() (*node, error)) (*node, error) {
	first, err := operand()
	if err != nil {
		return nil, err
	}
	if !p.isOp(fwd) && !p.isOp(inv) {
		return first, nil
	}
	head := p.build(node{op: o, a: first})
	last, terms, constant := first, 1, first.op == opNum
	for p.isOp(fwd) || p.isOp(inv) {
		neg := p.tok.text == inv
		p.next()
		t, err := operand()
		if err != nil {
			return nil, err
		}
		t.inv = neg
		last.next, last = t, t
		terms++
		constant = constant && t.op == opNum
	}
	if constant {
		p.fold(head, terms)
	}
	return head, nil
}

func (p *parser) unary() (*node, error) {
	if !p.isOp("-") && !p.isOp("+") {
		return p.power()
	}
	neg := p.tok.text == "-"
	a, err := p.nested(p.unary)
	switch {
	case err != nil:
		return nil, err
	case !neg:
		return a, nil
	case a.op == opNum:
		a.val = -a.val
		return a, nil
	}
	return p.build(node{op: opNeg, a: a}), nil
}

func (p *parser) power() (*node, error) {
	a, err := p.primary()
	if err != nil {
		return nil, err
	}
	if !p.isOp("^") {
		return a, nil
	}
	b, err := p.nested(p.unary)
	switch {
	case err != nil:
		return nil, err
	case b.op != opNum:
		return p.build(node{op: opPow, a: a, b: b}), nil
	case a.op == opNum:
		a.val = math.Pow(a.val, b.val)
		return a, nil
	}
	return p.build(node{op: opPowC, val: b.val, a: a}), nil
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
		return p.build(node{op: opNum, val: t.num}), nil
	case tokIdent:
		p.next()
		if f, ok := funcs[t.text]; ok {
			if !p.isOp("(") {
				if p.err != nil {
					return nil, p.err
				}
				return nil, p.errAt(p.tok.pos, fmt.Sprintf("expected ( after %s", t.text))
			}
			a, err := p.group()
			if err != nil {
				return nil, err
			}
			n := p.build(node{op: f, a: a})
			if a.op == opNum {
				p.fold(n, 1)
			}
			return n, nil
		}
		if t.text == "pi" {
			return p.build(node{op: opNum, val: math.Pi}), nil
		}
		for i, v := range p.vars {
			if v == t.text {
				p.uses[i] = true
				return p.build(node{op: opVar, v: i}), nil
			}
		}
		return nil, p.errAt(t.pos, fmt.Sprintf("unknown name %q (allowed: %s)", clip(t.text), p.allowed()))
	case tokOp:
		if t.text == "(" {
			return p.group()
		}
	}
	return nil, p.errAt(t.pos, fmt.Sprintf("unexpected %s", t.describe()))
}

// group parses "(" expr ")", the current token being the "(", one nesting
// level deeper.
func (p *parser) group() (*node, error) {
	open := p.tok.pos
	a, err := p.nested(p.expr)
	if err != nil {
		return nil, err
	}
	if !p.isOp(")") {
		return nil, p.closeErr(open)
	}
	p.next()
	return a, nil
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
