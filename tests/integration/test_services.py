"""Service actions: get_plan, set_departure and force_mode, with every validation error translated."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nordic_v2h.const import DOMAIN, OperatingMode
from custom_components.nordic_v2h.services import _next_occurrence_utc

from .owner_helpers import state_of


async def call(
    hass: HomeAssistant, service: str, data: dict[str, Any], *, response: bool = False
) -> Any:
    """Call one of the integration's actions and wait for its effects."""
    result = await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=response
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    return result


async def test_get_plan_returns_the_decision_and_plan(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """get_plan answers with the decision, the next departure and one entry per planned quarter."""
    response = await call(
        hass, "get_plan", {"config_entry_id": init_integration.entry_id}, response=True
    )
    assert response["mode"] == "auto"
    assert response["decision"] == state_of(hass, "sensor", "decision")
    assert response["reason"] == state_of(hass, "sensor", "decision_reason")
    assert response["target_soc_pct"] == 80.0
    assert dt_util.parse_datetime(response["next_departure"]) > dt_util.utcnow()
    plan = response["plan"]
    assert plan is not None
    assert plan["slots"]
    first = plan["slots"][0]
    assert set(first) == {
        "start",
        "duration_s",
        "power_w",
        "soc_pct_end",
        "grid_import_kwh",
        "grid_export_kwh",
    }
    # The first slot runs from now to the end of the current quarter.
    assert 0 < first["duration_s"] <= 900


async def test_set_departure_one_off_trip(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Without weekdays the time is the next trip, with its own target; the daily time is unchanged."""
    await call(
        hass,
        "set_departure",
        {"config_entry_id": init_integration.entry_id, "time": "05:30:00", "target_soc": 95},
    )
    settings = init_integration.runtime_data.settings.current
    assert settings.trip_departure_utc is not None
    assert timedelta(0) < settings.trip_departure_utc - dt_util.utcnow() <= timedelta(days=1)
    assert settings.trip_target_soc_pct == 95
    assert settings.departure_time == time(7, 0)
    response = await call(
        hass, "get_plan", {"config_entry_id": init_integration.entry_id}, response=True
    )
    assert response["target_soc_pct"] == 95
    assert dt_util.parse_datetime(response["next_departure"]) == settings.trip_departure_utc


async def test_set_departure_weekly_schedule(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """With weekdays the time repeats on those days, merged into the existing schedule."""
    entry_id = init_integration.entry_id
    await call(
        hass,
        "set_departure",
        {"config_entry_id": entry_id, "time": "07:30", "weekdays": ["mon", "tue"]},
    )
    await call(
        hass,
        "set_departure",
        {"config_entry_id": entry_id, "time": "06:00", "weekdays": ["TUE"], "target_soc": 85},
    )
    settings = init_integration.runtime_data.settings.current
    assert settings.departure_schedule == ((0, time(7, 30)), (1, time(6, 0)))
    assert settings.target_soc_pct == 85
    assert settings.trip_departure_utc is None


async def test_force_mode_for_a_while(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """force_mode sets the mode with an end time."""
    start = dt_util.utcnow()
    await call(
        hass,
        "force_mode",
        {"config_entry_id": init_integration.entry_id, "mode": "idle", "duration": {"minutes": 45}},
    )
    settings = init_integration.runtime_data.settings.current
    assert settings.mode is OperatingMode.IDLE
    assert settings.mode_until_utc is not None
    assert timedelta(minutes=45) <= settings.mode_until_utc - start < timedelta(minutes=46)
    assert state_of(hass, "sensor", "decision_reason") == "mode_idle"


@pytest.mark.parametrize(
    ("service", "data", "translation_key"),
    [
        pytest.param(
            "get_plan", {"config_entry_id": "nope"}, "entry_not_found", id="get_plan_unknown_entry"
        ),
        pytest.param(
            "set_departure",
            {"config_entry_id": "nope", "time": "07:00"},
            "entry_not_found",
            id="departure_unknown_entry",
        ),
        pytest.param(
            "set_departure",
            {"time": "07:00", "target_soc": 140},
            "invalid_target_soc",
            id="target_above_100",
        ),
        pytest.param(
            "set_departure",
            {"time": "07:00", "target_soc": 10},
            "min_soc_above_target",
            id="target_below_min",
        ),
        pytest.param(
            "set_departure",
            {"time": "07:00", "weekdays": ["funday"]},
            "invalid_weekdays",
            id="unknown_weekday",
        ),
        pytest.param(
            "set_departure",
            {"time": "07:00", "weekdays": []},
            "invalid_weekdays",
            id="empty_weekdays",
        ),
        pytest.param(
            "force_mode",
            {"mode": "auto", "duration": {"minutes": 5}},
            "invalid_mode",
            id="auto_not_forceable",
        ),
        pytest.param(
            "force_mode",
            {"mode": "turbo", "duration": {"minutes": 5}},
            "invalid_mode",
            id="unknown_mode",
        ),
        pytest.param(
            "force_mode",
            {"mode": "charge_now", "duration": {"seconds": 10}},
            "invalid_duration",
            id="duration_too_short",
        ),
        pytest.param(
            "force_mode",
            {"mode": "charge_now", "duration": {"days": 2}},
            "invalid_duration",
            id="duration_too_long",
        ),
    ],
)
async def test_invalid_calls_are_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    service: str,
    data: dict[str, Any],
    translation_key: str,
) -> None:
    """Bad input raises a translated ServiceValidationError and changes nothing."""
    before = init_integration.runtime_data.settings.current
    payload = {"config_entry_id": init_integration.entry_id, **data}
    with pytest.raises(ServiceValidationError) as excinfo:
        await call(hass, service, payload, response=service == "get_plan")
    assert excinfo.value.translation_domain == DOMAIN
    assert excinfo.value.translation_key == translation_key
    assert init_integration.runtime_data.settings.current == before


async def test_entry_not_loaded(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """An unloaded entry is refused with entry_not_loaded."""
    await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    with pytest.raises(ServiceValidationError) as excinfo:
        await call(hass, "get_plan", {"config_entry_id": init_integration.entry_id}, response=True)
    assert excinfo.value.translation_key == "entry_not_loaded"


async def test_other_domain_entry_is_not_found(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """An entry of another integration is not a Nordic V2H entry."""
    other = MockConfigEntry(domain="sun")
    other.add_to_hass(hass)
    with pytest.raises(ServiceValidationError) as excinfo:
        await call(hass, "get_plan", {"config_entry_id": other.entry_id}, response=True)
    assert excinfo.value.translation_key == "entry_not_found"


@pytest.mark.parametrize(
    ("moment", "now", "expected"),
    [
        pytest.param(
            time(7, 0),
            datetime(2026, 11, 24, 5, 0, tzinfo=UTC),
            datetime(2026, 11, 24, 6, 0, tzinfo=UTC),
            id="later_today",
        ),
        pytest.param(
            time(5, 0),
            datetime(2026, 11, 24, 5, 0, tzinfo=UTC),
            datetime(2026, 11, 25, 4, 0, tzinfo=UTC),
            id="passed_means_tomorrow",
        ),
        # 25 October 2026 repeats 02:00-03:00: at 02:10 of the second pass, 02:30 of the
        # first (00:30 UTC) is gone.
        pytest.param(
            time(2, 30),
            datetime(2026, 10, 25, 1, 10, tzinfo=UTC),
            datetime(2026, 10, 26, 1, 30, tzinfo=UTC),
            id="repeated_autumn_hour_second_pass",
        ),
    ],
)
def test_a_trip_time_is_its_next_occurrence(
    moment: time, now: datetime, expected: datetime
) -> None:
    """A trip's clock time is the next moment the Oslo clock shows it, never one gone."""
    assert _next_occurrence_utc(moment, now) == expected
