"""Properties of the cost model that must hold for any load and prices (hypothesis)."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest

from custom_components.nordic_v2h.core.tariff import (
    Contract,
    CostModel,
    load_presets,
    local_month_start_utc,
    settings_from_presets,
)
from custom_components.nordic_v2h.core.timeseries import SlotSeries

HOURS_FEB_2026 = 28 * 24
MODELS = {
    contract: CostModel(
        settings_from_presets("BKK", load_presets(), contract=contract, allow_export=True)
    )
    for contract in Contract
}
peaks_strategy = st.dictionaries(
    st.integers(min_value=1, max_value=28).map(lambda day: date(2026, 2, day)),
    st.floats(min_value=0.0, max_value=40.0),
    max_size=28,
)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    contract=st.sampled_from(list(Contract)),
    load_kw=st.floats(min_value=0.0, max_value=30.0),
)
def test_bill_components_add_up_and_capacity_matches_the_measure(
    seed: int, contract: Contract, load_kw: float
) -> None:
    rng = np.random.default_rng(seed)
    start = local_month_start_utc(2026, 2)
    imports = SlotSeries.from_array(start, 3600, rng.uniform(0.0, load_kw, HOURS_FEB_2026))
    exports = SlotSeries.from_array(start, 3600, rng.uniform(0.0, 3.0, HOURS_FEB_2026))
    spot = SlotSeries.from_array(start, 900, rng.uniform(-0.2, 4.0, HOURS_FEB_2026 * 4))
    model = MODELS[contract]
    (month,) = model.bill_by_month(imports, exports, spot)
    bill = month.bill
    assert bill.total == pytest.approx(
        bill.energy_cost
        + bill.grid_energy_cost
        + bill.capacity_cost
        + bill.taxes
        - bill.subsidy
        - bill.export_revenue
    )
    peaks = model.daily_peaks_kw(imports)
    top = sorted(peaks.values(), reverse=True)[:3]
    assert month.capacity_measure_kw == pytest.approx(sum(top) / 3)
    assert (
        month.capacity_step.nok_per_month
        == model.capacity_step(month.capacity_measure_kw, date(2026, 2, 1)).nok_per_month
    )
    assert bill.import_kwh == pytest.approx(float(imports.as_array().sum()))


@settings(max_examples=60, deadline=None)
@given(
    peaks=peaks_strategy,
    day=st.integers(min_value=1, max_value=28),
    new_peak_kw=st.floats(min_value=0.0, max_value=60.0),
)
def test_a_higher_peak_never_lowers_the_capacity_cost(
    peaks: dict[date, float], day: int, new_peak_kw: float
) -> None:
    assert (
        MODELS[Contract.SPOT].marginal_capacity_cost_nok(peaks, date(2026, 2, day), new_peak_kw)
        >= 0.0
    )


@settings(max_examples=60, deadline=None)
@given(peaks=peaks_strategy, day=st.integers(min_value=1, max_value=28))
def test_capacity_cost_grows_with_the_cap(peaks: dict[date, float], day: int) -> None:
    curve = MODELS[Contract.SPOT].capacity_cost_curve_nok(
        peaks, date(2026, 2, day), np.linspace(0.0, 60.0, 61)
    )
    assert np.all(np.diff(curve) >= 0)
