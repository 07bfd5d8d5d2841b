"""Numba kernels: `@njit(cache=True)` functions over arrays and scalars only.

Numba keys each cached function on its own file only, so a kernel that calls one in another
file would keep running the old callee after that file changed. On import this package
therefore drops its cache whenever any kernel source (or rules/config.py, whose constants are
compiled in) differs from the one it was built from.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def _refresh_cache() -> None:
    here = Path(__file__).parent
    digest = hashlib.sha256()
    # config.py too: numba freezes the module-level constants kernels read
    for src in [*sorted(here.glob("*.py")), here.parent / "config.py"]:
        digest.update(src.name.encode() + src.read_bytes())
    cache = here / "__pycache__"
    stamp = cache / "kernels.sources"
    try:
        if stamp.exists() and stamp.read_text() == digest.hexdigest():
            return
        for f in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
            f.unlink(missing_ok=True)
        cache.mkdir(exist_ok=True)
        stamp.write_text(digest.hexdigest())
    except OSError:  # a read-only install: numba then compiles in memory
        pass


_refresh_cache()
