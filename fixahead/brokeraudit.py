"""Build Fixahead's Mosquitto plugin (fixahead/broker_audit/fixahead_audit.c) and configure it.

The plugin, loaded before the dynamic security plugin, refuses a device anything beyond its
own topics (the rule of fixahead/dynsec.py's device roles) and publishes each refusal, per
client at most once a second with a count, on `devices.topics.acl_notice_topic(prefix)`,
where ingest stores it as a dead letter (reason `acl_denied`). It is compiled with gcc
against Mosquitto's headers (Debian: libmosquitto-dev, mosquitto-dev) into the broker folder;
without them the broker runs without it, and refusals are not reported (said once in the log).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devices.topics import acl_notice_topic
from fixahead.dynsec import SERVICES

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("broker_audit") / "fixahead_audit.c"
LIBRARY = "fixahead_audit.so"
HEADERS = ("mosquitto_broker.h", "mosquitto_plugin.h", "mosquitto.h")
INCLUDE_DIRS = (Path("/usr/include"), Path("/usr/local/include"))
INTERVAL_MS = 1000  # at most one notice per client per this long
_warned: set[str] = set()


@dataclass(frozen=True)
class AuditPlugin:
    """A built plugin and its options, as mosquitto.conf lines."""

    library: Path
    prefix: str
    interval_ms: int = INTERVAL_MS

    def config_lines(self) -> list[str]:
        """The `plugin` line and its `plugin_opt_*` lines (they follow it in the file)."""
        return [f"plugin {self.library}",
                f"plugin_opt_prefix {self.prefix}",
                f"plugin_opt_services {','.join(SERVICES)}",
                f"plugin_opt_notice_topic {acl_notice_topic(self.prefix)}",
                f"plugin_opt_interval_ms {self.interval_ms}"]


def missing_tools() -> str | None:
    """What the build lacks (gcc, a header), or None when it can build."""
    if shutil.which("gcc") is None:
        return "gcc is not installed (apt-get install gcc)"
    for header in HEADERS:
        if not any((d / header).exists() for d in INCLUDE_DIRS):
            return (f"{header} is missing (apt-get install libmosquitto-dev mosquitto-dev)")
    return None


def build(out_dir: Path) -> Path:
    """Compile the plugin into `out_dir` (skipped when the source is unchanged); its path.

    Raises RuntimeError naming what is missing or what gcc said."""
    missing = missing_tools()
    if missing is not None:
        raise RuntimeError(f"the broker audit plugin cannot be built: {missing}")
    source = SOURCE.read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    target = out_dir / LIBRARY
    stamp = out_dir / f".{LIBRARY}.sha256"
    if target.exists() and stamp.exists() and stamp.read_text() == digest:
        return target.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{LIBRARY}.{os.getpid()}"
    done = subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(tmp),
         str(SOURCE)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"gcc could not build the broker audit plugin: {done.stderr.strip()}")
    tmp.chmod(0o755)  # Mosquitto started as root loads it as user `mosquitto`
    os.replace(tmp, target)
    stamp.write_text(digest)
    return target.resolve()


def audit_plugin(out_dir: Path, prefix: str) -> AuditPlugin | None:
    """The plugin built into `out_dir`, or None (logged once per reason) when it cannot be."""
    try:
        return AuditPlugin(build(out_dir), prefix)
    except (RuntimeError, OSError) as exc:
        reason = str(exc)
        if reason not in _warned:
            _warned.add(reason)
            log.warning("%s; Mosquitto runs without it: devices are still confined by the "
                        "dynamic security plugin, but their refused requests are not reported "
                        "(docs/operations.md)", reason)
        return None


def loaded_in(conf: Path) -> Path | None:
    """The audit plugin a mosquitto.conf loads, if it loads one."""
    for line in conf.read_text().splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) == 2 and parts[0] == "plugin" and parts[1].endswith("/" + LIBRARY):
            return Path(parts[1])
    return None
