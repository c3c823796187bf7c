"""The hard safety limits on every setpoint."""

from __future__ import annotations

import pytest

from custom_components.nordic_v2h.core.safety import LimitReason, SafetyLimits, apply_safety

LIMITS = SafetyLimits(
    min_power_w=1380,
    max_charge_power_w=7400,
    max_discharge_power_w=7400,
    min_soc_pct=30.0,
    max_soc_pct=100.0,
    allow_discharge=True,
    max_import_w=11000.0,
)


@pytest.mark.parametrize(
    ("requested_w", "kwargs", "expected_w", "expected_reason"),
    [
        pytest.param(5000, {}, 5000, LimitReason.NONE, id="charge_within_limits_passes"),
        pytest.param(-5000, {}, -5000, LimitReason.NONE, id="discharge_within_limits_passes"),
        pytest.param(0, {}, 0, LimitReason.NONE, id="zero_passes"),
        pytest.param(
            5000, {"plugged_in": False}, 0, LimitReason.NOT_PLUGGED_IN, id="no_car_no_power"
        ),
        pytest.param(
            -5000, {"soc_pct": None}, 0, LimitReason.SOC_UNKNOWN, id="unknown_soc_never_discharges"
        ),
        pytest.param(5000, {"soc_pct": None}, 5000, LimitReason.NONE, id="unknown_soc_may_charge"),
        pytest.param(
            -5000, {"soc_pct": 30.0}, 0, LimitReason.MIN_SOC_REACHED, id="min_soc_inclusive_stops"
        ),
        pytest.param(
            -5000, {"soc_pct": 12.0}, 0, LimitReason.MIN_SOC_REACHED, id="below_min_soc_stops"
        ),
        pytest.param(
            5000, {"soc_pct": 100.0}, 0, LimitReason.MAX_SOC_REACHED, id="full_car_stops_charging"
        ),
        pytest.param(9000, {}, 7400, LimitReason.CHARGER_MAXIMUM, id="charge_capped_at_maximum"),
        pytest.param(
            -9000, {}, -7400, LimitReason.CHARGER_MAXIMUM, id="discharge_capped_at_maximum"
        ),
        pytest.param(800, {}, 0, LimitReason.BELOW_MINIMUM_POWER, id="below_6a_charge_is_zero"),
        pytest.param(-800, {}, 0, LimitReason.BELOW_MINIMUM_POWER, id="below_6a_discharge_is_zero"),
        pytest.param(
            7400,
            {"house_power_w": 6000.0},
            5000,
            LimitReason.MAIN_FUSE,
            id="fuse_leaves_room_for_the_house",
        ),
        pytest.param(
            7400,
            {"house_power_w": 12000.0, "current_charger_power_w": 7000.0},
            6000,
            LimitReason.MAIN_FUSE,
            id="fuse_counts_the_charger_already_in_the_meter",
        ),
        pytest.param(
            7400,
            # The house draws 11 kW, 7 kW of it from the car: switching to charge adds 7.4 kW.
            {"house_power_w": 4000.0, "current_charger_power_w": -7000.0},
            0,
            LimitReason.MAIN_FUSE,
            id="fuse_counts_the_discharge_hidden_in_the_meter",
        ),
        pytest.param(
            7400,
            {"house_power_w": 1000.0, "current_charger_power_w": -5000.0},
            5000,
            LimitReason.MAIN_FUSE,
            id="fuse_room_after_a_discharge_is_what_the_house_leaves",
        ),
        pytest.param(
            7400,
            {"house_power_w": 10500.0},
            0,
            LimitReason.MAIN_FUSE,
            id="fuse_room_below_minimum_stops",
        ),
        pytest.param(
            -7400,
            {"house_power_w": 20000.0},
            -7400,
            LimitReason.NONE,
            id="fuse_never_limits_discharge",
        ),
        pytest.param(
            7400,
            {"house_power_w": None},
            1380,
            LimitReason.HOUSE_POWER_UNKNOWN,
            id="fuse_with_the_house_draw_unknown_charges_at_the_minimum",
        ),
        pytest.param(
            1000,
            {"house_power_w": None},
            0,
            LimitReason.BELOW_MINIMUM_POWER,
            id="fuse_with_the_house_draw_unknown_below_minimum_is_zero",
        ),
        pytest.param(
            -7400,
            {"house_power_w": None},
            -7400,
            LimitReason.NONE,
            id="fuse_with_the_house_draw_unknown_never_limits_discharge",
        ),
    ],
)
def test_apply_safety(
    requested_w: float, kwargs: dict[str, object], expected_w: int, expected_reason: LimitReason
) -> None:
    arguments: dict[str, object] = {
        "plugged_in": True,
        "soc_pct": 60.0,
        "house_power_w": 0.0,
        **kwargs,
    }
    result = apply_safety(requested_w, limits=LIMITS, **arguments)  # type: ignore[arg-type]
    assert (result.power_w, result.limited_by) == (expected_w, expected_reason)


def test_discharge_refused_when_not_allowed() -> None:
    limits = SafetyLimits(
        min_power_w=1380,
        max_charge_power_w=7400,
        max_discharge_power_w=7400,
        min_soc_pct=30.0,
        allow_discharge=False,
    )
    result = apply_safety(-5000, limits=limits, plugged_in=True, soc_pct=80.0)
    assert (result.power_w, result.limited_by) == (0, LimitReason.V2H_NOT_ALLOWED)


def test_without_a_fuse_limit_an_unknown_house_draw_limits_nothing() -> None:
    limits = SafetyLimits(
        min_power_w=1380, max_charge_power_w=7400, max_discharge_power_w=7400, min_soc_pct=30.0
    )
    result = apply_safety(7400, limits=limits, plugged_in=True, soc_pct=60.0, house_power_w=None)
    assert (result.power_w, result.limited_by) == (7400, LimitReason.NONE)
