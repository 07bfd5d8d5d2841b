"""`prefetch(a, row, col)`: a non-blocking hint to load a[row, col] into cache (LLVM intrinsic)."""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, arr, row, col):
    """Hint the CPU to fetch the cache line holding arr[row, col] (2-D arrays)."""
    sig = types.void(arr, row, col)

    def codegen(context, builder, signature, args):
        a, r, c = args
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, a)
        r = context.cast(builder, r, signature.args[1], types.intp)
        c = context.cast(builder, c, signature.args[2], types.intp)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [r, c])
        i8p = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p.type, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        # read, high locality, data cache
        builder.call(fn, [i8p, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen
