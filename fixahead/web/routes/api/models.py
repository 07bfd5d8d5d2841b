"""Appliance models and their telemetry metrics (any role)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from psycopg.rows import dict_row

from devices.customerstore import NotFound
from fixahead.web.deps import ConnDep, ViewerDep

router = APIRouter(prefix="/models", tags=["models"])


@router.get("")
def list_models(conn: ConnDep, _: ViewerDep) -> list[dict[str, Any]]:
    """Every appliance model of the catalog."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT model_id, kind, manufacturer, name, catalog_version "
                           "FROM models ORDER BY model_id").fetchall()


@router.get("/{model_id}")
def get_model(model_id: str, conn: ConnDep, _: ViewerDep) -> dict[str, Any]:
    """A model with its metrics (protocol ids, units, ranges, sample periods)."""
    with conn.cursor(row_factory=dict_row) as cur:
        model = cur.execute("SELECT model_id, kind, manufacturer, name, catalog_version "
                            "FROM models WHERE model_id = %s", (model_id,)).fetchone()
        if model is None:
            raise NotFound(f"model {model_id!r} is not in the catalog")
        model["metrics"] = cur.execute(
            """SELECT metric_id AS id, name, unit, valid_min, valid_max, typical_min,
                      typical_max, period_s, description
               FROM model_metrics WHERE model_id = %s ORDER BY metric_id""",
            (model_id,)).fetchall()
    return model
