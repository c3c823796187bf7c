"""The schema library of the running Home Assistant, for forms and service schemas.

Home Assistant 2026 replaced voluptuous with probatio, an API-compatible successor, and
type-checks forms against it; older releases use voluptuous. Schemas are built with whichever
the running release validates with, so the same code works from 2025.4 to the newest release.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

vol: Any = importlib.import_module(
    "probatio" if importlib.util.find_spec("probatio") else "voluptuous"
)
