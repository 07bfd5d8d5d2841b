"""Our $7$ hashes and Debian's mosquitto_passwd agree, both ways."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from devices.credentials import verify_secret

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("mosquitto_passwd") is None,
                       reason="needs mosquitto_passwd: apt-get install mosquitto"),
]


def test_a_fresh_mosquitto_passwd_hash_verifies_in_python(tmp_path: Path) -> None:
    pwfile = tmp_path / "pw"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pwfile), "dev-1", "Sesame-42"],
                   check=True, capture_output=True)
    user, stored = pwfile.read_text().strip().split(":", 1)
    assert user == "dev-1" and stored.startswith("$7$")
    assert verify_secret("Sesame-42", stored)
    assert not verify_secret("sesame-42", stored)
