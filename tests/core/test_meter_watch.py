"""A house meter stuck on its last value is caught by the car's power moving and the meter not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.nordic_v2h.core.meter_watch import MeterWatch

START = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)

# One observation: (second after START, meter W or None, second the meter last changed or
# None, the car's W or None).
type Observation = tuple[int, float | None, int | None, float | None]


def _watch(observations: list[Observation]) -> list[bool]:
    """Feed the observations in order; return the judgement after each."""
    watch = MeterWatch()
    judgements = []
    for second, meter_w, changed_second, car_w in observations:
        changed = None if changed_second is None else START + timedelta(seconds=changed_second)
        judgements.append(
            watch.observe(
                START + timedelta(seconds=second),
                meter_w=meter_w,
                meter_changed_utc=changed,
                car_w=car_w,
            )
        )
    return judgements


@pytest.mark.parametrize(
    ("observations", "expected"),
    [
        pytest.param(
            [(0, 2000.0, 0, 0.0), (10, 2000.0, 0, 7400.0), (309, 2000.0, 0, 7400.0)],
            [False, False, False],
            id="car_moved_4_59_ago_not_yet",
        ),
        pytest.param(
            [(0, 2000.0, 0, 0.0), (10, 2000.0, 0, 7400.0), (310, 2000.0, 0, 7400.0)],
            [False, False, True],
            id="car_moved_5_minutes_ago_meter_did_not",
        ),
        pytest.param(
            [(0, 2000.0, 0, 0.0), (10, 2000.0, 0, 7400.0), (310, 9400.0, 15, 7400.0)],
            [False, False, False],
            id="meter_followed_the_car",
        ),
        pytest.param(
            [(0, 2000.0, 0, 0.0), (10, 2000.0, 0, 1400.0), (400, 2000.0, 0, 1400.0)],
            [False, False, False],
            id="car_step_below_1_5_kw_is_not_judged",
        ),
        pytest.param(
            [(0, 3000.0, 0, 7400.0), (10, 3000.0, 0, 0.0), (310, 3000.0, 0, 0.0)],
            [False, False, True],
            id="car_stopping_is_a_move_too",
        ),
        pytest.param(
            [(0, 0.0, 0, 0.0), (10, 0.0, 0, 3000.0), (400, 0.0, 0, 3000.0)],
            [False, False, False],
            id="import_only_meter_at_zero_while_exporting",
        ),
        pytest.param(
            [(0, -2500.0, 0, 0.0), (10, -2500.0, 0, 3000.0), (310, -2500.0, 0, 3000.0)],
            [False, False, True],
            id="two_way_meter_exporting_is_judged",
        ),
        pytest.param(
            [
                (0, 2000.0, 0, 0.0),
                (10, 2000.0, 0, 7400.0),
                (200, 2000.0, 0, 500.0),
                (250, 2000.0, 0, 7400.0),
                (540, 2000.0, 0, 7400.0),
            ],
            [False, False, False, False, False],
            id="car_back_near_where_it_was_starts_the_wait_again",
        ),
        pytest.param(
            [
                (0, 2000.0, 0, 0.0),
                (10, 2000.0, 0, 7400.0),
                (310, 2000.0, 0, 7400.0),
                (320, 2000.0, 0, 1380.0),
                (330, 2000.0, 0, 0.0),
            ],
            [False, False, True, True, True],
            id="stuck_stays_stuck_when_the_car_falls_back",
        ),
        pytest.param(
            [
                (0, 2000.0, 0, 0.0),
                (10, 2000.0, 0, 7400.0),
                (310, 2000.0, 0, 7400.0),
                (320, 9400.0, 318, 7400.0),
            ],
            [False, False, True, False],
            id="a_changed_value_ends_the_judgement",
        ),
        pytest.param(
            [(0, 2000.0, 0, 0.0), (10, None, None, 7400.0), (310, 2000.0, 0, 7400.0)],
            [False, False, False],
            id="no_reading_starts_afresh",
        ),
        pytest.param(
            [(0, 2000.0, 0, 0.0), (10, 2000.0, 0, 7400.0), (310, 2000.0, 0, None)],
            [False, False, False],
            id="no_car_reading_judges_nothing",
        ),
    ],
)
def test_meter_watch(observations: list[Observation], expected: list[bool]) -> None:
    assert _watch(observations) == expected
