"""Hard safety limits applied to every setpoint, whatever decided it.

Savings never override these: the car's minimum state of charge, an unknown state of charge
(no discharge on a guess), the charger's minimum power (a setpoint is 0 or at least the
minimum in its direction), the charger's maxima, and the main fuse of the house.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LimitReason(StrEnum):
    """Why a requested setpoint was changed, or `NONE` when it passed untouched."""

    NONE = "none"
    NOT_PLUGGED_IN = "not_plugged_in"
    SOC_UNKNOWN = "soc_unknown"
    MIN_SOC_REACHED = "min_soc_reached"
    MAX_SOC_REACHED = "max_soc_reached"
    V2H_NOT_ALLOWED = "v2h_not_allowed"
    MAIN_FUSE = "main_fuse"
    HOUSE_POWER_UNKNOWN = "house_power_unknown"
    CHARGER_MAXIMUM = "charger_maximum"
    BELOW_MINIMUM_POWER = "below_minimum_power"


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyLimits:
    """The limits one setpoint must respect; powers in W at the charger's AC side.

    `max_import_w` is what the main fuse allows the whole house to draw; with the house's
    own consumption known, charging is reduced so the sum stays below it, and while it is
    unknown charging is held at the charger's minimum.
    """

    min_power_w: int
    max_charge_power_w: int
    max_discharge_power_w: int
    min_soc_pct: float
    max_soc_pct: float = 100.0
    allow_discharge: bool = True
    max_import_w: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SafeSetpoint:
    """A setpoint after the safety limits, with the reason for any change."""

    power_w: int
    limited_by: LimitReason


def apply_safety(
    requested_w: float,
    *,
    limits: SafetyLimits,
    plugged_in: bool,
    soc_pct: float | None,
    house_power_w: float | None = None,
    current_charger_power_w: float = 0.0,
) -> SafeSetpoint:
    """Return the setpoint closest to the request that respects every hard limit.

    `house_power_w` is the whole house's import measured at the meter, which already
    includes the charger's present power (negative while discharging); the fuse check takes
    it out to find the house's own draw and the room left.
    """
    if not plugged_in:
        return SafeSetpoint(power_w=0, limited_by=LimitReason.NOT_PLUGGED_IN)
    power_w = float(requested_w)
    reason = LimitReason.NONE
    if power_w < 0:
        if not limits.allow_discharge:
            return SafeSetpoint(power_w=0, limited_by=LimitReason.V2H_NOT_ALLOWED)
        # Discharging on a guessed state of charge could empty the car below what the owner needs.
        if soc_pct is None:
            return SafeSetpoint(power_w=0, limited_by=LimitReason.SOC_UNKNOWN)
        if soc_pct <= limits.min_soc_pct:
            return SafeSetpoint(power_w=0, limited_by=LimitReason.MIN_SOC_REACHED)
        if -power_w > limits.max_discharge_power_w:
            power_w, reason = -float(limits.max_discharge_power_w), LimitReason.CHARGER_MAXIMUM
    elif power_w > 0:
        if soc_pct is not None and soc_pct >= limits.max_soc_pct:
            return SafeSetpoint(power_w=0, limited_by=LimitReason.MAX_SOC_REACHED)
        if power_w > limits.max_charge_power_w:
            power_w, reason = float(limits.max_charge_power_w), LimitReason.CHARGER_MAXIMUM
        if limits.max_import_w is not None and house_power_w is None:
            # The room under the fuse cannot be seen (the meter has no reading): the car
            # takes the least it can rather than risk the house's fuse.
            if power_w > limits.min_power_w:
                power_w, reason = float(limits.min_power_w), LimitReason.HOUSE_POWER_UNKNOWN
        elif limits.max_import_w is not None and house_power_w is not None:
            # A discharging car hides its power from the meter: the house draws that much more.
            house_without_charger_w = house_power_w - current_charger_power_w
            room_w = limits.max_import_w - house_without_charger_w
            if power_w > room_w:
                power_w, reason = room_w, LimitReason.MAIN_FUSE
    if power_w != 0 and abs(power_w) < limits.min_power_w:
        return SafeSetpoint(
            power_w=0,
            limited_by=reason
            if reason is not LimitReason.NONE
            else LimitReason.BELOW_MINIMUM_POWER,
        )
    return SafeSetpoint(power_w=round(power_w), limited_by=reason)
