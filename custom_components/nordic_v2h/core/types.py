"""Plan inputs and outputs: what the planner is given and the immutable plan it returns.

Powers are at the charger's AC side in W, positive into the car, negative out of it.
Prices are all-in NOK per kWh for one slot (the tariff model turns spot, grid energy
component, taxes and subsidy into these); the capacity tariff is passed as its step table
and this month's peaks so that the planner can price a new peak itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
import math
from typing import TYPE_CHECKING, Literal

import numpy as np

from .timeseries import QUARTER_S, ensure_utc

if TYPE_CHECKING:
    from numpy.typing import NDArray

# Weight of the spread-out step price in the expected capacity cost (the rest is the step).
SMOOTH_WEIGHT = 0.5


class Decision(StrEnum):
    """What the charger does now."""

    CHARGE = "charge"
    DISCHARGE = "discharge"
    IDLE = "idle"


class ReasonKey(StrEnum):
    """Why the charger does what it does now; stable keys for translations and automations."""

    BELOW_MIN_SOC = "below_min_soc"
    CHEAPEST_SLOT = "cheapest_slot"
    WAITING_FOR_CHEAPER_SLOT = "waiting_for_cheaper_slot"
    TARGET_REACHED = "target_reached"
    SOC_UNKNOWN_FULL_CHARGE_ASSUMED = "soc_unknown_full_charge_assumed"
    TARGET_UNREACHABLE = "target_unreachable"
    NO_PRICES = "no_prices"
    NO_DEPARTURE_WITHIN_PRICES = "no_departure_within_prices"
    DEPARTURE_PASSED = "departure_passed"
    COVER_HOUSE_LOAD = "cover_house_load"
    PEAK_SHAVING = "peak_shaving"
    EXPORT = "export"
    STORE_CHEAP_ENERGY = "store_cheap_energy"
    HOLD_FOR_LATER = "hold_for_later"
    HOUR_IMPORT_GUARD = "hour_import_guard"
    HYSTERESIS_HOLD = "hysteresis_hold"
    MAIN_FUSE = "main_fuse"
    MIN_SOC_REACHED = "min_soc_reached"
    SOC_UNKNOWN_NO_DISCHARGE = "soc_unknown_no_discharge"
    HOUSE_METER_NOT_READING = "house_meter_not_reading"
    MISSING_INPUTS = "missing_inputs"


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleState:
    """The car as the planner sees it; `soc_pct` None means unknown (never read as 0 %)."""

    soc_pct: float | None
    battery_kwh: float
    min_soc_pct: float
    target_soc_pct: float
    max_soc_pct: float = 100.0
    departure_utc: datetime | None = None

    def __post_init__(self) -> None:
        """Reject impossible vehicle settings with a clear message."""
        if not math.isfinite(self.battery_kwh) or self.battery_kwh <= 0:
            raise ValueError(f"battery_kwh must be positive, got {self.battery_kwh}")
        if not 0 <= self.min_soc_pct <= self.max_soc_pct <= 100:
            raise ValueError("need 0 <= min_soc_pct <= max_soc_pct <= 100")
        if not 0 <= self.target_soc_pct <= 100:
            raise ValueError(f"target_soc_pct out of range: {self.target_soc_pct}")
        if self.soc_pct is not None and not 0 <= self.soc_pct <= 100:
            raise ValueError(f"soc_pct out of range: {self.soc_pct}")
        if self.departure_utc is not None:
            object.__setattr__(self, "departure_utc", ensure_utc(self.departure_utc))


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerLimits:
    """The wallbox: power is 0 or within [min_power_w, max] in each direction."""

    min_power_w: float
    max_charge_w: float
    max_discharge_w: float
    charge_efficiency: float = 0.92
    discharge_efficiency: float = 0.92

    def __post_init__(self) -> None:
        """Reject impossible charger limits with a clear message."""
        if self.min_power_w < 0 or self.max_charge_w < 0 or self.max_discharge_w < 0:
            raise ValueError("charger powers must not be negative")
        for name in ("charge_efficiency", "discharge_efficiency"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {value}")


@dataclass(frozen=True, slots=True, kw_only=True)
class CapacityTable:
    """A capacity step table as billed (NOK per month incl VAT)."""

    step_from_kw: tuple[float, ...]
    step_nok_per_month: tuple[float, ...]
    threshold_inclusive: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class CapacityInputs:
    """The monthly capacity tariff and this month's peaks so far (hourly import, kWh/h).

    `step_from_kw[i]` is where step i starts and `step_nok_per_month[i]` what it costs;
    the month's step is picked by the mean of the three highest daily peaks.
    `month_daily_peaks_kwh` holds the finished local days of this month, `today_peak_kwh`
    the highest finished clock hour of today, and `current_hour_import_kwh` the import so
    far in the running clock hour. `month_target_kwh` is the daily peak the days still to
    come are expected to be held at (see `month_target`); None counts them at the house's
    own forecast peak. `future_day_peaks_kwh` is a sample of what a day to come may peak
    at (past days replayed at the target, see `month_target`): with it, the days left in
    the month are drawn from the sample and the step is priced by its expected cost, mixed
    with the smoothed step (`planner.OUTLOOK_WEIGHT`). `next_month_table` is the next
    month's step table when it differs (a tariff that changes on the 1st); a plan made on
    a month's last day prices the next month's hours with it.
    """

    step_from_kw: tuple[float, ...]
    step_nok_per_month: tuple[float, ...]
    threshold_inclusive: bool = True
    month_daily_peaks_kwh: tuple[float, ...] = ()
    today_peak_kwh: float = 0.0
    current_hour_import_kwh: float = 0.0
    month_target_kwh: float | None = None
    future_day_peaks_kwh: tuple[float, ...] = ()
    next_month_table: CapacityTable | None = None

    def __post_init__(self) -> None:
        """Check that the step table is non-empty, ascending and consistent."""
        if not self.step_from_kw or len(self.step_from_kw) != len(self.step_nok_per_month):
            raise ValueError("capacity step table is empty or its columns differ in length")
        if any(b <= a for a, b in zip(self.step_from_kw, self.step_from_kw[1:], strict=False)):
            raise ValueError("capacity steps must be strictly ascending")

    @classmethod
    def from_tables(
        cls,
        table: CapacityTable,
        next_month_table: CapacityTable | None,
        *,
        month_daily_peaks_kwh: tuple[float, ...],
        today_peak_kwh: float,
        current_hour_import_kwh: float,
    ) -> CapacityInputs:
        """Return the inputs for this month's table, carrying the next month's if it differs."""
        return cls(
            step_from_kw=table.step_from_kw,
            step_nok_per_month=table.step_nok_per_month,
            threshold_inclusive=table.threshold_inclusive,
            month_daily_peaks_kwh=month_daily_peaks_kwh,
            today_peak_kwh=today_peak_kwh,
            current_hour_import_kwh=current_hour_import_kwh,
            next_month_table=None if next_month_table == table else next_month_table,
        )

    def for_next_month(self) -> CapacityInputs:
        """Return these inputs with the next month's step table, where it has its own."""
        table = self.next_month_table
        if table is None:
            return self
        return replace(
            self,
            step_from_kw=table.step_from_kw,
            step_nok_per_month=table.step_nok_per_month,
            threshold_inclusive=table.threshold_inclusive,
            next_month_table=None,
        )

    def step_cost_nok(self, level_kw: float) -> float:
        """Return the monthly cost of the step that a three-peak mean of `level_kw` falls in."""
        cost = self.step_nok_per_month[0]
        for start_kw, step_nok in zip(self.step_from_kw, self.step_nok_per_month, strict=True):
            if level_kw > start_kw or (self.threshold_inclusive and level_kw >= start_kw):
                cost = step_nok
        return cost

    def smooth_cost_nok(self, level_kw: float) -> float:
        """Return the expected month cost of a three-peak mean: half step, half spread.

        Before the month ends nobody knows which step it lands in. Half of the weight is
        the step itself (crossing an edge is a real jump), half the step's price rise
        spread linearly over its width (every kW of headroom used now is missing later).
        The steps above the last edge stay flat.
        """
        edges = self.step_from_kw
        costs = self.step_nok_per_month
        spread = costs[-1]
        for index in range(len(edges) - 1):
            if level_kw < edges[index + 1]:
                share = max(level_kw - edges[index], 0.0) / (edges[index + 1] - edges[index])
                spread = costs[index] + share * (costs[index + 1] - costs[index])
                break
        return SMOOTH_WEIGHT * spread + (1.0 - SMOOTH_WEIGHT) * self.step_cost_nok(level_kw)

    def step_costs_nok(self, levels_kw: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return `step_cost_nok` of many three-peak means at once."""
        side: Literal["left", "right"] = "right" if self.threshold_inclusive else "left"
        index = np.searchsorted(np.asarray(self.step_from_kw), levels_kw, side=side) - 1
        costs = np.asarray(self.step_nok_per_month, dtype=np.float64)
        result: NDArray[np.float64] = costs[np.maximum(index, 0)]
        return result


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanInputs:
    """Everything one plan depends on; the same inputs always give the same plan.

    Price tuples hold one value per slot of `slot_s` seconds from `start_utc` (all-in NOK
    per kWh); `house_load_kw` (optional) is the forecast mean house power per slot, without
    the car. `max_import_w` is what the main fuse lets the house draw.
    """

    now_utc: datetime
    start_utc: datetime
    import_price_nok_per_kwh: tuple[float, ...]
    export_price_nok_per_kwh: tuple[float, ...]
    vehicle: VehicleState
    charger: ChargerLimits
    slot_s: int = QUARTER_S
    house_load_kw: tuple[float, ...] | None = None
    house_peak_kw: tuple[float, ...] | None = None
    allow_v2h: bool = True
    allow_export: bool = False
    max_import_w: float | None = None
    wear_nok_per_kwh: float = 0.20
    capacity: CapacityInputs | None = None

    def __post_init__(self) -> None:
        """Normalise instants to UTC and reject inconsistent series."""
        object.__setattr__(self, "now_utc", ensure_utc(self.now_utc))
        object.__setattr__(self, "start_utc", ensure_utc(self.start_utc))
        if self.slot_s <= 0 or 3600 % self.slot_s:
            raise ValueError(f"slot length {self.slot_s} s does not divide an hour")
        if len(self.export_price_nok_per_kwh) != len(self.import_price_nok_per_kwh):
            raise ValueError("import and export prices must have the same number of slots")
        if self.house_load_kw is not None and len(self.house_load_kw) != len(
            self.import_price_nok_per_kwh
        ):
            raise ValueError("house load forecast must have one value per price slot")
        if self.house_peak_kw is not None and len(self.house_peak_kw) != len(
            self.import_price_nok_per_kwh
        ):
            raise ValueError("house peak forecast must have one value per price slot")

    @property
    def end_utc(self) -> datetime:
        """Return the end of the last priced slot."""
        return self.start_utc + timedelta(seconds=self.slot_s * len(self.import_price_nok_per_kwh))


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanSlot:
    """One slot of a plan: the car's power and what it leads to."""

    start_utc: datetime
    duration_s: float
    power_w: float
    soc_pct_end: float | None
    grid_import_kwh: float
    grid_export_kwh: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """An immutable plan: one power per slot from now, the decision now and why."""

    created_utc: datetime
    slots: tuple[PlanSlot, ...]
    decision: Decision
    reason: ReasonKey
    expected_cost_nok: float
    import_threshold_kw: float | None = None
    departure_shortfall_kwh: float = 0.0
    soc_assumed: bool = False

    @property
    def power_now_w(self) -> float:
        """Return the planned power of the slot running now (0 without slots)."""
        return self.slots[0].power_w if self.slots else 0.0
