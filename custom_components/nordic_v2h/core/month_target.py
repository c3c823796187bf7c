"""The month's capacity target: the daily peak worth holding on the days still to come.

A plan sees a day and a half ahead, but the capacity step is set by the month's three
highest days. Without a month-level view the planner counts the days to come at the
house's own forecast peak, so early in a month it lets the first days set a high step
that V2H could have avoided. This module looks at the past weeks of house load and,
for each step edge, replays how the car would have had to discharge to keep every hour
just below that edge; it picks the edge whose step price plus the energy spent shaving
is lowest. The planner then counts the days to come at that level.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import TYPE_CHECKING, Final

import numpy as np

from .planner import top3_mean

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .types import CapacityInputs

HOURS_PER_DAY: Final = 24
# Four weeks: long enough to contain a month's three highest days, short enough to
# follow the season.
DEFAULT_DAYS: Final = 28
# Fewer finished days than this say too little about the house's peaks.
MIN_DAYS: Final = 7
# The target sits this far below the step edge: the hour guard works on a forecast and a
# measured hour may overshoot its threshold by a little.
DEFAULT_MARGIN_KW: Final = 0.25
# NOK per kWh discharged only to shave a peak: wear plus the round-trip losses of energy
# bought back at an ordinary price.
DEFAULT_SHAVE_COST_NOK_PER_KWH: Final = 0.35
# Shaving replayed over the history is scaled to a month of this many days.
AVERAGE_MONTH_DAYS: Final = 30.4


# Share of the energy shaved that comes back after charging it in and out of the car.
DEFAULT_ROUND_TRIP_EFFICIENCY: Final = 0.92 * 0.92
# A day that cannot recharge what holding the level takes holds the next level up instead;
# levels are tried in steps of this size.
LEVEL_STEP_KW: Final = 0.25


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetOption:
    """One candidate level and what holding it would have cost over the past weeks.

    `day_peaks_kw` holds each past day's highest hour as it would have been: at the level
    where the car was home and could recharge what it took, at the house's own peak where
    it was away. They are the planner's sample of what a day to come may peak at.
    """

    level_kw: float
    measure_kw: float
    step_nok: float
    shaved_kwh_per_month: float
    total_nok: float
    day_peaks_kw: tuple[float, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Car:
    """What the car can do for the house, per hour, while it is home."""

    max_discharge_kw: float
    max_charge_kw: float
    min_power_kw: float
    round_trip_efficiency: float
    drive_kwh_per_day: float


def _held_days(
    load: NDArray[np.float64], home: NDArray[np.bool_], level_kw: float, car: _Car
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return per day (rows of 24 hours) the highest hour and the energy shaved.

    Each day first tries `level_kw`; where the hours under the level of that day and the
    next cannot recharge what the shaving took plus the day's driving, the day tries the
    next level up, until the house's own peak (where nothing is shaved).
    """
    natural = load.max(axis=1)
    tries = np.arange(level_kw, float(natural.max()) + LEVEL_STEP_KW, LEVEL_STEP_KW)
    # (level, day, hour): the discharge to stay under each level, the room to recharge.
    levels = tries[:, None, None]
    excess = load[None] - levels
    shave = np.where(
        home[None] & (excess > 0),
        np.minimum(np.maximum(excess, car.min_power_kw), car.max_discharge_kw),
        0.0,
    )
    room = np.where(
        home[None] & (-excess >= car.min_power_kw), np.minimum(-excess, car.max_charge_kw), 0.0
    )
    shaved = shave.sum(axis=2)
    needed = shaved / car.round_trip_efficiency + np.where(shaved > 0, car.drive_kwh_per_day, 0.0)
    day_room = room.sum(axis=2)
    # The battery carries energy over a night: what a day shaves may be charged back that
    # day or the next. After the last day the next is unknown: an average day's room.
    next_room = np.concatenate([day_room[:, 1:], day_room.mean(axis=1, keepdims=True)], axis=1)
    feasible = (needed <= day_room + next_room + 1e-9) | (shaved <= 0)
    # The first level each day can hold; the house's own peak always can (nothing shaved).
    chosen = np.argmax(feasible, axis=0)
    chosen[~feasible.any(axis=0)] = len(tries) - 1
    days = np.arange(load.shape[0])
    peaks = (load[None] - shave).max(axis=2)[chosen, days]
    used = shaved[chosen, days]
    held_nothing = ~feasible[chosen, days]
    peaks[held_nothing] = natural[held_nothing]
    used[held_nothing] = 0.0
    return peaks, used


def target_options(
    history_kw: NDArray[np.float64],
    table: CapacityInputs,
    *,
    max_discharge_kw: float,
    min_power_kw: float,
    present: NDArray[np.bool_] | None = None,
    days: int = DEFAULT_DAYS,
    margin_kw: float = DEFAULT_MARGIN_KW,
    shave_cost_nok_per_kwh: float = DEFAULT_SHAVE_COST_NOK_PER_KWH,
    max_charge_kw: float | None = None,
    round_trip_efficiency: float = DEFAULT_ROUND_TRIP_EFFICIENCY,
    drive_kwh_per_day: float = 0.0,
) -> list[TargetOption]:
    """Return every candidate level with its replayed cost; the last one is no target at all.

    `history_kw` holds the house's mean power (without the car) of past clock hours,
    oldest first; `present` says per hour whether the car was plugged in (None: always).
    The history is cut into 24-hour blocks ending with its last hour; missing hours (NaN)
    count as zero draw. What a day shaves must fit back into the car in the hours under the
    level of that day and the next (with the driving it needs, `drive_kwh_per_day`, as
    grid energy).
    Empty when there are fewer than `MIN_DAYS` blocks.
    """
    history = np.nan_to_num(np.asarray(history_kw, dtype=np.float64), nan=0.0).clip(min=0.0)
    blocks = min(len(history) // HOURS_PER_DAY, days)
    if blocks < MIN_DAYS:
        return []
    hours = blocks * HOURS_PER_DAY
    load = history[-hours:].reshape(blocks, HOURS_PER_DAY)
    home: NDArray[np.bool_] = (
        np.ones(hours, dtype=np.bool_)
        if present is None
        else np.asarray(present, dtype=np.bool_)[-hours:]
    )
    if len(home) != hours:
        raise ValueError("presence must align with the load history")
    car = _Car(
        max_discharge_kw=max_discharge_kw,
        max_charge_kw=max_discharge_kw if max_charge_kw is None else max_charge_kw,
        min_power_kw=min_power_kw,
        round_trip_efficiency=round_trip_efficiency,
        drive_kwh_per_day=drive_kwh_per_day,
    )
    scale = AVERAGE_MONTH_DAYS / blocks
    natural_days = load.max(axis=1)
    natural = top3_mean(natural_days.tolist())
    options: list[TargetOption] = []
    for edge_kw in table.step_from_kw:
        level_kw = edge_kw - margin_kw
        if level_kw <= 0 or level_kw >= natural:
            continue
        peaks, shaved_kwh = _held_days(load, home.reshape(blocks, HOURS_PER_DAY), level_kw, car)
        measure = top3_mean([float(value) for value in peaks])
        shaved = float(shaved_kwh.sum()) * scale
        step = table.step_cost_nok(measure)
        options.append(
            TargetOption(
                level_kw=level_kw,
                measure_kw=measure,
                step_nok=step,
                shaved_kwh_per_month=shaved,
                total_nok=step + shave_cost_nok_per_kwh * shaved,
                day_peaks_kw=tuple(round(float(value), 3) for value in peaks),
            )
        )
    step = table.step_cost_nok(natural)
    options.append(
        TargetOption(
            level_kw=math.inf,
            measure_kw=natural,
            step_nok=step,
            shaved_kwh_per_month=0.0,
            total_nok=step,
            day_peaks_kw=tuple(round(float(value), 3) for value in natural_days),
        )
    )
    return options


def month_outlook(
    history_kw: NDArray[np.float64],
    table: CapacityInputs,
    *,
    max_discharge_kw: float,
    min_power_kw: float,
    present: NDArray[np.bool_] | None = None,
    days: int = DEFAULT_DAYS,
    drive_kwh_per_day: float = 0.0,
) -> TargetOption | None:
    """Return the cheapest option to hold on the days to come, or None without enough history.

    On a tie the higher level (less shaving) wins. None when the history is too short or
    the car cannot discharge.
    """
    if max_discharge_kw <= 0 or max_discharge_kw < min_power_kw:
        return None
    options = target_options(
        history_kw,
        table,
        max_discharge_kw=max_discharge_kw,
        min_power_kw=min_power_kw,
        present=present,
        days=days,
        drive_kwh_per_day=drive_kwh_per_day,
    )
    if not options:
        return None
    return min(options, key=lambda option: (round(option.total_nok, 6), -option.level_kw))


def month_target_kw(
    history_kw: NDArray[np.float64],
    table: CapacityInputs,
    *,
    max_discharge_kw: float,
    min_power_kw: float,
    present: NDArray[np.bool_] | None = None,
    days: int = DEFAULT_DAYS,
) -> float | None:
    """Return the daily peak (kWh/h) the days to come should be held at, or None for no target.

    None also when no level pays for its shaving.
    """
    best = month_outlook(
        history_kw,
        table,
        max_discharge_kw=max_discharge_kw,
        min_power_kw=min_power_kw,
        present=present,
        days=days,
    )
    if best is None or math.isinf(best.level_kw):
        return None
    return round(best.level_kw, 3)
