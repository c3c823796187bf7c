"""The scripts run with the project's interpreter even when `python3` on the PATH is another."""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys

import pytest

from scripts import project_python

ROOT = Path(__file__).resolve().parents[2]
# The interpreter this environment was made from: no numpy, not the project's environment.
BARE_PYTHON = (
    Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
)


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="needs .venv")
@pytest.mark.skipif(not BARE_PYTHON.exists(), reason="the base interpreter is not at hand")
@pytest.mark.parametrize(
    ("script", "arguments", "expected"),
    [
        pytest.param("bench_plan", ["--runs", "3"], "3 plans over 36 h", id="bench_plan"),
        pytest.param("backtest", ["--help"], "--policy", id="backtest"),
        pytest.param("price_year", ["--help"], "--zone", id="price_year"),
        pytest.param("build_tariff_data", ["--help"], "national", id="build_tariff_data"),
    ],
)
def test_script_starts_again_in_the_project_environment(
    script: str, arguments: list[str], expected: str
) -> None:
    """Started by an interpreter without the project's packages, a script still runs."""
    probe = subprocess.run(
        [str(BARE_PYTHON), "-c", "import numpy"], capture_output=True, check=False
    )
    assert probe.returncode != 0, "the base interpreter has numpy: it proves nothing here"
    done = subprocess.run(
        [str(BARE_PYTHON), str(ROOT / "scripts" / script), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        pytest.param("venv_is_this_interpreter", True, id="its_own_environment"),
        pytest.param("venv_links_to_this_interpreter", True, id="a_link_to_an_environment"),
        pytest.param("venv_elsewhere", False, id="another_environment"),
        pytest.param("no_venv", False, id="no_environment"),
    ],
)
def test_the_project_environment_is_recognised_through_links(
    layout: str, expected: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkout whose `.venv` links to an environment elsewhere runs the scripts in it."""
    root = tmp_path / "checkout"
    root.mkdir()
    prefix = tmp_path / "prefix"
    prefix.mkdir()
    if layout == "venv_is_this_interpreter":
        prefix = root / ".venv-latest"
        prefix.mkdir()
    elif layout == "venv_links_to_this_interpreter":
        (root / ".venv").symlink_to(prefix)
    elif layout == "venv_elsewhere":
        (root / ".venv").mkdir()
    monkeypatch.setattr(project_python, "ROOT", root)
    monkeypatch.setattr(sys, "prefix", str(prefix))
    assert project_python.in_project_environment() is expected


def test_a_restarted_script_outside_the_environment_stops_instead_of_looping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Had the restart not reached a project environment, a second restart would loop."""
    monkeypatch.setattr(project_python, "ROOT", tmp_path)
    monkeypatch.setenv(project_python.RESTARTED_ENV, "1")
    with pytest.raises(SystemExit, match="is not one of the project's environments"):
        project_python.ensure_project_python(__file__)
