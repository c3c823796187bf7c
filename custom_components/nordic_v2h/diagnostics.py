"""Diagnostics: everything needed to replay a decision, with the charger's address and serial redacted."""

from __future__ import annotations

from dataclasses import asdict
import math
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_LATITUDE, CONF_LONGITUDE, CONF_UNIQUE_ID
from homeassistant.util import dt as dt_util

from .planning import FORECAST_HISTORY_HOURS
from .services import status_as_dict

if TYPE_CHECKING:
    from datetime import datetime

    from homeassistant.core import HomeAssistant

    from .coordinator import PriceData
    from .data import NordicV2HConfigEntry
    from .peaks import PeakTracker

# An MQTT charger's device id is its serial (and the entry's unique id): hidden like one.
TO_REDACT: Final = {
    CONF_HOST,
    CONF_LATITUDE,
    CONF_LONGITUDE,
    CONF_UNIQUE_ID,
    "device_id",
    "serial",
    "title",
}


def _prices_as_dict(prices: PriceData | None) -> dict[str, Any] | None:
    """Return the price series as JSON-safe data (NaN gaps become None)."""
    if prices is None:
        return None
    spot = prices.spot
    return {
        "currency": prices.currency,
        "fetched": prices.fetched_utc.isoformat(),
        "has_tomorrow": prices.has_tomorrow,
        "start": spot.start_utc.isoformat(),
        "slot_s": spot.slot_s,
        "values_per_kwh": [None if math.isnan(value) else value for value in spot.values],
    }


def _house_as_dict(tracker: PeakTracker | None, now: datetime) -> dict[str, Any] | None:
    """Return what the planner learns from the house meter (None without a meter)."""
    if tracker is None:
        return None
    history = tracker.history_kw(now, FORECAST_HISTORY_HOURS)
    car = tracker.car_kwh(now, FORECAST_HISTORY_HOURS)
    return {
        "entity_id": tracker.entity_id,
        "known_hours": tracker.known_hours(),
        "running_hour_kwh": round(tracker.running_hour_kwh(now), 3),
        "daily_peaks_kwh": {
            day.isoformat(): kwh for day, kwh in sorted(tracker.daily_peaks_kwh(now).items())
        },
        # The last four weeks of finished hours, oldest first (None where not measured).
        "history_kw": [None if math.isnan(value) else float(value) for value in history],
        "car_kwh": [None if math.isnan(value) else float(value) for value in car],
        "plugged_in": [bool(value) for value in tracker.presence(now, FORECAST_HISTORY_HOURS)],
        "drive_kwh_per_day": round(tracker.drive_kwh_per_day(now, FORECAST_HISTORY_HOURS), 3),
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: NordicV2HConfigEntry
) -> dict[str, Any]:
    """Return the entry, the charger, the settings, the prices, the last plan and the house."""
    data = entry.runtime_data
    charger = data.charger_coordinator
    prices = data.price_coordinator
    state = asdict(charger.data) if charger.data is not None else None
    now = dt_util.utcnow()
    return {
        "entry": async_redact_data(
            {
                "title": entry.title,
                "unique_id": entry.unique_id,
                "version": f"{entry.version}.{entry.minor_version}",
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            TO_REDACT,
        ),
        "charger": async_redact_data(
            {
                "identity": asdict(data.identity),
                "capabilities": asdict(data.transport.capabilities),
                "last_state": state,
                "last_update_success": charger.last_update_success,
                "last_success": None
                if charger.last_success_utc is None
                else charger.last_success_utc.isoformat(),
            },
            TO_REDACT,
        ),
        "settings": data.settings.current.to_dict(),
        "prices": {
            "last_update_success": prices.last_update_success,
            "failed_attempts": prices.failed_attempts,
            "series": _prices_as_dict(prices.data),
        },
        "controller": {
            "in_control": data.controller.in_control,
            "last_written_w": data.controller.last_written_w,
            "last_written": None
            if data.controller.last_written_utc is None
            else data.controller.last_written_utc.isoformat(),
            "setpoint_keepalive_s": data.transport.setpoint_keepalive_s,
            "house_meter_stuck": data.controller.house_meter_stuck,
            **status_as_dict(data.controller.data, data.settings.current, now),
        },
        "house": _house_as_dict(data.peak_tracker, now),
    }
