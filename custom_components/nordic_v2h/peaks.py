"""The house's hourly import, measured from the configured power sensor, for the capacity tariff.

The grid company bills the month's step from each day's highest clock-hour import (kWh per
hour, Europe/Oslo). The tracker integrates the house power sensor over time (each reading
holds until the next; export counts as zero; while the sensor is unknown or unavailable
nothing is counted), closes every clock hour on the hour, and keeps the finished hours of the
last five weeks: this month's daily peaks come from them. From the charger's readings it
also counts per hour the house's own draw (the meter minus the car), the car's net charge
and whether the car was plugged in: the load forecast learns from the house alone and the
month target from the hours the car was home. Everything is saved in Home Assistant's
storage and survives restarts; at start-up the meter's hours missing from storage are
filled from the recorder's hourly statistics ("mean") of the sensor where the recorder
runs. The time Home Assistant was down is not counted.
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

from .const import LOGGER, PEAKS_PART, STORAGE_VERSION, storage_key
from .core.timeseries import HOUR_S, OSLO

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import numpy as np
    from numpy.typing import NDArray

# Hours kept: this month's peaks need at most 31 days, the load forecast four weeks.
KEEP_HOURS: Final = 35 * 24
HOURS_PER_DAY: Final = 24
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


class HourlyEnergy:
    """A held reading integrated per clock hour: kWh per hour for a reading in kW.

    Each reading holds until the next; while the reading is unknown (None) nothing is
    counted, and an hour nothing was counted in at all is not stored. Finished hours are
    keyed by the UTC epoch of their start.
    """

    def __init__(self, running_start_s: int) -> None:
        """Start counting in the clock hour that starts at `running_start_s`."""
        self.hours: dict[int, float] = {}
        self.running_start_s = running_start_s
        self.running = 0.0
        self.counted = False
        self.value_kw: float | None = None
        self._since_s: float | None = None

    def hold(self, value_kw: float | None, now_s: float) -> None:
        """Count the held reading up to now, then hold a new one."""
        self.advance(now_s)
        self.value_kw = value_kw
        self._since_s = now_s

    def advance(self, now_s: float) -> None:
        """Count the held reading up to now, closing every clock hour passed on the way."""
        moment_s = self._since_s if self._since_s is not None else now_s
        while True:
            hour_end_s = self.running_start_s + HOUR_S
            upto_s = min(now_s, hour_end_s)
            if self.value_kw is not None and upto_s > moment_s:
                self.running += self.value_kw * (upto_s - moment_s) / HOUR_S
                self.counted = True
            moment_s = max(moment_s, upto_s)
            if now_s < hour_end_s:
                break
            if self.counted:
                self.hours[self.running_start_s] = round(self.running, 6)
            self.running_start_s = hour_end_s
            self.running = 0.0
            self.counted = False
        if self._since_s is not None:
            self._since_s = now_s

    def forget_before(self, oldest_s: int) -> None:
        """Drop the finished hours that start before `oldest_s`."""
        for key in [key for key in self.hours if key < oldest_s]:
            del self.hours[key]

    def to_dict(self) -> dict[str, Any]:
        """Return the finished hours and the running hour so far, for storage."""
        return {
            "hours": {str(start_s): value for start_s, value in sorted(self.hours.items())},
            "running_start_s": self.running_start_s,
            "running": self.running if self.counted else None,
        }

    def restore(self, stored: Any, current_s: int, oldest_s: int, *, signed: bool = False) -> None:
        """Take over stored hours; the running hour continues if it is still running."""
        if not isinstance(stored, dict):
            return
        try:
            hours = {int(key): float(value) for key, value in dict(stored.get("hours", {})).items()}
            running_start_s = int(stored.get("running_start_s", 0))
            running = stored.get("running")
            running = None if running is None else float(running)
        except (TypeError, ValueError) as error:
            LOGGER.warning("Ignoring unreadable stored hours: %s", error)
            return

        def valid(value: float) -> bool:
            return math.isfinite(value) and (signed or value >= 0)

        self.hours = {
            key: value
            for key, value in hours.items()
            if oldest_s <= key < current_s and valid(value)
        }
        if running is None or not valid(running):
            return
        if running_start_s == current_s:
            self.running = running
            self.counted = True
        elif oldest_s <= running_start_s < current_s and running != 0.0:
            # The hour ended while Home Assistant was down: what was counted is a lower bound.
            self.hours.setdefault(running_start_s, running)


class PeakTracker:
    """Integrates the house's import per clock hour and keeps this month's daily peaks.

    Besides the meter's import it counts, from the charger's readings, what the house drew
    on its own (the meter minus the car), the car's net charge and the share of each hour
    the car was plugged in: the load forecast and the month outlook want the house without
    the car, and the days the car was away at the house's peak.
    """

    def __init__(self, hass: HomeAssistant, entry_id: str, entity_id: str) -> None:
        """Create the tracker of one house power sensor."""
        self.hass = hass
        self.entity_id = entity_id
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, storage_key(entry_id, PEAKS_PART)
        )
        running_start_s = hour_start_s(dt_util.utcnow())
        # The meter's import (billed), the house without the car, the car's net charge
        # (charging positive) and the hours plugged in (1 while plugged in).
        self._import = HourlyEnergy(running_start_s)
        self._house = HourlyEnergy(running_start_s)
        self._car = HourlyEnergy(running_start_s)
        self._plugged = HourlyEnergy(running_start_s)
        self._meter_w: float | None = None
        self._car_w: float | None = None
        self._unsubscribers: list[CALLBACK_TYPE] = []
        self._listeners: list[Callable[[], None]] = []

    @property
    def hours_kwh(self) -> dict[int, float]:
        """Finished hours of the meter: UTC epoch of the hour's start -> kWh imported."""
        return self._import.hours

    @property
    def running_kwh(self) -> float:
        """Return the meter's import counted so far in the running clock hour."""
        return self._import.running

    @property
    def running_start_s(self) -> int:
        """Return the start of the running clock hour (UTC epoch s)."""
        return self._import.running_start_s

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

    @callback
    def hold_car(self, power_w: float | None, plugged_in: bool | None, now: datetime) -> None:
        """Take a charger reading: its power (W, charging positive) and whether a car is in.

        None marks an unknown reading (the charger unreachable): the house then counts the
        whole meter, and neither the car's charge nor its presence is counted.
        """
        now_s = now.timestamp()
        self._advance(now)
        self._car_w = power_w
        self._car.hold(None if power_w is None else power_w / 1000.0, now_s)
        self._plugged.hold(None if plugged_in is None else float(plugged_in), now_s)
        self._hold_house(now_s)

    def _take_sample(self, power_w: float | None, now: datetime) -> None:
        """Integrate the held reading up to now and hold a new one."""
        now_s = now.timestamp()
        self._advance(now)
        self._meter_w = power_w
        # Export counts as zero import.
        self._import.hold(None if power_w is None else max(power_w, 0.0) / 1000.0, now_s)
        self._hold_house(now_s)

    def _hold_house(self, now_s: float) -> None:
        """Hold the house's own draw: the meter minus what the car takes (or plus what it gives)."""
        if self._meter_w is None:
            self._house.hold(None, now_s)
            return
        self._house.hold(max(self._meter_w - (self._car_w or 0.0), 0.0) / 1000.0, now_s)

    def _advance(self, now: datetime) -> None:
        """Integrate the held readings up to now, closing every clock hour passed on the way."""
        now_s = now.timestamp()
        closed = self._import.running_start_s
        for series in self._series:
            series.advance(now_s)
        if self._import.running_start_s != closed:
            oldest = self._import.running_start_s - KEEP_HOURS * HOUR_S
            for series in self._series:
                series.forget_before(oldest)
            # Saved once per finished hour: saving on every reading would keep postponing it.
            self._store.async_delay_save(self._to_dict, SAVE_DELAY_S)

    @property
    def _series(self) -> tuple[HourlyEnergy, ...]:
        return (self._import, self._house, self._car, self._plugged)

    @callback
    def _notify(self) -> None:
        """Tell the listeners that the measurements changed."""
        for listener in list(self._listeners):
            listener()

    # --- reading ------------------------------------------------------------------------

    @property
    def power_w(self) -> float | None:
        """Return the latest reading of the house sensor (W, negative when exporting)."""
        return self._meter_w

    def running_hour_kwh(self, now: datetime) -> float:
        """Return the import so far in the running clock hour, up to now."""
        self._advance(now)
        return self._import.running

    def projected_hour_kwh(self, now: datetime) -> float:
        """Return the running hour's import if the house keeps drawing what it draws now."""
        so_far = self.running_hour_kwh(now)
        left_h = (self._import.running_start_s + HOUR_S - now.timestamp()) / HOUR_S
        return so_far + max(self._meter_w or 0.0, 0.0) / 1000.0 * max(left_h, 0.0)

    def _this_month_hours(self, now: datetime) -> Iterator[tuple[date, float]]:
        """Yield the local day and the meter's kWh of each finished hour of this month."""
        today = now.astimezone(OSLO).date()
        for start_s, kwh in self._import.hours.items():
            day = local_day(start_s)
            if (day.year, day.month) == (today.year, today.month):
                yield day, kwh

    def daily_peaks_kwh(self, now: datetime) -> dict[date, float]:
        """Return each local day of this month with its highest finished clock hour (kWh)."""
        peaks: dict[date, float] = {}
        for day, kwh in self._this_month_hours(now):
            peaks[day] = max(peaks.get(day, 0.0), kwh)
        return peaks

    def month_import_kwh(self, now: datetime) -> float:
        """Return the meter's import this local month so far, the running hour included."""
        finished = sum(kwh for _, kwh in self._this_month_hours(now))
        return finished + self.running_hour_kwh(now)

    def top_days(self, now: datetime, count: int = 3) -> list[tuple[date, float]]:
        """Return this month's highest days, highest first."""
        peaks = self.daily_peaks_kwh(now)
        return sorted(peaks.items(), key=lambda item: (-item[1], item[0]))[:count]

    def _last_hours(self, now: datetime, hours: int) -> list[int]:
        """Return the starts of the last `hours` finished clock hours, oldest first."""
        last_s = hour_start_s(now) - HOUR_S
        return [last_s - HOUR_S * back for back in range(hours - 1, -1, -1)]

    def history_kw(self, now: datetime, hours: int) -> NDArray[np.float64]:
        """Return the house's own mean power (kW) of the last `hours` finished clock hours.

        The house without the car where the charger was read; the whole meter where only
        the meter is known (hours from the recorder); NaN where nothing is known.
        """
        import numpy as np  # noqa: PLC0415 - numpy only where the forecast needs it

        house, meter = self._house.hours, self._import.hours
        return np.array(
            [
                house.get(start_s, meter.get(start_s, math.nan))
                for start_s in self._last_hours(now, hours)
            ],
            dtype=np.float64,
        )

    def presence(self, now: datetime, hours: int) -> NDArray[np.bool_]:
        """Return per finished hour (as `history_kw`) whether the car was plugged in at all.

        An hour with no charger reading counts as plugged in: the car is assumed home.
        """
        import numpy as np  # noqa: PLC0415

        plugged = self._plugged.hours
        return np.array(
            [plugged.get(start_s, 1.0) > 0.0 for start_s in self._last_hours(now, hours)],
            dtype=np.bool_,
        )

    def car_kwh(self, now: datetime, hours: int) -> NDArray[np.float64]:
        """Return the car's net charge (kWh, discharge negative) per finished hour, NaN if unread."""
        import numpy as np  # noqa: PLC0415

        car = self._car.hours
        return np.array(
            [car.get(start_s, math.nan) for start_s in self._last_hours(now, hours)],
            dtype=np.float64,
        )

    def drive_kwh_per_day(self, now: datetime, hours: int) -> float:
        """Return the car's net charge per day over the last `hours` (what driving takes).

        0 with less than a day of charger readings.
        """
        import numpy as np  # noqa: PLC0415

        car = self.car_kwh(now, hours)
        known = car[~np.isnan(car)]
        if len(known) < HOURS_PER_DAY:
            return 0.0
        return max(float(known.sum()), 0.0) / (len(known) / HOURS_PER_DAY)

    def known_hours(self) -> int:
        """Return how many finished hours are kept."""
        return len(self._import.hours)

    # --- storage ------------------------------------------------------------------------

    def _to_dict(self) -> dict[str, Any]:
        """Return what is saved: finished hours and the running hour so far, per series."""
        meter = self._import
        return {
            "hours": {str(start_s): kwh for start_s, kwh in sorted(meter.hours.items())},
            "running_start_s": meter.running_start_s,
            "running_kwh": meter.running,
            "house": self._house.to_dict(),
            "car": self._car.to_dict(),
            "plugged": self._plugged.to_dict(),
        }

    def _restore(self, stored: dict[str, Any] | None, now: datetime) -> None:
        """Take over the stored hours; the running hour continues if it is still running."""
        if not stored:
            return
        current_s = hour_start_s(now)
        oldest = current_s - KEEP_HOURS * HOUR_S
        # The meter's hours keep the layout of the first version (no "running" key).
        self._import.restore(
            {
                "hours": stored.get("hours", {}),
                "running_start_s": stored.get("running_start_s", 0),
                "running": stored.get("running_kwh"),
            },
            current_s,
            oldest,
        )
        self._house.restore(stored.get("house"), current_s, oldest)
        self._car.restore(stored.get("car"), current_s, oldest, signed=True)
        self._plugged.restore(stored.get("plugged"), current_s, oldest)

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
            if start_s not in self._import.hours and start_s < hour_start_s(now):
                # The hour's mean power is its energy; export within the hour lowers it (a lower bound).
                self._import.hours[start_s] = round(max(float(mean), 0.0) * factor, 6)
                added += 1
        LOGGER.debug("Filled %s hours of house import from the recorder", added)
