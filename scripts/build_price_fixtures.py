#!/usr/bin/env python3
"""Regenerate the Nord Pool price fixtures of tests/fixtures/nordpool/ from recordings and CSV files.

Two kinds of fixture come out, each a JSON file holding the request, the response and its origin:

* `recorded_*`: HTTP responses recorded by the MIT-licensed `nordpool` library's own test suite
  (VCR cassettes of kipe/nordpool), converted from YAML to JSON without changing the body.
* `built_*`: responses in the same data-portal format, built from ENTSO-E Transparency Platform
  day-ahead prices (columns `timestamp_utc, zone, price_eur_mwh, quality`), because no recording
  of a Norwegian or daylight-saving day exists.

Usage:
    scripts/build_price_fixtures.py --cassettes DIR --entsoe NO1_15MIN.csv --eur-nok 11.70 \
        [--out tests/fixtures/nordpool]
"""

from __future__ import annotations

import argparse
import csv
from datetime import UTC, date, datetime, timedelta
import json
from pathlib import Path
import sys
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scripts.project_python import ensure_project_python  # noqa: E402

ensure_project_python(__file__)

import yaml  # noqa: E402

OSLO = ZoneInfo("Europe/Oslo")
API_URL = "https://dataportal-api.nordpoolgroup.com/api/DayAheadPriceIndices"
LIBRARY_ORIGIN = (
    "Recorded response of the Nord Pool data portal, from the VCR cassette {cassette} of the "
    "nordpool library's test suite (github.com/kipe/nordpool, commit a1911fa0, MIT licence)."
)
BUILT_ORIGIN = (
    "Built, not recorded: day-ahead prices of {area} for the local day {day} from the ENTSO-E "
    "Transparency Platform (reused with attribution), put into the Nord Pool data-portal "
    "response format. {currency_note} The metadata fields (version, updatedAt) are synthetic."
)

# (cassette file, fixture name): the recordings the tests use.
RECORDINGS = (
    ("single_area_15min.yaml", "recorded_fi_2025-05-07_15min_eur.json"),
    ("single_area_30min.yaml", "recorded_fi_2025-05-07_30min_eur.json"),
    ("single_area_hourly.yaml", "recorded_fi_2025-05-07_60min_eur.json"),
    ("prices_not_available.yaml", "recorded_fi_2025-05-10_not_available_eur.json"),
)
# (area, local day): a normal 96-quarter day, the 92-quarter spring day and the 100-quarter autumn day.
BUILT_DAYS = (
    ("NO1", date(2025, 10, 15)),
    ("NO1", date(2025, 3, 30)),
    ("NO1", date(2025, 10, 26)),
)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """Return the UTC start and end of an Oslo calendar day."""
    following = day + timedelta(days=1)
    start = datetime(day.year, day.month, day.day, tzinfo=OSLO).astimezone(UTC)
    end = datetime(following.year, following.month, following.day, tzinfo=OSLO).astimezone(UTC)
    return start, end


def convert_cassette(path: Path) -> dict[str, Any]:
    """Return the first interaction of a VCR cassette as a fixture."""
    cassette = yaml.safe_load(path.read_text(encoding="utf-8"))
    interaction = cassette["interactions"][0]
    url = urlsplit(interaction["request"]["uri"])
    return {
        "origin": LIBRARY_ORIGIN.format(cassette=path.name),
        "request": {
            "url": f"{url.scheme}://{url.netloc}{url.path}",
            "params": dict(parse_qsl(url.query)),
        },
        "status": interaction["response"]["status"]["code"],
        "body": json.loads(interaction["response"]["body"]["string"]),
    }


def read_prices(path: Path, area: str) -> dict[datetime, float]:
    """Return the EUR/MWh price of every quarter of one area in an ENTSO-E CSV file."""
    prices: dict[datetime, float] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["zone"] == area:
                start = datetime.fromisoformat(row["timestamp_utc"].replace("Z", "+00:00"))
                prices[start] = float(row["price_eur_mwh"])
    return prices


def build_response(
    prices_eur_mwh: dict[datetime, float], area: str, day: date, currency: str, eur_nok: float
) -> dict[str, Any]:
    """Return a data-portal response for one area and local day at 15-minute resolution."""
    start, end = local_day_bounds(day)
    rate = 1.0 if currency == "EUR" else eur_nok
    entries = []
    moment = start
    while moment < end:
        if moment not in prices_eur_mwh:
            raise SystemExit(f"{area} has no price at {moment:%Y-%m-%dT%H:%MZ}")
        following = moment + timedelta(minutes=15)
        entries.append(
            {
                "deliveryStart": f"{moment:%Y-%m-%dT%H:%M:%SZ}",
                "deliveryEnd": f"{following:%Y-%m-%dT%H:%M:%SZ}",
                "entryPerArea": {area: round(prices_eur_mwh[moment] * rate, 2)},
            }
        )
        moment = following
    note = (
        "Prices in EUR/MWh as published."
        if currency == "EUR"
        else f"Prices converted to NOK/MWh at a fixed {eur_nok} NOK/EUR, not the official rate."
    )
    published = datetime.combine(day - timedelta(days=1), datetime.min.time(), UTC)
    return {
        "origin": BUILT_ORIGIN.format(area=area, day=day, currency_note=note),
        "request": {
            "url": API_URL,
            "params": {
                "currency": currency,
                "market": "DayAhead",
                "date": day.isoformat(),
                "resolutionInMinutes": "15",
                "indexNames": area,
            },
        },
        "status": 200,
        "body": {
            "deliveryDateCET": day.isoformat(),
            "version": 1,
            "updatedAt": f"{published + timedelta(hours=11):%Y-%m-%dT%H:%M:%SZ}",
            "market": "DayAhead",
            "indexNames": [area],
            "currency": currency,
            "resolutionInMinutes": 15,
            "areaStates": [{"state": "Final", "areas": [area]}],
            "multiIndexEntries": entries,
        },
    }


def write(path: Path, fixture: dict[str, Any]) -> None:
    """Write a fixture as indented JSON and say so."""
    path.write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def main() -> None:
    """Parse the arguments and write every fixture."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cassettes", type=Path, required=True, help="folder of VCR cassettes")
    parser.add_argument("--entsoe", type=Path, required=True, help="ENTSO-E 15-minute NO1 CSV")
    parser.add_argument("--eur-nok", type=float, required=True, help="NOK per EUR for NOK days")
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/nordpool"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for cassette, name in RECORDINGS:
        write(args.out / name, convert_cassette(args.cassettes / cassette))
    cache: dict[str, dict[datetime, float]] = {}
    for area, day in BUILT_DAYS:
        prices = cache.setdefault(area, read_prices(args.entsoe, area))
        quarters = len(build_response(prices, area, day, "EUR", 1.0)["body"]["multiIndexEntries"])
        currencies = ("EUR", "NOK") if quarters == 96 else ("EUR",)
        for currency in currencies:
            fixture = build_response(prices, area, day, currency, args.eur_nok)
            name = f"built_{area.lower()}_{day.isoformat()}_15min_{currency.lower()}.json"
            write(args.out / name, fixture)


if __name__ == "__main__":
    main()
