"""Build the planner's inputs from Home Assistant's view of the world, for the executor.

Everything here is synchronous and free of the event loop: the controller calls
`build_auto_plan` through `hass.async_add_executor_job`, because planning a day and a half
of quarter-hours is numerical work that must never block Home Assistant.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .core.planner import plan_cheapest
from .core.timeseries import QUARTER_S, SlotSeries, floor_to_slot
from .core.types import ChargerLimits, Plan, PlanInputs, VehicleState

if TYPE_CHECKING:
    from datetime import datetime

    from .settings import ControlSettings
    from .transport import ChargerCapabilities, ChargerState

type AutoPlan = Plan


def next_departure_utc(now_utc: datetime, settings: ControlSettings) -> datetime:
    """Return the next time the owner leaves: a one-off trip, the weekday schedule or the daily time."""
    return settings.next_departure(now_utc)[0].astimezone(now_utc.tzinfo)


def build_plan_inputs(
    now_utc: datetime,
    spot: SlotSeries,
    state: ChargerState,
    settings: ControlSettings,
    capabilities: ChargerCapabilities,
) -> PlanInputs | None:
    """Return the planner's inputs from the current quarter on, or None without a current price."""
    start = floor_to_slot(now_utc, QUARTER_S)
    prices = spot.to_slot_length(QUARTER_S).window(start, spot.end_utc)
    values = prices.values
    # Plan only over the prices we know: stop at the first gap rather than invent prices.
    known = next((index for index, value in enumerate(values) if math.isnan(value)), len(values))
    if known == 0 or prices.start_utc != start:
        return None
    import_prices = values[:known]
    departure_utc, target_soc_pct = settings.next_departure(now_utc)
    return PlanInputs(
        now_utc=now_utc,
        start_utc=start,
        import_price_nok_per_kwh=import_prices,
        export_price_nok_per_kwh=tuple(0.0 for _ in import_prices),
        vehicle=VehicleState(
            soc_pct=state.soc_pct,
            battery_kwh=settings.battery_kwh,
            min_soc_pct=settings.min_soc_pct,
            target_soc_pct=target_soc_pct,
            departure_utc=departure_utc,
        ),
        charger=ChargerLimits(
            min_power_w=capabilities.min_power_w,
            max_charge_w=min(settings.max_charge_power_w, capabilities.max_charge_power_w),
            max_discharge_w=min(settings.max_discharge_power_w, capabilities.max_discharge_power_w),
        ),
        allow_v2h=False,
        allow_export=False,
        max_import_w=settings.main_fuse_import_w,
    )


def build_auto_plan(
    now_utc: datetime,
    spot: SlotSeries,
    state: ChargerState,
    settings: ControlSettings,
    capabilities: ChargerCapabilities,
) -> AutoPlan | None:
    """Plan charging in the cheapest quarters before departure; None when no price is known now."""
    inputs = build_plan_inputs(now_utc, spot, state, settings, capabilities)
    if inputs is None:
        return None
    return plan_cheapest(inputs)
