"""Typed tariff and tax data, and their validation from plain dictionaries.

Every amount in these types is in NOK and EXCLUDES VAT; the customer's tax zone adds VAT
when a cost is computed. Dates are local (Europe/Oslo) calendar dates; a period covers
`valid_from <= day < valid_to` (`valid_to=None` means open-ended). The dictionary format
read by `grid_tariff_from_dict` and `national_rules_from_dict` is the one of the bundled
preset file, so a user's own tariff goes through exactly the same checks as a preset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
import math
from typing import Any, Final, Protocol

HOUR_S: Final = 3600
WEEKDAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Named day filters of the preset data: (weekdays, whether public holidays are excluded).
DAY_FILTERS: Final[Mapping[str, tuple[frozenset[int], bool]]] = {
    "all": (frozenset(range(7)), False),
    "working_days": (frozenset(range(5)), True),
    "mon_fri": (frozenset(range(5)), False),
    "weekend": (frozenset({5, 6}), False),
    "fridays": (frozenset({4}), False),
}


class TariffError(ValueError):
    """A tariff, tax rule or cost setting is invalid or cannot be applied."""


class TariffValidationError(TariffError):
    """User or preset tariff data failed validation; the message names the field."""


class RateNotFoundError(TariffError):
    """No tariff or tax period covers a date and extrapolation is switched off."""


class UnsupportedCapacityMethodError(TariffError):
    """The capacity method cannot be computed from the data available."""


class MissingSettingError(TariffError):
    """A cost setting the tariff needs (such as the main fuse size) was not given."""


class TaxZone(StrEnum):
    """VAT and elavgift zone of the metering point (by county, not by bidding zone)."""

    STANDARD = "standard"  # 25 % VAT, full elavgift
    NORD_NORGE = "nord_norge"  # Nordland, Troms, Finnmark: no VAT on household electricity
    TILTAKSSONE = "tiltakssone"  # Finnmark and seven Nord-Troms municipalities: no VAT, no elavgift


class CapacityMethod(StrEnum):
    """How the grid company picks the month's capacity step (fri-nettleie names)."""

    THREE_DAILY_MAX_MONTH = "TRE_DØGNMAX_MND"  # mean of the 3 highest daily max hours, 3 days
    MONTHLY_MAX = "MND_MAX"  # the single highest hour of the month
    FUSE_SIZE = "OV_TREFASE"  # by the main fuse size, not by measured power
    WEIGHTED_YEAR = "FEM_VEKTET_ÅR"  # 5 season-weighted weekly peaks over 12 months


class Contract(StrEnum):
    """The household's energy contract."""

    SPOT = "spot"  # spot + markup, with strømstøtte
    NORGESPRIS = "norgespris"  # the state fixed price, replaces strømstøtte


class Period(Protocol):
    """Anything valid on local days valid_from <= day < valid_to."""

    @property
    def valid_from(self) -> date:
        """First local day of the period."""

    @property
    def valid_to(self) -> date | None:
        """First local day after the period, None when open-ended."""


@dataclass(frozen=True, slots=True)
class CapacityStep:
    """One capacity step: measured kW in [from_kw, to_kw) costs nok_per_month (excl VAT)."""

    from_kw: float
    to_kw: float | None
    nok_per_month: float


@dataclass(frozen=True, slots=True)
class FuseStep:
    """One step of a fuse-size capacity term: main fuse in [from_a, to_a) (excl VAT)."""

    from_a: float
    to_a: float | None
    nok_per_month: float


@dataclass(frozen=True, slots=True)
class EnergyRule:
    """An energy-component price that replaces the base price in matching local hours.

    Hours are local clock hours [start_hour, end_hour); end <= start wraps past midnight
    (22-6 is the night). The first matching rule of a tariff wins.
    """

    name: str
    start_hour: int
    end_hour: int
    weekdays: frozenset[int]
    exclude_holidays: bool
    months: frozenset[int]
    nok_per_kwh: float


@dataclass(frozen=True, slots=True)
class GridTariff:
    """One company's household grid tariff (nettleie) for one validity period, excl VAT."""

    company: str
    valid_from: date
    valid_to: date | None
    capacity_method: CapacityMethod
    capacity_steps: tuple[CapacityStep, ...]
    energy_base_nok_per_kwh: float
    energy_rules: tuple[EnergyRule, ...] = ()
    threshold_inclusive: bool = True
    fuse_steps: tuple[FuseStep, ...] = ()
    capacity_interval_s: int = HOUR_S
    extra_low_days: tuple[tuple[int, int], ...] = ()
    vat_zone: TaxZone = TaxZone.STANDARD
    price_areas: tuple[str, ...] = ()
    verified: bool = True
    source: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TaxPeriod:
    """Elavgift and Enova fee (NOK/kWh excl VAT) over a period."""

    valid_from: date
    valid_to: date | None
    elavgift_nok_per_kwh: float
    enova_nok_per_kwh: float


@dataclass(frozen=True, slots=True)
class SubsidyPeriod:
    """Strømstøtte over a period: rate * (hourly spot - threshold), threshold excl VAT."""

    valid_from: date
    valid_to: date | None
    threshold_nok_per_kwh: float
    rate: float


@dataclass(frozen=True, slots=True)
class NorgesprisPeriod:
    """The Norgespris reference price (NOK/kWh excl VAT) over a period."""

    valid_from: date
    valid_to: date | None
    price_nok_per_kwh: float


@dataclass(frozen=True, slots=True)
class NationalRules:
    """Norway-wide taxes and schemes: VAT, elavgift, Enova, strømstøtte, Norgespris."""

    vat_rate: float
    tax_periods: tuple[TaxPeriod, ...]
    subsidy_periods: tuple[SubsidyPeriod, ...]
    norgespris_periods: tuple[NorgesprisPeriod, ...]
    subsidy_cap_kwh_per_month: float = 5000.0
    norgespris_cap_kwh_per_month: float = 5000.0
    norgespris_holiday_home_cap_kwh_per_month: float = 1000.0


@dataclass(frozen=True, slots=True)
class CostSettings:
    """Everything the cost model needs about one household's contract and grid connection.

    `grid_tariffs` holds one company's periods (presets) or a single custom tariff;
    `tax_zone` None takes the zone of the tariff. Supplier amounts exclude VAT.
    `extrapolate_periods` uses the nearest known period for dates outside every period
    (rates carry forward until changed); False raises RateNotFoundError instead.
    """

    grid_tariffs: tuple[GridTariff, ...]
    national_rules: NationalRules
    contract: Contract = Contract.SPOT
    tax_zone: TaxZone | None = None
    allow_export: bool = False
    supplier_markup_nok_per_kwh: float = 0.0
    supplier_fixed_nok_per_month: float = 0.0
    export_extra_nok_per_kwh: float = 0.0
    main_fuse_a: float | None = None
    holiday_home: bool = False
    extrapolate_periods: bool = True
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        """Reject settings the model cannot price."""
        if not self.grid_tariffs:
            raise TariffValidationError("grid_tariffs: give at least one grid tariff")
        check_periods_ordered(self.grid_tariffs, "grid_tariffs")
        for name in (
            "supplier_markup_nok_per_kwh",
            "supplier_fixed_nok_per_month",
            "export_extra_nok_per_kwh",
        ):
            _finite(getattr(self, name), name)
        if self.main_fuse_a is not None and not (
            math.isfinite(self.main_fuse_a) and self.main_fuse_a > 0
        ):
            raise TariffValidationError(
                f"main_fuse_a: must be a positive number of amperes, got {self.main_fuse_a}"
            )


def check_periods_ordered(periods: Sequence[Period], what: str) -> None:
    """Raise unless the periods are sorted by start and do not overlap."""
    for index, period in enumerate(periods):
        if period.valid_to is not None and period.valid_to <= period.valid_from:
            raise TariffValidationError(
                f"{what}[{index}]: valid_to {period.valid_to} is not after valid_from {period.valid_from}"
            )
        if index == 0:
            continue
        previous = periods[index - 1]
        if previous.valid_to is None or previous.valid_to > period.valid_from:
            raise TariffValidationError(
                f"{what}[{index}]: starts {period.valid_from}, before the previous period ends "
                f"({previous.valid_to or 'open-ended'}); periods must be sorted and not overlap"
            )


def _finite(value: float, what: str) -> float:
    """Return the value when it is a finite number, else raise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TariffValidationError(f"{what}: must be a finite number, got {value!r}")
    return float(value)


# --- validation from plain dictionaries -------------------------------------------------


class FieldReader:
    """Typed access to one mapping, with error messages that name the field's path."""

    def __init__(self, data: object, path: str) -> None:
        """Wrap a mapping found at `path` (raises when it is not a mapping)."""
        if not isinstance(data, Mapping):
            raise TariffValidationError(
                f"{path or 'tariff'}: expected a mapping, got {type(data).__name__}"
            )
        self.data: Mapping[str, Any] = data
        self.path = path

    def where(self, key: str) -> str:
        """Return the dotted path of a key."""
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        """Return True when the key is present and not None."""
        return self.data.get(key) is not None

    def raw(self, key: str) -> Any:
        """Return a required value."""
        if key not in self.data or self.data[key] is None:
            raise TariffValidationError(f"{self.where(key)}: missing")
        return self.data[key]

    def number(
        self, key: str, default: float | None = None, *, minimum: float | None = None
    ) -> float:
        """Return a finite number (optionally with a default and a lower bound)."""
        if default is not None and not self.has(key):
            return default
        value = _finite(self.raw(key), self.where(key))
        if minimum is not None and value < minimum:
            raise TariffValidationError(f"{self.where(key)}: must be >= {minimum}, got {value}")
        return value

    def optional_number(self, key: str) -> float | None:
        """Return a finite number or None when absent."""
        return self.number(key) if self.has(key) else None

    def text(self, key: str, default: str | None = None) -> str:
        """Return a non-empty string."""
        if default is not None and not self.has(key):
            return default
        value = self.raw(key)
        if not isinstance(value, str) or not value.strip():
            raise TariffValidationError(f"{self.where(key)}: must be a non-empty string")
        return value.strip()

    def boolean(self, key: str, default: bool) -> bool:
        """Return a boolean."""
        if not self.has(key):
            return default
        value = self.raw(key)
        if not isinstance(value, bool):
            raise TariffValidationError(f"{self.where(key)}: must be true or false, got {value!r}")
        return value

    def day(self, key: str, *, optional: bool = False) -> date | None:
        """Return a date given as ISO text (YYYY-MM-DD) or a date."""
        if optional and not self.has(key):
            return None
        value = self.raw(key)
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise TariffValidationError(
                f"{self.where(key)}: not a date (YYYY-MM-DD): {value!r}"
            ) from None

    def items(self, key: str) -> list[Any]:
        """Return a list (absent means empty)."""
        if not self.has(key):
            return []
        value = self.raw(key)
        if not isinstance(value, list | tuple):
            raise TariffValidationError(f"{self.where(key)}: must be a list")
        return list(value)

    def choice[E: StrEnum](self, key: str, enum: type[E], default: E | None = None) -> E:
        """Return an enum member by its value."""
        if default is not None and not self.has(key):
            return default
        value = self.raw(key)
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(member.value for member in enum)
            raise TariffValidationError(
                f"{self.where(key)}: {value!r} is not one of {allowed}"
            ) from None


def _vat_divisor(reader: FieldReader, vat_rate: float | None) -> float:
    """Return what entered prices are divided by: 1 + VAT when they include VAT."""
    if not reader.boolean("prices_include_vat", default=False):
        return 1.0
    if vat_rate is None:
        raise TariffValidationError(
            f"{reader.where('prices_include_vat')}: prices include VAT, so pass the VAT rate to convert them"
        )
    return 1.0 + vat_rate


def _steps(
    reader: FieldReader, key: str, lower: str, upper: str, divisor: float
) -> list[tuple[float, float | None, float]]:
    """Read and check a contiguous list of steps that starts at 0 and ends open."""
    rows: list[tuple[float, float | None, float]] = []
    for index, item in enumerate(reader.items(key)):
        step = FieldReader(item, f"{reader.where(key)}[{index}]")
        start = step.number(lower, minimum=0.0)
        end = step.optional_number(upper)
        if step.has("nok_per_month_excl_vat"):
            amount = step.number("nok_per_month_excl_vat", minimum=0.0)
        else:
            amount = step.number("nok_per_month", minimum=0.0) / divisor
        if end is not None and end <= start:
            raise TariffValidationError(f"{step.where(upper)}: {end} is not above {lower} {start}")
        rows.append((start, end, amount))
    if not rows:
        return rows
    if rows[0][0] != 0:
        raise TariffValidationError(
            f"{reader.where(key)}[0].{lower}: the first step must start at 0"
        )
    for index in range(1, len(rows)):
        if rows[index - 1][1] != rows[index][0]:
            raise TariffValidationError(
                f"{reader.where(key)}[{index}].{lower}: {rows[index][0]} does not continue the previous "
                f"step, which ends at {rows[index - 1][1]}"
            )
    if rows[-1][1] is not None:
        raise TariffValidationError(
            f"{reader.where(key)}[{len(rows) - 1}].{upper}: the last step must be open-ended (null)"
        )
    return rows


def _int_set(
    values: object, allowed: range, where: str, names: Sequence[str] = ()
) -> frozenset[int]:
    """Read a list of integers (or names) that must lie in `allowed`."""
    if not isinstance(values, list | tuple) or not values:
        raise TariffValidationError(f"{where}: must be a non-empty list")
    result: set[int] = set()
    for value in values:
        if isinstance(value, str) and value.lower()[:3] in names:
            result.add(names.index(value.lower()[:3]))
        elif isinstance(value, int) and not isinstance(value, bool) and value in allowed:
            result.add(value)
        else:
            raise TariffValidationError(
                f"{where}: {value!r} is not in {allowed.start}..{allowed.stop - 1}"
            )
    return frozenset(result)


def _energy_rule(item: object, where: str, divisor: float) -> EnergyRule:
    """Read one energy-component rule."""
    rule = FieldReader(item, where)
    start = int(rule.number("start_hour", minimum=0))
    end = int(rule.number("end_hour", minimum=0))
    if start > 23 or end > 24 or start == end:
        raise TariffValidationError(
            f"{where}: hours {start}-{end} are not a local-hour range (start 0-23, end 1-24, start != end)"
        )
    days = rule.raw("days") if rule.has("days") else "all"
    if isinstance(days, str):
        if days not in DAY_FILTERS:
            raise TariffValidationError(
                f"{rule.where('days')}: {days!r} is not one of {', '.join(DAY_FILTERS)} or a list of weekdays"
            )
        weekdays, exclude_holidays = DAY_FILTERS[days]
    else:
        weekdays = _int_set(days, range(7), rule.where("days"), WEEKDAY_NAMES)
        exclude_holidays = False
    exclude_holidays = rule.boolean("exclude_holidays", exclude_holidays)
    months_raw = rule.raw("months") if rule.has("months") else "all"
    months = (
        frozenset(range(1, 13))
        if months_raw == "all"
        else _int_set(months_raw, range(1, 13), rule.where("months"))
    )
    if rule.has("nok_per_kwh_excl_vat"):
        price = rule.number("nok_per_kwh_excl_vat")
    else:
        price = rule.number("nok_per_kwh") / divisor
    return EnergyRule(
        name=rule.text("name", default="rule"),
        start_hour=start,
        end_hour=end,
        weekdays=weekdays,
        exclude_holidays=exclude_holidays,
        months=months,
        nok_per_kwh=price,
    )


def grid_tariff_from_dict(data: Mapping[str, Any], *, vat_rate: float | None = None) -> GridTariff:
    """Validate a tariff given as a dictionary and return it (errors name the field).

    Prices are NOK excl VAT unless `prices_include_vat: true`, in which case `vat_rate`
    (e.g. NationalRules.vat_rate) converts them. Required: company, valid_from,
    energy_base_nok_per_kwh(_excl_vat), and capacity_steps (or fuse_steps for OV_TREFASE).
    """
    reader = FieldReader(data, "")
    divisor = _vat_divisor(reader, vat_rate)
    method = reader.choice("capacity_method", CapacityMethod, CapacityMethod.THREE_DAILY_MAX_MONTH)
    capacity = [
        CapacityStep(*row) for row in _steps(reader, "capacity_steps", "from_kw", "to_kw", divisor)
    ]
    fuses = [FuseStep(*row) for row in _steps(reader, "fuse_steps", "from_a", "to_a", divisor)]
    if method is CapacityMethod.FUSE_SIZE and not fuses:
        raise TariffValidationError(
            "fuse_steps: the fuse-size method (OV_TREFASE) needs fuse steps"
        )
    if method is not CapacityMethod.FUSE_SIZE and not capacity:
        raise TariffValidationError(
            "capacity_steps: missing (give at least one step starting at 0 kW)"
        )
    if reader.has("energy_base_nok_per_kwh_excl_vat"):
        base = reader.number("energy_base_nok_per_kwh_excl_vat")
    else:
        base = reader.number("energy_base_nok_per_kwh") / divisor
    rules = tuple(
        _energy_rule(item, f"energy_rules[{index}]", divisor)
        for index, item in enumerate(reader.items("energy_rules"))
    )
    extra: list[tuple[int, int]] = []
    for index, text in enumerate(reader.items("extra_low_days")):
        try:
            month, day = (int(part) for part in str(text).split("-"))
            date(2000, month, day)  # a leap year accepts every valid month-day
        except ValueError:
            raise TariffValidationError(f"extra_low_days[{index}]: {text!r} is not MM-DD") from None
        extra.append((month, day))
    interval_s = int(reader.number("capacity_interval_s", float(HOUR_S)))
    if interval_s <= 0 or HOUR_S % interval_s:
        raise TariffValidationError(f"capacity_interval_s: {interval_s} does not divide an hour")
    valid_from = reader.day("valid_from")
    valid_to = reader.day("valid_to", optional=True)
    assert valid_from is not None  # a required date is never None
    if valid_to is not None and valid_to <= valid_from:
        raise TariffValidationError(f"valid_to: {valid_to} is not after valid_from {valid_from}")
    return GridTariff(
        company=reader.text("company"),
        valid_from=valid_from,
        valid_to=valid_to,
        capacity_method=method,
        capacity_steps=tuple(capacity),
        energy_base_nok_per_kwh=base,
        energy_rules=rules,
        threshold_inclusive=reader.boolean("threshold_inclusive", default=True),
        fuse_steps=tuple(fuses),
        capacity_interval_s=interval_s,
        extra_low_days=tuple(extra),
        vat_zone=reader.choice("vat_zone", TaxZone, TaxZone.STANDARD),
        price_areas=tuple(str(area) for area in reader.items("price_areas")),
        verified=reader.boolean("verified", default=False),
        source=reader.text("source", default="user"),
        notes=tuple(str(note) for note in reader.items("notes")),
    )


def national_rules_from_dict(data: Mapping[str, Any]) -> NationalRules:
    """Validate national rules given as a dictionary (the bundled file's `national` part)."""
    reader = FieldReader(data, "")
    vat_rate = reader.number("vat_rate", minimum=0.0)

    def periods(key: str) -> list[FieldReader]:
        """Return the readers of a list of periods."""
        return [
            FieldReader(item, f"{key}[{index}]") for index, item in enumerate(reader.items(key))
        ]

    def bounds(item: FieldReader) -> tuple[date, date | None]:
        """Return a period's validity."""
        start = item.day("valid_from")
        assert start is not None  # a required date is never None
        return start, item.day("valid_to", optional=True)

    taxes = tuple(
        TaxPeriod(
            *bounds(item),
            elavgift_nok_per_kwh=item.number("elavgift_nok_per_kwh", minimum=0.0),
            enova_nok_per_kwh=item.number("enova_nok_per_kwh", minimum=0.0),
        )
        for item in periods("tax_periods")
    )
    subsidies = tuple(
        SubsidyPeriod(
            *bounds(item),
            threshold_nok_per_kwh=item.number("threshold_nok_per_kwh"),
            rate=item.number("rate", minimum=0.0),
        )
        for item in periods("subsidy_periods")
    )
    for index, subsidy in enumerate(subsidies):
        if subsidy.rate > 1:
            raise TariffValidationError(f"subsidy_periods[{index}].rate: {subsidy.rate} is above 1")
    norgespris = tuple(
        NorgesprisPeriod(*bounds(item), price_nok_per_kwh=item.number("price_nok_per_kwh"))
        for item in periods("norgespris_periods")
    )
    if not taxes:
        raise TariffValidationError("tax_periods: give at least one period")
    for what, items in (
        ("tax_periods", taxes),
        ("subsidy_periods", subsidies),
        ("norgespris_periods", norgespris),
    ):
        check_periods_ordered(items, what)
    return NationalRules(
        vat_rate=vat_rate,
        tax_periods=taxes,
        subsidy_periods=subsidies,
        norgespris_periods=norgespris,
        subsidy_cap_kwh_per_month=reader.number("subsidy_cap_kwh_per_month", 5000.0, minimum=0.0),
        norgespris_cap_kwh_per_month=reader.number(
            "norgespris_cap_kwh_per_month", 5000.0, minimum=0.0
        ),
        norgespris_holiday_home_cap_kwh_per_month=reader.number(
            "norgespris_holiday_home_cap_kwh_per_month", 1000.0, minimum=0.0
        ),
    )
