"""Tests of the prices read from other Home Assistant integrations.

The parsers are pure and tested on plain data made from the fixtures; a few tests then run
the two sources against a real Home Assistant: a community Nord Pool sensor's state set with
`hass.states.async_set`, and a `nordpool.get_prices_for_date` action registered with the
response format of the core integration (its library, pynordpool, is not installed in the
test environments, so the core integration itself cannot be set up).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import math
from typing import TYPE_CHECKING, Any

from homeassistant.core import ServiceCall, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import pytest

from custom_components.nordic_v2h.core.timeseries import HOUR_S, OSLO, QUARTER_S
from custom_components.nordic_v2h.prices import (
    PriceConnectionError,
    PriceResponseError,
    PriceSource,
    PriceSourceError,
)
from custom_components.nordic_v2h.prices.entity import (
    NordpoolActionPriceSource,
    NordpoolSensorPriceSource,
)
from custom_components.nordic_v2h.prices.entity_parsing import (
    SensorPriceUnit,
    parse_core_response,
    parse_price_unit,
    parse_sensor_day,
    unit_from_sensor_attributes,
)

from .common import entries, load_fixture, utc

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

NOK_DAY = "built_no1_2025-10-15_15min_nok.json"
SPRING_DAY = "built_no1_2025-03-30_15min_eur.json"
AUTUMN_DAY = "built_no1_2025-10-26_15min_eur.json"
HOURLY_FI = "recorded_fi_2025-05-07_60min_eur.json"
CORE_RECORDED = "recorded_core_action_se3_2024-11-05.json"
NOK_INCL_VAT = SensorPriceUnit(currency="NOK", factor_to_per_kwh=1.0, vat_rate_included=0.25)
EUR_PLAIN = SensorPriceUnit(currency="EUR", factor_to_per_kwh=1.0, vat_rate_included=0.0)
SENSOR = "sensor.nordpool_kwh_oslo_nok_3_10_025"


def expected_per_kwh(name: str, area: str) -> list[float]:
    """Return a fixture's prices in currency/kWh excl. VAT, in delivery order."""
    return [row["entryPerArea"][area] / 1000 for row in entries(load_fixture(name))]


def raw_list(name: str, area: str, *, factor: float, as_text: bool = False) -> list[dict[str, Any]]:
    """Return a fixture day as a community sensor's raw list: local times, value times factor per kWh."""
    raw = []
    for row in entries(load_fixture(name)):
        start = utc(row["deliveryStart"]).astimezone(OSLO)
        end = utc(row["deliveryEnd"]).astimezone(OSLO)
        raw.append(
            {
                "start": start.isoformat() if as_text else start,
                "end": end.isoformat() if as_text else end,
                "value": round(row["entryPerArea"][area] / 1000 * factor, 9),
            }
        )
    return raw


def core_response(name: str, area: str) -> dict[str, Any]:
    """Return a fixture day in the core action's response format (UTC ISO times, price per MWh)."""
    return {
        area: [
            {
                "start": utc(row["deliveryStart"]).isoformat(),
                "end": utc(row["deliveryEnd"]).isoformat(),
                "price": row["entryPerArea"][area],
            }
            for row in entries(load_fixture(name))
        ]
    }


@pytest.mark.parametrize(
    ("unit", "currency", "vat_included", "factor", "vat"),
    [
        pytest.param("NOK/kWh", "NOK", False, 1.0, 0.0, id="nok_per_kwh"),
        pytest.param("NOK/kWh", "NOK", True, 1.0, 0.25, id="nok_per_kwh_incl_vat"),
        pytest.param("øre/kWh", "NOK", False, 0.01, 0.0, id="ore_per_kwh"),
        pytest.param("Øre/kWh", "NOK", True, 0.01, 0.25, id="capital_ore_incl_vat"),
        pytest.param("NOK/MWh", "NOK", False, 0.001, 0.0, id="nok_per_mwh"),
        pytest.param("NOK/Wh", "NOK", False, 1000.0, 0.0, id="nok_per_wh"),
        pytest.param("EUR/MWh", "EUR", False, 0.001, 0.0, id="eur_per_mwh"),
        pytest.param("c/kWh", "EUR", False, 0.01, 0.0, id="euro_cent_per_kwh"),
        pytest.param(" eur / kwh ", "EUR", False, 1.0, 0.0, id="spaces_and_case"),
    ],
)
def test_price_units(
    unit: str, currency: Any, vat_included: bool, factor: float, vat: float
) -> None:
    parsed = parse_price_unit(unit, currency, vat_included=vat_included)
    assert parsed == SensorPriceUnit(
        currency=currency, factor_to_per_kwh=factor, vat_rate_included=vat
    )


@pytest.mark.parametrize(
    ("unit", "currency", "vat_rate", "message"),
    [
        pytest.param("EUR/kWh", "NOK", 0.25, "not in NOK", id="other_currency"),
        pytest.param("c/kWh", "NOK", 0.25, "not in NOK", id="euro_cents_for_nok"),
        pytest.param("NOK/kW", "NOK", 0.25, "unknown price unit", id="power_not_energy"),
        pytest.param("NOK", "NOK", 0.25, "unknown price unit", id="no_energy_part"),
        pytest.param("", "NOK", 0.25, "unknown price unit", id="empty"),
        pytest.param("NOK/kWh", "SEK", 0.25, "unsupported currency", id="unsupported_currency"),
        pytest.param("NOK/kWh", "NOK", 25.0, "not a fraction", id="vat_in_percent"),
        pytest.param("NOK/kWh", "NOK", -0.1, "not a fraction", id="negative_vat"),
    ],
)
def test_bad_price_units(unit: str, currency: Any, vat_rate: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_price_unit(unit, currency, vat_included=True, vat_rate=vat_rate)


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        pytest.param(1.25, NOK_INCL_VAT, 1.0, id="vat_removed"),
        pytest.param(-0.05, NOK_INCL_VAT, -0.04, id="negative_price_vat_removed"),
        pytest.param(
            125.0, parse_price_unit("øre/kWh", "NOK", vat_included=True), 1.0, id="ore_incl_vat"
        ),
        pytest.param(
            1.0,
            parse_price_unit("NOK/kWh", "NOK", vat_included=True, vat_rate=0.0),
            1.0,
            id="no4_without_vat",
        ),
        pytest.param(
            58.4, parse_price_unit("EUR/MWh", "EUR", vat_included=False), 0.0584, id="eur_per_mwh"
        ),
    ],
)
def test_conversion_to_per_kwh_excl_vat(
    value: float, unit: SensorPriceUnit, expected: float
) -> None:
    assert unit.to_per_kwh_excl_vat(value) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        pytest.param(
            {"currency": "NOK", "unit": "kWh", "price_in_cents": False}, "NOK/kWh", id="nok_kwh"
        ),
        pytest.param(
            {"currency": "NOK", "unit": "kWh", "price_in_cents": True}, "øre/kWh", id="nok_in_cents"
        ),
        pytest.param(
            {"currency": "EUR", "unit": "MWh", "price_in_cents": True}, "c/MWh", id="eur_in_cents"
        ),
        pytest.param({"unit_of_measurement": "NOK/kWh"}, "NOK/kWh", id="only_unit_of_measurement"),
    ],
)
def test_unit_from_sensor_attributes(attributes: dict[str, Any], expected: str) -> None:
    assert unit_from_sensor_attributes(attributes) == expected


def test_unit_missing_from_sensor_attributes() -> None:
    with pytest.raises(PriceResponseError, match="neither currency"):
        unit_from_sensor_attributes({"raw_today": []})


@pytest.mark.parametrize(
    ("name", "area", "day", "quarters"),
    [
        pytest.param(NOK_DAY, "NO1", date(2025, 10, 15), 96, id="normal_day_quarters"),
        pytest.param(SPRING_DAY, "NO1", date(2025, 3, 30), 92, id="spring_day_quarters"),
        pytest.param(AUTUMN_DAY, "NO1", date(2025, 10, 26), 100, id="autumn_day_quarters"),
    ],
)
@pytest.mark.parametrize(
    ("key", "as_text"),
    [
        pytest.param("raw_today", False, id="today_as_datetimes"),
        pytest.param("raw_tomorrow", False, id="tomorrow_as_datetimes"),
        pytest.param("raw_today", True, id="today_as_iso_text"),
    ],
)
def test_sensor_day_incl_vat(
    name: str, area: str, day: date, quarters: int, key: str, as_text: bool
) -> None:
    attributes = {"raw_today": [], "raw_tomorrow": []} | {
        key: raw_list(name, area, factor=1.25, as_text=as_text)
    }

    series = parse_sensor_day(attributes, day, NOK_INCL_VAT, "test")

    assert series is not None
    assert len(series) == quarters
    assert series.start_utc == utc(entries(load_fixture(name))[0]["deliveryStart"])
    assert series.values == pytest.approx(expected_per_kwh(name, area), abs=1e-8)


def test_sensor_day_at_hourly_resolution() -> None:
    """A sensor set to hours gives 24 hourly prices; each holds for its four quarters."""
    attributes = {"raw_today": raw_list(HOURLY_FI, "FI", factor=1.0), "raw_tomorrow": None}

    series = parse_sensor_day(attributes, date(2025, 5, 7), EUR_PLAIN, "test")

    assert series is not None
    assert len(series) == 96
    assert series.slot_s == QUARTER_S
    assert series.to_slot_length(HOUR_S).values == pytest.approx(expected_per_kwh(HOURLY_FI, "FI"))


def test_sensor_day_spanning_both_lists_and_other_days() -> None:
    """Both lists are searched, and quarters of other days are left out."""
    raw = raw_list(NOK_DAY, "NO1", factor=1.0)
    attributes = {"raw_today": raw[:40], "raw_tomorrow": raw[40:]}

    series = parse_sensor_day(
        attributes, date(2025, 10, 15), SensorPriceUnit("NOK", 1.0, 0.0), "test"
    )
    other = parse_sensor_day(attributes, date(2025, 10, 16), NOK_INCL_VAT, "test")

    assert series is not None
    assert series.values == pytest.approx(expected_per_kwh(NOK_DAY, "NO1"))
    assert other is None


@pytest.mark.parametrize(
    ("attributes"),
    [
        pytest.param({"raw_today": [], "raw_tomorrow": []}, id="both_empty"),
        pytest.param({"raw_today": None, "raw_tomorrow": None}, id="both_null"),
        pytest.param({}, id="no_raw_attributes"),
    ],
)
def test_sensor_without_the_day_is_none(attributes: dict[str, Any]) -> None:
    assert parse_sensor_day(attributes, date(2025, 10, 15), NOK_INCL_VAT, "test") is None


def _raw_with(change: Any) -> dict[str, Any]:
    """Return sensor attributes for the NOK day after changing its raw_today list."""
    raw = raw_list(NOK_DAY, "NO1", factor=1.25)
    change(raw)
    return {"raw_today": raw, "raw_tomorrow": []}


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        pytest.param({"raw_today": "1,2,3"}, "expected a list", id="raw_is_text"),
        pytest.param(
            _raw_with(lambda r: r.__setitem__(3, 1.5)), "expected an object", id="entry_is_a_number"
        ),
        pytest.param(
            _raw_with(lambda r: r[3].pop("start")), "no 'start'", id="entry_without_start"
        ),
        pytest.param(
            _raw_with(lambda r: r[3].pop("value")), "no 'value'", id="entry_without_value"
        ),
        pytest.param(_raw_with(lambda r: r[3].update(end=17)), "not a time", id="end_is_a_number"),
        pytest.param(
            _raw_with(lambda r: r[3].update(start="morning")),
            "not an ISO-8601",
            id="unparsable_start",
        ),
        pytest.param(
            _raw_with(lambda r: r[3].update(start=r[3]["start"].replace(tzinfo=None))),
            "no time zone",
            id="naive_start",
        ),
        pytest.param(
            _raw_with(lambda r: r[3].update(value="1,05")), "not a number", id="value_is_text"
        ),
        pytest.param(
            _raw_with(lambda r: r[3].update(end=r[3]["start"] + timedelta(minutes=20))),
            "lasts",
            id="twenty_minute_slot",
        ),
        pytest.param(
            {
                "raw_today": raw_list(NOK_DAY, "NO1", factor=1.25),
                "additional_costs_current_hour": 0.5,
            },
            "additional costs",
            id="sensor_adds_costs",
        ),
    ],
)
def test_malformed_sensor_attributes_are_clean_errors(
    attributes: dict[str, Any], message: str
) -> None:
    with pytest.raises(PriceResponseError, match=message):
        parse_sensor_day(attributes, date(2025, 10, 15), NOK_INCL_VAT, "test")


@pytest.mark.parametrize(
    ("hole"),
    [pytest.param(None, id="null"), pytest.param(math.inf, id="infinity_as_the_sensor_marks_it")],
)
def test_sensor_hole_is_a_gap(hole: float | None) -> None:
    attributes = _raw_with(lambda r: r[10].update(value=hole))

    series = parse_sensor_day(attributes, date(2025, 10, 15), NOK_INCL_VAT, "test")

    assert series is not None
    assert series.gaps() == [(utc("2025-10-15T00:30Z"), utc("2025-10-15T00:45Z"))]


@pytest.mark.parametrize(
    ("name", "day", "quarters"),
    [
        pytest.param(
            "built_no1_2025-10-15_15min_eur.json", date(2025, 10, 15), 96, id="normal_day"
        ),
        pytest.param(SPRING_DAY, date(2025, 3, 30), 92, id="spring_day"),
        pytest.param(AUTUMN_DAY, date(2025, 10, 26), 100, id="autumn_day"),
    ],
)
def test_core_response(name: str, day: date, quarters: int) -> None:
    series = parse_core_response(core_response(name, "NO1"), "NO1", day, "test")

    assert series is not None
    assert len(series) == quarters
    assert series.start_utc == utc(entries(load_fixture(name))[0]["deliveryStart"])
    assert series.values == pytest.approx(expected_per_kwh(name, "NO1"))


def test_recorded_core_response_at_hourly_resolution() -> None:
    """The action's real answer: 24 hours in UTC with +00:00 offsets, per MWh."""
    response = load_fixture(CORE_RECORDED)["response"]

    series = parse_core_response(response, "SE3", date(2024, 11, 5), "test")

    assert series is not None
    assert len(series) == 96
    assert series.start_utc == datetime(2024, 11, 4, 23, tzinfo=UTC)
    hours = [row["price"] / 1000 for row in response["SE3"]]
    assert series.to_slot_length(HOUR_S).values == pytest.approx(hours)
    assert max(series.values) == pytest.approx(2.51265)


def test_core_response_with_empty_area_is_none() -> None:
    assert parse_core_response({"NO1": []}, "NO1", date(2025, 10, 15), "test") is None


@pytest.mark.parametrize(
    ("response", "message"),
    [
        pytest.param([], "expected an object", id="response_is_a_list"),
        pytest.param({"NO2": []}, "no prices for area NO1", id="other_area_only"),
        pytest.param({"NO1": {"start": 1}}, "not a list", id="area_not_a_list"),
        pytest.param({"NO1": ["x"]}, "expected an object", id="entry_not_an_object"),
        pytest.param(
            {"NO1": [{"start": "2025-10-15T00:00:00+00:00", "end": "2025-10-15T00:15:00+00:00"}]},
            "no 'price'",
            id="entry_without_price",
        ),
    ],
)
def test_malformed_core_response(response: Any, message: str) -> None:
    with pytest.raises(PriceResponseError, match=message):
        parse_core_response(response, "NO1", date(2025, 10, 15), "test")


async def test_sensor_source_in_home_assistant(hass: HomeAssistant) -> None:
    """A community sensor's state with today's prices incl. VAT in NOK/kWh and no tomorrow yet."""
    hass.states.async_set(
        SENSOR,
        "1.234",
        {
            "unit": "kWh",
            "currency": "NOK",
            "price_in_cents": False,
            "unit_of_measurement": "NOK/kWh",
            "additional_costs_current_hour": 0,
            "raw_today": raw_list(NOK_DAY, "NO1", factor=1.25),
            "raw_tomorrow": [],
            "tomorrow_valid": False,
        },
    )
    source = NordpoolSensorPriceSource(hass, SENSOR, "NOK", vat_included=True)

    today = await source.async_fetch_day(date(2025, 10, 15))
    tomorrow = await source.async_fetch_day(date(2025, 10, 16))

    assert isinstance(source, PriceSource)
    assert today is not None
    assert len(today) == 96
    assert today.values == pytest.approx(expected_per_kwh(NOK_DAY, "NO1"), abs=1e-8)
    assert tomorrow is None


async def test_sensor_source_in_cents_with_an_explicit_unit(hass: HomeAssistant) -> None:
    raw = raw_list(NOK_DAY, "NO1", factor=100.0)
    hass.states.async_set(SENSOR, "12.3", {"raw_today": raw, "raw_tomorrow": []})
    source = NordpoolSensorPriceSource(hass, SENSOR, "NOK", vat_included=False, unit="øre/kWh")

    series = await source.async_fetch_day(date(2025, 10, 15))

    assert series is not None
    assert series.values == pytest.approx(expected_per_kwh(NOK_DAY, "NO1"), abs=1e-8)


@pytest.mark.parametrize(
    ("attributes", "error", "message"),
    [
        pytest.param(None, PriceSourceError, "does not exist", id="entity_missing"),
        pytest.param(
            {"currency": "EUR", "unit": "kWh", "raw_today": []},
            PriceResponseError,
            "not in NOK",
            id="sensor_in_euro",
        ),
        pytest.param(
            {"raw_today": []}, PriceResponseError, "neither currency", id="sensor_without_unit"
        ),
    ],
)
async def test_sensor_source_errors(
    hass: HomeAssistant, attributes: dict[str, Any] | None, error: type[Exception], message: str
) -> None:
    if attributes is not None:
        hass.states.async_set(SENSOR, "1.0", attributes)
    source = NordpoolSensorPriceSource(hass, SENSOR, "NOK", vat_included=True)

    with pytest.raises(error, match=message):
        await source.async_fetch_day(date(2025, 10, 15))


async def test_sensor_source_rejects_bad_settings(hass: HomeAssistant) -> None:
    with pytest.raises(ValueError, match="not in NOK"):
        NordpoolSensorPriceSource(hass, SENSOR, "NOK", vat_included=True, unit="EUR/kWh")


# The schema library of the Home Assistant under test: probatio on newer versions.
try:
    import probatio as schema_lib
except ImportError:
    import voluptuous as schema_lib

AREAS = ["FI", "NO1", "NO2", "NO3", "NO4", "NO5", "SE1", "SE2", "SE3", "SE4"]


def core_schema(areas: list[str]) -> Any:
    """Return a schema as strict as the core action's oldest one (2025.4) for these fields."""
    return schema_lib.Schema(
        {
            schema_lib.Required("config_entry"): cv.string,
            schema_lib.Required("date"): cv.date,
            # 2025.4 checks a single area against the list before making it a list.
            schema_lib.Optional("areas"): schema_lib.All(
                schema_lib.In(areas), cv.ensure_list, [str]
            ),
            schema_lib.Optional("currency"): schema_lib.All(
                cv.string, schema_lib.In(["DKK", "EUR", "NOK", "PLN", "SEK"])
            ),
        }
    )


def register_core_action(
    hass: HomeAssistant, answer: Any, areas: list[str] = AREAS
) -> list[dict[str, Any]]:
    """Register nordpool.get_prices_for_date answering with `answer(call)`; return the calls seen."""
    calls: list[dict[str, Any]] = []

    async def handler(call: ServiceCall) -> Any:
        calls.append(dict(call.data))
        return answer(call)

    hass.services.async_register(
        "nordpool",
        "get_prices_for_date",
        handler,
        schema=core_schema(areas),
        supports_response=SupportsResponse.ONLY,
    )
    return calls


async def test_core_action_source_in_home_assistant(hass: HomeAssistant) -> None:
    days = {date(2025, 10, 26): core_response(AUTUMN_DAY, "NO1")}
    calls = register_core_action(hass, lambda call: days.get(call.data["date"], {"NO1": []}))
    source = NordpoolActionPriceSource(hass, "core_entry_id", "NO1", "EUR")

    autumn = await source.async_fetch_day(date(2025, 10, 26))
    following = await source.async_fetch_day(date(2025, 10, 27))

    assert isinstance(source, PriceSource)
    assert autumn is not None
    assert len(autumn) == 100
    assert autumn.start_utc == datetime(2025, 10, 25, 22, tzinfo=UTC)
    assert autumn.values == pytest.approx(expected_per_kwh(AUTUMN_DAY, "NO1"))
    assert following is None
    assert calls[0] == {
        "config_entry": "core_entry_id",
        "date": date(2025, 10, 26),
        "areas": ["NO1"],
        "currency": "EUR",
    }


async def test_core_action_source_with_the_recorded_answer(hass: HomeAssistant) -> None:
    recorded = load_fixture(CORE_RECORDED)
    calls = register_core_action(hass, lambda call: recorded["response"])
    source = NordpoolActionPriceSource(hass, "core_entry_id", "SE3", "EUR")

    series = await source.async_fetch_day(date(2024, 11, 5))

    assert series is not None
    assert len(series) == 96
    assert series.gaps() == []
    assert calls[0]["date"].isoformat() == recorded["request"]["data"]["date"]
    assert calls[0]["areas"] == [recorded["request"]["data"]["areas"]]


async def test_core_action_rejecting_the_request_is_a_source_error(hass: HomeAssistant) -> None:
    """An action whose schema refuses the area raises the schema library's error, not HA's."""
    register_core_action(hass, lambda call: {"NO1": []}, areas=["SE3", "SE4"])
    source = NordpoolActionPriceSource(hass, "core_entry_id", "NO1", "NOK")

    with pytest.raises(PriceSourceError, match="rejected the request"):
        await source.async_fetch_day(date(2025, 10, 15))


def _raise(translation_key: str) -> Any:
    """Return an action answer that raises the core integration's translated error."""

    def answer(call: ServiceCall) -> Any:
        raise ServiceValidationError(translation_domain="nordpool", translation_key=translation_key)

    return answer


def _raise_timeout(call: ServiceCall) -> Any:
    """Answer like the 2025.4 action when the client times out: the bare TimeoutError."""
    raise TimeoutError


async def test_core_action_empty_response_error_is_none(hass: HomeAssistant) -> None:
    """Older Home Assistant versions say "no prices yet" with an error instead of an empty list."""
    register_core_action(hass, _raise("empty_response"))
    source = NordpoolActionPriceSource(hass, "core_entry_id", "NO1", "NOK")

    assert await source.async_fetch_day(date(2025, 10, 16)) is None


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        pytest.param(
            _raise("connection_error"),
            PriceConnectionError,
            "get_prices_for_date",
            id="connection_error",
        ),
        pytest.param(
            _raise("authentication_error"),
            PriceSourceError,
            "authentication_error",
            id="auth_error",
        ),
        pytest.param(
            lambda call: {"NO2": []}, PriceResponseError, "no prices for area NO1", id="wrong_area"
        ),
        pytest.param(None, PriceSourceError, "not set up", id="core_integration_missing"),
        pytest.param(
            _raise_timeout, PriceConnectionError, "did not answer", id="timeout_unwrapped"
        ),
    ],
)
async def test_core_action_errors(
    hass: HomeAssistant, answer: Any, error: type[Exception], message: str
) -> None:
    if answer is not None:
        register_core_action(hass, answer)
    source = NordpoolActionPriceSource(hass, "core_entry_id", "NO1", "NOK")

    with pytest.raises(error, match=message):
        await source.async_fetch_day(date(2025, 10, 15))


async def test_core_action_source_rejects_bad_currency(hass: HomeAssistant) -> None:
    with pytest.raises(ValueError, match="unsupported currency"):
        NordpoolActionPriceSource(hass, "core_entry_id", "NO1", "SEK")
