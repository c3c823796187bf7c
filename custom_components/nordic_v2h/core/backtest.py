"""Causal replay of a household and its car through the same planner and rules as the integration.

The scenario gives per-slot prices, the house's actual consumption and the car's plug-in
sessions; the replay steps through 15-minute slots, knowing prices only as Nord Pool
publishes them (tomorrow's at 13:00 Europe/Oslo) and the load only from the past, and
returns the car's power, the grid flows and the departure and safety figures. Billing
is left to the caller (the tariff model), so this module stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
import math
import time
from typing import TYPE_CHECKING, Final

import numpy as np

from .forecast import forecast_hourly_kw, forecast_hourly_peak_kw, temperature_correction_kw
from .month_target import DEFAULT_DAYS as TARGET_DAYS, TargetOption, month_outlook
from .planner import plan, plan_cheapest
from .rules import RuleInputs, decide
from .timeseries import HOUR_S, OSLO, utc_offsets_h
from .types import CapacityInputs, CapacityTable, ChargerLimits, PlanInputs, VehicleState

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

# Tomorrow's day-ahead prices are published around 12:45 CET; the contract uses 13:00.
PRICES_PUBLISHED_LOCAL_HOUR: Final = 13
# The forecast looks back this many hours (five weeks covers its four-week profile).
HISTORY_H: Final = 5 * 168
# The load forecast covers the longest price horizon: today's rest and tomorrow.
FORECAST_H: Final = 48


class Policy(StrEnum):
    """How the car is charged in the replay."""

    IMMEDIATE = "immediate"
    CHEAPEST = "cheapest"
    SMART = "smart"


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """One stay of the car at home: plug-in and plug-out (UTC epoch s) and the energy it needs."""

    plug_in_s: int
    plug_out_s: int
    energy_kwh: float


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """Everything a replay needs, as arrays on slots of `slot_s` from `start_s` (UTC epoch).

    Slots before `sim_start_index` are history only (the load forecast's warm-up); slots
    from `sim_end_index` on only serve as known prices and load after the replayed span.
    `import_price` and `export_price` are all-in NOK/kWh; `load_kw` the house without car.
    `capacity_for_month` maps a local (year, month) to its step table. `earlier_sessions`
    are stays before the replayed span: history for the month target, never replayed.
    `use_month_outlook` also hands the planner the month outlook (days to come drawn from
    the replayed past weeks), see `CapacityInputs.future_day_peaks_kwh`.
    `perfect_load_forecast` hands the planner the house's actual future load as both its
    forecasts: not causal, it measures how much of the gap to the bound is the forecast's.
    `temperature_c` (per slot, °C, optional) is the outdoor temperature where the house
    stands: the past as measured, the forecast hours as a weather forecast would give them
    (the measured values stand in for it, so its own error is not part of the replay).
    """

    start_s: int
    slot_s: int
    sim_start_index: int
    import_price: NDArray[np.float64]
    export_price: NDArray[np.float64]
    load_kw: NDArray[np.float64]
    sessions: tuple[Session, ...]
    capacity_for_month: Callable[[int, int], CapacityTable]
    sim_end_index: int | None = None
    battery_kwh: float = 60.0
    min_soc_pct: float = 30.0
    target_soc_pct: float = 80.0
    charger: ChargerLimits = field(
        default_factory=lambda: ChargerLimits(
            min_power_w=1380, max_charge_w=7400, max_discharge_w=7400
        )
    )
    allow_v2h: bool = True
    allow_export: bool = False
    wear_nok_per_kwh: float = 0.20
    max_import_w: float | None = None
    use_month_target: bool = True
    use_month_outlook: bool = True
    perfect_load_forecast: bool = False
    temperature_c: NDArray[np.float64] | None = None
    earlier_sessions: tuple[Session, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ReplayResult:
    """What happened, per slot of the simulated span, and the safety and timing figures."""

    start_s: int
    slot_s: int
    car_power_kw: NDArray[np.float64]
    # The energy in the car at the end of each slot; NaN while it is away.
    car_energy_kwh: NDArray[np.float64]
    import_kwh: NDArray[np.float64]
    export_kwh: NDArray[np.float64]
    ev_charged_kwh: float
    v2h_discharged_kwh: float
    unmet_departure_kwh: float
    min_soc_violations: int
    plan_ms: tuple[float, ...]
    forecast_mae_kw: float | None
    forecast_mean_load_kw: float | None


def _local_calendar(
    start_s: int, slot_s: int, count: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Return per slot: the local day ordinal, the local month key and the local hour."""
    hours = (start_s + slot_s * np.arange(count)) // HOUR_S
    unique_hours, inverse = np.unique(hours, return_inverse=True)
    day = np.empty(len(unique_hours), dtype=np.int64)
    month = np.empty(len(unique_hours), dtype=np.int64)
    hour = np.empty(len(unique_hours), dtype=np.int64)
    for index, hour_number in enumerate(unique_hours):
        local = datetime.fromtimestamp(int(hour_number) * HOUR_S, tz=UTC).astimezone(OSLO)
        day[index] = local.toordinal()
        month[index] = local.year * 12 + local.month - 1
        hour[index] = local.hour
    return day[inverse], month[inverse], hour[inverse]


def _known_until_index(
    day: NDArray[np.int64], hour: NDArray[np.int64], count: int
) -> NDArray[np.int64]:
    """Return per slot the index after the last slot whose price is published by then."""
    # The end of each local day in slot indices.
    day_end = np.searchsorted(day, day, side="right")
    next_day_end = np.searchsorted(day, day + 1, side="right")
    known = np.where(hour >= PRICES_PUBLISHED_LOCAL_HOUR, next_day_end, day_end)
    result: NDArray[np.int64] = np.minimum(known, count)
    return result


def replay(
    scenario: Scenario, policy: Policy, progress: Callable[[float], None] | None = None
) -> ReplayResult:
    """Step through the scenario slot by slot with the chosen policy."""
    slot_s = scenario.slot_s
    slot_h = slot_s / HOUR_S
    count = len(scenario.import_price)
    day, month, hour = _local_calendar(scenario.start_s, slot_s, count)
    known_until = _known_until_index(day, hour, count)
    charger = scenario.charger
    battery = scenario.battery_kwh
    min_kwh = scenario.min_soc_pct / 100.0 * battery
    target_kwh = scenario.target_soc_pct / 100.0 * battery
    load = scenario.load_kw
    slots_per_hour = HOUR_S // slot_s
    hourly_load = _hourly_mean(load, slots_per_hour)
    hourly_temp = (
        None
        if scenario.temperature_c is None
        else _hourly_mean(scenario.temperature_c, slots_per_hour)
    )
    first_hour_s = scenario.start_s - scenario.start_s % HOUR_S
    # The Oslo clock's offset of every hour the forecasts look at, found once.
    hourly_clock = utc_offsets_h(first_hour_s, len(hourly_load) + FORECAST_H)
    sim = scenario.sim_start_index
    stop = count if scenario.sim_end_index is None else min(scenario.sim_end_index, count)
    power = np.zeros(count)
    stored_kwh = np.full(count, np.nan)
    imports = np.zeros(count)
    exports = np.zeros(count)
    # Session per slot: index of the session whose stay covers the slot, or -1.
    present = np.full(count, -1, dtype=np.int64)
    for number, session in enumerate(scenario.sessions):
        first = max(-(-(session.plug_in_s - scenario.start_s) // slot_s), sim)
        last = min((session.plug_out_s - scenario.start_s) // slot_s, stop)
        if last > first:
            present[first:last] = np.where(present[first:last] < 0, number, present[first:last])
    home_hours = _home_hours(scenario, count, first_hour_s)
    plug_in_kwh = _plug_in_kwh(scenario, len(home_hours), first_hour_s)
    # The departure of each stay: the slot after its last present slot.
    stay_end = np.zeros(len(scenario.sessions), dtype=np.int64)
    for slot_index in np.nonzero(present >= 0)[0]:
        stay_end[present[slot_index]] = slot_index + 1
    energy = 0.0
    unmet = 0.0
    violations = 0
    plan_ms: list[float] = []
    forecast_errors: list[float] = []
    forecast_levels: list[float] = []
    forecast_cache: dict[int, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    peaks: dict[int, float] = {}
    targets: dict[int, TargetOption | None] = {}
    hour_import = 0.0
    previous_setpoint: float | None = None
    reachable = 0.0
    for index in range(sim, stop):
        if progress is not None and index % 96 == 0:
            progress((index - sim) / max(stop - sim, 1))
        session_number = int(present[index])
        slot_start_s = scenario.start_s + index * slot_s
        if index % slots_per_hour == 0:
            hour_import = 0.0
        if session_number >= 0:
            session = scenario.sessions[session_number]
            if index == sim or present[index - 1] != session_number:
                # Arrival: the energy this stay charged in reality is missing from the target.
                energy = max(target_kwh - session.energy_kwh, 0.0)
                departure_s = scenario.start_s + slot_s * int(stay_end[session_number])
                stay_h = (departure_s - slot_start_s) / HOUR_S
                reachable = min(
                    target_kwh,
                    energy + stay_h * charger.max_charge_w / 1000.0 * charger.charge_efficiency,
                )
                previous_setpoint = None
            departure_s = scenario.start_s + slot_s * int(stay_end[session_number])
            setpoint_kw = _policy_power_kw(
                scenario,
                policy,
                index=index,
                energy_kwh=energy,
                departure_s=departure_s,
                known_until=int(known_until[index]),
                hourly_load=hourly_load,
                hourly_temp=hourly_temp,
                hourly_clock=hourly_clock,
                first_hour_s=first_hour_s,
                forecast_cache=forecast_cache,
                forecast_errors=forecast_errors,
                forecast_levels=forecast_levels,
                peaks=peaks,
                targets=targets,
                home_hours=home_hours,
                plug_in_kwh=plug_in_kwh,
                day=day,
                month=month,
                hour_import=hour_import,
                previous_setpoint_w=previous_setpoint,
                plan_ms=plan_ms,
            )
            previous_setpoint = setpoint_kw * 1000.0
            if setpoint_kw >= 0:
                setpoint_kw = min(
                    setpoint_kw,
                    max(scenario.battery_kwh * 1.0 - energy, 0.0)
                    / (slot_h * charger.charge_efficiency),
                )
                energy += setpoint_kw * slot_h * charger.charge_efficiency
            else:
                energy += setpoint_kw * slot_h / charger.discharge_efficiency
                if energy < min_kwh - 1e-6:
                    violations += 1
            power[index] = setpoint_kw
            stored_kwh[index] = energy
            last_slot = index + 1 >= stop or present[index + 1] != session_number
            if last_slot:
                unmet += max(reachable - energy, 0.0) if reachable - energy > 1e-3 else 0.0
        net = (load[index] + power[index]) * slot_h
        imports[index] = max(net, 0.0)
        exports[index] = max(-net, 0.0)
        hour_import += imports[index]
        if (index + 1) % slots_per_hour == 0:
            peaks[int(day[index])] = max(peaks.get(int(day[index]), 0.0), hour_import)
    span = slice(sim, stop)
    car = power[span]
    mae = float(np.mean(forecast_errors)) if forecast_errors else None
    level = float(np.mean(forecast_levels)) if forecast_levels else None
    return ReplayResult(
        start_s=scenario.start_s + sim * slot_s,
        slot_s=slot_s,
        car_power_kw=car,
        car_energy_kwh=stored_kwh[span],
        import_kwh=imports[span],
        export_kwh=exports[span],
        ev_charged_kwh=float(np.sum(np.maximum(car, 0.0)) * slot_h),
        v2h_discharged_kwh=float(np.sum(np.maximum(-car, 0.0)) * slot_h),
        unmet_departure_kwh=unmet,
        min_soc_violations=violations,
        plan_ms=tuple(plan_ms),
        forecast_mae_kw=mae,
        forecast_mean_load_kw=level,
    )


def _policy_power_kw(
    scenario: Scenario,
    policy: Policy,
    *,
    index: int,
    energy_kwh: float,
    departure_s: int,
    known_until: int,
    hourly_load: NDArray[np.float64],
    hourly_temp: NDArray[np.float64] | None,
    hourly_clock: NDArray[np.int64],
    first_hour_s: int,
    forecast_cache: dict[int, tuple[NDArray[np.float64], NDArray[np.float64]]],
    forecast_errors: list[float],
    forecast_levels: list[float],
    peaks: dict[int, float],
    targets: dict[int, TargetOption | None],
    home_hours: NDArray[np.bool_],
    plug_in_kwh: NDArray[np.float64],
    day: NDArray[np.int64],
    month: NDArray[np.int64],
    hour_import: float,
    previous_setpoint_w: float | None,
    plan_ms: list[float],
) -> float:
    """Return the car's power (kW) in one slot under the policy."""
    charger = scenario.charger
    slot_s = scenario.slot_s
    slot_h = slot_s / HOUR_S
    target_kwh = scenario.target_soc_pct / 100.0 * scenario.battery_kwh
    if policy is Policy.IMMEDIATE:
        if energy_kwh >= target_kwh - 1e-9:
            return 0.0
        needed_kw = (target_kwh - energy_kwh) / (slot_h * charger.charge_efficiency)
        return min(charger.max_charge_w / 1000.0, max(needed_kw, charger.min_power_w / 1000.0))
    now_s = scenario.start_s + index * slot_s
    end = max(known_until, index + 1)
    vehicle = VehicleState(
        soc_pct=energy_kwh / scenario.battery_kwh * 100.0,
        battery_kwh=scenario.battery_kwh,
        min_soc_pct=scenario.min_soc_pct,
        target_soc_pct=scenario.target_soc_pct,
        departure_utc=datetime.fromtimestamp(departure_s, tz=UTC),
    )
    hour_number = (now_s - first_hour_s) // HOUR_S
    load_kw, peak_kw = _forecast_slots(
        scenario,
        index=index,
        end=end,
        hour_number=hour_number,
        hourly_load=hourly_load,
        hourly_temp=hourly_temp,
        hourly_clock=hourly_clock,
        cache=forecast_cache,
        errors=forecast_errors,
        levels=forecast_levels,
    )
    # The house power now is measured, not forecast.
    load_kw[0] = scenario.load_kw[index]
    peak_kw[0] = scenario.load_kw[index]
    capacity = _capacity_inputs(
        scenario, index=index, peaks=peaks, day=day, month=month, hour_import=hour_import
    )
    if scenario.use_month_target:
        today = int(day[index])
        if today not in targets:
            # Once a day, from the past four weeks of house load and the car's presence.
            past = slice(max(0, hour_number - TARGET_DAYS * 24), hour_number)
            days = max((past.stop - past.start) / 24.0, 1.0)
            targets[today] = month_outlook(
                hourly_load[past],
                capacity,
                max_discharge_kw=charger.max_discharge_w / 1000.0 if scenario.allow_v2h else 0.0,
                min_power_kw=charger.min_power_w / 1000.0,
                present=home_hours[past],
                drive_kwh_per_day=float(plug_in_kwh[past].sum()) / days,
            )
        outlook = targets[today]
        if outlook is not None:
            capacity = replace(
                capacity,
                month_target_kwh=None if math.isinf(outlook.level_kw) else outlook.level_kw,
                future_day_peaks_kwh=outlook.day_peaks_kw if scenario.use_month_outlook else (),
            )
    inputs = PlanInputs(
        now_utc=datetime.fromtimestamp(now_s, tz=UTC),
        start_utc=datetime.fromtimestamp(now_s, tz=UTC),
        import_price_nok_per_kwh=tuple(float(v) for v in scenario.import_price[index:end]),
        export_price_nok_per_kwh=tuple(float(v) for v in scenario.export_price[index:end]),
        vehicle=vehicle,
        charger=charger,
        slot_s=slot_s,
        house_load_kw=tuple(float(v) for v in load_kw),
        house_peak_kw=tuple(float(v) for v in peak_kw),
        allow_v2h=scenario.allow_v2h,
        allow_export=scenario.allow_export,
        max_import_w=scenario.max_import_w,
        wear_nok_per_kwh=scenario.wear_nok_per_kwh,
        capacity=capacity,
    )
    started = time.perf_counter()
    result = plan_cheapest(inputs) if policy is Policy.CHEAPEST else plan(inputs)
    plan_ms.append((time.perf_counter() - started) * 1000.0)
    if policy is Policy.CHEAPEST:
        return result.power_now_w / 1000.0
    setpoint = decide(
        RuleInputs(
            now_utc_s=float(now_s),
            plan=result,
            vehicle=vehicle,
            charger=charger,
            house_power_w=float(scenario.load_kw[index]) * 1000.0,
            hour_import_kwh=hour_import,
            threshold_kw=result.import_threshold_kw,
            allow_v2h=scenario.allow_v2h,
            allow_export=scenario.allow_export,
            max_import_w=scenario.max_import_w,
            previous_setpoint_w=previous_setpoint_w,
        )
    )
    return setpoint.power_w / 1000.0


def _hourly_mean(per_slot: NDArray[np.float64], slots_per_hour: int) -> NDArray[np.float64]:
    """Return the mean of each whole clock hour of a per-slot series."""
    whole = len(per_slot) // slots_per_hour * slots_per_hour
    result: NDArray[np.float64] = per_slot[:whole].reshape(-1, slots_per_hour).mean(axis=1)
    return result


def _home_hours(scenario: Scenario, count: int, first_hour_s: int) -> NDArray[np.bool_]:
    """Return per clock hour of the scenario whether the car was plugged in during it."""
    hours = -(-(scenario.start_s + count * scenario.slot_s - first_hour_s) // HOUR_S)
    home = np.zeros(hours, dtype=np.bool_)
    for session in (*scenario.earlier_sessions, *scenario.sessions):
        first = max((session.plug_in_s - first_hour_s) // HOUR_S, 0)
        last = min(-(-(session.plug_out_s - first_hour_s) // HOUR_S), hours)
        if last > first:
            home[first:last] = True
    return home


def _plug_in_kwh(scenario: Scenario, hours: int, first_hour_s: int) -> NDArray[np.float64]:
    """Return per clock hour the energy the stays starting in it charged (the driving)."""
    energy = np.zeros(hours)
    for session in (*scenario.earlier_sessions, *scenario.sessions):
        hour = (session.plug_in_s - first_hour_s) // HOUR_S
        if 0 <= hour < hours:
            energy[hour] += session.energy_kwh
    return energy


def _forecast_slots(
    scenario: Scenario,
    *,
    index: int,
    end: int,
    hour_number: int,
    hourly_load: NDArray[np.float64],
    hourly_temp: NDArray[np.float64] | None,
    hourly_clock: NDArray[np.int64],
    cache: dict[int, tuple[NDArray[np.float64], NDArray[np.float64]]],
    errors: list[float],
    levels: list[float],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the mean and high load forecasts (kW) per slot from `index` to `end`, from the past."""
    slots_per_hour = HOUR_S // scenario.slot_s
    if scenario.perfect_load_forecast:
        actual = scenario.load_kw[index:end].copy()
        return actual, actual.copy()
    if hour_number not in cache:
        first = max(0, hour_number - HISTORY_H)
        history = hourly_load[first:hour_number]
        correction = None
        if hourly_temp is not None:
            future_temp = hourly_temp[hour_number : hour_number + FORECAST_H]
            # Past the recorded span the last temperature holds (the replay's last day).
            future_temp = np.concatenate(
                [future_temp, np.full(FORECAST_H - len(future_temp), hourly_temp[-1])]
            )
            correction = temperature_correction_kw(
                history, hourly_temp[first:hour_number], future_temp, FORECAST_H
            )
        offsets = hourly_clock[first : hour_number + FORECAST_H]
        forecast = forecast_hourly_kw(
            history, FORECAST_H, correction_kw=correction, utc_offset_h=offsets
        )
        cache.clear()
        cache[hour_number] = (
            forecast,
            forecast_hourly_peak_kw(
                history, FORECAST_H, correction_kw=correction, utc_offset_h=offsets
            ),
        )
        actual = hourly_load[hour_number : hour_number + 24]
        if len(actual):
            errors.append(float(np.mean(np.abs(forecast[: len(actual)] - actual))))
            levels.append(float(np.mean(actual)))
    offset = index % slots_per_hour
    result = []
    for hourly in cache[hour_number]:
        per_slot = np.repeat(hourly, slots_per_hour)[offset : offset + end - index]
        if len(per_slot) < end - index:
            per_slot = np.concatenate(
                [per_slot, np.full(end - index - len(per_slot), per_slot[-1])]
            )
        result.append(per_slot.copy())
    return result[0], result[1]


def _capacity_inputs(
    scenario: Scenario,
    *,
    index: int,
    peaks: dict[int, float],
    day: NDArray[np.int64],
    month: NDArray[np.int64],
    hour_import: float,
) -> CapacityInputs:
    """Return this month's step table and peaks so far, and the next month's table."""
    month_key = int(month[index])
    table = scenario.capacity_for_month(month_key // 12, month_key % 12 + 1)
    next_table = scenario.capacity_for_month((month_key + 1) // 12, (month_key + 1) % 12 + 1)
    today = int(day[index])
    month_start = date(month_key // 12, month_key % 12 + 1, 1).toordinal()
    finished = tuple(kwh for number, kwh in peaks.items() if month_start <= number < today)
    return CapacityInputs.from_tables(
        table,
        next_table,
        month_daily_peaks_kwh=finished,
        today_peak_kwh=peaks.get(today, 0.0),
        current_hour_import_kwh=hour_import,
    )


def shift_by_weeks(moment: datetime, weeks: int) -> datetime:
    """Move a local wall-clock instant by whole weeks, keeping weekday and clock time."""
    local = moment.astimezone(OSLO).replace(tzinfo=None) + timedelta(weeks=weeks)
    return local.replace(tzinfo=OSLO).astimezone(UTC)
