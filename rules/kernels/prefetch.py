"""`prefetch(a, idx)`: a non-blocking hint to load a[idx] into cache (LLVM intrinsic)."""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, arr, idx):
    """Hint the CPU to fetch the cache line holding arr[idx]: an integer index for 1-D
    arrays, a tuple of integers (row, col) for 2-D ones. No bounds check: a hint to an
    address outside the array is harmless, but callers pass indexes inside it."""
    if isinstance(idx, types.BaseTuple):
        if len(idx) != arr.ndim or not all(isinstance(t, types.Integer) for t in idx):
            return None
    elif not (isinstance(idx, types.Integer) and arr.ndim == 1):
        return None
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        a, ix = args
        aryty, ixty = signature.args
        ary = context.make_array(aryty)(context, builder, a)
        if isinstance(ixty, types.BaseTuple):
            parts = cgutils.unpack_tuple(builder, ix, len(ixty))
            kinds = list(ixty)
        else:
            parts, kinds = [ix], [ixty]
        ind = [context.cast(builder, v, t, types.intp) for v, t in zip(parts, kinds, strict=True)]
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, ind)
        i8p = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p.type, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        # read, high locality, data cache
        builder.call(fn, [i8p, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen
