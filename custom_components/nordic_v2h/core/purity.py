"""Check that the core imports nothing but the standard library and numpy.

Run as `python -m custom_components.nordic_v2h.core.purity`: it parses every module of
the core (no import is executed) and fails on any import outside the allowed set, so the
core stays usable without Home Assistant and can become a library of its own.
"""

from __future__ import annotations

import ast
from pathlib import Path
import sys
from typing import Final

ALLOWED_THIRD_PARTY: Final = frozenset({"numpy"})
CORE_DIR: Final = Path(__file__).resolve().parent


def forbidden_imports(core_dir: Path = CORE_DIR) -> list[str]:
    """Return one line per import in the core that is neither stdlib, numpy nor relative."""
    problems: list[str] = []
    for path in sorted(core_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY:
                    continue
                problems.append(
                    f"{path.relative_to(core_dir.parent)}:{node.lineno}: imports {name}"
                )
    return problems


def main() -> int:
    """Print the forbidden imports and return a non-zero exit code when there are any."""
    problems = forbidden_imports()
    for problem in problems:
        print(problem)  # noqa: T201
    if problems:
        return 1
    print(f"core purity: {len(list(CORE_DIR.rglob('*.py')))} modules import only stdlib and numpy")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
