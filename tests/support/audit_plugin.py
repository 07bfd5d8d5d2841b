"""Fixahead's Mosquitto audit plugin, built with a harness of stubs and loaded with ctypes, so
its rule and its notices can be tested without a broker."""

from __future__ import annotations

import ctypes
import json
import subprocess
from pathlib import Path

from fixahead.brokeraudit import SOURCE

HARNESS = Path(__file__).with_name("audit_harness.c")
READ, WRITE, SUBSCRIBE, UNSUBSCRIBE = 1, 2, 4, 8
DEFER, DENIED = 17, 12  # MOSQ_ERR_PLUGIN_DEFER, MOSQ_ERR_ACL_DENIED


class AuditPlugin:
    """One loaded copy of the plugin (its state is the library's: build one per test)."""

    def __init__(self, out: Path, prefix: str, services: str, notice_topic: str,
                 interval_ms: int) -> None:
        lib = out / "audit_harness.so"
        subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-Wall", "-Werror",
                        f"-I{SOURCE.parent}", "-o", str(lib), str(HARNESS)], check=True)
        self._lib = ctypes.CDLL(str(lib))
        self._lib.harness_published.restype = ctypes.c_char_p
        rc = self._lib.harness_init(prefix.encode(), services.encode(), notice_topic.encode(),
                                    str(interval_ms).encode())
        if rc != 0:
            raise ValueError(f"plugin init refused its options: {rc}")

    def check(self, username: str | None, topic: str, access: int,
              client_id: str | None = None) -> int:
        """The plugin's answer to one ACL check."""
        user = username.encode() if username is not None else None
        cid = (client_id if client_id is not None else username or "").encode()
        return int(self._lib.harness_check(cid, user, topic.encode(), access))

    def tick(self) -> None:
        """One broker tick."""
        self._lib.harness_tick()

    def published(self) -> list[tuple[str, int, dict]]:
        """(topic, QoS, notice) of everything published since the last call."""
        text = (self._lib.harness_published() or b"").decode()
        self._lib.harness_clear()
        out = []
        for line in text.splitlines():
            topic, qos, payload = line.split(" ", 2)
            out.append((topic, int(qos), json.loads(payload)))
        return out

    def close(self) -> None:
        """Run the plugin's cleanup."""
        self._lib.harness_cleanup()
