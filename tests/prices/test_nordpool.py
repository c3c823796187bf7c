"""Tests of the Nord Pool source through the nordpool library and Home Assistant's aiohttp session.

Only the internet is replaced: `aioclient_mock` answers the data-portal URL with the recorded
or built responses in tests/fixtures/nordpool, and everything else (the library's request
building and parsing, aiohttp, the normalisation) runs for real.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, date, timedelta
import itertools
import math
from typing import TYPE_CHECKING, Any

from aiohttp import ClientConnectionError
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest

from custom_components.nordic_v2h.core.timeseries import HOUR_S, OSLO, QUARTER_S
from custom_components.nordic_v2h.prices import (
    PriceConnectionError,
    PriceHttpError,
    PriceResponseError,
    PriceSource,
    PriceSourceError,
)
from custom_components.nordic_v2h.prices.nordpool import NordPoolPriceSource, parse_library_result

from .common import entries, hourly_means_per_kwh, load_fixture, utc

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

    from custom_components.nordic_v2h.core.timeseries import SlotSeries

API_URL = "https://dataportal-api.nordpoolgroup.com/api/DayAheadPriceIndices"
NORMAL_DAY = "built_no1_2025-10-15_15min_eur.json"


def serve(aioclient_mock: AiohttpClientMocker, fixture: dict[str, Any], **override: Any) -> None:
    """Answer the fixture's request (matched on all its query parameters) with its response."""
    aioclient_mock.get(
        fixture["request"]["url"],
        params=fixture["request"]["params"],
        **({"status": fixture["status"], "json": fixture["body"]} | override),
    )


async def fetch(
    hass: HomeAssistant, area: str, currency: Any, day: date, **kwargs: Any
) -> SlotSeries | None:
    """Fetch one day through Home Assistant's shared session."""
    source = NordPoolPriceSource(async_get_clientsession(hass), area, currency, **kwargs)
    return await source.async_fetch_day(day)


@pytest.mark.parametrize(
    ("name", "area", "currency", "day", "quarters", "first_utc"),
    [
        pytest.param(
            "recorded_fi_2025-05-07_15min_eur.json",
            "FI",
            "EUR",
            date(2025, 5, 7),
            96,
            "2025-05-06T22:00Z",
            id="recorded_fi_normal_day_eur",
        ),
        pytest.param(
            NORMAL_DAY,
            "NO1",
            "EUR",
            date(2025, 10, 15),
            96,
            "2025-10-14T22:00Z",
            id="no1_normal_day_eur",
        ),
        pytest.param(
            "built_no1_2025-10-15_15min_nok.json",
            "NO1",
            "NOK",
            date(2025, 10, 15),
            96,
            "2025-10-14T22:00Z",
            id="no1_normal_day_nok",
        ),
        pytest.param(
            "built_no1_2025-03-30_15min_eur.json",
            "NO1",
            "EUR",
            date(2025, 3, 30),
            92,
            "2025-03-29T23:00Z",
            id="no1_spring_day_92_quarters",
        ),
        pytest.param(
            "built_no1_2025-10-26_15min_eur.json",
            "NO1",
            "EUR",
            date(2025, 10, 26),
            100,
            "2025-10-25T22:00Z",
            id="no1_autumn_day_100_quarters",
        ),
    ],
)
async def test_day_parses_to_every_quarter(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    name: str,
    area: str,
    currency: str,
    day: date,
    quarters: int,
    first_utc: str,
) -> None:
    fixture = load_fixture(name)
    serve(aioclient_mock, fixture)

    series = await fetch(hass, area, currency, day)

    assert series is not None
    assert len(series) == quarters
    assert series.slot_s == QUARTER_S
    assert series.start_utc == utc(first_utc)
    assert series.start_utc.tzinfo is UTC
    assert series.end_utc == series.start_utc + timedelta(seconds=quarters * QUARTER_S)
    assert series.gaps() == []
    rows = entries(fixture)
    assert list(series.slot_starts()) == [utc(row["deliveryStart"]) for row in rows]
    assert series.values == pytest.approx([row["entryPerArea"][area] / 1000 for row in rows])
    hourly = series.to_slot_length(HOUR_S)
    assert len(hourly) == quarters // 4
    assert hourly.values == pytest.approx(hourly_means_per_kwh(fixture, area))
    assert aioclient_mock.call_count == 1


async def test_request_asks_for_the_day_area_currency_and_quarters(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    serve(aioclient_mock, load_fixture("built_no1_2025-10-15_15min_nok.json"))

    await fetch(hass, "NO1", "NOK", date(2025, 10, 15))

    method, url, _, _ = aioclient_mock.mock_calls[0]
    assert method.upper() == "GET"
    assert str(url.with_query(None)) == API_URL
    assert dict(url.query) == {
        "currency": "NOK",
        "market": "DayAhead",
        "date": "2025-10-15",
        "resolutionInMinutes": "15",
        "indexNames": "NO1",
    }


async def test_nok_and_eur_days_agree_at_the_fixtures_rate(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """The NOK fixture is the EUR day at 11.70 NOK/EUR, so the two fetches must say so."""
    serve(aioclient_mock, load_fixture(NORMAL_DAY))
    serve(aioclient_mock, load_fixture("built_no1_2025-10-15_15min_nok.json"))

    eur = await fetch(hass, "NO1", "EUR", date(2025, 10, 15))
    nok = await fetch(hass, "NO1", "NOK", date(2025, 10, 15))

    assert eur is not None
    assert nok is not None
    assert nok.start_utc == eur.start_utc
    # 0.005 NOK/MWh of rounding in the fixture is 5e-6 NOK/kWh.
    assert nok.as_array() == pytest.approx(eur.as_array() * 11.70, abs=6e-6)


@pytest.mark.parametrize(
    ("response"),
    [
        pytest.param(
            {"json": load_fixture("recorded_fi_2025-05-10_not_available_eur.json")["body"]},
            id="recorded_empty_day",
        ),
        pytest.param({"status": 204, "text": ""}, id="no_content"),
        pytest.param({"status": 200, "text": " "}, id="empty_body"),
    ],
)
async def test_unpublished_day_is_none_not_an_error(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, response: dict[str, Any]
) -> None:
    recorded = load_fixture("recorded_fi_2025-05-10_not_available_eur.json")
    params = dict(recorded["request"]["params"])
    # The recording asked for hours; the body of an unpublished day does not depend on it.
    del params["resolutionInMinutes"]
    aioclient_mock.get(recorded["request"]["url"], params=params, **response)

    assert await fetch(hass, "FI", "EUR", date(2025, 5, 10)) is None


def _normal_body() -> dict[str, Any]:
    """Return a deep copy of the normal NO1 day's body to damage."""
    body: dict[str, Any] = copy.deepcopy(load_fixture(NORMAL_DAY)["body"])
    return body


def _damaged(change: Any) -> dict[str, Any]:
    """Return the normal body after applying a change to it."""
    body = _normal_body()
    change(body)
    return body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            _damaged(lambda b: b["multiIndexEntries"][5].pop("deliveryStart")),
            "malformed",
            id="missing_start",
        ),
        pytest.param(
            _damaged(lambda b: b["multiIndexEntries"][5].update(entryPerArea=[1.0])),
            "malformed",
            id="area_map_is_a_list",
        ),
        pytest.param(
            _damaged(lambda b: b["multiIndexEntries"][5].update(deliveryEnd="soon")),
            "malformed",
            id="unparsable_time",
        ),
        pytest.param(
            _damaged(lambda b: b["multiIndexEntries"][5].update(entryPerArea={"NO1": "12.3"})),
            "not a number",
            id="price_is_a_string",
        ),
        pytest.param(
            _damaged(lambda b: b["multiIndexEntries"][5].update(entryPerArea={"NO1": True})),
            "not a number",
            id="price_is_a_bool",
        ),
        pytest.param(
            _damaged(lambda b: b.update(multiIndexEntries={"a": 1})),
            "malformed",
            id="entries_not_a_list",
        ),
        pytest.param(
            _damaged(lambda b: b.update(currency="NOK")), "another currency", id="wrong_currency"
        ),
        pytest.param(
            _damaged(
                lambda b: b["multiIndexEntries"][5].update(deliveryStart="2025-10-15T00:07:00Z")
            ),
            "lasts",
            id="slot_of_odd_length",
        ),
        pytest.param(
            _damaged(
                lambda b: b["multiIndexEntries"][5].update(
                    deliveryStart="2025-10-15T00:07:00Z", deliveryEnd="2025-10-15T00:22:00Z"
                )
            ),
            "not aligned",
            id="slot_off_the_quarter_grid",
        ),
        pytest.param(
            _damaged(
                lambda b: b["multiIndexEntries"].append(
                    {**b["multiIndexEntries"][3], "entryPerArea": {"NO1": 999.0}}
                )
            ),
            "two different prices",
            id="one_quarter_two_prices",
        ),
        pytest.param(
            _damaged(
                lambda b: b.update(
                    multiIndexEntries=[
                        {
                            "deliveryStart": "2025-10-20T10:00:00Z",
                            "deliveryEnd": "2025-10-20T10:15:00Z",
                            "entryPerArea": {"NO1": 1.0},
                        }
                    ]
                )
            ),
            "none of them on",
            id="prices_of_another_day",
        ),
        pytest.param([1, 2, 3], "malformed", id="body_is_a_list"),
        pytest.param("prices", "malformed", id="body_is_a_string"),
    ],
)
async def test_malformed_response_is_a_clean_error(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, body: Any, message: str
) -> None:
    aioclient_mock.get(API_URL, json=body)

    with pytest.raises(PriceResponseError, match=message) as caught:
        await fetch(hass, "NO1", "EUR", date(2025, 10, 15))
    assert "Nord Pool NO1 EUR 2025-10-15" in str(caught.value)


async def test_body_that_is_not_json_is_a_response_error(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    aioclient_mock.get(API_URL, text="<html>maintenance</html>")

    with pytest.raises(PriceResponseError, match="not JSON"):
        await fetch(hass, "NO1", "EUR", date(2025, 10, 15))


@pytest.mark.parametrize(
    ("missing", "gaps"),
    [
        pytest.param([0], [("2025-10-14T22:00Z", "2025-10-14T22:15Z")], id="first_quarter_missing"),
        pytest.param([95], [("2025-10-15T21:45Z", "2025-10-15T22:00Z")], id="last_quarter_missing"),
        pytest.param(
            [40, 41, 42], [("2025-10-15T08:00Z", "2025-10-15T08:45Z")], id="three_quarters_missing"
        ),
        pytest.param(
            [10, 50],
            [
                ("2025-10-15T00:30Z", "2025-10-15T00:45Z"),
                ("2025-10-15T10:30Z", "2025-10-15T10:45Z"),
            ],
            id="two_separate_holes",
        ),
    ],
)
async def test_missing_quarters_are_reported_as_gaps(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    missing: list[int],
    gaps: list[tuple[str, str]],
) -> None:
    body = _normal_body()
    body["multiIndexEntries"] = [
        row for index, row in enumerate(body["multiIndexEntries"]) if index not in missing
    ]
    aioclient_mock.get(API_URL, json=body)

    series = await fetch(hass, "NO1", "EUR", date(2025, 10, 15))

    assert series is not None
    assert len(series) == 96
    assert [index for index, value in enumerate(series.values) if math.isnan(value)] == missing
    assert series.gaps() == [(utc(start), utc(end)) for start, end in gaps]


async def test_null_price_is_a_gap(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    body = _normal_body()
    body["multiIndexEntries"][7]["entryPerArea"]["NO1"] = None
    aioclient_mock.get(API_URL, json=body)

    series = await fetch(hass, "NO1", "EUR", date(2025, 10, 15))

    assert series is not None
    assert series.gaps() == [(utc("2025-10-14T23:45Z"), utc("2025-10-15T00:00Z"))]


@pytest.mark.parametrize(
    ("name", "per_hour"),
    [
        pytest.param("recorded_fi_2025-05-07_30min_eur.json", 2, id="half_hours"),
        pytest.param("recorded_fi_2025-05-07_60min_eur.json", 1, id="hours"),
    ],
)
async def test_coarser_answer_is_spread_over_quarters(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, name: str, per_hour: int
) -> None:
    """A server answering in half-hours or hours (as before the 15-minute market) still gives 96 quarters."""
    fixture = load_fixture(name)
    aioclient_mock.get(API_URL, json=fixture["body"])

    series = await fetch(hass, "FI", "EUR", date(2025, 5, 7))

    assert series is not None
    assert len(series) == 96
    prices = [row["entryPerArea"]["FI"] / 1000 for row in entries(fixture)]
    assert len(prices) == 24 * per_hour
    repeat = 4 // per_hour
    assert series.values == pytest.approx([price for price in prices for _ in range(repeat)])
    assert series.to_slot_length(HOUR_S).values == pytest.approx(
        hourly_means_per_kwh(fixture, "FI")
    )


@pytest.mark.parametrize(
    ("status"),
    [
        pytest.param(400, id="bad_request"),
        pytest.param(429, id="rate_limited"),
        pytest.param(503, id="unavailable"),
    ],
)
async def test_http_error_keeps_its_status(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, status: int
) -> None:
    aioclient_mock.get(API_URL, status=status, text="nope")

    with pytest.raises(PriceHttpError, match=f"HTTP {status}") as caught:
        await fetch(hass, "NO1", "EUR", date(2025, 10, 15))
    assert caught.value.status == status


async def test_connection_error(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker) -> None:
    aioclient_mock.get(API_URL, exc=ClientConnectionError("connection reset"))

    with pytest.raises(PriceConnectionError, match="connection reset"):
        await fetch(hass, "NO1", "EUR", date(2025, 10, 15))


async def test_slow_server_times_out(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    async def slow(method: str, url: Any, data: Any) -> Any:
        await asyncio.sleep(5)
        raise AssertionError("the timeout should have fired")

    aioclient_mock.get(API_URL, side_effect=slow)

    with pytest.raises(PriceConnectionError, match=r"no answer within 0\.05 s"):
        await fetch(hass, "NO1", "EUR", date(2025, 10, 15), timeout_s=0.05)


def test_errors_share_one_base() -> None:
    for error in (PriceConnectionError("x"), PriceHttpError(500, "x"), PriceResponseError("x")):
        assert isinstance(error, PriceSourceError)


@pytest.mark.parametrize(
    ("area", "currency", "timeout_s"),
    [
        pytest.param("NO6", "NOK", 30.0, id="unknown_area"),
        pytest.param("no1", "NOK", 30.0, id="lower_case_area"),
        pytest.param("NO1", "SEK", 30.0, id="unsupported_currency"),
        pytest.param("NO1", "NOK", 0.0, id="zero_timeout"),
    ],
)
async def test_bad_settings_are_rejected(
    hass: HomeAssistant, area: str, currency: Any, timeout_s: float
) -> None:
    with pytest.raises(ValueError):
        NordPoolPriceSource(async_get_clientsession(hass), area, currency, timeout_s=timeout_s)


async def test_source_satisfies_the_protocol(hass: HomeAssistant) -> None:
    source = NordPoolPriceSource(async_get_clientsession(hass), "NO5", "NOK")
    assert isinstance(source, PriceSource)
    assert source.unit == "NOK/kWh"


def test_built_fixtures_hold_one_local_day_each() -> None:
    for name, quarters in (
        (NORMAL_DAY, 96),
        ("built_no1_2025-03-30_15min_eur.json", 92),
        ("built_no1_2025-10-26_15min_eur.json", 100),
    ):
        fixture = load_fixture(name)
        rows = entries(fixture)
        assert len(rows) == quarters
        starts = [utc(row["deliveryStart"]) for row in rows]
        assert all(b - a == timedelta(minutes=15) for a, b in itertools.pairwise(starts))
        assert "Built, not recorded" in fixture["origin"]
        first_local = starts[0].astimezone(OSLO)
        assert (first_local.hour, first_local.minute) == (0, 0)
        assert first_local.date().isoformat() == fixture["body"]["deliveryDateCET"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param([], "unexpected result list", id="not_a_dict"),
        pytest.param({"areas": []}, "no areas", id="areas_not_a_dict"),
        pytest.param(
            {"areas": {"NO1": {"values": "x"}}}, "no list of values", id="values_not_a_list"
        ),
        pytest.param({"areas": {"NO1": []}}, "no list of values", id="area_not_a_dict"),
        pytest.param(
            {"areas": {"NO1": {"values": [1]}}}, "not an object", id="value_row_not_a_dict"
        ),
    ],
)
def test_unexpected_library_results_are_errors(data: object, message: str) -> None:
    with pytest.raises(PriceResponseError, match=message):
        parse_library_result(data, "NO1", date(2025, 10, 15), "test")


@pytest.mark.parametrize(
    ("data"),
    [
        pytest.param(None, id="none"),
        pytest.param({"areas": {"NO2": {"values": []}}}, id="other_area_only"),
    ],
)
def test_library_results_without_the_area_are_not_published(data: object) -> None:
    assert parse_library_result(data, "NO1", date(2025, 10, 15), "test") is None
