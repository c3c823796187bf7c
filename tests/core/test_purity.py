"""The core must stay free of Home Assistant and every other third-party import."""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys

import pytest

from custom_components.nordic_v2h.core.purity import forbidden_imports


def test_core_imports_only_stdlib_and_numpy() -> None:
    assert forbidden_imports() == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("import numpy as np\nimport math\n", [], id="numpy_and_stdlib_allowed"),
        pytest.param("from . import timeseries\n", [], id="relative_import_allowed"),
        pytest.param(
            "from homeassistant.core import HomeAssistant\n",
            ["homeassistant.core"],
            id="home_assistant_refused",
        ),
        pytest.param("import scipy.optimize\n", ["scipy.optimize"], id="scipy_refused"),
    ],
)
def test_checker_flags_foreign_imports(tmp_path: Path, source: str, expected: list[str]) -> None:
    (tmp_path / "module.py").write_text(source, encoding="utf-8")
    found = forbidden_imports(tmp_path)
    assert [line.rsplit("imports ", 1)[1] for line in found] == expected


def test_core_imports_without_home_assistant() -> None:
    """The core loads as a package of its own, and loading it pulls in no Home Assistant module."""
    core_parent = Path(__file__).resolve().parents[2] / "custom_components" / "nordic_v2h"
    modules = sorted(
        path.stem
        for path in (core_parent / "core").glob("*.py")
        if path.stem not in {"__init__", "purity"}
    )
    program = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(core_parent)!r})\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module('core.' + name)\n"
        "foreign = sorted(m for m in sys.modules if m.split('.')[0] in {'homeassistant', 'custom_components', 'scipy'})\n"
        "print(foreign)\n"
        "sys.exit(1 if foreign else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
