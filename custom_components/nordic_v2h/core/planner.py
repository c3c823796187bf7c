"""Charging plans: the cheapest-slots planner and the cost-minimising V2H planner.

Both take a `PlanInputs` and return a frozen `Plan` with one power per slot from now.
`plan_cheapest` is the ev_smart_charging approach (full power in the cheapest slots
before departure, never discharge); `plan` is the product's planner, a dynamic programme
over the car's stored energy that also discharges to the house and guards the month's
capacity step.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Final, cast

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .timeseries import HOUR_S, OSLO, first_of_next_month
from .types import Decision, Plan, PlanInputs, PlanSlot, ReasonKey

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from .types import CapacityInputs

# Reasons that only make sense with a departure ahead; replaced once it has passed.
_REPLACED_AFTER_DEPARTURE = frozenset(
    {
        ReasonKey.CHEAPEST_SLOT,
        ReasonKey.WAITING_FOR_CHEAPER_SLOT,
        ReasonKey.NO_DEPARTURE_WITHIN_PRICES,
        ReasonKey.HOLD_FOR_LATER,
    }
)
# Power below this is treated as zero: a rounding residue, not a command.
_EPS_W = 1.0
# A departure shortfall below this (kWh) is floating-point residue, not energy missing.
_EPS_KWH = 1e-6


@dataclass(frozen=True, slots=True)
class HourIndex:
    """The clock hours the slots fall in, for summing import the way the tariff counts it.

    `of_slot` maps each slot to its hour (0 is the running one); per hour, `day` numbers
    its local (Europe/Oslo) date, 0 being today, and `this_month` says whether it still
    counts toward this month's capacity step. `days_after_today` and `days_after_horizon`
    count the month's days after today and after the horizon's last day of this month;
    `days_in_next_month` is the length of the month a plan made on a last day reaches into.
    """

    of_slot: NDArray[np.intp]
    start_epoch_s: NDArray[np.int64]
    day: NDArray[np.intp]
    this_month: NDArray[np.bool_]
    days_after_today: int
    days_after_horizon: int
    days_in_next_month: int


def _hour_index(starts: NDArray[np.int64], now_utc: datetime) -> HourIndex:
    """Group slot starts into clock hours and date the hours in local time."""
    hour_numbers = starts // HOUR_S
    unique, of_slot = np.unique(hour_numbers, return_inverse=True)
    now_local = now_utc.astimezone(OSLO)
    today = now_local.date()
    days: list[int] = []
    this_month: list[bool] = []
    for hour in (int(value) for value in unique):
        local = datetime.fromtimestamp(hour * HOUR_S, tz=UTC).astimezone(OSLO)
        days.append((local.date() - today).days)
        this_month.append((local.year, local.month) == (now_local.year, now_local.month))
    month_days = calendar.monthrange(today.year, today.month)[1]
    following = first_of_next_month(today)
    last_day = max(
        (day for day, counted in zip(days, this_month, strict=True) if counted), default=0
    )
    return HourIndex(
        of_slot=of_slot.astype(np.intp).reshape(-1),
        start_epoch_s=unique * HOUR_S,
        day=np.asarray(days, dtype=np.intp),
        this_month=np.asarray(this_month, dtype=np.bool_),
        days_after_today=month_days - today.day,
        days_after_horizon=max(month_days - today.day - last_day, 0),
        days_in_next_month=calendar.monthrange(following.year, following.month)[1],
    )


@dataclass(frozen=True, slots=True)
class Horizon:
    """The slots from now to the end of the known prices, as arrays (one entry per slot).

    `duration_h` is the part of each slot after now (the first slot may be partial) and
    `present_h` the part of it before departure, when the car can act.
    """

    start_epoch_s: NDArray[np.int64]
    duration_h: NDArray[np.float64]
    present_h: NDArray[np.float64]
    import_price: NDArray[np.float64]
    export_price: NDArray[np.float64]
    load_kw: NDArray[np.float64]
    peak_kw: NDArray[np.float64]
    charge_cap_kw: NDArray[np.float64]
    departure_index: int | None
    hours: HourIndex

    def __len__(self) -> int:
        """Return the number of slots."""
        return len(self.duration_h)


def build_horizon(inputs: PlanInputs) -> Horizon:
    """Cut the inputs to the slots from now on and derive per-slot limits."""
    slot_s = inputs.slot_s
    start_s = int(inputs.start_utc.timestamp())
    now_s = inputs.now_utc.timestamp()
    count = len(inputs.import_price_nok_per_kwh)
    first = max(0, int((now_s - start_s) // slot_s))
    starts = start_s + slot_s * np.arange(first, count, dtype=np.int64)
    slot_begin = np.maximum(starts.astype(np.float64), now_s)
    slot_end = starts.astype(np.float64) + slot_s
    duration_h = np.maximum(slot_end - slot_begin, 0.0) / HOUR_S
    departure = inputs.vehicle.departure_utc
    departure_index: int | None = None
    if departure is not None and departure.timestamp() > now_s:
        dep_s = departure.timestamp()
        present_h = np.clip(dep_s - slot_begin, 0.0, slot_end - slot_begin) / HOUR_S
        inside = np.nonzero(starts.astype(np.float64) < dep_s)[0]
        if len(inside) and dep_s <= slot_end[-1]:
            departure_index = int(inside[-1])
    else:
        # No departure set (or it has passed): the car stays for the whole known horizon.
        present_h = duration_h.copy()
    import_price = np.asarray(inputs.import_price_nok_per_kwh[first:], dtype=np.float64)
    export_price = np.asarray(inputs.export_price_nok_per_kwh[first:], dtype=np.float64)
    load_kw: NDArray[np.float64]
    if inputs.house_load_kw is None:
        load_kw = np.zeros(len(starts))
    else:
        load_kw = np.nan_to_num(
            np.asarray(inputs.house_load_kw[first:], dtype=np.float64), nan=0.0
        ).clip(min=0.0)
    peak_kw = load_kw
    if inputs.house_peak_kw is not None:
        peak_kw = np.maximum(
            np.nan_to_num(np.asarray(inputs.house_peak_kw[first:], dtype=np.float64), nan=0.0),
            load_kw,
        )
    charge_cap_kw = np.full(len(starts), inputs.charger.max_charge_w / 1000.0)
    if inputs.max_import_w is not None:
        charge_cap_kw = np.minimum(charge_cap_kw, inputs.max_import_w / 1000.0 - load_kw)
    charge_cap_kw[charge_cap_kw < inputs.charger.min_power_w / 1000.0] = 0.0
    # Unknown prices (NaN) are slots nobody should plan to charge in.
    charge_cap_kw[~np.isfinite(import_price)] = 0.0
    return Horizon(
        start_epoch_s=starts,
        duration_h=duration_h,
        present_h=present_h,
        import_price=np.nan_to_num(import_price, nan=float(np.nanmax(import_price, initial=0.0))),
        export_price=np.nan_to_num(export_price, nan=0.0),
        load_kw=load_kw,
        peak_kw=peak_kw,
        charge_cap_kw=np.maximum(charge_cap_kw, 0.0),
        departure_index=departure_index,
        hours=_hour_index(starts, inputs.now_utc),
    )


def simulate_energy_kwh(
    inputs: PlanInputs, horizon: Horizon, power_kw: NDArray[np.float64], start_kwh: float
) -> NDArray[np.float64]:
    """Return the stored energy at the end of each slot for the given powers."""
    charger = inputs.charger
    delta: NDArray[np.float64] = np.where(
        power_kw >= 0,
        power_kw * horizon.present_h * charger.charge_efficiency,
        power_kw * horizon.present_h / charger.discharge_efficiency,
    )
    stored: NDArray[np.float64] = start_kwh + np.cumsum(delta)
    return stored


def _padded_to_three_kwh(finished_kwh: Sequence[float], pad_kwh: float) -> list[float]:
    """Return the finished days' peaks, padded to three days with a likely future peak.

    Early in a month the three-day mean is not yet set: later days will peak too, at
    least at what the house alone draws, so they are counted at the forecast house peak.
    """
    return [*finished_kwh] + [pad_kwh] * max(3 - len(finished_kwh), 0)


def free_level_kwh(capacity: CapacityInputs, pad_kwh: float) -> float:
    """Return today's peak that changes nothing: the higher of today's so far and the third peak."""
    others = sorted(_padded_to_three_kwh(capacity.month_daily_peaks_kwh, pad_kwh), reverse=True)
    return max(capacity.today_peak_kwh, others[2])


def _hourly_peaks_cost(
    capacity: CapacityInputs, hours: HourIndex, hour_kwh: NDArray[np.float64], pad_kwh: float
) -> float:
    """Return the expected rise of the capacity cost if these future hours happen.

    The hours of this month raise this month's step. Those of the next month (a plan made
    on the month's last day) raise the next month's, priced as a plan made at its first
    midnight would price them: with its own step table, and as a month with no peaks yet
    whose first day has just begun.
    """
    this_month = hours.this_month
    rise = _month_rise_nok(
        capacity,
        finished_kwh=list(capacity.month_daily_peaks_kwh),
        today_kwh=capacity.today_peak_kwh,
        planned_kwh=_day_peaks_kwh(hours, hour_kwh, this_month, today_kwh=capacity.today_peak_kwh),
        days_after_today=hours.days_after_today,
        days_after_horizon=hours.days_after_horizon,
        pad_kwh=pad_kwh,
    )
    next_month = ~this_month
    if next_month.any():
        planned = _day_peaks_kwh(hours, hour_kwh, next_month)
        rise += _month_rise_nok(
            capacity.for_next_month(),
            finished_kwh=[],
            today_kwh=0.0,
            planned_kwh=planned,
            days_after_today=hours.days_in_next_month - 1,
            days_after_horizon=hours.days_in_next_month - len(planned),
            pad_kwh=pad_kwh,
        )
    return rise


def _day_peaks_kwh(
    hours: HourIndex,
    hour_kwh: NDArray[np.float64],
    counted: NDArray[np.bool_],
    today_kwh: float | None = None,
) -> list[float]:
    """Return the highest counted hour of each day, today's at least `today_kwh` if given."""
    day_peaks = np.zeros(int(hours.day.max(initial=0)) + 1)
    days_seen = np.zeros(len(day_peaks), dtype=np.bool_)
    if today_kwh is not None:
        day_peaks[0] = today_kwh
        days_seen[0] = True
    np.maximum.at(day_peaks, hours.day[counted], hour_kwh[counted])
    days_seen[hours.day[counted]] = True
    return [float(value) for value in day_peaks[days_seen]]


def _month_rise_nok(
    capacity: CapacityInputs,
    *,
    finished_kwh: list[float],
    today_kwh: float,
    planned_kwh: list[float],
    days_after_today: int,
    days_after_horizon: int,
    pad_kwh: float,
) -> float:
    """Return how much one month's step cost rises when its planned days peak as planned.

    `finished_kwh` are the month's finished days, `today_kwh` today's peak so far and
    `planned_kwh` the peaks of the month's days in the plan, today's included.
    """
    others = _padded_to_three_kwh(finished_kwh, pad_kwh)
    before_smooth = capacity.smooth_cost_nok(top3_mean([*others, today_kwh]))
    smooth_rise = capacity.smooth_cost_nok(top3_mean(others + planned_kwh)) - before_smooth
    if not capacity.future_day_peaks_kwh:
        return smooth_rise
    # The month outlook: a step the days to come will likely lose anyway is worth little
    # shaving today, one that holds unless today breaks it the whole step.
    before = expected_step_cost_nok(capacity, [*finished_kwh, today_kwh], days_after_today)
    after = expected_step_cost_nok(capacity, finished_kwh + planned_kwh, days_after_horizon)
    return OUTLOOK_WEIGHT * (after - before) + (1.0 - OUTLOOK_WEIGHT) * smooth_rise


# How much the month outlook counts against the smoothed step when both price a peak.
# The outlook alone gives up steps the past weeks make look lost (its sample is a few
# weeks of days); the smoothed step alone pays for shaving in months that are lost
# anyway. The replay of 2024-07..2025-04 (see README) saved most with this mix.
OUTLOOK_WEIGHT: Final = 0.7

# Draws of the days to come per expected step cost: enough for a smooth estimate, few
# enough to price a plan in well under a millisecond.
_OUTLOOK_DRAWS = 256


@lru_cache(maxsize=64)
def _draw_index(sample_size: int, days: int) -> NDArray[np.intp]:
    """Return fixed random picks from a sample, one row per draw of the days to come.

    Fixed (seeded by the shape), so that the same inputs always give the same plan and
    every option of one plan is priced on the same draws.
    """
    generator = np.random.default_rng(sample_size * 100 + days)
    picks: NDArray[np.intp] = generator.integers(0, sample_size, size=(_OUTLOOK_DRAWS, days))
    picks.setflags(write=False)
    return picks


@lru_cache(maxsize=64)
def _top_draws_kwh(sample_kwh: tuple[float, ...], days_left: int) -> NDArray[np.float64]:
    """Return the (up to) three highest days of each draw of the days left.

    The same for every option a plan prices, so it is drawn and sorted once.
    """
    sample = np.asarray(sample_kwh, dtype=np.float64)
    draws = sample[_draw_index(len(sample), days_left)]
    keep = min(3, days_left)
    if days_left > keep:
        draws = np.partition(draws, days_left - keep, axis=1)[:, days_left - keep :]
    draws.setflags(write=False)
    return draws


def expected_step_cost_nok(
    capacity: CapacityInputs, known_kwh: list[float], days_left: int
) -> float:
    """Return the month's expected step cost given the known days' peaks and the days left.

    The days left peak like days drawn from `future_day_peaks_kwh`; the step of each draw's
    three-day mean is averaged. A step the month is likely to lose anyway is worth little
    shaving today; one that holds unless today breaks it is worth the whole step.
    """
    known = sorted(known_kwh, reverse=True)[:3]
    known += [0.0] * (3 - len(known))
    if days_left <= 0:
        return capacity.step_cost_nok(top3_mean(known))
    # Only the step table and the sample matter besides the known days: a plan prices the
    # same month for each of its options, and the plans after it mostly again.
    outlook = replace(
        capacity,
        month_daily_peaks_kwh=(),
        today_peak_kwh=0.0,
        current_hour_import_kwh=0.0,
        month_target_kwh=None,
    )
    return _mean_step_cost_nok(outlook, (known[0], known[1], known[2]), days_left)


@lru_cache(maxsize=256)
def _mean_step_cost_nok(
    outlook: CapacityInputs, known: tuple[float, float, float], days_left: int
) -> float:
    """Return `expected_step_cost_nok` for the three highest known days and days to come."""
    draws = _top_draws_kwh(outlook.future_day_peaks_kwh, days_left)
    combined = np.concatenate([draws, np.broadcast_to(np.asarray(known), (len(draws), 3))], axis=1)
    top = np.partition(combined, combined.shape[1] - 3, axis=1)[:, -3:]
    return float(np.mean(outlook.step_costs_nok(top.sum(axis=1) / 3.0)))


def top3_mean(peaks: list[float]) -> float:
    """Return the three-day measure: the sum of the three highest daily peaks over three."""
    return sum(sorted(peaks, reverse=True)[:3]) / 3.0


def hourly_import_kwh(
    inputs: PlanInputs, horizon: Horizon, import_kwh: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Sum the slots' import into clock hours, adding what the running hour already drew."""
    hours = horizon.hours
    sums = np.bincount(
        hours.of_slot, weights=import_kwh, minlength=len(hours.start_epoch_s)
    ).astype(np.float64)
    if inputs.capacity is not None and len(sums):
        sums[0] += inputs.capacity.current_hour_import_kwh
    return sums


def grid_flows_kwh(
    horizon: Horizon, power_kw: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the house's grid import and export per slot with the car at these powers."""
    net = horizon.load_kw * horizon.duration_h + power_kw * horizon.present_h
    return np.maximum(net, 0.0), np.maximum(-net, 0.0)


def plan_cost_nok(inputs: PlanInputs, horizon: Horizon, power_kw: NDArray[np.float64]) -> float:
    """Return the cost of the horizon under these powers: energy, wear and capacity rise."""
    import_kwh, export_kwh = grid_flows_kwh(horizon, power_kw)
    discharged_kwh = float(np.sum(np.maximum(-power_kw, 0.0) * horizon.present_h))
    cost = float(import_kwh @ horizon.import_price)
    if inputs.allow_export:
        cost -= float(export_kwh @ horizon.export_price)
    cost += inputs.wear_nok_per_kwh * discharged_kwh
    if inputs.capacity is not None:
        # Peaks are priced on the high load forecast: a peak missed costs a whole month.
        peak_net = horizon.peak_kw * horizon.duration_h + power_kw * horizon.present_h
        hour_kwh = hourly_import_kwh(inputs, horizon, np.maximum(peak_net, 0.0))
        cost += _hourly_peaks_cost(
            inputs.capacity, horizon.hours, hour_kwh, _pad_kwh(horizon, inputs.capacity)
        )
    return cost


def _start_energy_kwh(inputs: PlanInputs) -> tuple[float, bool]:
    """Return the stored energy to plan from and whether it is an assumption."""
    vehicle = inputs.vehicle
    if vehicle.soc_pct is None:
        # Unknown is never 0 %: assume the car is at its minimum, so the full charge to the
        # target is planned (conservative for the departure) and nothing is discharged.
        return vehicle.min_soc_pct / 100.0 * vehicle.battery_kwh, True
    return vehicle.soc_pct / 100.0 * vehicle.battery_kwh, False


def _target_kwh(inputs: PlanInputs) -> float:
    """Return the departure target as stored energy, never above the maximum SoC."""
    vehicle = inputs.vehicle
    return min(vehicle.target_soc_pct, vehicle.max_soc_pct) / 100.0 * vehicle.battery_kwh


def _fill_cheapest(
    inputs: PlanInputs,
    horizon: Horizon,
    power_kw: NDArray[np.float64],
    needed_kwh: float,
    eligible: NDArray[np.bool_],
) -> float:
    """Add charging in the cheapest eligible slots until `needed_kwh` is stored; return the rest."""
    charger = inputs.charger
    min_kw = charger.min_power_w / 1000.0
    room_kw = horizon.charge_cap_kw - power_kw
    # Ties go to the earlier slot (stable sort), so equal prices charge as soon as possible.
    order = np.argsort(np.where(eligible, horizon.import_price, np.inf), kind="stable")
    for index in (int(value) for value in order):
        if needed_kwh <= 1e-9 or not eligible[index]:
            break
        per_kw = float(horizon.present_h[index]) * charger.charge_efficiency
        slot_room_kw = float(room_kw[index])
        if slot_room_kw <= 0 or per_kw <= 0:
            continue
        add_kw = min(slot_room_kw, needed_kwh / per_kw)
        if power_kw[index] + add_kw < min_kw:
            # The charger cannot run below its minimum: round the last slot up, not down.
            add_kw = min(slot_room_kw, min_kw - float(power_kw[index]))
        power_kw[index] += add_kw
        needed_kwh -= add_kw * per_kw
    return max(needed_kwh, 0.0)


def _clip_to_max_soc(
    inputs: PlanInputs, horizon: Horizon, power_kw: NDArray[np.float64], start_kwh: float
) -> None:
    """Reduce charging in place so the stored energy never passes the maximum SoC."""
    vehicle = inputs.vehicle
    max_kwh = vehicle.max_soc_pct / 100.0 * vehicle.battery_kwh
    eff = inputs.charger.charge_efficiency
    min_kw = inputs.charger.min_power_w / 1000.0
    energy = start_kwh
    for index in range(len(power_kw)):
        present = horizon.present_h[index]
        if power_kw[index] > 0 and present > 0:
            room_kw = max(max_kwh - energy, 0.0) / (present * eff)
            if power_kw[index] > room_kw:
                power_kw[index] = room_kw if room_kw >= min_kw else 0.0
            energy += power_kw[index] * present * eff
        elif power_kw[index] < 0:
            energy += power_kw[index] * present / inputs.charger.discharge_efficiency


def _build_plan(
    inputs: PlanInputs,
    horizon: Horizon,
    power_kw: NDArray[np.float64],
    *,
    start_kwh: float,
    soc_assumed: bool,
    reason: ReasonKey,
    shortfall_kwh: float,
    threshold_kw: float | None,
) -> Plan:
    """Assemble the frozen plan from per-slot powers."""
    power_kw = _without_residue(power_kw)
    energy = simulate_energy_kwh(inputs, horizon, power_kw, start_kwh)
    import_kwh, export_kwh = grid_flows_kwh(horizon, power_kw)
    battery = inputs.vehicle.battery_kwh
    soc_pct: list[float | None] = (
        [None] * len(energy) if soc_assumed else list(_floats(energy / battery * 100.0))
    )
    # Plain Python numbers, converted in one go: a plan has a few hundred slots.
    slots = tuple(
        PlanSlot(
            start_utc=datetime.fromtimestamp(start_s, tz=UTC),
            duration_s=duration_s,
            power_w=power_w,
            soc_pct_end=soc_end,
            grid_import_kwh=imported,
            grid_export_kwh=exported,
        )
        for start_s, duration_s, power_w, soc_end, imported, exported in zip(
            cast("list[int]", horizon.start_epoch_s.tolist()),
            _floats(horizon.duration_h * HOUR_S),
            _floats(power_kw * 1000.0),
            soc_pct,
            _floats(import_kwh),
            _floats(export_kwh),
            strict=True,
        )
    )
    now_kw = float(power_kw[0]) if len(power_kw) else 0.0
    if now_kw > 0:
        decision = Decision.CHARGE
    elif now_kw < 0:
        decision = Decision.DISCHARGE
    else:
        decision = Decision.IDLE
    departure = inputs.vehicle.departure_utc
    if (
        departure is not None
        and departure <= inputs.now_utc
        and reason in _REPLACED_AFTER_DEPARTURE
    ):
        # The set departure is behind us: say so, the owner probably forgot to update it.
        reason = ReasonKey.DEPARTURE_PASSED
    if soc_assumed and reason is not ReasonKey.NO_PRICES:
        reason = ReasonKey.SOC_UNKNOWN_FULL_CHARGE_ASSUMED
    return Plan(
        created_utc=inputs.now_utc,
        slots=slots,
        decision=decision,
        reason=reason,
        expected_cost_nok=plan_cost_nok(inputs, horizon, power_kw) if len(horizon) else 0.0,
        import_threshold_kw=threshold_kw,
        departure_shortfall_kwh=shortfall_kwh,
        soc_assumed=soc_assumed,
    )


def _without_residue(power_kw: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the powers with rounding residues (below `_EPS_W`) set to zero."""
    cleaned: NDArray[np.float64] = np.where(np.abs(power_kw) * 1000.0 < _EPS_W, 0.0, power_kw)
    return cleaned


def _floats(values: NDArray[np.float64]) -> list[float]:
    """Return a one-dimensional array as Python floats, converted in one call."""
    return cast("list[float]", values.tolist())


def _idle_plan(inputs: PlanInputs, reason: ReasonKey) -> Plan:
    """Return a plan that does nothing, for when there is nothing to plan over."""
    return Plan(
        created_utc=inputs.now_utc,
        slots=(),
        decision=Decision.IDLE,
        reason=reason,
        expected_cost_nok=0.0,
        soc_assumed=inputs.vehicle.soc_pct is None,
    )


def plan_cheapest(inputs: PlanInputs) -> Plan:
    """Charge at full power in the cheapest slots before departure until the target; never discharge.

    Below the minimum SoC the car first charges at once up to the minimum. With an unknown
    SoC the full charge from the minimum SoC to the target is planned, and the reason says so.
    Without a departure (or past it) the target is reached in the cheapest known slots.
    """
    horizon = build_horizon(inputs)
    if len(horizon) == 0:
        return _idle_plan(inputs, ReasonKey.NO_PRICES)
    start_kwh, assumed = _start_energy_kwh(inputs)
    power_kw, reason, shortfall = _cheapest_powers_kw(inputs, horizon, start_kwh)
    return _build_plan(
        inputs,
        horizon,
        power_kw,
        start_kwh=start_kwh,
        soc_assumed=assumed,
        reason=reason,
        shortfall_kwh=shortfall if horizon.departure_index is not None else 0.0,
        threshold_kw=None,
    )


def _cheapest_powers_kw(
    inputs: PlanInputs, horizon: Horizon, start_kwh: float
) -> tuple[NDArray[np.float64], ReasonKey, float]:
    """Return the cheapest-slots powers, their reason and the energy left unmet."""
    vehicle = inputs.vehicle
    min_kwh = vehicle.min_soc_pct / 100.0 * vehicle.battery_kwh
    power_kw = np.zeros(len(horizon))
    present = horizon.present_h > 0
    reason = ReasonKey.CHEAPEST_SLOT
    if start_kwh < min_kwh - 1e-9:
        # Safety before price: get back to the minimum SoC as soon as possible.
        _fill_first(inputs, horizon, power_kw, min_kwh - start_kwh, present)
        reason = ReasonKey.BELOW_MIN_SOC
    stored = float(simulate_energy_kwh(inputs, horizon, power_kw, start_kwh)[-1])
    needed = _target_kwh(inputs) - stored
    shortfall = _fill_cheapest(inputs, horizon, power_kw, needed, present) if needed > 0 else 0.0
    _clip_to_max_soc(inputs, horizon, power_kw, start_kwh)
    if horizon.departure_index is not None:
        # Clipping may drop a last slot the charger's minimum would overfill: measure what
        # the final powers leave missing, not what the filling hoped for.
        shortfall = _shortfall_kwh(inputs, horizon, power_kw, start_kwh)
    if reason is not ReasonKey.BELOW_MIN_SOC or power_kw[0] <= 0:
        reason = _cheapest_reason(inputs, horizon, power_kw, needed, shortfall)
    return power_kw, reason, shortfall


def _cheapest_reason(
    inputs: PlanInputs,
    horizon: Horizon,
    power_kw: NDArray[np.float64],
    needed_kwh: float,
    shortfall_kwh: float,
) -> ReasonKey:
    """Explain the cheapest plan's decision for the running slot."""
    if needed_kwh <= 1e-9:
        return ReasonKey.TARGET_REACHED
    if shortfall_kwh > _EPS_KWH and horizon.departure_index is not None:
        return ReasonKey.TARGET_UNREACHABLE
    if power_kw[0] > 0:
        departure = inputs.vehicle.departure_utc
        if departure is None or horizon.departure_index is None:
            return ReasonKey.NO_DEPARTURE_WITHIN_PRICES
        return ReasonKey.CHEAPEST_SLOT
    return ReasonKey.WAITING_FOR_CHEAPER_SLOT


def _fill_first(
    inputs: PlanInputs,
    horizon: Horizon,
    power_kw: NDArray[np.float64],
    needed_kwh: float,
    eligible: NDArray[np.bool_],
) -> float:
    """Add charging from the first eligible slot on until `needed_kwh` is stored; return the rest."""
    charger = inputs.charger
    for index in range(len(power_kw)):
        if needed_kwh <= 1e-9:
            break
        per_kw = horizon.present_h[index] * charger.charge_efficiency
        room_kw = horizon.charge_cap_kw[index] - power_kw[index]
        if not eligible[index] or room_kw <= 0 or per_kw <= 0:
            continue
        add_kw = max(
            min(room_kw, needed_kwh / per_kw), charger.min_power_w / 1000.0 - power_kw[index]
        )
        add_kw = min(add_kw, room_kw)
        power_kw[index] += add_kw
        needed_kwh -= add_kw * per_kw
    return max(needed_kwh, 0.0)


# Energy grid of the dynamic programme: 0.4 kWh keeps a 60 kWh car under 150 states while
# the value function is interpolated between them, so powers need not sit on the grid.
_GRID_KWH = 0.4
# NOK per kWh missing at departure: far above any price, so a shortfall only remains
# when the target is physically out of reach.
_SHORTFALL_NOK_PER_KWH = 100.0
# NOK per kWh below the minimum SoC per hour: get back above it before anything else.
_BELOW_MIN_NOK_PER_KWH_H = 50.0
# Share of full charging power the departure reserve assumes is available while recharging.
_RESERVE_POWER_SHARE = 0.3
# Charge levels between the charger's minimum and maximum that the planner considers.
_CHARGE_LEVELS = 4
# The programme interpolates stored energy between grid points, so a plan may end a few Wh
# under the target; shortfalls up to this are topped up rather than the plan dropped.
_TOP_UP_MAX_KWH = 0.05


@dataclass(frozen=True, slots=True)
class _Problem:
    """The dynamic programme's data: slots up to departure, candidates, actions and costs."""

    slots: int
    grid_kwh: NDArray[np.float64]
    power_kw: NDArray[np.float64]
    delta_kwh: NDArray[np.float64]
    stage_nok: NDArray[np.float64]
    below_min_nok_per_kwh: NDArray[np.float64]
    min_kwh: float
    max_kwh: float
    terminal_nok: NDArray[np.float64]
    discharge_floor_kwh: NDArray[np.float64]


def _candidate_thresholds(inputs: PlanInputs, horizon: Horizon) -> list[float]:
    """Return the hourly import levels (kW) worth trying as the plan's capacity threshold.

    The first is the level that raises nothing (the third-highest daily peak); the others
    allow a little more, hold the month target, or sit just below a higher step edge; the
    last is no threshold.
    """
    capacity = inputs.capacity
    if capacity is None:
        return [np.inf]
    pad = _pad_kwh(horizon, capacity)
    free = free_level_kwh(capacity, pad)
    top = sorted(_padded_to_three_kwh(capacity.month_daily_peaks_kwh, pad), reverse=True)
    target = capacity.month_target_kwh
    # Early in a day (and a month) the level that raises nothing can sit far below the
    # month target: the target itself must be a choice, or a night peak is either shaved
    # to a few kW at great cost or not at all.
    wider = target if target is not None and target > free + 1.0 else free + 2.5
    levels = {round(free, 3), round(free + 1.0, 3), round(wider, 3)}
    for edge in capacity.step_from_kw:
        # The third peak that puts the mean just under this edge, given the two above it.
        level = 3.0 * edge - top[0] - top[1] - 0.01
        if level > free:
            levels.add(round(level, 3))
    # Beyond the house's own peak plus a full charge no threshold changes the plan. The
    # house's peak, not the month target: once the month stands far above its target, the
    # levels above it are the only ones left to guard.
    house_kwh = float(np.max(horizon.peak_kw, initial=0.0))
    ceiling = house_kwh + inputs.charger.max_charge_w / 1000.0
    below = sorted(level for level in levels if level < ceiling)
    chosen = below[:3]
    if wider == target and round(wider, 3) in below and round(wider, 3) not in chosen:
        # Low step edges must not crowd out the level the month is planned at.
        chosen = sorted([*below[:2], round(wider, 3)])
    return [*chosen, np.inf]


def _terminal_cost(
    inputs: PlanInputs, horizon: Horizon, grid: NDArray[np.float64], end_index: int
) -> NDArray[np.float64]:
    """Return the cost of ending the horizon with each stored energy.

    At departure, only a shortfall against the target costs. When the horizon ends before
    departure, energy below the target must still be bought later (at a low price) and
    energy above it is worth what it can save the house later.
    """
    target = _target_kwh(inputs)
    shortfall = np.maximum(target - grid, 0.0)
    if horizon.departure_index is not None:
        result: NDArray[np.float64] = _SHORTFALL_NOK_PER_KWH * shortfall
        return result
    charger = inputs.charger
    prices = horizon.import_price[: end_index + 1]
    refill = float(np.quantile(prices, 0.25)) / charger.charge_efficiency
    keep = float(np.median(prices)) * charger.discharge_efficiency - inputs.wear_nok_per_kwh
    keep = min(max(keep, 0.0), refill) if inputs.allow_v2h else 0.0
    cost: NDArray[np.float64] = refill * shortfall - keep * np.maximum(grid - target, 0.0)
    departure = inputs.vehicle.departure_utc
    if departure is not None:
        # The target must stay reachable in the hours between the horizon's end and departure.
        end_s = float(horizon.start_epoch_s[end_index]) + horizon.duration_h[end_index] * HOUR_S
        gap_h = max(departure.timestamp() - end_s, 0.0) / HOUR_S
        reachable = target - gap_h * charger.max_charge_w / 1000.0 * charger.charge_efficiency
        cost = cost + _SHORTFALL_NOK_PER_KWH * np.maximum(reachable - grid, 0.0)
    return cost


def _build_problem(
    inputs: PlanInputs, horizon: Horizon, thresholds: list[float], start_kwh: float, assumed: bool
) -> _Problem:
    """Vectorise actions and their costs over slots (n), thresholds (c) and actions (a)."""
    vehicle, charger = inputs.vehicle, inputs.charger
    end = horizon.departure_index if horizon.departure_index is not None else len(horizon) - 1
    n = end + 1
    load = horizon.load_kw[:n, None]
    peak = horizon.peak_kw[:n, None]
    dur = horizon.duration_h[:n, None]
    present = horizon.present_h[:n, None]
    cap = horizon.charge_cap_kw[:n, None]
    min_kw = charger.min_power_w / 1000.0
    max_dis = charger.max_discharge_w / 1000.0
    thr = np.asarray(thresholds, dtype=np.float64)[None, :]
    # Fixed actions (n, a): idle and charge levels from minimum to the slot's maximum.
    steps = np.linspace(0.0, 1.0, _CHARGE_LEVELS)[None, :]
    charge = np.where(cap >= min_kw, min_kw + (cap - min_kw) * steps, 0.0)
    fixed = [np.zeros((n, 1)), charge]
    # Candidate actions (n, c): charge up to the threshold, discharge down to it.
    to_threshold = np.where(np.isfinite(thr), thr - peak, 0.0)
    fill = np.where((to_threshold >= min_kw) & (to_threshold <= cap), to_threshold, 0.0)
    per_candidate = [fill]
    may_discharge = inputs.allow_v2h and not assumed and max_dis >= min_kw and max_dis > 0
    if may_discharge:
        dis_room = max_dis if inputs.allow_export else np.minimum(load, max_dis)
        dis_room = np.broadcast_to(dis_room, load.shape)
        cover = np.where(dis_room >= min_kw, -dis_room, 0.0)
        at_min = np.where(dis_room >= min_kw, -min_kw, 0.0)
        fixed += [cover, at_min]
        if inputs.allow_export:
            fixed.append(np.broadcast_to(-(min_kw + max_dis) / 2.0, load.shape))
        shave = peak - np.where(np.isfinite(thr), thr, np.inf)
        shave_ok = (shave >= min_kw) & (shave <= dis_room)
        per_candidate.append(np.where(shave_ok, -shave, 0.0))
    candidates = len(thresholds)
    fixed_arr = np.concatenate(fixed, axis=1)
    power = np.concatenate(
        [
            np.broadcast_to(fixed_arr[:, None, :], (n, candidates, fixed_arr.shape[1])),
            np.stack(per_candidate, axis=2),
        ],
        axis=2,
    )
    present3 = present[:, :, None]
    delta = np.where(
        power >= 0,
        power * present3 * charger.charge_efficiency,
        power * present3 / charger.discharge_efficiency,
    )
    net = load[:, :, None] * dur[:, :, None] + power * present3
    imported = np.maximum(net, 0.0)
    exported = np.maximum(-net, 0.0)
    price = horizon.import_price[:n, None, None]
    stage = imported * price + inputs.wear_nok_per_kwh * np.maximum(-power, 0.0) * present3
    if inputs.allow_export:
        stage = stage - exported * horizon.export_price[:n, None, None]
    limit_kwh = np.broadcast_to(thr * dur, (n, candidates)).copy()
    if inputs.capacity is not None and n:
        # The running clock hour already drew some energy: spread what is left of its budget.
        first_hour = horizon.start_epoch_s[:n] // HOUR_S == horizon.start_epoch_s[0] // HOUR_S
        left_h = float(np.sum(horizon.duration_h[:n][first_hour]))
        budget = thr - inputs.capacity.current_hour_import_kwh
        limit_kwh[first_hour] = np.maximum(budget, 0.0) * dur[first_hour] / max(left_h, 1e-9)
    penalty = max(5.0, 3.0 * float(np.max(horizon.import_price[:n], initial=0.0)))
    peak_import = np.maximum(peak[:, :, None] * dur[:, :, None] + power * present3, 0.0)
    stage = stage + penalty * np.maximum(peak_import - limit_kwh[:, :, None], 0.0)
    min_kwh = vehicle.min_soc_pct / 100.0 * vehicle.battery_kwh
    max_kwh = vehicle.max_soc_pct / 100.0 * vehicle.battery_kwh
    low = min(min_kwh, start_kwh)
    high = max(max_kwh, start_kwh)
    states = max(int(np.ceil((high - low) / _GRID_KWH)) + 1, 2)
    grid: NDArray[np.float64] = np.linspace(low, high, states, dtype=np.float64)
    return _Problem(
        slots=n,
        grid_kwh=grid,
        power_kw=power,
        delta_kwh=delta,
        stage_nok=stage,
        below_min_nok_per_kwh=_BELOW_MIN_NOK_PER_KWH_H * horizon.duration_h[:n],
        min_kwh=min_kwh,
        max_kwh=max_kwh,
        terminal_nok=_terminal_cost(inputs, horizon, grid, end),
        discharge_floor_kwh=_discharge_floor_kwh(inputs, horizon, n, min_kwh),
    )


def _discharge_floor_kwh(
    inputs: PlanInputs, horizon: Horizon, slots: int, min_kwh: float
) -> NDArray[np.float64]:
    """Return per slot the stored energy below which the car must not discharge.

    Besides the minimum SoC, discharging stops where the target could no longer be met
    charging at `_RESERVE_POWER_SHARE` of full power until departure: the house may peak
    while the car recharges, and a forecast that missed it must not cost the target.
    """
    floor = np.full(slots, min_kwh)
    if horizon.departure_index is None:
        return floor
    charger = inputs.charger
    # Time left after each slot until departure, in hours.
    left_h = np.cumsum(horizon.present_h[:slots][::-1])[::-1] - horizon.present_h[:slots]
    rate = _RESERVE_POWER_SHARE * charger.max_charge_w / 1000.0 * charger.charge_efficiency
    reserve: NDArray[np.float64] = np.maximum(floor, _target_kwh(inputs) - left_h * rate)
    return reserve


def _solve(
    problem: _Problem, start_kwh: float, candidates: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Run the backward recursion and the forward pass; return powers (c, n) and end energies."""
    grid = problem.grid_kwh
    n = problem.slots
    states = len(grid)
    step = (grid[-1] - grid[0]) / (states - 1)
    below_min = np.maximum(problem.min_kwh - grid, 0.0)
    penalty = problem.below_min_nok_per_kwh[:, None] * below_min[None, :]
    # The grid is even, so an action moves every state by the same fraction of a step:
    # its interpolation weight depends on the action alone, its feasible states form one
    # interval, and the values it reads are one window of the next slot's values, shifted
    # by whole steps. Arrays are laid out (n, a, c, s) so that the cheapest action is a
    # minimum over whole rows of states.
    shift = np.moveaxis(problem.delta_kwh / step, 2, 1)
    whole = np.floor(shift)
    weight = (shift - whole)[..., None]
    # Each candidate's values sit between zero pads wide enough for the largest shift, so
    # every window stays inside its own candidate's row. A window reaches into a pad only
    # for states the action cannot start from (past the maximum or the floor), whose cost
    # is infinite anyway; the pad right after the top state is also read with weight 0.
    pad = int(np.max(np.abs(whole), initial=0.0)) + 2
    width = pad + states + pad
    values = np.zeros((n + 1, candidates, width))
    values[n, :, pad : pad + states] = problem.terminal_nok[None, :]
    window_start = whole.astype(np.intp) + pad + np.arange(candidates) * width
    low_kwh, high_kwh = _feasible_energy_kwh(problem)
    # The states an action may start from: an interval of the grid, per (n, a, c).
    state = np.arange(states)
    first = np.ceil((np.moveaxis(low_kwh, 2, 1) - grid[0]) / step - 1e-9)[..., None]
    last = np.floor((np.moveaxis(high_kwh, 2, 1) - grid[0]) / step + 1e-9)[..., None]
    feasible = (state >= first) & (state <= last)
    base = np.where(feasible, np.moveaxis(problem.stage_nok, 2, 1)[..., None], np.inf)
    # Between two neighbouring states a slot's value rises by `rises` of that slot: the
    # recursion interpolates with it, and the forward pass reads it again.
    slot_width = candidates * width
    rises = np.zeros((n + 1, slot_width))
    # The windows are views made once: making a view costs more than a step's arithmetic.
    rise_windows = sliding_window_view(rises.reshape(-1), states)
    value_windows = sliding_window_view(values.reshape(-1), states)
    slope = np.empty(base.shape[1:])
    for index in range(n - 1, -1, -1):
        flat = values[index + 1].reshape(-1)
        np.subtract(flat[1:], flat[:-1], out=rises[index + 1, :-1])
        starts = window_start[index] + (index + 1) * slot_width
        q = value_windows[starts]
        q += base[index]
        np.multiply(weight[index], rise_windows[starts], out=slope)
        q += slope
        row = values[index, :, pad : pad + states]
        np.minimum.reduce(q, axis=0, out=row)
        np.add(row, penalty[index], out=row)
    return _forward(problem, (values, rises, pad), start_kwh, (low_kwh, high_kwh))


def _feasible_energy_kwh(
    problem: _Problem,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return per action (n, c, a) the stored energies it may start from.

    Charging must not pass the maximum SoC, discharging must not pass the slot's floor
    (the minimum SoC or the departure reserve); idle is always allowed.
    """
    tolerance = 1e-9
    power = problem.power_kw
    high = np.where(power > 0, problem.max_kwh + tolerance - problem.delta_kwh, np.inf)
    floor = problem.discharge_floor_kwh[:, None, None]
    low = np.where(power < 0, floor - tolerance - problem.delta_kwh, -np.inf)
    return low, high


def _forward(
    problem: _Problem,
    recursion: tuple[NDArray[np.float64], NDArray[np.float64], int],
    start_kwh: float,
    bounds_kwh: tuple[NDArray[np.float64], NDArray[np.float64]],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Follow the cheapest action from the true (off-grid) stored energy, slot by slot.

    `recursion` is what `_solve` leaves: the values per slot (each candidate's from column
    `pad` on), their rises from state to state in the same layout, and `pad`.
    """
    values, rises, pad = recursion
    grid = problem.grid_kwh
    states = len(grid)
    step = (grid[-1] - grid[0]) / (states - 1)
    candidates, width = values.shape[1], values.shape[2]
    n = problem.slots
    low_kwh, high_kwh = bounds_kwh
    shift = problem.delta_kwh / step
    stage_nok, delta_kwh, power_kw = problem.stage_nok, problem.delta_kwh, problem.power_kw
    energy = np.full(candidates, start_kwh)
    chosen = np.zeros((candidates, n))
    rows = np.arange(candidates)
    offset = (rows * width + pad)[:, None]
    slot_width = candidates * width
    flat_values, flat_rises = values.reshape(-1), rises.reshape(-1)
    top = states - 1.0
    bottom_kwh, top_kwh = grid[0], grid[-1]
    for index in range(n):
        position = ((energy - bottom_kwh) / step)[:, None] + shift[index]
        # np.clip's Python wrapper costs more than the work on a handful of values.
        np.minimum(np.maximum(position, 0.0, out=position), top, out=position)
        lower = position.astype(np.intp)
        weight = position - lower
        lower += offset + (index + 1) * slot_width
        q = stage_nok[index] + flat_values[lower] + weight * flat_rises[lower]
        column = energy[:, None]
        q[(column < low_kwh[index]) | (column > high_kwh[index])] = np.inf
        best = q.argmin(axis=1)
        chosen[:, index] = power_kw[index][rows, best]
        energy = np.minimum(np.maximum(energy + delta_kwh[index][rows, best], bottom_kwh), top_kwh)
    return chosen, energy


def plan(inputs: PlanInputs) -> Plan:
    """Return the cost-minimising plan: charge, discharge to the house or idle per slot.

    Minimises energy cost (the given all-in prices), the rise of the month's capacity step,
    wear per kWh discharged and, when allowed, export revenue; subject to the SoC bounds,
    the departure target (or the best reachable charge), the charger's power ranges,
    efficiencies, the main fuse and no export unless allowed. Several hourly import
    thresholds are planned at once and the cheapest plan by true cost is kept; the
    cheapest-slots plan competes too, so this plan never costs more by its own measure.
    """
    horizon = build_horizon(inputs)
    if len(horizon) == 0:
        return _idle_plan(inputs, ReasonKey.NO_PRICES)
    start_kwh, assumed = _start_energy_kwh(inputs)
    thresholds = _candidate_thresholds(inputs, horizon)
    problem = _build_problem(inputs, horizon, thresholds, start_kwh, assumed)
    chosen, _ = _solve(problem, start_kwh, len(thresholds))
    end = problem.slots - 1
    options: list[tuple[float, int, NDArray[np.float64], float | None]] = []
    for index, threshold in enumerate(thresholds):
        power_kw: NDArray[np.float64] = np.zeros(len(horizon))
        power_kw[: problem.slots] = chosen[index]
        power_kw = _topped_up(inputs, horizon, power_kw, start_kwh)
        options.append(
            (
                _total_cost(
                    inputs,
                    horizon=horizon,
                    problem=problem,
                    power_kw=power_kw,
                    start_kwh=start_kwh,
                    end=end,
                ),
                index,
                power_kw,
                None if not np.isfinite(threshold) else threshold,
            )
        )
    fallback_kw, _, _ = _cheapest_powers_kw(inputs, horizon, start_kwh)
    # The same rounding the cheapest plan gets when it is built.
    fallback_kw = _without_residue(fallback_kw)
    options.append(
        (
            _total_cost(
                inputs,
                horizon=horizon,
                problem=problem,
                power_kw=fallback_kw,
                start_kwh=start_kwh,
                end=end,
            ),
            len(thresholds),
            fallback_kw,
            None,
        )
    )
    # A plan that meets the target beats any that does not, whatever the costs say.
    meeting = [
        option for option in options if _shortfall_kwh(inputs, horizon, option[2], start_kwh) == 0
    ]
    _, _, best_kw, _ = min(meeting or options, key=lambda option: (option[0], option[1]))
    threshold_kw = guard_threshold_kw(inputs, horizon, best_kw)
    shortfall = _shortfall_kwh(inputs, horizon, best_kw, start_kwh)
    return _build_plan(
        inputs,
        horizon,
        best_kw,
        start_kwh=start_kwh,
        soc_assumed=assumed,
        reason=_smart_reason(
            inputs,
            horizon=horizon,
            power_kw=best_kw,
            start_kwh=start_kwh,
            threshold_kw=threshold_kw,
            shortfall_kwh=shortfall,
        ),
        shortfall_kwh=shortfall,
        threshold_kw=threshold_kw,
    )


def _topped_up(
    inputs: PlanInputs, horizon: Horizon, power_kw: NDArray[np.float64], start_kwh: float
) -> NDArray[np.float64]:
    """Return the plan with a grid-sized shortfall at departure closed, else the plan itself.

    A plan a few Wh under the target would lose against every plan that meets it, however
    much dearer. The missing energy goes where it costs least: more power in the cheapest
    slot already charging, else less discharge in the cheapest slot discharging, else the
    charger's minimum in the cheapest idle slot. The plan stays as it is when that is not
    enough or would pass the maximum SoC.
    """
    missing = _shortfall_kwh(inputs, horizon, power_kw, start_kwh)
    if horizon.departure_index is None or not 0.0 < missing <= _TOP_UP_MAX_KWH:
        return power_kw
    charger = inputs.charger
    before_departure = np.arange(len(power_kw)) <= horizon.departure_index
    present = before_departure & (horizon.present_h > 0)
    result = power_kw.copy()
    missing = _fill_cheapest(inputs, horizon, result, missing, present & (result > 0))
    order = np.argsort(np.where(present, horizon.import_price, np.inf), kind="stable")
    min_kw = charger.min_power_w / 1000.0
    for slot in (int(slot) for slot in order if present[slot] and result[slot] < 0):
        if missing <= _EPS_KWH:
            break
        needed_kw = missing * charger.discharge_efficiency / horizon.present_h[slot]
        # A discharge may shrink to the charger's minimum, or stop altogether.
        cut_kw = needed_kw if -result[slot] - needed_kw >= min_kw else -float(result[slot])
        result[slot] += cut_kw
        missing -= cut_kw * horizon.present_h[slot] / charger.discharge_efficiency
    if missing > _EPS_KWH:
        missing = _fill_cheapest(inputs, horizon, result, missing, present & (result == 0))
    vehicle = inputs.vehicle
    max_kwh = vehicle.max_soc_pct / 100.0 * vehicle.battery_kwh
    energy = simulate_energy_kwh(inputs, horizon, result, start_kwh)
    if missing > _EPS_KWH or float(np.max(energy)) > max_kwh + _EPS_KWH:
        return power_kw
    return result


def _pad_kwh(horizon: Horizon, capacity: CapacityInputs | None = None) -> float:
    """Return the peak the days to come are counted at: the month target or the house's own.

    Without a month target the house's own forecast peak is the floor for later days. With
    one, later days are expected to be held at it, unless the house itself stays lower.
    """
    house_kwh = float(np.max(horizon.peak_kw, initial=0.0))
    if capacity is None or capacity.month_target_kwh is None:
        return house_kwh
    return min(house_kwh, capacity.month_target_kwh)


def guard_threshold_kw(
    inputs: PlanInputs, horizon: Horizon, power_kw: NDArray[np.float64]
) -> float | None:
    """Return the hourly import (kWh/h) the rule layer should hold the running hour under.

    It is the plan's own highest hour today, or the level that changes nothing (the
    third-highest daily peak) if that is higher: the plan accepted that peak, and the
    rules keep what the forecast missed from pushing beyond it.
    """
    capacity = inputs.capacity
    if capacity is None:
        return None
    import_kwh, _ = grid_flows_kwh(horizon, power_kw)
    hour_kwh = hourly_import_kwh(inputs, horizon, import_kwh)
    planned_today = hour_kwh[horizon.hours.day == 0]
    level = max(
        free_level_kwh(capacity, _pad_kwh(horizon, capacity)),
        float(np.max(planned_today, initial=0.0)),
    )
    return round(level, 3)


def _shortfall_kwh(
    inputs: PlanInputs, horizon: Horizon, power_kw: NDArray[np.float64], start_kwh: float
) -> float:
    """Return how far below the target a plan leaves the car at departure (0 without one).

    Residues below `_EPS_KWH` count as 0: the target is met.
    """
    if horizon.departure_index is None:
        return 0.0
    energy = simulate_energy_kwh(inputs, horizon, power_kw, start_kwh)
    missing = _target_kwh(inputs) - float(energy[horizon.departure_index])
    return missing if missing >= _EPS_KWH else 0.0


def _total_cost(
    inputs: PlanInputs,
    *,
    horizon: Horizon,
    problem: _Problem,
    power_kw: NDArray[np.float64],
    start_kwh: float,
    end: int,
) -> float:
    """Return a plan's true cost: horizon cost plus the value of where it leaves the car."""
    energy = simulate_energy_kwh(inputs, horizon, power_kw, start_kwh)
    end_kwh = np.asarray([energy[end]])
    terminal = float(np.interp(end_kwh, problem.grid_kwh, problem.terminal_nok)[0])
    below_min = float(
        np.sum(np.maximum(problem.min_kwh - energy[: end + 1], 0.0) * problem.below_min_nok_per_kwh)
    )
    return plan_cost_nok(inputs, horizon, power_kw) + terminal + below_min


def _smart_reason(
    inputs: PlanInputs,
    *,
    horizon: Horizon,
    power_kw: NDArray[np.float64],
    start_kwh: float,
    threshold_kw: float | None,
    shortfall_kwh: float,
) -> ReasonKey:
    """Explain the smart plan's decision for the running slot."""
    vehicle = inputs.vehicle
    now_kw = float(power_kw[0])
    min_kwh = vehicle.min_soc_pct / 100.0 * vehicle.battery_kwh
    if now_kw > 0:
        if start_kwh < min_kwh - 1e-9:
            return ReasonKey.BELOW_MIN_SOC
        if shortfall_kwh > 0:
            return ReasonKey.TARGET_UNREACHABLE
        if start_kwh >= _target_kwh(inputs) - 1e-9:
            return ReasonKey.STORE_CHEAP_ENERGY
        return ReasonKey.CHEAPEST_SLOT
    if now_kw < 0:
        load_kw = float(horizon.load_kw[0])
        if -now_kw > load_kw + 1e-6:
            return ReasonKey.EXPORT
        if threshold_kw is not None and load_kw > threshold_kw:
            return ReasonKey.PEAK_SHAVING
        return ReasonKey.COVER_HOUSE_LOAD
    if shortfall_kwh > 0:
        return ReasonKey.TARGET_UNREACHABLE
    if start_kwh >= _target_kwh(inputs) - 1e-9:
        return ReasonKey.TARGET_REACHED if not inputs.allow_v2h else ReasonKey.HOLD_FOR_LATER
    return ReasonKey.WAITING_FOR_CHEAPER_SLOT
