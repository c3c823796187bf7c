"""The household's Norwegian cost model, built from the config entry, and its all-in prices.

The entry's data holds the grid company (one of the bundled presets), the contract (spot or
Norgespris), the tax zone and the main fuse in amperes, all chosen in the config flow's tariff
step. Supplier terms are optional overrides in the entry's options (see `OPTION_OVERRIDES`):
`supplier_markup_nok_per_kwh`, `supplier_fixed_nok_per_month`, `export_extra_nok_per_kwh`
(numbers, NOK excl VAT) and `holiday_home` (bool). Entries made before the tariff step, or
with prices in EUR, have no cost model: Auto then plans on the raw spot price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
import math
from typing import TYPE_CHECKING, Any, Final

from .const import (
    CONF_CONTRACT,
    CONF_CURRENCY,
    CONF_GRID_COMPANY,
    CONF_MAIN_FUSE_A,
    CONF_TARIFF_OVERRIDES,
    CONF_TAX_ZONE,
    LOGGER,
)
from .core.tariff import CostModel, cost_settings_from_dict
from .core.tariff_model import CapacityMethod, TariffError
from .core.tariff_presets import load_presets
from .core.timeseries import (
    HOUR_S,
    OSLO,
    QUARTER_S,
    SlotSeries,
    first_of_next_month,
    floor_to_slot,
)
from .core.types import CapacityInputs, CapacityTable
from .planning import (
    FORECAST_HISTORY_HOURS,
    HouseContext,
    PlanContext,
    import_prices_this_month,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .peaks import PeakTracker

# Options that refine the cost model; every one is optional.
OPTION_OVERRIDES: Final = (
    "supplier_markup_nok_per_kwh",
    "supplier_fixed_nok_per_month",
    "export_extra_nok_per_kwh",
    "holiday_home",
)


@dataclass(frozen=True, slots=True)
class AllInPrices:
    """All-in import and export prices (NOK/kWh) on the spot series' slots; NaN where unknown."""

    import_nok_per_kwh: SlotSeries
    export_nok_per_kwh: SlotSeries


def cost_settings(data: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return the cost-model settings of an entry, or None without a grid company or own tariff.

    The entry's data names the company, contract, tax zone and fuse; the options may add
    supplier terms and `tariff_overrides`, a dictionary in the core's settings format: a tariff
    of one's own (`grid_tariffs`, for a company not listed) or next year's national numbers.
    """
    overrides: dict[str, Any] = dict(options.get(CONF_TARIFF_OVERRIDES) or {})
    company = data.get(CONF_GRID_COMPANY)
    if not company and "grid_tariffs" not in overrides:
        return None
    settings: dict[str, Any] = {"allow_export": True}
    if "grid_tariffs" not in overrides:
        settings["company"] = company
    if contract := data.get(CONF_CONTRACT):
        settings["contract"] = contract
    if zone := data.get(CONF_TAX_ZONE):
        settings["tax_zone"] = zone
    if (fuse := data.get(CONF_MAIN_FUSE_A)) is not None:
        settings["main_fuse_a"] = fuse
    settings.update({key: options[key] for key in OPTION_OVERRIDES if key in options})
    settings.update(overrides)
    return settings


def validate_tariff_overrides(data: Mapping[str, Any], options: Mapping[str, Any]) -> None:
    """Raise ValueError saying what is wrong when the entry's cost settings cannot be used.

    The options flow runs this in the executor, so a bad override is refused on the form
    instead of silently falling back to spot prices later.
    """
    settings = cost_settings(data, options)
    if settings is None:
        raise ValueError("this entry has no grid company: give grid_tariffs")
    try:
        CostModel(cost_settings_from_dict(settings, load_presets()))
    except TariffError as error:
        raise ValueError(str(error)) from error


def build_cost_model(data: Mapping[str, Any], options: Mapping[str, Any]) -> CostModel | None:
    """Return the cost model of an entry, or None without a grid company or with EUR prices.

    Reads the bundled presets from disk: call it in the executor. Invalid settings are logged
    and give None, so the integration keeps working on spot prices.
    """
    settings = cost_settings(data, options)
    if settings is None:
        return None
    if data.get(CONF_CURRENCY, "NOK") != "NOK":
        LOGGER.warning("The Norwegian cost model needs prices in NOK; Auto plans on the spot price")
        return None
    try:
        return CostModel(cost_settings_from_dict(settings, load_presets()))
    except (TariffError, ValueError) as error:
        LOGGER.error(
            "The grid tariff settings are not usable (%s); Auto plans on the spot price", error
        )
        return None


def all_in_prices(model: CostModel, spot: SlotSeries) -> AllInPrices:
    """Return what a kWh costs to import and earns to export in each slot (numerical: executor)."""
    return AllInPrices(model.import_price_nok_per_kwh(spot), model.export_price_nok_per_kwh(spot))


def price_at(series: SlotSeries | None, moment: datetime) -> float | None:
    """Return the series' value at a moment, None when unknown."""
    if series is None:
        return None
    value = series.value_at(moment)
    return None if value is None or math.isnan(value) else round(value, 4)


def next_hour_price(series: SlotSeries | None, now_utc: datetime) -> float | None:
    """Return the all-in price of the next clock hour (households pay the hourly price)."""
    start = floor_to_slot(now_utc, HOUR_S) + timedelta(seconds=HOUR_S)
    return price_at(series, start + timedelta(seconds=QUARTER_S // 2))


def capacity_inputs(
    model: CostModel,
    *,
    now_utc: datetime,
    daily_peaks_kwh: Mapping[date, float],
    running_hour_kwh: float,
) -> CapacityInputs | None:
    """Return the planner's capacity inputs from the tariff in force and this month's peaks.

    `daily_peaks_kwh` maps local days of this month to their highest finished clock hour
    (today included). Tariffs that bill by fuse size, by the single highest hour or by the
    weighted-year method give None: the planner's capacity term models the three-day mean.
    """
    today = now_utc.astimezone(OSLO).date()
    table = _capacity_table(model, today)
    if table is None:
        return None
    finished = tuple(
        kwh
        for day, kwh in daily_peaks_kwh.items()
        if day < today and (day.year, day.month) == (today.year, today.month)
    )
    return CapacityInputs.from_tables(
        table,
        # A next month without a three-day table is priced with this month's.
        _capacity_table(model, first_of_next_month(today)),
        month_daily_peaks_kwh=finished,
        today_peak_kwh=daily_peaks_kwh.get(today, 0.0),
        current_hour_import_kwh=running_hour_kwh,
    )


def _capacity_table(model: CostModel, day: date) -> CapacityTable | None:
    """Return the three-day capacity steps in force on a day (VAT included), or None."""
    try:
        tariff = model.tariff_on(day)
    except TariffError as error:
        LOGGER.debug("No tariff in force on %s: %s", day, error)
        return None
    if (
        tariff.capacity_method is not CapacityMethod.THREE_DAILY_MAX_MONTH
        or not tariff.capacity_steps
    ):
        return None
    vat = model.vat_factor
    return CapacityTable(
        step_from_kw=tuple(step.from_kw for step in tariff.capacity_steps),
        step_nok_per_month=tuple(step.nok_per_month * vat for step in tariff.capacity_steps),
        threshold_inclusive=tariff.threshold_inclusive,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CapacityStatus:
    """The capacity position of the month so far: measure, step, cost and headroom."""

    measure_kw: float
    step_from_kw: float
    step_to_kw: float | None
    step_nok_per_month: float
    today_limit_kw: float | None


def capacity_status(
    model: CostModel, *, now_utc: datetime, daily_peaks_kwh: Mapping[date, float]
) -> CapacityStatus | None:
    """Return the month's capacity measure and step so far and today's hourly limit, or None.

    `today_limit_kw` is the highest hourly import today can reach and keep the month in its
    current step (None when there is no higher step, or the tariff bills by fuse size).
    """
    today = now_utc.astimezone(OSLO).date()
    try:
        measure = model.capacity_measure_kw(daily_peaks_kwh, today)
        step = model.capacity_step(measure, today)
    except (TariffError, ValueError) as error:
        LOGGER.debug("No capacity status: %s", error)
        return None
    limit: float | None = None
    if step.to_kw is not None:
        limit = _today_limit_kw(model, today, daily_peaks_kwh, step.nok_per_month, step.to_kw)
    return CapacityStatus(
        measure_kw=measure,
        step_from_kw=step.from_kw,
        step_to_kw=step.to_kw,
        step_nok_per_month=step.nok_per_month,
        today_limit_kw=limit,
    )


def _today_limit_kw(
    model: CostModel, today: date, peaks: Mapping[date, float], step_nok: float, step_to_kw: float
) -> float:
    """Return the highest peak today keeping the step's cost, by bisection (the cost is monotone)."""
    low = peaks.get(today, 0.0)
    # Three days at the next edge is the most any single day can need to cross it.
    high = max(low, 3.0 * step_to_kw) + 1.0
    for _ in range(40):
        middle = (low + high) / 2.0
        if (
            model.capacity_cost_from_peaks_nok(
                {**peaks, today: max(peaks.get(today, 0.0), middle)}, today
            )
            > step_nok
        ):
            high = middle
        else:
            low = middle
    return round(low, 3)


def plan_context(
    model: CostModel | None, tracker: PeakTracker | None, *, now_utc: datetime, car_power_w: float
) -> PlanContext:
    """Return what the planner knows of costs and the house now (on the event loop, cheap)."""
    if model is None or tracker is None:
        return PlanContext(cost_model=model)
    meter_w = tracker.power_w
    running_kwh = tracker.running_hour_kwh(now_utc)
    peaks = tracker.daily_peaks_kwh(now_utc)
    return PlanContext(
        cost_model=model,
        month_import_kwh=tracker.month_import_kwh(now_utc),
        house=HouseContext(
            # The meter includes the car: the planner wants the house's own draw.
            house_power_w=None if meter_w is None else max(meter_w - car_power_w, 0.0),
            history_kw=tuple(
                float(value) for value in tracker.history_kw(now_utc, FORECAST_HISTORY_HOURS)
            ),
            plugged_in=tuple(
                bool(value) for value in tracker.presence(now_utc, FORECAST_HISTORY_HOURS)
            ),
            drive_kwh_per_day=tracker.drive_kwh_per_day(now_utc, FORECAST_HISTORY_HOURS),
            capacity=capacity_inputs(
                model, now_utc=now_utc, daily_peaks_kwh=peaks, running_hour_kwh=running_kwh
            ),
        ),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CostSnapshot:
    """What the cost and peak sensors show at one moment (None where unknown)."""

    import_price_now: float | None
    import_price_next_hour: float | None
    top_days: tuple[tuple[date, float], ...]
    top_days_mean_kw: float | None
    capacity: CapacityStatus | None
    headroom_kw: float | None
    projected_hour_kwh: float | None


class CostView:
    """Computes the sensors' snapshot, pricing each new spot series only once."""

    def __init__(self, model: CostModel | None, tracker: PeakTracker | None) -> None:
        """Follow one entry's cost model and peak tracker."""
        self.model = model
        self.tracker = tracker
        # The spot series priced, and the running hour it was priced from once past the cap.
        self._priced: tuple[SlotSeries, datetime | None, SlotSeries] | None = None

    def import_prices(self, spot: SlotSeries | None, now_utc: datetime) -> SlotSeries | None:
        """Return the all-in import prices of a spot series (cached for the same series)."""
        if self.model is None or spot is None:
            return None
        month_kwh = 0.0 if self.tracker is None else self.tracker.month_import_kwh(now_utc)
        past_cap = month_kwh >= self.model.monthly_cap_kwh
        # Under the cap the whole series is priced once; past it, once per running hour.
        hour = floor_to_slot(now_utc, HOUR_S) if past_cap else None
        if self._priced is None or self._priced[0] is not spot or self._priced[1] != hour:
            priced = import_prices_this_month(self.model, spot, now_utc, month_kwh)
            self._priced = (spot, hour, priced)
        return self._priced[2]

    def snapshot(self, spot: SlotSeries | None, now_utc: datetime) -> CostSnapshot:
        """Return the prices now and next hour, this month's peaks, step and headroom."""
        prices = self.import_prices(spot, now_utc)
        tracker, model = self.tracker, self.model
        top: tuple[tuple[date, float], ...] = ()
        mean_kw: float | None = None
        status: CapacityStatus | None = None
        headroom: float | None = None
        projected: float | None = None
        if tracker is not None:
            top = tuple(tracker.top_days(now_utc))
            mean_kw = round(sum(kwh for _, kwh in top) / 3.0, 3)
            projected = round(tracker.projected_hour_kwh(now_utc), 3)
            if model is not None:
                status = capacity_status(
                    model, now_utc=now_utc, daily_peaks_kwh=tracker.daily_peaks_kwh(now_utc)
                )
                if status is not None and status.today_limit_kw is not None:
                    headroom = round(status.today_limit_kw - projected, 3)
        return CostSnapshot(
            import_price_now=price_at(prices, now_utc),
            import_price_next_hour=next_hour_price(prices, now_utc),
            top_days=top,
            top_days_mean_kw=mean_kw,
            capacity=status,
            headroom_kw=headroom,
            projected_hour_kwh=projected,
        )
