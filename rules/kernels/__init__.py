"""Numba kernels: `@njit(cache=True)` functions over arrays and scalars only."""
