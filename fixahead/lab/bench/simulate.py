"""`fixahead bench simulate`: how fast the simulator generates and publishes fleet traffic.

Publishes pre-encoded messages (`simulator.traffic.pre_encode`) over QoS 1 from one process
and, as the baseline in the same run, the same messages through a paho client (1,000 in
flight). Uses FIXAHEAD_MQTT_URL, else a temporary Mosquitto with the project's config.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fixahead.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _broker(settings: Settings) -> Iterator[str]:
    if settings.mqtt_url:
        yield settings.mqtt_url
        return
    from fixahead.mosquitto import mosquitto_binary, running, write_config

    if mosquitto_binary() is None:
        raise RuntimeError("no FIXAHEAD_MQTT_URL and no mosquitto binary (apt install mosquitto)")
    with tempfile.TemporaryDirectory(prefix="fxbench-") as tmp:
        port = _free_port()
        with running(write_config(Path(tmp), port=port), port):
            yield f"mqtt://127.0.0.1:{port}"


def _paho_rate(url: str, messages: list[tuple[str, bytes]]) -> float:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from simulator.mqtt import parse_url

    addr = parse_url(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    if addr.username:
        client.username_pw_set(addr.username, addr.password)
    client.connect(addr.host, addr.port)
    client.loop_start()
    started = time.perf_counter()
    infos = [client.publish(t, p, qos=1) for t, p in messages]
    for info in infos:
        info.wait_for_publish(120)
    rate = len(messages) / (time.perf_counter() - started)
    client.disconnect()
    client.loop_stop()
    return rate


def run(settings: Settings, *, quick: bool) -> dict[str, Any]:
    """Generate, then publish; compare with paho on the same messages."""
    from simulator.publisher import FleetPublisher
    from simulator.traffic import pre_encode

    households, days = (40, 2) if quick else (200, 5)
    prefix = f"fxbench/{int(time.time())}/v1"
    started = time.perf_counter()
    messages = pre_encode(households, days, seed=1, prefix=prefix)
    generate_s = time.perf_counter() - started
    items = [(t.split("/")[-2], t, p, 0) for t, p in messages]
    nbytes = sum(len(p) for _, p in messages)
    baseline_n = min(len(messages), 20000)
    with _broker(settings) as url:
        with FleetPublisher(url, connections=2, window=20000, client_prefix="fxbench") as pub:
            t0 = time.perf_counter()
            progress = pub.run(items)
            publish_s = time.perf_counter() - t0
        paho = _paho_rate(url, messages[:baseline_n])
    rate = progress.published / publish_s
    return {
        "bench": "simulate",
        "metrics": {"publish_msgs_per_s": rate, "publish_mb_per_s": nbytes / publish_s / 1e6,
                    "generate_msgs_per_s": len(messages) / generate_s,
                    "acked": progress.acked, "messages": len(messages)},
        "baselines": {"paho_publish_msgs_per_s": paho},
        "ratios": {"publish_vs_paho": rate / paho},
        "config": {"households": households, "days": days, "connections": 2,
                   "window": 20000, "mean_payload_bytes": nbytes / len(messages),
                   "paho_messages": baseline_n, "paho_inflight": 1000, "quick": quick},
    }
