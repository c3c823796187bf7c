"""Marginal import and export prices: energy component, holidays, taxes, strømstøtte, Norgespris."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from custom_components.nordic_v2h.core.tariff import (
    Contract,
    CostModel,
    CostSettings,
    RateNotFoundError,
    TaxZone,
    eur_per_mwh_to_nok_per_kwh,
    grid_tariff_from_dict,
    load_presets,
    settings_from_presets,
)
from custom_components.nordic_v2h.core.timeseries import OSLO, SlotSeries

FIXTURES = Path(__file__).parent / "fixtures"


def _model(company: str, **overrides: Any) -> CostModel:
    """Return a cost model for a preset company."""
    return CostModel(settings_from_presets(company, load_presets(), **overrides))


def _at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    """Return the UTC instant of a local (Europe/Oslo) time."""
    return datetime(year, month, day, hour, tzinfo=OSLO).astimezone(UTC)


def _flat(start: datetime, hours: int, price_nok_per_kwh: float, slot_s: int = 3600) -> SlotSeries:
    """Return a constant spot series."""
    return SlotSeries.from_array(start, slot_s, [price_nok_per_kwh] * (hours * 3600 // slot_s))


def _fixture(name: str, eur_nok_rate: float = 11.5) -> SlotSeries:
    """Load a price excerpt (EUR/MWh) as NOK/kWh."""
    lines = [
        line for line in (FIXTURES / name).read_text().splitlines() if not line.startswith("#")
    ]
    rows = list(csv.DictReader(lines))
    start = datetime.fromisoformat(rows[0]["timestamp_utc"].replace("Z", "+00:00"))
    second = datetime.fromisoformat(rows[1]["timestamp_utc"].replace("Z", "+00:00"))
    prices = eur_per_mwh_to_nok_per_kwh(
        np.array([float(row["price_eur_mwh"]) for row in rows]), eur_nok_rate
    )
    return SlotSeries.from_array(start, int((second - start).total_seconds()), prices)


@pytest.mark.parametrize(
    ("when", "expected_ore"),
    [
        pytest.param(_at(2026, 7, 13, 10), 35.9625, id="bkk_monday_day_rate"),
        pytest.param(_at(2026, 7, 13, 5), 13.125, id="bkk_monday_05_night"),
        pytest.param(_at(2026, 7, 13, 6), 35.9625, id="bkk_0600_starts_day"),
        pytest.param(_at(2026, 7, 13, 21), 35.9625, id="bkk_2100_still_day"),
        pytest.param(_at(2026, 7, 13, 22), 13.125, id="bkk_2200_night"),
        pytest.param(_at(2026, 7, 11, 12), 13.125, id="bkk_saturday_low"),
        pytest.param(_at(2026, 4, 6, 12), 13.125, id="bkk_easter_monday_low"),
        pytest.param(_at(2026, 4, 2, 12), 13.125, id="bkk_maundy_thursday_low"),
        pytest.param(_at(2026, 5, 14, 12), 13.125, id="bkk_ascension_low"),
        pytest.param(_at(2026, 5, 25, 12), 13.125, id="bkk_whit_monday_low"),
        pytest.param(_at(2026, 12, 24, 12), 13.125, id="bkk_christmas_eve_low"),
        pytest.param(_at(2026, 12, 31, 12), 13.125, id="bkk_new_years_eve_low"),
        pytest.param(_at(2026, 12, 23, 12), 35.9625, id="bkk_23_december_day_rate"),
        pytest.param(_at(2025, 12, 1, 12), 35.9625, id="bkk_2025_day"),
        pytest.param(_at(2025, 12, 1, 23), 23.7375, id="bkk_2025_night"),
    ],
)
def test_bkk_energy_component_incl_vat(when: datetime, expected_ore: float) -> None:
    parts = _model("BKK").import_price_components(_flat(when, 1, 0.0))
    assert parts.grid_energy[0] * 100 == pytest.approx(expected_ore)


@pytest.mark.parametrize(
    ("company", "when", "expected_ore"),
    [
        pytest.param(
            "BKK",
            _at(2024, 5, 17, 12),
            19.776 * 1.25,
            id="17_may_on_a_friday_is_low_for_a_working_day_rule",
        ),
        pytest.param(
            "Elvia", _at(2026, 12, 24, 12), 28.99 * 1.25, id="elvia_christmas_eve_is_a_working_day"
        ),
        pytest.param("Elvia", _at(2026, 12, 25, 12), 16.99 * 1.25, id="elvia_christmas_day_low"),
        pytest.param(
            "Tensio TN", _at(2026, 7, 11, 12), 27.2 * 1.25, id="tensio_all_days_saturday_day_rate"
        ),
        pytest.param("DE Nett", _at(2026, 1, 14, 23), 28.4 * 1.25, id="de_nett_winter_night_rule"),
        pytest.param("DE Nett", _at(2026, 7, 14, 23), 23.6 * 1.25, id="de_nett_summer_night_base"),
        pytest.param("DE Nett", _at(2026, 7, 14, 12), 26.6 * 1.25, id="de_nett_summer_day"),
        pytest.param(
            "Vang Energiverk", _at(2024, 1, 12, 17), 22.5, id="vang_friday_evening_winter_surcharge"
        ),
        pytest.param("Vang Energiverk", _at(2024, 1, 11, 17), 10.0, id="vang_thursday_base"),
        pytest.param("Vang Energiverk", _at(2024, 7, 12, 17), 10.0, id="vang_summer_friday_base"),
        pytest.param("Lede", _at(2026, 7, 13, 12), 14.26, id="lede_flat"),
    ],
)
def test_energy_component_rules(company: str, when: datetime, expected_ore: float) -> None:
    parts = _model(company).import_price_components(_flat(when, 1, 0.0))
    assert parts.grid_energy[0] * 100 == pytest.approx(expected_ore, abs=0.006)


@pytest.mark.parametrize(
    ("company", "tax_zone", "expected_taxes_ore", "vat_factor"),
    [
        pytest.param("BKK", None, 8.9125 + 1.25, 1.25, id="south_elavgift_and_enova_incl_vat"),
        pytest.param("Arva", None, 7.13 + 1.0, 1.0, id="north_no_vat_full_elavgift"),
        pytest.param("Barents Nett", None, 1.0, 1.0, id="tiltakssone_enova_only"),
        pytest.param("BKK", TaxZone.TILTAKSSONE, 1.0, 1.0, id="zone_override_tiltakssone"),
        pytest.param("Arva", TaxZone.STANDARD, 8.9125 + 1.25, 1.25, id="zone_override_standard"),
    ],
)
def test_taxes_by_zone(
    company: str, tax_zone: TaxZone | None, expected_taxes_ore: float, vat_factor: float
) -> None:
    model = _model(company, tax_zone=tax_zone)
    parts = model.import_price_components(_flat(_at(2026, 7, 13, 12), 1, 0.5))
    assert model.vat_factor == vat_factor
    assert parts.taxes[0] * 100 == pytest.approx(expected_taxes_ore)
    assert parts.energy[0] == pytest.approx(0.5 * vat_factor)


@pytest.mark.parametrize(
    ("day", "expected_elavgift_ore"),
    [
        pytest.param(date(2024, 3, 31), 9.51, id="2024_q1"),
        pytest.param(date(2024, 4, 1), 16.44, id="2024_from_april"),
        pytest.param(date(2025, 3, 15), 9.79, id="2025_q1"),
        pytest.param(date(2025, 7, 1), 12.53, id="2025_from_april"),
        pytest.param(date(2026, 1, 1), 7.13, id="2026_flat"),
    ],
)
def test_elavgift_by_date(day: date, expected_elavgift_ore: float) -> None:
    model = _model("Arva")  # no VAT: taxes are elavgift + 1 øre Enova
    parts = model.import_price_components(_flat(_at(day.year, day.month, day.day, 12), 1, 0.0))
    assert parts.taxes[0] * 100 == pytest.approx(expected_elavgift_ore + 1.0)


@pytest.mark.parametrize(
    ("spot_incl_vat_ore", "expected_after_support_ore"),
    [
        pytest.param(150.0, 101.625, id="spot_150_gives_101_6"),
        pytest.param(250.0, 111.625, id="spot_250_gives_111_6"),
        pytest.param(400.0, 126.625, id="spot_400_gives_126_6"),
        pytest.param(96.25, 96.25, id="at_threshold_no_support"),
        pytest.param(60.0, 60.0, id="below_threshold_no_support"),
    ],
)
def test_stromstotte_reference_examples(
    spot_incl_vat_ore: float, expected_after_support_ore: float
) -> None:
    # The reference's examples are 2026, south, spot INCLUDING VAT, energy only (no markup, grid or taxes).
    spot_excl_vat = spot_incl_vat_ore / 125.0
    parts = _model("BKK").import_price_components(_flat(_at(2026, 7, 13, 12), 1, spot_excl_vat))
    assert (parts.energy[0] - parts.subsidy[0]) * 100 == pytest.approx(expected_after_support_ore)


@pytest.mark.parametrize(
    ("company", "spot", "expected_support"),
    [
        pytest.param("Arva", 1.20, 0.9 * (1.20 - 0.77), id="north_threshold_excl_vat_no_gross_up"),
        pytest.param("BKK", 1.20, 0.9 * (1.20 - 0.77) * 1.25, id="south_grossed_up"),
        pytest.param("BKK", -0.05, 0.0, id="negative_spot_no_support"),
    ],
)
def test_stromstotte_vat_handling(company: str, spot: float, expected_support: float) -> None:
    parts = _model(company).import_price_components(_flat(_at(2026, 2, 2, 12), 1, spot))
    assert parts.subsidy[0] == pytest.approx(expected_support)


@pytest.mark.parametrize(
    ("so_far_kwh", "expect_support_first_month"),
    [
        pytest.param(4999.0, True, id="below_cap"),
        pytest.param(5000.0, False, id="cap_reached"),
    ],
)
def test_stromstotte_monthly_cap_in_marginal_price(
    so_far_kwh: float, expect_support_first_month: bool
) -> None:
    # 30 Jan 2026 to 2 Feb: the cap only concerns January; February starts from zero.
    spot = _flat(_at(2026, 1, 30), 24 * 4, 2.0)
    parts = _model("BKK").import_price_components(spot, month_import_kwh_so_far=so_far_kwh)
    assert bool(parts.subsidy[0] > 0) is expect_support_first_month
    assert parts.subsidy[-1] > 0


@pytest.mark.parametrize(
    ("company", "spot", "expected_energy_nok"),
    [
        pytest.param("BKK", 0.10, 0.50, id="spot_below_norgespris_pays_50_ore"),
        pytest.param("BKK", 2.00, 0.50, id="spot_above_norgespris_pays_50_ore"),
        pytest.param("BKK", -0.20, 0.50, id="negative_spot_still_50_ore"),
        pytest.param("Arva", 2.00, 0.40, id="north_pays_40_ore"),
    ],
)
def test_norgespris_is_a_fixed_price(company: str, spot: float, expected_energy_nok: float) -> None:
    model = _model(company, contract=Contract.NORGESPRIS)
    parts = model.import_price_components(_flat(_at(2026, 3, 2, 12), 1, spot))
    assert parts.energy[0] - parts.subsidy[0] == pytest.approx(expected_energy_nok)


def test_norgespris_above_cap_pays_spot_without_support() -> None:
    model = _model("BKK", contract=Contract.NORGESPRIS)
    parts = model.import_price_components(
        _flat(_at(2026, 3, 2, 12), 1, 2.0), month_import_kwh_so_far=6000.0
    )
    assert parts.energy[0] - parts.subsidy[0] == pytest.approx(2.5)


def test_holiday_home_gets_no_stromstotte() -> None:
    parts = _model("BKK", holiday_home=True).import_price_components(
        _flat(_at(2026, 2, 2, 12), 1, 2.0)
    )
    assert parts.subsidy[0] == 0.0


def test_supplier_markup_carries_vat() -> None:
    parts = _model("BKK", supplier_markup_nok_per_kwh=0.04).import_price_components(
        _flat(_at(2026, 2, 2, 12), 1, 0.5)
    )
    assert parts.energy[0] == pytest.approx((0.5 + 0.04) * 1.25)


def test_import_price_is_the_sum_of_its_parts() -> None:
    model = _model("BKK")
    spot = _flat(_at(2026, 2, 2, 0), 24, 1.5)
    price = model.import_price_nok_per_kwh(spot).as_array()
    expected = 1.5 * 1.25 + 0.359625 - 0.9 * (1.5 - 0.77) * 1.25 + 0.101625
    assert price[12] == pytest.approx(expected)
    assert price[0] == pytest.approx(expected - 0.359625 + 0.13125)


def test_quarters_get_the_hourly_mean_price() -> None:
    spot = SlotSeries.from_array(_at(2026, 2, 2, 12), 900, [0.1, 0.2, 0.3, 0.4, 1.0, 1.0, 1.0, 1.0])
    model = _model("Arva")  # no VAT keeps the numbers plain
    parts = model.import_price_components(spot)
    np.testing.assert_allclose(parts.energy, [0.25] * 4 + [1.0] * 4)
    hourly = model.hourly_spot(spot)
    assert hourly.slot_s == 900
    np.testing.assert_allclose(hourly.as_array(), [0.25] * 4 + [1.0] * 4)


def test_series_starting_mid_hour_uses_the_known_quarters() -> None:
    spot = SlotSeries.from_array(_at(2026, 2, 2, 12) + timedelta(minutes=30), 900, [0.2, 0.4, 1.0])
    parts = _model("Arva").import_price_components(spot)
    np.testing.assert_allclose(parts.energy, [0.3, 0.3, 1.0])


@pytest.mark.parametrize(
    ("allow", "expected"),
    [
        pytest.param(True, [0.25] * 4 + [-0.1] * 4, id="allowed_pays_hourly_spot_without_vat"),
        pytest.param(False, [0.0] * 8, id="not_allowed_pays_nothing"),
    ],
)
def test_export_price(allow: bool, expected: list[float]) -> None:
    spot = SlotSeries.from_array(_at(2026, 2, 2, 12), 900, [0.1, 0.2, 0.3, 0.4] + [-0.1] * 4)
    price = _model("BKK", allow_export=allow).export_price_nok_per_kwh(spot)
    np.testing.assert_allclose(price.as_array(), expected)
    assert (price.start_utc, price.slot_s) == (spot.start_utc, 900)


def test_export_extra_is_added() -> None:
    price = _model(
        "BKK", allow_export=True, export_extra_nok_per_kwh=0.03
    ).export_price_nok_per_kwh(_flat(_at(2026, 2, 2, 12), 1, 0.5))
    assert price.as_array()[0] == pytest.approx(0.53)


ALL_DAYS_TARIFF = {
    "company": "Hele Uka Nett",
    "valid_from": "2024-01-01",
    "capacity_steps": [{"from_kw": 0, "to_kw": None, "nok_per_month": 100}],
    "energy_base_nok_per_kwh": 0.1,
    "energy_rules": [
        {"name": "day", "start_hour": 6, "end_hour": 22, "days": "all", "nok_per_kwh": 0.3}
    ],
}


@pytest.mark.parametrize(
    ("fixture", "slots", "day_rate_slots", "night_slots"),
    [
        pytest.param("no1_2025-03-30_hourly.csv", 23, 16, 7, id="spring_day_23_hours"),
        pytest.param("no1_2025-10-26_15min.csv", 100, 64, 36, id="autumn_day_100_quarters"),
    ],
)
def test_dst_days_are_priced_by_local_hour(
    fixture: str, slots: int, day_rate_slots: int, night_slots: int
) -> None:
    spot = _fixture(fixture)
    presets = load_presets()
    model = CostModel(
        CostSettings(
            grid_tariffs=(grid_tariff_from_dict(ALL_DAYS_TARIFF),),
            national_rules=presets.national_rules(),
        )
    )
    parts = model.import_price_components(spot)
    assert len(parts.grid_energy) == slots
    assert int(np.isclose(parts.grid_energy, 0.375).sum()) == day_rate_slots
    assert int(np.isclose(parts.grid_energy, 0.125).sum()) == night_slots
    price = model.import_price_nok_per_kwh(spot)
    assert len(price) == slots
    assert np.isfinite(price.as_array()).all()


def test_autumn_dst_quarters_of_each_repeated_hour_share_that_hours_mean() -> None:
    spot = _fixture("no1_2025-10-26_15min.csv")
    parts = _model("Elvia").import_price_components(spot)
    raw = spot.as_array()
    # Slots 8-11 are the first 02:00 (CEST), 12-15 the second 02:00 (CET).
    np.testing.assert_allclose(parts.spot_hourly[8:12], raw[8:12].mean())
    np.testing.assert_allclose(parts.spot_hourly[12:16], raw[12:16].mean())


def test_eur_conversion_takes_an_explicit_rate() -> None:
    np.testing.assert_allclose(
        eur_per_mwh_to_nok_per_kwh(np.array([100.0, -20.0]), 11.5), [1.15, -0.23]
    )
    with pytest.raises(ValueError, match="EUR/NOK rate must be a positive number"):
        eur_per_mwh_to_nok_per_kwh(100.0, 0.0)


@pytest.mark.parametrize(
    ("overrides", "when", "message"),
    [
        pytest.param(
            {}, _at(2023, 6, 1), "no grid tariff covers 2023-06-01", id="before_first_tariff"
        ),
        pytest.param(
            {"contract": Contract.NORGESPRIS},
            _at(2025, 6, 1),
            "no Norgespris price covers 2025-06-01",
            id="norgespris_before_start",
        ),
        pytest.param(
            {},
            _at(2027, 2, 1),
            "no strømstøtte period covers 2027-02-01",
            id="after_known_threshold",
        ),
    ],
)
def test_strict_periods_raise_outside_known_rates(
    overrides: dict[str, Any], when: datetime, message: str
) -> None:
    model = _model("BKK", extrapolate_periods=False, **overrides)
    with pytest.raises(RateNotFoundError, match=message):
        model.import_price_components(_flat(when, 1, 1.0))


def test_extrapolation_carries_the_last_known_rates_forward() -> None:
    model = _model("BKK")
    parts = model.import_price_components(_flat(_at(2027, 2, 1, 12), 1, 1.5))
    assert parts.subsidy[0] == pytest.approx(0.9 * (1.5 - 0.77) * 1.25)
    assert parts.taxes[0] == pytest.approx(0.101625)


def test_empty_series_prices_to_empty() -> None:
    price = _model("BKK").import_price_nok_per_kwh(SlotSeries(_at(2026, 1, 1), 900, ()))
    assert len(price) == 0


@pytest.mark.parametrize(
    "so_far", [pytest.param(-1.0, id="negative"), pytest.param(float("nan"), id="nan")]
)
def test_month_import_so_far_must_be_a_non_negative_number(so_far: float) -> None:
    with pytest.raises(ValueError, match="month_import_kwh_so_far"):
        _model("BKK").import_price_components(
            _flat(_at(2026, 2, 2), 1, 1.0), month_import_kwh_so_far=so_far
        )


def test_unknown_spot_gives_unknown_price() -> None:
    price = (
        _model("BKK").import_price_nok_per_kwh(_flat(_at(2026, 2, 2), 2, float("nan"))).as_array()
    )
    assert np.isnan(price).all()


@pytest.mark.parametrize(
    ("when", "expected_all_in_ore"),
    [
        pytest.param(_at(2026, 9, 7, 12), 46.40, id="elvia_day_all_in"),
        pytest.param(_at(2026, 9, 7, 23), 31.40, id="elvia_night_all_in"),
    ],
)
def test_elvia_2026_all_in_grid_price_matches_its_tariff_sheet(
    when: datetime, expected_all_in_ore: float
) -> None:
    # Elvia's sheet from July 2026: 46.40 / 31.40 øre incl. elavgift, Enova and VAT.
    parts = _model("Elvia").import_price_components(_flat(when, 1, 0.0))
    assert (parts.grid_energy[0] + parts.taxes[0]) * 100 == pytest.approx(
        expected_all_in_ore, abs=0.005
    )
