"""The plan inputs Auto builds from the house meter: the month target from the past weeks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from custom_components.nordic_v2h.core.timeseries import OSLO, QUARTER_S, SlotSeries
from custom_components.nordic_v2h.costs import build_cost_model, capacity_inputs
from custom_components.nordic_v2h.planning import (
    HouseContext,
    PlanContext,
    build_plan_inputs,
    house_forecast_kw,
)
from custom_components.nordic_v2h.settings import ControlSettings
from custom_components.nordic_v2h.transport import (
    ChargerCapabilities,
    ChargerState,
    ChargerStatus,
)

NOW = datetime(2025, 10, 1, 22, 0, tzinfo=UTC)
CAPABILITIES = ChargerCapabilities(
    can_discharge=True, min_power_w=1380, max_charge_power_w=7400, max_discharge_power_w=7400
)
STATE = ChargerState(status=ChargerStatus.WAITING, plugged_in=True, power_w=0.0, soc_pct=60.0)


def _history(night_peak_kw: float) -> tuple[float, ...]:
    """Return four weeks of house hours: 1.5 kW, with one hour at `night_peak_kw` each night."""
    day = np.full(24, 1.5)
    day[3] = night_peak_kw
    return tuple(float(value) for value in np.tile(day, 28))


@pytest.mark.parametrize(
    ("night_peak_kw", "allow_v2h", "expected_kwh", "expected_day_peaks_kwh"),
    [
        # Elvia 2025: held under 5 kW. Under 2 would be two steps down, but a house at 1.5 kW
        # leaves no hour under 1.75 with room to charge back the 7.25 kWh a night takes.
        # The days to come are drawn from the four weeks held at that level.
        pytest.param(9.0, True, 4.75, (4.75,) * 28, id="nightly_9_kw_is_held_under_5"),
        # 13 kW cannot be brought under 5 with 7.4 kW of discharge: hold it under 10.
        pytest.param(13.0, True, 9.75, (9.75,) * 28, id="nightly_13_kw_is_held_under_10"),
        pytest.param(9.0, False, None, (), id="no_v2h_no_target_no_outlook"),
        # Nothing to hold: the days to come peak like the house's own days.
        pytest.param(1.5, True, None, (1.5,) * 28, id="flat_house_needs_no_target"),
    ],
)
def test_month_target_from_the_house_history(
    night_peak_kw: float,
    allow_v2h: bool,
    expected_kwh: float | None,
    expected_day_peaks_kwh: tuple[float, ...],
) -> None:
    model = build_cost_model(
        {"grid_company": "Elvia", "contract": "spot", "tax_zone": "standard"}, {}
    )
    assert model is not None
    start = NOW.replace(hour=0)
    spot = SlotSeries.from_array(start, QUARTER_S, np.full(2 * 96, 0.8))
    capacity = capacity_inputs(model, now_utc=NOW, daily_peaks_kwh={}, running_hour_kwh=0.0)
    assert capacity is not None
    context = PlanContext(
        cost_model=model,
        house=HouseContext(
            house_power_w=1500.0, history_kw=_history(night_peak_kw), capacity=capacity
        ),
    )
    inputs = build_plan_inputs(
        NOW,
        spot,
        STATE,
        ControlSettings(allow_v2h=allow_v2h, departure_time=(NOW + timedelta(hours=9)).time()),
        CAPABILITIES,
        context=context,
    )
    assert inputs is not None
    assert inputs.capacity is not None
    assert inputs.capacity.month_target_kwh == expected_kwh
    assert inputs.capacity.future_day_peaks_kwh == pytest.approx(expected_day_peaks_kwh)


def _plugged_in(away_hours: tuple[int, ...], away_days: int) -> tuple[bool, ...]:
    """Return four weeks of plug-in hours: away at `away_hours` on the last `away_days` days."""
    plugged = np.ones((28, 24), dtype=np.bool_)
    if away_days:
        plugged[-away_days:, list(away_hours)] = False
    return tuple(bool(value) for value in plugged.ravel())


@pytest.mark.parametrize(
    ("plugged_in", "expected_kwh", "expected_day_peaks_kwh"),
    [
        pytest.param((), 4.75, (4.75,) * 28, id="presence_unknown_assumed_home"),
        pytest.param(_plugged_in((3,), 0), 4.75, (4.75,) * 28, id="always_home_holds_under_5"),
        # Working hours away, home every night: the nightly 9 kW hour is still shaved.
        pytest.param(
            _plugged_in(tuple(range(8, 17)), 28), 4.75, (4.75,) * 28, id="away_by_day_holds"
        ),
        # Away at 03:00 once: that day's 9 kW alone puts the month over 5 kW, so holding
        # 4.75 on the others buys nothing; the days to come peak like the house's own.
        pytest.param(_plugged_in((3,), 1), None, (9.0,) * 28, id="away_one_night_gives_it_up"),
    ],
)
def test_month_target_counts_only_the_hours_the_car_was_home(
    plugged_in: tuple[bool, ...],
    expected_kwh: float | None,
    expected_day_peaks_kwh: tuple[float, ...],
) -> None:
    model = build_cost_model(
        {"grid_company": "Elvia", "contract": "spot", "tax_zone": "standard"}, {}
    )
    assert model is not None
    spot = SlotSeries.from_array(NOW.replace(hour=0), QUARTER_S, np.full(2 * 96, 0.8))
    capacity = capacity_inputs(model, now_utc=NOW, daily_peaks_kwh={}, running_hour_kwh=0.0)
    context = PlanContext(
        cost_model=model,
        house=HouseContext(
            house_power_w=1500.0,
            history_kw=_history(9.0),
            capacity=capacity,
            plugged_in=plugged_in,
            drive_kwh_per_day=12.0,
        ),
    )
    settings = ControlSettings(departure_time=(NOW + timedelta(hours=9)).time())
    inputs = build_plan_inputs(NOW, spot, STATE, settings, CAPABILITIES, context=context)
    assert inputs is not None
    assert inputs.capacity is not None
    assert inputs.capacity.month_target_kwh == expected_kwh
    assert inputs.capacity.future_day_peaks_kwh == pytest.approx(expected_day_peaks_kwh)


# 23:30 in Oslo on the last day of October: the running hour is October's, the next November's.
MONTH_END = datetime(2026, 10, 31, 22, 30, tzinfo=UTC)
# 01:30 in Oslo on 1 November, with the day before's prices still at the series' start.
MONTH_START = datetime(2026, 11, 1, 0, 30, tzinfo=UTC)
# A home's monthly cap for strømstøtte and Norgespris (kWh).
HOME_CAP_KWH = 5000.0
# 1.50 NOK/kWh spot: strømstøtte pays 90 % of what lies above 0.77, with VAT.
STROMSTOTTE_AT_1_50 = 0.9 * (1.5 - 0.77) * 1.25
# Norgespris pays back what spot costs above 0.40 NOK/kWh, with VAT.
NORGESPRIS_AT_1_50 = (1.5 - 0.4) * 1.25


@pytest.mark.parametrize(
    ("now", "contract", "month_import_kwh", "expected_extra_this_month"),
    [
        pytest.param(MONTH_END, "spot", 4999.0, 0.0, id="spot_under_the_cap_keeps_strømstøtte"),
        pytest.param(
            MONTH_END, "spot", HOME_CAP_KWH, STROMSTOTTE_AT_1_50, id="spot_at_the_cap_loses_it"
        ),
        pytest.param(MONTH_END, "norgespris", 4999.0, 0.0, id="norgespris_under_the_cap"),
        # Past the cap the home pays spot until the month ends.
        pytest.param(
            MONTH_END,
            "norgespris",
            5300.0,
            NORGESPRIS_AT_1_50,
            id="norgespris_past_the_cap_pays_spot",
        ),
        # The capped month is the month of now, not of the series' first slot.
        pytest.param(
            MONTH_START,
            "norgespris",
            HOME_CAP_KWH,
            NORGESPRIS_AT_1_50,
            id="new_month_capped_not_the_one_before",
        ),
    ],
)
def test_monthly_cap_prices_the_rest_of_the_month_without_the_subsidy(
    now: datetime, contract: str, month_import_kwh: float, expected_extra_this_month: float
) -> None:
    """Strømstøtte and Norgespris cover a month's first 5,000 kWh; the plan prices what it sees."""
    model = build_cost_model(
        {"grid_company": "Elvia", "contract": contract, "tax_zone": "standard"}, {}
    )
    assert model is not None
    assert model.monthly_cap_kwh == HOME_CAP_KWH
    # From midnight on the 31st (Oslo): the series starts well before the running hour.
    spot = SlotSeries.from_array(
        datetime(2026, 10, 30, 23, 0, tzinfo=UTC), QUARTER_S, np.full(3 * 96, 1.5)
    )
    inputs = {
        month_kwh: build_plan_inputs(
            now,
            spot,
            STATE,
            ControlSettings(departure_time=(now + timedelta(hours=9)).time()),
            CAPABILITIES,
            context=PlanContext(cost_model=model, month_import_kwh=month_kwh),
        )
        for month_kwh in (0.0, month_import_kwh)
    }
    uncapped, priced = inputs[0.0], inputs[month_import_kwh]
    assert uncapped is not None
    assert priced is not None
    assert priced.start_utc == uncapped.start_utc == now
    extra = np.subtract(priced.import_price_nok_per_kwh, uncapped.import_price_nok_per_kwh)
    month = now.astimezone(OSLO).month
    this_month = np.array(
        [
            (now + timedelta(seconds=QUARTER_S * index)).astimezone(OSLO).month == month
            for index in range(len(extra))
        ]
    )
    assert this_month.any()
    assert (~this_month).any() == (now == MONTH_END)
    np.testing.assert_allclose(extra[this_month], expected_extra_this_month, atol=1e-9)
    # The next month starts again under its cap.
    np.testing.assert_allclose(extra[~this_month], 0.0, atol=1e-9)


def test_house_forecast_keeps_the_morning_on_the_clock_after_it_goes_back() -> None:
    """A house at 5 kW from 07:00 every morning is planned at 07:00 (06:00 UTC) after the change."""
    end = datetime(2024, 10, 28, 0, 0, tzinfo=UTC)  # 01:00 in Oslo, the night after the change
    hours = 28 * 24
    first_hour = end - timedelta(hours=hours)
    history = tuple(
        5.0 if (first_hour + timedelta(hours=hour)).astimezone(OSLO).hour == 7 else 1.0
        for hour in range(hours)
    )
    load, _peak = house_forecast_kw(
        end + timedelta(minutes=5),
        end,
        24 * 4,
        HouseContext(house_power_w=1000.0, history_kw=history),
    )
    by_hour = np.array(load).reshape(24, 4).mean(axis=1)
    assert np.argmax(by_hour) == 6
    assert by_hour[6] == pytest.approx(5.0)
    assert by_hour[5] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("now_utc", "this_month_2_to_5_kw_nok", "next_month_2_to_5_kw_nok"),
    [
        # Elvia's 2025 prices start on 1 January: a plan on New Year's Eve sees them.
        pytest.param(
            datetime(2024, 12, 31, 20, 0, tzinfo=UTC), 230.0, 215.0, id="new_years_eve_2024"
        ),
        # Its 2026 prices start on 1 July.
        pytest.param(datetime(2026, 6, 30, 20, 0, tzinfo=UTC), 190.0, 250.0, id="june_30_2026"),
        # The same table next month: nothing to carry.
        pytest.param(datetime(2025, 12, 31, 20, 0, tzinfo=UTC), 190.0, None, id="same_table"),
        pytest.param(datetime(2025, 10, 15, 20, 0, tzinfo=UTC), 190.0, None, id="mid_month"),
    ],
)
def test_the_next_months_step_table_comes_with_the_capacity_inputs(
    now_utc: datetime,
    this_month_2_to_5_kw_nok: float,
    next_month_2_to_5_kw_nok: float | None,
) -> None:
    """A plan on a month's last day reaches into the next month, which may have new prices."""
    model = build_cost_model(
        {"grid_company": "Elvia", "contract": "spot", "tax_zone": "standard"}, {}
    )
    assert model is not None
    capacity = capacity_inputs(model, now_utc=now_utc, daily_peaks_kwh={}, running_hour_kwh=0.0)
    assert capacity is not None
    assert capacity.step_nok_per_month[1] == pytest.approx(this_month_2_to_5_kw_nok)
    next_month = capacity.next_month_table
    if next_month_2_to_5_kw_nok is None:
        assert next_month is None
        return
    assert next_month is not None
    assert next_month.step_nok_per_month[1] == pytest.approx(next_month_2_to_5_kw_nok)
    assert capacity.for_next_month().step_nok_per_month == next_month.step_nok_per_month
