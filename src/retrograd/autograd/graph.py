"""The computational graph and the backward pass.

Every differentiable operation is a :class:`Node` subclass with two methods side by
side: ``forward(*arrays)`` computes the result with NumPy, ``backward(g, *inputs)``
returns the vector-Jacobian product, one gradient per input. When grad mode is on
and some input requires grad, :func:`apply` records the node: it remembers the
*parents* (the nodes, or leaf tensors, that produced each input) and the input
arrays the backward needs. That is the whole graph: nodes pointing at their
parents, built as the program runs (define-by-run).

:func:`run_backward` walks the graph in reverse topological order, iteratively
(no recursion, so a chain of any length works): it counts each node's consumers,
then repeatedly runs the backward of a node whose consumers have all sent their
gradient, summing contributions where the graph branches. Leaf tensors that
require grad collect the sum in ``.grad``.

Higher-order gradients come for free: backward formulas are written with
operators and NumPy ufuncs only, so when ``create_graph=True`` the engine hands
them *Tensors* instead of arrays and the backward pass is itself recorded.
"""

from __future__ import annotations

import numpy as np

from .grad_mode import GRAD


class _AnomalyState:
    __slots__ = ("enabled", "check_nan")

    def __init__(self):
        self.enabled = False
        self.check_nan = True


ANOMALY = _AnomalyState()


class Node:
    """One recorded operation in the graph (what ``tensor.grad_fn`` points to).

    Subclasses define ``forward(*arrays) -> array`` and ``backward(g, *inputs)``.
    ``backward`` receives the upstream gradient ``g`` and the op's inputs; it returns
    the gradient for each input (a tuple when there are several inputs, a single
    value for one input; ``None`` where no gradient is needed: see ``self.needs``).
    Set the class attribute ``save_inputs = False`` when the backward does not read
    the inputs (the graph then keeps no reference to them), and ``save_output = True``
    when it reads the result (``self.output(g)``).
    """

    __slots__ = ("parents", "saved", "versions", "out", "needs", "_hooks", "_retain",
                 "_freed", "trace", "__dict__", "__weakref__")

    save_inputs = True
    save_output = False
    multi_output = False
    # Which saved inputs the backward reads the *values* of, given ``needs`` (None: all of
    # them). Only those are watched for in-place changes: Mul's gradient for ``a`` reads ``b``
    # alone, so changing ``a`` in place afterwards is fine when ``b`` needs no gradient.
    reads = None

    def forward(self, *arrays):  # pragma: no cover - every op overrides it
        raise NotImplementedError

    def backward(self, g, *inputs):  # pragma: no cover
        raise NotImplementedError

    # ---------------------------------------------------------- helpers for ops
    def output(self, g):
        """The op's result, as an array (plain backward) or a Tensor (create_graph)."""
        if g.__class__ is np.ndarray:
            return self.out
        from ..tensor import Tensor

        return Tensor._make(self.out, self)

    # ---------------------------------------------------------- introspection
    @classmethod
    def name(cls):
        return cls.__name__ + "Backward0"

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self):
        """The parents, PyTorch style: ``((node_or_AccumulateGrad_or_None, 0), ...)``."""
        out = []
        for p in getattr(self, "parents", ()):
            if p is None or isinstance(p, Node):
                out.append((p, 0))
            else:
                out.append((AccumulateGrad(p), 0))
        return tuple(out)

    @property
    def metadata(self):
        d = self.__dict__.get("_metadata")
        if d is None:
            d = self.__dict__["_metadata"] = {}
        return d

    def register_hook(self, fn):
        """Not supported on nodes; use ``Tensor.register_hook`` instead."""
        raise RuntimeError("Node.register_hook is not supported; use tensor.register_hook(fn)")

    def register_prehook(self, fn):
        hooks = self._hooks_list()
        hooks.append(fn)
        return _RemovableHandle(hooks, fn)

    def _hooks_list(self):
        try:
            h = self._hooks
        except AttributeError:
            h = None
        if h is None:
            h = self._hooks = []
        return h


class AccumulateGrad:
    """Stand-in that ``next_functions`` shows for a leaf tensor, as in PyTorch."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    @staticmethod
    def name():
        return "AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"

    @property
    def next_functions(self):
        return ()


class _RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook away."""

    __slots__ = ("_list", "_fn")

    def __init__(self, lst, fn):
        self._list = lst
        self._fn = fn

    def remove(self):
        try:
            self._list.remove(self._fn)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


# ------------------------------------------------------------------------ recording

# The Tensor class, set by ``tensor.py`` once it is defined (tensor.py imports this module,
# so it cannot be imported here at the top; a function-level import costs microseconds per op).
Tensor = None


def apply(node, *inputs):
    """Run ``node.forward`` on the inputs' arrays and, when needed, record the node.

    ``inputs`` are Tensors, Python scalars or NumPy arrays (constants). Returns the
    result Tensor, whose ``grad_fn`` is ``node`` when the graph was recorded.
    """
    arrays = [x._data if isinstance(x, Tensor) else x for x in inputs]
    try:
        out = node.forward(*arrays)
    except ValueError as e:  # a NumPy error from deep inside: say which op and which shapes
        raise _forward_error(node, arrays, e) from None
    if out.__class__ is not np.ndarray:
        out = np.asarray(out)
    if GRAD.enabled:
        for x in inputs:
            if isinstance(x, Tensor) and x.requires_grad:
                return _record(node, inputs, arrays, out)
    t = Tensor.__new__(Tensor)
    t._data = out
    t.requires_grad = False
    t.grad = None
    t.grad_fn = None
    t._version = [0]
    return t


def _forward_error(node, arrays, err):
    name = type(node).__name__.lower()
    shapes = " and ".join(str(tuple(np.shape(a))) for a in arrays)
    msg = str(err)
    if "broadcast" in msg:
        return RuntimeError(
            f"{name}: shapes {shapes} cannot be broadcast together: aligned from the right, "
            "each dimension must match or be 1. Reshape an operand (e.g. x.unsqueeze(-1) or "
            "x.view(...)) so that the shapes line up."
        )
    return RuntimeError(f"{name}: {msg} (input shapes {shapes})")


def _record(node, inputs, arrays, out):
    parents = []
    needs = []
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad:
            parents.append(x.grad_fn if x.grad_fn is not None else x)
            needs.append(True)
        else:
            parents.append(None)
            needs.append(False)
    node.parents = tuple(parents)
    node.needs = tuple(needs)
    version = [0]
    if node.save_inputs:
        node.saved = tuple(arrays)
        reads = node.reads
        if reads is None:
            node.versions = tuple((x._version, x._version[0]) for x in inputs
                                  if isinstance(x, Tensor))
        else:
            reads = reads(node.needs)
            node.versions = tuple((x._version, x._version[0]) for x, r in zip(inputs, reads)
                                  if r and isinstance(x, Tensor))
    else:
        node.saved = None
        node.versions = None
    if node.save_output:
        node.out = out
        # the backward reads the result: changing it in place must be caught too
        node.versions = ((version, 0),) + (node.versions or ())
    else:
        node.out = None
    node._hooks = None
    node._retain = None
    node._freed = False
    if ANOMALY.enabled:
        import traceback

        node.trace = traceback.extract_stack()[:-3]
    t = Tensor.__new__(Tensor)
    t._data = out
    t.requires_grad = True
    t.grad = None
    t.grad_fn = node
    t._version = version
    return t


# ------------------------------------------------------------------------ backward

def _check_versions(node):
    for vc, v in node.versions:
        if vc[0] != v:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: a tensor saved by {node.name()} (one of its inputs, or its "
                f"output) is at version {vc[0]}; expected version {v} instead. Hint: clone the "
                "tensor before changing it in place (x = x.clone()), or use the out-of-place "
                "form of the op (x = x * 2, not x.mul_(2))."
            )


def _graph_inputs(node, g):
    """The node's saved inputs, as arrays (plain) or as graph-connected Tensors (create_graph)."""
    saved = node.saved
    if saved is None:
        return ()
    if g.__class__ is np.ndarray:
        return saved
    from ..tensor import Tensor

    vals = []
    for arr, p in zip(saved, node.parents):
        if p is None:
            vals.append(Tensor._make(arr, None) if isinstance(arr, np.ndarray) else arr)
        elif isinstance(p, Node):
            vals.append(Tensor._make(arr, p))
        else:
            vals.append(p)  # the leaf tensor itself
    return tuple(vals)


def _as_value(x, create_graph):
    """A hook's return value back into the engine's currency (array or Tensor)."""
    from ..tensor import Tensor

    if create_graph:
        return x if isinstance(x, Tensor) else Tensor._make(np.asarray(x), None)
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _plain(g):
    """Arithmetic on 0-d arrays yields NumPy scalars; backward formulas tell plain mode from
    create_graph mode by ``g.__class__ is np.ndarray``, so turn scalars back into arrays."""
    if isinstance(g, np.generic):
        return np.asarray(g)
    if isinstance(g, list):  # a multi-output node's slots
        return [np.asarray(x) if isinstance(x, np.generic) else x for x in g]
    return g


def _wrap(g):
    from ..tensor import Tensor

    return g if isinstance(g, Tensor) else Tensor._make(g, None)


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, capture=None,
                 accumulate=True):
    """Backpropagate ``root_grads`` from ``roots`` through the recorded graph.

    Args:
        roots: tensors to start from (each requires grad).
        root_grads: the gradient of each root (arrays, or Tensors when create_graph).
        retain_graph: keep saved arrays so backward can run again through this graph.
        create_graph: record the backward pass itself (for higher-order gradients).
        capture: optional list of tensors whose total gradient should be returned
            (used by :func:`retrograd.autograd.grad`).
        accumulate: add gradients into leaves' ``.grad`` (False for ``autograd.grad``).

    Returns the list of captured gradients (``None`` where a tensor was not reached).
    """
    # 1. Count, for every node reachable from the roots, how many edges reach it.
    deps = {}
    stack = []
    for r in roots:
        n = r.grad_fn
        if n is not None and n not in deps:
            deps[n] = 0
            stack.append(n)
    while stack:
        n = stack.pop()
        for p in n.parents:
            if isinstance(p, Node):
                if p in deps:
                    deps[p] += 1
                else:
                    deps[p] = 1
                    stack.append(p)

    grads = {}      # node -> gradient summed so far
    leaf_grads = {}  # leaf tensor -> gradient summed so far
    for r, g in zip(roots, root_grads):
        key = r.grad_fn
        if key is None:
            leaf_grads[r] = leaf_grads[r] + g if r in leaf_grads else g
        else:
            grads[key] = grads[key] + g if key in grads else g

    capture_nodes = {}
    results = None
    if capture is not None:
        results = [None] * len(capture)
        for i, t in enumerate(capture):
            if t.grad_fn is not None:
                capture_nodes.setdefault(t.grad_fn, []).append(i)

    prev_mode = GRAD.enabled
    GRAD.enabled = create_graph
    try:
        ready = [n for n in deps if deps[n] == 0]
        while ready:
            node = ready.pop()
            g = grads.pop(node, None)
            if g.__class__ is not np.ndarray and g is not None and not isinstance(g, Tensor):
                g = _plain(g)
            if g is not None and node._hooks:
                for hook in tuple(node._hooks):
                    r = hook(_wrap(g) if not node.multi_output else g)
                    if r is not None:
                        g = _as_value(r, create_graph)
            if g is not None and node._retain is not None:
                t = node._retain()
                if t is not None:
                    if create_graph:
                        t.grad = g if t.grad is None else t.grad + g
                    elif t.grad is None:
                        t.grad = Tensor._make(np.array(g, copy=True), None)
                    else:
                        t.grad._data += g
            if g is not None and node in capture_nodes:
                for i in capture_nodes[node]:
                    results[i] = g
            parents = node.parents
            if g is None:
                in_grads = (None,) * len(parents)
            else:
                if node._freed:
                    raise RuntimeError(
                        f"Trying to backward through the graph a second time ({node.name()}): "
                        "its saved arrays were freed by the first backward. Specify "
                        "retain_graph=True on the first backward (or autograd.grad) call if you "
                        "need to backward through the graph again."
                    )
                if node.versions:
                    _check_versions(node)
                in_grads = node.backward(g, *_graph_inputs(node, g))
                if len(parents) == 1:
                    in_grads = (in_grads,)
                if ANOMALY.enabled and ANOMALY.check_nan:
                    from .anomaly import check_grads

                    check_grads(node, in_grads)
                if not retain_graph and (node.saved is not None or node.out is not None):
                    node.saved = None
                    node.out = None
                    node._freed = True
            for p, gi in zip(parents, in_grads):
                if p is None:
                    continue
                if p.__class__ is Tensor or isinstance(p, Tensor):
                    if gi is not None:
                        leaf_grads[p] = leaf_grads[p] + gi if p in leaf_grads else gi
                    continue
                if gi is not None:
                    if p.multi_output:
                        slot = grads.get(p)
                        if slot is None:
                            slot = grads[p] = [None] * p.n_outputs
                        i, gi = gi
                        slot[i] = gi if slot[i] is None else slot[i] + gi
                    elif p in grads:
                        grads[p] = grads[p] + gi
                    else:
                        grads[p] = gi
                d = deps[p] - 1
                deps[p] = d
                if d == 0:
                    ready.append(p)

        # 2. Leaves: run their hooks, then sum into .grad (or hand back to autograd.grad).
        seen = set()
        for leaf, g in leaf_grads.items():
            if leaf._hooks:
                for hook in tuple(leaf._hooks):
                    r = hook(_wrap(g))
                    if r is not None:
                        g = _as_value(r, create_graph)
            if capture is not None:
                for i, t in enumerate(capture):
                    if t is leaf:
                        results[i] = g
            if not accumulate:
                continue
            if create_graph:
                if g.dtype != leaf._data.dtype:
                    g = g.to(leaf._data.dtype)
                leaf.grad = g if leaf.grad is None else leaf.grad + g
            else:
                if g.dtype != leaf._data.dtype:
                    g = g.astype(leaf._data.dtype)
                if g.shape != leaf._data.shape:
                    g = np.broadcast_to(g, leaf._data.shape)
                if leaf.grad is None:
                    if not (g.flags.writeable and g.base is None and id(g) not in seen):
                        g = np.array(g, copy=True)
                    seen.add(id(g))
                    leaf.grad = Tensor._make(g, None)
                elif leaf.grad.requires_grad:
                    leaf.grad = Tensor._make(leaf.grad._data + g, None)
                else:
                    leaf.grad._data += g
            post = leaf.__dict__.get("_post_acc_hooks") if hasattr(leaf, "__dict__") else None
            if post:
                for hook in tuple(post):
                    hook(leaf)
    finally:
        GRAD.enabled = prev_mode
    return results
