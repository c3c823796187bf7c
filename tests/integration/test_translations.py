"""Translations: English and Norwegian Bokmål have the same keys, and every key the code uses exists."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

import pytest
import yaml

from custom_components.nordic_v2h import (
    binary_sensor,
    button,
    number,
    select,
    sensor,
    switch,
    time as time_platform,
)
from custom_components.nordic_v2h.const import OperatingMode
from custom_components.nordic_v2h.controller import DECISION_OPTIONS, REASON_OPTIONS
from custom_components.nordic_v2h.repairs import (
    ISSUE_CONTROL_REFUSED,
    ISSUE_PRICES_UNAVAILABLE,
    ISSUE_TARIFF_DATA_OUTDATED,
)
from custom_components.nordic_v2h.transport import ChargerStatus

PACKAGE = Path(__file__).resolve().parents[2] / "custom_components" / "nordic_v2h"
LANGUAGES = ("en", "nb")


def load(language: str) -> dict[str, Any]:
    """Return one translation file."""
    return dict(
        json.loads((PACKAGE / "translations" / f"{language}.json").read_text(encoding="utf-8"))
    )


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Return every leaf of a nested mapping under its dotted path."""
    leaves: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            leaves.update(flatten(value, f"{path}."))
        else:
            leaves[path] = value
    return leaves


def entity_descriptions() -> list[tuple[str, Any]]:
    """Return (platform, description) for every entity the integration can create."""
    found: list[tuple[str, Any]] = [
        ("binary_sensor", description) for description in binary_sensor.BINARY_SENSORS
    ]
    found += [("button", description) for description in button.BUTTONS]
    found += [("number", description) for description in number.NUMBERS]
    found += [("select", select.MODE_DESCRIPTION)]
    found += [
        ("sensor", description)
        for description in (
            *sensor.CHARGER_SENSORS,
            *sensor.PRICE_SENSORS,
            *sensor.CONTROL_SENSORS,
            *sensor.ENERGY_SENSORS,
            sensor.TIME_TO_TARGET_DESCRIPTION,
        )
    ]
    found += [("switch", description) for description in switch.SWITCHES]
    found += [("time", time_platform.DEPARTURE_DESCRIPTION)]
    return found


def python_translation_keys() -> set[str]:
    """Return every `translation_key="..."` written in the integration's Python code."""
    keys: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        keys.update(re.findall(r'translation_key="([a-z0-9_]+)"', path.read_text(encoding="utf-8")))
    return keys


@pytest.mark.parametrize("language", [pytest.param(lang, id=lang) for lang in LANGUAGES])
def test_no_empty_strings(language: str) -> None:
    """Every string is filled in."""
    assert all(
        isinstance(value, str) and value.strip() for value in flatten(load(language)).values()
    )


def test_same_keys_in_both_languages() -> None:
    """English and Norwegian Bokmål translate exactly the same keys."""
    english, norwegian = set(flatten(load("en"))), set(flatten(load("nb")))
    assert english - norwegian == set(), "missing in nb.json"
    assert norwegian - english == set(), "missing in en.json"


def test_same_placeholders_in_both_languages() -> None:
    """A placeholder used in one language is used in the other."""
    english, norwegian = flatten(load("en")), flatten(load("nb"))
    for key, text in english.items():
        assert set(re.findall(r"\{(\w+)\}", text)) == set(
            re.findall(r"\{(\w+)\}", norwegian[key])
        ), key


def errors_given_a_reason() -> list[tuple[str, str]]:
    """Return (flow, error key) for each error the flows set together with an {error} reason."""
    source = (PACKAGE / "config_flow.py").read_text(encoding="utf-8")
    keys = re.findall(r'errors\[[^\]]+\] = "(\w+)"\n\s+placeholders\["error"\] = ', source)
    found = [("options" if key == "invalid_tariff_overrides" else "config", key) for key in keys]
    # The scan finds the three places that exist today; a new one must be found too.
    assert len(found) >= 3
    return found


@pytest.mark.parametrize("language", [pytest.param(lang, id=lang) for lang in LANGUAGES])
@pytest.mark.parametrize(
    ("flow", "key"), [pytest.param(flow, key, id=key) for flow, key in errors_given_a_reason()]
)
def test_an_error_given_a_reason_shows_it(language: str, flow: str, key: str) -> None:
    """The owner sees which key of a register map or MQTT setting is wrong, not a bare colon."""
    assert "{error}" in load(language)[flow]["error"][key]


@pytest.mark.parametrize("language", [pytest.param(lang, id=lang) for lang in LANGUAGES])
def test_every_entity_is_named_with_its_states(language: str) -> None:
    """Each entity's translation_key has a name, and enum sensors and the select translate each option."""
    entities = load(language)["entity"]
    for platform, description in entity_descriptions():
        assert description.translation_key == description.key or description.translation_key, (
            description.key
        )
        entry = entities[platform][description.translation_key]
        assert entry["name"], description.key
        for option in getattr(description, "options", None) or []:
            assert option in entry["state"], f"{platform}.{description.key}: {option}"
    assert set(entities["select"]["mode"]["state"]) == {mode.value for mode in OperatingMode}
    assert set(entities["sensor"]["decision"]["state"]) == set(DECISION_OPTIONS)
    assert set(entities["sensor"]["decision_reason"]["state"]) == set(REASON_OPTIONS)
    assert set(entities["sensor"]["charger_state"]["state"]) == {
        status.value for status in ChargerStatus
    }


def test_every_entity_has_an_icon() -> None:
    """icons.json gives an icon to every entity whose device class does not bring one."""
    icons = json.loads((PACKAGE / "icons.json").read_text(encoding="utf-8"))["entity"]
    for platform, description in entity_descriptions():
        if description.device_class is not None and description.translation_key not in icons.get(
            platform, {}
        ):
            continue
        assert icons[platform][description.translation_key]["default"].startswith("mdi:"), (
            description.key
        )


@pytest.mark.parametrize("language", [pytest.param(lang, id=lang) for lang in LANGUAGES])
def test_every_python_translation_key_exists(language: str) -> None:
    """Each translation_key raised in the code is an exception, an issue or an entity."""
    translations = load(language)
    known = set(translations["exceptions"]) | set(translations["issues"])
    for platform in translations["entity"].values():
        known |= set(platform)
    assert python_translation_keys() - known == set()


@pytest.mark.parametrize("language", [pytest.param(lang, id=lang) for lang in LANGUAGES])
def test_issues_are_translated(language: str) -> None:
    """Each repair issue has a title, and a description or a fix flow."""
    issues = load(language)["issues"]
    for kind in (ISSUE_CONTROL_REFUSED, ISSUE_PRICES_UNAVAILABLE, ISSUE_TARIFF_DATA_OUTDATED):
        assert issues[kind]["title"]
        assert (
            issues[kind].get("description")
            or issues[kind]["fix_flow"]["step"]["confirm"]["description"]
        )


@pytest.mark.parametrize("language", [pytest.param(lang, id=lang) for lang in LANGUAGES])
def test_services_and_their_selectors_are_translated(language: str) -> None:
    """Every action and field in services.yaml, and every option of its selectors, is translated."""
    translations = load(language)
    services = yaml.safe_load((PACKAGE / "services.yaml").read_text(encoding="utf-8"))
    icons = json.loads((PACKAGE / "icons.json").read_text(encoding="utf-8"))["services"]
    for service, spec in services.items():
        entry = translations["services"][service]
        assert entry["name"]
        assert entry["description"]
        assert icons[service]["service"].startswith("mdi:")
        for field, field_spec in spec["fields"].items():
            assert entry["fields"][field]["name"], field
            assert entry["fields"][field]["description"], field
            select_spec = field_spec["selector"].get("select")
            if select_spec and "translation_key" in select_spec:
                options = translations["selector"][select_spec["translation_key"]]["options"]
                assert set(options) == set(select_spec["options"]), field


@pytest.mark.parametrize("language", [pytest.param(lang, id=lang) for lang in LANGUAGES])
def test_config_flow_selectors_and_fields_are_translated(language: str) -> None:
    """Every selector translation_key in the config flow exists, and every form field has a description."""
    translations = load(language)
    source = (PACKAGE / "config_flow.py").read_text(encoding="utf-8")
    for key in re.findall(r"translation_key=CONF_([A-Z_]+)", source):
        assert key.lower() in translations["selector"], key
    for section in (translations["config"]["step"], translations["options"]["step"]):
        for step in section.values():
            assert set(step.get("data", {})) == set(step.get("data_description", {}))
