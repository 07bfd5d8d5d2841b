"""Turn received messages into one batch of rows to write: decode, validate, route. No I/O.

Every message ends in exactly one place: telemetry rows, event rows, a status update, or a
dead letter with its reason. Each message keeps its ack token, in arrival order, so the worker
can acknowledge the whole batch once its transaction has committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from devices import protocol
from devices.contracts import EventRow
from devices.protocol import Limits, ProtocolError, Reason
from devices.registry import DeviceInfo, RegistrySnapshot
from devices.topics import DeviceTopic, acl_notice_topic, parse_topic
from ingest.deadletters import DeadLetter, dead_letter
from ingest.refusals import Refusal, refusal_letter

__all__ = ["Batch", "BatchBuilder", "DeadLetter", "EventRow"]

TOPIC_CACHE_MAX = 200_000  # parsed topics kept; cleared whole when full

# (time ms, device key, seq, kind, code, state, title, severity, known)


@dataclass
class Batch:
    """Rows of one transaction, in columns, plus the ack tokens of every message in it."""

    tokens: list[object] = field(default_factory=list)
    # dedupe keys of accepted telemetry/event messages, and the row span of each
    key_device: list[int] = field(default_factory=list)
    key_seq: list[int] = field(default_factory=list)
    key_rows: list[tuple[int, int]] = field(default_factory=list)
    key_events: list[tuple[int, int]] = field(default_factory=list)
    ts_ms: list[int] = field(default_factory=list)
    device: list[int] = field(default_factory=list)
    metric: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)  # the broker's ACL denials
    statuses: dict[int, tuple[bool, int]] = field(default_factory=dict)
    last_seen: dict[int, int] = field(default_factory=dict)
    duplicates_in_batch: int = 0

    @property
    def messages(self) -> int:
        """How many messages the batch holds (all of them are acked together)."""
        return len(self.tokens)

    @property
    def rows(self) -> int:
        """How many telemetry rows the batch holds."""
        return len(self.ts_ms)


class BatchBuilder:
    """Accumulates messages into a `Batch`; `take()` hands it over and starts a new one."""

    def __init__(
        self,
        registry: RegistrySnapshot,
        limits: Limits,
        prefix: str,
        lookup_device: Callable[[str], DeviceInfo | None] | None = None,
        topics: dict[str, DeviceTopic] | None = None,
        dead_max_bytes: int = 65536,
    ) -> None:
        self.registry = registry
        self.limits = limits
        self.prefix = prefix
        self._notices = acl_notice_topic(prefix)
        self._lookup = lookup_device
        # parsed topics under `prefix`, kept by the caller across batches: a device sends on
        # the same few topics, and parsing validates each part every time
        self._topics = topics
        self.dead_max_bytes = dead_max_bytes
        self._known: dict[str, frozenset[int]] = {}
        self._batch = Batch()
        self._keys: set[tuple[int, int]] = set()

    @property
    def batch(self) -> Batch:
        """The batch being built."""
        return self._batch

    def take(self) -> Batch:
        """Return the current batch and start an empty one."""
        batch, self._batch, self._keys = self._batch, Batch(), set()
        return batch

    def add(self, topic: str, payload: bytes, token: object, now_ms: int) -> None:
        """Route one message into the batch; never raises for bad input."""
        batch = self._batch
        batch.tokens.append(token)
        if topic == self._notices:
            letter, refusal = refusal_letter(topic, payload, self.prefix, self.dead_max_bytes)
            batch.dead.append(letter)
            if refusal is not None:
                batch.refusals.append(refusal)
            return
        device_id: str | None = None
        try:
            topics = self._topics
            parsed = topics.get(topic) if topics is not None else None
            if parsed is None:
                try:
                    parsed = parse_topic(topic, self.prefix)
                except ValueError as exc:
                    raise ProtocolError(Reason.BAD_TOPIC, str(exc)) from None
                if topics is not None:
                    if len(topics) >= TOPIC_CACHE_MAX:
                        topics.clear()
                    topics[topic] = parsed
            device_id = parsed.device_id
            if len(payload) > self.limits.max_message_bytes:
                raise ProtocolError(
                    Reason.OVERSIZED,
                    f"{len(payload)} bytes exceeds the limit {self.limits.max_message_bytes}",
                )
            device = self._device(device_id)
            if parsed.channel == "telemetry":
                self._telemetry(device, payload, now_ms)
            elif parsed.channel == "events":
                self._events(device, payload, now_ms)
            elif parsed.channel == "status":
                if not payload:
                    return  # an empty retained message clears the status: nothing to store
                status = protocol.decode_status(payload)
                batch.statuses[device.key] = (status.online, now_ms)
            else:
                raise ProtocolError(Reason.BAD_TOPIC, f"channel {parsed.channel!r} is not ingested")
            seen = batch.last_seen.get(device.key, 0)
            if now_ms > seen:
                batch.last_seen[device.key] = now_ms
        except ProtocolError as exc:
            batch.dead.append(dead_letter(topic, self.prefix, exc.reason, exc.detail, payload,
                                          self.dead_max_bytes, device_id))
        except Exception as exc:  # a decoder bug must not stop the worker: keep the bytes
            batch.dead.append(dead_letter(topic, self.prefix, "internal_error", repr(exc)[:500],
                                          payload, self.dead_max_bytes, device_id))

    def _device(self, device_id: str) -> DeviceInfo:
        device = self.registry.devices.get(device_id)
        if device is None and self._lookup is not None:
            device = self._lookup(device_id)
        if device is None:
            raise ProtocolError(Reason.UNKNOWN_DEVICE, f"device {device_id!r} is not registered")
        if device.revoked:
            raise ProtocolError(Reason.REVOKED_DEVICE, f"device {device_id!r} is revoked")
        return device

    def _check_time(self, ts: int, now_ms: int, where: str) -> None:
        if ts > now_ms + self.limits.max_future_skew_ms:
            raise ProtocolError(Reason.TS_FUTURE, f"{where}: {ts} is ahead of the receiver clock")
        if ts < now_ms - self.limits.max_past_age_ms:
            raise ProtocolError(Reason.TS_PAST, f"{where}: {ts} is older than the accepted age")

    def _check_device(self, stated: str | None, device: DeviceInfo) -> None:
        if stated is not None and stated != device.device_id:
            raise ProtocolError(
                Reason.DEVICE_MISMATCH,
                f"payload device {stated!r} differs from topic device {device.device_id!r}",
            )

    def _is_duplicate(self, device: DeviceInfo, seq: int) -> bool:
        key = (device.key, seq)
        if key in self._keys:
            self._batch.duplicates_in_batch += 1
            return True
        self._keys.add(key)
        return False

    def _telemetry(self, device: DeviceInfo, payload: bytes, now_ms: int) -> None:
        msg = protocol.decode_telemetry(payload, self.limits.max_samples)
        self._check_device(msg.device, device)
        model = self.registry.models.get(device.model_id)
        if model is None:
            raise ProtocolError(Reason.UNKNOWN_METRIC, f"model {device.model_id!r} has no catalog")
        if msg.metrics and type(msg.metrics[0]) is str:
            names = model.metric_ids
            try:
                ids = [names[m] for m in msg.metrics]  # type: ignore[index]
            except KeyError as exc:
                i = msg.metrics.index(exc.args[0])  # type: ignore[arg-type]
                raise ProtocolError(
                    Reason.UNKNOWN_METRIC,
                    f"samples[{i}].metric: {exc.args[0]!r} is not a metric of {model.model_id}",
                ) from None
        else:
            ids = msg.metrics  # type: ignore[assignment]
            known = self._known.get(model.model_id)
            if known is None:  # the model's property builds a new set on every call
                known = self._known[model.model_id] = model.metric_id_set
            for i, m in enumerate(ids):
                if m not in known:
                    raise ProtocolError(
                        Reason.UNKNOWN_METRIC,
                        f"samples[{i}].metric: id {m} is not a metric of {model.model_id}",
                    )
        lo = now_ms - self.limits.max_past_age_ms
        hi = now_ms + self.limits.max_future_skew_ms
        if min(msg.ts_ms) < lo or max(msg.ts_ms) > hi:
            for i, ts in enumerate(msg.ts_ms):
                self._check_time(ts, now_ms, f"samples[{i}].ts")
        if self._is_duplicate(device, msg.seq):
            return
        batch = self._batch
        start = len(batch.ts_ms)
        batch.ts_ms.extend(msg.ts_ms)
        batch.metric.extend(ids)
        batch.value.extend(msg.values)
        batch.device.extend([device.key] * len(ids))
        batch.key_device.append(device.key)
        batch.key_seq.append(msg.seq)
        batch.key_rows.append((start, len(batch.ts_ms)))
        batch.key_events.append((len(batch.events), len(batch.events)))

    def _events(self, device: DeviceInfo, payload: bytes, now_ms: int) -> None:
        msg = protocol.decode_events(payload, self.limits.max_samples)
        self._check_device(msg.device, device)
        for i, e in enumerate(msg.events):
            self._check_time(e.ts_ms, now_ms, f"events[{i}].ts")
        if self._is_duplicate(device, msg.seq):
            return
        model = self.registry.models.get(device.model_id)
        codes = model.codes if model else {}
        batch = self._batch
        start = len(batch.events)
        for e in msg.events:
            title = severity = None
            known = True
            if e.code is not None:
                entry = codes.get(e.code)
                known = entry is not None
                if entry:
                    title, severity = entry
            batch.events.append(EventRow(e.ts_ms, device.key, msg.seq, e.type, e.code, e.state,
                                         title, severity, known))
        batch.key_device.append(device.key)
        batch.key_seq.append(msg.seq)
        batch.key_rows.append((len(batch.ts_ms), len(batch.ts_ms)))
        batch.key_events.append((start, len(batch.events)))
