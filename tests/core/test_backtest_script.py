"""End-to-end tests of scripts/backtest on a committed week of real data (see fixtures/backtest)."""

from __future__ import annotations

from datetime import UTC, date, datetime
import json
from pathlib import Path

import numpy as np
import pytest

from custom_components.nordic_v2h.core.timeseries import OSLO
from scripts.backtest_bound import solve_bound
from scripts.backtest_lib import bill_report, build, main, parse_args, week_series

FIXTURES = Path(__file__).parent / "fixtures" / "backtest"
TEMPERATURES = FIXTURES / "temperature_voss_bergen_2024-09-22_2024-10-09.csv"
# Vossavangen at 2024-10-03 12:00 UTC in that fixture.
VOSS_2024_10_03_NOON_C = 6.9
PRESETS = (
    Path(__file__).resolve().parents[2]
    / "custom_components"
    / "nordic_v2h"
    / "data"
    / "tariff_presets.json"
)
REPORT_KEYS = {
    "total_cost",
    "energy_cost",
    "grid_energy_cost",
    "capacity_cost",
    "taxes",
    "subsidy",
    "wear_cost",
    "export_revenue",
    "ev_charged_kwh",
    "v2h_discharged_kwh",
    "unmet_departure_kwh",
    "min_soc_violations",
    "monthly_capacity_steps",
    "plan_ms_median",
    "plan_ms_p95",
    "wall_s",
}


def _args(policy: str, out: Path, *extra: str) -> list[str]:
    return [
        "--prices", str(FIXTURES / "prices_no2_2024-10-01_2024-10-08.csv"),
        "--zone", "NO2",
        "--load", str(FIXTURES / "load_no2_house_main_2024-09-23_2024-10-08.csv"),
        "--household", "NO2_krafthack_house_main",
        "--ev-sessions", str(FIXTURES / "ev_sessions_osl_s_kt146_2018-02.csv"),
        "--tariffs", str(PRESETS),
        "--grid-company", "Elvia",
        "--start", "2024-10-01",
        "--end", "2024-10-07",
        "--policy", policy,
        "--json", str(out),
        "--no-progress",
        *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    folder = tmp_path_factory.mktemp("backtest")
    found: dict[str, dict[str, object]] = {}
    for policy in ("immediate", "cheapest", "smart", "bound"):
        out = folder / f"{policy}.json"
        assert main(_args(policy, out)) == 0
        found[policy] = json.loads(out.read_text(encoding="utf-8"))
    return found


@pytest.mark.parametrize("policy", ["immediate", "cheapest", "smart", "bound"])
def test_report_contract(reports: dict[str, dict[str, object]], policy: str) -> None:
    report = reports[policy]
    assert set(report).issuperset(REPORT_KEYS)
    assert report["unmet_departure_kwh"] == 0.0
    assert report["min_soc_violations"] == 0
    steps = report["monthly_capacity_steps"]
    assert isinstance(steps, list)
    assert [step["month"] for step in steps] == ["2024-10"]
    parts = (
        float(report["energy_cost"])  # type: ignore[arg-type]
        + float(report["grid_energy_cost"])  # type: ignore[arg-type]
        + float(report["capacity_cost"])  # type: ignore[arg-type]
        + float(report["taxes"])  # type: ignore[arg-type]
        - float(report["subsidy"])  # type: ignore[arg-type]
        - float(report["export_revenue"])  # type: ignore[arg-type]
        + float(report["wear_cost"])  # type: ignore[arg-type]
    )
    assert float(report["total_cost"]) == pytest.approx(parts, abs=0.05)  # type: ignore[arg-type]


def test_policies_are_ordered(reports: dict[str, dict[str, object]]) -> None:
    total = {policy: float(report["total_cost"]) for policy, report in reports.items()}  # type: ignore[arg-type]
    # The bound is a lower bound; charging in cheap night hours can cost more than charging
    # at once when the nights are the house's own peak hours, so cheapest vs immediate is open.
    for policy in ("immediate", "cheapest", "smart"):
        assert total["bound"] <= total[policy] + 1e-6
    assert total["smart"] <= total["cheapest"]
    assert reports["immediate"]["v2h_discharged_kwh"] == 0.0
    assert reports["cheapest"]["v2h_discharged_kwh"] == 0.0


def test_bound_with_the_minimum_power_kept(reports: dict[str, dict[str, object]]) -> None:
    """The exact optimum for the real charger: every quarter 0 or within 1.38-7.4 kW.

    It can cost no less than the relaxed bound and no more than the planner, which keeps
    the same minimum without knowing the future.
    """
    loaded = build(parse_args(_args("bound", Path("unused.json"), "--bound-min-power")))
    result = solve_bound(loaded.scenario, keep_min_power=True)
    active_kw = np.abs(result.car_power_kw[np.abs(result.car_power_kw) > 1e-6])
    assert len(active_kw)
    assert active_kw.min() >= 1.38 - 1e-6
    assert active_kw.max() <= 7.4 + 1e-6
    total = float(bill_report(loaded, result, loaded.scenario.wear_nok_per_kwh)["total_cost"])
    assert total >= float(reports["bound"]["total_cost"]) - 0.01  # type: ignore[arg-type]
    assert total <= float(reports["smart"]["total_cost"]) + 0.01  # type: ignore[arg-type]
    assert result.unmet_departure_kwh == 0.0


def test_min_power_flag_needs_the_bound() -> None:
    with pytest.raises(SystemExit):
        parse_args(_args("smart", Path("unused.json"), "--bound-min-power"))


def test_plot_week(tmp_path: Path) -> None:
    png = tmp_path / "week.png"
    assert (
        main(_args("smart", tmp_path / "r.json", "--plot-week", "2024-10-01", "--plot", str(png)))
        == 0
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("keep_min_power", [False, True], ids=["bound", "bound_min_power"])
def test_week_series_of_the_bound(keep_min_power: bool) -> None:
    """The plotted week: prices, loads and the car's charge, which the bound keeps in bounds."""
    loaded = build(parse_args(_args("bound", Path("unused.json"))))
    result = solve_bound(loaded.scenario, keep_min_power=keep_min_power)
    series = week_series(loaded, result, date(2024, 10, 1))
    assert len(series.times) == 7 * 96
    assert series.times[0] == datetime(2024, 10, 1, tzinfo=OSLO)
    home = ~np.isnan(series.soc_pct)
    assert home.any()
    assert not home.all()
    assert np.all(series.car_kw[~home] == 0.0)
    assert series.soc_pct[home].min() >= 30.0 - 1e-6
    assert series.soc_pct[home].max() <= 100.0 + 1e-6
    # Each quarter's change is what the charger did, at 92 % each way.
    both = home[1:] & home[:-1]
    power = series.car_kw[1:][both]
    np.testing.assert_allclose(
        np.diff(series.soc_pct)[both] * 0.6,
        np.where(power > 0, power * 0.92, power / 0.92) * 0.25,
        atol=1e-9,
    )
    # Every departure in the week leaves at the 80 % target.
    departures = np.nonzero(home[:-1] & ~home[1:])[0]
    assert len(departures)
    assert np.all(series.soc_pct[departures] >= 80.0 - 1e-4)
    np.testing.assert_allclose(
        series.grid_import_kw, np.maximum(series.house_kw + series.car_kw, 0.0), atol=1e-9
    )


def test_week_outside_the_replay_is_refused() -> None:
    loaded = build(parse_args(_args("bound", Path("unused.json"))))
    result = solve_bound(loaded.scenario)
    with pytest.raises(SystemExit, match="outside the simulated period"):
        week_series(loaded, result, date(2024, 10, 2))


def test_temperatures_feed_the_load_forecast(
    tmp_path: Path, reports: dict[str, dict[str, object]]
) -> None:
    out = tmp_path / "smart.json"
    assert main(_args("smart", out, "--temperature", str(TEMPERATURES), "--station", "voss")) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["unmet_departure_kwh"] == 0.0
    assert report["min_soc_violations"] == 0
    # The same days and load: only the forecast (and so the plan) may differ.
    assert report["forecast_mean_load_kw"] == reports["smart"]["forecast_mean_load_kw"]
    scenario = build(
        parse_args(_args("smart", out, "--temperature", str(TEMPERATURES), "--station", "VOSS"))
    ).scenario
    assert scenario.temperature_c is not None
    # Each hour's reading lies on its four quarters (the fixture: 2024-10-03 12:00 UTC).
    noon = (int(datetime(2024, 10, 3, 12, tzinfo=UTC).timestamp()) - scenario.start_s) // 900
    np.testing.assert_allclose(scenario.temperature_c[noon : noon + 4], VOSS_2024_10_03_NOON_C)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(["--zone", "NO9"], "no NO9 prices", id="unknown_zone"),
        pytest.param(
            ["--temperature", str(TEMPERATURES)], "must hold one station", id="station_not_chosen"
        ),
        pytest.param(
            ["--temperature", str(TEMPERATURES), "--station", "Tromsø"],
            "like 'Tromsø'",
            id="unknown_station",
        ),
        pytest.param(["--grid-company", "No Such Grid AS"], "not found", id="unknown_company"),
        pytest.param(["--ev-user", "nobody"], "not found", id="unknown_ev_user"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path: Path, extra: list[str], message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        main(_args("immediate", tmp_path / "r.json", *extra))
