"""Raw pointers into arrays, for Numba kernels: `row_address(M, r)` keeps where row r of a matrix
starts as an integer (storable in an int64 array), `float32_pointer(address)` turns it back into
a pointer, and `data_pointer(v)` points at v[0]; `element_pointer` is the shared code generation
(prefetch.py uses it too).

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


def element_pointer(context, builder, signature, args):
    """Code generation: the LLVM pointer to arr[row, col] for an intrinsic whose first three
    arguments are (arr, row, col), or (arr, row) for column 0. No bounds or wraparound checks."""
    aryty = signature.args[0]
    ary = context.make_array(aryty)(context, builder, args[0])
    idx = [context.cast(builder, v, t, types.intp) for v, t in zip(args[1:3], signature.args[1:3], strict=False)]
    if len(idx) == 1:
        idx.append(context.get_constant(types.intp, 0))
    return cgutils.get_item_pointer(context, builder, aryty, ary, idx, wraparound=False)


def is_c_matrix(arr) -> bool:
    return isinstance(arr, types.Array) and arr.ndim == 2 and arr.layout == "C"


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
    if not is_c_matrix(arr):
        return None
    sig = types.intp(arr, row)

    def codegen(context, builder, signature, args):
        ptr = element_pointer(context, builder, signature, args)
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
