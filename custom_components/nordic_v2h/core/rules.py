"""The real-time rule layer: turns the plan's slot power into the setpoint for the wallbox.

It runs far more often than the planner (every few seconds) and sees what the plan could
not: the house power measured now and the import already drawn in the running clock
hour. The tariff counts whole clock hours, so when the hour is heading above the plan's
import threshold the remaining minutes discharge more (or charge less) to compensate.
Hard limits always win: the minimum SoC, an unknown SoC (no discharge), the main fuse
and the charger's power range; small changes are held back so the charger is not
toggled for pennies.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

from .timeseries import HOUR_S
from .types import ChargerLimits, Decision, Plan, ReasonKey, VehicleState

# Changes smaller than this (W) keep the previous setpoint: the charger ramps slowly and
# each command costs wear and log noise for a gain of a few øre.
DEFAULT_HYSTERESIS_W = 300.0
# The hour guard acts only when the projected excess is at least this much energy
# (kWh): below it the capacity measure moves by less than 0.05 kW.
DEFAULT_MIN_EXCESS_KWH = 0.05
# Time kept in reserve before departure when the hour guard wants to charge less (h).
GUARD_MARGIN_H = 0.5


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleInputs:
    """What the rule layer knows at one instant; powers in W, energies in kWh.

    `house_power_w` is the house's own consumption now, without the car (the meter's
    reading minus the charger's power); `hour_import_kwh` what the meter counted in the
    running clock hour so far. `threshold_kw` is the plan's hourly import threshold
    (None: no guard). `previous_setpoint_w` is the setpoint in force (None at start-up).
    """

    now_utc_s: float
    plan: Plan | None
    vehicle: VehicleState
    charger: ChargerLimits
    house_power_w: float | None
    hour_import_kwh: float | None
    threshold_kw: float | None
    allow_v2h: bool = True
    allow_export: bool = False
    max_import_w: float | None = None
    previous_setpoint_w: float | None = None
    hysteresis_w: float = DEFAULT_HYSTERESIS_W
    min_excess_kwh: float = DEFAULT_MIN_EXCESS_KWH


@dataclass(frozen=True, slots=True, kw_only=True)
class Setpoint:
    """The power to write to the wallbox (W, + into the car) with its decision and reason."""

    power_w: float
    decision: Decision
    reason: ReasonKey


def _planned_power_w(inputs: RuleInputs) -> tuple[float, ReasonKey] | None:
    """Return the plan's power for the slot containing now, or None without one."""
    plan = inputs.plan
    if plan is None:
        return None
    for slot in plan.slots:
        start_s = slot.start_utc.timestamp()
        # A partial first slot starts at the plan's creation, so its end is start + its length.
        end_s = max(start_s, plan.created_utc.timestamp()) + slot.duration_s
        if start_s <= inputs.now_utc_s < end_s:
            return slot.power_w, plan.reason
    return None


def decide(inputs: RuleInputs) -> Setpoint:
    """Return the setpoint now: the plan's power, guarded for the hour and made safe."""
    vehicle, charger = inputs.vehicle, inputs.charger
    planned = _planned_power_w(inputs)
    if planned is None:
        # No plan for now (no prices, planner failure): charge toward the target anyway,
        # since a missed departure costs the owner far more than an expensive hour.
        below_target = vehicle.soc_pct is None or vehicle.soc_pct < vehicle.target_soc_pct
        power_w = charger.max_charge_w if below_target else 0.0
        reason = ReasonKey.MISSING_INPUTS
    else:
        power_w, reason = planned
    power_w, reason = _hour_guard(inputs, power_w, reason)
    power_w, reason, safety = _safe(inputs, power_w, reason)
    previous = inputs.previous_setpoint_w
    # Near departure every watt counts: no hysteresis when the target needs full power,
    # nor, in the last hour, a hold that leaves the car with less than the plan.
    tight = _departure_floor_w(inputs) > 0 or (
        previous is not None and previous < power_w and _departure_within(inputs, HOUR_S)
    )
    # A request equal to the running setpoint holds nothing: it keeps its own reason (such
    # as a house meter without a reading), which says more than "held".
    if (
        not safety
        and not tight
        and previous is not None
        and power_w != previous
        and abs(power_w - previous) < inputs.hysteresis_w
        and (power_w == 0) == (previous == 0)
    ):
        # Hold the running setpoint only if it is itself still safe and keeps the running
        # hour under the threshold: a hold must not undo what the hour guard just did.
        held, _, held_safety = _safe(inputs, previous, reason)
        guarded, _ = _hour_guard(inputs, previous, reason)
        if not held_safety and held == previous and guarded == previous:
            power_w, reason = previous, ReasonKey.HYSTERESIS_HOLD
    return Setpoint(power_w=power_w, decision=_decision(power_w), reason=reason)


def _decision(power_w: float) -> Decision:
    """Map a signed power to the decision shown to the user."""
    if power_w > 0:
        return Decision.CHARGE
    if power_w < 0:
        return Decision.DISCHARGE
    return Decision.IDLE


def _hour_guard(inputs: RuleInputs, power_w: float, reason: ReasonKey) -> tuple[float, ReasonKey]:
    """Lower the car's power so the running clock hour stays under the import threshold."""
    if (
        inputs.threshold_kw is None
        or inputs.house_power_w is None
        or inputs.hour_import_kwh is None
    ):
        return power_w, reason
    left_h = (HOUR_S - inputs.now_utc_s % HOUR_S) / HOUR_S
    house_kw = inputs.house_power_w / 1000.0
    projected_kwh = inputs.hour_import_kwh + max(house_kw + power_w / 1000.0, 0.0) * left_h
    excess_kwh = projected_kwh - inputs.threshold_kw
    if excess_kwh < inputs.min_excess_kwh or left_h <= 0:
        return power_w, reason
    # Spread the excess over the minutes left: the meter only sees the hour's total.
    lowered_w = power_w - excess_kwh / left_h * 1000.0
    if not inputs.allow_export:
        lowered_w = max(lowered_w, -inputs.house_power_w)
    # The departure target comes before the capacity step: never cut below what it needs,
    # and never discharge for the hour while the target already needs full power. (With an
    # unknown SoC the safety layer refuses any discharge and says why.)
    if power_w > 0 or inputs.vehicle.soc_pct is not None:
        lowered_w = max(lowered_w, min(_departure_floor_w(inputs), power_w))
    if lowered_w < 0:
        lowered_w = max(lowered_w, -_guard_discharge_limit_w(inputs, left_h))
    if lowered_w >= power_w:
        return power_w, reason
    return lowered_w, ReasonKey.HOUR_IMPORT_GUARD


def _departure_within(inputs: RuleInputs, seconds: float) -> bool:
    """Return whether the set departure is ahead and less than `seconds` away."""
    departure = inputs.vehicle.departure_utc
    if departure is None:
        return False
    return 0 < departure.timestamp() - inputs.now_utc_s < seconds


def _guard_discharge_limit_w(inputs: RuleInputs, hour_left_h: float) -> float:
    """Return the most the guard may discharge now and still leave the car at its target.

    The guard's discharge is assumed to last the rest of the hour (or until departure);
    what it takes beyond the surplus over the target must fit back in at full power in the
    time after it, less the margin. Close to departure that is little or nothing.
    """
    vehicle, charger = inputs.vehicle, inputs.charger
    if vehicle.departure_utc is None or vehicle.soc_pct is None:
        return math.inf
    departure_left_h = (vehicle.departure_utc.timestamp() - inputs.now_utc_s) / HOUR_S
    if departure_left_h <= 0:
        return math.inf
    span_h = min(hour_left_h, departure_left_h)
    surplus_kwh = (vehicle.soc_pct - vehicle.target_soc_pct) / 100.0 * vehicle.battery_kwh
    surplus_kwh += _recharge_kwh(inputs, departure_left_h - span_h)
    if surplus_kwh <= 0:
        return 0.0
    return surplus_kwh * charger.discharge_efficiency / span_h * 1000.0


def _departure_floor_w(inputs: RuleInputs) -> float:
    """Return the charging power needed now so the target is still reachable at departure."""
    vehicle, charger = inputs.vehicle, inputs.charger
    if vehicle.departure_utc is None:
        return -math.inf
    if vehicle.soc_pct is None:
        return charger.max_charge_w
    needed_kwh = (vehicle.target_soc_pct - vehicle.soc_pct) / 100.0 * vehicle.battery_kwh
    left_h = (vehicle.departure_utc.timestamp() - inputs.now_utc_s) / HOUR_S
    if needed_kwh <= _recharge_kwh(inputs, left_h):
        return -math.inf
    return charger.max_charge_w


def _recharge_kwh(inputs: RuleInputs, hours_h: float) -> float:
    """Return what full power stores in `hours_h` before departure, less the margin.

    The margin is one slot or more: the charger ramps and the plan's slots are whole quarters.
    """
    charger = inputs.charger
    return (
        max(hours_h - GUARD_MARGIN_H, 0.0)
        * charger.max_charge_w
        / 1000.0
        * charger.charge_efficiency
    )


def _safe(inputs: RuleInputs, power_w: float, reason: ReasonKey) -> tuple[float, ReasonKey, bool]:
    """Apply the hard limits; return the power, the reason and whether a limit acted."""
    vehicle, charger = inputs.vehicle, inputs.charger
    if power_w < 0:
        if not inputs.allow_v2h:
            return 0.0, reason, True
        if vehicle.soc_pct is None:
            return 0.0, ReasonKey.SOC_UNKNOWN_NO_DISCHARGE, True
        if vehicle.soc_pct <= vehicle.min_soc_pct:
            return 0.0, ReasonKey.MIN_SOC_REACHED, True
        power_w = max(power_w, -charger.max_discharge_w)
        if not inputs.allow_export:
            if inputs.house_power_w is None:
                # How much would stay in the house cannot be seen: no discharge rather
                # than an export that is not allowed.
                return 0.0, ReasonKey.HOUSE_METER_NOT_READING, True
            power_w = max(power_w, -max(inputs.house_power_w, 0.0))
        if -power_w < charger.min_power_w:
            # Too little to cover with the charger's minimum: idle rather than export.
            return 0.0, reason, False
        return power_w, reason, False
    if power_w > 0:
        if vehicle.soc_pct is not None and vehicle.soc_pct >= vehicle.max_soc_pct:
            return 0.0, ReasonKey.TARGET_REACHED, True
        limited = False
        power_w = min(power_w, charger.max_charge_w)
        if inputs.max_import_w is not None and inputs.house_power_w is not None:
            room_w = inputs.max_import_w - inputs.house_power_w
            if power_w > room_w:
                power_w, reason, limited = room_w, ReasonKey.MAIN_FUSE, True
        if power_w < charger.min_power_w:
            return 0.0, reason, limited
        return power_w, reason, limited
    return 0.0, reason, False
