"""An in-memory snapshot of the registry: what ingest needs to accept or reject a message."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelInfo:
    """A model's metrics (by name and id) and its error codes."""

    model_id: str
    metric_ids: dict[str, int]
    codes: dict[str, tuple[str, str]]  # code -> (title, severity)

    @property
    def metric_id_set(self) -> frozenset[int]:
        """The metric ids of this model."""
        return frozenset(self.metric_ids.values())


@dataclass(frozen=True)
class DeviceInfo:
    """A registered device: its numeric key in telemetry, its model, whether it is revoked."""

    key: int
    device_id: str
    model_id: str
    revoked: bool = False


@dataclass(frozen=True)
class RegistrySnapshot:
    """Devices by id and models by id, as loaded at one moment."""

    devices: dict[str, DeviceInfo] = field(default_factory=dict)
    models: dict[str, ModelInfo] = field(default_factory=dict)
