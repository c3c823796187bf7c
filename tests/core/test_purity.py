"""The core must stay free of Home Assistant and every other third-party import."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from custom_components.nordic_v2h.core.purity import forbidden_imports

if TYPE_CHECKING:
    from pathlib import Path


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
