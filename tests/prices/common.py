"""Loading of the Nord Pool fixtures and independent expectations computed from them."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent.parent / "fixtures" / "nordpool"


def load_fixture(name: str) -> dict[str, Any]:
    """Return a fixture: origin, request (url, params), status and body."""
    fixture: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return fixture


def entries(fixture: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the data-portal entries of a fixture's body."""
    rows: list[dict[str, Any]] = fixture["body"]["multiIndexEntries"]
    return rows


def utc(text: str) -> datetime:
    """Parse an ISO-8601 time with a Z or an offset."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def hourly_means_per_kwh(fixture: dict[str, Any], area: str) -> list[float]:
    """Return the mean price of each UTC hour in currency/kWh, straight from the body."""
    by_hour: dict[datetime, list[float]] = defaultdict(list)
    for row in entries(fixture):
        start = utc(row["deliveryStart"])
        by_hour[start.replace(minute=0)].append(row["entryPerArea"][area] / 1000)
    return [sum(values) / len(values) for _, values in sorted(by_hour.items())]
