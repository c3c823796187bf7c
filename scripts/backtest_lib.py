"""The backtest behind `scripts/backtest`: data loading, replay, the perfect-foresight bound, the bill.

Reads the CSV/YAML formats of the project's data folder, builds a `Scenario` for the
pure replay in `core/backtest.py`, bills the result with the core's Norwegian cost model
and prints the report. The `bound` policy is a mixed-integer linear programme per local
month (scipy HiGHS) with the capacity step chosen exactly; it relaxes the charger's
minimum power, so it is a lower bound no causal controller can beat.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
import importlib.machinery
import importlib.util
import itertools
import json
import math
from pathlib import Path
import sys
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from custom_components.nordic_v2h.core.backtest import (
    HISTORY_H,
    Policy,
    ReplayResult,
    Scenario,
    Session,
    replay,
    shift_by_weeks,
)
from custom_components.nordic_v2h.core.tariff import (
    Contract,
    CostModel,
    eur_per_mwh_to_nok_per_kwh,
    settings_from_presets,
)
from custom_components.nordic_v2h.core.tariff_presets import presets_from_document
from custom_components.nordic_v2h.core.timeseries import (
    HOUR_S,
    OSLO,
    SlotSeries,
    first_of_next_month,
)
from custom_components.nordic_v2h.core.types import CapacityTable, ChargerLimits

if TYPE_CHECKING:
    from numpy.typing import NDArray

SLOT_S = 900
# A house recording may lack this share of the simulated hours (filled forward).
_MAX_MISSING_SHARE = 0.02
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Loaded:
    """The scenario and what billing needs."""

    scenario: Scenario
    cost: CostModel
    spot_nok: NDArray[np.float64]
    sim_start_s: int
    sim_end_s: int


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Return the command line as the benchmark contract defines it."""
    parser = argparse.ArgumentParser(prog="backtest", description=__doc__.splitlines()[0])
    parser.add_argument("--prices", type=Path, required=True)
    parser.add_argument("--zone", required=True)
    parser.add_argument("--load", type=Path, required=True)
    parser.add_argument("--household")
    parser.add_argument("--load-scale", type=float, default=1.0)
    parser.add_argument(
        "--temperature",
        type=Path,
        help="hourly outdoor temperatures (timestamp_utc, station, temp_c) for the load forecast",
    )
    parser.add_argument(
        "--station", help="the station of --temperature to use (part of its name, any case)"
    )
    parser.add_argument("--ev-sessions", type=Path, required=True)
    parser.add_argument("--ev-user")
    parser.add_argument("--tariffs", type=Path, required=True)
    parser.add_argument("--national-rules", type=Path)
    parser.add_argument("--grid-company", required=True)
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True)
    parser.add_argument(
        "--policy", choices=["smart", "immediate", "cheapest", "bound"], required=True
    )
    parser.add_argument("--contract", choices=["spot", "norgespris"], default="spot")
    parser.add_argument("--eur-nok", type=float, default=11.5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plot-week", type=date.fromisoformat)
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--no-month-target",
        action="store_true",
        help="plan without the month-level capacity target (for comparison)",
    )
    parser.add_argument(
        "--no-month-outlook",
        action="store_true",
        help="price the capacity step by the smoothed step alone, without the days to come "
        "drawn from the past weeks (for comparison)",
    )
    parser.add_argument(
        "--perfect-load-forecast",
        action="store_true",
        help="give the planner the house's actual future load instead of its forecast "
        "(not causal: shows how much of the gap to the bound the forecast leaves)",
    )
    parser.add_argument(
        "--bound-min-power",
        action="store_true",
        help="keep the charger's minimum power in the bound, not only in the planner "
        "(slower; shows how much of the gap the bound's relaxation makes up)",
    )
    args = parser.parse_args(argv)
    if args.end < args.start:
        parser.error("--end is before --start")
    if args.bound_min_power and args.policy != "bound":
        parser.error("--bound-min-power only applies to --policy bound")
    if (args.plot is None) != (args.plot_week is None):
        parser.error("--plot and --plot-week go together")
    if args.station is not None and args.temperature is None:
        parser.error("--station needs --temperature")
    return args


def local_midnight_s(day: date) -> int:
    """Return the UTC epoch of a local day's start."""
    return int(datetime(day.year, day.month, day.day, tzinfo=OSLO).timestamp())


def _epoch(text: str) -> int:
    """Parse an ISO UTC timestamp ('Z' or offset) into epoch seconds."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def load_spot(
    path: Path, zone: str, start_s: int, end_s: int, eur_nok: float
) -> NDArray[np.float64]:
    """Return spot NOK/kWh excl VAT per 15-minute slot on [start_s, end_s); gaps carried forward."""
    count = (end_s - start_s) // SLOT_S
    values: NDArray[np.float64] = np.full(count, np.nan)
    resolution: dict[int, int] = {}
    rows: list[tuple[int, float]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["zone"] != zone:
                continue
            stamp = _epoch(row["timestamp_utc"])
            if start_s - HOUR_S <= stamp < end_s:
                rows.append((stamp, float(row["price_eur_mwh"])))
    rows.sort()
    for (stamp, _), (following, _) in itertools.pairwise(rows):
        resolution[stamp] = min(following - stamp, HOUR_S)
    for stamp, price in rows:
        length = resolution.get(stamp, HOUR_S if stamp % HOUR_S == 0 and len(rows) < 2 else SLOT_S)
        first = (stamp - start_s) // SLOT_S
        last = first + max(length // SLOT_S, 1)
        values[max(first, 0) : max(min(last, count), 0)] = price
    if np.isnan(values).all():
        raise SystemExit(f"no {zone} prices in {path} for the period")
    values = _fill_forward(values)
    return eur_per_mwh_to_nok_per_kwh(values, eur_nok)


def _fill_forward(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Fill NaN with the last known value (the first known value before it)."""
    valid = np.isfinite(values)
    index = np.where(valid, np.arange(len(values)), 0)
    np.maximum.accumulate(index, out=index)
    filled: NDArray[np.float64] = values[index]
    first = values[np.argmax(valid)]
    filled[~np.isfinite(filled)] = first
    return filled


def _moved_epoch(stamp: int, weeks: int) -> int:
    """Return a recorded UTC epoch moved by whole weeks (local weekday and clock time kept)."""
    if not weeks:
        return stamp
    return int(shift_by_weeks(datetime.fromtimestamp(stamp, tz=UTC), weeks).timestamp())


def load_house(
    path: Path,
    household: str | None,
    scale: float,
    span_s: tuple[int, int, int],
) -> tuple[NDArray[np.float64], str, int]:
    """Return the house's own load (kW) per slot, its id and the week shift.

    `span_s` is (array start, simulation start, end): the data, moved by whole years of
    52 weeks, must cover the simulation but for `_MAX_MISSING_SHARE` of its hours (those
    take the last known value); warm-up hours before it that the data lacks take the
    first known value.
    """
    start_s, sim_start_s, end_s = span_s
    by_household: dict[str, dict[int, float]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        has_ev = "ev_kwh" in (reader.fieldnames or [])
        for row in reader:
            ident = row.get("household_id", "house")
            if household is not None and ident != household:
                continue
            kwh = float(row["kwh"]) if row["kwh"] else math.nan
            if has_ev and row.get("ev_kwh"):
                kwh -= float(row["ev_kwh"])
            by_household.setdefault(ident, {})[_epoch(row["timestamp_utc"])] = kwh
    if not by_household:
        raise SystemExit(f"household {household!r} not found in {path}")
    ident = household or next(iter(by_household))
    hours = by_household[ident]
    count = (end_s - start_s) // SLOT_S
    sim_first = (sim_start_s - start_s) // SLOT_S
    # Move by whole 52-week blocks (weekday, clock time and season kept). The block that
    # covers most of the simulation goes first; hours it lacks (gaps in the recording,
    # or months past its end) come from the same week of other years.
    stamps = np.fromiter((stamp for stamp, kwh in hours.items() if math.isfinite(kwh)), np.int64)
    first, last = int(stamps.min(initial=0)), int(stamps.max(initial=0))
    coverage: list[tuple[bool, int, int]] = []
    for years in range(-30, 31):
        shift_s = years * 52 * 7 * 86400
        slot_of_hour = (stamps + shift_s - start_s) // SLOT_S
        covered = int(np.count_nonzero((slot_of_hour >= sim_first) & (slot_of_hour < count)))
        spans = first + shift_s <= sim_start_s and last + shift_s >= end_s - HOUR_S
        if covered:
            coverage.append((spans, covered, years))
    if not coverage:
        raise SystemExit(f"no load of {ident} in the period")
    # A block spanning the whole simulation wins (the nearest one), else the widest.
    coverage.sort(key=lambda item: (not item[0], -item[1] * (not item[0]), abs(item[2])))
    values = np.full(count, np.nan)
    slots_per_hour = HOUR_S // SLOT_S
    for _, _, years in coverage:
        weeks = years * 52
        for stamp, kwh in hours.items():
            slot = (_moved_epoch(stamp, weeks) - start_s) // SLOT_S
            if 0 <= slot < count and math.isfinite(kwh):
                part = values[slot : min(slot + slots_per_hour, count)]
                part[np.isnan(part)] = kwh
        if not np.isnan(values[sim_first:]).any():
            break
    weeks = coverage[0][2] * 52
    missing = float(np.mean(np.isnan(values[sim_first:])))
    if missing > _MAX_MISSING_SHARE:
        raise SystemExit(
            f"load of {ident} is too short to cover the period ({missing:.0%} of its hours missing)"
        )
    if np.isnan(values).all():
        raise SystemExit(f"no load of {ident} in the period")
    return np.maximum(_fill_forward(values) * scale, 0.0), ident, weeks


def load_temperature(
    path: Path, station: str | None, span_s: tuple[int, int, int], weeks: int
) -> NDArray[np.float64]:
    """Return the station's outdoor temperature (°C) per slot, moved like the house's load.

    `weeks` is the house recording's shift onto the simulation, so the house and its
    weather stay the same days. The simulation's hours must be covered but for
    `_MAX_MISSING_SHARE` (carried forward); a station is picked by part of its name.
    """
    start_s, sim_start_s, end_s = span_s
    by_station: dict[str, dict[int, float]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row.get("temp_c"):
                by_station.setdefault(row["station"], {})[_epoch(row["timestamp_utc"])] = float(
                    row["temp_c"]
                )
    names = sorted(
        name for name in by_station if station is None or station.casefold() in name.casefold()
    )
    if len(names) != 1:
        found = ", ".join(sorted(by_station)) or "none"
        wanted = "one station (--station)" if station is None else f"one station like {station!r}"
        raise SystemExit(f"{path} must hold {wanted}; it has: {found}")
    count = (end_s - start_s) // SLOT_S
    values = np.full(count, np.nan)
    slots_per_hour = HOUR_S // SLOT_S
    for stamp, temp_c in by_station[names[0]].items():
        index = (_moved_epoch(stamp, weeks) - start_s) // SLOT_S
        if 0 <= index < count:
            values[index : min(index + slots_per_hour, count)] = temp_c
    sim_first = (sim_start_s - start_s) // SLOT_S
    missing = float(np.mean(np.isnan(values[sim_first:])))
    if missing > _MAX_MISSING_SHARE:
        raise SystemExit(
            f"temperatures of {names[0]} do not cover the period ({missing:.0%} of its hours missing)"
        )
    return _fill_forward(values)


def load_sessions(
    path: Path, user: str | None, start_s: int, end_s: int
) -> tuple[tuple[Session, ...], str]:
    """Return the user's sessions moved by whole weeks onto [start_s, end_s), and the user."""
    by_user: dict[str, list[tuple[int, int, float]]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not row["plugin_utc"] or not row["plugout_utc"] or not row["energy_kwh"]:
                continue
            by_user.setdefault(row["user_id"], []).append(
                (_epoch(row["plugin_utc"]), _epoch(row["plugout_utc"]), float(row["energy_kwh"]))
            )
    if user is None:
        user = max(by_user, key=lambda name: (len(by_user[name]), name))
    if user not in by_user:
        raise SystemExit(f"EV user {user!r} not found in {path}")
    source = sorted(by_user[user])
    first = source[0][0]
    span_weeks = math.ceil((source[-1][1] - first) / (7 * 86400)) + 1
    base = math.floor((start_s - first) / (7 * 86400))
    sessions: list[Session] = []
    copy = 0
    while True:
        weeks = base + copy * span_weeks
        moved_first = shift_by_weeks(datetime.fromtimestamp(first, tz=UTC), weeks).timestamp()
        if moved_first >= end_s:
            break
        for plug_in, plug_out, kwh in source:
            shifted_in = int(
                shift_by_weeks(datetime.fromtimestamp(plug_in, tz=UTC), weeks).timestamp()
            )
            shifted_out = int(
                shift_by_weeks(datetime.fromtimestamp(plug_out, tz=UTC), weeks).timestamp()
            )
            if shifted_in >= start_s and shifted_out <= end_s and shifted_out > shifted_in:
                sessions.append(
                    Session(plug_in_s=shifted_in, plug_out_s=shifted_out, energy_kwh=kwh)
                )
        copy += 1
    sessions.sort(key=lambda session: session.plug_in_s)
    kept: list[Session] = []
    for session in sessions:
        # A stay that starts before the previous one ended is a data overlap: skip it.
        if kept and session.plug_in_s < kept[-1].plug_out_s:
            continue
        kept.append(session)
    return tuple(kept), user


def load_cost_model(tariffs: Path, national: Path | None, company: str, contract: str) -> CostModel:
    """Return the cost model of a grid company from the tariff and national-rules YAML files.

    A `.json` path is read as the integration's bundled preset file instead.
    """
    if tariffs.suffix == ".json":
        presets = presets_from_document(json.loads(tariffs.read_text(encoding="utf-8")))
    else:
        national_path = national or tariffs.with_name("national_rules.yaml")
        # The YAML-to-presets conversion lives in scripts/build_tariff_data (no .py suffix).
        loader = importlib.machinery.SourceFileLoader(
            "build_tariff_data", str(ROOT / "scripts" / "build_tariff_data")
        )
        spec = importlib.util.spec_from_loader("build_tariff_data", loader)
        if spec is None:
            raise SystemExit("cannot load scripts/build_tariff_data")
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
        presets = presets_from_document(module.build(tariffs, national_path))
    matches = [name for name in presets.companies() if name.casefold() == company.casefold()]
    if not matches:
        found = presets.search(company)
        if not found:
            raise SystemExit(f"grid company {company!r} not found in {tariffs}")
        matches = found
    settings = settings_from_presets(
        matches[0],
        presets,
        contract=Contract.NORGESPRIS if contract == "norgespris" else Contract.SPOT,
    )
    return CostModel(settings)


def build(args: argparse.Namespace) -> Loaded:
    """Read every input and return the scenario with its cost model."""
    sim_start_s = local_midnight_s(args.start)
    sim_end_s = local_midnight_s(args.end + timedelta(days=1))
    warmup = HISTORY_H * HOUR_S
    start_s = sim_start_s - warmup
    # Prices are needed up to the end of the day after the last simulated day.
    price_end_s = local_midnight_s(args.end + timedelta(days=2))
    spot = load_spot(args.prices, args.zone, start_s, price_end_s, args.eur_nok)
    cost = load_cost_model(args.tariffs, args.national_rules, args.grid_company, args.contract)
    spot_series = SlotSeries.from_array(datetime.fromtimestamp(start_s, tz=UTC), SLOT_S, spot)
    import_price = cost.import_price_nok_per_kwh(spot_series).as_array()
    export_price = cost.export_price_nok_per_kwh(spot_series).as_array()
    load, _, weeks = load_house(
        args.load, args.household, args.load_scale, (start_s, sim_start_s, price_end_s)
    )
    temperature = (
        None
        if args.temperature is None
        else load_temperature(
            args.temperature, args.station, (start_s, sim_start_s, price_end_s), weeks
        )
    )
    sessions, user = load_sessions(args.ev_sessions, args.ev_user, sim_start_s, sim_end_s)
    # The weeks before the start are history: when the car was home then tells the month
    # target how often it can shave (the same user's stays, moved onto those weeks).
    earlier, _ = load_sessions(args.ev_sessions, user, start_s, sim_start_s)

    tables: dict[tuple[int, int], CapacityTable] = {}

    def capacity_for_month(year: int, month: int) -> CapacityTable:
        """Return the month's capacity steps as billed (VAT included)."""
        if (year, month) not in tables:
            tariff = cost.tariff_on(date(year, month, 1))
            tables[year, month] = CapacityTable(
                step_from_kw=tuple(step.from_kw for step in tariff.capacity_steps),
                step_nok_per_month=tuple(
                    cost.capacity_step(step.from_kw, date(year, month, 1)).nok_per_month
                    for step in tariff.capacity_steps
                ),
                threshold_inclusive=tariff.threshold_inclusive,
            )
        return tables[year, month]

    scenario = Scenario(
        start_s=start_s,
        slot_s=SLOT_S,
        sim_start_index=warmup // SLOT_S,
        sim_end_index=(sim_end_s - start_s) // SLOT_S,
        import_price=import_price,
        export_price=export_price,
        load_kw=load,
        sessions=sessions,
        earlier_sessions=earlier,
        capacity_for_month=capacity_for_month,
        use_month_target=not args.no_month_target,
        use_month_outlook=not args.no_month_outlook,
        perfect_load_forecast=args.perfect_load_forecast,
        temperature_c=temperature,
        charger=ChargerLimits(min_power_w=1380, max_charge_w=7400, max_discharge_w=7400),
    )
    return Loaded(scenario, cost, spot, sim_start_s, sim_end_s)


class Progress:
    """A one-line progress bar on stderr for long runs."""

    def __init__(self, label: str, enabled: bool) -> None:
        """Remember the label and when the run started."""
        self.label = label
        self.enabled = enabled and sys.stderr.isatty()
        self.started = time.monotonic()

    def __call__(self, share: float) -> None:
        """Redraw the bar at the given share done."""
        if not self.enabled:
            return
        width = 30
        filled = int(share * width)
        elapsed = time.monotonic() - self.started
        sys.stderr.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {share:5.1%} {elapsed:5.0f}s"
        )
        sys.stderr.flush()

    def done(self) -> None:
        """End the bar's line."""
        if self.enabled:
            sys.stderr.write("\n")


def bill_report(loaded: Loaded, result: ReplayResult, wear_nok_per_kwh: float) -> dict[str, Any]:
    """Bill the replay's grid flows per local month and return the report's cost keys."""
    cost = loaded.cost
    first_day = datetime.fromtimestamp(loaded.sim_start_s, tz=OSLO).date()
    last_day = datetime.fromtimestamp(loaded.sim_end_s - 1, tz=OSLO).date()
    bill_start = local_midnight_s(first_day.replace(day=1))
    next_month = first_of_next_month(last_day)
    bill_end = local_midnight_s(next_month)
    count = (bill_end - bill_start) // SLOT_S
    imports = np.zeros(count)
    exports = np.zeros(count)
    offset = (result.start_s - bill_start) // SLOT_S
    imports[offset : offset + len(result.import_kwh)] = result.import_kwh
    exports[offset : offset + len(result.export_kwh)] = result.export_kwh
    spot_offset = (bill_start - loaded.scenario.start_s) // SLOT_S
    spot = np.zeros(count)
    available = loaded.spot_nok[max(spot_offset, 0) : spot_offset + count]
    spot[max(-spot_offset, 0) : max(-spot_offset, 0) + len(available)] = available
    start = datetime.fromtimestamp(bill_start, tz=UTC)
    months = cost.bill_by_month(
        SlotSeries.from_array(start, SLOT_S, imports),
        SlotSeries.from_array(start, SLOT_S, exports),
        SlotSeries.from_array(start, SLOT_S, spot),
    )
    keys = (
        "energy_cost",
        "grid_energy_cost",
        "capacity_cost",
        "taxes",
        "subsidy",
        "export_revenue",
        "total",
    )
    totals = dict.fromkeys(keys, 0.0)
    monthly: list[dict[str, Any]] = []
    for month in months:
        for key in totals:
            totals[key] += float(getattr(month.bill, key))
        monthly.append(
            {
                "month": month.month.strftime("%Y-%m"),
                "measure_kw": round(month.capacity_measure_kw, 3),
                "step_from_kw": month.capacity_step.from_kw,
                "capacity_nok": round(month.capacity_step.nok_per_month, 2),
                "total_nok": round(
                    month.bill.total + wear_nok_per_kwh * _month_discharge(result, month.month), 2
                ),
            }
        )
    wear = wear_nok_per_kwh * result.v2h_discharged_kwh
    return {
        "total_cost": round(totals["total"] + wear, 2),
        "energy_cost": round(totals["energy_cost"], 2),
        "grid_energy_cost": round(totals["grid_energy_cost"], 2),
        "capacity_cost": round(totals["capacity_cost"], 2),
        "taxes": round(totals["taxes"], 2),
        "subsidy": round(totals["subsidy"], 2),
        "wear_cost": round(wear, 2),
        "export_revenue": round(totals["export_revenue"], 2),
        "monthly_capacity_steps": monthly,
    }


def _month_discharge(result: ReplayResult, month: date) -> float:
    """Return the kWh discharged by the car in one local month."""
    start = local_midnight_s(month)
    end = local_midnight_s(first_of_next_month(month))
    first = max((start - result.start_s) // result.slot_s, 0)
    last = max((end - result.start_s) // result.slot_s, 0)
    return float(np.sum(np.maximum(-result.car_power_kw[first:last], 0.0)) * result.slot_s / HOUR_S)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run one backtest and return the report."""
    started = time.monotonic()
    loaded = build(args)
    progress = Progress(args.policy, not args.no_progress)
    if args.policy == "bound":
        from scripts.backtest_bound import solve_bound  # noqa: PLC0415

        result = solve_bound(loaded.scenario, progress, keep_min_power=args.bound_min_power)
    else:
        result = replay(loaded.scenario, Policy(args.policy), progress)
    progress.done()
    report: dict[str, Any] = bill_report(loaded, result, loaded.scenario.wear_nok_per_kwh)
    timings = np.asarray(result.plan_ms) if result.plan_ms else np.zeros(1)
    report.update(
        {
            "ev_charged_kwh": round(result.ev_charged_kwh, 2),
            "v2h_discharged_kwh": round(result.v2h_discharged_kwh, 2),
            "unmet_departure_kwh": round(result.unmet_departure_kwh, 3),
            "min_soc_violations": result.min_soc_violations,
            "plan_ms_median": round(float(np.median(timings)), 3),
            "plan_ms_p95": round(float(np.percentile(timings, 95)), 3),
            "wall_s": round(time.monotonic() - started, 2),
            "forecast_mae_kw": None
            if result.forecast_mae_kw is None
            else round(result.forecast_mae_kw, 3),
            "forecast_mean_load_kw": None
            if result.forecast_mean_load_kw is None
            else round(result.forecast_mean_load_kw, 3),
            "sessions": len(loaded.scenario.sessions),
        }
    )
    if args.plot is not None:
        plot_week(loaded, result, args.plot_week, args.plot)
    return report


@dataclass(frozen=True, slots=True)
class WeekSeries:
    """What the week's plot draws: one value per quarter of seven local days."""

    times: list[datetime]
    import_price_nok_per_kwh: NDArray[np.float64]
    house_kw: NDArray[np.float64]
    car_kw: NDArray[np.float64]
    grid_import_kw: NDArray[np.float64]
    # NaN while the car is away.
    soc_pct: NDArray[np.float64]


def week_series(loaded: Loaded, result: ReplayResult, week: date) -> WeekSeries:
    """Cut the seven days from `week` (local midnight) out of the scenario and the result."""
    start = (local_midnight_s(week) - result.start_s) // SLOT_S
    # Seven local days: 92 or 100 quarters on a day the clocks change.
    end = (local_midnight_s(week + timedelta(days=7)) - result.start_s) // SLOT_S
    if start < 0 or end > len(result.car_power_kw):
        raise SystemExit("--plot-week lies outside the simulated period")
    scenario = loaded.scenario
    offset = scenario.sim_start_index
    return WeekSeries(
        times=[
            datetime.fromtimestamp(result.start_s + SLOT_S * i, tz=OSLO) for i in range(start, end)
        ],
        import_price_nok_per_kwh=scenario.import_price[offset + start : offset + end],
        house_kw=scenario.load_kw[offset + start : offset + end],
        car_kw=result.car_power_kw[start:end],
        grid_import_kw=result.import_kwh[start:end] * (HOUR_S / SLOT_S),
        soc_pct=result.car_energy_kwh[start:end] / scenario.battery_kwh * 100.0,
    )


def plot_week(loaded: Loaded, result: ReplayResult, week: date, out: Path) -> None:
    """Draw one week of prices, house load, car power, grid import and the car's charge to a PNG."""
    import matplotlib as mpl  # noqa: PLC0415

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    series = week_series(loaded, result, week)
    scenario = loaded.scenario
    fig, (top, middle, bottom) = plt.subplots(
        3, 1, figsize=(14, 9), sharex=True, height_ratios=(2, 3, 2)
    )
    top.step(
        series.times, series.import_price_nok_per_kwh, where="post", label="import price (NOK/kWh)"
    )
    top.legend(loc="upper left")
    middle.step(series.times, series.house_kw, where="post", label="house (kW)")
    middle.step(series.times, series.car_kw, where="post", label="car (kW, + charge)")
    middle.step(series.times, series.grid_import_kw, where="post", label="grid import (kW)")
    middle.axhline(0, color="black", linewidth=0.5)
    middle.legend(loc="upper left")
    # A gap in the line is the car away.
    bottom.step(series.times, series.soc_pct, where="post", label="car state of charge (%)")
    bottom.axhline(scenario.min_soc_pct, color="tab:red", linewidth=0.8, label="minimum")
    bottom.axhline(scenario.target_soc_pct, color="tab:green", linewidth=0.8, label="target")
    bottom.set_ylim(0, 100)
    bottom.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv: list[str]) -> int:
    """Run the backtest from the command line and print the JSON report."""
    args = parse_args(argv)
    report = run(args)
    text = json.dumps(report, indent=2)
    if args.json is not None:
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0
