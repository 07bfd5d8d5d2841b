#!/usr/bin/env python3
"""Bootstrap: create .venv, install the project, and run it or its tests.

    python3 dev.py run     # the platform on embedded defaults
    python3 dev.py test    # the whole test suite
Extra arguments are passed on (to `fixahead up` or to pytest).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".installed"


def ensure_venv() -> None:
    """Create the virtual environment and (re)install when pyproject.toml changed."""
    if not (BIN / "python").exists():
        print("creating .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != digest:
        print("installing fixahead and its dependencies into .venv ...", flush=True)
        pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
        STAMP.write_text(digest)


def main() -> None:
    """Dispatch `run` or `test`."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script must explain, not crash
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test"):
        sys.exit(__doc__)
    ensure_venv()
    command, rest = sys.argv[1], sys.argv[2:]
    os.chdir(ROOT)
    if command == "run":
        os.execv(str(BIN / "fixahead"), [str(BIN / "fixahead"), "up", *rest])
    os.execv(str(BIN / "python"), [str(BIN / "python"), "-m", "pytest", *rest])


if __name__ == "__main__":
    main()
