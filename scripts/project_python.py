"""Run a script with the project's own interpreter, whatever `python3` is on the PATH.

The scripts need Python 3.13 and the packages of requirements_test.txt (numpy, scipy,
matplotlib, PyYAML); the interpreter that `#!/usr/bin/env python3` finds may be older or
bare. `scripts/setup min` builds `.venv` (it returns at once when `.venv` is ready), and the
script starts again in it. Any of the project's environments (`.venv*`) is good enough.
This module is imported before anything else, so it must stay readable by any Python 3.
"""

import os
from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[1]
PROJECT_VENV = ROOT / ".venv"


# Set for the restarted script, so that an environment this module fails to recognise
# ends in an error instead of a loop of restarts.
RESTARTED_ENV = "NORDIC_V2H_PROJECT_PYTHON"


def in_project_environment() -> bool:
    """Return whether this interpreter is one of the project's environments.

    An environment may be a link to one elsewhere, so both sides are resolved.
    """
    prefix = Path(sys.prefix).resolve()
    return any(venv.resolve() == prefix for venv in ROOT.glob(".venv*"))


def ensure_project_python(script: str) -> None:
    """Start `script` again with the project's interpreter unless this is one already."""
    if in_project_environment():
        return
    if os.environ.get(RESTARTED_ENV):
        sys.exit(f"{sys.executable} is not one of the project's environments in {ROOT}")
    subprocess.run([str(ROOT / "scripts" / "setup"), "min"], check=True, stdout=sys.stderr)
    python = PROJECT_VENV / "bin" / "python"
    os.environ[RESTARTED_ENV] = "1"
    # The project's own interpreter and this very script: nothing from outside is run.
    os.execv(str(python), [str(python), str(Path(script).resolve()), *sys.argv[1:]])  # noqa: S606
