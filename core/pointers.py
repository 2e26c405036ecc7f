"""Raw pointers into arrays, for Numba kernels: `row_pointer(M, r)` (to M[r, 0]), `data_pointer(v)`
(to v[0]), and `row_address(M, r)` / `float32_pointer(address)` to keep a row's address in an
int64 array and turn it back into a pointer.

Does: give `CPointer` values whose `p[d]` reads and writes the element directly. A loop that
walks several rows at once through such pointers (losses.py's blocked steps) compiles to one
vector loop over all of them, and each row's matrix (the shared one or a worker's buffered copy)
is chosen once per row instead of once per element.
Does not: check bounds, keep the array alive, or work on other layouts: the caller guarantees
0 <= r < M.shape[0] and holds the array for as long as the pointer or address is used.
"""

from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from . import _numba_setup  # noqa: F401


@intrinsic
def row_pointer(typingctx, arr, row):
    """A pointer to arr[row, 0] (arr: 2-D C-contiguous array, row: integer, unchecked)."""
    if not isinstance(arr, types.Array) or arr.ndim != 2 or arr.layout != "C":
        return None
    sig = types.CPointer(arr.dtype)(arr, row)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        r = context.cast(builder, args[1], signature.args[1], types.intp)
        zero = context.get_constant(types.intp, 0)
        return cgutils.get_item_pointer(context, builder, aryty, ary, [r, zero], wraparound=False)

    return sig, codegen


@intrinsic
def data_pointer(typingctx, arr):
    """A pointer to arr[0] (arr: 1-D contiguous array)."""
    if not isinstance(arr, types.Array) or arr.ndim != 1 or arr.layout not in "CF":
        return None
    sig = types.CPointer(arr.dtype)(arr)

    def codegen(context, builder, signature, args):
        return context.make_array(signature.args[0])(context, builder, args[0]).data

    return sig, codegen


@intrinsic
def row_address(typingctx, arr, row):
    """The address of arr[row, 0] as an integer (arr: 2-D C-contiguous array, row unchecked)."""
    if not isinstance(arr, types.Array) or arr.ndim != 2 or arr.layout != "C":
        return None
    sig = types.intp(arr, row)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        r = context.cast(builder, args[1], signature.args[1], types.intp)
        zero = context.get_constant(types.intp, 0)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [r, zero], wraparound=False)
        return builder.ptrtoint(ptr, context.get_value_type(types.intp))

    return sig, codegen


@intrinsic
def float32_pointer(typingctx, address):
    """A float32 pointer to an address from row_address."""
    if not isinstance(address, types.Integer):
        return None
    sig = types.CPointer(types.float32)(address)

    def codegen(context, builder, signature, args):
        addr = context.cast(builder, args[0], signature.args[0], types.intp)
        return builder.inttoptr(addr, context.get_value_type(signature.return_type))

    return sig, codegen
