"""Norwegian household electricity costs: grid tariff, taxes, strømstøtte, Norgespris, export.

Pure (stdlib + numpy). Amounts in the data types are NOK excl VAT; costs returned by
`CostModel` include VAT where the customer's tax zone has it. Times are aware UTC at the
boundary; tariff rules are evaluated in Europe/Oslo local time (23/25-hour days included).

Public API
- Data types (tariff_model.py): `CapacityStep(from_kw, to_kw | None, nok_per_month)`,
  `FuseStep(from_a, to_a | None, nok_per_month)`, `EnergyRule`, `GridTariff` (company,
  valid_from, valid_to, capacity_method, capacity_steps, energy_base_nok_per_kwh,
  energy_rules, threshold_inclusive, fuse_steps, capacity_interval_s, extra_low_days,
  vat_zone, ...), `TaxPeriod`, `SubsidyPeriod`, `NorgesprisPeriod`, `NationalRules`,
  enums `TaxZone`, `CapacityMethod`, `Contract` (SPOT, NORGESPRIS), and `CostSettings`
  (grid_tariffs, national_rules, contract, tax_zone, allow_export,
  supplier_markup_nok_per_kwh, supplier_fixed_nok_per_month, export_extra_nok_per_kwh,
  main_fuse_a, holiday_home, extrapolate_periods).
- Validation: `grid_tariff_from_dict(data, vat_rate=None)`, `national_rules_from_dict(data)`
  raise `TariffValidationError` naming the field. Errors: `TariffError` (base),
  `TariffValidationError`, `RateNotFoundError`, `UnsupportedCapacityMethodError`
  (FEM_VEKTET_ÅR: weights not published), `MissingSettingError` (fuse size).
- Settings from a dictionary (UI, custom tariff, next year's numbers):
  `cost_settings_from_dict(data, presets=None) -> CostSettings`.
- Presets (tariff_presets.py): `load_presets(path=PRESET_PATH) -> Presets` with `companies()`,
  `search(text)`, `tariffs(company)`, `tariff_for(company, day)`, `national_rules()`,
  `attribution`; `settings_from_presets(company, presets, **overrides)`.
- `CostModel(settings)` (this module):
  `import_price_nok_per_kwh(spot, month_import_kwh_so_far=0.0) -> SlotSeries`,
  `import_price_components(...) -> PriceComponents`, `export_price_nok_per_kwh(spot)`,
  `hourly_spot(spot)`, `tariff_on(day)`, `rate_coverage_gaps(start_utc, end_utc)`,
  `daily_peaks_kw(hourly_import) -> dict[date, float]`, `capacity_measure_kw(peaks, month)`,
  `capacity_thresholds_kw(day=None)`, `capacity_step(measure_kw, day=None) -> CapacityStep`
  (amount as billed), `capacity_cost_nok(month, hourly_import_kwh)`,
  `capacity_cost_from_peaks_nok(peaks, month)`,
  `marginal_capacity_cost_nok(daily_peaks_so_far, day, new_peak_kw)`,
  `capacity_cost_curve_nok(daily_peaks_so_far, day, caps_kw)`,
  `capacity_cost_with_cap_nok(daily_peaks_so_far, day, cap_kw)`,
  `bill(import, export, spot) -> Bill`, `bill_by_month(...) -> tuple[MonthBill, ...]`.
- `Bill` fields (NOK, each incl its VAT): energy_cost, grid_energy_cost, capacity_cost,
  taxes (elavgift + Enova), subsidy (money back: strømstøtte, or the Norgespris settlement,
  negative when spot < Norgespris), export_revenue, total, import_kwh, export_kwh;
  total = energy_cost + grid_energy_cost + capacity_cost + taxes - subsidy - export_revenue.
- `eur_per_mwh_to_nok_per_kwh(values, eur_nok_rate)`, `local_month_start_utc(year, month)`.
- Holidays (holidays.py): `norwegian_public_holidays(year)`, `is_public_holiday(day)`.

All inputs are SlotSeries on UTC slots; spot prices are NOK/kWh excl VAT (convert EUR/MWh
with `eur_per_mwh_to_nok_per_kwh` and an explicit rate). Households are settled per clock
hour: the hourly price is the mean of the hour's quarter-hour prices and every quarter of
an hour gets its hour's price. Tariff rules are evaluated in Europe/Oslo local time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
import math
from typing import TYPE_CHECKING, Any, Final, cast

import numpy as np

from .holidays import EPOCH_ORDINAL, day_number, holiday_day_numbers
from .tariff_calendar import LocalCalendar, local_calendar, slot_epochs
from .tariff_model import (
    CapacityMethod,
    CapacityStep,
    Contract,
    CostSettings,
    EnergyRule,
    FieldReader,
    FuseStep,
    GridTariff,
    MissingSettingError,
    NationalRules,
    NorgesprisPeriod,
    Period,
    RateNotFoundError,
    SubsidyPeriod,
    TariffError,
    TariffValidationError,
    TaxPeriod,
    TaxZone,
    UnsupportedCapacityMethodError,
    grid_tariff_from_dict,
    national_rules_from_dict,
)
from .tariff_presets import PRESET_PATH, Presets, load_presets
from .timeseries import HOUR_S, OSLO, SlotSeries, first_of_next_month

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import NDArray


__all__ = [
    "PRESET_PATH",
    "Bill",
    "CapacityMethod",
    "CapacityStep",
    "Contract",
    "CostModel",
    "CostSettings",
    "EnergyRule",
    "FuseStep",
    "GridTariff",
    "MissingSettingError",
    "MonthBill",
    "NationalRules",
    "NorgesprisPeriod",
    "Presets",
    "PriceComponents",
    "RateNotFoundError",
    "SubsidyPeriod",
    "TariffError",
    "TariffValidationError",
    "TaxPeriod",
    "TaxZone",
    "UnsupportedCapacityMethodError",
    "cost_settings_from_dict",
    "eur_per_mwh_to_nok_per_kwh",
    "grid_tariff_from_dict",
    "load_presets",
    "local_month_start_utc",
    "national_rules_from_dict",
    "settings_from_presets",
]

_OPEN_END: Final = np.iinfo(np.int64).max
# The common model averages this many daily maxima (on different days) per month.
TOP_DAYS: Final = 3


def eur_per_mwh_to_nok_per_kwh(
    price_eur_per_mwh: NDArray[np.float64] | float, eur_nok_rate: float
) -> NDArray[np.float64]:
    """Convert EUR/MWh to NOK/kWh at an explicit EUR→NOK rate (1 MWh = 1000 kWh)."""
    if not (math.isfinite(eur_nok_rate) and eur_nok_rate > 0):
        raise ValueError(f"EUR/NOK rate must be a positive number, got {eur_nok_rate}")
    prices: NDArray[np.float64] = np.asarray(price_eur_per_mwh, dtype=np.float64)
    return prices * (eur_nok_rate / 1000.0)


@dataclass(frozen=True, slots=True)
class Bill:
    """Costs in NOK over whole months; each component includes its VAT where VAT applies.

    energy_cost: supplier (spot * kWh + markup, fixed fee); grid_energy_cost: the grid
    energy component; capacity_cost: the monthly capacity steps; taxes: elavgift + Enova;
    subsidy: money back on the grid bill, strømstøtte or the Norgespris settlement (the
    latter is negative when spot is below the Norgespris price); export_revenue: export at
    spot without VAT (plusskunde), 0 when export is not allowed. total = energy_cost + grid_energy_cost + capacity_cost
    + taxes - subsidy - export_revenue.
    """

    energy_cost: float
    grid_energy_cost: float
    capacity_cost: float
    taxes: float
    subsidy: float
    export_revenue: float
    total: float
    import_kwh: float
    export_kwh: float

    def to_dict(self) -> dict[str, float]:
        """Return the fields as a plain dictionary (the backtest's report keys)."""
        return asdict(self)

    @classmethod
    def from_parts(
        cls,
        *,
        energy_cost: float,
        grid_energy_cost: float,
        capacity_cost: float,
        taxes: float,
        subsidy: float,
        export_revenue: float,
        import_kwh: float,
        export_kwh: float,
    ) -> Bill:
        """Build a bill whose total is the sum of its parts."""
        total = energy_cost + grid_energy_cost + capacity_cost + taxes - subsidy - export_revenue
        return cls(
            energy_cost=energy_cost,
            grid_energy_cost=grid_energy_cost,
            capacity_cost=capacity_cost,
            taxes=taxes,
            subsidy=subsidy,
            export_revenue=export_revenue,
            total=total,
            import_kwh=import_kwh,
            export_kwh=export_kwh,
        )

    def __add__(self, other: Bill) -> Bill:
        """Return the sum of two bills."""
        return Bill(*(a + b for a, b in zip(_bill_values(self), _bill_values(other), strict=True)))


def _bill_values(bill: Bill) -> tuple[float, ...]:
    """Return a bill's fields in declaration order."""
    return (
        bill.energy_cost,
        bill.grid_energy_cost,
        bill.capacity_cost,
        bill.taxes,
        bill.subsidy,
        bill.export_revenue,
        bill.total,
        bill.import_kwh,
        bill.export_kwh,
    )


@dataclass(frozen=True, slots=True)
class MonthBill:
    """One calendar month's bill with the capacity measure and step that priced it."""

    month: date
    bill: Bill
    capacity_measure_kw: float
    capacity_step: CapacityStep


@dataclass(frozen=True, slots=True)
class PriceComponents:
    """Per-slot import price parts in NOK/kWh incl VAT where VAT applies (float64 arrays).

    total = energy + grid_energy + taxes - subsidy; subsidy is strømstøtte or the
    Norgespris settlement (negative when spot is below the Norgespris price).
    """

    spot_hourly: NDArray[np.float64]
    energy: NDArray[np.float64]
    grid_energy: NDArray[np.float64]
    taxes: NDArray[np.float64]
    subsidy: NDArray[np.float64]

    @property
    def total(self) -> NDArray[np.float64]:
        """Return the all-in marginal import price per slot."""
        return self.energy + self.grid_energy + self.taxes - self.subsidy


def _to_date(number: int) -> date:
    """Return the date of a day number (days since 1970-01-01)."""
    return date.fromordinal(int(number) + EPOCH_ORDINAL)


def _month_start(day: date) -> date:
    """Return the first day of the day's month."""
    return day.replace(day=1)


def _hour_mean(epochs: NDArray[np.int64], values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return, for each slot, the mean of the slots in its clock hour (NaN stays NaN)."""
    hour_index = epochs // HOUR_S - epochs[0] // HOUR_S
    sums = np.bincount(hour_index, weights=values)
    counts = np.bincount(hour_index)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    result: NDArray[np.float64] = means[hour_index]
    return result


def _series(start_utc: datetime, slot_s: int, values: NDArray[np.float64]) -> SlotSeries:
    """Build a SlotSeries from an array (tolist is far faster than a per-element conversion)."""
    # A 1-D float64 array's tolist() is a list of floats; newer numpy stubs type it more widely.
    # Cast through Any so that both old and new numpy stubs accept it.
    floats: list[float] = cast("Any", np.asarray(values, dtype=np.float64).ravel().tolist())
    return SlotSeries(start_utc, slot_s, tuple(floats))


def _series_epochs(series: SlotSeries) -> NDArray[np.int64]:
    """Return the UTC epoch seconds of a series' slot starts."""
    return slot_epochs(series.start_utc, series.slot_s, len(series))


class CostModel:
    """Prices imports, exports, the capacity term and whole-month bills for one household."""

    def __init__(self, settings: CostSettings) -> None:
        """Keep the settings and precompute period tables."""
        self.settings = settings
        tariffs = settings.grid_tariffs
        self.tax_zone: TaxZone = settings.tax_zone or tariffs[-1].vat_zone
        rules = settings.national_rules
        self.vat_factor = 1.0 + (rules.vat_rate if self.tax_zone is TaxZone.STANDARD else 0.0)
        self._tariff_table = self._table(tariffs)
        self._tax_table = self._table(rules.tax_periods)
        self._subsidy_table = self._table(rules.subsidy_periods)
        self._norgespris_table = self._table(rules.norgespris_periods)

    # --- period lookup --------------------------------------------------------------------

    @staticmethod
    def _table(periods: Sequence[Period]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Return the start and end day numbers of sorted periods."""
        starts = np.array([day_number(p.valid_from) for p in periods], dtype=np.int64)
        ends = np.array(
            [_OPEN_END if p.valid_to is None else day_number(p.valid_to) for p in periods],
            dtype=np.int64,
        )
        return starts, ends

    def _period_index(
        self, table: tuple[NDArray[np.int64], NDArray[np.int64]], days: NDArray[np.int64], what: str
    ) -> NDArray[np.intp]:
        """Return, per local day number, the index of the period covering it.

        Outside every period the nearest period is used when extrapolation is allowed (a
        rate carries forward until it changes); otherwise RateNotFoundError names the date.
        """
        starts, ends = table
        if starts.size == 0:
            raise RateNotFoundError(f"no {what} is defined: add at least one period")
        index = np.searchsorted(starts, days, side="right") - 1
        clipped = np.clip(index, 0, None)
        covered = (index >= 0) & (days < ends[clipped])
        if not self.settings.extrapolate_periods and not bool(covered.all()):
            first = _to_date(int(days[np.argmin(covered)]))
            raise RateNotFoundError(
                f"no {what} covers {first.isoformat()}: add a period for that date "
                "(or allow extrapolation from the nearest period)"
            )
        return clipped

    def tariff_on(self, day: date) -> GridTariff:
        """Return the grid tariff period that applies on a local day."""
        index = self._period_index(
            self._tariff_table, np.array([day_number(day)], dtype=np.int64), "grid tariff"
        )
        return self.settings.grid_tariffs[int(index[0])]

    def rate_coverage_gaps(self, start_utc: datetime, end_utc: datetime) -> tuple[str, ...]:
        """Return one line per rate table without a period for some local days of [start, end).

        Those days are priced from the nearest known period (or raise when extrapolation is
        off), so a caller can warn that tariff or tax data are out of date.
        """
        first = start_utc.astimezone(OSLO).date()
        last = (end_utc - timedelta(microseconds=1)).astimezone(OSLO).date()
        days = np.arange(day_number(first), day_number(last) + 1, dtype=np.int64)
        tables = [(self._tariff_table, "grid tariff"), (self._tax_table, "tax period")]
        rules = self.settings.national_rules
        if self.settings.contract is Contract.NORGESPRIS:
            tables.append((self._norgespris_table, "Norgespris price"))
        elif rules.subsidy_periods and not self.settings.holiday_home:
            tables.append((self._subsidy_table, "strømstøtte period"))
        gaps: list[str] = []
        for (starts, ends), what in tables:
            index = np.searchsorted(starts, days, side="right") - 1
            covered = (
                (index >= 0) & (days < ends[np.clip(index, 0, None)]) if starts.size else days < 0
            )
            if bool(covered.all()):
                continue
            missing = days[~covered]
            breaks = np.flatnonzero(np.diff(missing) > 1)
            run_starts = np.concatenate([missing[:1], missing[breaks + 1]])
            run_ends = np.concatenate([missing[breaks], missing[-1:]])
            ranges = ", ".join(
                f"{_to_date(int(a)).isoformat()}..{_to_date(int(b)).isoformat()}"
                for a, b in zip(run_starts, run_ends, strict=True)
            )
            gaps.append(f"no {what} for {ranges}")
        return tuple(gaps)

    # --- marginal prices ----------------------------------------------------------------

    def _grid_energy_excl_vat(self, cal: LocalCalendar) -> NDArray[np.float64]:
        """Return the grid energy component per instant (NOK/kWh excl VAT)."""
        tariffs = self.settings.grid_tariffs
        which = self._period_index(self._tariff_table, cal.day_number, "grid tariff")
        prices = np.empty(cal.day_number.size, dtype=np.float64)
        years = range(int(cal.year.min()), int(cal.year.max()) + 1) if cal.year.size else range(0)
        for position, tariff in enumerate(tariffs):
            mask = which == position
            if not mask.any():
                continue
            hour, weekday, month = cal.hour[mask], cal.weekday[mask], cal.month[mask]
            price = np.full(hour.size, tariff.energy_base_nok_per_kwh)
            assigned = np.zeros(hour.size, dtype=bool)
            holiday: NDArray[np.bool_] | None = None
            for rule in tariff.energy_rules:
                if rule.start_hour < rule.end_hour:
                    match = (hour >= rule.start_hour) & (hour < rule.end_hour)
                else:
                    match = (hour >= rule.start_hour) | (hour < rule.end_hour)
                weekday_ok = np.array([day in rule.weekdays for day in range(7)])
                month_ok = np.array([m in rule.months for m in range(13)])
                match &= weekday_ok[weekday] & month_ok[month] & ~assigned
                if rule.exclude_holidays:
                    if holiday is None:
                        holiday = np.isin(
                            cal.day_number[mask], holiday_day_numbers(years, tariff.extra_low_days)
                        )
                    match &= ~holiday
                price[match] = rule.nok_per_kwh
                assigned |= match
            prices[mask] = price
        return prices

    def _taxes_excl_vat(self, cal: LocalCalendar) -> NDArray[np.float64]:
        """Return elavgift + Enova per instant (NOK/kWh excl VAT); no elavgift in tiltakssonen."""
        periods = self.settings.national_rules.tax_periods
        which = self._period_index(self._tax_table, cal.day_number, "tax period")
        enova = np.array([p.enova_nok_per_kwh for p in periods])[which]
        if self.tax_zone is TaxZone.TILTAKSSONE:
            return enova
        elavgift: NDArray[np.float64] = np.array([p.elavgift_nok_per_kwh for p in periods])[which]
        return enova + elavgift

    def _subsidy_per_kwh(
        self, cal: LocalCalendar, spot_hourly: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Return strømstøtte or the Norgespris settlement per kWh (incl VAT), before caps."""
        rules = self.settings.national_rules
        if self.settings.contract is Contract.NORGESPRIS:
            which = self._period_index(self._norgespris_table, cal.day_number, "Norgespris price")
            price = np.array([p.price_nok_per_kwh for p in rules.norgespris_periods])[which]
            # Symmetric: the grid company pays (spot - price) back, or charges it when negative.
            settlement: NDArray[np.float64] = (spot_hourly - price) * self.vat_factor
            return settlement
        if self.settings.holiday_home or not rules.subsidy_periods:
            return np.zeros(spot_hourly.size)
        which = self._period_index(self._subsidy_table, cal.day_number, "strømstøtte period")
        threshold = np.array([p.threshold_nok_per_kwh for p in rules.subsidy_periods])[which]
        rate = np.array([p.rate for p in rules.subsidy_periods])[which]
        # The threshold is excl VAT; in VAT zones the support is grossed up, in the north not.
        support: NDArray[np.float64] = (
            rate * np.maximum(spot_hourly - threshold, 0.0) * self.vat_factor
        )
        return support

    @property
    def monthly_cap_kwh(self) -> float:
        """Return the monthly kWh covered by strømstøtte or Norgespris."""
        rules = self.settings.national_rules
        if self.settings.contract is Contract.NORGESPRIS:
            if self.settings.holiday_home:
                return rules.norgespris_holiday_home_cap_kwh_per_month
            return rules.norgespris_cap_kwh_per_month
        return rules.subsidy_cap_kwh_per_month

    def import_price_components(
        self, spot: SlotSeries, month_import_kwh_so_far: float = 0.0
    ) -> PriceComponents:
        """Return the parts of the marginal import price per slot of a spot series.

        `spot` is NOK/kWh excl VAT at 15 or 60 minutes. `month_import_kwh_so_far` is the
        import of the first slot's month before the series starts: once it reaches the
        monthly cap, that month's slots get neither strømstøtte nor Norgespris. Later
        months start at zero; imports inside the series are not accumulated. A NaN spot
        price (a gap) gives a NaN price.
        """
        if not (math.isfinite(month_import_kwh_so_far) and month_import_kwh_so_far >= 0):
            raise ValueError(
                f"month_import_kwh_so_far must be a non-negative number, got {month_import_kwh_so_far}"
            )
        epochs = _series_epochs(spot)
        cal = local_calendar(epochs)
        if epochs.size == 0:
            empty = np.zeros(0)
            return PriceComponents(empty, empty, empty, empty, empty)
        spot_hourly = _hour_mean(epochs, spot.as_array())
        vat = self.vat_factor
        energy = (spot_hourly + self.settings.supplier_markup_nok_per_kwh) * vat
        grid = self._grid_energy_excl_vat(cal) * vat
        taxes = self._taxes_excl_vat(cal) * vat
        subsidy = self._subsidy_per_kwh(cal, spot_hourly)
        if month_import_kwh_so_far >= self.monthly_cap_kwh:
            subsidy = np.where(cal.month_key == cal.month_key[0], 0.0, subsidy)
        return PriceComponents(spot_hourly, energy, grid, taxes, subsidy)

    def import_price_nok_per_kwh(
        self, spot: SlotSeries, month_import_kwh_so_far: float = 0.0
    ) -> SlotSeries:
        """Return the all-in marginal price (NOK/kWh) of one kWh imported in each slot."""
        parts = self.import_price_components(spot, month_import_kwh_so_far)
        return _series(spot.start_utc, spot.slot_s, parts.total)

    def hourly_spot(self, spot: SlotSeries) -> SlotSeries:
        """Return the series with each slot replaced by its clock hour's mean price."""
        epochs = _series_epochs(spot)
        if epochs.size == 0:
            return spot
        return _series(spot.start_utc, spot.slot_s, _hour_mean(epochs, spot.as_array()))

    def export_price_nok_per_kwh(self, spot: SlotSeries) -> SlotSeries:
        """Return what one exported kWh earns per slot: hourly spot without VAT, or 0."""
        if not self.settings.allow_export:
            return _series(spot.start_utc, spot.slot_s, np.zeros(len(spot)))
        hourly = self.hourly_spot(spot).as_array()
        return _series(spot.start_utc, spot.slot_s, hourly + self.settings.export_extra_nok_per_kwh)

    # --- capacity term ------------------------------------------------------------------

    def _capacity_tariff(self, day: date | None) -> GridTariff:
        """Return the tariff whose capacity rules apply (the latest when no day is given)."""
        tariff = self.settings.grid_tariffs[-1] if day is None else self.tariff_on(day)
        if tariff.capacity_method is CapacityMethod.WEIGHTED_YEAR:
            raise UnsupportedCapacityMethodError(
                f"{tariff.company} bills capacity on the five highest season-weighted weekly peaks "
                "over a rolling 12 months (FEM_VEKTET_ÅR); the season weights and the base amount "
                "are not in the tariff data, so this method is not computed. Enter the tariff as a "
                "custom tariff with the three-day method (TRE_DØGNMAX_MND) as an approximation."
            )
        return tariff

    def daily_peaks_kw(self, hourly_import: SlotSeries) -> dict[date, float]:
        """Return each local day's highest import over the capacity interval (kWh/h = kW).

        The import (kWh per slot, any slot length up to the interval, normally one clock
        hour) is summed per interval; days whose values are all unknown are left out.
        """
        interval_s = self.settings.grid_tariffs[-1].capacity_interval_s
        if hourly_import.slot_s > interval_s:
            raise TariffError(
                f"import at {hourly_import.slot_s} s slots cannot be measured on {interval_s} s intervals"
            )
        epochs = _series_epochs(hourly_import)
        if epochs.size == 0:
            return {}
        values = hourly_import.as_array()
        index = epochs // interval_s - epochs[0] // interval_s
        energy_kwh = np.bincount(index, weights=values)
        present = np.bincount(index) > 0
        interval_epochs = (epochs[0] // interval_s + np.arange(energy_kwh.size)) * interval_s
        power_kw = (energy_kwh * (HOUR_S / interval_s))[present]
        days = local_calendar(interval_epochs[present]).day_number
        unique_days, starts = np.unique(days, return_index=True)
        peaks = np.fmax.reduceat(power_kw, starts)
        return {
            _to_date(int(day)): float(peak)
            for day, peak in zip(unique_days, peaks, strict=True)
            if not math.isnan(peak)
        }

    def capacity_measure_kw(self, daily_peaks_kw: Mapping[date, float], month: date) -> float:
        """Return the month's capacity measure from daily peaks (days of other months ignored).

        Three-day method: the mean of the three highest daily peaks, with missing days as
        0 kW, so a month in progress gives a lower bound of its final measure. Monthly-max:
        the highest peak. Fuse size: 0 (the measure does not matter).
        """
        tariff = self._capacity_tariff(_month_start(month))
        peaks = sorted(
            (
                kw
                for day, kw in daily_peaks_kw.items()
                if (day.year, day.month) == (month.year, month.month)
            ),
            reverse=True,
        )
        if tariff.capacity_method is CapacityMethod.FUSE_SIZE:
            return 0.0
        if tariff.capacity_method is CapacityMethod.MONTHLY_MAX:
            return peaks[0] if peaks else 0.0
        return sum(peaks[:TOP_DAYS]) / TOP_DAYS

    def capacity_step(self, measure_kw: float, day: date | None = None) -> CapacityStep:
        """Return the step a measure falls in, with the amount as billed (incl VAT if any).

        `day` picks the tariff period (default: the latest). For the fuse-size method the
        step of the configured main fuse is returned as a 0 kW-and-up step.
        """
        tariff = self._capacity_tariff(day)
        vat = self.vat_factor
        side: Final = "right" if tariff.threshold_inclusive else "left"
        if tariff.capacity_method is CapacityMethod.FUSE_SIZE:
            fuse_a = self.settings.main_fuse_a
            if fuse_a is None:
                raise MissingSettingError(
                    f"{tariff.company} prices capacity by main fuse size: set main_fuse_a (amperes)"
                )
            edges = [step.from_a for step in tariff.fuse_steps[1:]]
            fuse = tariff.fuse_steps[int(np.searchsorted(edges, fuse_a, side=side))]
            return CapacityStep(0.0, None, fuse.nok_per_month * vat)
        if not math.isfinite(measure_kw) or measure_kw < 0:
            raise ValueError(f"capacity measure must be a non-negative number, got {measure_kw}")
        edges_kw = [step.from_kw for step in tariff.capacity_steps[1:]]
        step = tariff.capacity_steps[int(np.searchsorted(edges_kw, measure_kw, side=side))]
        return replace(step, nok_per_month=step.nok_per_month * vat)

    def capacity_thresholds_kw(self, day: date | None = None) -> tuple[float, ...]:
        """Return the kW values where the capacity step changes (empty for the fuse method)."""
        tariff = self._capacity_tariff(day)
        if tariff.capacity_method is CapacityMethod.FUSE_SIZE:
            return ()
        return tuple(step.from_kw for step in tariff.capacity_steps[1:])

    def capacity_cost_from_peaks_nok(
        self, daily_peaks_kw: Mapping[date, float], month: date
    ) -> float:
        """Return the month's capacity cost (as billed) from its daily peaks."""
        measure = self.capacity_measure_kw(daily_peaks_kw, month)
        return self.capacity_step(measure, _month_start(month)).nok_per_month

    def capacity_cost_nok(self, month: date, hourly_import_kwh: SlotSeries) -> float:
        """Return the capacity cost of the month containing `month`, given its imports so far."""
        return self.capacity_cost_from_peaks_nok(self.daily_peaks_kw(hourly_import_kwh), month)

    def marginal_capacity_cost_nok(
        self, daily_peaks_so_far: Mapping[date, float], day: date, new_peak_kw: float
    ) -> float:
        """Return the extra capacity cost if `day` peaks at new_peak_kw (0 if it changes no step)."""
        updated = dict(daily_peaks_so_far)
        updated[day] = max(updated.get(day, 0.0), new_peak_kw)
        return self.capacity_cost_from_peaks_nok(updated, day) - self.capacity_cost_from_peaks_nok(
            daily_peaks_so_far, day
        )

    def capacity_cost_curve_nok(
        self,
        daily_peaks_so_far: Mapping[date, float],
        day: date,
        caps_kw: Sequence[float] | NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """Return the month's capacity cost for each candidate hourly import cap from `day` on.

        Assumes every day from `day` to the month's end peaks exactly at the cap (or at its
        peak so far, if higher): the cost of holding imports under that cap for the rest of
        the month. Days before `day` keep their recorded peaks.
        """
        caps = np.asarray(caps_kw, dtype=np.float64)
        end = first_of_next_month(day)
        remaining = [day + timedelta(days=offset) for offset in range((end - day).days)]
        fixed = [
            kw
            for d, kw in daily_peaks_so_far.items()
            if (d.year, d.month) == (day.year, day.month) and d < day
        ]
        floor = np.array([daily_peaks_so_far.get(d, 0.0) for d in remaining])
        # One row per cap: the fixed days' peaks, then each remaining day's peak under the cap.
        rows = np.concatenate(
            [
                np.broadcast_to(np.array(fixed), (caps.size, len(fixed))),
                np.maximum(floor, caps[:, None]),
            ],
            axis=1,
        )
        tariff = self._capacity_tariff(_month_start(day))
        if tariff.capacity_method is CapacityMethod.MONTHLY_MAX:
            measures = rows.max(axis=1)
        else:
            top = -np.sort(-rows, axis=1)[:, :TOP_DAYS]
            measures = top.sum(axis=1) / TOP_DAYS
        return np.array(
            [self.capacity_step(float(m), _month_start(day)).nok_per_month for m in measures]
        )

    def capacity_cost_with_cap_nok(
        self, daily_peaks_so_far: Mapping[date, float], day: date, cap_kw: float
    ) -> float:
        """Return the month's capacity cost if imports stay under cap_kw from `day` on."""
        return float(self.capacity_cost_curve_nok(daily_peaks_so_far, day, [cap_kw])[0])

    # --- bills --------------------------------------------------------------------------

    def _hourly(self, series: SlotSeries, what: str, *, mean: bool) -> NDArray[np.float64]:
        """Return hourly sums (or means) of a series that covers whole clock hours."""
        if series.slot_s > HOUR_S or int(series.start_utc.timestamp()) % HOUR_S:
            raise TariffError(f"{what}: needs slots of at most an hour, starting on a clock hour")
        per_hour = HOUR_S // series.slot_s
        values = series.as_array()
        if values.size % per_hour:
            raise TariffError(f"{what}: does not cover whole clock hours")
        if np.isnan(values).any():
            first = series.start_utc + timedelta(
                seconds=series.slot_s * int(np.argmax(np.isnan(values)))
            )
            raise TariffError(f"{what}: unknown value at {first.isoformat()}")
        grouped = values.reshape(-1, per_hour)
        result: NDArray[np.float64] = grouped.mean(axis=1) if mean else grouped.sum(axis=1)
        return result

    def bill_by_month(
        self, hourly_import_kwh: SlotSeries, hourly_export_kwh: SlotSeries, spot: SlotSeries
    ) -> tuple[MonthBill, ...]:
        """Return one bill per local calendar month covered by the series.

        Import and export are kWh per slot (15 or 60 minutes) over the same whole local
        months; spot is NOK/kWh excl VAT and must cover them. Caps (5,000 kWh/month) are
        applied hour by hour in time order. The capacity step of a month uses the tariff
        period of its first day.
        """
        start, end = hourly_import_kwh.start_utc, hourly_import_kwh.end_utc
        if (hourly_export_kwh.start_utc, hourly_export_kwh.end_utc) != (start, end):
            raise TariffError("import and export must cover the same span")
        for moment, label in ((start, "start"), (end, "end")):
            local = moment.astimezone(OSLO)
            if (local.day, local.hour, local.minute, local.second) != (1, 0, 0, 0):
                raise TariffError(
                    f"bill {label} {local.isoformat()} is not the start of a local month"
                )
        spot_window = spot.window(start, end)
        if (spot_window.start_utc, spot_window.end_utc) != (start, end):
            raise TariffError("spot prices do not cover the billed months")
        imports = self._hourly(hourly_import_kwh, "import", mean=False)
        exports = self._hourly(hourly_export_kwh, "export", mean=False)
        spot_hourly = self._hourly(spot_window, "spot", mean=True)
        if (imports < 0).any() or (exports < 0).any():
            raise TariffError("import and export must be non-negative kWh")
        epochs = slot_epochs(start, HOUR_S, imports.size)
        cal = local_calendar(epochs)
        vat = self.vat_factor
        month_keys, first_index, month_index = np.unique(
            cal.month_key, return_index=True, return_inverse=True
        )
        # kWh imported earlier in the same month, hour by hour, for the monthly caps.
        cumulative = np.cumsum(imports)
        before = cumulative - imports - (cumulative - imports)[first_index][month_index]
        eligible_kwh = np.clip(self.monthly_cap_kwh - before, 0.0, imports)
        subsidy = eligible_kwh * self._subsidy_per_kwh(cal, spot_hourly)
        energy = imports * (spot_hourly + self.settings.supplier_markup_nok_per_kwh) * vat
        grid = imports * self._grid_energy_excl_vat(cal) * vat
        taxes = imports * self._taxes_excl_vat(cal) * vat
        export_price = spot_hourly + self.settings.export_extra_nok_per_kwh
        revenue = exports * export_price if self.settings.allow_export else np.zeros(exports.size)
        peaks = self.daily_peaks_kw(hourly_import_kwh)

        def per_month(values: NDArray[np.float64]) -> NDArray[np.float64]:
            """Return the monthly sums of an hourly array."""
            return np.bincount(month_index, weights=values, minlength=month_keys.size).astype(
                np.float64
            )

        sums = {
            name: per_month(values)
            for name, values in (
                ("energy", energy),
                ("grid", grid),
                ("taxes", taxes),
                ("subsidy", subsidy),
                ("revenue", revenue),
                ("imports", imports),
                ("exports", exports),
            )
        }
        months: list[MonthBill] = []
        for position, key in enumerate(month_keys):
            month = date(int(key) // 12, int(key) % 12 + 1, 1)
            measure = self.capacity_measure_kw(peaks, month)
            step = self.capacity_step(measure, month)
            bill = Bill.from_parts(
                energy_cost=float(sums["energy"][position])
                + self.settings.supplier_fixed_nok_per_month * vat,
                grid_energy_cost=float(sums["grid"][position]),
                capacity_cost=step.nok_per_month,
                taxes=float(sums["taxes"][position]),
                subsidy=float(sums["subsidy"][position]),
                export_revenue=float(sums["revenue"][position]),
                import_kwh=float(sums["imports"][position]),
                export_kwh=float(sums["exports"][position]),
            )
            months.append(
                MonthBill(month=month, bill=bill, capacity_measure_kw=measure, capacity_step=step)
            )
        return tuple(months)

    def bill(
        self, hourly_import_kwh: SlotSeries, hourly_export_kwh: SlotSeries, spot: SlotSeries
    ) -> Bill:
        """Return the bill over whole local months (see `bill_by_month` for the inputs)."""
        months = self.bill_by_month(hourly_import_kwh, hourly_export_kwh, spot)
        if not months:
            raise TariffError("nothing to bill: the series are empty")
        total = months[0].bill
        for month in months[1:]:
            total += month.bill
        return total


def settings_from_presets(company: str, presets: Presets, **overrides: object) -> CostSettings:
    """Return cost settings with a preset company's tariff periods and the national rules.

    Keyword overrides set any other CostSettings field (contract, tax_zone, allow_export…).
    """
    return CostSettings(
        grid_tariffs=presets.tariffs(company),
        national_rules=presets.national_rules(),
        **overrides,  # type: ignore[arg-type]  # checked by CostSettings' own validation
    )


_SETTING_KEYS: Final = frozenset(
    {
        "company",
        "grid_tariffs",
        "national_rules",
        "contract",
        "tax_zone",
        "allow_export",
        "supplier_markup_nok_per_kwh",
        "supplier_fixed_nok_per_month",
        "export_extra_nok_per_kwh",
        "main_fuse_a",
        "holiday_home",
        "extrapolate_periods",
    }
)


def cost_settings_from_dict(
    data: Mapping[str, Any], presets: Presets | None = None
) -> CostSettings:
    """Validate cost settings given as a dictionary (e.g. from the UI) and return them.

    Give either `company` (a preset name) or `grid_tariffs` (a list of tariff dictionaries,
    the custom-tariff path); `national_rules` (a dictionary) replaces the preset rules,
    e.g. with next year's numbers. Unknown keys are refused so that typos are not ignored.
    """
    reader = FieldReader(data, "")
    unknown = sorted(set(reader.data) - _SETTING_KEYS)
    if unknown:
        raise TariffValidationError(f"unknown setting(s): {', '.join(unknown)}")
    if reader.has("national_rules"):
        national = national_rules_from_dict(reader.raw("national_rules"))
    else:
        national = (presets or load_presets()).national_rules()
    if reader.has("company") == reader.has("grid_tariffs"):
        raise TariffValidationError(
            "give either company (a preset) or grid_tariffs (your own tariff)"
        )
    if reader.has("company"):
        tariffs = (presets or load_presets()).tariffs(reader.text("company"))
    else:
        items = reader.items("grid_tariffs")
        if not items:
            raise TariffValidationError("grid_tariffs: give at least one tariff")
        parsed: list[GridTariff] = []
        for index, item in enumerate(items):
            try:
                parsed.append(grid_tariff_from_dict(item, vat_rate=national.vat_rate))
            except TariffValidationError as err:
                raise TariffValidationError(f"grid_tariffs[{index}].{err}") from err
        tariffs = tuple(sorted(parsed, key=lambda tariff: tariff.valid_from))
    fuse = reader.optional_number("main_fuse_a")
    return CostSettings(
        grid_tariffs=tariffs,
        national_rules=national,
        contract=reader.choice("contract", Contract, Contract.SPOT),
        tax_zone=reader.choice("tax_zone", TaxZone) if reader.has("tax_zone") else None,
        allow_export=reader.boolean("allow_export", default=False),
        supplier_markup_nok_per_kwh=reader.number("supplier_markup_nok_per_kwh", 0.0),
        supplier_fixed_nok_per_month=reader.number("supplier_fixed_nok_per_month", 0.0),
        export_extra_nok_per_kwh=reader.number("export_extra_nok_per_kwh", 0.0),
        main_fuse_a=fuse,
        holiday_home=reader.boolean("holiday_home", default=False),
        extrapolate_periods=reader.boolean("extrapolate_periods", default=True),
    )


def local_month_start_utc(year: int, month: int) -> datetime:
    """Return the UTC instant at which a local (Europe/Oslo) month starts."""
    return datetime(year, month, 1, tzinfo=OSLO).astimezone(UTC)
