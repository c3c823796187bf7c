"""The house's hourly import, measured from the configured power sensor, for the capacity tariff.

The grid company bills the month's step from each day's highest clock-hour import (kWh per
hour, Europe/Oslo). The tracker integrates the house power sensor over time (each reading
holds until the next; export counts as zero; while the sensor is unknown or unavailable
nothing is counted), closes every clock hour on the hour, and keeps the finished hours of the
last five weeks: this month's daily peaks come from them, and so does the history of the
load forecast. They are saved in Home Assistant's storage and survive restarts; at start-up
the hours missing from storage are filled from the recorder's hourly statistics ("mean") of
the sensor where the recorder runs. The time Home Assistant was down is not counted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import math
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, UnitOfPower
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers.event import async_track_state_change_event, async_track_utc_time_change
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER, STORAGE_VERSION
from .core.timeseries import HOUR_S, OSLO

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    from numpy.typing import NDArray

# Hours kept: this month's peaks need at most 31 days, the load forecast four weeks.
KEEP_HOURS: Final = 35 * 24
SAVE_DELAY_S: Final = 60


def power_w_from_state(state: State | None) -> float | None:
    """Return a power sensor's reading in W (kW converted), None when it has no number."""
    if state is None or state.state in (STATE_UNKNOWN, STATE_UNAVAILABLE):
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return (
        value * 1000.0
        if state.attributes.get("unit_of_measurement") == UnitOfPower.KILO_WATT
        else value
    )


def hour_start_s(moment: datetime) -> int:
    """Return the start of the clock hour containing a moment, as a UTC epoch second."""
    epoch = int(moment.timestamp())
    return epoch - epoch % HOUR_S


def local_day(epoch_s: int) -> date:
    """Return the Europe/Oslo day of an instant."""
    return datetime.fromtimestamp(epoch_s, tz=UTC).astimezone(OSLO).date()


class PeakTracker:
    """Integrates the house's import per clock hour and keeps this month's daily peaks."""

    def __init__(self, hass: HomeAssistant, entry_id: str, entity_id: str) -> None:
        """Create the tracker of one house power sensor."""
        self.hass = hass
        self.entity_id = entity_id
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.peaks"
        )
        # Finished hours: UTC epoch of the hour's start -> kWh imported.
        self.hours_kwh: dict[int, float] = {}
        self.running_start_s = hour_start_s(dt_util.utcnow())
        self.running_kwh = 0.0
        self._sample_w: float | None = None
        self._sample_utc: datetime | None = None
        self._unsubscribers: list[CALLBACK_TYPE] = []
        self._listeners: list[Callable[[], None]] = []

    # --- life cycle ---------------------------------------------------------------------

    async def async_start(self) -> None:
        """Load the stored hours, fill gaps from the recorder and follow the sensor."""
        now = dt_util.utcnow()
        self._restore(await self._store.async_load(), now)
        await self._async_fill_from_recorder(now)
        self._take_sample(power_w_from_state(self.hass.states.get(self.entity_id)), now)
        self._unsubscribers.append(
            async_track_state_change_event(self.hass, self.entity_id, self._async_state_changed)
        )
        self._unsubscribers.append(
            async_track_utc_time_change(self.hass, self._async_hour_tick, minute=0, second=0)
        )

    async def async_stop(self) -> None:
        """Stop following the sensor and save what was measured."""
        while self._unsubscribers:
            self._unsubscribers.pop()()
        self._advance(dt_util.utcnow())
        await self._store.async_save(self._to_dict())

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `listener` after every new reading or finished hour; return its remover."""
        self._listeners.append(listener)

        @callback
        def remove() -> None:
            self._listeners.remove(listener)

        return remove

    # --- measuring ----------------------------------------------------------------------

    @callback
    def _async_state_changed(self, event: Event[EventStateChangedData]) -> None:
        """Count the energy up to this reading, then hold the new reading."""
        self._take_sample(power_w_from_state(event.data["new_state"]), dt_util.utcnow())
        self._notify()

    @callback
    def _async_hour_tick(self, now: datetime) -> None:
        """Close the clock hour that just ended."""
        self._advance(dt_util.utcnow())
        self._notify()

    def _take_sample(self, power_w: float | None, now: datetime) -> None:
        """Integrate the held reading up to now and hold a new one."""
        self._advance(now)
        self._sample_w = power_w
        self._sample_utc = now

    def _advance(self, now: datetime) -> None:
        """Integrate the held reading up to now, closing every clock hour passed on the way."""
        start = self._sample_utc
        import_kw = max(self._sample_w or 0.0, 0.0) / 1000.0 if self._sample_w is not None else None
        now_s = now.timestamp()
        moment_s = start.timestamp() if start is not None else now_s
        while True:
            hour_end_s = self.running_start_s + HOUR_S
            upto_s = min(now_s, hour_end_s)
            if import_kw is not None and upto_s > moment_s:
                self.running_kwh += import_kw * (upto_s - moment_s) / HOUR_S
            moment_s = max(moment_s, upto_s)
            if now_s < hour_end_s:
                break
            self._close_hour(hour_end_s)
        if start is not None:
            self._sample_utc = now

    def _close_hour(self, next_start_s: int) -> None:
        """Store the running hour as finished and start the next one."""
        self.hours_kwh[self.running_start_s] = round(self.running_kwh, 6)
        self.running_start_s = next_start_s
        self.running_kwh = 0.0
        oldest = next_start_s - KEEP_HOURS * HOUR_S
        for key in [key for key in self.hours_kwh if key < oldest]:
            del self.hours_kwh[key]
        # Saved once per finished hour: saving on every reading would keep postponing the write.
        self._store.async_delay_save(self._to_dict, SAVE_DELAY_S)

    @callback
    def _notify(self) -> None:
        """Tell the listeners that the measurements changed."""
        for listener in list(self._listeners):
            listener()

    # --- reading ------------------------------------------------------------------------

    @property
    def power_w(self) -> float | None:
        """Return the latest reading of the house sensor (W, negative when exporting)."""
        return self._sample_w

    def running_hour_kwh(self, now: datetime) -> float:
        """Return the import so far in the running clock hour, up to now."""
        self._advance(now)
        return self.running_kwh

    def projected_hour_kwh(self, now: datetime) -> float:
        """Return the running hour's import if the house keeps drawing what it draws now."""
        so_far = self.running_hour_kwh(now)
        left_h = (self.running_start_s + HOUR_S - now.timestamp()) / HOUR_S
        return so_far + max(self._sample_w or 0.0, 0.0) / 1000.0 * max(left_h, 0.0)

    def daily_peaks_kwh(self, now: datetime) -> dict[date, float]:
        """Return each local day of this month with its highest finished clock hour (kWh)."""
        today = now.astimezone(OSLO).date()
        peaks: dict[date, float] = {}
        for start_s, kwh in self.hours_kwh.items():
            day = local_day(start_s)
            if (day.year, day.month) == (today.year, today.month):
                peaks[day] = max(peaks.get(day, 0.0), kwh)
        return peaks

    def top_days(self, now: datetime, count: int = 3) -> list[tuple[date, float]]:
        """Return this month's highest days, highest first."""
        peaks = self.daily_peaks_kwh(now)
        return sorted(peaks.items(), key=lambda item: (-item[1], item[0]))[:count]

    def history_kw(self, now: datetime, hours: int) -> NDArray[np.float64]:
        """Return the mean power (kW) of the last `hours` finished clock hours, NaN where missing."""
        import numpy as np  # noqa: PLC0415 - numpy only where the forecast needs it

        last_s = hour_start_s(now) - HOUR_S
        return np.array(
            [
                self.hours_kwh.get(last_s - HOUR_S * back, math.nan)
                for back in range(hours - 1, -1, -1)
            ],
            dtype=np.float64,
        )

    def known_hours(self) -> int:
        """Return how many finished hours are kept."""
        return len(self.hours_kwh)

    # --- storage ------------------------------------------------------------------------

    def _to_dict(self) -> dict[str, Any]:
        """Return what is saved: finished hours and the running hour so far."""
        return {
            "hours": {str(start_s): kwh for start_s, kwh in sorted(self.hours_kwh.items())},
            "running_start_s": self.running_start_s,
            "running_kwh": self.running_kwh,
        }

    def _restore(self, stored: dict[str, Any] | None, now: datetime) -> None:
        """Take over the stored hours; the running hour continues if it is still running."""
        if not stored:
            return
        current_s = hour_start_s(now)
        oldest = current_s - KEEP_HOURS * HOUR_S
        try:
            hours = {int(key): float(value) for key, value in dict(stored.get("hours", {})).items()}
            running_start_s = int(stored.get("running_start_s", 0))
            running_kwh = float(stored.get("running_kwh", 0.0))
        except (TypeError, ValueError) as error:
            LOGGER.warning("Ignoring unreadable stored peaks: %s", error)
            return
        self.hours_kwh = {
            key: value
            for key, value in hours.items()
            if oldest <= key < current_s and math.isfinite(value) and value >= 0
        }
        if running_start_s == current_s and math.isfinite(running_kwh) and running_kwh >= 0:
            self.running_kwh = running_kwh
        elif oldest <= running_start_s < current_s and running_kwh > 0:
            # The hour ended while Home Assistant was down: what was counted is a lower bound.
            self.hours_kwh.setdefault(running_start_s, running_kwh)

    async def _async_fill_from_recorder(self, now: datetime) -> None:
        """Fill finished hours of this month missing from storage with the recorder's hourly means."""
        if "recorder" not in self.hass.config.components:
            return
        from homeassistant.components.recorder import get_instance  # noqa: PLC0415
        from homeassistant.components.recorder.statistics import statistics_during_period  # noqa: PLC0415

        local_now = now.astimezone(OSLO)
        start = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
        start = max(start, now - timedelta(hours=KEEP_HOURS))
        end = datetime.fromtimestamp(hour_start_s(now), tz=UTC)
        try:
            result = await get_instance(self.hass).async_add_executor_job(
                statistics_during_period,
                self.hass,
                start,
                end,
                {self.entity_id},
                "hour",
                None,
                {"mean"},
            )
        except Exception as error:  # noqa: BLE001 - history is a bonus; start without it
            LOGGER.warning("Could not read the house power statistics: %s", error)
            return
        state = self.hass.states.get(self.entity_id)
        factor = (
            1.0
            if state is not None
            and state.attributes.get("unit_of_measurement") == UnitOfPower.KILO_WATT
            else 0.001
        )
        added = 0
        for row in result.get(self.entity_id, []):
            mean = row.get("mean")
            start_value = row.get("start")
            if mean is None or start_value is None:
                continue
            # Recorder statistics give the hour's start as a UTC timestamp (float).
            start_s = int(float(start_value))
            if start_s not in self.hours_kwh and start_s < hour_start_s(now):
                # The hour's mean power is its energy; export within the hour lowers it (a lower bound).
                self.hours_kwh[start_s] = round(max(float(mean), 0.0) * factor, 6)
                added += 1
        LOGGER.debug("Filled %s hours of house import from the recorder", added)
