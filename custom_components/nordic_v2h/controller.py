"""The control loop in Home Assistant: plan in the executor, apply safety, write the setpoint.

The controller is a coordinator without a fixed interval. It runs after every charger reading,
every quarter-hour, and whenever a setting or the prices change. Planning happens in the
executor, never on the event loop; the charger is written only when the decision changes,
and control is handed back to the charger on unload, shutdown, mode Off, or a long outage.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .const import (
    CHARGER_FAULT_RELEASE_AFTER,
    CHARGER_LOST_RELEASE_AFTER,
    CHARGER_POLL_INTERVAL,
    LOGGER,
    OperatingMode,
)
from .core.meter_watch import MeterWatch
from .core.safety import LimitReason, SafetyLimits, apply_safety
from .core.timeseries import QUARTER_S, floor_to_slot
from .core.types import ReasonKey
from .costs import plan_context
from .peaks import power_w_from_state
from .planning import AutoPlan, build_auto_plan, realtime_setpoint
from .transport import (
    ChargerState,
    TransportConnectionError,
    TransportError,
    TransportProtocolError,
)

if TYPE_CHECKING:
    from .coordinator import ChargerCoordinator, PriceCoordinator
    from .data import NordicV2HConfigEntry
    from .settings import SettingsStore
    from .transport import ChargerTransport

# Setpoint changes smaller than this are not written: chargers take seconds to settle, and
# toggling them for a few watts wears the contactor and the owner's patience.
SETPOINT_HYSTERESIS_W: Final = 150
# Below this the charger counts as idle (meters read a few watts of standby and noise).
IDLE_POWER_W: Final = 100


class Decision(StrEnum):
    """What the car does now."""

    CHARGE = "charge"
    DISCHARGE = "discharge"
    IDLE = "idle"
    OFF = "off"


class Reason(StrEnum):
    """Why the controller decided what it did; each has a translated text."""

    MODE_OFF = "mode_off"
    MODE_IDLE = "mode_idle"
    CHARGE_NOW = "charge_now"
    DISCHARGE_TO_HOUSE = "discharge_to_house"
    NOT_PLUGGED_IN = "not_plugged_in"
    SOC_UNKNOWN = "soc_unknown"
    MIN_SOC_REACHED = "min_soc_reached"
    MAX_SOC_REACHED = "max_soc_reached"
    V2H_NOT_ALLOWED = "v2h_not_allowed"
    MAIN_FUSE = "main_fuse"
    CHARGER_UNREACHABLE = "charger_unreachable"
    CHARGER_ERROR = "charger_error"
    CHARGER_READINGS_INVALID = "charger_readings_invalid"
    CHARGER_READING_FAILED = "charger_reading_failed"
    CONTROL_FAILED = "control_failed"
    HOUSE_METER_NOT_READING = "house_meter_not_reading"
    STARTING = "starting"


DECISION_OPTIONS: Final = [decision.value for decision in Decision]
# The reason sensor shows the controller's own reasons and, in Auto, the planner's.
REASON_OPTIONS: Final = sorted(
    {reason.value for reason in Reason} | {key.value for key in ReasonKey}
)

_LIMIT_TO_REASON: Final = {
    LimitReason.NOT_PLUGGED_IN: Reason.NOT_PLUGGED_IN,
    LimitReason.SOC_UNKNOWN: Reason.SOC_UNKNOWN,
    LimitReason.MIN_SOC_REACHED: Reason.MIN_SOC_REACHED,
    LimitReason.MAX_SOC_REACHED: Reason.MAX_SOC_REACHED,
    LimitReason.V2H_NOT_ALLOWED: Reason.V2H_NOT_ALLOWED,
    LimitReason.MAIN_FUSE: Reason.MAIN_FUSE,
    LimitReason.HOUSE_POWER_UNKNOWN: Reason.HOUSE_METER_NOT_READING,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlStatus:
    """The controller's latest decision, the setpoint written and the plan behind it."""

    decision: Decision
    reason: Reason | ReasonKey
    setpoint_w: int
    plan: AutoPlan | None
    updated_utc: datetime


def _decision_for(power_w: int) -> Decision:
    """Return the decision that a signed setpoint means."""
    if power_w > 0:
        return Decision.CHARGE
    if power_w < 0:
        return Decision.DISCHARGE
    return Decision.IDLE


class V2HController(DataUpdateCoordinator[ControlStatus]):
    """Decides the setpoint from the mode, the plan and the safety limits, and writes it."""

    config_entry: NordicV2HConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: NordicV2HConfigEntry,
        *,
        transport: ChargerTransport,
        charger: ChargerCoordinator,
        prices: PriceCoordinator,
        settings: SettingsStore,
        house_power_entity: str | None,
    ) -> None:
        """Create the controller of one charger."""
        super().__init__(
            hass, LOGGER, config_entry=entry, name=f"{entry.title} controller", update_interval=None
        )
        self.transport = transport
        self.charger = charger
        self.prices = prices
        self.settings = settings
        self.house_power_entity = house_power_entity
        self.in_control = False
        self.release_after_outage = False
        # One control step or release at a time: a step still planning or writing when the
        # owner picks Off, or when the entry stops, must not take control after the release.
        self._control_lock = asyncio.Lock()
        self._stopped = False
        # Set by the repair flow: take control from scratch at the next write.
        self._retake_control = False
        self.last_written_w: int | None = None
        # When the setpoint was last sent, for a charger whose watchdog needs it sent again.
        self.last_written_utc: datetime | None = None
        # How many readings the charger had given when control was last taken.
        self._took_control_at_reading: int | None = None
        self._plan: AutoPlan | None = None
        self._plan_key: tuple[object, ...] | None = None
        self._unsubscribers: list[CALLBACK_TYPE] = []
        # A failing charger stops notifying after its first failed poll, so the step that must
        # hand control back after a fault or an outage is timed here.
        self._unsub_recheck: CALLBACK_TYPE | None = None
        # A charger whose watchdog needs the setpoint again gets a step in time for it: with
        # steady readings the charger's updates do not run the controller.
        self._unsub_keepalive: CALLBACK_TYPE | None = None
        self._meter_watch = MeterWatch()
        self.data = ControlStatus(
            decision=Decision.IDLE,
            reason=Reason.STARTING,
            setpoint_w=0,
            plan=None,
            updated_utc=dt_util.utcnow(),
        )

    @callback
    def async_start(self) -> None:
        """Run after every charger reading, price change, setting change and quarter-hour."""
        self._unsubscribers.extend(
            [
                self.charger.async_add_listener(self._async_schedule_run),
                self.prices.async_add_listener(self._async_schedule_run),
                self.settings.async_add_listener(self._async_schedule_run),
            ]
        )
        self._schedule_quarter_tick(dt_util.utcnow())

    @callback
    def async_stop(self) -> None:
        """Stop reacting to anything."""
        while self._unsubscribers:
            self._unsubscribers.pop()()
        self._cancel_recheck()
        self._cancel_keepalive()

    @callback
    def _cancel_recheck(self) -> None:
        """Drop the timed step, if one is waiting."""
        if self._unsub_recheck is not None:
            self._unsub_recheck()
            self._unsub_recheck = None

    @callback
    def _schedule_quarter_tick(self, now: datetime) -> None:
        """Replan at the next quarter-hour boundary, when the plan's current slot changes."""

        @callback
        def tick(moment: datetime) -> None:
            self._unsubscribers.remove(unsub)
            self._schedule_quarter_tick(moment)
            self._async_schedule_run()

        unsub = async_track_point_in_utc_time(
            self.hass, tick, floor_to_slot(now) + timedelta(seconds=QUARTER_S)
        )
        self._unsubscribers.append(unsub)

    @callback
    def _async_recheck_at(self, moment: datetime) -> None:
        """Run the control step again at `moment` (the latest request wins)."""
        if self._stopped:
            return
        self._cancel_recheck()

        @callback
        def recheck(_moment: datetime) -> None:
            self._unsub_recheck = None
            self._async_schedule_run()

        self._unsub_recheck = async_track_point_in_utc_time(self.hass, recheck, moment)

    @callback
    def _async_schedule_run(self) -> None:
        """Run the control step soon; repeated triggers collapse into one run."""
        self.hass.async_create_background_task(
            self.async_request_refresh(), name=f"{self.name} control step", eager_start=False
        )

    async def async_set_mode(self, mode: OperatingMode) -> None:
        """Change the operating mode and act on it before returning; a chosen mode has no end."""
        self.settings.async_update(mode=mode, mode_until_utc=None)
        await self.async_refresh()

    async def async_force_mode(self, mode: OperatingMode, duration: timedelta) -> None:
        """Use `mode` for `duration`, then return to Auto; the end survives a restart."""
        until = dt_util.utcnow() + duration
        self.settings.async_update(mode=mode, mode_until_utc=until)

        @callback
        def expire(_moment: datetime) -> None:
            self._async_schedule_run()

        # The charger's readings also run the controller, but they stop while it is unreachable.
        self._unsubscribers.append(async_track_point_in_utc_time(self.hass, expire, until))
        await self.async_refresh()

    async def async_replan(self) -> None:
        """Plan again from scratch now, even if no input changed."""
        self._plan_key = None
        await self.async_refresh()

    @callback
    def _end_forced_mode(self, now: datetime) -> None:
        """Return to Auto once a forced mode's time is up."""
        until = self.settings.current.mode_until_utc
        if until is not None and now >= until:
            LOGGER.debug(
                "The forced mode %s ended at %s; back to Auto", self.settings.current.mode, until
            )
            self.settings.async_update(mode=OperatingMode.AUTO, mode_until_utc=None)

    async def _async_update_data(self) -> ControlStatus:
        """Decide and write the setpoint for this moment, one step at a time."""
        async with self._control_lock:
            now = dt_util.utcnow()
            if self._stopped:
                return self._status(Decision.OFF, Reason.MODE_OFF, 0, now)
            try:
                status = await self._async_control_step(now)
            except Exception:  # noqa: BLE001 - any fault of ours must hand the charger back
                # A fault of our own (a plan that could not be made, a value out of range)
                # must not leave the charger on its last command: hand it back.
                LOGGER.exception("The control step failed; control is handed back to the charger")
                await self._async_release_locked()
                status = self._status(Decision.OFF, Reason.CONTROL_FAILED, 0, now)
            self._keep_stepping_while_the_charger_fails()
            self._schedule_keepalive(now)
            return status

    @callback
    def _keep_stepping_while_the_charger_fails(self) -> None:
        """While control is ours and the charger fails, make sure another step comes.

        The charger tells its listeners only of the first failure in a row, and the refresh
        debouncer drops a request made while a step runs, so that one notice can be lost; a
        hand-back the charger refused must be tried again too. The steps for a fault or an
        outage set their own, exact, time.
        """
        if self.in_control and not self.charger.last_update_success and not self._unsub_recheck:
            self._async_recheck_at(dt_util.utcnow() + CHARGER_POLL_INTERVAL)

    @callback
    def _schedule_keepalive(self, now: datetime) -> None:
        """While control is ours, step again when the charger's watchdog needs the setpoint."""
        self._cancel_keepalive()
        keepalive_s = self.transport.setpoint_keepalive_s
        if self._stopped or not self.in_control or keepalive_s is None:
            return
        # A keep-alive already overdue (its step could not write) waits a poll, not to spin.
        due = now + CHARGER_POLL_INTERVAL
        keepalive_at = self._keepalive_at()
        if keepalive_at is not None and keepalive_at > now:
            due = keepalive_at

        @callback
        def keepalive(_moment: datetime) -> None:
            self._unsub_keepalive = None
            # Not through the refresh debouncer, which may hold a request for 10 s.
            self.hass.async_create_background_task(
                self.async_refresh(), name=f"{self.name} keep-alive step", eager_start=False
            )

        self._unsub_keepalive = async_track_point_in_utc_time(self.hass, keepalive, due)

    @callback
    def _cancel_keepalive(self) -> None:
        """Drop the keep-alive step, if one is waiting."""
        if self._unsub_keepalive is not None:
            self._unsub_keepalive()
            self._unsub_keepalive = None

    async def _async_control_step(self, now: datetime) -> ControlStatus:
        """Decide and write the setpoint for this moment (the control lock is held)."""
        self._end_forced_mode(now)
        settings = self.settings.current
        if settings.mode is OperatingMode.OFF:
            refused = await self._async_release_locked()
            return self._status(Decision.OFF, refused or Reason.MODE_OFF, 0, now)
        if self._charger_readings_invalid():
            release_at = self._fault_release_utc()
            if self.in_control and release_at is not None and now < release_at:
                # One error reply or torn read: the last command runs on for a few seconds,
                # as it does between two polls, rather than the charger taking over.
                self._async_recheck_at(release_at)
                held_w = self.last_written_w or 0
                return self._status(
                    _decision_for(held_w), Reason.CHARGER_READING_FAILED, held_w, now
                )
            # The charger answers, so its watchdog never trips, but nothing it has said for a
            # while can be trusted: hand it back rather than run on the last command. A refusal
            # keeps control ours, and the next step tries again.
            refused = await self._async_release_locked()
            return self._status(Decision.OFF, refused or Reason.CHARGER_READINGS_INVALID, 0, now)
        if not self.charger.last_update_success or self.charger.data is None:
            self._forget_control_after_outage(now)
            return self._status(Decision.IDLE, Reason.CHARGER_UNREACHABLE, 0, now)

        state = self.charger.data
        if self.release_after_outage:
            # Back after a long outage: hand control back first, so nothing runs on a stale
            # command; the decision below takes control again if the mode wants it.
            self.in_control = True
            if (refused := await self._async_release_locked()) is not None:
                # Still ours: the next step tries again before anything is written.
                return self._status(Decision.IDLE, refused, 0, now)
            self.release_after_outage = False
        self._watch_house_meter(state, now)
        requested_w, reason = await self._async_requested_power(state, now)
        # The safety limits name the reason when they change the request.
        limits = SafetyLimits(
            min_power_w=self.transport.capabilities.min_power_w,
            max_charge_power_w=min(
                settings.max_charge_power_w, self.transport.capabilities.max_charge_power_w
            ),
            max_discharge_power_w=min(
                settings.max_discharge_power_w, self.transport.capabilities.max_discharge_power_w
            ),
            min_soc_pct=settings.min_soc_pct,
            allow_discharge=settings.allow_v2h and self.transport.capabilities.can_discharge,
            # The fuse is guarded with a house power sensor only (without one it cannot be).
            max_import_w=settings.main_fuse_import_w if self.house_power_entity else None,
        )
        safe = apply_safety(
            requested_w,
            limits=limits,
            plugged_in=state.plugged_in,
            soc_pct=state.soc_pct,
            house_power_w=self._house_power_w(),
            current_charger_power_w=state.power_w,
        )
        if safe.limited_by in _LIMIT_TO_REASON:
            reason = _LIMIT_TO_REASON[safe.limited_by]
        try:
            await self._async_write(safe.power_w, state)
        except TransportError as error:
            LOGGER.warning("Could not write the setpoint to the charger: %s", error)
            # A lost connection is not a refusal: only a refusal raises the repair issue.
            reason = (
                Reason.CHARGER_UNREACHABLE
                if isinstance(error, TransportConnectionError)
                else Reason.CHARGER_ERROR
            )
            return self._status(_decision_for(safe.power_w), reason, safe.power_w, now)
        return self._status(_decision_for(safe.power_w), reason, safe.power_w, now)

    async def _async_requested_power(
        self, state: ChargerState, now: datetime
    ) -> tuple[float, Reason | ReasonKey]:
        """Return the power the mode asks for, before the safety limits."""
        settings = self.settings.current
        match settings.mode:
            case OperatingMode.CHARGE_NOW:
                return float(settings.max_charge_power_w), Reason.CHARGE_NOW
            case OperatingMode.DISCHARGE:
                discharge_w = self._discharge_to_house_w()
                if discharge_w is None:
                    return 0.0, Reason.HOUSE_METER_NOT_READING
                return -discharge_w, Reason.DISCHARGE_TO_HOUSE
            case OperatingMode.IDLE:
                return 0.0, Reason.MODE_IDLE
        plan = await self._async_auto_plan(state, now)
        if plan is None:
            return 0.0, ReasonKey.NO_PRICES
        tracker = self.config_entry.runtime_data.peak_tracker
        if tracker is None:
            return plan.power_now_w, plan.reason
        # The rule layer guards the running clock hour's import with what the meter measures.
        meter_w = self._house_power_w()
        setpoint = realtime_setpoint(
            now_utc=now,
            auto_plan=plan,
            state=state,
            settings=settings,
            capabilities=self.transport.capabilities,
            house_power_w=None if meter_w is None else meter_w - state.power_w,
            hour_import_kwh=tracker.running_hour_kwh(now),
            previous_setpoint_w=self.last_written_w,
        )
        return setpoint.power_w, setpoint.reason

    def _discharge_to_house_w(self) -> float | None:
        """Return how much to discharge: the house's use when it is measured, else the maximum.

        Without export permission the car covers the house and no more; the main meter's
        reading includes the charger, so the charger's own power is added back. A house meter
        that is set up but has no reading (unavailable, unknown) gives None: how much would stay
        in the house cannot be seen, so nothing is discharged rather than exported.
        """
        settings = self.settings.current
        if settings.allow_export or not self.house_power_entity:
            return float(settings.max_discharge_power_w)
        house_w = self._house_power_w()
        if house_w is None:
            return None
        charger_w = self.charger.data.power_w if self.charger.data else 0.0
        return max(0.0, min(float(settings.max_discharge_power_w), house_w - charger_w))

    async def _async_auto_plan(self, state: ChargerState, now: datetime) -> AutoPlan | None:
        """Return the plan for this quarter, replanning in the executor when its inputs changed."""
        prices = self.prices.data if self.prices.last_update_success or self.prices.data else None
        if prices is None:
            return None
        settings = self.settings.current
        key = (
            floor_to_slot(now),
            prices.fetched_utc,
            settings,
            state.plugged_in,
            state.soc_pct is None,
        )
        if key != self._plan_key:
            runtime = self.config_entry.runtime_data
            context = plan_context(
                runtime.cost_model, runtime.peak_tracker, now_utc=now, car_power_w=state.power_w
            )
            self._plan = await self.hass.async_add_executor_job(
                partial(
                    build_auto_plan,
                    now,
                    prices.spot,
                    state,
                    settings,
                    self.transport.capabilities,
                    context=context,
                )
            )
            self._plan_key = key
        return self._plan

    @property
    def house_meter_stuck(self) -> bool:
        """Return whether the house meter is judged stuck on its last value."""
        return self._meter_watch.stuck

    def _house_power_w(self) -> float | None:
        """Return the house's import in W from the configured meter, if it has a live number."""
        if not self.house_power_entity or self._meter_watch.stuck:
            return None
        return power_w_from_state(self.hass.states.get(self.house_power_entity))

    @callback
    def _watch_house_meter(self, state: ChargerState, now: datetime) -> None:
        """Judge whether the house meter is stuck: a live one shows the car's large changes.

        A stuck meter counts as no reading until its value changes again.
        """
        if not self.house_power_entity:
            return
        meter = self.hass.states.get(self.house_power_entity)
        was_stuck = self._meter_watch.stuck
        stuck = self._meter_watch.observe(
            now,
            meter_w=power_w_from_state(meter),
            meter_changed_utc=None if meter is None else meter.last_changed,
            car_w=state.power_w,
        )
        if stuck and not was_stuck:
            LOGGER.warning(
                "The house meter %s has not changed since %s although the car's power did; "
                "it counts as having no reading until its value changes",
                self.house_power_entity,
                self._meter_watch.meter_changed_utc,
            )
        elif was_stuck and not stuck:
            LOGGER.info("The house meter %s reads again", self.house_power_entity)

    async def _async_write(self, power_w: int, state: ChargerState) -> None:
        """Take control when needed and write the setpoint if it changed enough to matter."""
        if power_w == 0 and not self.in_control and abs(state.power_w) < IDLE_POWER_W:
            # Nothing to command and nothing running: leave the charger alone. A car that the
            # charger started by itself (autostart on plug-in) is stopped: we decided to wait.
            return
        if not self.in_control or self._retake_control or self._control_lost(state):
            await self.transport.take_control()
            self.in_control = True
            self._retake_control = False
            self.last_written_w = None
            self._took_control_at_reading = self.charger.readings_taken
        if (
            self.last_written_w is not None
            and (power_w == 0) == (self.last_written_w == 0)
            and (power_w > 0) == (self.last_written_w > 0)
            and abs(power_w - self.last_written_w) < SETPOINT_HYSTERESIS_W
            and not self._keepalive_due()
        ):
            return
        # Counted from when it was sent, not from the broker's acknowledgement.
        sent_utc = dt_util.utcnow()
        await self.transport.set_power(power_w)
        self.last_written_w = power_w
        self.last_written_utc = sent_utc

    def _control_lost(self, state: ChargerState) -> bool:
        """Return True when the charger says it left remote control (a restart, the owner).

        A reading from before control was taken still says "not remote": the steps that
        follow on it must not take control (and write) again.
        """
        if state.remote_control:
            return False
        taken_at = self._took_control_at_reading
        return taken_at is None or self.charger.readings_taken > taken_at

    def _keepalive_at(self) -> datetime | None:
        """Return when the charger's watchdog needs the setpoint again (None: never)."""
        keepalive_s = self.transport.setpoint_keepalive_s
        if keepalive_s is None or self.last_written_utc is None:
            return None
        return self.last_written_utc + timedelta(seconds=keepalive_s)

    def _keepalive_due(self) -> bool:
        """Return True when the charger's watchdog needs the setpoint again, unchanged or not."""
        keepalive_at = self._keepalive_at()
        return keepalive_at is not None and dt_util.utcnow() >= keepalive_at

    def _fault_release_utc(self) -> datetime | None:
        """Return when a charger answering with faults is handed back (None: at once)."""
        last = self.charger.last_success_utc
        return None if last is None else last + CHARGER_FAULT_RELEASE_AFTER

    @callback
    def _forget_control_after_outage(self, now: datetime) -> None:
        """After a long outage assume the charger's watchdog took control back."""
        last = self.charger.last_success_utc
        if not self.in_control:
            return
        if last is not None and now - last <= CHARGER_LOST_RELEASE_AFTER:
            # Look again once the outage has lasted long enough to count.
            self._async_recheck_at(last + CHARGER_LOST_RELEASE_AFTER + timedelta(seconds=1))
            return
        LOGGER.warning(
            "The charger has been unreachable since %s; control is handed back when it returns",
            last,
        )
        self.in_control = False
        self.last_written_w = None
        self.release_after_outage = True

    def _charger_readings_invalid(self) -> bool:
        """Return True when the charger's last reading failed on what it said, not on the link."""
        error = self.charger.last_exception
        if self.charger.last_update_success or error is None:
            return False
        cause = error.__cause__
        # A socket error is the link (an outage), whatever the transport called it.
        return isinstance(cause, TransportProtocolError) and not isinstance(
            cause.__cause__, OSError
        )

    async def async_release_control(self) -> None:
        """Hand the charger back to its own control, if we hold it."""
        async with self._control_lock:
            await self._async_release_locked()

    async def async_stop_control(self) -> None:
        """Stop for good (unload, shutdown): no step runs after this, and control goes back."""
        self.async_stop()
        self._stopped = True
        # A step waiting in the refresh debouncer would otherwise run after the release.
        await self.async_shutdown()
        await self.async_release_control()
        # A step that ran while stopping may have asked to look again.
        self._cancel_recheck()
        self._cancel_keepalive()

    async def async_retry_control(self) -> None:
        """Take control from scratch at the next write (the owner fixed the charger's settings)."""
        async with self._control_lock:
            self._retake_control = True
            self.last_written_w = None
        await self.async_refresh()

    async def _async_release_locked(self) -> Reason | None:
        """Hand the charger back if we hold it; return why not when it could not be done.

        Until it is done control stays ours, and every later step tries again.
        """
        if not self.in_control:
            return None
        try:
            await self.transport.release_control()
        except TransportConnectionError as error:
            LOGGER.warning("Could not reach the charger to hand control back: %s", error)
            return Reason.CHARGER_UNREACHABLE
        except TransportError as error:
            LOGGER.warning("The charger refused to take control back: %s", error)
            return Reason.CHARGER_ERROR
        except Exception:  # noqa: BLE001 - unload and shutdown must go on whatever failed here
            LOGGER.exception("Handing control back to the charger failed")
            return Reason.CHARGER_ERROR
        LOGGER.debug("Control handed back to the charger")
        self.in_control = False
        self.last_written_w = None
        return None

    def _status(
        self, decision: Decision, reason: Reason | ReasonKey, setpoint_w: int, now: datetime
    ) -> ControlStatus:
        """Build the status entities show."""
        return ControlStatus(
            decision=decision,
            reason=reason,
            setpoint_w=setpoint_w,
            plan=self._plan,
            updated_utc=now,
        )
