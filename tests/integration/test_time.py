"""The departure time entity and how the next departure is found (trip, weekly schedule, daily)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nordic_v2h.const import OperatingMode
from custom_components.nordic_v2h.settings import ControlSettings

from .helpers import entity_id_for
from .owner_helpers import call_entity_service, state_of

# 2026-11-24 is a Tuesday; Oslo is UTC+1 in November, UTC+2 in summer.
TUESDAY_0600_UTC = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


async def test_departure_time_entity(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The entity shows 07:00 by default, stores a new time to the minute and is a config entity."""
    assert state_of(hass, "time", "departure_time") == "07:00:00"
    await call_entity_service(hass, "time", "departure_time", "set_value", {"time": "06:45:30"})
    assert init_integration.runtime_data.settings.current.departure_time == time(6, 45)
    assert state_of(hass, "time", "departure_time") == "06:45:00"
    entry = er.async_get(hass).async_get(entity_id_for(hass, "time", "departure_time"))
    assert entry is not None
    assert entry.entity_category is EntityCategory.CONFIG


@pytest.mark.parametrize(
    ("settings", "now", "departure", "target"),
    [
        pytest.param(
            ControlSettings(departure_time=time(8, 0)),
            TUESDAY_0600_UTC,
            datetime(2026, 11, 24, 7, 0, tzinfo=UTC),
            80.0,
            id="daily_time_later_today",
        ),
        pytest.param(
            ControlSettings(departure_time=time(6, 30)),
            TUESDAY_0600_UTC,
            datetime(2026, 11, 25, 5, 30, tzinfo=UTC),
            80.0,
            id="daily_time_passed_means_tomorrow",
        ),
        pytest.param(
            ControlSettings(departure_time=time(6, 30), departure_schedule=((2, time(9, 15)),)),
            TUESDAY_0600_UTC,
            datetime(2026, 11, 25, 8, 15, tzinfo=UTC),
            80.0,
            id="wednesday_schedule_overrides_daily_time",
        ),
        pytest.param(
            ControlSettings(
                departure_time=time(8, 0),
                trip_departure_utc=datetime(2026, 11, 26, 4, 0, tzinfo=UTC),
                trip_target_soc_pct=100.0,
            ),
            TUESDAY_0600_UTC,
            datetime(2026, 11, 26, 4, 0, tzinfo=UTC),
            100.0,
            id="one_off_trip_wins_with_its_target",
        ),
        pytest.param(
            ControlSettings(
                departure_time=time(8, 0),
                trip_departure_utc=datetime(2026, 11, 24, 5, 0, tzinfo=UTC),
                trip_target_soc_pct=100.0,
            ),
            TUESDAY_0600_UTC,
            datetime(2026, 11, 24, 7, 0, tzinfo=UTC),
            80.0,
            id="passed_trip_is_ignored",
        ),
        pytest.param(
            ControlSettings(departure_time=time(7, 0)),
            datetime(2026, 6, 1, 4, 0, tzinfo=UTC),
            datetime(2026, 6, 1, 5, 0, tzinfo=UTC),
            80.0,
            id="summer_time_is_oslo_local",
        ),
        # 25 October 2026 repeats 02:00-03:00; at 02:10 of the second pass (CET) the 02:30
        # of the first pass (CEST, 00:30 UTC) is gone: the next is tomorrow's.
        pytest.param(
            ControlSettings(departure_time=time(2, 30)),
            datetime(2026, 10, 25, 1, 10, tzinfo=UTC),
            datetime(2026, 10, 26, 1, 30, tzinfo=UTC),
            80.0,
            id="repeated_autumn_hour_second_pass",
        ),
        pytest.param(
            ControlSettings(departure_time=time(2, 30)),
            datetime(2026, 10, 25, 0, 10, tzinfo=UTC),
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
            80.0,
            id="repeated_autumn_hour_first_pass",
        ),
        # 29 March 2026 skips 02:00-03:00: a 02:30 departure that day is at 03:30 CEST.
        pytest.param(
            ControlSettings(departure_time=time(2, 30)),
            datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
            datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
            80.0,
            id="skipped_spring_hour",
        ),
    ],
)
def test_next_departure(
    settings: ControlSettings, now: datetime, departure: datetime, target: float
) -> None:
    """The next departure and its target come from the trip, the weekly schedule or the daily time."""
    assert settings.next_departure(now) == (departure, target)


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(ControlSettings(), id="defaults"),
        pytest.param(
            ControlSettings(
                mode=OperatingMode.CHARGE_NOW,
                departure_schedule=((0, time(7, 30)), (4, time(6, 0))),
                trip_departure_utc=datetime(2026, 12, 1, 5, 0, tzinfo=UTC),
                trip_target_soc_pct=95.0,
                mode_until_utc=datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
                main_fuse_import_w=11000,
            ),
            id="every_new_field_set",
        ),
    ],
)
def test_settings_round_trip(settings: ControlSettings) -> None:
    """What is stored comes back unchanged."""
    assert ControlSettings.from_dict(settings.to_dict()) == settings


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        pytest.param(
            {"departure_schedule": {"someday": "07:00"}},
            ControlSettings(),
            id="unknown_weekday_ignored",
        ),
        pytest.param(
            {"departure_schedule": "07:00"}, ControlSettings(), id="schedule_not_a_mapping_ignored"
        ),
        pytest.param(
            {"mode_until_utc": "2026-11-24T08:00:00"}, ControlSettings(), id="naive_instant_ignored"
        ),
        pytest.param(
            {"trip_target_soc_pct": "lots"}, ControlSettings(), id="non_numeric_target_ignored"
        ),
    ],
)
def test_bad_stored_settings_fall_back_to_defaults(
    stored: dict[str, object], expected: ControlSettings
) -> None:
    """Damaged storage never crashes setup; the field keeps its default."""
    assert ControlSettings.from_dict(stored) == expected
