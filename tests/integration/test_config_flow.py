"""The config flow against the simulator: success and every error path ends cleanly."""

from __future__ import annotations

import socket
from typing import Any
from unittest.mock import patch

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nordic_v2h.const import DOMAIN
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from quasar_simulator import QuasarSimulator

from .conftest import PRICE_SENSOR, entry_data

PRICES_INPUT: dict[str, Any] = {
    "area": "NO1",
    "currency": "NOK",
    "price_source": "community_entity",
    "price_entity": PRICE_SENSOR,
    "price_entity_includes_vat": False,
}


def unused_port() -> int:
    """Return a loopback port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def no_setup_after_flow() -> Any:
    """Keep the entry from being set up after creation; the flow is what is tested here."""
    with patch("custom_components.nordic_v2h.async_setup_entry", return_value=True) as mock:
        yield mock


async def test_full_flow_creates_entry(hass: HomeAssistant, simulator: QuasarSimulator) -> None:
    """Connection, identification and the price step create an entry keyed by the serial."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": simulator.port, "unit_id": 1}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "prices"

    result = await hass.config_entries.flow.async_configure(result["flow_id"], PRICES_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Wallbox Quasar 123456"
    assert result["result"].unique_id == "123456"
    assert result["data"] == entry_data(simulator.port)


async def test_cannot_connect_then_recovers(hass: HomeAssistant, simulator: QuasarSimulator) -> None:
    """A wrong port shows cannot_connect on the host field; the right one continues."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": unused_port(), "unit_id": 1}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"host": "cannot_connect"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": simulator.port, "unit_id": 1}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], PRICES_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_unexpected_error_then_recovers(hass: HomeAssistant, simulator: QuasarSimulator) -> None:
    """An unexpected failure shows `unknown`; a retry succeeds."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    with patch(
        "custom_components.nordic_v2h.config_flow.NordicV2HConfigFlow._async_identify",
        side_effect=RuntimeError("boom"),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"host": "127.0.0.1", "port": simulator.port, "unit_id": 1}
        )
    assert result["errors"] == {"base": "unknown"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": simulator.port, "unit_id": 1}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], PRICES_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_not_a_charger_then_recovers(hass: HomeAssistant, simulator: QuasarSimulator) -> None:
    """A Modbus device that answers with exceptions is refused as not a supported charger."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    from quasar_simulator.registers import ExceptionCode  # noqa: PLC0415

    simulator.faults.exception_code = ExceptionCode.ILLEGAL_DATA_ADDRESS
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": simulator.port, "unit_id": 1}
    )
    assert result["errors"] == {"base": "not_a_supported_charger"}
    simulator.faults.exception_code = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": simulator.port, "unit_id": 1}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], PRICES_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_price_entity_required_for_sensor_source(hass: HomeAssistant, simulator: QuasarSimulator) -> None:
    """Choosing the sensor source without a sensor asks for it on that field."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": simulator.port, "unit_id": 1}
    )
    without_sensor = {key: value for key, value in PRICES_INPUT.items() if key != "price_entity"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], without_sensor)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"price_entity": "price_entity_required"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], PRICES_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_already_configured_aborts_and_updates_address(
    hass: HomeAssistant, simulator: QuasarSimulator
) -> None:
    """The same charger again aborts, and its entry takes the address just entered."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id="123456", data={**entry_data(1502)})
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": simulator.port, "unit_id": 1}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data["port"] == simulator.port
