"""Tests for the causal replay core: policies, departure targets, safety, price publication."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from custom_components.nordic_v2h.core.backtest import (
    Policy,
    ReplayResult,
    Scenario,
    Session,
    _known_until_index,
    _local_calendar,
    replay,
    shift_by_weeks,
)
from custom_components.nordic_v2h.core.timeseries import OSLO
from custom_components.nordic_v2h.core.types import CapacityTable

# Monday 2024-10-07 00:00 Europe/Oslo, with one week of history before the replay.
START_S = int(datetime(2024, 9, 30, tzinfo=OSLO).timestamp())
SIM_DAYS = 3
HISTORY_SLOTS = 7 * 96
COUNT = HISTORY_SLOTS + (SIM_DAYS + 1) * 96
ELVIA = CapacityTable(
    step_from_kw=(0, 2, 5, 10, 15, 20, 25),
    step_nok_per_month=(140, 230, 375, 525, 675, 820, 1560),
)


def _scenario() -> Scenario:
    """A house with an evening peak, cheap nights and two evening-to-morning stays."""
    hour = (np.arange(COUNT) // 4) % 24
    price = np.where((hour >= 17) & (hour < 21), 2.5, np.where(hour < 6, 0.6, 1.2))
    load = np.where((hour >= 17) & (hour < 20), 7.0, 1.5)
    day_s = 86400
    first_stay = START_S + HISTORY_SLOTS * 900 + 17 * 3600
    sessions = (
        Session(plug_in_s=first_stay, plug_out_s=first_stay + 14 * 3600, energy_kwh=20.0),
        Session(
            plug_in_s=first_stay + day_s, plug_out_s=first_stay + day_s + 14 * 3600, energy_kwh=9.0
        ),
    )
    return Scenario(
        start_s=START_S,
        slot_s=900,
        sim_start_index=HISTORY_SLOTS,
        sim_end_index=HISTORY_SLOTS + SIM_DAYS * 96,
        import_price=price.astype(np.float64),
        export_price=np.zeros(COUNT),
        load_kw=load.astype(np.float64),
        sessions=sessions,
        capacity_for_month=lambda _year, _month: ELVIA,
    )


def _cost(scenario: Scenario, result: ReplayResult) -> float:
    """Energy at the all-in price, wear, and the capacity step of the replayed days."""
    span = slice(scenario.sim_start_index, scenario.sim_end_index)
    energy = float(result.import_kwh @ scenario.import_price[span])
    hourly = result.import_kwh.reshape(-1, 4).sum(axis=1)
    peaks = sorted(hourly.reshape(-1, 24).max(axis=1), reverse=True)[:3]
    measure = sum(peaks) / 3
    step = max(i for i, edge in enumerate(ELVIA.step_from_kw) if measure >= edge)
    return energy + 0.2 * result.v2h_discharged_kwh + ELVIA.step_nok_per_month[step]


@pytest.fixture(scope="module")
def results() -> dict[Policy, ReplayResult]:
    scenario = _scenario()
    return {policy: replay(scenario, policy) for policy in Policy}


@pytest.mark.parametrize("policy", list(Policy), ids=[p.value for p in Policy])
def test_every_policy_meets_departures_safely(
    results: dict[Policy, ReplayResult], policy: Policy
) -> None:
    result = results[policy]
    assert result.unmet_departure_kwh == 0.0
    assert result.min_soc_violations == 0
    assert len(result.car_power_kw) == SIM_DAYS * 96
    # Every stored kWh needed came through the charger at 92 % (immediate stops at target).
    assert result.ev_charged_kwh >= (20.0 + 9.0) / 0.92 - 1e-6
    assert np.all(result.export_kwh == 0.0)


@pytest.mark.parametrize("policy", list(Policy), ids=[p.value for p in Policy])
def test_car_energy_follows_the_charger(
    results: dict[Policy, ReplayResult], policy: Policy
) -> None:
    """The car's stored energy: NaN while away, each quarter's change what the charger did."""
    scenario = _scenario()
    result = results[policy]
    stored = result.car_energy_kwh
    car = result.car_power_kw
    home = ~np.isnan(stored)
    first_home = int(np.argmax(home))
    # Away before the first plug-in (17:00 on the first simulated day) and between stays.
    assert first_home == 17 * 4
    assert not home.all()
    assert np.all(car[~home] == 0.0)
    assert stored[home].min() >= scenario.min_soc_pct / 100 * scenario.battery_kwh - 1e-9
    assert stored[home].max() <= scenario.battery_kwh + 1e-9
    # Arrival: the target less what the stay charged in reality (20 kWh), then the first quarter.
    first_step = car[first_home] * 0.25 * (0.92 if car[first_home] > 0 else 1 / 0.92)
    assert stored[first_home] == pytest.approx(48.0 - 20.0 + first_step)
    both = home[1:] & home[:-1]
    change = np.diff(stored)[both]
    power = car[1:][both]
    expected = np.where(power > 0, power * 0.92, power / 0.92) * 0.25
    np.testing.assert_allclose(change, expected, atol=1e-9)
    # Each stay ends at the target (80 % of 60 kWh).
    departures = np.nonzero(home[:-1] & ~home[1:])[0]
    assert len(departures) == 2
    assert np.all(stored[departures] >= 48.0 - 1e-6)


def test_only_smart_discharges(results: dict[Policy, ReplayResult]) -> None:
    assert results[Policy.IMMEDIATE].v2h_discharged_kwh == 0.0
    assert results[Policy.CHEAPEST].v2h_discharged_kwh == 0.0
    assert results[Policy.SMART].v2h_discharged_kwh > 0.0


def test_costs_are_ordered(results: dict[Policy, ReplayResult]) -> None:
    scenario = _scenario()
    immediate = _cost(scenario, results[Policy.IMMEDIATE])
    cheapest = _cost(scenario, results[Policy.CHEAPEST])
    smart = _cost(scenario, results[Policy.SMART])
    assert cheapest < immediate
    assert smart < cheapest


def test_plans_are_timed(results: dict[Policy, ReplayResult]) -> None:
    assert results[Policy.SMART].plan_ms
    assert results[Policy.IMMEDIATE].plan_ms == ()
    assert results[Policy.SMART].forecast_mae_kw is not None


@pytest.mark.parametrize(
    ("local_hour", "known_days"),
    [
        pytest.param(0, 1, id="night_knows_today"),
        pytest.param(12, 1, id="noon_knows_today"),
        pytest.param(13, 2, id="after_13_knows_tomorrow"),
        pytest.param(23, 2, id="late_evening_knows_tomorrow"),
    ],
)
def test_prices_known_from_13_local(local_hour: int, known_days: int) -> None:
    count = 4 * 96
    day, _, hour = _local_calendar(START_S, 900, count)
    known = _known_until_index(day, hour, count)
    index = 96 + local_hour * 4
    assert known[index] == 96 * (1 + known_days)


@pytest.mark.parametrize(
    ("moment", "weeks"),
    [
        pytest.param(datetime(2018, 2, 6, 19, 18, tzinfo=UTC), 347, id="winter_to_summer"),
        pytest.param(datetime(2018, 7, 3, 6, 0, tzinfo=UTC), 330, id="summer_to_winter"),
    ],
)
def test_shift_keeps_weekday_and_local_clock(moment: datetime, weeks: int) -> None:
    moved = shift_by_weeks(moment, weeks)
    before, after = moment.astimezone(OSLO), moved.astimezone(OSLO)
    assert after.weekday() == before.weekday()
    assert (after.hour, after.minute) == (before.hour, before.minute)


def test_perfect_load_forecast_measures_what_the_forecast_costs() -> None:
    """An unseen 10 kW night block: the causal forecast shaves it in part, foresight need not."""
    scenario = _scenario()
    load = scenario.load_kw.copy()
    block = HISTORY_SLOTS + 96 + 4  # 01:00 on the second replayed night, for two hours
    load[block : block + 8] = 10.0
    scenario = replace(scenario, load_kw=load)
    causal = replay(scenario, Policy.SMART)
    foresight = replay(replace(scenario, perfect_load_forecast=True), Policy.SMART)
    assert causal.forecast_mae_kw is not None
    assert foresight.forecast_mae_kw is None
    # Both stay in the 5-10 kW step; the causal one spends on shaving a block it did not foresee.
    assert _cost(scenario, foresight) < _cost(scenario, causal)
    assert foresight.v2h_discharged_kwh < causal.v2h_discharged_kwh


def test_temperature_lets_the_forecast_see_a_cold_spell_coming() -> None:
    """A house heated by the weather: a frost arrives with the replay, unseen in the profile.

    The history's mild days teach the heating slope; with the temperatures the forecast
    raises the frosty days' load before they happen, without them it only follows.
    """
    scenario = _scenario()
    day = np.arange(COUNT) // 96
    # Mild days that differ (so a slope can be fitted), then -12 °C from the replay on.
    daily_c = np.where(day < 7, 6.0 + 4.0 * np.sin(day * 1.7), -12.0)
    temperature = daily_c.astype(np.float64)
    load = scenario.load_kw + 0.3 * np.maximum(15.0 - temperature, 0.0)
    scenario = replace(scenario, load_kw=load)
    blind = replay(scenario, Policy.SMART)
    seeing = replay(replace(scenario, temperature_c=temperature), Policy.SMART)
    assert blind.forecast_mae_kw is not None
    assert seeing.forecast_mae_kw is not None
    assert seeing.forecast_mae_kw < 0.5 * blind.forecast_mae_kw
    assert seeing.unmet_departure_kwh == 0.0
    assert seeing.min_soc_violations == 0
