"""Charging plans: the cheapest-slots planner and the cost-minimising V2H planner.

Both take a `PlanInputs` and return a frozen `Plan` with one power per slot from now.
`plan_cheapest` is the ev_smart_charging approach (full power in the cheapest slots
before departure, never discharge); `plan` is the product's planner, a dynamic programme
over the car's stored energy that also discharges to the house and guards the month's
capacity step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from .timeseries import HOUR_S, OSLO
from .types import Decision, Plan, PlanInputs, PlanSlot, ReasonKey

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .types import CapacityInputs

# Power below this is treated as zero: a rounding residue, not a command.
_EPS_W = 1.0


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
    charge_cap_kw: NDArray[np.float64]
    departure_index: int | None

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
        charge_cap_kw=np.maximum(charge_cap_kw, 0.0),
        departure_index=departure_index,
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


def _hourly_peaks_cost(
    capacity: CapacityInputs, now_utc: datetime, hour_epoch_s: list[int], hour_kwh: list[float]
) -> float:
    """Return how much the month's capacity step rises if these future hours happen."""
    now_local = now_utc.astimezone(OSLO)
    today = now_local.date()
    day_peaks: dict[object, float] = {today: capacity.today_peak_kwh}
    for epoch_s, kwh in zip(hour_epoch_s, hour_kwh, strict=True):
        local = datetime.fromtimestamp(epoch_s, tz=UTC).astimezone(OSLO)
        # A new month starts a new capacity count; its peaks are not this month's step.
        if (local.year, local.month) != (now_local.year, now_local.month):
            continue
        day = local.date()
        day_peaks[day] = max(day_peaks.get(day, 0.0), kwh)
    before = [*capacity.month_daily_peaks_kwh, capacity.today_peak_kwh]
    after = [*capacity.month_daily_peaks_kwh, *day_peaks.values()]
    return capacity.step_cost_nok(_top3_mean(after)) - capacity.step_cost_nok(_top3_mean(before))


def _top3_mean(peaks: list[float]) -> float:
    """Return the mean of the three highest daily peaks (of all there are, if fewer)."""
    top = sorted(peaks, reverse=True)[:3]
    return sum(top) / len(top) if top else 0.0


def hourly_import_kwh(
    inputs: PlanInputs, horizon: Horizon, import_kwh: NDArray[np.float64]
) -> tuple[list[int], list[float]]:
    """Sum the slots' import into clock hours, adding what the running hour already drew."""
    hours = horizon.start_epoch_s // HOUR_S
    sums: dict[int, float] = {}
    for hour_raw, kwh_raw in zip(hours, import_kwh, strict=True):
        hour = int(hour_raw)
        sums[hour] = sums.get(hour, 0.0) + float(kwh_raw)
    if inputs.capacity is not None and len(hours):
        first = int(hours[0])
        sums[first] = sums.get(first, 0.0) + inputs.capacity.current_hour_import_kwh
    return [hour * HOUR_S for hour in sums], list(sums.values())


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
        hour_s, hour_kwh = hourly_import_kwh(inputs, horizon, import_kwh)
        cost += _hourly_peaks_cost(inputs.capacity, inputs.now_utc, hour_s, hour_kwh)
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
    power_kw = np.where(np.abs(power_kw) * 1000.0 < _EPS_W, 0.0, power_kw)
    energy = simulate_energy_kwh(inputs, horizon, power_kw, start_kwh)
    import_kwh, export_kwh = grid_flows_kwh(horizon, power_kw)
    battery = inputs.vehicle.battery_kwh
    slots = tuple(
        PlanSlot(
            start_utc=datetime.fromtimestamp(int(start_s), tz=UTC),
            duration_s=float(horizon.duration_h[index] * HOUR_S),
            power_w=float(power_kw[index] * 1000.0),
            soc_pct_end=None if soc_assumed else float(energy[index] / battery * 100.0),
            grid_import_kwh=float(import_kwh[index]),
            grid_export_kwh=float(export_kwh[index]),
        )
        for index, start_s in enumerate(int(value) for value in horizon.start_epoch_s)
    )
    now_kw = float(power_kw[0]) if len(power_kw) else 0.0
    if now_kw > 0:
        decision = Decision.CHARGE
    elif now_kw < 0:
        decision = Decision.DISCHARGE
    else:
        decision = Decision.IDLE
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
    vehicle = inputs.vehicle
    start_kwh, assumed = _start_energy_kwh(inputs)
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
    if reason is not ReasonKey.BELOW_MIN_SOC or power_kw[0] <= 0:
        reason = _cheapest_reason(inputs, horizon, power_kw, needed, shortfall)
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
    if shortfall_kwh > 1e-6 and horizon.departure_index is not None:
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
