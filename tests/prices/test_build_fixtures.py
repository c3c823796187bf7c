"""Tests of scripts/build_price_fixtures.py: it must rebuild the committed fixtures exactly."""

from __future__ import annotations

import csv
from datetime import date
import json
from typing import TYPE_CHECKING

import pytest
import yaml

from scripts.build_price_fixtures import build_response, convert_cassette, read_prices

from .common import entries, load_fixture, utc

if TYPE_CHECKING:
    from pathlib import Path


def write_csv(path: Path, names: list[str]) -> None:
    """Write the EUR prices of built fixtures as an ENTSO-E style CSV, in reverse order."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp_utc", "zone", "price_eur_mwh", "quality"])
        writer.writerow(["2025-10-15T00:00:00Z", "NO2", "999.0", "ok"])
        for name in names:
            for row in reversed(entries(load_fixture(name))):
                writer.writerow([row["deliveryStart"], "NO1", row["entryPerArea"]["NO1"], "ok"])


@pytest.mark.parametrize(
    ("name", "day", "currency"),
    [
        pytest.param(
            "built_no1_2025-10-15_15min_eur.json", date(2025, 10, 15), "EUR", id="normal_day_eur"
        ),
        pytest.param(
            "built_no1_2025-10-15_15min_nok.json", date(2025, 10, 15), "NOK", id="normal_day_nok"
        ),
        pytest.param(
            "built_no1_2025-03-30_15min_eur.json", date(2025, 3, 30), "EUR", id="spring_day"
        ),
        pytest.param(
            "built_no1_2025-10-26_15min_eur.json", date(2025, 10, 26), "EUR", id="autumn_day"
        ),
    ],
)
def test_built_fixtures_are_rebuilt_exactly(
    tmp_path: Path, name: str, day: date, currency: str
) -> None:
    source = tmp_path / "no1.csv"
    write_csv(
        source,
        [
            "built_no1_2025-10-15_15min_eur.json",
            "built_no1_2025-03-30_15min_eur.json",
            "built_no1_2025-10-26_15min_eur.json",
        ],
    )

    rebuilt = build_response(read_prices(source, "NO1"), "NO1", day, currency, 11.70)

    assert json.loads(json.dumps(rebuilt)) == load_fixture(name)


def test_missing_quarter_stops_the_build(tmp_path: Path) -> None:
    source = tmp_path / "no1.csv"
    write_csv(source, ["built_no1_2025-10-15_15min_eur.json"])
    prices = read_prices(source, "NO1")
    del prices[utc("2025-10-15T10:00Z")]

    with pytest.raises(SystemExit, match="no price at 2025-10-15T10:00Z"):
        build_response(prices, "NO1", date(2025, 10, 15), "EUR", 11.70)


@pytest.mark.parametrize(
    ("name"),
    [
        pytest.param("recorded_fi_2025-05-07_15min_eur.json", id="quarters"),
        pytest.param("recorded_fi_2025-05-10_not_available_eur.json", id="not_available"),
    ],
)
def test_cassette_conversion_keeps_the_body(tmp_path: Path, name: str) -> None:
    """A cassette holding a fixture's exchange converts back to that fixture."""
    fixture = load_fixture(name)
    query = "&".join(f"{key}={value}" for key, value in fixture["request"]["params"].items())
    cassette = tmp_path / "cassette.yaml"
    cassette.write_text(
        yaml.safe_dump(
            {
                "interactions": [
                    {
                        "request": {"method": "GET", "uri": f"{fixture['request']['url']}?{query}"},
                        "response": {
                            "body": {"string": json.dumps(fixture["body"], separators=(",", ":"))},
                            "status": {"code": 200, "message": "OK"},
                        },
                    }
                ],
                "version": 1,
            }
        ),
        encoding="utf-8",
    )
    # The origin names the cassette file, which is the only part that differs here.
    converted = convert_cassette(cassette)

    assert converted["body"] == fixture["body"]
    assert converted["request"] == fixture["request"]
    assert converted["status"] == fixture["status"]
    assert "cassette.yaml" in converted["origin"]
