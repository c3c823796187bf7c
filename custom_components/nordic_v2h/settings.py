"""The owner's control settings, persisted across restarts.

Settings change from entities (select, number, time, switch) and services many times a day,
so they live in the integration's own storage rather than in the config entry's options,
which would reload the entry on every change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .const import LOGGER, SETTINGS_PART, STORAGE_VERSION, OperatingMode, storage_key
from .core.timeseries import OSLO

if TYPE_CHECKING:
    from collections.abc import Callable

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlSettings:
    """What the owner asked for; every power in W, every state of charge in %."""

    mode: OperatingMode = OperatingMode.AUTO
    departure_time: time = time(7, 0)
    target_soc_pct: float = 80.0
    min_soc_pct: float = 30.0
    battery_kwh: float = 40.0
    max_charge_power_w: int = 7400
    max_discharge_power_w: int = 7400
    allow_v2h: bool = True
    allow_export: bool = False
    main_fuse_import_w: int | None = None
    # Weekday (0 = Monday) -> departure time; days not listed use `departure_time`.
    departure_schedule: tuple[tuple[int, time], ...] = ()
    # A one-off trip that replaces the regular departure until it has passed.
    trip_departure_utc: datetime | None = None
    trip_target_soc_pct: float | None = None
    # A forced mode (Charge now, Discharge, ...) returns to Auto at this instant.
    mode_until_utc: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dictionary for storage and diagnostics."""
        data = asdict(self)
        data["mode"] = self.mode.value
        data["departure_time"] = self.departure_time.isoformat(timespec="minutes")
        data["departure_schedule"] = {
            WEEKDAYS[weekday]: moment.isoformat(timespec="minutes")
            for weekday, moment in self.departure_schedule
        }
        for key in ("trip_departure_utc", "mode_until_utc"):
            moment = getattr(self, key)
            data[key] = None if moment is None else moment.isoformat()
        return data

    def next_departure(self, now_utc: datetime) -> tuple[datetime, float]:
        """Return the next departure (aware, UTC) and the state of charge wanted by then.

        A one-off trip still ahead wins; otherwise the weekday schedule, and the daily
        departure time on days the schedule does not list.
        """
        if self.trip_departure_utc is not None and self.trip_departure_utc > now_utc:
            target = (
                self.target_soc_pct
                if self.trip_target_soc_pct is None
                else self.trip_target_soc_pct
            )
            return self.trip_departure_utc.astimezone(UTC), target
        schedule = dict(self.departure_schedule)
        local_now = now_utc.astimezone(OSLO)
        # Eight days always include the next departure, since every day has one.
        for offset in range(8):
            day = local_now.date() + timedelta(days=offset)
            departure = datetime.combine(
                day, schedule.get(day.weekday(), self.departure_time), tzinfo=OSLO
            )
            # Compared in UTC: on the autumn night that repeats 02:00-03:00, a comparison of
            # local times ignores which pass is meant and can return one already gone.
            if departure.astimezone(UTC) > now_utc:
                return departure.astimezone(UTC), self.target_soc_pct
        raise AssertionError("unreachable: every day has a departure")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ControlSettings:
        """Rebuild settings from storage, keeping defaults for anything missing or invalid."""
        defaults = cls()
        values: dict[str, Any] = {}
        for key, default in asdict(defaults).items():
            if key not in data:
                continue
            raw = data[key]
            try:
                if key == "mode":
                    values[key] = OperatingMode(raw)
                elif key == "departure_time":
                    values[key] = time.fromisoformat(raw)
                elif key == "main_fuse_import_w":
                    values[key] = None if raw is None else int(raw)
                elif key == "departure_schedule":
                    values[key] = tuple(
                        sorted(
                            (WEEKDAYS.index(day), time.fromisoformat(moment))
                            for day, moment in raw.items()
                        )
                    )
                elif key in ("trip_departure_utc", "mode_until_utc"):
                    values[key] = None if raw is None else _aware_utc(datetime.fromisoformat(raw))
                elif key == "trip_target_soc_pct":
                    values[key] = None if raw is None else float(raw)
                elif isinstance(default, bool):
                    values[key] = bool(raw)
                else:
                    values[key] = type(default)(raw)
            except (AttributeError, TypeError, ValueError):
                LOGGER.warning("Ignoring stored setting %s=%r; using the default", key, raw)
        return replace(defaults, **values)


def _aware_utc(moment: datetime) -> datetime:
    """Return a stored instant as aware UTC, rejecting naive ones."""
    if moment.tzinfo is None:
        raise ValueError("stored instant has no time zone")
    return moment.astimezone(UTC)


class SettingsStore:
    """Holds the current settings, saves them lazily and tells listeners about changes."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Create the store for one config entry."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, storage_key(entry_id, SETTINGS_PART)
        )
        self.current = ControlSettings()
        self._listeners: list[Callable[[], None]] = []

    async def async_load(self) -> None:
        """Load stored settings, if any."""
        if (stored := await self._store.async_load()) is not None:
            self.current = ControlSettings.from_dict(stored)

    @callback
    def async_update(self, **changes: Any) -> None:
        """Change settings, persist them within a few seconds and notify listeners."""
        self.current = replace(self.current, **changes)
        self._store.async_delay_save(self.current.to_dict, 2)
        for listener in list(self._listeners):
            listener()

    async def async_flush(self) -> None:
        """Write the settings now, so a change just before an unload or reload is not lost."""
        await self._store.async_save(self.current.to_dict())

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every change; return a function that removes it."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            self._listeners.remove(listener)

        return remove
