"""Tests for the cheapest-slots planner (charge only, ev_smart_charging approach)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.nordic_v2h.core.planner import plan, plan_cheapest
from custom_components.nordic_v2h.core.types import (
    ChargerLimits,
    Decision,
    PlanInputs,
    ReasonKey,
    VehicleState,
)

START = datetime(2024, 10, 7, 12, 0, tzinfo=UTC)
CHARGER = ChargerLimits(min_power_w=1380, max_charge_w=7400, max_discharge_w=7400)


def _inputs(
    prices: list[float],
    *,
    soc_pct: float | None = 50.0,
    target_soc_pct: float = 80.0,
    departure_slots: int | None = None,
    now_offset_s: int = 0,
    house_load_kw: list[float] | None = None,
    max_import_w: float | None = None,
    min_soc_pct: float = 30.0,
) -> PlanInputs:
    vehicle = VehicleState(
        soc_pct=soc_pct,
        battery_kwh=60.0,
        min_soc_pct=min_soc_pct,
        target_soc_pct=target_soc_pct,
        departure_utc=None
        if departure_slots is None
        else START + timedelta(seconds=900 * departure_slots),
    )
    return PlanInputs(
        now_utc=START + timedelta(seconds=now_offset_s),
        start_utc=START,
        import_price_nok_per_kwh=tuple(prices),
        export_price_nok_per_kwh=tuple(0.0 for _ in prices),
        vehicle=vehicle,
        charger=CHARGER,
        house_load_kw=None if house_load_kw is None else tuple(house_load_kw),
        max_import_w=max_import_w,
    )


# 7.4 kW for a quarter at 92 % stores 1.702 kWh; 1.8 kWh (3 %) needs two quarters.
PRICES = [3.0, 1.0, 2.0, 0.5, 4.0, 0.8, 5.0, 6.0]


@pytest.mark.parametrize(
    ("inputs", "charging_slots", "decision", "reason"),
    [
        pytest.param(
            _inputs(PRICES, soc_pct=77.0, departure_slots=8),
            [3, 5],
            Decision.IDLE,
            ReasonKey.WAITING_FOR_CHEAPER_SLOT,
            id="two_cheapest_slots_before_departure",
        ),
        pytest.param(
            _inputs(PRICES, soc_pct=77.0, departure_slots=4),
            [1, 3],
            Decision.IDLE,
            ReasonKey.WAITING_FOR_CHEAPER_SLOT,
            id="departure_excludes_cheap_slot_after_it",
        ),
        pytest.param(
            _inputs([0.5, *PRICES[1:]], soc_pct=77.0, departure_slots=8),
            [0, 3],
            Decision.CHARGE,
            ReasonKey.CHEAPEST_SLOT,
            id="equal_price_ties_charge_earlier",
        ),
        pytest.param(
            _inputs(PRICES, soc_pct=85.0, departure_slots=8),
            [],
            Decision.IDLE,
            ReasonKey.TARGET_REACHED,
            id="above_target_nothing_to_do",
        ),
        pytest.param(
            _inputs(PRICES, soc_pct=20.0, departure_slots=8),
            [0, 1, 2, 3, 4, 5, 6, 7],
            Decision.CHARGE,
            ReasonKey.BELOW_MIN_SOC,
            id="below_min_soc_charges_at_once",
        ),
        pytest.param(
            _inputs(PRICES, soc_pct=60.0, departure_slots=3),
            [0, 1, 2],
            Decision.CHARGE,
            ReasonKey.TARGET_UNREACHABLE,
            id="unreachable_target_charges_every_slot",
        ),
        pytest.param(
            _inputs(PRICES, soc_pct=None, departure_slots=8),
            [0, 1, 2, 3, 4, 5, 6, 7],
            Decision.CHARGE,
            ReasonKey.SOC_UNKNOWN_FULL_CHARGE_ASSUMED,
            id="unknown_soc_plans_full_charge_from_minimum",
        ),
        pytest.param(
            _inputs(PRICES, soc_pct=77.0),
            [3, 5],
            Decision.IDLE,
            ReasonKey.WAITING_FOR_CHEAPER_SLOT,
            id="no_departure_uses_cheapest_known_slots",
        ),
        pytest.param(
            _inputs(
                PRICES,
                soc_pct=77.0,
                departure_slots=8,
                house_load_kw=[0.0, 0.0, 0.0, 10.0, 0, 0, 0, 0],
                max_import_w=11000,
            ),
            [1, 5],
            Decision.IDLE,
            ReasonKey.WAITING_FOR_CHEAPER_SLOT,
            id="main_fuse_leaves_too_little_room_in_cheapest_slot",
        ),
    ],
)
def test_cheapest_slots(
    inputs: PlanInputs, charging_slots: list[int], decision: Decision, reason: ReasonKey
) -> None:
    plan = plan_cheapest(inputs)
    assert [i for i, slot in enumerate(plan.slots) if slot.power_w > 0] == charging_slots
    assert plan.decision is decision
    assert plan.reason is reason
    assert all(slot.power_w >= 0 for slot in plan.slots)


@pytest.mark.parametrize(
    ("soc_pct", "departure_slots", "expected_end_pct"),
    [
        pytest.param(70.0, 96, 80.0, id="exact_target_reached"),
        pytest.param(40.0, 96, 80.0, id="large_charge_reaches_target"),
        pytest.param(79.5, 96, 80.0, id="tiny_charge_rounds_up_to_minimum_power"),
    ],
)
def test_target_met_and_power_limits(
    soc_pct: float, departure_slots: int, expected_end_pct: float
) -> None:
    prices = [1.0 + (i * 7919 % 13) / 10 for i in range(96)]
    plan = plan_cheapest(_inputs(prices, soc_pct=soc_pct, departure_slots=departure_slots))
    end = plan.slots[-1].soc_pct_end
    assert end is not None
    assert end >= expected_end_pct - 1e-6
    # The minimum-power round-up may overshoot by at most one minimum-power quarter.
    assert end <= expected_end_pct + 1.38 * 0.25 * 0.92 / 60 * 100 + 1e-6
    for slot in plan.slots:
        assert slot.power_w == 0 or 1380 - 1e-6 <= slot.power_w <= 7400 + 1e-6
    assert plan.departure_shortfall_kwh == 0.0


def test_partial_first_slot_and_soc_unknown_keeps_soc_unknown() -> None:
    plan = plan_cheapest(_inputs(PRICES, soc_pct=None, departure_slots=8, now_offset_s=450))
    assert plan.slots[0].duration_s == 450
    assert all(slot.soc_pct_end is None for slot in plan.slots)
    assert plan.soc_assumed


@pytest.mark.parametrize(
    ("now_offset_s", "reason"),
    [
        pytest.param(8 * 900, ReasonKey.NO_PRICES, id="now_after_last_price"),
        pytest.param(9 * 900, ReasonKey.NO_PRICES, id="now_well_after_prices"),
    ],
)
def test_no_prices_left(now_offset_s: int, reason: ReasonKey) -> None:
    plan = plan_cheapest(_inputs(PRICES, departure_slots=20, now_offset_s=now_offset_s))
    assert plan.slots == ()
    assert plan.decision is Decision.IDLE
    assert plan.reason is reason


@pytest.mark.parametrize("planner", [plan_cheapest, plan], ids=["cheapest", "smart"])
def test_departure_in_the_past_is_reported(planner: object) -> None:
    inputs = _inputs(PRICES, soc_pct=77.0, departure_slots=1, now_offset_s=1800)
    result = planner(inputs)  # type: ignore[operator]
    assert result.reason is ReasonKey.DEPARTURE_PASSED
    # The target is still reached in the cheapest known slots.
    assert sum(1 for slot in result.slots if slot.power_w > 0) >= 1


def test_expected_cost_counts_charged_energy() -> None:
    plan = plan_cheapest(_inputs(PRICES, soc_pct=77.0, departure_slots=8))
    charged = [(slot.grid_import_kwh, PRICES[i]) for i, slot in enumerate(plan.slots)]
    assert plan.expected_cost_nok == pytest.approx(sum(k * p for k, p in charged))
    assert plan.expected_cost_nok > 0
