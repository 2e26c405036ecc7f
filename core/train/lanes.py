"""A block's logistic gradients in one vector pass: the sigmoids of up to 8 logits at once.

`logistic_lanes(z, shifts, labels, alpha, n)`: z is a tuple of k <= LANES float32 logits (a
block's dot products, losses.py), `shifts` and `labels` float32 pointers to the block's logit
shifts and labels (LANES floats must be readable from each: losses.make_targets pads its rows),
alpha the learning rate and n the number of lanes that hold targets (taken as k when larger).
With x_j = z_j - shift_j, t_j = -x_j for label 1 and x_j for label 0, and
e_j = e^clip(t_j, -MAX_EXP, MAX_EXP), it returns
  - g_j = alpha e_j / (1 + e_j) for label 1 and -alpha e_j / (1 + e_j) for label 0: alpha
    (label - s(clip(x_j))), the step's scale for row j (losses.logistic_step); 0 for j >= n, and
    NaN for a NaN logit (a diverging run must stay visible);
  - the float64 product of (1 + e_j) over the lanes j < n with -MAX_EXP <= t_j <= MAX_EXP: the
    factors of their loss terms log(1 + e^t_j);
  - a bit mask of the lanes j < n outside that range (or NaN), whose loss terms the caller
    computes itself from the unclipped logit (losses._fold_loss): e_j is clipped there.
e^t is t = m ln 2 + r, |r| <= ln 2 / 2, e^r by its Taylor series to r^7 (error < 6e-9) in Estrin's
order (four dependent multiply-adds instead of seven), times 2^m built in the exponent bits:
relative error < 3e-7 against float64, like the scalar version it replaced.

Does: emit the whole computation as <LANES x float> instructions (one compare, min/max, floor,
multiply-adds, one division, selects, and a tree product of the loss factors in <LANES x double>).
Does not: read or write any row, or take a log: the caller owns the loss (one log per product,
losses.logistic_step) and the row updates.
Why: one target at a time, the epilogue (clamp, floor, table look-up of 2^m, seven dependent
multiply-adds, a division, two branches for the loss) cost as much as the dot products and the
row updates together; measured in bench/README.md ("A block's sigmoids as one vector").
"""

from __future__ import annotations

import math

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .. import _numba_setup  # noqa: F401
from .lowlevel import _fma, _halve_to, _splat

LANES = 8  # logits per vector pass (a block of losses.BLOCK = 6 targets, padded)
MAX_EXP = 6.0  # word2vec.c's MAX_EXP (losses.MAX_EXP is this value as float32)

_F, _D, _I32 = ir.FloatType(), ir.DoubleType(), ir.IntType(32)
_VF, _VD, _VI = ir.VectorType(_F, LANES), ir.VectorType(_D, LANES), ir.VectorType(_I32, LANES)
_TAYLOR = [1.0 / math.factorial(i) for i in range(8)]


def _const(value: float, vt=_VF):
    return ir.Constant(vt, [ir.Constant(vt.element, value)] * LANES)


def _ints(values: list[int]):
    return ir.Constant(_VI, [_I32(v) for v in values])


def _call(builder, name: str, vt, *args):
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vt, [vt] * len(args)), name)
    return builder.call(fn, list(args))


def _exp(builder, tc):
    """e^tc for |tc| <= MAX_EXP, lane by lane (see the module docstring)."""
    fma = _fma(builder, LANES)
    m = _call(builder, "llvm.floor.v8f32", _VF, fma(tc, _const(1.0 / math.log(2.0)), _const(0.5)))
    r = fma(m, _const(-math.log(2.0)), tc)
    c = _TAYLOR
    r2 = builder.fmul(r, r)
    r4 = builder.fmul(r2, r2)
    lo = fma(r2, fma(r, _const(c[3]), _const(c[2])), fma(r, _const(c[1]), _const(c[0])))
    hi = fma(r2, fma(r, _const(c[7]), _const(c[6])), fma(r, _const(c[5]), _const(c[4])))
    p = fma(r4, hi, lo)
    # 2^m: m + 127 in a float's exponent field (|m| <= 9, so never a denormal or an overflow)
    bits = builder.shl(builder.add(builder.fptosi(m, _VI), _ints([127] * LANES)), _ints([23] * LANES))
    return builder.fmul(p, builder.bitcast(bits, _VF))


def _product(builder, v):
    """The product of a <LANES x double>'s lanes, as a tree (lowlevel._halve_to)."""
    return _halve_to(builder, v, 1, builder.fmul)


_F32P = types.CPointer(types.float32)


@intrinsic
def logistic_lanes(typingctx, z, shifts, labels, alpha, n):
    """(g_0, ..., g_{k-1}, loss product, out-of-range mask) for a tuple z of k <= LANES float32 logits;
    see the module docstring."""
    if not (isinstance(z, types.UniTuple) and z.dtype == types.float32 and 1 <= z.count <= LANES
            and shifts == _F32P and labels == _F32P and isinstance(alpha, types.Float)
            and isinstance(n, types.Integer)):
        return None
    k = z.count
    ret = types.Tuple([types.float32] * k + [types.float64, types.int64])

    def codegen(context, builder, signature, args):
        zt, sp, lp, al, nv = args
        x = ir.Constant(_VF, [ir.Constant(_F, 0.0)] * LANES)
        for i in range(k):
            x = builder.insert_element(x, builder.extract_value(zt, i), _I32(i))
        shift = builder.load(builder.bitcast(sp, _VF.as_pointer()), align=4)
        label = builder.load(builder.bitcast(lp, _VF.as_pointer()), align=4)
        x = builder.fsub(x, shift)
        pos = builder.fcmp_ordered(">", label, _const(0.0))
        t = builder.select(pos, builder.fneg(x), x)
        # min/max return the other operand for a NaN: tc is always in range, so are the exponent bits
        tc = _call(builder, "llvm.minnum.v8f32", _VF, _call(builder, "llvm.maxnum.v8f32", _VF, t, _const(-MAX_EXP)),
                   _const(MAX_EXP))
        e = _exp(builder, tc)
        q = builder.fdiv(e, builder.fadd(_const(1.0), e))
        a = _splat(builder, context.cast(builder, al, signature.args[3], types.float32), LANES)
        g = builder.fmul(builder.select(pos, q, builder.fneg(q)), a)
        g = builder.select(builder.fcmp_unordered("uno", t, t), t, g)  # NaN in, NaN out
        count = builder.trunc(context.cast(builder, nv, signature.args[4], types.int64), _I32)
        count = builder.select(builder.icmp_signed("<", count, _I32(k)), count, _I32(k))  # lanes past k: no target
        valid = builder.icmp_signed("<", _ints(list(range(LANES))), _splat(builder, count, LANES))
        g = builder.select(valid, g, _const(0.0))
        inside = builder.and_(builder.fcmp_ordered(">=", t, _const(-MAX_EXP)),
                              builder.fcmp_ordered("<=", t, _const(MAX_EXP)))
        factor = builder.fadd(builder.fpext(e, _VD), _const(1.0, _VD))
        prod = _product(builder, builder.select(builder.and_(inside, valid), factor, _const(1.0, _VD)))
        outside = builder.and_(builder.not_(inside), valid)
        mask = builder.zext(builder.bitcast(outside, ir.IntType(LANES)), ir.IntType(64))
        out = cgutils.get_null_value(context.get_value_type(ret))
        for i in range(k):
            out = builder.insert_value(out, builder.extract_element(g, _I32(i)), i)
        out = builder.insert_value(out, prod, k)
        return builder.insert_value(out, mask, k + 1)

    return ret(z, shifts, labels, alpha, n), codegen
