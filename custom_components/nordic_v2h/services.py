"""Service actions: read the plan, set the next departure or a weekly schedule, force a mode for a while."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from .const import DOMAIN, MAX_BOOST_DURATION_MIN, OperatingMode
from .core.timeseries import OSLO
from .settings import WEEKDAYS, ControlSettings
from .validation import vol

if TYPE_CHECKING:
    from .controller import ControlStatus
    from .core.types import Plan
    from .data import NordicV2HConfigEntry

# Not in homeassistant.const before 2025.6, so spelled out here.
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
SERVICE_GET_PLAN: Final = "get_plan"
SERVICE_SET_DEPARTURE: Final = "set_departure"
SERVICE_FORCE_MODE: Final = "force_mode"

ATTR_DURATION: Final = "duration"
ATTR_MODE: Final = "mode"
ATTR_TARGET_SOC: Final = "target_soc"
ATTR_TIME: Final = "time"
ATTR_WEEKDAYS: Final = "weekdays"

# Auto is where a forced mode returns to, so forcing it makes no sense.
FORCEABLE_MODES: Final = [mode.value for mode in OperatingMode if mode is not OperatingMode.AUTO]

GET_PLAN_SCHEMA: Final = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})
SET_DEPARTURE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_TIME): cv.time,
        vol.Optional(ATTR_TARGET_SOC): vol.Coerce(float),
        vol.Optional(ATTR_WEEKDAYS): vol.All(cv.ensure_list, [cv.string]),
    }
)
FORCE_MODE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_MODE): cv.string,
        vol.Required(ATTR_DURATION): cv.time_period,
    }
)


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    """Return a translated validation error."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def get_loaded_entry(hass: HomeAssistant, entry_id: str) -> NordicV2HConfigEntry:
    """Return the targeted Nordic V2H entry, or raise a translated error if it is missing or not loaded."""
    entry: NordicV2HConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise _invalid("entry_not_found", entry_id=entry_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise _invalid("entry_not_loaded", title=entry.title)
    return entry


def _iso(moment: datetime | None) -> str | None:
    """Return an instant as ISO 8601 in UTC, or None."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def plan_as_dict(plan: Plan | None) -> dict[str, Any] | None:
    """Return a plan as JSON-safe data: one entry per slot with its power and the state of charge it leads to."""
    if plan is None:
        return None
    return {
        "created": _iso(plan.created_utc),
        "decision": plan.decision.value,
        "reason": plan.reason.value,
        "expected_cost_nok": round(plan.expected_cost_nok, 4),
        "departure_shortfall_kwh": round(plan.departure_shortfall_kwh, 4),
        "soc_assumed": plan.soc_assumed,
        "slots": [
            {
                "start": _iso(slot.start_utc),
                "duration_s": slot.duration_s,
                "power_w": round(slot.power_w, 1),
                "soc_pct_end": None if slot.soc_pct_end is None else round(slot.soc_pct_end, 2),
                "grid_import_kwh": round(slot.grid_import_kwh, 4),
                "grid_export_kwh": round(slot.grid_export_kwh, 4),
            }
            for slot in plan.slots
        ],
    }


def status_as_dict(
    status: ControlStatus, settings: ControlSettings, now_utc: datetime
) -> dict[str, Any]:
    """Return the controller's decision, the departure it works towards and its plan."""
    departure_utc, target_soc_pct = settings.next_departure(now_utc)
    return {
        "decision": status.decision.value,
        "reason": status.reason.value,
        "setpoint_w": status.setpoint_w,
        "updated": _iso(status.updated_utc),
        "mode": settings.mode.value,
        "mode_until": _iso(settings.mode_until_utc),
        "next_departure": _iso(departure_utc),
        "target_soc_pct": target_soc_pct,
        "plan": plan_as_dict(status.plan),
    }


async def _async_get_plan(call: ServiceCall) -> ServiceResponse:
    """Return the current decision and plan of one charger."""
    entry = get_loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    data = entry.runtime_data
    return status_as_dict(data.controller.data, data.settings.current, dt_util.utcnow())


def _next_occurrence_utc(moment: time, now_utc: datetime) -> datetime:
    """Return the next time the local clock (Europe/Oslo) shows `moment`."""
    local_now = now_utc.astimezone(OSLO)
    for offset in (0, 1, 2):
        candidate = datetime.combine(local_now.date() + timedelta(days=offset), moment, tzinfo=OSLO)
        # In UTC, as in `ControlSettings.next_departure`: local times ignore the repeated hour.
        if candidate.astimezone(UTC) > now_utc:
            return candidate.astimezone(UTC)
    raise AssertionError("unreachable: a clock time recurs within two days")


async def _async_set_departure(call: ServiceCall) -> None:
    """Set the next trip (time and target) or a weekly schedule of departure times."""
    entry = get_loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    settings = entry.runtime_data.settings
    moment: time = call.data[ATTR_TIME].replace(second=0, microsecond=0)
    target_soc_pct: float | None = call.data.get(ATTR_TARGET_SOC)
    if target_soc_pct is not None:
        if not 0 <= target_soc_pct <= 100:
            raise _invalid("invalid_target_soc", target_soc=f"{target_soc_pct:g}")
        if target_soc_pct < settings.current.min_soc_pct:
            raise _invalid(
                "min_soc_above_target",
                min_soc=f"{settings.current.min_soc_pct:g}",
                target_soc=f"{target_soc_pct:g}",
            )
    if ATTR_WEEKDAYS not in call.data:
        settings.async_update(
            trip_departure_utc=_next_occurrence_utc(moment, dt_util.utcnow()),
            trip_target_soc_pct=target_soc_pct,
        )
        return
    days: list[str] = [day.lower() for day in call.data[ATTR_WEEKDAYS]]
    if not days or (unknown := sorted(set(days) - set(WEEKDAYS))):
        raise _invalid("invalid_weekdays", weekdays=", ".join(unknown if days else []))
    schedule = dict(settings.current.departure_schedule)
    schedule.update(dict.fromkeys((WEEKDAYS.index(day) for day in days), moment))
    changes: dict[str, Any] = {"departure_schedule": tuple(sorted(schedule.items()))}
    if target_soc_pct is not None:
        changes["target_soc_pct"] = target_soc_pct
    settings.async_update(**changes)


async def _async_force_mode(call: ServiceCall) -> None:
    """Use a mode for a while, then return to Auto."""
    entry = get_loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    mode_value: str = call.data[ATTR_MODE]
    duration: timedelta = call.data[ATTR_DURATION]
    if mode_value not in FORCEABLE_MODES:
        raise _invalid("invalid_mode", mode=mode_value, modes=", ".join(FORCEABLE_MODES))
    if not timedelta(minutes=1) <= duration <= timedelta(minutes=MAX_BOOST_DURATION_MIN):
        raise _invalid(
            "invalid_duration", duration=str(duration), max_minutes=str(MAX_BOOST_DURATION_MIN)
        )
    mode = OperatingMode(mode_value)
    if (
        mode is OperatingMode.DISCHARGE
        and not entry.runtime_data.transport.capabilities.can_discharge
    ):
        raise _invalid("discharge_not_supported")
    await entry.runtime_data.controller.async_force_mode(mode, duration)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's service actions (once, for every entry)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_PLAN,
        _async_get_plan,
        schema=GET_PLAN_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_SET_DEPARTURE, _async_set_departure, schema=SET_DEPARTURE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_FORCE_MODE, _async_force_mode, schema=FORCE_MODE_SCHEMA
    )
