"""Rules owns rule files, the rule compiler, Numba kernels, streaming detectors, and
incidents with their lifecycle."""
