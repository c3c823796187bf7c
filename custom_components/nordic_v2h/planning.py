"""Build the planner's inputs from Home Assistant's view of the world, for the executor.

Everything here is synchronous and free of the event loop: the controller calls
`build_auto_plan` through `hass.async_add_executor_job`, because planning a day and a half
of quarter-hours is numerical work that must never block Home Assistant.

With a cost model (the tariff step of the config flow) the plan prices every quarter at the
all-in import price (spot, grid energy component, taxes, VAT, minus strømstøtte, or
Norgespris) and, with a house power sensor, also weighs this month's capacity step using the
measured peaks and a load forecast, through the smart planner (`core.planner.plan`). When an
input is missing (no tariff or no house sensor) it charges toward the target in the cheapest
known quarters (`core.planner.plan_cheapest`) on whatever price it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
import math
from typing import TYPE_CHECKING, Final

import numpy as np

from .core.forecast import forecast_hourly_kw, forecast_hourly_peak_kw
from .core.month_target import month_outlook
from .core.planner import plan, plan_cheapest
from .core.rules import RuleInputs, Setpoint, decide
from .core.timeseries import HOUR_S, QUARTER_S, SlotSeries, floor_to_slot, utc_offsets_h
from .core.types import CapacityInputs, ChargerLimits, Plan, PlanInputs, VehicleState

if TYPE_CHECKING:
    from datetime import datetime

    from numpy.typing import NDArray

    from .core.tariff import CostModel
    from .settings import ControlSettings
    from .transport import ChargerCapabilities, ChargerState

type AutoPlan = Plan

# Below a day of measured hours the profile forecast has nothing to stand on: the house is
# assumed to keep drawing what it draws now.
MIN_FORECAST_HOURS: Final = 24
# Hours of history handed to the forecast: four weeks, its longest look-back.
FORECAST_HISTORY_HOURS: Final = 4 * 7 * 24


@dataclass(frozen=True, slots=True, kw_only=True)
class HouseContext:
    """What the house meter tells the planner: current draw, measured hours and this month's peaks.

    `house_power_w` is the house's own draw now (the meter minus the car); `history_kw` the
    house's own mean power of the last finished clock hours, oldest first (NaN where
    missing). `plugged_in` says per hour of the history whether the car was plugged in
    (empty: assumed always), `drive_kwh_per_day` what the car was charged per day.
    """

    house_power_w: float | None
    history_kw: tuple[float, ...] = ()
    capacity: CapacityInputs | None = None
    plugged_in: tuple[bool, ...] = ()
    drive_kwh_per_day: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanContext:
    """The costs and the house, when known; None fields make the planner fall back to cheapest."""

    cost_model: CostModel | None = None
    house: HouseContext | None = field(default=None)
    # The meter's import this month so far: past the monthly cap, no strømstøtte or Norgespris.
    month_import_kwh: float = 0.0


def next_departure_utc(now_utc: datetime, settings: ControlSettings) -> datetime:
    """Return the next time the owner leaves: a one-off trip, the weekday schedule or the daily time."""
    return settings.next_departure(now_utc)[0].astimezone(now_utc.tzinfo)


def import_prices_this_month(
    model: CostModel, spot: SlotSeries, now_utc: datetime, month_import_kwh: float
) -> SlotSeries:
    """Return the all-in import prices, without the subsidy once this month's cap is used up.

    Strømstøtte and Norgespris cover a month's first kWh only (5,000 for a home). Past the cap
    the rest of the month is priced from the running clock hour on (its quarters' mean sets
    the hour's subsidy), so that the capped month is the month of `now`.
    """
    if month_import_kwh < model.monthly_cap_kwh:
        return model.import_price_nok_per_kwh(spot)
    from_hour = spot.window(floor_to_slot(now_utc, HOUR_S), spot.end_utc)
    return model.import_price_nok_per_kwh(from_hour, month_import_kwh)


def _known_prefix(series: SlotSeries, start: datetime) -> tuple[float, ...] | None:
    """Return the series' values from `start` up to the first gap, None when `start` is unknown."""
    prices = series.to_slot_length(QUARTER_S).window(start, series.end_utc)
    values = prices.values
    # Plan only over the prices we know: stop at the first gap rather than invent prices.
    known = next((index for index, value in enumerate(values) if math.isnan(value)), len(values))
    if known == 0 or prices.start_utc != start:
        return None
    return tuple(values[:known])


def charger_limits(settings: ControlSettings, capabilities: ChargerCapabilities) -> ChargerLimits:
    """Return the charger's power ranges: the owner's limits within what the device can do."""
    return ChargerLimits(
        min_power_w=capabilities.min_power_w,
        max_charge_w=min(settings.max_charge_power_w, capabilities.max_charge_power_w),
        max_discharge_w=min(settings.max_discharge_power_w, capabilities.max_discharge_power_w)
        if capabilities.can_discharge
        else 0.0,
    )


def vehicle_state(
    now_utc: datetime, state: ChargerState, settings: ControlSettings
) -> VehicleState:
    """Return the car as the planner sees it (an unknown SoC stays unknown)."""
    departure_utc, target_soc_pct = settings.next_departure(now_utc)
    return VehicleState(
        soc_pct=state.soc_pct,
        battery_kwh=settings.battery_kwh,
        min_soc_pct=settings.min_soc_pct,
        target_soc_pct=target_soc_pct,
        departure_utc=departure_utc,
    )


def house_forecast_kw(
    now_utc: datetime, start: datetime, slots: int, house: HouseContext
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Return the house's expected and high power (kW) per quarter from `start`.

    With at least a day of measured hours the core forecast (weekly and daily profiles)
    predicts each clock hour; with less, both are the current draw held flat.
    """
    history: NDArray[np.float64] = np.asarray(house.history_kw, dtype=np.float64)
    now_kw = max(house.house_power_w or 0.0, 0.0) / 1000.0
    if int(np.isfinite(history).sum()) < MIN_FORECAST_HOURS:
        flat = tuple(now_kw for _ in range(slots))
        return flat, flat
    hour_start_s = int(now_utc.timestamp()) // HOUR_S * HOUR_S
    offsets = [
        (int(start.timestamp()) + QUARTER_S * index - hour_start_s) // HOUR_S
        for index in range(slots)
    ]
    horizon_h = max(offsets) + 1
    # The history ends with the last finished hour; the forecast starts with the running one.
    clock = utc_offsets_h(hour_start_s - HOUR_S * len(history), len(history) + horizon_h)
    load = forecast_hourly_kw(history, horizon_h, utc_offset_h=clock)
    peak = np.maximum(forecast_hourly_peak_kw(history, horizon_h, utc_offset_h=clock), load)
    # The running hour is already partly measured: its draw now is the best guess for its rest.
    load[0] = max(load[0], now_kw)
    peak[0] = max(peak[0], now_kw)
    return tuple(float(load[o]) for o in offsets), tuple(float(peak[o]) for o in offsets)


def build_plan_inputs(
    now_utc: datetime,
    spot: SlotSeries,
    state: ChargerState,
    settings: ControlSettings,
    capabilities: ChargerCapabilities,
    *,
    context: PlanContext | None = None,
) -> PlanInputs | None:
    """Return the planner's inputs from the current quarter on, or None without a current price."""
    start = floor_to_slot(now_utc, QUARTER_S)
    context = context or PlanContext()
    if context.cost_model is not None:
        import_prices = _known_prefix(
            import_prices_this_month(context.cost_model, spot, now_utc, context.month_import_kwh),
            start,
        )
        export_prices = _known_prefix(context.cost_model.export_price_nok_per_kwh(spot), start)
    else:
        import_prices = _known_prefix(spot, start)
        export_prices = None
    if import_prices is None:
        return None
    count = len(import_prices)
    allow_export = (
        settings.allow_export and context.cost_model is not None and export_prices is not None
    )
    export = export_prices[:count] if allow_export and export_prices is not None else ()
    export = export + tuple(0.0 for _ in range(count - len(export)))
    house = context.house
    smart = context.cost_model is not None and house is not None
    load_kw: tuple[float, ...] | None = None
    peak_kw: tuple[float, ...] | None = None
    capacity: CapacityInputs | None = None
    limits = charger_limits(settings, capabilities)
    allow_v2h = smart and settings.allow_v2h and capabilities.can_discharge
    if smart and house is not None:
        load_kw, peak_kw = house_forecast_kw(now_utc, start, count, house)
        capacity = _with_month_target(house, limits) if allow_v2h else house.capacity
    return PlanInputs(
        now_utc=now_utc,
        start_utc=start,
        import_price_nok_per_kwh=import_prices,
        export_price_nok_per_kwh=export,
        vehicle=vehicle_state(now_utc, state, settings),
        charger=limits,
        house_load_kw=load_kw,
        house_peak_kw=peak_kw,
        allow_v2h=allow_v2h,
        allow_export=smart and allow_export and capabilities.can_discharge,
        max_import_w=settings.main_fuse_import_w,
        capacity=capacity,
    )


def _with_month_target(house: HouseContext, limits: ChargerLimits) -> CapacityInputs | None:
    """Return the month's capacity inputs with the level the days to come should be held at.

    The past weeks of house hours say which step edge V2H can hold, counting only the hours
    the car was plugged in (all of them when that is not known).
    """
    capacity = house.capacity
    if capacity is None:
        return None
    known_presence = len(house.plugged_in) == len(house.history_kw)
    outlook = month_outlook(
        np.asarray(house.history_kw, dtype=np.float64),
        capacity,
        max_discharge_kw=limits.max_discharge_w / 1000.0,
        min_power_kw=limits.min_power_w / 1000.0,
        present=np.asarray(house.plugged_in, dtype=np.bool_) if known_presence else None,
        drive_kwh_per_day=house.drive_kwh_per_day,
    )
    if outlook is None:
        return replace(capacity, month_target_kwh=None)
    return replace(
        capacity,
        month_target_kwh=None if math.isinf(outlook.level_kw) else round(outlook.level_kw, 3),
        future_day_peaks_kwh=outlook.day_peaks_kw,
    )


def build_auto_plan(
    now_utc: datetime,
    spot: SlotSeries,
    state: ChargerState,
    settings: ControlSettings,
    capabilities: ChargerCapabilities,
    *,
    context: PlanContext | None = None,
) -> AutoPlan | None:
    """Return the smart plan with costs and a house meter, else the cheapest-quarters plan.

    None when no price is known for the current quarter.
    """
    inputs = build_plan_inputs(now_utc, spot, state, settings, capabilities, context=context)
    if inputs is None:
        return None
    if inputs.house_load_kw is None:
        return plan_cheapest(inputs)
    return plan(inputs)


def realtime_setpoint(
    *,
    now_utc: datetime,
    auto_plan: AutoPlan,
    state: ChargerState,
    settings: ControlSettings,
    capabilities: ChargerCapabilities,
    house_power_w: float | None,
    hour_import_kwh: float | None,
    previous_setpoint_w: float | None,
) -> Setpoint:
    """Return the plan's power now, guarded for the running hour's import by the rule layer.

    `house_power_w` is the house's own draw (the meter minus the car) and `hour_import_kwh`
    the meter's import so far this clock hour; without them the guard stays out of the way.
    """
    return decide(
        RuleInputs(
            now_utc_s=now_utc.timestamp(),
            plan=auto_plan,
            vehicle=vehicle_state(now_utc, state, settings),
            charger=charger_limits(settings, capabilities),
            house_power_w=house_power_w,
            hour_import_kwh=hour_import_kwh,
            threshold_kw=auto_plan.import_threshold_kw,
            allow_v2h=settings.allow_v2h and capabilities.can_discharge,
            allow_export=settings.allow_export,
            max_import_w=settings.main_fuse_import_w,
            previous_setpoint_w=previous_setpoint_w,
        )
    )
