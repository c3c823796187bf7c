"""The perfect-foresight bound: a mixed-integer linear programme per local month (scipy HiGHS).

Knows every price and every hour of load in advance, charges and discharges continuously
(the charger's minimum power is relaxed, so this is a lower bound; `keep_min_power` keeps
it, each quarter's power then 0 or within the charger's range), keeps the SoC within
its bounds, meets every departure target that immediate charging could meet, never
exports, and picks the month's capacity step exactly: the three-day measure is the sum
of the three highest daily peaks over three (a linear form of "top three"), and one
binary per step selects the step whose edge the measure stays under.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from custom_components.nordic_v2h.core.backtest import ReplayResult, Scenario
from custom_components.nordic_v2h.core.timeseries import HOUR_S, OSLO

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

# Upper edge used for the top step (kW): far above any household.
_TOP_EDGE_KW = 10_000.0
# A measure exactly on an edge falls in the higher step (threshold_inclusive).
_EDGE_EPS_KW = 1e-6
# Relative optimality gap: tight for the linear form; with the minimum power kept (one
# semi-continuous variable per quarter and direction) 0.01 % of a month's cost is a few øre
# and keeps a month's solve within tens of seconds.
_GAP_RELAXED = 1e-6
_GAP_MIN_POWER = 1e-4
# scipy.optimize.milp's code for a semi-continuous variable: 0 or within its bounds.
_SEMI_CONTINUOUS = 2


def _present_sessions(scenario: Scenario, stop: int) -> list[tuple[int, int, float]]:
    """Return each stay as (first slot, end slot, energy needed), clipped to the span."""
    stays: list[tuple[int, int, float]] = []
    for session in scenario.sessions:
        first = max(
            -(-(session.plug_in_s - scenario.start_s) // scenario.slot_s), scenario.sim_start_index
        )
        last = min((session.plug_out_s - scenario.start_s) // scenario.slot_s, stop)
        if last > first and (not stays or first >= stays[-1][1]):
            stays.append((first, last, session.energy_kwh))
    return stays


def solve_bound(
    scenario: Scenario,
    progress: Callable[[float], None] | None = None,
    *,
    keep_min_power: bool = False,
) -> ReplayResult:
    """Return the perfect-foresight schedule and its figures for the scenario's span.

    With `keep_min_power` the charger's minimum power holds too (slower): the optimum for
    the real charger, which shows how much of the distance the relaxation makes up.
    """
    slot_s = scenario.slot_s
    slot_h = slot_s / HOUR_S
    count = len(scenario.import_price)
    stop = count if scenario.sim_end_index is None else min(scenario.sim_end_index, count)
    sim = scenario.sim_start_index
    charger = scenario.charger
    eta_c, eta_d = charger.charge_efficiency, charger.discharge_efficiency
    battery = scenario.battery_kwh
    target = scenario.target_soc_pct / 100.0 * battery
    # Local month of each slot.
    hours = (scenario.start_s + slot_s * np.arange(count)) // HOUR_S
    local = [
        datetime.fromtimestamp(int(h) * HOUR_S, tz=UTC).astimezone(OSLO)
        for h in hours[:: HOUR_S // slot_s]
    ]
    per_hour = HOUR_S // slot_s
    month_key = np.repeat([d.year * 12 + d.month - 1 for d in local], per_hour)[:count]
    day_key = np.repeat([d.toordinal() for d in local], per_hour)[:count]
    stays = _present_sessions(scenario, stop)
    # Per slot: stay number, or -1.
    stay_of = np.full(count, -1)
    for number, (first, last, _) in enumerate(stays):
        stay_of[first:last] = number
    power = np.zeros(count)
    unmet = 0.0
    months = sorted(set(month_key[sim:stop].tolist()))
    carried: dict[int, float] = {}
    for month_number, key in enumerate(months):
        if progress is not None:
            progress(month_number / len(months))
        slots = np.nonzero(
            (month_key == key) & (np.arange(count) >= sim) & (np.arange(count) < stop)
        )[0]
        first_slot, end_slot = int(slots[0]), int(slots[-1]) + 1
        table = scenario.capacity_for_month(key // 12, key % 12 + 1)
        schedule, ends = _solve_month(
            scenario,
            span=(first_slot, end_slot),
            stays=stays,
            stay_of=stay_of,
            carried=carried,
            day_key=day_key,
            steps=(table.step_from_kw, table.step_nok_per_month),
            keep_min_power=keep_min_power,
        )
        power[first_slot:end_slot] = schedule
        carried = {number: value for number, value in ends.items() if stays[number][1] > end_slot}
    stored_kwh = np.full(count, np.nan)
    for first, last, needed in stays:
        arrival = max(target - needed, 0.0)
        stay_power = power[first:last]
        stored_kwh[first:last] = arrival + np.cumsum(
            np.where(stay_power > 0, stay_power * eta_c, stay_power / eta_d) * slot_h
        )
        stored = float(stored_kwh[last - 1])
        reachable = min(
            target, arrival + (last - first) * slot_h * charger.max_charge_w / 1000.0 * eta_c
        )
        unmet += max(reachable - stored, 0.0) if reachable - stored > 1e-3 else 0.0
    span = slice(sim, stop)
    car = power[span]
    net = (scenario.load_kw[span] + car) * slot_h
    return ReplayResult(
        start_s=scenario.start_s + sim * slot_s,
        slot_s=slot_s,
        car_power_kw=car,
        car_energy_kwh=stored_kwh[span],
        import_kwh=np.maximum(net, 0.0),
        export_kwh=np.maximum(-net, 0.0),
        ev_charged_kwh=float(np.sum(np.maximum(car, 0.0)) * slot_h),
        v2h_discharged_kwh=float(np.sum(np.maximum(-car, 0.0)) * slot_h),
        unmet_departure_kwh=unmet,
        min_soc_violations=0,
        plan_ms=(),
        forecast_mae_kw=None,
        forecast_mean_load_kw=None,
    )


def _solve_month(
    scenario: Scenario,
    *,
    span: tuple[int, int],
    stays: list[tuple[int, int, float]],
    stay_of: NDArray[np.int64],
    carried: dict[int, float],
    day_key: NDArray[np.int64],
    steps: tuple[tuple[float, ...], tuple[float, ...]],
    keep_min_power: bool = False,
) -> tuple[NDArray[np.float64], dict[int, float]]:
    """Solve one month; return the car's power per slot and the energy of stays running on."""
    first_slot, end_slot = span
    step_from_kw, step_nok = steps
    slot_h = scenario.slot_s / HOUR_S
    charger = scenario.charger
    eta_c, eta_d = charger.charge_efficiency, charger.discharge_efficiency
    battery = scenario.battery_kwh
    min_kwh = scenario.min_soc_pct / 100.0 * battery
    max_kwh = battery
    target = scenario.target_soc_pct / 100.0 * battery
    n = end_slot - first_slot
    load = scenario.load_kw[first_slot:end_slot]
    price = scenario.import_price[first_slot:end_slot]
    here = stay_of[first_slot:end_slot] >= 0
    days = day_key[first_slot:end_slot]
    unique_days, day_index = np.unique(days, return_inverse=True)
    n_days = len(unique_days)
    per_hour = HOUR_S // scenario.slot_s
    hour_of = (np.arange(n) + (first_slot % per_hour)) // per_hour
    n_hours = int(hour_of[-1]) + 1
    k = len(step_from_kw)
    # Variable layout: c[n], d[n], e[n], P[days], u, s[days], y[k].
    c0, d0, e0 = 0, n, 2 * n
    p0 = 3 * n
    u0 = p0 + n_days
    s0 = u0 + 1
    y0 = s0 + n_days
    total = y0 + k
    lower = np.zeros(total)
    upper = np.full(total, np.inf)
    upper[c0 : c0 + n] = np.where(here, charger.max_charge_w / 1000.0, 0.0)
    max_dis = (
        np.minimum(load, charger.max_discharge_w / 1000.0) if scenario.allow_v2h else np.zeros(n)
    )
    upper[d0 : d0 + n] = np.where(here, max_dis, 0.0)
    lower[e0 : e0 + n] = 0.0
    upper[e0 : e0 + n] = max_kwh
    lower[u0] = -np.inf
    upper[y0:] = 1.0
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def add(entries: list[tuple[int, float]], low: float, high: float) -> None:
        """Append one constraint row."""
        row = len(lo)
        for col, val in entries:
            rows.append(row)
            cols.append(col)
            vals.append(val)
        lo.append(low)
        hi.append(high)

    ends: dict[int, float] = {}
    for t in range(n):
        number = int(stay_of[first_slot + t])
        if number < 0:
            continue
        stay_first, stay_last, needed = stays[number]
        absolute = first_slot + t
        step = [(e0 + t, 1.0), (c0 + t, -slot_h * eta_c), (d0 + t, slot_h / eta_d)]
        arrival = max(target - needed, 0.0)
        if absolute == stay_first or t == 0:
            # A stay running on from the previous month starts where that month left it.
            start_energy = arrival if absolute == stay_first else carried[number]
            add(step, start_energy, start_energy)
        else:
            add([*step, (e0 + t - 1, -1.0)], 0.0, 0.0)
        # A car arriving below the minimum SoC may sit below it only until it is charged.
        lower[e0 + t] = min(min_kwh, arrival)
        if absolute == stay_last - 1:
            reachable = min(
                target,
                arrival + (stay_last - stay_first) * slot_h * charger.max_charge_w / 1000.0 * eta_c,
            )
            lower[e0 + t] = max(lower[e0 + t], reachable - 1e-6)
    # Hourly import (kWh) under each day's peak: sum over the hour's slots of (load + c - d) * slot_h <= P.
    for hour in range(n_hours):
        members = np.nonzero(hour_of == hour)[0]
        if not len(members):
            continue
        constant = float(np.sum(load[members]) * slot_h)
        entries = [(c0 + int(t), slot_h) for t in members] + [
            (d0 + int(t), -slot_h) for t in members
        ]
        entries.append((p0 + int(day_index[members[0]]), -1.0))
        add(entries, -np.inf, -constant)
    # Top three: s_day >= P_day - u; measure = u + sum(s)/3 must stay under the chosen step's edge.
    for day in range(n_days):
        add([(s0 + day, 1.0), (p0 + day, -1.0), (u0, 1.0)], 0.0, np.inf)
    edges = [*step_from_kw[1:], _TOP_EDGE_KW]
    entries = [(u0, 1.0)] + [(s0 + day, 1.0 / 3.0) for day in range(n_days)]
    entries += [(y0 + index, -(edge - _EDGE_EPS_KW)) for index, edge in enumerate(edges)]
    add(entries, -np.inf, 0.0)
    add([(y0 + index, 1.0) for index in range(k)], 1.0, 1.0)
    cost = np.zeros(total)
    cost[c0 : c0 + n] = price * slot_h
    cost[d0 : d0 + n] = -price * slot_h + scenario.wear_nok_per_kwh * slot_h
    cost[y0:] = step_nok
    integrality = np.zeros(total)
    integrality[y0:] = 1
    if keep_min_power:
        min_kw = charger.min_power_w / 1000.0
        for first in (c0, d0):
            power = slice(first, first + n)
            # A quarter whose room is below the minimum (no export, a small house load) stays 0.
            usable = upper[power] >= min_kw
            upper[power] = np.where(usable, upper[power], 0.0)
            lower[power] = np.where(usable, min_kw, 0.0)
            integrality[power] = np.where(usable, _SEMI_CONTINUOUS, 0)
    matrix = coo_matrix((vals, (rows, cols)), shape=(len(lo), total)).tocsr()
    result = milp(
        cost,
        constraints=LinearConstraint(matrix, np.asarray(lo), np.asarray(hi)),
        bounds=Bounds(lower, upper),
        integrality=integrality,
        options={
            "disp": False,
            "mip_rel_gap": _GAP_MIN_POWER if keep_min_power else _GAP_RELAXED,
        },
    )
    if result.x is None:
        raise SystemExit(f"bound: the month's programme has no solution ({result.message})")
    x = result.x
    schedule = x[c0 : c0 + n] - x[d0 : d0 + n]
    for t in range(n):
        number = int(stay_of[first_slot + t])
        if number >= 0:
            ends[number] = float(x[e0 + t])
    return schedule, ends
