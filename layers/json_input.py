"""Bounds on JSON that clients send: nesting depth, checked without recursion."""

from __future__ import annotations

from layers.errors import InvalidInput


def nesting_exceeds(value: object, limit: int) -> bool:
    """Return whether `value` nests lists/objects deeper than `limit` levels (iteratively, no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def too_deep(limit: int) -> InvalidInput:
    """Return the error for a JSON body nested deeper than `limit` levels."""
    return InvalidInput(
        f"the JSON body is nested deeper than {limit} levels",
        f"JSON di dalam isi bersarang lebih dari {limit} tingkat",
    )
