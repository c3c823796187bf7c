"""Repair issues: raised only after a lasting problem the owner can fix, and gone on recovery."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import patch

from homeassistant.components.repairs import DOMAIN as REPAIRS_DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nordic_v2h import repairs
from custom_components.nordic_v2h.const import DOMAIN
from quasar_simulator import QuasarSimulator
from quasar_simulator.registers import ControlMode
from quasar_simulator.server import ExceptionCode

from .conftest import PRICE_SENSOR, price_attributes
from .helpers import select_mode
from .owner_helpers import advance


def issue(hass: HomeAssistant, kind: str, entry: MockConfigEntry) -> ir.IssueEntry | None:
    """Return the entry's issue of this kind, if raised."""
    return ir.async_get(hass).async_get_issue(DOMAIN, repairs.entry_issue_id(kind, entry.entry_id))


def check_at(hass: HomeAssistant, entry: MockConfigEntry, moment_offset: timedelta) -> None:
    """Run the issue check as if `moment_offset` had passed."""
    later = dt_util.utcnow() + moment_offset
    monitor_check = next(
        listener
        for listener in entry.runtime_data.controller._listeners.values()
        if getattr(listener[0], "__self__", None).__class__ is repairs.IssueMonitor
    )[0]
    with patch.object(repairs, "dt_util", SimpleNamespace(utcnow=lambda: later)):
        monitor_check()


@pytest.mark.parametrize(
    ("generated", "today", "outdated"),
    [
        pytest.param(date(2026, 11, 24), date(2026, 12, 31), False, id="same_year_current"),
        pytest.param(date(2026, 11, 24), date(2027, 1, 1), True, id="new_year_outdated"),
        pytest.param(None, date(2030, 1, 1), False, id="no_data_no_issue"),
    ],
)
def test_tariff_data_outdated(generated: date | None, today: date, outdated: bool) -> None:
    """Shipped tariffs are outdated from the first day of a later year."""
    assert repairs.tariff_data_outdated(generated, today) is outdated


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param('{"generated": "2026-11-24"}', date(2026, 11, 24), id="build_date_read"),
        pytest.param('{"format": 1}', None, id="no_build_date"),
        pytest.param("not json", None, id="damaged_file"),
        pytest.param(None, None, id="missing_file"),
    ],
)
def test_load_tariff_data_date(tmp_path: Path, content: str | None, expected: date | None) -> None:
    """The build date is read when present; anything else means no tariff issue."""
    path = tmp_path / "tariff_presets.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert repairs.load_tariff_data_date(path) == expected


async def test_prices_unavailable_for_hours(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Six hours without prices raise the issue; prices coming back remove it."""
    prices = init_integration.runtime_data.price_coordinator
    hass.states.async_remove(PRICE_SENSOR)
    prices.data = None  # type: ignore[assignment]
    await prices.async_refresh()
    assert not prices.last_update_success
    check_at(hass, init_integration, timedelta(0))
    assert issue(hass, repairs.ISSUE_PRICES_UNAVAILABLE, init_integration) is None
    check_at(hass, init_integration, timedelta(hours=5))
    assert issue(hass, repairs.ISSUE_PRICES_UNAVAILABLE, init_integration) is None
    check_at(hass, init_integration, timedelta(hours=6, minutes=1))
    raised = issue(hass, repairs.ISSUE_PRICES_UNAVAILABLE, init_integration)
    assert raised is not None
    assert raised.translation_key == repairs.ISSUE_PRICES_UNAVAILABLE
    assert not raised.is_fixable

    hass.states.async_set(PRICE_SENSOR, "0.6", price_attributes(dt_util.utcnow()))
    await prices.async_refresh()
    assert prices.last_update_success
    check_at(hass, init_integration, timedelta(hours=7))
    assert issue(hass, repairs.ISSUE_PRICES_UNAVAILABLE, init_integration) is None


async def test_charger_refusing_control(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """Minutes of refused commands raise a fixable issue; the fix flow succeeds once the charger obeys."""
    await select_mode(hass, "charge_now")
    await advance(hass, simulator, 10)
    # The charger's grid-code setting forbids discharging: every discharge setpoint is refused.
    simulator.discharge_allowed = False
    await select_mode(hass, "discharge")
    await advance(hass, simulator, 5)
    assert init_integration.runtime_data.controller.data.reason.value == "charger_error"
    check_at(hass, init_integration, timedelta(minutes=1))
    assert issue(hass, repairs.ISSUE_CONTROL_REFUSED, init_integration) is None
    check_at(hass, init_integration, timedelta(minutes=6))
    raised = issue(hass, repairs.ISSUE_CONTROL_REFUSED, init_integration)
    assert raised is not None
    assert raised.is_fixable

    assert await async_setup_component(hass, REPAIRS_DOMAIN, {})
    flow = await repairs.async_create_fix_flow(hass, raised.issue_id, raised.data)
    flow.hass = hass
    result = await flow.async_step_init()
    assert result["step_id"] == "confirm"
    result = await flow.async_step_confirm({})
    assert result["type"] == "abort"
    assert result["reason"] == "still_refused"

    simulator.discharge_allowed = True
    result = await flow.async_step_confirm({})
    assert result["type"] == "create_entry"
    assert issue(hass, repairs.ISSUE_CONTROL_REFUSED, init_integration) is None


async def test_a_refused_hand_back_is_fixed_only_once_the_charger_takes_it(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """In Off the refusal is of the hand-back: the fix tries it again and tells the truth."""
    await select_mode(hass, "charge_now")
    await advance(hass, simulator, 10)
    simulator.faults.exception_code = ExceptionCode.SERVER_DEVICE_FAILURE
    await select_mode(hass, "off")
    assert init_integration.runtime_data.controller.data.reason.value == "charger_error"
    check_at(hass, init_integration, timedelta(minutes=1))
    check_at(hass, init_integration, timedelta(minutes=6))
    raised = issue(hass, repairs.ISSUE_CONTROL_REFUSED, init_integration)
    assert raised is not None

    assert await async_setup_component(hass, REPAIRS_DOMAIN, {})
    flow = await repairs.async_create_fix_flow(hass, raised.issue_id, raised.data)
    flow.hass = hass
    await flow.async_step_init()
    result = await flow.async_step_confirm({})
    assert result["reason"] == "still_refused"
    assert simulator.control_mode is ControlMode.REMOTE

    simulator.faults.exception_code = None
    result = await flow.async_step_confirm({})
    assert result["type"] == "create_entry"
    assert simulator.control_mode is ControlMode.USER


async def test_a_fix_in_idle_keeps_track_of_control(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """The fix asks for control afresh but does not forget it holds it: unload hands it back."""
    await select_mode(hass, "charge_now")
    await advance(hass, simulator, 10)
    await select_mode(hass, "idle")
    await advance(hass, simulator, 5)
    assert simulator.control_mode is ControlMode.REMOTE
    flow = repairs.ControlRefusedRepairFlow(init_integration.entry_id)
    flow.hass = hass
    result = await flow.async_step_confirm({})
    assert result["type"] == "create_entry"
    assert simulator.control_mode is ControlMode.REMOTE
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert simulator.control_mode is ControlMode.USER


async def test_tariff_issue_and_cleanup_on_unload(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Tariff data from a past year raises an issue; unloading the entry removes its issues."""
    monitor = repairs.IssueMonitor(hass, init_integration, date(2000, 1, 1))
    monitor.async_check()
    raised = issue(hass, repairs.ISSUE_TARIFF_DATA_OUTDATED, init_integration)
    assert raised is not None
    assert raised.translation_placeholders == {"title": init_integration.title}
    monitor.tariff_data_date = dt_util.utcnow().date()
    monitor.async_check()
    assert issue(hass, repairs.ISSUE_TARIFF_DATA_OUTDATED, init_integration) is None

    monitor.tariff_data_date = date(2000, 1, 1)
    monitor.async_check()
    await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert issue(hass, repairs.ISSUE_TARIFF_DATA_OUTDATED, init_integration) is None


async def test_fix_flow_needs_an_entry(hass: HomeAssistant) -> None:
    """An issue without an entry id cannot be fixed."""
    with pytest.raises(ValueError, match="no entry"):
        await repairs.async_create_fix_flow(hass, "x", None)


async def test_hung_charger_raises_and_clears_a_repair_issue(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """A charger that keeps the connection open but stops answering gets a repair issue until it answers."""
    issue_id = repairs.entry_issue_id(
        repairs.ISSUE_CHARGER_NOT_RESPONDING, init_integration.entry_id
    )
    transport = init_integration.runtime_data.transport
    simulator.faults.hang = True
    charger = init_integration.runtime_data.charger_coordinator
    for _ in range(repairs.NOT_RESPONDING_AFTER_TIMEOUTS):
        await charger.async_refresh()
    assert transport.consecutive_timeouts >= repairs.NOT_RESPONDING_AFTER_TIMEOUTS
    await init_integration.runtime_data.controller.async_refresh()
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

    simulator.faults.hang = False
    await charger.async_refresh()
    await init_integration.runtime_data.controller.async_refresh()
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
