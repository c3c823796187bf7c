"""The quality scale file claims only what holds: every rule settled, every docs claim findable."""

from __future__ import annotations

from pathlib import Path
import re
from typing import Any

import pytest
import yaml

from custom_components.nordic_v2h.repairs import LEARN_MORE_URL

ROOT = Path(__file__).resolve().parents[2]
QUALITY_SCALE = ROOT / "custom_components" / "nordic_v2h" / "quality_scale.yaml"
GUIDE = ROOT / "docs" / "user-guide.md"
GUIDE_REFERENCE = re.compile(r"docs/user-guide\.md, ([^.]+)\.")


def rules() -> dict[str, Any]:
    """Return the quality scale's rules by name."""
    return dict(yaml.safe_load(QUALITY_SCALE.read_text(encoding="utf-8"))["rules"])


def status_of(rule: str | dict[str, Any]) -> str:
    """Return a rule's status, written either as a bare word or as a mapping."""
    return rule if isinstance(rule, str) else str(rule["status"])


def guide_headings() -> set[str]:
    """Return the user guide's headings, without their hashes."""
    return {
        line.lstrip("#").strip()
        for line in GUIDE.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }


def anchor(heading: str) -> str:
    """Return the anchor GitHub gives a Markdown heading."""
    return re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")


@pytest.mark.parametrize("name", sorted(rules()))
def test_rule_is_settled(name: str) -> None:
    """No rule is left to do, and an exemption says why."""
    rule = rules()[name]
    assert status_of(rule) in {"done", "exempt"}, f"{name} is {status_of(rule)}"
    if status_of(rule) == "exempt":
        assert isinstance(rule, dict), f"{name} is exempt without a reason"
        assert rule.get("comment"), f"{name} is exempt without a reason"


@pytest.mark.parametrize("name", sorted(name for name in rules() if name.startswith("docs-")))
def test_docs_rule_points_at_a_guide_section(name: str) -> None:
    """A documentation rule marked done names a section that the user guide has."""
    rule = rules()[name]
    if status_of(rule) == "exempt":
        return
    assert isinstance(rule, dict), f"{name} does not say where it is documented"
    named = GUIDE_REFERENCE.findall(str(rule.get("comment", "")))
    assert named, f"{name} does not name a section of {GUIDE.name}"
    assert set(named) <= guide_headings()


def test_repair_link_reaches_the_troubleshooting_section() -> None:
    """The repairs' "learn more" link points at the guide's troubleshooting section."""
    path, _, fragment = LEARN_MORE_URL.partition("#")
    assert path.endswith("/docs/user-guide.md")
    assert fragment in {anchor(heading) for heading in guide_headings()}


@pytest.mark.parametrize(
    ("document", "link"),
    [
        pytest.param(GUIDE, re.compile(r"\]\(#([^)]+)\)"), id="guide_to_itself"),
        pytest.param(ROOT / "README.md", re.compile(r"docs/user-guide\.md#([^)]+)\)"), id="readme"),
    ],
)
def test_links_into_the_guide_reach_a_section(document: Path, link: re.Pattern[str]) -> None:
    """Every link to a section of the guide names a heading it has."""
    targets = set(link.findall(document.read_text(encoding="utf-8")))
    assert targets, f"{document.name} links to no section of the guide"
    assert targets <= {anchor(heading) for heading in guide_headings()}
