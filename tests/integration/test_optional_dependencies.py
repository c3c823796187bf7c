"""The integration loads where the optional integrations it can use are not installed.

Home Assistant installs an integration's libraries only when that integration is set up,
so on an installation without MQTT (or without the core Nord Pool integration, or the
recorder) their libraries are missing. The config flow and every platform must still load;
the MQTT transport is imported only for a charger that uses MQTT, which the flow allows
only once the MQTT integration is set up.
"""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "custom_components" / "nordic_v2h"

# Importing a blocked module fails as a missing library's would. The optional integration's
# own package is blocked too: whether it imports its library at once differs between Home
# Assistant releases (MQTT's does from 2026.11), so nothing may import it when loading.
_PROGRAM = """\
import importlib, importlib.abc, sys

def blocked(name):
    return any(name == b or name.startswith(b + ".") for b in {blocked!r})

class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if blocked(name):
            raise ModuleNotFoundError(f"No module named {{name!r}}")
        return None

sys.meta_path.insert(0, Missing())
sys.path.insert(0, {root!r})
for module in {modules!r}:
    importlib.import_module(module)
loaded = sorted(name for name in sys.modules if blocked(name))
print(loaded)
sys.exit(1 if loaded else 0)
"""


def _integration_modules() -> list[str]:
    """Return every module Home Assistant imports when it loads the integration and its flow."""
    names = sorted(path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__")
    return ["custom_components.nordic_v2h", *(f"custom_components.nordic_v2h.{n}" for n in names)]


@pytest.mark.parametrize(
    "blocked",
    [
        pytest.param(("paho", "homeassistant.components.mqtt"), id="mqtt_missing"),
        pytest.param(
            ("pynordpool", "homeassistant.components.nordpool"), id="core_nord_pool_missing"
        ),
        pytest.param(("sqlalchemy", "homeassistant.components.recorder"), id="recorder_missing"),
    ],
)
def test_integration_loads_without_optional_libraries(blocked: tuple[str, ...]) -> None:
    program = _PROGRAM.format(blocked=set(blocked), root=str(ROOT), modules=_integration_modules())
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
