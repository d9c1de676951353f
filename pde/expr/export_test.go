package expr

// MaxTreeDepth bounds the number of nodes on a root-to-leaf path of a parsed
// tree: each of the MaxDepth+1 nesting levels holds at most a sum, a product,
// a negation or power, and a function call or leaf.
const MaxTreeDepth = 4 * (MaxDepth + 1)

// ParseWork is Parse that also returns what parsing cost: steps counts the
// bytes pre-scanned, tokens read, nodes built and operands folded; nodes counts
// the nodes built, one heap allocation each.
func ParseWork(src string, vars ...string) (e *Expr, steps, nodes int, err error) {
	e, w, err := parse(src, vars)
	return e, w.steps, w.nodes, err
}

// TreeDepth returns the number of nodes on the longest root-to-leaf path of the
// tree of e.
func TreeDepth(e *Expr) int { return treeDepth(e.root) }

func treeDepth(n *node) int {
	if n == nil {
		return 0
	}
	d := max(treeDepth(n.a), treeDepth(n.b))
	if n.op == opSum || n.op == opProd {
		for t := n.a.next; t != nil; t = t.next {
			d = max(d, treeDepth(t))
		}
	}
	return 1 + d
}
