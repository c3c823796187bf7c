"""Whole-month bills: components, caps, contracts, export, DST months and input checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from custom_components.nordic_v2h.core.tariff import (
    Bill,
    Contract,
    CostModel,
    CostSettings,
    TariffError,
    UnsupportedCapacityMethodError,
    grid_tariff_from_dict,
    load_presets,
    local_month_start_utc,
    settings_from_presets,
)
from custom_components.nordic_v2h.core.timeseries import SlotSeries

FLAT_TARIFF: dict[str, Any] = {
    "company": "Flat Nett",
    "valid_from": "2024-01-01",
    "capacity_steps": [
        {"from_kw": 0, "to_kw": 2, "nok_per_month": 100},
        {"from_kw": 2, "to_kw": 5, "nok_per_month": 200},
        {"from_kw": 5, "to_kw": None, "nok_per_month": 400},
    ],
    "energy_base_nok_per_kwh": 0.2,
}
TAXES_2026 = 0.0713 + 0.01


def _model(**overrides: Any) -> CostModel:
    """Return a model of the flat custom tariff with the real national rules."""
    return CostModel(
        CostSettings(
            grid_tariffs=(grid_tariff_from_dict(FLAT_TARIFF),),
            national_rules=load_presets().national_rules(),
            **overrides,
        )
    )


def _month(year: int, month: int, kwh: float, slot_s: int = 3600) -> SlotSeries:
    """Return a constant series over one local month."""
    start = local_month_start_utc(year, month)
    end = local_month_start_utc(year + month // 12, month % 12 + 1)
    count = int((end - start).total_seconds()) // slot_s
    return SlotSeries.from_array(start, slot_s, np.full(count, kwh))


def _check_total(bill: Bill) -> None:
    """Assert the documented identity of the bill's components."""
    assert bill.total == pytest.approx(
        bill.energy_cost
        + bill.grid_energy_cost
        + bill.capacity_cost
        + bill.taxes
        - bill.subsidy
        - bill.export_revenue
    )


def test_flat_month_on_spot_with_stromstotte() -> None:
    hours = 744  # July
    bill = _model().bill(_month(2026, 7, 1.0), _month(2026, 7, 0.0), _month(2026, 7, 1.0))
    assert bill.import_kwh == pytest.approx(hours)
    assert bill.energy_cost == pytest.approx(hours * 1.0 * 1.25)
    assert bill.grid_energy_cost == pytest.approx(hours * 0.2 * 1.25)
    assert bill.taxes == pytest.approx(hours * TAXES_2026 * 1.25)
    assert bill.subsidy == pytest.approx(hours * 0.9 * (1.0 - 0.77) * 1.25)
    assert bill.capacity_cost == pytest.approx(125.0)
    assert bill.export_revenue == 0.0
    _check_total(bill)


def test_stromstotte_stops_at_5000_kwh_in_the_month() -> None:
    bill = _model().bill(_month(2026, 7, 10.0), _month(2026, 7, 0.0), _month(2026, 7, 1.0))
    assert bill.import_kwh == pytest.approx(7440.0)
    assert bill.subsidy == pytest.approx(5000 * 0.9 * 0.23 * 1.25)
    assert bill.capacity_cost == pytest.approx(500.0)


def test_stromstotte_cap_restarts_each_month() -> None:
    model = _model()
    imports = _month(2026, 6, 10.0).concat(_month(2026, 7, 10.0))
    months = model.bill_by_month(imports, _zeros(imports), _const(imports, 1.0))
    assert [m.month.month for m in months] == [6, 7]
    for month in months:
        assert month.bill.subsidy == pytest.approx(5000 * 0.9 * 0.23 * 1.25)
        assert month.capacity_measure_kw == pytest.approx(10.0)
        assert month.capacity_step.from_kw == 5.0


def _zeros(series: SlotSeries) -> SlotSeries:
    """Return zeros on the same slots."""
    return SlotSeries.from_array(series.start_utc, series.slot_s, np.zeros(len(series)))


def _const(series: SlotSeries, value: float) -> SlotSeries:
    """Return a constant on the same slots."""
    return SlotSeries.from_array(series.start_utc, series.slot_s, np.full(len(series), value))


@pytest.mark.parametrize(
    ("holiday_home", "kwh_per_hour", "spot", "expected_covered_kwh"),
    [
        pytest.param(False, 1.0, 2.0, 744.0, id="home_all_covered"),
        pytest.param(False, 10.0, 2.0, 5000.0, id="home_cap_5000"),
        pytest.param(True, 10.0, 2.0, 1000.0, id="holiday_home_cap_1000"),
        pytest.param(False, 1.0, 0.1, 744.0, id="spot_below_norgespris_customer_pays"),
    ],
)
def test_norgespris_month(
    holiday_home: bool, kwh_per_hour: float, spot: float, expected_covered_kwh: float
) -> None:
    model = _model(contract=Contract.NORGESPRIS, holiday_home=holiday_home)
    bill = model.bill(_month(2026, 7, kwh_per_hour), _month(2026, 7, 0.0), _month(2026, 7, spot))
    assert bill.energy_cost == pytest.approx(744 * kwh_per_hour * spot * 1.25)
    assert bill.subsidy == pytest.approx(expected_covered_kwh * (spot - 0.40) * 1.25)
    _check_total(bill)


@pytest.mark.parametrize(
    ("allow", "expected_revenue"),
    [
        pytest.param(True, 744 * 2.0 * 0.8, id="allowed_spot_without_vat"),
        pytest.param(False, 0.0, id="not_allowed"),
    ],
)
def test_export_revenue(allow: bool, expected_revenue: float) -> None:
    bill = _model(allow_export=allow).bill(
        _month(2026, 7, 0.5), _month(2026, 7, 2.0), _month(2026, 7, 0.8)
    )
    assert bill.export_revenue == pytest.approx(expected_revenue)
    assert bill.export_kwh == pytest.approx(744 * 2.0)
    # Exporting does not lower the capacity measure: import alone sets it.
    assert bill.capacity_cost == pytest.approx(125.0)
    _check_total(bill)


@pytest.mark.parametrize(
    ("year", "month", "hours"),
    [
        pytest.param(2025, 3, 743, id="march_has_the_23_hour_day"),
        pytest.param(2025, 10, 745, id="october_has_the_25_hour_day"),
    ],
)
def test_dst_months_bill_every_clock_hour(year: int, month: int, hours: int) -> None:
    for slot_s in (3600, 900):
        bill = _model().bill(
            _month(year, month, 1.0 * slot_s / 3600, slot_s),
            _month(year, month, 0.0, slot_s),
            _month(year, month, 0.5, slot_s),
        )
        assert bill.import_kwh == pytest.approx(hours)


def test_households_pay_the_hourly_mean_not_the_quarter_prices() -> None:
    start = local_month_start_utc(2026, 7)
    quarters = len(_month(2026, 7, 0.0, 900))
    imports = np.tile([1.0, 0.0, 0.0, 0.0], quarters // 4)  # all energy in the cheap first quarter
    prices = np.tile([0.0, 1.0, 1.0, 1.0], quarters // 4)
    model = _model()
    bill = model.bill(
        SlotSeries.from_array(start, 900, imports),
        SlotSeries.from_array(start, 900, np.zeros(quarters)),
        SlotSeries.from_array(start, 900, prices),
    )
    assert bill.energy_cost == pytest.approx(744 * 0.75 * 1.25)


def test_fixed_supplier_fee_and_markup() -> None:
    model = _model(supplier_markup_nok_per_kwh=0.05, supplier_fixed_nok_per_month=39.0)
    bill = model.bill(_month(2026, 7, 1.0), _month(2026, 7, 0.0), _month(2026, 7, 0.5))
    assert bill.energy_cost == pytest.approx(744 * 0.55 * 1.25 + 39.0 * 1.25)


def test_year_bill_is_the_sum_of_its_months() -> None:
    model = CostModel(settings_from_presets("BKK", load_presets()))
    start = local_month_start_utc(2025, 1)
    hours = int((local_month_start_utc(2026, 1) - start).total_seconds()) // 3600
    rng = np.random.default_rng(7)
    imports = SlotSeries.from_array(start, 3600, rng.uniform(0.2, 6.0, hours))
    spot = SlotSeries.from_array(start, 3600, rng.uniform(-0.1, 3.0, hours))
    months = model.bill_by_month(imports, _zeros(imports), spot)
    bill = model.bill(imports, _zeros(imports), spot)
    assert len(months) == 12
    assert bill.total == pytest.approx(sum(m.bill.total for m in months))
    assert bill.capacity_cost == pytest.approx(sum(m.capacity_step.nok_per_month for m in months))
    _check_total(bill)
    assert set(bill.to_dict()) == {
        "energy_cost",
        "grid_energy_cost",
        "capacity_cost",
        "taxes",
        "subsidy",
        "export_revenue",
        "total",
        "import_kwh",
        "export_kwh",
    }


def _shifted(series: SlotSeries, hours: int) -> SlotSeries:
    """Return the series starting some hours later."""
    return SlotSeries(series.start_utc + timedelta(hours=hours), series.slot_s, series.values)


@pytest.mark.parametrize(
    ("imports", "exports", "spot", "message"),
    [
        pytest.param(
            _shifted(_month(2026, 7, 1.0), 1),
            _shifted(_month(2026, 7, 0.0), 1),
            _month(2026, 7, 1.0),
            "is not the start of a local month",
            id="not_month_start",
        ),
        pytest.param(
            _month(2026, 7, 1.0),
            _month(2026, 6, 0.0),
            _month(2026, 7, 1.0),
            "same span",
            id="export_span_differs",
        ),
        pytest.param(
            _month(2026, 7, 1.0),
            _month(2026, 7, 0.0),
            _month(2026, 6, 1.0),
            "spot prices do not cover",
            id="spot_missing",
        ),
        pytest.param(
            _month(2026, 7, float("nan")),
            _month(2026, 7, 0.0),
            _month(2026, 7, 1.0),
            "import: unknown value at",
            id="unknown_import",
        ),
        pytest.param(
            _month(2026, 7, -1.0),
            _month(2026, 7, 0.0),
            _month(2026, 7, 1.0),
            "non-negative",
            id="negative_import",
        ),
    ],
)
def test_bad_bill_inputs_are_refused(
    imports: SlotSeries, exports: SlotSeries, spot: SlotSeries, message: str
) -> None:
    with pytest.raises(TariffError, match=message):
        _model().bill(imports, exports, spot)


def test_bill_for_weighted_year_company_fails_clearly() -> None:
    model = CostModel(settings_from_presets("Fjellnett", load_presets()))
    with pytest.raises(UnsupportedCapacityMethodError):
        model.bill(_month(2026, 7, 1.0), _month(2026, 7, 0.0), _month(2026, 7, 1.0))


def test_import_not_covering_whole_hours_is_refused() -> None:
    start = local_month_start_utc(2026, 7)
    imports = SlotSeries.from_array(start, 900, np.ones(2977))  # one quarter more than July
    with pytest.raises(TariffError, match=r"whole clock hours|not the start of a local month"):
        _model().bill(imports, _zeros(imports), _const(imports, 1.0))


def test_empty_bill_is_refused() -> None:
    empty = SlotSeries(local_month_start_utc(2026, 7), 3600, ())
    with pytest.raises(TariffError, match="nothing to bill"):
        _model().bill(empty, empty, empty)
