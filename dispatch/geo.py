"""Distances and travel times between coordinates (pure)."""

from __future__ import annotations

import math

EARTH_KM = 6371.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def travel_s(lat1: float, lon1: float, lat2: float, lon2: float, speed_kmh: float) -> int:
    """Travel time in whole seconds at an average speed."""
    return math.ceil(haversine_km(lat1, lon1, lat2, lon2) / speed_kmh * 3600.0)
