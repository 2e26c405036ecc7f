"""The low-level Numba code the training kernels stand on: raw pointers, borrowed (unowned) arrays
and software prefetch. Nothing here knows about word2vec; each piece is small and checked by
tests/test_blocked_step.py and tests/test_kernel_refcounts.py.

## Pointers
Raw pointers into arrays, for Numba kernels: `row_address(M, r)` keeps where row r of a matrix
starts as an integer (storable in an int64 array), `float32_pointer(address)` turns it back into
a pointer, `data_pointer(v)` points at v[0] and `item_pointer(M, r, c)` at M[r, c];
`element_pointer` is the shared code generation (prefetch_row below uses it too).

Does: give `CPointer` values whose `p[d]` reads and writes the element directly. A loop that
walks several rows at once through such pointers (losses.py's blocked steps) compiles to one
vector loop over all of them, and each row's matrix (the shared one or a worker's buffered copy)
is chosen once per row instead of once per element.
Does not: check bounds, keep the array alive, or work on other layouts: the caller guarantees
0 <= r < M.shape[0] and holds the array for as long as the pointer or address is used.

## Borrow
`borrow(x)`: the same arrays without reference counting, for the inside of a compiled kernel.

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

## Row updates as explicit vectors
`update_rows(h, rows, grads, sink, into_h, dim)`: for a compile-time vector size, the blocked
steps' update pass (for each row p_i in turn: sink += g_i p_i with the row before its update,
then p_i += g_i h; with `into_h` the sum goes into h itself) written out as 16-float vector
loads, multiply-adds and stores, one chunk of every row after another, then 8, 4 and 1-float
chunks for the tail.

Does: emit straight-line vector code in program order, so a row given twice is updated twice
and its second term reads the first update, exactly as the element-by-element loop does.
Does not: take a run-time size (the caller keeps a loop for other sizes), or check anything.
Why: written as a loop over elements, the compiler cannot tell that the rows do not overlap, so
before its vector loop it compares every pair of row pointers (21 pairs for six rows and h, 28
with a separate sink: ~150 instructions and stack spills a call) and it finishes a 100-float row
with four scalar steps per row. Measured in bench/README.md ("Row updates as explicit vectors").
`add_row(dst, src, dim)` and `scale_row(dst, factor, dim)` are the same for one row (CBOW's
context rows). `dot_rows(h, rows, dim)` is the dot pass (h . p_i for each row) the same way, with
each sum's order fixed by the code rather than by the vectoriser (see its docstring).
`update_then_dot(h, rows, grads, h2, rows2, reuse, dim)` is update_rows into h followed by
dot_rows(h2, rows2) in one pass (skip-gram's chain of pairs, losses.chain_pairs), bit for bit the
two passes.

## Prefetch
A software prefetch for Numba kernels: `prefetch_row(M, r)` asks the CPU to start loading row r
of a C-contiguous 2-D float32 matrix into cache, without waiting for it; `prefetch_item(v, i)`
the line that holds v[i] of a 1-D array (the noise sampler's table entry of a draw made ahead).

Does: emit LLVM's `llvm.prefetch` intrinsic (read, locality 3, data cache) for each 64-byte line
of the row. Skip-gram's noise rows are random, so their cache misses dominate once the output
matrix outgrows the cache; drawing all of a position's noise words before training its first pair
and prefetching their rows hides that latency.
Does not: change any value; on a CPU without prefetch instructions it is a no-op.

## Own lines
`own_lines(shape, dtype, fill)`: a new array that shares no cache line with any other array, for
the scratch and counters each worker writes (`Work`, `Tally`, `StepScratch`, `Targets`, its copies
of the output rows).

Does: align the data to LINE_BYTES and pad it to a whole number of them (a (0,) array still
gets its own line, and numpy owns the buffer, so it is freed with the array).
Does not: help with what workers share on purpose (W_in, W_out).
Why: numpy hands out small buffers next to each other, so two workers' arrays made one after the
other could sit in one line: the two deferred loss products (`StepScratch.pending`, read and
written on every step) were 32 bytes apart in one run. Forcing them into one line against lines
of their own: 2 threads, CPU s, medians of interleaved rounds: skip-gram 2.54 against 2.43 (6
rounds), CBOW 4.53 against 4.32 (5) (bench/README.md, "Which shared writes cost it"). 128 bytes, because the
adjacent-line prefetcher fetches 64-byte lines in pairs.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .. import _numba_setup  # noqa: F401

LINE_BYTES = 128


def own_lines(shape: int | tuple[int, ...], dtype: np.dtype | type, fill: float = 0) -> np.ndarray:
    """A C-contiguous array of `shape` filled with `fill`, alone on its cache lines (module doc)."""
    dt = np.dtype(dtype)
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    span = max(1, -(-nbytes // LINE_BYTES)) * LINE_BYTES
    raw = np.zeros(span + LINE_BYTES, np.uint8)
    start = -raw.ctypes.data % LINE_BYTES
    out = raw[start:start + nbytes].view(dt).reshape(shape)
    if fill:
        out[...] = fill
    return out


# -- pointers --------------------------------------------------------------------------------
def element_pointer(context, builder, signature, args):
    """Code generation: the LLVM pointer to arr[row, col] for an intrinsic whose first three
    arguments are (arr, row, col), or (arr, row) for column 0 of a matrix or item row of a 1-D
    array. No bounds or wraparound checks."""
    aryty = signature.args[0]
    ary = context.make_array(aryty)(context, builder, args[0])
    idx = [context.cast(builder, v, t, types.intp) for v, t in zip(args[1:3], signature.args[1:3], strict=False)]
    if len(idx) < aryty.ndim:  # (arr, row) of a matrix: column 0
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
def item_pointer(typingctx, arr, row, col):
    """A pointer to arr[row, col] (arr: 2-D C-contiguous array; row and col unchecked)."""
    if not is_c_matrix(arr):
        return None
    sig = types.CPointer(arr.dtype)(arr, row, col)
    return sig, element_pointer


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


# -- borrow --------------------------------------------------------------------------------
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


# -- row updates as explicit vectors ---------------------------------------------------------------
VECTOR_FLOATS = 16  # floats per chunk: one 512-bit register (AVX-512; LLVM splits it on narrower CPUs)


def _chunks(dim: int) -> list[tuple[int, int]]:
    """(start, width) of the chunks that cover dim floats: widths 16, then 8, 4 and 1 for the tail."""
    out, start = [], 0
    for width in (VECTOR_FLOATS, 8, 4, 1):
        while dim - start >= width:
            out.append((start, width))
            start += width
    return out


def _is_pointer_tuple(t) -> bool:
    return isinstance(t, types.UniTuple) and t.dtype == types.CPointer(types.float32)


def _vector_type(width: int):
    return ir.FloatType() if width == 1 else ir.VectorType(ir.FloatType(), width)


def _at(builder, p, start: int, width: int):
    """The address of p[start] as a pointer to a chunk of `width` floats."""
    return builder.bitcast(builder.gep(p, [ir.Constant(ir.IntType(64), start)]), _vector_type(width).as_pointer())


def _splat(builder, x, width: int):
    """The scalar x (a float, or any LLVM scalar) in every lane of a vector of `width` lanes."""
    if width == 1:
        return x
    vt, i32 = ir.VectorType(x.type, width), ir.IntType(32)
    v = builder.insert_element(ir.Constant(vt, ir.Undefined), x, i32(0))
    return builder.shuffle_vector(v, ir.Constant(vt, ir.Undefined), ir.Constant(ir.VectorType(i32, width), [0] * width))


def _fma(builder, width: int):
    """A function a, b, c -> a b + c (one rounding) on chunks of `width` floats."""
    vt = _vector_type(width)
    name = "llvm.fma.f32" if width == 1 else f"llvm.fma.v{width}f32"
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vt, [vt] * 3), name)
    return lambda a, b, c: builder.call(fn, [a, b, c])


def _literal_size(dim) -> int | None:
    return dim.literal_value if isinstance(dim, types.IntegerLiteral) and dim.literal_value > 0 else None


_F32P = types.CPointer(types.float32)


def _update_chunk(builder, hp, ps, gs, out, into: bool, start: int, width: int) -> list:
    """update_rows' work on one chunk: for each row p_i in turn, e += g_i p_i (the chunk before its
    update) and p_i += g_i h; then out += e (out is h itself when `into`). Returns the rows' new
    chunks (the values just stored)."""
    fma = _fma(builder, width)
    x = builder.load(_at(builder, hp, start, width), align=4)
    e = None
    new = []
    for p, g in zip(ps, gs, strict=True):
        gv = _splat(builder, g, width)
        o = builder.load(_at(builder, p, start, width), align=4)
        e = builder.fmul(gv, o) if e is None else fma(gv, o, e)
        updated = fma(gv, x, o)
        builder.store(updated, _at(builder, p, start, width), align=4)
        new.append(updated)
    total = builder.fadd(x if into else builder.load(_at(builder, out, start, width), align=4), e)
    builder.store(total, _at(builder, out, start, width), align=4)
    return new


@intrinsic(prefer_literal=True)
def update_rows(typingctx, h, rows, grads, sink, into_h, dim):
    """For each float32 row pointer p_i of `rows` in turn, with g_i from `grads` (a tuple of floats of
    the same length, cast to float32): sink += g_i p_i (the row before its update), p_i += g_i h; with
    into_h the sum goes into h and sink is not touched. `into_h` and `dim` must be compile-time constants."""
    if not (_literal_size(dim) and isinstance(into_h, types.BooleanLiteral)
            and h == _F32P and sink == _F32P and _is_pointer_tuple(rows)
            and isinstance(grads, types.UniTuple) and isinstance(grads.dtype, types.Float)
            and grads.count == rows.count):
        return None
    n, size, into = rows.count, dim.literal_value, into_h.literal_value
    sig = types.void(h, rows, grads, sink, into_h, dim)

    def codegen(context, builder, signature, args):
        hp, rows_v, grads_v, sink_p = args[:4]
        ps = [builder.extract_value(rows_v, i) for i in range(n)]
        gt = signature.args[2].dtype
        gs = [context.cast(builder, builder.extract_value(grads_v, i), gt, types.float32) for i in range(n)]
        for start, width in _chunks(size):
            _update_chunk(builder, hp, ps, gs, hp if into else sink_p, into, start, width)
        return context.get_dummy_value()

    return sig, codegen


def _halve_to(builder, v, width: int, combine=None):
    """Vector v folded in halves (lanes [0, w/2) with [w/2, w), and again) down to `width` lanes by
    `combine` (default builder.fadd: a sum; lanes.py passes builder.fmul for a product); width 1
    gives a scalar."""
    combine = combine or builder.fadd
    i32 = ir.IntType(32)
    count = v.type.count
    while count > max(width, 2):
        half = count // 2
        lo = builder.shuffle_vector(v, v, ir.Constant(ir.VectorType(i32, half), list(range(half))))
        hi = builder.shuffle_vector(v, v, ir.Constant(ir.VectorType(i32, half), list(range(half, count))))
        v, count = combine(lo, hi), half
    if width == 1 and count == 2:
        v = combine(builder.extract_element(v, i32(0)), builder.extract_element(v, i32(1)))
    return v


@intrinsic(prefer_literal=True)
def update_then_dot(typingctx, h, rows, grads, h2, rows2, reuse, dim):
    """update_rows(h, rows, grads, h, True, dim), then dot_rows(h2, rows2, dim), in one pass over
    the chunks, bit for bit as the two passes one after the other (the dot products are summed in
    dot_rows' order). Chunk k of every row in `rows` and of h is written before chunk k of h2 and
    of each row in `rows2` is read, so any of them may be the same row.
    `reuse` (a compile-time int) says that rows2[i] is rows[i] for i < reuse and that no later row
    of `rows` is rows[i]: those chunks are taken from the register that was just stored rather
    than read back (a read of a just-stored 64-byte chunk waited on the store: measured slower)."""
    if not (_literal_size(dim) and h == _F32P and h2 == _F32P and _is_pointer_tuple(rows)
            and _is_pointer_tuple(rows2) and isinstance(grads, types.UniTuple)
            and isinstance(grads.dtype, types.Float) and grads.count == rows.count
            and isinstance(reuse, types.IntegerLiteral) and 0 <= reuse.literal_value <= min(rows.count, rows2.count)):
        return None
    n, n2, size, keep = rows.count, rows2.count, dim.literal_value, reuse.literal_value
    sig = types.UniTuple(types.float32, n2)(h, rows, grads, h2, rows2, reuse, dim)

    def codegen(context, builder, signature, args):
        hp, rows_v, grads_v, h2p, rows2_v = args[:5]
        ps = [builder.extract_value(rows_v, i) for i in range(n)]
        qs = [builder.extract_value(rows2_v, i) for i in range(n2)]
        gt = signature.args[2].dtype
        gs = [context.cast(builder, builder.extract_value(grads_v, i), gt, types.float32) for i in range(n)]
        acc: dict[int, list] = {}
        for start, width in _chunks(size):
            fma = _fma(builder, width)
            new = _update_chunk(builder, hp, ps, gs, hp, True, start, width)
            x2 = builder.load(_at(builder, h2p, start, width), align=4)
            prev = acc.get(width)
            cur = []
            for i, q in enumerate(qs):
                o = new[i] if i < keep else builder.load(_at(builder, q, start, width), align=4)
                cur.append(builder.fmul(x2, o) if prev is None else fma(x2, o, prev[i]))
            acc[width] = cur
        return context.make_tuple(builder, signature.return_type, _sum_chunks(builder, acc, n2))

    return sig, codegen


def _sum_chunks(builder, acc: dict[int, list], n: int) -> list:
    """Each of n rows' dot product from its accumulators per chunk width (dot_rows' order): the
    widest summed in halves, the narrower ones added in as their width is reached."""
    out = []
    for i in range(n):
        total = None
        for width in (VECTOR_FLOATS, 8, 4, 1):
            if total is not None and isinstance(total.type, ir.VectorType):
                total = _halve_to(builder, total, width)
            if width in acc:
                total = acc[width][i] if total is None else builder.fadd(total, acc[width][i])
        out.append(total if total is not None else ir.Constant(ir.FloatType(), 0.0))
    return out


@intrinsic(prefer_literal=True)
def dot_rows(typingctx, h, rows, dim):
    """(h . p_i for each float32 row pointer p_i of `rows`), a tuple of float32, over a compile-time
    `dim`: every chunk of each row (16 floats, then 8, 4 and 1 for the tail, as update_rows) is
    multiply-added into that row's accumulator of its width, chunk after chunk; each accumulator is
    then summed in halves and the narrower ones added in as their width is reached.

    Why: written as a loop, the sum's order is the vectoriser's choice, and a function Numba compiles
    on its own and again inside a cached kernel can get two different choices: the first run of a
    process that compiled the kernel then scored pairs in a different order from every later run
    that loaded it from the cache (tests/test_compile_once.py). Here the order is the code's."""
    if not (_literal_size(dim) and h == _F32P and _is_pointer_tuple(rows)):
        return None
    n, size = rows.count, dim.literal_value
    sig = types.UniTuple(types.float32, n)(h, rows, dim)

    def codegen(context, builder, signature, args):
        hp, rows_v = args[:2]
        ps = [builder.extract_value(rows_v, i) for i in range(n)]
        acc: dict[int, list] = {}
        for start, width in _chunks(size):
            fma = _fma(builder, width)
            x = builder.load(_at(builder, hp, start, width), align=4)
            prev = acc.get(width)
            cur = []
            for i, p in enumerate(ps):
                o = builder.load(_at(builder, p, start, width), align=4)
                cur.append(builder.fmul(x, o) if prev is None else fma(x, o, prev[i]))
            acc[width] = cur
        return context.make_tuple(builder, signature.return_type, _sum_chunks(builder, acc, n))

    return sig, codegen


@intrinsic(prefer_literal=True)
def add_row(typingctx, dst, src, dim):
    """dst += src over `dim` floats (float32 pointers; dim a compile-time constant), as explicit
    vector chunks: no overlap checks (the two may even be the same row)."""
    if not (_literal_size(dim) and dst == _F32P and src == _F32P):
        return None
    size = dim.literal_value

    def codegen(context, builder, signature, args):
        d, s = args[:2]
        for start, width in _chunks(size):
            a = builder.load(_at(builder, d, start, width), align=4)
            b = builder.load(_at(builder, s, start, width), align=4)
            builder.store(builder.fadd(a, b), _at(builder, d, start, width), align=4)
        return context.get_dummy_value()

    return types.void(dst, src, dim), codegen


@intrinsic(prefer_literal=True)
def scale_row(typingctx, dst, factor, dim):
    """dst *= factor over `dim` floats (dst a float32 pointer, factor a float, dim a compile-time constant)."""
    if not (_literal_size(dim) and dst == _F32P and isinstance(factor, types.Float)):
        return None
    size = dim.literal_value

    def codegen(context, builder, signature, args):
        d = args[0]
        f = context.cast(builder, args[1], signature.args[1], types.float32)
        for start, width in _chunks(size):
            a = builder.load(_at(builder, d, start, width), align=4)
            builder.store(builder.fmul(a, _splat(builder, f, width)), _at(builder, d, start, width), align=4)
        return context.get_dummy_value()

    return types.void(dst, factor, dim), codegen


# -- prefetch --------------------------------------------------------------------------------
LINE_FLOATS = 16  # 64-byte cache line / 4-byte float32


@intrinsic
def _prefetch_address(typingctx, arr, row, col):
    """Prefetch the address of arr[row, col] (arr: 2-D C-contiguous array)."""
    if not is_c_matrix(arr):
        return None
    sig = types.void(arr, row, col)

    def codegen(context, builder, signature, args):
        _emit_prefetch(builder, element_pointer(context, builder, signature, args))
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def prefetch_item(typingctx, arr, i):
    """Start loading the cache line that holds arr[i] (arr: 1-D C-contiguous array)."""
    if not (isinstance(arr, types.Array) and arr.ndim == 1 and arr.layout == "C"):
        return None
    sig = types.void(arr, i)

    def codegen(context, builder, signature, args):
        _emit_prefetch(builder, element_pointer(context, builder, signature, args))
        return context.get_dummy_value()

    return sig, codegen


def _emit_prefetch(builder, ptr) -> None:
    """llvm.prefetch(ptr, read, locality 3, data cache)."""
    i8p = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
    fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
    builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])


@njit(inline="always", nogil=True)
def prefetch_row(M, r):
    """Start loading row r of the 2-D matrix M into cache (one prefetch per 64-byte line)."""
    for c in range(0, M.shape[1], LINE_FLOATS):
        _prefetch_address(M, r, c)
