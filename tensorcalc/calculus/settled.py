"""What :func:`~tensorcalc.calculus.simplify.simplify` returned lately, so that simplifying one
of its results again gives it back at once: ``tc.compile`` of a loss with its gradients does not
simplify again what ``tc.grad`` simplified.

Each result is remembered as the ids of its roots, in order, with weak references that say the
ids still name those nodes (a list of roots simplified together is a fixpoint as a whole; its
members alone may not be: a product kept apart because two roots share it is merged back when
one root is simplified alone).
"""

from __future__ import annotations

import collections
import threading
import weakref

SETTLED_KEPT = 64  # results remembered, most recent first out last

_settled: "collections.OrderedDict[tuple, tuple]" = collections.OrderedDict()
_lock = threading.Lock()


def settle(roots: list) -> None:
    """Remember ``roots`` as one result of simplify."""
    key = tuple(map(id, roots))
    with _lock:
        _settled[key] = tuple(weakref.ref(node) for node in roots)
        _settled.move_to_end(key)
        while len(_settled) > SETTLED_KEPT:
            _settled.popitem(last=False)


def is_settled(roots) -> bool:
    """True when ``roots`` (in this order) are what one recent call of simplify returned."""
    key = tuple(map(id, roots))
    with _lock:
        refs = _settled.get(key)
    return refs is not None and all(ref() is node for ref, node in zip(refs, roots))


def forget_settled() -> None:
    """Forget every remembered result (a test of simplify's own idempotence needs it)."""
    with _lock:
        _settled.clear()
