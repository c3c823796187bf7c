"""Data update coordinators: the charger (seconds), prices (clock-aligned) and the plan (quarters)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import CHARGER_POLL_INTERVAL, DOMAIN, LOGGER
from .core.timeseries import OSLO, QUARTER_S, SlotSeries, floor_to_slot, local_day_bounds_utc
from .prices.base import PriceSource, PriceSourceError
from .prices.schedule import next_fetch_utc
from .transport import (
    ChargerState,
    ChargerTransport,
    TransportConnectionError,
    TransportError,
    TransportTimeoutError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from .data import NordicV2HConfigEntry


def _coordinator_exception_handler[CoordinatorT: DataUpdateCoordinator[Any], **P, R](
    func: Callable[Concatenate[CoordinatorT, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[CoordinatorT, P], Coroutine[Any, Any, R]]:
    """Map charger and price errors to translated `UpdateFailed` errors, in one place."""

    @wraps(func)
    async def handler(self: CoordinatorT, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await func(self, *args, **kwargs)
        except TransportTimeoutError as error:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="charger_not_responding",
                translation_placeholders={"error": str(error)},
            ) from error
        except TransportConnectionError as error:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="charger_unreachable",
                translation_placeholders={"error": str(error)},
            ) from error
        except TransportError as error:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="charger_error",
                translation_placeholders={"error": str(error)},
            ) from error
        except PriceSourceError as error:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="prices_unavailable",
                translation_placeholders={"error": str(error)},
            ) from error

    return handler


class ChargerCoordinator(DataUpdateCoordinator[ChargerState]):
    """Polls the charger every few seconds and keeps its watchdog fed."""

    config_entry: NordicV2HConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: NordicV2HConfigEntry, transport: ChargerTransport
    ) -> None:
        """Create the coordinator for one charger."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{entry.title} charger",
            update_interval=CHARGER_POLL_INTERVAL,
            always_update=False,
        )
        self.transport = transport
        self.last_success_utc: datetime | None = None
        # Counts good readings, so that a reading can be told to come after an event.
        self.readings_taken = 0

    @_coordinator_exception_handler
    async def _async_update_data(self) -> ChargerState:
        """Read the charger's state; any request also counts as traffic for its watchdog."""
        state = await self.transport.read_state()
        self.last_success_utc = dt_util.utcnow()
        self.readings_taken += 1
        return state


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceData:
    """Spot prices in the entry's currency per kWh, excl. VAT, on quarter-hour slots.

    The series starts at the beginning of today (Europe/Oslo) and covers tomorrow once it is
    published; slots with no price are NaN and listed by `SlotSeries.gaps()`.
    """

    spot: SlotSeries
    currency: str
    fetched_utc: datetime
    has_tomorrow: bool


class PriceCoordinator(DataUpdateCoordinator[PriceData]):
    """Fetches today's and tomorrow's prices on Nord Pool's clock and ticks every quarter.

    There is no fixed update interval: the next fetch time comes from the price schedule
    (tomorrow from 13:00 Europe/Oslo, retried with backoff), and listeners are also called
    at every quarter-hour so "price now" entities change exactly on the boundary.
    """

    config_entry: NordicV2HConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: NordicV2HConfigEntry, source: PriceSource, currency: str
    ) -> None:
        """Create the coordinator for one price source."""
        super().__init__(
            hass, LOGGER, config_entry=entry, name=f"{entry.title} prices", update_interval=None
        )
        self.source = source
        self.currency = currency
        self.failed_attempts = 0
        self._unsub_fetch: CALLBACK_TYPE | None = None
        self._unsub_tick: CALLBACK_TYPE | None = None
        self._timers_shut_down = False

    async def _async_update_data(self) -> PriceData:
        """Fetch the days that are missing; keep the last known prices when a fetch fails."""
        now = dt_util.utcnow()
        try:
            data = await self._async_fetch(now)
        except Exception as error:
            # Whatever failed, the next attempt is planned: without it fetching stops for good.
            self.failed_attempts += 1
            self._schedule_fetch(now)
            expected = isinstance(error, UpdateFailed)
            if not expected:
                LOGGER.exception("Unexpected error while fetching prices; trying again later")
            if self.data is not None and self.data.spot.value_at(now) is not None:
                # Keep planning on what we have; the next attempt is already scheduled.
                LOGGER.debug("Price fetch failed; keeping the last known prices")
                return self.data
            if expected:
                raise
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="prices_unavailable",
                translation_placeholders={"error": repr(error)},
            ) from error
        # Tomorrow still missing after publication time counts as a miss, so retries back off.
        self.failed_attempts = (
            self.failed_attempts + 1 if _tomorrow_may_exist(now) and not data.has_tomorrow else 0
        )
        self._schedule_fetch(now, data)
        return data

    @_coordinator_exception_handler
    async def _async_fetch(self, now: datetime) -> PriceData:
        """Fetch today (unless already known) and tomorrow (once it can exist)."""
        today = now.astimezone(OSLO).date()
        tomorrow = today + timedelta(days=1)
        known = self.data.spot if self.data is not None else None
        today_series = None
        if known is not None:
            start, end = local_day_bounds_utc(today)
            window = known.to_slot_length(QUARTER_S).window(start, end)
            if len(window) and window.start_utc == start and window.end_utc == end:
                today_series = window
        if today_series is None:
            today_series = await self.source.async_fetch_day(today)
            if today_series is None:
                raise PriceSourceError("no prices published for today")
        spot = today_series.to_slot_length(QUARTER_S)
        tomorrow_series = (
            await self.source.async_fetch_day(tomorrow) if _tomorrow_may_exist(now) else None
        )
        if tomorrow_series is not None:
            spot = spot.concat(tomorrow_series.to_slot_length(QUARTER_S))
        return PriceData(
            spot=spot,
            currency=self.currency,
            fetched_utc=now,
            has_tomorrow=tomorrow_series is not None,
        )

    @callback
    def _schedule_fetch(self, now: datetime, data: PriceData | None = None) -> None:
        """Plan the next fetch and the next quarter-hour tick (none once the timers are shut down)."""
        if self._timers_shut_down:
            # A fetch still running at unload must not start the timers again.
            return
        have_tomorrow = (
            data.has_tomorrow if data is not None else bool(self.data and self.data.has_tomorrow)
        )
        if self._unsub_fetch:
            self._unsub_fetch()
        self._unsub_fetch = async_track_point_in_utc_time(
            self.hass,
            self._async_fetch_now,
            next_fetch_utc(now, have_tomorrow, self.failed_attempts),
        )
        if self._unsub_tick:
            self._unsub_tick()
        self._unsub_tick = async_track_point_in_utc_time(
            self.hass, self._async_tick, floor_to_slot(now) + timedelta(seconds=QUARTER_S)
        )

    async def _async_fetch_now(self, _now: datetime) -> None:
        """Run a scheduled fetch."""
        self._unsub_fetch = None
        await self.async_refresh()

    @callback
    def _async_tick(self, now: datetime) -> None:
        """Tell listeners a new quarter began and schedule the next tick."""
        self._unsub_tick = async_track_point_in_utc_time(
            self.hass, self._async_tick, floor_to_slot(now) + timedelta(seconds=QUARTER_S)
        )
        self.async_update_listeners()

    @callback
    def async_shutdown_timers(self) -> None:
        """Cancel the scheduled fetch and tick for good."""
        self._timers_shut_down = True
        for unsub in (self._unsub_fetch, self._unsub_tick):
            if unsub:
                unsub()
        self._unsub_fetch = self._unsub_tick = None


def _tomorrow_may_exist(now: datetime) -> bool:
    """Return whether tomorrow's day-ahead prices can be published (from about 13:00 Oslo)."""
    return now.astimezone(OSLO).hour >= 13
