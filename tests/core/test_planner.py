"""Tests for the smart planner: named scenarios and properties over random inputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest

from custom_components.nordic_v2h.core.planner import (
    OUTLOOK_WEIGHT,
    build_horizon,
    expected_step_cost_nok,
    free_level_kwh,
    hourly_import_kwh,
    plan,
    plan_cheapest,
    plan_cost_nok,
)
from custom_components.nordic_v2h.core.types import (
    CapacityInputs,
    CapacityTable,
    ChargerLimits,
    Decision,
    Plan,
    PlanInputs,
    ReasonKey,
    VehicleState,
)

START = datetime(2024, 10, 7, 12, 0, tzinfo=UTC)
CHARGER = ChargerLimits(min_power_w=1380, max_charge_w=7400, max_discharge_w=7400)
# Elvia's steps from October 2024 (NOK per month incl VAT).
ELVIA = CapacityInputs(
    step_from_kw=(0, 2, 5, 10, 15, 20, 25),
    step_nok_per_month=(140, 230, 375, 525, 675, 820, 1560),
)


def _inputs(
    prices: list[float],
    *,
    soc_pct: float | None = 60.0,
    target_soc_pct: float = 80.0,
    departure_slots: int | None = None,
    load_kw: list[float] | None = None,
    allow_v2h: bool = True,
    capacity: CapacityInputs | None = None,
    max_import_w: float | None = None,
    start: datetime = START,
) -> PlanInputs:
    return PlanInputs(
        now_utc=start,
        start_utc=start,
        import_price_nok_per_kwh=tuple(prices),
        export_price_nok_per_kwh=tuple(0.0 for _ in prices),
        vehicle=VehicleState(
            soc_pct=soc_pct,
            battery_kwh=60.0,
            min_soc_pct=30.0,
            target_soc_pct=target_soc_pct,
            departure_utc=None
            if departure_slots is None
            else start + timedelta(seconds=900 * departure_slots),
        ),
        charger=CHARGER,
        house_load_kw=None if load_kw is None else tuple(load_kw),
        allow_v2h=allow_v2h,
        capacity=capacity,
        max_import_w=max_import_w,
    )


# Eight cheap night hours, then eight expensive evening hours, then cheap again.
DAY_PRICES = [0.5] * 32 + [2.5] * 32 + [0.5] * 32
HOUSE_KW = [2.0] * 96


@pytest.mark.parametrize(
    ("inputs", "decision", "reason"),
    [
        pytest.param(
            _inputs([2.5] * 8 + [0.5] * 88, soc_pct=70.0, departure_slots=96, load_kw=HOUSE_KW),
            Decision.DISCHARGE,
            ReasonKey.COVER_HOUSE_LOAD,
            id="expensive_now_covers_house_and_recharges_later",
        ),
        pytest.param(
            _inputs(
                [2.5] * 8 + [0.5] * 88,
                soc_pct=70.0,
                departure_slots=96,
                load_kw=HOUSE_KW,
                allow_v2h=False,
            ),
            Decision.IDLE,
            ReasonKey.WAITING_FOR_CHEAPER_SLOT,
            id="v2h_off_never_discharges",
        ),
        pytest.param(
            _inputs([2.5] * 8 + [0.5] * 88, soc_pct=None, departure_slots=96, load_kw=HOUSE_KW),
            Decision.IDLE,
            ReasonKey.SOC_UNKNOWN_FULL_CHARGE_ASSUMED,
            id="unknown_soc_never_discharges",
        ),
        pytest.param(
            _inputs(DAY_PRICES, soc_pct=20.0, departure_slots=96, load_kw=HOUSE_KW),
            Decision.CHARGE,
            ReasonKey.BELOW_MIN_SOC,
            id="below_minimum_charges_first",
        ),
        pytest.param(
            _inputs([1.0] * 8, soc_pct=40.0, departure_slots=8, load_kw=[2.0] * 8),
            Decision.CHARGE,
            ReasonKey.TARGET_UNREACHABLE,
            id="unreachable_target_charges_at_once",
        ),
        pytest.param(
            _inputs(
                [1.0] * 16,
                soc_pct=79.9,
                departure_slots=16,
                load_kw=[9.0] * 4 + [1.0] * 12,
                capacity=CapacityInputs(
                    step_from_kw=ELVIA.step_from_kw,
                    step_nok_per_month=ELVIA.step_nok_per_month,
                    month_daily_peaks_kwh=(4.0, 4.2, 4.1, 3.9),
                ),
            ),
            Decision.DISCHARGE,
            ReasonKey.PEAK_SHAVING,
            id="house_spike_above_month_peaks_is_shaved",
        ),
    ],
)
def test_smart_decisions(inputs: PlanInputs, decision: Decision, reason: ReasonKey) -> None:
    result = plan(inputs)
    assert result.decision is decision
    assert result.reason is reason


def test_unreachable_target_reports_shortfall() -> None:
    result = plan(_inputs([1.0] * 8, soc_pct=40.0, departure_slots=8, load_kw=[2.0] * 8))
    # Two hours at 7.4 kW and 92 % store 13.6 kWh of the 24 kWh missing.
    assert result.departure_shortfall_kwh == pytest.approx(24.0 - 2 * 7.4 * 0.92, abs=1e-6)
    assert all(slot.power_w == pytest.approx(7400) for slot in result.slots)


@pytest.mark.parametrize("planner", [plan, plan_cheapest], ids=["smart", "cheapest"])
def test_minimum_power_that_would_overfill_reports_shortfall(
    planner: Callable[[PlanInputs], Plan],
) -> None:
    """0.3 kWh to a full battery in one quarter: the 1.38 kW minimum would store 0.317 kWh."""
    result = planner(_inputs([1.0] * 4, soc_pct=99.5, target_soc_pct=100.0, departure_slots=1))
    assert [slot.power_w for slot in result.slots] == [0.0] * 4
    assert result.departure_shortfall_kwh == pytest.approx(0.3, abs=1e-9)
    assert result.reason is ReasonKey.TARGET_UNREACHABLE


def test_plan_a_few_wh_short_is_topped_up_not_dropped() -> None:
    """The programme's grid leaves its best plan here a few Wh under the target.

    Found by a random search over four-hour inputs. Dropped for falling short, that plan
    lost to one that met the target at a 12.64 kWh hour (83 NOK dearer by the plan's own
    measure); topped up, it meets the target and its highest hour stays at 10.70 kWh.
    """
    prices = [1.3, 1.7, 1.1, 1.7, 1.4, 0.3, 1.7, 1.5, 0.9, 1.4, 1.3, 1.7, 0.7, 1.8, 1.3, 1.0]
    load = [5.0, 1.0, 8.0, 3.0, 6.0, 4.0, 1.0, 4.0, 5.0, 1.0, 4.0, 5.0, 8.0, 8.0, 9.0, 8.0]
    inputs = _inputs(
        prices, soc_pct=46.0, departure_slots=len(prices), load_kw=load, capacity=ELVIA
    )
    result = plan(inputs)
    imports = np.asarray([slot.grid_import_kwh for slot in result.slots])
    hourly = hourly_import_kwh(inputs, build_horizon(inputs), imports)
    assert result.departure_shortfall_kwh == 0.0
    assert max(hourly) == pytest.approx(10.70, abs=0.01)


def test_no_prices_gives_idle_plan() -> None:
    inputs = _inputs([1.0] * 4, departure_slots=20)
    later = PlanInputs(
        now_utc=START + timedelta(hours=2),
        start_utc=inputs.start_utc,
        import_price_nok_per_kwh=inputs.import_price_nok_per_kwh,
        export_price_nok_per_kwh=inputs.export_price_nok_per_kwh,
        vehicle=inputs.vehicle,
        charger=CHARGER,
    )
    result = plan(later)
    assert result.slots == ()
    assert result.reason is ReasonKey.NO_PRICES


def test_smart_never_costs_more_than_cheapest_by_its_own_measure() -> None:
    inputs = _inputs(DAY_PRICES, soc_pct=50.0, departure_slots=90, load_kw=HOUSE_KW, capacity=ELVIA)
    assert plan(inputs).expected_cost_nok <= plan_cheapest(inputs).expected_cost_nok + 1e-9


@pytest.mark.parametrize(
    ("peaks", "today", "pad", "expected"),
    [
        pytest.param((5.0, 6.0, 7.0, 8.0), 1.0, 0.0, 6.0, id="third_highest_finished_day"),
        pytest.param((5.0, 6.0, 7.0, 8.0), 6.5, 0.0, 6.5, id="today_already_higher"),
        pytest.param((9.0,), 1.0, 4.0, 4.0, id="early_month_pads_with_house_peak"),
    ],
)
def test_free_level(peaks: tuple[float, ...], today: float, pad: float, expected: float) -> None:
    capacity = CapacityInputs(
        step_from_kw=(0.0, 5.0),
        step_nok_per_month=(100.0, 200.0),
        month_daily_peaks_kwh=peaks,
        today_peak_kwh=today,
    )
    assert free_level_kwh(capacity, pad) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("level_kw", "expected"),
    [
        pytest.param(0.0, 140.0, id="bottom"),
        # Half the step (230) and half the linear spread toward the next step (302.5).
        pytest.param(3.5, 266.25, id="half_way_through_second_step"),
        pytest.param(40.0, 1560.0, id="above_last_edge_is_flat"),
    ],
)
def test_smooth_capacity_cost(level_kw: float, expected: float) -> None:
    assert ELVIA.smooth_cost_nok(level_kw) == pytest.approx(expected)


# --- properties ------------------------------------------------------------------------

prices_st = st.lists(
    st.floats(min_value=-0.2, max_value=4.0, allow_nan=False), min_size=4, max_size=96
)


@st.composite
def plan_inputs(draw: st.DrawFn) -> PlanInputs:
    """Random but valid plan inputs, with or without capacity, V2H and a departure."""
    prices = draw(prices_st)
    count = len(prices)
    load = draw(
        st.lists(
            st.floats(min_value=0.0, max_value=12.0, allow_nan=False),
            min_size=count,
            max_size=count,
        )
    )
    soc = draw(st.one_of(st.none(), st.floats(min_value=5.0, max_value=100.0)))
    departure = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=count)))
    peaks = tuple(draw(st.lists(st.floats(min_value=0.0, max_value=15.0), min_size=0, max_size=5)))
    capacity = draw(
        st.sampled_from(
            [
                None,
                CapacityInputs(
                    step_from_kw=ELVIA.step_from_kw,
                    step_nok_per_month=ELVIA.step_nok_per_month,
                    month_daily_peaks_kwh=peaks,
                ),
            ]
        )
    )
    return PlanInputs(
        now_utc=START + timedelta(seconds=draw(st.integers(min_value=0, max_value=899))),
        start_utc=START,
        import_price_nok_per_kwh=tuple(prices),
        export_price_nok_per_kwh=tuple(0.5 * p for p in prices),
        vehicle=VehicleState(
            soc_pct=soc,
            battery_kwh=draw(st.sampled_from([40.0, 60.0, 77.0])),
            min_soc_pct=30.0,
            target_soc_pct=draw(st.sampled_from([50.0, 80.0, 100.0])),
            departure_utc=None if departure is None else START + timedelta(seconds=900 * departure),
        ),
        charger=CHARGER,
        house_load_kw=tuple(load),
        allow_v2h=draw(st.booleans()),
        allow_export=False,
        capacity=capacity,
        max_import_w=draw(st.sampled_from([None, 17000.0, 11000.0])),
    )


def _energies(inputs: PlanInputs, powers_w: list[float]) -> list[float]:
    """Replay the stored energy of a plan independently of the planner."""
    horizon = build_horizon(inputs)
    start = (
        inputs.vehicle.soc_pct if inputs.vehicle.soc_pct is not None else inputs.vehicle.min_soc_pct
    )
    energy = start / 100.0 * inputs.vehicle.battery_kwh
    result = []
    for power_w, present_h in zip(powers_w, horizon.present_h, strict=True):
        kw = power_w / 1000.0
        energy += (
            kw
            * present_h
            * (CHARGER.charge_efficiency if kw > 0 else 1 / CHARGER.discharge_efficiency)
        )
        result.append(energy)
    return result


@settings(max_examples=60, deadline=None)
@given(plan_inputs())
def test_plan_properties(inputs: PlanInputs) -> None:
    result = plan(inputs)
    vehicle = inputs.vehicle
    horizon = build_horizon(inputs)
    powers = [slot.power_w for slot in result.slots]
    energies = _energies(inputs, powers)
    start_pct = vehicle.soc_pct if vehicle.soc_pct is not None else vehicle.min_soc_pct
    low = min(vehicle.min_soc_pct, start_pct) / 100.0 * vehicle.battery_kwh
    high = vehicle.max_soc_pct / 100.0 * vehicle.battery_kwh
    for index, (power_w, energy) in enumerate(zip(powers, energies, strict=True)):
        # Power is 0 or within the charger's range in its direction.
        assert power_w == 0 or CHARGER.min_power_w - 1e-6 <= abs(power_w) <= 7400 + 1e-6
        # SoC stays within its bounds; discharging never goes below the minimum.
        assert low - 1e-6 <= energy <= high + 1e-6
        if power_w < 0:
            assert energy >= vehicle.min_soc_pct / 100.0 * vehicle.battery_kwh - 1e-6
            assert vehicle.soc_pct is not None
            assert inputs.allow_v2h
            # No export: discharge covers at most the house.
            assert -power_w / 1000.0 <= horizon.load_kw[index] + 1e-6
        if power_w > 0 and inputs.max_import_w is not None:
            assert power_w + horizon.load_kw[index] * 1000.0 <= inputs.max_import_w + 1e-3
    assert all(slot.grid_export_kwh <= 1e-9 for slot in result.slots)
    # The departure target is met whenever charging at every possible moment meets it.
    if horizon.departure_index is not None:
        best = plan_cheapest(inputs)
        if best.departure_shortfall_kwh == 0.0:
            assert result.departure_shortfall_kwh == 0.0
            assert energies[horizon.departure_index] >= (
                min(vehicle.target_soc_pct, vehicle.max_soc_pct) / 100.0 * vehicle.battery_kwh
                - 1e-6
            )
    # Identical inputs give the identical plan.
    assert plan(inputs) == result


@settings(max_examples=40, deadline=None)
@given(
    load=st.lists(st.floats(min_value=0.0, max_value=6.0), min_size=8, max_size=48),
    peaks=st.lists(st.floats(min_value=7.0, max_value=12.0), min_size=3, max_size=6),
)
def test_car_at_target_never_raises_the_month_peak(load: list[float], peaks: list[float]) -> None:
    """With nothing to charge, the plan keeps every hour under the level that costs nothing."""
    capacity = CapacityInputs(
        step_from_kw=ELVIA.step_from_kw,
        step_nok_per_month=ELVIA.step_nok_per_month,
        month_daily_peaks_kwh=tuple(peaks),
    )
    inputs = _inputs(
        [1.0] * len(load), soc_pct=80.0, departure_slots=len(load), load_kw=load, capacity=capacity
    )
    result = plan(inputs)
    horizon = build_horizon(inputs)
    imports = np.asarray([slot.grid_import_kwh for slot in result.slots])
    hourly = hourly_import_kwh(inputs, horizon, imports)
    free = free_level_kwh(capacity, max(load))
    house_hourly = hourly_import_kwh(inputs, horizon, horizon.load_kw * horizon.duration_h)
    for planned, house in zip(hourly, house_hourly, strict=True):
        assert planned <= max(free, house) + 1e-6


@pytest.mark.parametrize(
    ("soc_pct", "hours_to_departure"),
    [
        pytest.param(75.0, 8, id="expensive_evening_then_cheap_night"),
        pytest.param(80.0, 6, id="starts_at_target_short_stay"),
        pytest.param(90.0, 10, id="starts_above_target_long_stay"),
    ],
)
def test_discharge_keeps_the_departure_reserve(soc_pct: float, hours_to_departure: int) -> None:
    """V2H stops where the target would need more than 30 % of full power to recover."""
    slots = hours_to_departure * 4
    half = slots // 2
    inputs = _inputs(
        [3.0] * half + [0.5] * (slots - half),
        soc_pct=soc_pct,
        departure_slots=slots,
        load_kw=[5.0] * slots,
    )
    result = plan(inputs)
    target_kwh = 48.0
    rate_kw = 0.3 * CHARGER.max_charge_w / 1000.0 * CHARGER.charge_efficiency
    discharged = False
    for index, slot in enumerate(result.slots):
        assert slot.soc_pct_end is not None
        if slot.power_w < 0:
            discharged = True
            left_h = (slots - index - 1) / 4.0
            floor_kwh = max(18.0, target_kwh - left_h * rate_kw)
            assert slot.soc_pct_end / 100.0 * 60.0 >= floor_kwh - 1e-6
    assert discharged
    assert result.departure_shortfall_kwh == 0.0


def _early_month_capacity(month_target_kwh: float | None) -> CapacityInputs:
    """Return Elvia's steps on a month's first day, with or without a month target."""
    return CapacityInputs(
        step_from_kw=ELVIA.step_from_kw,
        step_nok_per_month=ELVIA.step_nok_per_month,
        month_target_kwh=month_target_kwh,
    )


@pytest.mark.parametrize(
    ("month_target_kwh", "shaves"),
    [
        # Later days counted at the house's own 9 kW: today's 9 kW hour changes nothing.
        pytest.param(None, False, id="no_target_early_month_peak_is_free"),
        # Later days held at 4.75 kW: today's 9 kW hour would set the month's step.
        pytest.param(4.75, True, id="month_target_makes_the_first_peak_count"),
    ],
)
def test_month_target_makes_early_peaks_count(month_target_kwh: float | None, shaves: bool) -> None:
    load = [1.0] * 8 + [9.0] * 4 + [1.0] * 36
    inputs = _inputs(
        [1.0] * len(load),
        soc_pct=80.0,
        departure_slots=len(load),
        load_kw=load,
        capacity=_early_month_capacity(month_target_kwh),
    )
    result = plan(inputs)
    peak_hour = [slot.power_w for slot in result.slots[8:12]]
    assert all(power < 0 for power in peak_hour) is shaves
    if shaves:
        assert result.import_threshold_kw is not None
        assert result.import_threshold_kw < 5.0


@pytest.mark.parametrize(
    "finished_days_kwh",
    [
        # 2.3 kW is free; "free + 1" and the target are the other choices.
        pytest.param((8.7, 7.7, 2.3), id="target_among_few_levels"),
        # 2.32 kW is free and holding the 5 kW edge needs 2.89 kW: with "free + 1" that made
        # three levels below the target, and the target was cut (a replay of October 2024:
        # the car at 83 % let an 11.5 kW night hour through).
        pytest.param((9.75, 2.35, 2.32), id="target_kept_beside_a_low_step_edge"),
    ],
)
def test_night_peak_is_held_at_the_month_target_not_below(
    finished_days_kwh: tuple[float, ...],
) -> None:
    """Early in a day the level that raises nothing is low; the plan holds the target instead.

    The days to come are held at 9.75 kW. A two-hour 11.5 kW night peak is shaved to the
    target with 1.75 kW, not to a few kW with most of the car's power (a replay of October
    2024 found that: the car then lacked the energy to hold the next hours), nor let through.
    """
    load = [3.0] * 4 + [11.5] * 8 + [3.0] * 20
    capacity = CapacityInputs(
        step_from_kw=ELVIA.step_from_kw,
        step_nok_per_month=ELVIA.step_nok_per_month,
        month_daily_peaks_kwh=finished_days_kwh,
        month_target_kwh=9.75,
    )
    inputs = _inputs(
        [1.0] * len(load), soc_pct=70.0, departure_slots=len(load), load_kw=load, capacity=capacity
    )
    result = plan(inputs)
    peak_kw = [slot.power_w / 1000.0 for slot in result.slots[4:12]]
    assert result.import_threshold_kw == pytest.approx(9.75, abs=0.01)
    assert peak_kw == pytest.approx([-1.75] * 8, abs=0.01)


@pytest.mark.parametrize(
    ("known_kwh", "days_left", "sample_kwh", "expected_nok"),
    [
        pytest.param([9.8, 9.7, 9.9], 0, (1.0,), 375.0, id="last_day_is_the_exact_step"),
        pytest.param([7.0, 7.0, 7.0], 10, (1.0,), 375.0, id="low_days_to_come_keep_the_step"),
        pytest.param([], 10, (12.0,), 525.0, id="high_days_to_come_set_the_step"),
        # One day left that peaks at 4 or 12 kW alike: the step is 5-10 or 10-15, about half each.
        pytest.param([12.0, 12.0, 4.0], 1, (4.0, 12.0), 450.0, id="one_day_left_either_way"),
    ],
)
def test_expected_step_cost(
    known_kwh: list[float], days_left: int, sample_kwh: tuple[float, ...], expected_nok: float
) -> None:
    capacity = CapacityInputs(
        step_from_kw=ELVIA.step_from_kw,
        step_nok_per_month=ELVIA.step_nok_per_month,
        future_day_peaks_kwh=sample_kwh,
    )
    assert expected_step_cost_nok(capacity, known_kwh, days_left) == pytest.approx(
        expected_nok, abs=20.0
    )


@pytest.mark.parametrize(
    ("sample_kwh", "outlook_rise_nok"),
    [
        # The days to come stay at 11 kW: today's 16 kW hour alone lifts the month from the
        # 10-15 kW step (525 NOK) to 15-20 kW (675 NOK).
        pytest.param((11.0,), 150.0, id="step_holds_unless_today_breaks_it"),
        # The days to come reach 16 kW (the car away at their peaks): the step is lost anyway.
        pytest.param((16.0,), 0.0, id="step_lost_anyway"),
    ],
)
def test_month_outlook_prices_a_peak_by_the_days_to_come(
    sample_kwh: tuple[float, ...], outlook_rise_nok: float
) -> None:
    """A 16 kW hour costs the outlook's step rise mixed with the smoothed step's rise."""
    load = [1.0] * 8 + [16.0] * 4 + [1.0] * 36
    finished = (14.9, 14.9, 11.0)

    def unshaved_rise_nok(sample: tuple[float, ...]) -> float:
        capacity = CapacityInputs(
            step_from_kw=ELVIA.step_from_kw,
            step_nok_per_month=ELVIA.step_nok_per_month,
            month_daily_peaks_kwh=finished,
            future_day_peaks_kwh=sample,
        )
        inputs = _inputs(
            [1.0] * len(load),
            soc_pct=80.0,
            departure_slots=len(load),
            load_kw=load,
            capacity=capacity,
        )
        horizon = build_horizon(inputs)
        shaved = np.zeros(len(load))
        # Down to 11 kW: no day above the finished ones, no capacity cost.
        shaved[8:12] = -5.0
        return plan_cost_nok(inputs, horizon, np.zeros(len(load))) - plan_cost_nok(
            inputs, horizon, shaved
        )

    smooth_rise_nok = ELVIA.smooth_cost_nok((16.0 + 14.9 + 14.9) / 3) - ELVIA.smooth_cost_nok(
        (14.9 + 14.9 + 11.0) / 3
    )
    # What shaving saves besides the capacity (energy, wear) is the same with and without
    # an outlook, so the difference is the outlook's share of the capacity price.
    assert unshaved_rise_nok(sample_kwh) - unshaved_rise_nok(()) == pytest.approx(
        OUTLOOK_WEIGHT * (outlook_rise_nok - smooth_rise_nok)
    )


def test_a_lost_month_target_still_guards_the_house_peak() -> None:
    """The month is already far above its target: the house's own peak still bounds the charge.

    A replay of January 2025 (NO2, BKK, spot): the days to come were held at 9.75 kW while
    the finished days stood at 17.9-20.1 kW. Levels above the target plus a full charge were
    dropped as if no threshold could matter, so the plan charged at full power in the cheap
    hour when the house itself drew 19.2 kW, and that day came to 21.9 kW.
    """
    load = [6.0] * 4 + [19.2] * 4 + [6.0] * 40
    prices = [1.0] * 4 + [0.5] * 4 + [1.0] * 40
    capacity = CapacityInputs(
        step_from_kw=ELVIA.step_from_kw,
        step_nok_per_month=ELVIA.step_nok_per_month,
        month_daily_peaks_kwh=(17.86, 18.0, 20.06),
        month_target_kwh=9.75,
    )
    inputs = _inputs(
        prices, soc_pct=57.0, departure_slots=len(load), load_kw=load, capacity=capacity
    )
    result = plan(inputs)
    horizon = build_horizon(inputs)
    imports = np.asarray([slot.grid_import_kwh for slot in result.slots])
    hourly = hourly_import_kwh(inputs, horizon, imports)
    assert max(hourly) <= 19.2 + 1e-6
    assert result.import_threshold_kw is not None
    assert result.import_threshold_kw <= 19.2 + 1e-6
    assert result.departure_shortfall_kwh == 0.0


# 21:00 on the Oslo clock of 31 October 2024: the plan reaches into November's first night.
LAST_EVENING = datetime(2024, 10, 31, 20, 0, tzinfo=UTC)
# Slots 12-31 are 00:00-05:00 on 1 November, when a heater brings the house to 8 kW.
NOVEMBER_FROM_SLOT = 12


@pytest.mark.parametrize(
    "october_peaks_kwh",
    [
        # October's peaks stand at 9 kW: its last evening has room for the car at full power.
        pytest.param((9.0, 9.0, 9.0), id="october_has_room"),
        # October stands at 5 kW: its last evening has room for a part of the power only.
        pytest.param((5.0, 5.0, 5.0), id="october_is_low"),
    ],
)
def test_the_next_months_first_night_is_not_free(october_peaks_kwh: tuple[float, ...]) -> None:
    """The car does not charge on top of the house's peak in the first hours of a new month.

    Those hours start the next month's capacity count: an hour at 15.4 kW on the 1st would
    count toward November's step as any other day's peak does. The rest of the charge goes
    in on the October evening and after the heater, at the house's 1 kW plus the car's 7.4.
    """
    load = [1.0] * NOVEMBER_FROM_SLOT + [8.0] * 20 + [1.0] * 8
    prices = [1.0] * NOVEMBER_FROM_SLOT + [0.6] * 28
    capacity = CapacityInputs(
        step_from_kw=ELVIA.step_from_kw,
        step_nok_per_month=ELVIA.step_nok_per_month,
        month_daily_peaks_kwh=october_peaks_kwh,
        today_peak_kwh=october_peaks_kwh[0],
    )
    inputs = _inputs(
        prices,
        soc_pct=40.0,
        departure_slots=len(load),
        load_kw=load,
        capacity=capacity,
        start=LAST_EVENING,
    )
    result = plan(inputs)
    horizon = build_horizon(inputs)
    imports = np.asarray([slot.grid_import_kwh for slot in result.slots])
    hourly = hourly_import_kwh(inputs, horizon, imports)
    november = hourly[NOVEMBER_FROM_SLOT // 4 :]
    assert max(november) <= 8.4 + 0.01
    assert result.departure_shortfall_kwh == 0.0


# 00:00 on the Oslo clock of 1 November 2024, and the hour before it.
NOVEMBERS_FIRST_MIDNIGHT = datetime(2024, 10, 31, 23, 0, tzinfo=UTC)
# Days a November house peaked at: what the month's other days are drawn from.
NOVEMBER_DAY_PEAKS_KWH = (4.0, 5.0, 5.5, 6.0, 6.5, 7.0, 9.0)


# November's own step table, half as dear again as October's (new prices from the 1st).
NOVEMBER_TABLE = CapacityTable(
    step_from_kw=ELVIA.step_from_kw,
    step_nok_per_month=tuple(1.5 * nok for nok in ELVIA.step_nok_per_month),
)
CHARGING_FIRST_HOUR = [7.4] * 4 + [0.0] * 4


@pytest.mark.parametrize(
    ("car_kw", "future_day_peaks_kwh", "november_table"),
    [
        # With a sample of days to come, the month outlook prices the step as well.
        pytest.param(CHARGING_FIRST_HOUR, NOVEMBER_DAY_PEAKS_KWH, None, id="charging_with_outlook"),
        pytest.param([0.0] * 4 + [7.4] * 4, NOVEMBER_DAY_PEAKS_KWH, None, id="later_with_outlook"),
        pytest.param([0.0] * 8, NOVEMBER_DAY_PEAKS_KWH, None, id="idle_with_outlook"),
        pytest.param(CHARGING_FIRST_HOUR, (), None, id="charging_smoothed_only"),
        # November's hours are priced with November's steps, also from October.
        pytest.param(
            CHARGING_FIRST_HOUR,
            NOVEMBER_DAY_PEAKS_KWH,
            NOVEMBER_TABLE,
            id="new_prices_with_outlook",
        ),
        pytest.param(CHARGING_FIRST_HOUR, (), NOVEMBER_TABLE, id="new_prices_smoothed_only"),
    ],
)
def test_the_first_hours_of_a_month_cost_the_same_before_and_after_midnight(
    car_kw: list[float],
    future_day_peaks_kwh: tuple[float, ...],
    november_table: CapacityTable | None,
) -> None:
    """November's first two hours add the same capacity cost to a plan made at 23:00 on
    31 October as to one made at 00:00 on 1 November; a plan that changed its price at
    midnight would move the car's charge back and forth across it.

    The October hour before midnight is free: its energy costs nothing, and the house and
    the car at 1 kW stay far under October's peaks.
    """
    november_load_kw = [8.0] * 8
    november_prices = [0.6] * 8
    october = CapacityInputs(
        step_from_kw=ELVIA.step_from_kw,
        step_nok_per_month=ELVIA.step_nok_per_month,
        month_daily_peaks_kwh=(20.0, 20.0, 20.0),
        today_peak_kwh=20.0,
        future_day_peaks_kwh=future_day_peaks_kwh,
        next_month_table=november_table,
    )
    # At midnight November's steps are this month's, and it has no peaks yet.
    november = replace(
        october,
        step_nok_per_month=(november_table or ELVIA).step_nok_per_month,
        month_daily_peaks_kwh=(),
        today_peak_kwh=0.0,
        next_month_table=None,
    )

    def cost_nok(
        start: datetime,
        capacity: CapacityInputs,
        prices: list[float],
        load: list[float],
        power: list[float],
    ) -> float:
        inputs = _inputs(prices, load_kw=load, capacity=capacity, start=start)
        horizon = build_horizon(inputs)
        return plan_cost_nok(inputs, horizon, np.asarray(power, dtype=np.float64))

    from_october = cost_nok(
        NOVEMBERS_FIRST_MIDNIGHT - timedelta(hours=1),
        october,
        [0.0] * 4 + november_prices,
        [0.0] * 4 + november_load_kw,
        [1.0] * 4 + car_kw,
    )
    from_november = cost_nok(
        NOVEMBERS_FIRST_MIDNIGHT, november, november_prices, november_load_kw, car_kw
    )
    assert from_october == pytest.approx(from_november, abs=1e-9)
