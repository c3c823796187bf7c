"""The capacity term: daily peaks, the monthly measure, steps, marginal cost and cap curves."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pytest

from custom_components.nordic_v2h.core.tariff import (
    CostModel,
    CostSettings,
    MissingSettingError,
    TariffError,
    UnsupportedCapacityMethodError,
    grid_tariff_from_dict,
    load_presets,
    local_month_start_utc,
    settings_from_presets,
)
from custom_components.nordic_v2h.core.timeseries import OSLO, SlotSeries

JULY = date(2026, 7, 1)


def _model(company: str, **overrides: Any) -> CostModel:
    """Return a cost model for a preset company."""
    return CostModel(settings_from_presets(company, load_presets(), **overrides))


def _custom(**fields: Any) -> CostModel:
    """Return a cost model for a small custom tariff (no VAT zone, so amounts stay plain)."""
    data: dict[str, Any] = {
        "company": "Test Nett",
        "valid_from": "2024-01-01",
        "vat_zone": "nord_norge",
        "capacity_steps": [
            {"from_kw": 0, "to_kw": 2, "nok_per_month": 100},
            {"from_kw": 2, "to_kw": 5, "nok_per_month": 200},
            {"from_kw": 5, "to_kw": 10, "nok_per_month": 400},
            {"from_kw": 10, "to_kw": None, "nok_per_month": 800},
        ],
        "energy_base_nok_per_kwh": 0.1,
        **fields,
    }
    return CostModel(
        CostSettings(
            grid_tariffs=(grid_tariff_from_dict(data),),
            national_rules=load_presets().national_rules(),
        )
    )


def _hourly_month(
    year: int, month: int, base_kwh: float, peaks: dict[tuple[int, int], float]
) -> SlotSeries:
    """Return a month of hourly import with given kWh at (day, local hour)."""
    start = local_month_start_utc(year, month)
    end = local_month_start_utc(year + month // 12, month % 12 + 1)
    hours = int((end - start).total_seconds()) // 3600
    values = np.full(hours, base_kwh)
    for (day, hour), kwh in peaks.items():
        moment = datetime(year, month, day, hour, tzinfo=OSLO).astimezone(UTC)
        values[int((moment - start).total_seconds()) // 3600] = kwh
    return SlotSeries.from_array(start, 3600, values)


@pytest.mark.parametrize(
    ("inclusive", "measure_kw", "expected_from_kw"),
    [
        pytest.param(True, 0.0, 0.0, id="zero_first_step"),
        pytest.param(True, 4.999, 2.0, id="inclusive_just_below_edge"),
        pytest.param(True, 5.0, 5.0, id="inclusive_edge_goes_up"),
        pytest.param(True, 5.001, 5.0, id="inclusive_just_above_edge"),
        pytest.param(False, 5.0, 2.0, id="exclusive_edge_stays_down"),
        pytest.param(False, 5.001, 5.0, id="exclusive_just_above_edge"),
        pytest.param(False, 2.0, 0.0, id="exclusive_first_edge"),
        pytest.param(True, 1000.0, 10.0, id="open_top_step"),
    ],
)
def test_tier_boundaries(inclusive: bool, measure_kw: float, expected_from_kw: float) -> None:
    step = _custom(threshold_inclusive=inclusive).capacity_step(measure_kw)
    assert step.from_kw == expected_from_kw


def test_negative_measure_is_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        _custom().capacity_step(-1.0)


def test_bkk_july_2026_invoice() -> None:
    # BKK's July 2026 invoice: 5.004 kW on 13.07 17:00, 4.581 and 4.561 kW on two other days.
    imports = _hourly_month(
        2026, 7, 1.2, {(13, 17): 5.004, (2, 18): 4.581, (21, 8): 4.561, (21, 9): 4.5}
    )
    model = _model("BKK")
    peaks = model.daily_peaks_kw(imports)
    assert len(peaks) == 31
    assert peaks[date(2026, 7, 13)] == pytest.approx(5.004)
    measure = model.capacity_measure_kw(peaks, JULY)
    assert measure == pytest.approx(4.715, abs=0.0005)
    step = model.capacity_step(measure, JULY)
    assert (step.from_kw, step.to_kw, step.nok_per_month) == (2.0, 5.0, pytest.approx(250.0))
    assert model.capacity_cost_nok(JULY, imports) == pytest.approx(250.0)


def test_three_peaks_on_one_day_count_once() -> None:
    imports = _hourly_month(
        2026, 7, 1.0, {(10, 17): 9.0, (10, 18): 8.0, (10, 19): 7.0, (11, 12): 2.0}
    )
    model = _custom()
    measure = model.capacity_measure_kw(model.daily_peaks_kw(imports), JULY)
    assert measure == pytest.approx((9.0 + 2.0 + 1.0) / 3)


def test_month_change_separates_the_peaks() -> None:
    june = _hourly_month(2026, 6, 1.0, {(30, 20): 12.0, (29, 20): 12.0, (28, 20): 12.0})
    july = _hourly_month(2026, 7, 1.0, {(1, 0): 3.0})
    model = _custom()
    peaks = model.daily_peaks_kw(june.concat(july))
    assert model.capacity_measure_kw(peaks, date(2026, 6, 15)) == pytest.approx(12.0)
    assert model.capacity_measure_kw(peaks, JULY) == pytest.approx((3.0 + 1.0 + 1.0) / 3)
    # 23:00-24:00 local on 30 June is 21:00 UTC: it belongs to June.
    assert peaks[date(2026, 6, 30)] == pytest.approx(12.0)


def test_dst_autumn_day_has_25_clock_hours_each_measured() -> None:
    start = datetime(2025, 10, 26, tzinfo=OSLO).astimezone(UTC)
    values = np.ones(25)
    values[3] = 6.0  # the second 02:00-03:00 (CET)
    peaks = _custom().daily_peaks_kw(SlotSeries.from_array(start, 3600, values))
    assert peaks == {date(2025, 10, 26): 6.0}


def test_dst_spring_day_has_23_clock_hours() -> None:
    start = datetime(2025, 3, 30, tzinfo=OSLO).astimezone(UTC)
    values = np.arange(24, dtype=float)  # 23 hours on 30 March, then 00:00 on 31 March
    peaks = _custom().daily_peaks_kw(SlotSeries.from_array(start, 3600, values))
    assert peaks == {date(2025, 3, 30): 22.0, date(2025, 3, 31): 23.0}


def test_quarter_hour_import_is_summed_to_clock_hours() -> None:
    start = datetime(2026, 7, 13, 17, tzinfo=OSLO).astimezone(UTC)
    imports = SlotSeries.from_array(start, 900, [2.0, 2.0, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0])
    assert _custom().daily_peaks_kw(imports) == {date(2026, 7, 13): 5.0}


def test_quarter_hour_capacity_interval_is_configurable() -> None:
    start = datetime(2026, 7, 13, 17, tzinfo=OSLO).astimezone(UTC)
    imports = SlotSeries.from_array(start, 900, [2.0, 2.0, 0.5, 0.5])
    assert _custom(capacity_interval_s=900).daily_peaks_kw(imports) == {date(2026, 7, 13): 8.0}
    with pytest.raises(TariffError, match="cannot be measured on 900 s intervals"):
        _custom(capacity_interval_s=900).daily_peaks_kw(SlotSeries.from_array(start, 3600, [1.0]))


def test_unknown_hours_are_ignored_and_empty_days_left_out() -> None:
    start = datetime(2026, 7, 13, tzinfo=OSLO).astimezone(UTC)
    values = [float("nan")] * 24 + [1.0, float("nan"), 3.0] + [0.0] * 21
    peaks = _custom().daily_peaks_kw(SlotSeries.from_array(start, 3600, values))
    assert peaks == {date(2026, 7, 14): 3.0}


def test_month_in_progress_counts_missing_days_as_zero() -> None:
    model = _custom()
    assert model.capacity_measure_kw({date(2026, 7, 1): 6.0}, JULY) == pytest.approx(2.0)
    assert model.capacity_measure_kw({}, JULY) == 0.0


def test_monthly_max_method_sor_aurdal() -> None:
    model = _model("Sør Aurdal Energi Nett")
    peaks = {date(2026, 7, 1): 5.0, date(2026, 7, 2): 1.0}
    assert model.capacity_measure_kw(peaks, JULY) == 5.0
    # "til og med": exactly 5 kW stays in the 0-5 kW step.
    assert model.capacity_step(5.0, JULY).from_kw == 0.0
    assert model.capacity_step(5.01, JULY).from_kw == 5.0


@pytest.mark.parametrize(
    ("fuse_a", "expected_nok"),
    [
        pytest.param(63.0, 3500 / 12, id="small_fuse"),
        pytest.param(125.0, 3500 / 12, id="fuse_at_edge_til_og_med"),
        pytest.param(160.0, 4500 / 12, id="large_fuse"),
    ],
)
def test_fuse_size_method_alut(fuse_a: float, expected_nok: float) -> None:
    model = _model("Alut", main_fuse_a=fuse_a)
    assert model.capacity_cost_from_peaks_nok({date(2026, 7, 1): 20.0}, JULY) == pytest.approx(
        expected_nok
    )
    assert model.marginal_capacity_cost_nok({}, date(2026, 7, 3), 50.0) == 0.0


def test_fuse_size_method_needs_the_fuse() -> None:
    with pytest.raises(MissingSettingError, match="set main_fuse_a"):
        _model("Alut").capacity_step(3.0, JULY)


def test_weighted_year_method_fails_clearly() -> None:
    model = _model("Fjellnett")
    with pytest.raises(UnsupportedCapacityMethodError, match="FEM_VEKTET_ÅR"):
        model.capacity_step(3.0, JULY)
    with pytest.raises(UnsupportedCapacityMethodError, match="season weights"):
        model.capacity_cost_from_peaks_nok({}, JULY)


PEAKS_SO_FAR = {
    date(2026, 7, 1): 4.9,
    date(2026, 7, 2): 4.9,
    date(2026, 7, 3): 4.9,
    date(2026, 7, 4): 3.0,
}


@pytest.mark.parametrize(
    ("day", "new_peak_kw", "expected_nok"),
    [
        pytest.param(date(2026, 7, 5), 4.0, 0.0, id="below_third_highest_is_free"),
        pytest.param(date(2026, 7, 5), 4.95, 0.0, id="displaces_third_but_same_step"),
        pytest.param(date(2026, 7, 5), 5.2, 415.0 - 250.0, id="displaces_third_and_crosses_step"),
        pytest.param(date(2026, 7, 1), 5.2, 415.0 - 250.0, id="raising_a_top_day_crosses_step"),
        pytest.param(date(2026, 7, 1), 3.0, 0.0, id="lower_than_the_days_own_peak"),
    ],
)
def test_marginal_capacity_cost_bkk(day: date, new_peak_kw: float, expected_nok: float) -> None:
    cost = _model("BKK").marginal_capacity_cost_nok(PEAKS_SO_FAR, day, new_peak_kw)
    assert cost == pytest.approx(expected_nok)


def test_capacity_cost_curve_for_a_cap_on_the_rest_of_the_month() -> None:
    model = _model("BKK")
    caps = np.array([1.0, 4.9, 5.0, 6.0, 9.9, 10.5])
    curve = model.capacity_cost_curve_nok(PEAKS_SO_FAR, date(2026, 7, 20), caps)
    # Any cap up to 4.9 keeps the three 4.9 kW days: 2-5 kW. Above 5 kW the rest of the month sets the mean.
    np.testing.assert_allclose(curve, [250.0, 250.0, 415.0, 415.0, 415.0, 600.0])
    assert model.capacity_cost_with_cap_nok(PEAKS_SO_FAR, date(2026, 7, 20), 3.0) == pytest.approx(
        250.0
    )


def test_capacity_cost_curve_early_in_the_month() -> None:
    model = _model("BKK")
    curve = model.capacity_cost_curve_nok(
        {date(2026, 7, 1): 7.0}, date(2026, 7, 2), np.array([1.0, 3.0])
    )
    # (7 + 1 + 1) / 3 = 3.0 -> 2-5 kW; (7 + 3 + 3) / 3 = 4.33 -> 2-5 kW.
    np.testing.assert_allclose(curve, [250.0, 250.0])
    curve = model.capacity_cost_curve_nok(
        {date(2026, 7, 1): 7.0}, date(2026, 7, 2), np.array([0.0, 4.0])
    )
    # (7 + 0 + 0) / 3 = 2.33 -> 2-5 kW; (7 + 4 + 4) / 3 = 5.0 exactly -> 5-10 kW (threshold inclusive).
    np.testing.assert_allclose(curve, [250.0, 415.0])


@pytest.mark.parametrize(
    ("company", "expected"),
    [
        pytest.param("BKK", (2.0, 5.0, 10.0, 15.0, 20.0, 25.0, 50.0, 75.0, 100.0), id="bkk_steps"),
        pytest.param(
            "Lede",
            (5.0, 10.0, 15.0, 20.0, 25.0, 50.0, 75.0, 100.0, 150.0, 200.0),
            id="lede_starts_at_5",
        ),
        pytest.param("Alut", (), id="fuse_method_has_no_kw_thresholds"),
    ],
)
def test_capacity_thresholds(company: str, expected: tuple[float, ...]) -> None:
    assert _model(company, main_fuse_a=63.0).capacity_thresholds_kw(JULY) == expected


def test_capacity_cost_curve_monthly_max() -> None:
    model = _model("Sør Aurdal Energi Nett")
    curve = model.capacity_cost_curve_nok(
        {date(2026, 7, 1): 4.0}, date(2026, 7, 2), np.array([3.0, 6.0])
    )
    assert curve[0] == pytest.approx(562.5)  # 4 kW stays in 0-5 kW
    assert curve[1] == pytest.approx(650.0)  # 6 kW is in 5-8 kW


def test_empty_import_has_no_peaks() -> None:
    assert _custom().daily_peaks_kw(SlotSeries(local_month_start_utc(2026, 7), 3600, ())) == {}
