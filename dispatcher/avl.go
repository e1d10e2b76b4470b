package dispatcher

// avlNode is a node of the set tree: Kamailio keeps sets in an AVL tree
// keyed by set id and walks it in post-order (spec §2.6).
type avlNode struct {
	id          int
	height      int
	left, right *avlNode
	idx         int // index of the set in the builder
}

func height(n *avlNode) int {
	if n == nil {
		return 0
	}
	return n.height
}

func (n *avlNode) fix() {
	n.height = max(height(n.left), height(n.right)) + 1
}

func rotateRight(n *avlNode) *avlNode {
	l := n.left
	n.left, l.right = l.right, n
	n.fix()
	l.fix()
	return l
}

func rotateLeft(n *avlNode) *avlNode {
	r := n.right
	n.right, r.left = r.left, n
	n.fix()
	r.fix()
	return r
}

// avlInsert inserts id (known absent) with a standard AVL insertion.
func avlInsert(n *avlNode, id, idx int) *avlNode {
	if n == nil {
		return &avlNode{id: id, height: 1, idx: idx}
	}
	if id < n.id {
		n.left = avlInsert(n.left, id, idx)
	} else {
		n.right = avlInsert(n.right, id, idx)
	}
	n.fix()
	switch bal := height(n.left) - height(n.right); {
	case bal > 1:
		if id > n.left.id {
			n.left = rotateLeft(n.left)
		}
		return rotateRight(n)
	case bal < -1:
		if id < n.right.id {
			n.right = rotateRight(n.right)
		}
		return rotateLeft(n)
	}
	return n
}

// postOrder appends the builder indexes in post-order: left, right, node.
func postOrder(n *avlNode, out []int) []int {
	if n == nil {
		return out
	}
	out = postOrder(n.left, out)
	out = postOrder(n.right, out)
	return append(out, n.idx)
}
