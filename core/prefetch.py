"""A software prefetch for Numba kernels: `prefetch_row(M, r)` asks the CPU to start loading row r
of a C-contiguous 2-D float32 matrix into cache, without waiting for it.

Does: emit LLVM's `llvm.prefetch` intrinsic (read, locality 3, data cache) for each 64-byte line
of the row. Skip-gram's noise rows are random, so their cache misses dominate once the output
matrix outgrows the cache; drawing all of a position's noise words before training its first pair
and prefetching their rows hides that latency.
Does not: change any value; on a CPU without prefetch instructions it is a no-op.
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from . import _numba_setup  # noqa: F401
from .pointers import element_pointer, is_c_matrix

LINE_FLOATS = 16  # 64-byte cache line / 4-byte float32


@intrinsic
def _prefetch_address(typingctx, arr, row, col):
    """Prefetch the address of arr[row, col] (arr: 2-D C-contiguous array)."""
    if not is_c_matrix(arr):
        return None
    sig = types.void(arr, row, col)

    def codegen(context, builder, signature, args):
        ptr = element_pointer(context, builder, signature, args)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


@njit(inline="always", nogil=True)
def prefetch_row(M, r):
    """Start loading row r of the 2-D matrix M into cache (one prefetch per 64-byte line)."""
    for c in range(0, M.shape[1], LINE_FLOATS):
        _prefetch_address(M, r, c)
