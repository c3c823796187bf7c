"""Pure parsers for prices held by other Home Assistant integrations (no Home Assistant import).

They read (a) the community Nord Pool sensor's `raw_today`/`raw_tomorrow` attributes and
(b) the answer of the core `nordpool.get_prices_for_date` action, given as plain data, and
return one Europe/Oslo day as quarters in currency/kWh excl. VAT.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
import re
from typing import TYPE_CHECKING, Final

from custom_components.nordic_v2h.core.timeseries import local_day_bounds_utc

from .base import (
    CURRENCIES,
    PriceInterval,
    PriceResponseError,
    as_price,
    as_utc_datetime,
    day_to_quarters,
    field,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date

    from custom_components.nordic_v2h.core.timeseries import SlotSeries

    from .base import Currency

# The core action answers in currency/MWh (pynordpool passes the data portal's unit on).
KWH_PER_MWH: Final = 1000.0
# Norwegian VAT on electricity; NO4 households in Nordland, Troms and Finnmark pay none.
DEFAULT_VAT_RATE: Final = 0.25
_ENERGY_PER_KWH: Final = {"wh": 1000.0, "kwh": 1.0, "mwh": 0.001}
_SUBUNITS: Final = {"øre": "NOK", "ore": "NOK", "c": "EUR", "ct": "EUR", "cent": "EUR"}
_UNIT_RE: Final = re.compile(r"^\s*([^/\s]+)\s*/\s*([a-zA-Z]+)\s*$")


@dataclass(frozen=True, slots=True)
class SensorPriceUnit:
    """How a sensor's numbers relate to currency/kWh excl. VAT."""

    currency: Currency
    factor_to_per_kwh: float
    vat_rate_included: float

    def to_per_kwh_excl_vat(self, value: float) -> float:
        """Convert one sensor value to currency/kWh excluding VAT."""
        return value * self.factor_to_per_kwh / (1.0 + self.vat_rate_included)


def parse_price_unit(
    unit: str, currency: Currency, *, vat_included: bool, vat_rate: float = DEFAULT_VAT_RATE
) -> SensorPriceUnit:
    """Read a unit such as "NOK/kWh", "øre/kWh" or "EUR/MWh"; its currency must be `currency`."""
    if currency not in CURRENCIES:
        raise ValueError(f"unsupported currency {currency!r}: use one of {CURRENCIES}")
    if not 0.0 <= vat_rate < 1.0:
        raise ValueError(f"VAT rate {vat_rate} is not a fraction such as 0.25")
    match = _UNIT_RE.match(unit)
    if match is None or match.group(2).lower() not in _ENERGY_PER_KWH:
        raise ValueError(f"unknown price unit {unit!r}: expected e.g. NOK/kWh, øre/kWh, EUR/MWh")
    money, energy = match.group(1), match.group(2).lower()
    subunit_of = _SUBUNITS.get(money.lower())
    if subunit_of is not None:
        unit_currency, money_factor = subunit_of, 0.01
    else:
        unit_currency, money_factor = money.upper(), 1.0
    if unit_currency != currency:
        raise ValueError(f"price unit {unit!r} is not in {currency}")
    return SensorPriceUnit(
        currency=currency,
        factor_to_per_kwh=money_factor * _ENERGY_PER_KWH[energy],
        vat_rate_included=vat_rate if vat_included else 0.0,
    )


def unit_from_sensor_attributes(attributes: Mapping[str, object]) -> str:
    """Return the price unit that a community Nord Pool sensor states, such as "NOK/kWh"."""
    currency = attributes.get("currency")
    energy = attributes.get("unit")
    if isinstance(currency, str) and isinstance(energy, str):
        money = currency
        if attributes.get("price_in_cents") is True:
            money = "øre" if currency.upper() == "NOK" else "c"
        return f"{money}/{energy}"
    measured = attributes.get("unit_of_measurement")
    if isinstance(measured, str):
        return measured
    raise PriceResponseError(
        "the sensor states neither currency and unit nor a unit_of_measurement"
    )


def intervals_from_raw(raw: object, unit: SensorPriceUnit, what: str) -> list[PriceInterval]:
    """Read a `raw_today`/`raw_tomorrow` list of {start, end, value} into intervals."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise PriceResponseError(f"{what}: expected a list, got {type(raw).__name__}")
    intervals: list[PriceInterval] = []
    for number, row in enumerate(raw):
        if not isinstance(row, dict):
            raise PriceResponseError(f"{what}[{number}]: expected an object")
        raw_value = field(row, "value", f"{what}[{number}]")
        # The community sensor marks an hour it has no price for with infinity.
        if isinstance(raw_value, float) and math.isinf(raw_value):
            raw_value = None
        value = as_price(raw_value, f"{what}[{number}]")
        intervals.append(
            PriceInterval(
                as_utc_datetime(
                    field(row, "start", f"{what}[{number}]"), f"{what}[{number}].start"
                ),
                as_utc_datetime(field(row, "end", f"{what}[{number}]"), f"{what}[{number}].end"),
                None if value is None else unit.to_per_kwh_excl_vat(value),
            )
        )
    return intervals


def parse_sensor_day(
    attributes: Mapping[str, object], day: date, unit: SensorPriceUnit, what: str
) -> SlotSeries | None:
    """Return one local day from a community Nord Pool sensor's attributes.

    Both `raw_today` and `raw_tomorrow` are searched, so the result does not depend on
    whether the sensor has rolled over at midnight yet. None when neither has the day.
    """
    costs = attributes.get("additional_costs_current_hour")
    if isinstance(costs, (int, float)) and not isinstance(costs, bool) and costs != 0:
        # The planner adds the grid tariff and taxes itself; counting them twice would
        # make every plan wrong, so refuse rather than guess which costs were added.
        raise PriceResponseError(
            f"{what}: the sensor adds additional costs ({costs}); set them to 0 in the Nord"
            " Pool sensor so that it gives the spot price"
        )
    day_start, day_end = local_day_bounds_utc(day)
    in_day = [
        interval
        for key in ("raw_today", "raw_tomorrow")
        for interval in intervals_from_raw(attributes.get(key), unit, f"{what} {key}")
        if interval.start_utc < day_end and interval.end_utc > day_start
    ]
    return day_to_quarters(day, in_day, what)


def parse_core_response(response: object, area: str, day: date, what: str) -> SlotSeries | None:
    """Return one local day from a `nordpool.get_prices_for_date` response in currency/kWh.

    The response maps each area to a list of {start, end, price} with ISO-8601 times and
    prices in currency/MWh. An empty list means the day is not published yet (None).
    """
    if not isinstance(response, dict):
        raise PriceResponseError(f"{what}: expected an object, got {type(response).__name__}")
    rows = response.get(area)
    if rows is None:
        raise PriceResponseError(f"{what}: no prices for area {area}")
    if not isinstance(rows, list):
        raise PriceResponseError(f"{what}: prices of {area} are not a list")
    intervals: list[PriceInterval] = []
    for number, row in enumerate(rows):
        if not isinstance(row, dict):
            raise PriceResponseError(f"{what}[{number}]: expected an object")
        price = as_price(field(row, "price", f"{what}[{number}]"), f"{what}[{number}]")
        intervals.append(
            PriceInterval(
                as_utc_datetime(
                    field(row, "start", f"{what}[{number}]"), f"{what}[{number}].start"
                ),
                as_utc_datetime(field(row, "end", f"{what}[{number}]"), f"{what}[{number}].end"),
                None if price is None else price / KWH_PER_MWH,
            )
        )
    return day_to_quarters(day, intervals, what)
