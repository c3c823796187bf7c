"""Tariff data types: validation of user tariffs and national rules, and the bundled presets."""

from __future__ import annotations

import copy
from datetime import date, datetime
import json
from typing import TYPE_CHECKING, Any

import pytest

from custom_components.nordic_v2h.core.tariff import (
    CapacityMethod,
    Contract,
    CostModel,
    CostSettings,
    RateNotFoundError,
    TariffValidationError,
    TaxZone,
    cost_settings_from_dict,
    grid_tariff_from_dict,
    load_presets,
    national_rules_from_dict,
    settings_from_presets,
)
from custom_components.nordic_v2h.core.tariff_presets import presets_from_document
from custom_components.nordic_v2h.core.timeseries import OSLO, SlotSeries

if TYPE_CHECKING:
    from pathlib import Path

USER_TARIFF: dict[str, Any] = {
    "company": "Min Nett",
    "valid_from": "2027-01-01",
    "capacity_steps": [
        {"from_kw": 0, "to_kw": 2, "nok_per_month": 100},
        {"from_kw": 2, "to_kw": 5, "nok_per_month": 200},
        {"from_kw": 5, "to_kw": None, "nok_per_month": 400},
    ],
    "energy_base_nok_per_kwh": 0.1,
    "energy_rules": [
        {"name": "day", "start_hour": 6, "end_hour": 22, "days": "working_days", "nok_per_kwh": 0.3}
    ],
}


def _with(path: str, value: object) -> dict[str, Any]:
    """Return a copy of the user tariff with one field (dotted path, list indexes) replaced."""
    data = copy.deepcopy(USER_TARIFF)
    target: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if value is _DELETE:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return data


_DELETE = object()


def test_user_tariff_is_accepted() -> None:
    tariff = grid_tariff_from_dict(USER_TARIFF)
    assert tariff.company == "Min Nett"
    assert tariff.valid_from == date(2027, 1, 1)
    assert tariff.valid_to is None
    assert tariff.capacity_method is CapacityMethod.THREE_DAILY_MAX_MONTH
    assert [step.nok_per_month for step in tariff.capacity_steps] == [100, 200, 400]
    rule = tariff.energy_rules[0]
    assert (rule.start_hour, rule.end_hour, rule.exclude_holidays) == (6, 22, True)
    assert rule.weekdays == frozenset(range(5))
    assert rule.months == frozenset(range(1, 13))


def test_prices_including_vat_are_converted_with_the_given_rate() -> None:
    data = _with("prices_include_vat", True)
    tariff = grid_tariff_from_dict(data, vat_rate=0.25)
    assert tariff.capacity_steps[1].nok_per_month == pytest.approx(160.0)
    assert tariff.energy_base_nok_per_kwh == pytest.approx(0.08)
    assert tariff.energy_rules[0].nok_per_kwh == pytest.approx(0.24)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(_with("company", _DELETE), r"^company: missing", id="missing_company"),
        pytest.param(
            _with("company", "  "), r"company: must be a non-empty string", id="blank_company"
        ),
        pytest.param(_with("valid_from", "2027-13-01"), r"valid_from: not a date", id="bad_date"),
        pytest.param(
            _with("valid_to", "2026-12-31"),
            r"valid_to: 2026-12-31 is not after",
            id="ends_before_start",
        ),
        pytest.param(
            _with("capacity_steps.0.from_kw", 1),
            r"capacity_steps\[0\]\.from_kw: the first step must start at 0",
            id="first_step_not_zero",
        ),
        pytest.param(
            _with("capacity_steps.1.from_kw", 3),
            r"capacity_steps\[1\]\.from_kw: 3\.0 does not continue",
            id="gap_between_steps",
        ),
        pytest.param(
            _with("capacity_steps.2.to_kw", 10),
            r"capacity_steps\[2\]\.to_kw: the last step must be open-ended",
            id="last_step_closed",
        ),
        pytest.param(
            _with("capacity_steps.1.to_kw", 2),
            r"capacity_steps\[1\]\.to_kw: 2\.0 is not above",
            id="empty_step",
        ),
        pytest.param(
            _with("capacity_steps.1.nok_per_month", -5),
            r"capacity_steps\[1\]\.nok_per_month: must be >= 0",
            id="negative_amount",
        ),
        pytest.param(
            _with("capacity_steps.1.nok_per_month", "200 kr"),
            r"must be a finite number",
            id="amount_not_a_number",
        ),
        pytest.param(
            _with("capacity_steps.1.nok_per_month", float("nan")),
            r"must be a finite number",
            id="amount_nan",
        ),
        pytest.param(_with("capacity_steps", []), r"capacity_steps: missing", id="no_steps"),
        pytest.param(
            _with("capacity_steps", "100"), r"capacity_steps: must be a list", id="steps_not_a_list"
        ),
        pytest.param(
            _with("energy_base_nok_per_kwh", _DELETE),
            r"energy_base_nok_per_kwh: missing",
            id="no_energy_price",
        ),
        pytest.param(
            _with("energy_rules.0.end_hour", 25),
            r"energy_rules\[0\]: hours 6-25",
            id="hour_out_of_range",
        ),
        pytest.param(
            _with("energy_rules.0.end_hour", 6),
            r"energy_rules\[0\]: hours 6-6",
            id="empty_hour_range",
        ),
        pytest.param(
            _with("energy_rules.0.days", "weekdays"),
            r"energy_rules\[0\]\.days: 'weekdays' is not one of",
            id="unknown_day_filter",
        ),
        pytest.param(
            _with("energy_rules.0.days", ["mon", "someday"]),
            r"energy_rules\[0\]\.days: 'someday'",
            id="unknown_weekday",
        ),
        pytest.param(
            _with("energy_rules.0.months", [1, 13]),
            r"energy_rules\[0\]\.months: 13 is not in 1\.\.12",
            id="month_13",
        ),
        pytest.param(
            _with("energy_rules.0", "day"),
            r"energy_rules\[0\]: expected a mapping",
            id="rule_not_a_mapping",
        ),
        pytest.param(
            _with("capacity_method", "PEAK"),
            r"capacity_method: 'PEAK' is not one of",
            id="unknown_method",
        ),
        pytest.param(
            _with("capacity_method", "OV_TREFASE"),
            r"fuse_steps: the fuse-size method",
            id="fuse_method_without_fuse_steps",
        ),
        pytest.param(
            _with("vat_zone", "svalbard"),
            r"vat_zone: 'svalbard' is not one of",
            id="unknown_tax_zone",
        ),
        pytest.param(
            _with("threshold_inclusive", "yes"),
            r"threshold_inclusive: must be true or false",
            id="threshold_not_bool",
        ),
        pytest.param(
            _with("prices_include_vat", True),
            r"prices include VAT, so pass the VAT rate",
            id="vat_included_without_rate",
        ),
        pytest.param(
            _with("extra_low_days", ["12-32"]),
            r"extra_low_days\[0\]: '12-32' is not MM-DD",
            id="bad_extra_day",
        ),
        pytest.param(
            _with("capacity_interval_s", 7),
            r"capacity_interval_s: 7 does not divide an hour",
            id="bad_interval",
        ),
    ],
)
def test_invalid_user_tariffs_are_rejected(data: dict[str, Any], message: str) -> None:
    with pytest.raises(TariffValidationError, match=message):
        grid_tariff_from_dict(data)


def test_a_non_mapping_is_rejected() -> None:
    with pytest.raises(TariffValidationError, match="expected a mapping"):
        grid_tariff_from_dict([1, 2])  # type: ignore[arg-type]  # deliberately wrong input


NATIONAL: dict[str, Any] = {
    "vat_rate": 0.25,
    "tax_periods": [
        {
            "valid_from": "2026-01-01",
            "valid_to": None,
            "elavgift_nok_per_kwh": 0.0713,
            "enova_nok_per_kwh": 0.01,
        }
    ],
    "subsidy_periods": [
        {
            "valid_from": "2026-01-01",
            "valid_to": "2027-01-01",
            "threshold_nok_per_kwh": 0.77,
            "rate": 0.9,
        }
    ],
    "norgespris_periods": [
        {"valid_from": "2025-10-01", "valid_to": None, "price_nok_per_kwh": 0.4}
    ],
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"vat_rate": -0.1}, r"vat_rate: must be >= 0", id="negative_vat"),
        pytest.param(
            {"tax_periods": []}, r"tax_periods: give at least one period", id="no_tax_period"
        ),
        pytest.param(
            {"subsidy_periods": [{**NATIONAL["subsidy_periods"][0], "rate": 1.5}]},
            r"subsidy_periods\[0\]\.rate: 1\.5 is above 1",
            id="subsidy_rate_above_one",
        ),
        pytest.param(
            {
                "tax_periods": [
                    {**NATIONAL["tax_periods"][0], "valid_to": None},
                    {**NATIONAL["tax_periods"][0], "valid_from": "2026-06-01"},
                ]
            },
            r"tax_periods\[1\]: starts 2026-06-01, before the previous period ends",
            id="overlapping_periods",
        ),
        pytest.param(
            {"norgespris_periods": [{"valid_from": "2025-10-01"}]},
            r"norgespris_periods\[0\]\.price_nok_per_kwh: missing",
            id="norgespris_without_price",
        ),
    ],
)
def test_invalid_national_rules_are_rejected(change: dict[str, Any], message: str) -> None:
    with pytest.raises(TariffValidationError, match=message):
        national_rules_from_dict({**NATIONAL, **change})


def test_next_years_numbers_can_be_given() -> None:
    data = copy.deepcopy(NATIONAL)
    data["tax_periods"][0]["valid_to"] = "2027-01-01"
    data["tax_periods"].append(
        {
            "valid_from": "2027-01-01",
            "valid_to": None,
            "elavgift_nok_per_kwh": 0.05,
            "enova_nok_per_kwh": 0.01,
        }
    )
    rules = national_rules_from_dict(data)
    assert [p.elavgift_nok_per_kwh for p in rules.tax_periods] == [0.0713, 0.05]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"grid_tariffs": ()}, r"grid_tariffs: give at least one", id="no_tariff"),
        pytest.param(
            {"main_fuse_a": -63.0}, r"main_fuse_a: must be a positive", id="negative_fuse"
        ),
        pytest.param(
            {"supplier_markup_nok_per_kwh": float("inf")},
            r"supplier_markup_nok_per_kwh: must be a finite",
            id="infinite_markup",
        ),
    ],
)
def test_invalid_cost_settings_are_rejected(kwargs: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {
        "grid_tariffs": (grid_tariff_from_dict(USER_TARIFF),),
        "national_rules": national_rules_from_dict(NATIONAL),
    }
    with pytest.raises(TariffValidationError, match=message):
        CostSettings(**{**base, **kwargs})


def test_overlapping_tariff_periods_are_rejected() -> None:
    tariff = grid_tariff_from_dict(USER_TARIFF)
    with pytest.raises(TariffValidationError, match="periods must be sorted and not overlap"):
        CostSettings(
            grid_tariffs=(tariff, tariff), national_rules=national_rules_from_dict(NATIONAL)
        )


# --- presets --------------------------------------------------------------------------


def test_presets_list_every_company_sorted() -> None:
    presets = load_presets()
    companies = presets.companies()
    assert len(companies) == 73
    assert companies.index("Sør Aurdal Energi Nett") < companies.index("Tensio TN")
    assert {"BKK", "Elvia", "Arva", "Linea", "Lede", "Barents Nett"} <= set(companies)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("bkk", ["BKK"], id="case_insensitive"),
        pytest.param("sor aurdal", ["Sør Aurdal Energi Nett"], id="o_slash_spelled_plain"),
        pytest.param("Føie", ["Føie"], id="exact_norwegian"),
        pytest.param("tensio", ["Tensio TN", "Tensio TS"], id="several_areas"),
        pytest.param("no such company", [], id="nothing"),
    ],
)
def test_presets_search(text: str, expected: list[str]) -> None:
    assert load_presets().search(text) == expected


def test_unknown_company_error_suggests_names() -> None:
    with pytest.raises(TariffValidationError, match="did you mean Tensio TN"):
        load_presets().tariffs("tensio")


@pytest.mark.parametrize(
    ("company", "day", "valid_from"),
    [
        pytest.param("BKK", date(2026, 7, 13), date(2026, 1, 1), id="bkk_2026"),
        pytest.param("BKK", date(2025, 12, 31), date(2025, 9, 1), id="bkk_last_day_of_a_period"),
        pytest.param("Elvia", date(2026, 7, 1), date(2026, 7, 1), id="elvia_first_day_of_a_period"),
    ],
)
def test_tariff_for_a_day(company: str, day: date, valid_from: date) -> None:
    assert load_presets().tariff_for(company, day).valid_from == valid_from


def test_tariff_for_a_day_before_the_data() -> None:
    with pytest.raises(TariffValidationError, match="no preset tariff valid on 2020-01-01"):
        load_presets().tariff_for("BKK", date(2020, 1, 1))


def test_presets_credit_the_open_dataset() -> None:
    attribution = load_presets().attribution
    assert "kraftsystemet/fri-nettleie" in attribution
    assert "CC-BY-4.0" in attribution


@pytest.mark.parametrize(
    ("company", "zone", "method", "inclusive"),
    [
        pytest.param("BKK", TaxZone.STANDARD, CapacityMethod.THREE_DAILY_MAX_MONTH, True, id="bkk"),
        pytest.param(
            "Arva", TaxZone.NORD_NORGE, CapacityMethod.THREE_DAILY_MAX_MONTH, True, id="arva_north"
        ),
        pytest.param(
            "Barents Nett",
            TaxZone.TILTAKSSONE,
            CapacityMethod.THREE_DAILY_MAX_MONTH,
            True,
            id="barents_tiltakssone",
        ),
        pytest.param(
            "Sør Aurdal Energi Nett",
            TaxZone.STANDARD,
            CapacityMethod.MONTHLY_MAX,
            False,
            id="sor_aurdal_monthly_max",
        ),
        pytest.param("Alut", TaxZone.TILTAKSSONE, CapacityMethod.FUSE_SIZE, False, id="alut_fuse"),
        pytest.param(
            "Fjellnett",
            TaxZone.STANDARD,
            CapacityMethod.WEIGHTED_YEAR,
            True,
            id="fjellnett_weighted_year",
        ),
        pytest.param(
            "Tinfos Nett",
            TaxZone.STANDARD,
            CapacityMethod.THREE_DAILY_MAX_MONTH,
            True,
            id="tinfos_assumed_common_model",
        ),
    ],
)
def test_preset_methods_and_zones(
    company: str, zone: TaxZone, method: CapacityMethod, inclusive: bool
) -> None:
    tariff = load_presets().tariffs(company)[-1]
    assert (tariff.vat_zone, tariff.capacity_method, tariff.threshold_inclusive) == (
        zone,
        method,
        inclusive,
    )


def test_bkk_bills_christmas_eve_and_new_years_eve_low() -> None:
    assert load_presets().tariffs("BKK")[-1].extra_low_days == ((12, 24), (12, 31))


def test_every_preset_company_builds_a_cost_model() -> None:
    presets = load_presets()
    for company in presets.companies():
        model = CostModel(settings_from_presets(company, presets, main_fuse_a=63.0))
        assert model.tariff_on(date(2026, 7, 1)).company == company


# --- settings from a dictionary ---------------------------------------------------------


def test_settings_from_dict_with_a_preset_company() -> None:
    settings = cost_settings_from_dict(
        {
            "company": "BKK",
            "contract": "norgespris",
            "allow_export": True,
            "supplier_markup_nok_per_kwh": 0.02,
        }
    )
    assert settings.grid_tariffs == load_presets().tariffs("BKK")
    assert settings.contract is Contract.NORGESPRIS
    assert settings.allow_export is True
    assert settings.supplier_markup_nok_per_kwh == 0.02


def test_settings_from_dict_with_a_custom_tariff_and_next_years_rules() -> None:
    national = copy.deepcopy(NATIONAL)
    national["tax_periods"][0]["elavgift_nok_per_kwh"] = 0.05
    settings = cost_settings_from_dict(
        {
            "grid_tariffs": [{**USER_TARIFF, "prices_include_vat": True}],
            "national_rules": national,
            "tax_zone": "nord_norge",
            "main_fuse_a": 40,
        }
    )
    assert settings.grid_tariffs[0].energy_base_nok_per_kwh == pytest.approx(0.08)
    assert settings.national_rules.tax_periods[0].elavgift_nok_per_kwh == 0.05
    assert settings.tax_zone is TaxZone.NORD_NORGE
    assert settings.main_fuse_a == 40.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            {"company": "BKK", "contrakt": "spot"},
            r"unknown setting\(s\): contrakt",
            id="typo_refused",
        ),
        pytest.param(
            {}, r"give either company .* or grid_tariffs", id="neither_company_nor_tariff"
        ),
        pytest.param(
            {"company": "BKK", "grid_tariffs": [USER_TARIFF]},
            r"give either company",
            id="both_company_and_tariff",
        ),
        pytest.param(
            {"company": "Nowhere Nett"},
            r"unknown grid company 'Nowhere Nett'",
            id="unknown_company",
        ),
        pytest.param(
            {"company": "BKK", "contract": "fixed"},
            r"contract: 'fixed' is not one of spot, norgespris",
            id="bad_contract",
        ),
        pytest.param(
            {"grid_tariffs": []},
            r"grid_tariffs: give at least one tariff",
            id="empty_custom_tariffs",
        ),
        pytest.param(
            {"grid_tariffs": [_with("capacity_steps.1.from_kw", 3)]},
            r"grid_tariffs\[0\]\.capacity_steps\[1\]\.from_kw: 3\.0 does not continue",
            id="custom_tariff_error_names_the_field",
        ),
        pytest.param(
            {"company": "BKK", "main_fuse_a": 0}, r"main_fuse_a: must be a positive", id="zero_fuse"
        ),
        pytest.param(
            {"company": "BKK", "allow_export": "no"},
            r"allow_export: must be true or false",
            id="export_not_bool",
        ),
    ],
)
def test_invalid_settings_dicts_are_rejected(data: dict[str, Any], message: str) -> None:
    with pytest.raises(TariffValidationError, match=message):
        cost_settings_from_dict(data)


@pytest.mark.parametrize(
    ("contract", "start", "end", "expected"),
    [
        pytest.param("spot", date(2026, 1, 1), date(2026, 12, 1), (), id="all_known"),
        pytest.param(
            "spot",
            date(2026, 12, 1),
            date(2027, 3, 1),
            ("no strømstøtte period for 2027-01-01..2027-02-28",),
            id="threshold_2027_unknown",
        ),
        pytest.param(
            "norgespris",
            date(2025, 9, 1),
            date(2025, 11, 1),
            ("no Norgespris price for 2025-09-01..2025-09-30",),
            id="before_norgespris",
        ),
        pytest.param(
            "spot",
            date(2023, 12, 1),
            date(2024, 2, 1),
            (
                "no grid tariff for 2023-12-01..2023-12-31",
                "no tax period for 2023-12-01..2023-12-31",
            ),
            id="before_the_data",
        ),
    ],
)
def test_rate_coverage_gaps(
    contract: str, start: date, end: date, expected: tuple[str, ...]
) -> None:
    model = CostModel(cost_settings_from_dict({"company": "BKK", "contract": contract}))
    gaps = model.rate_coverage_gaps(
        datetime(start.year, start.month, start.day, tzinfo=OSLO),
        datetime(end.year, end.month, end.day, tzinfo=OSLO),
    )
    assert gaps == expected


def test_norgespris_without_any_period_fails_clearly() -> None:
    data = {**NATIONAL, "norgespris_periods": []}
    settings = cost_settings_from_dict(
        {"company": "BKK", "contract": "norgespris", "national_rules": data}
    )
    with pytest.raises(RateNotFoundError, match="no Norgespris price is defined"):
        CostModel(settings).import_price_nok_per_kwh(
            SlotSeries.from_array(datetime(2026, 1, 1, tzinfo=OSLO), 3600, [1.0])
        )


def test_a_bad_preset_document_names_the_entry() -> None:
    document = {"national": NATIONAL, "tariffs": [USER_TARIFF, _with("company", _DELETE)]}
    with pytest.raises(TariffValidationError, match=r"tariffs\[1\]: company: missing"):
        presets_from_document(document)


def test_presets_can_be_loaded_from_another_file(tmp_path: Path) -> None:
    path = tmp_path / "presets.json"
    path.write_text(
        json.dumps({"national": NATIONAL, "tariffs": [USER_TARIFF], "attribution": "mine"}),
        encoding="utf-8",
    )
    presets = load_presets(path)
    assert presets.companies() == ["Min Nett"]
    assert presets.attribution == "mine"
