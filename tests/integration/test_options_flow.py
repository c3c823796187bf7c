"""Options flow, reconfigure flow and entry migration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nordic_v2h.const import (
    CONF_BATTERY_KWH,
    CONF_BOOST_DURATION_MIN,
    CONF_MAIN_FUSE_IMPORT_W,
    DOMAIN,
)
from quasar_simulator import QuasarSimulator

from .conftest import SERIAL, entry_data
from .helpers import unused_port


@pytest.mark.parametrize(
    ("user_input", "options", "main_fuse_import_w"),
    [
        pytest.param(
            {CONF_BATTERY_KWH: 62, CONF_BOOST_DURATION_MIN: 90, CONF_MAIN_FUSE_IMPORT_W: 11000},
            {CONF_BATTERY_KWH: 62.0, CONF_BOOST_DURATION_MIN: 90, CONF_MAIN_FUSE_IMPORT_W: 11000},
            11000,
            id="all_preferences_with_main_fuse",
        ),
        pytest.param(
            {CONF_BATTERY_KWH: 40, CONF_BOOST_DURATION_MIN: 60},
            {CONF_BATTERY_KWH: 40.0, CONF_BOOST_DURATION_MIN: 60},
            None,
            id="no_main_fuse_limit",
        ),
    ],
)
async def test_options_flow_applies_at_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    user_input: dict[str, Any],
    options: dict[str, Any],
    main_fuse_import_w: int | None,
) -> None:
    """The options are saved and the planner's settings follow without a reload."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert dict(init_integration.options) == options
    settings = init_integration.runtime_data.settings.current
    assert settings.battery_kwh == options[CONF_BATTERY_KWH]
    assert settings.main_fuse_import_w == main_fuse_import_w


async def test_reconfigure_changes_the_address(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: QuasarSimulator
) -> None:
    """A wrong port shows cannot_connect; the right one updates the entry and reloads it."""
    result = await init_integration.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": unused_port(), "unit_id": 1}
    )
    assert result["errors"] == {"host": "cannot_connect"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": " 127.0.0.1 ", "port": simulator.port, "unit_id": 1}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert init_integration.data["host"] == "127.0.0.1"
    assert init_integration.state is ConfigEntryState.LOADED


# Home Assistant (from 2025.11) warns when a flow reloads an entry that has an update
# listener, and from 2026.12 refuses it: the entry's own listener must do the reload.
_RELOAD_WARNING = "has an update listener and should use it for scheduling a reload"


@pytest.fixture
async def moved_charger(socket_enabled: None) -> AsyncIterator[QuasarSimulator]:
    """The same charger (same serial) on another port, as after a new router lease.

    Ask for it before the entry's fixture, so that the entry is unloaded while it still runs.
    """
    moved = QuasarSimulator(manual_time=True, serial=SERIAL)
    moved.plug_in(soc_pct=50.0)
    await moved.start()
    yield moved
    await moved.stop()


@pytest.mark.parametrize(
    "start_state",
    [
        pytest.param(ConfigEntryState.LOADED, id="running_entry"),
        pytest.param(ConfigEntryState.SETUP_RETRY, id="entry_waiting_to_retry"),
    ],
)
async def test_reconfigure_moves_the_entry_to_the_new_address(
    hass: HomeAssistant,
    moved_charger: QuasarSimulator,
    simulator: QuasarSimulator,
    price_sensor: None,
    caplog: pytest.LogCaptureFixture,
    start_state: ConfigEntryState,
) -> None:
    """The entry is set up again at once on the new address, running or waiting to retry."""
    old_port = simulator.port if start_state is ConfigEntryState.LOADED else unused_port()
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=str(SERIAL), data=entry_data(old_port), version=1, minor_version=2
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is start_state

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": moved_charger.port, "unit_id": 1}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PORT] == moved_charger.port
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.transport.port == moved_charger.port  # type: ignore[attr-defined]
    assert _RELOAD_WARNING not in caplog.text
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_adding_a_configured_charger_moves_its_entry(
    hass: HomeAssistant,
    moved_charger: QuasarSimulator,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Adding the same charger at a new address aborts and sets its entry up there."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "modbus"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": moved_charger.port, "unit_id": 1}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.transport.port == moved_charger.port  # type: ignore[attr-defined]
    assert _RELOAD_WARNING not in caplog.text


async def test_reconfigure_refuses_another_charger(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """Pointing the entry at a charger with another serial aborts with wrong_charger."""
    other = QuasarSimulator(manual_time=True, serial=654321)
    await other.start()
    try:
        entry = MockConfigEntry(
            domain=DOMAIN,
            unique_id="123456",
            data=entry_data(other.port),
            version=1,
            minor_version=2,
        )
        entry.add_to_hass(hass)
        result = await entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"host": "127.0.0.1", "port": other.port, "unit_id": 1}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "wrong_charger"
        assert entry.data["port"] == other.port
    finally:
        await other.stop()


@pytest.mark.parametrize(
    ("version", "minor_version", "options", "state", "expected_options"),
    [
        pytest.param(
            1,
            1,
            {},
            ConfigEntryState.LOADED,
            {CONF_BATTERY_KWH: 40.0, CONF_BOOST_DURATION_MIN: 60},
            id="1_1_gets_defaults",
        ),
        pytest.param(
            1,
            1,
            {CONF_BATTERY_KWH: 75.0},
            ConfigEntryState.LOADED,
            {CONF_BATTERY_KWH: 75.0, CONF_BOOST_DURATION_MIN: 60},
            id="1_1_keeps_existing_options",
        ),
        pytest.param(2, 1, {}, ConfigEntryState.MIGRATION_ERROR, {}, id="newer_version_refused"),
    ],
)
async def test_migration(
    hass: HomeAssistant,
    simulator: QuasarSimulator,
    price_sensor: None,
    version: int,
    minor_version: int,
    options: dict[str, Any],
    state: ConfigEntryState,
    expected_options: dict[str, Any],
) -> None:
    """Old entries gain the planner options; entries from a newer version are not touched."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="123456",
        data=entry_data(simulator.port),
        options=options,
        version=version,
        minor_version=minor_version,
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is state
    assert dict(entry.options) == expected_options
    if state is ConfigEntryState.LOADED:
        assert entry.minor_version == 2
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


async def test_reconfigure_mqtt_entry_aborts(hass: HomeAssistant) -> None:
    """An MQTT charger has no address to change; the flow says so instead of asking for one."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="mqtt-charger",
        data={"transport": "mqtt"},
        version=1,
        minor_version=2,
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_mqtt"
