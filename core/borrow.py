"""`borrow(x)`: the same arrays without reference counting, for the inside of a compiled kernel.

Does: return a copy of an array, or of a (named) tuple of arrays and scalars, whose arrays have
no owner (their NRT meminfo pointer set to NULL). The data pointer, shape and strides are
unchanged, so every read and write goes to the caller's memory.
Does not: copy data, or keep anything alive: only use it on arguments of a kernel, inside that
kernel, while the caller holds the real arrays (never return a borrowed array to Python).

Why: Numba increments and decrements an array's reference count, with an atomic instruction,
every time the array is passed to a function, bound to a variable or sliced into a view. In the
training loops that happened ~20 times per training example, took over half the run time, and
made two threads contend for the cache line of the shared matrices' counters. With a NULL
meminfo, Numba's NRT_incref/NRT_decref return at once (they test for NULL first).
"""

from __future__ import annotations

from numba import types
from numba.extending import intrinsic

from . import _numba_setup  # noqa: F401


def _borrow_value(context, builder, typ, value):
    if isinstance(typ, types.Array):
        ary = context.make_array(typ)(context, builder, value)
        ary.meminfo = context.get_constant_null(types.MemInfoPointer(typ.dtype))
        ary.parent = context.get_constant_null(types.pyobject)
        return ary._getvalue()
    if isinstance(typ, types.BaseTuple):
        out = value
        for i, t in enumerate(typ.types):
            item = builder.extract_value(value, i)
            out = builder.insert_value(out, _borrow_value(context, builder, t, item), i)
        return out
    return value


@intrinsic
def borrow(typingctx, x):
    """An unowned view of x (an array, or a tuple/namedtuple of arrays and scalars)."""
    sig = x(x)

    def codegen(context, builder, signature, args):
        return _borrow_value(context, builder, signature.args[0], args[0])

    return sig, codegen
