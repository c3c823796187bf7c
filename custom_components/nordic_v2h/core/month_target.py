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


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetOption:
    """One candidate level and what holding it would have cost over the past weeks."""

    level_kw: float
    measure_kw: float
    step_nok: float
    shaved_kwh_per_month: float
    total_nok: float


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
) -> list[TargetOption]:
    """Return every candidate level with its replayed cost; the last one is no target at all.

    `history_kw` holds the house's mean power (without the car) of past clock hours,
    oldest first; `present` says per hour whether the car was plugged in (None: always).
    The history is cut into 24-hour blocks ending with its last hour; missing hours (NaN)
    count as zero draw. Empty when there are fewer than `MIN_DAYS` blocks.
    """
    history = np.nan_to_num(np.asarray(history_kw, dtype=np.float64), nan=0.0).clip(min=0.0)
    blocks = min(len(history) // HOURS_PER_DAY, days)
    if blocks < MIN_DAYS:
        return []
    hours = blocks * HOURS_PER_DAY
    load = history[-hours:]
    home: NDArray[np.bool_] = (
        np.ones(hours, dtype=np.bool_)
        if present is None
        else np.asarray(present, dtype=np.bool_)[-hours:]
    )
    if len(home) != hours:
        raise ValueError("presence must align with the load history")
    scale = AVERAGE_MONTH_DAYS / blocks
    natural = top3_mean(load.reshape(blocks, HOURS_PER_DAY).max(axis=1).tolist())
    options: list[TargetOption] = []
    for edge_kw in table.step_from_kw:
        level_kw = edge_kw - margin_kw
        if level_kw <= 0 or level_kw >= natural:
            continue
        excess = load - level_kw
        # The charger cannot discharge below its minimum, so a small excess costs the minimum.
        shave = np.where(
            home & (excess > 0),
            np.minimum(np.maximum(excess, min_power_kw), max_discharge_kw),
            0.0,
        )
        controlled = load - shave
        measure = top3_mean(controlled.reshape(blocks, HOURS_PER_DAY).max(axis=1).tolist())
        shaved = float(shave.sum()) * scale
        step = table.step_cost_nok(measure)
        options.append(
            TargetOption(
                level_kw=level_kw,
                measure_kw=measure,
                step_nok=step,
                shaved_kwh_per_month=shaved,
                total_nok=step + shave_cost_nok_per_kwh * shaved,
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
        )
    )
    return options


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

    The cheapest option wins; on a tie the higher level (less shaving). None when the
    history is too short, the car cannot discharge, or no level pays for its shaving.
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
    )
    if not options:
        return None
    best = min(options, key=lambda option: (round(option.total_nok, 6), -option.level_kw))
    return None if math.isinf(best.level_kw) else round(best.level_kw, 3)
