"""The config flow against the simulator: success and every error path ends cleanly."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nordic_v2h.const import DOMAIN
from quasar_simulator import QuasarSimulator

from .conftest import PRICE_SENSOR, entry_data
from .helpers import unused_port

PRICES_INPUT: dict[str, Any] = {
    "area": "NO1",
    "currency": "NOK",
    "price_source": "community_entity",
    "price_entity": PRICE_SENSOR,
    "price_entity_includes_vat": False,
}


TARIFF_INPUT: dict[str, Any] = {"grid_company": "Elvia", "contract": "spot", "battery_kwh": 60.0}
TARIFF_DATA: dict[str, Any] = {"grid_company": "Elvia", "contract": "spot", "tax_zone": "standard"}


async def configure_prices_and_tariff(hass: HomeAssistant, result: Any) -> Any:
    """Fill in the price step and then the tariff step."""
    result = await hass.config_entries.flow.async_configure(result["flow_id"], PRICES_INPUT)
    assert result["step_id"] == "tariff"
    return await hass.config_entries.flow.async_configure(result["flow_id"], TARIFF_INPUT)


async def start_modbus_flow(hass: HomeAssistant) -> Any:
    """Start the user flow and choose Modbus TCP in its menu."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "modbus"}
    )


@pytest.fixture(autouse=True)
def no_setup_after_flow() -> Any:
    """Keep the entry from being set up after creation; the flow is what is tested here."""
    with patch("custom_components.nordic_v2h.async_setup_entry", return_value=True) as mock:
        yield mock


async def test_full_flow_creates_entry(hass: HomeAssistant, simulator: QuasarSimulator) -> None:
    """Connection, identification and the price step create an entry keyed by the serial."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["modbus", "mqtt_charger"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "modbus"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "modbus"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": simulator.port, "unit_id": 1}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "prices"

    result = await hass.config_entries.flow.async_configure(result["flow_id"], PRICES_INPUT)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "tariff"

    result = await hass.config_entries.flow.async_configure(result["flow_id"], TARIFF_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Wallbox Quasar 123456"
    assert result["result"].unique_id == "123456"
    assert result["data"] == {**entry_data(simulator.port), **TARIFF_DATA}
    assert result["options"]["battery_kwh"] == TARIFF_INPUT["battery_kwh"]


async def test_cannot_connect_then_recovers(
    hass: HomeAssistant, simulator: QuasarSimulator
) -> None:
    """A wrong port shows cannot_connect on the host field; the right one continues."""
    result = await start_modbus_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": unused_port(), "unit_id": 1}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"host": "cannot_connect"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": simulator.port, "unit_id": 1}
    )
    result = await configure_prices_and_tariff(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_unexpected_error_then_recovers(
    hass: HomeAssistant, simulator: QuasarSimulator
) -> None:
    """An unexpected failure shows `unknown`; a retry succeeds."""
    result = await start_modbus_flow(hass)
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
    result = await configure_prices_and_tariff(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_not_a_charger_then_recovers(hass: HomeAssistant, simulator: QuasarSimulator) -> None:
    """A Modbus device that answers with exceptions is refused as not a supported charger."""
    result = await start_modbus_flow(hass)
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
    result = await configure_prices_and_tariff(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_price_entity_required_for_sensor_source(
    hass: HomeAssistant, simulator: QuasarSimulator
) -> None:
    """Choosing the sensor source without a sensor asks for it on that field."""
    result = await start_modbus_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": simulator.port, "unit_id": 1}
    )
    without_sensor = {key: value for key, value in PRICES_INPUT.items() if key != "price_entity"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], without_sensor)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"price_entity": "price_entity_required"}
    result = await configure_prices_and_tariff(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_already_configured_aborts_and_updates_address(
    hass: HomeAssistant, simulator: QuasarSimulator
) -> None:
    """The same charger again aborts, and its entry takes the address just entered."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id="123456", data={**entry_data(1502)})
    entry.add_to_hass(hass)
    result = await start_modbus_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": simulator.port, "unit_id": 1}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data["port"] == simulator.port


QUASAR_LIKE_REGISTER_MAP = """{"key": "bad"}"""


async def test_invalid_register_map_is_refused_then_quasar_default_works(
    hass: HomeAssistant, simulator: QuasarSimulator
) -> None:
    """A register map that is not valid JSON or not a valid profile is refused on its field."""
    result = await start_modbus_flow(hass)
    for text in ("{not json", '{"key": "x"}', "[1, 2]"):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {"host": "127.0.0.1", "port": simulator.port, "unit_id": 1, "register_map": text},
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"register_map": "invalid_register_map"}
        assert result["description_placeholders"]["error"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"host": "127.0.0.1", "port": simulator.port, "unit_id": 1, "register_map": ""},
    )
    result = await configure_prices_and_tariff(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "register_map" not in result["data"]


MQTT_INPUT: dict[str, Any] = {
    "device_id": "garage-v2h",
    "setpoint_topic": "v2h/garage/setpoint",
    "state_topic": "v2h/garage/state",
    "power_path": "power_w",
    "plugged_path": "plugged",
    "soc_path": "soc",
    "can_discharge": True,
    "min_power_w": 1380,
    "max_charge_power_w": 7400,
    "max_discharge_power_w": 7400,
}


@pytest.mark.parametrize(
    ("changes", "expected_error"),
    [
        pytest.param(
            {"max_discharge_power_w": 100}, "invalid_mqtt_config", id="discharge_below_minimum"
        ),
        pytest.param(
            {"setpoint_topic": "v2h/+/setpoint"}, "invalid_mqtt_config", id="wildcard_topic"
        ),
    ],
)
async def test_mqtt_step_errors(
    hass: HomeAssistant, changes: dict[str, Any], expected_error: str
) -> None:
    """The MQTT step refuses an invalid charger description, and needs the MQTT integration."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "mqtt_charger"}
    )
    assert result["step_id"] == "mqtt_charger"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], MQTT_INPUT)
    assert result["errors"] == {"base": "mqtt_not_set_up"}
    hass.config.components.add("mqtt")
    try:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**MQTT_INPUT, **changes}
        )
        assert result["errors"] == {"base": expected_error}
        assert result["description_placeholders"]["error"]
    finally:
        hass.config.components.remove("mqtt")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], MQTT_INPUT)
    assert result["errors"] == {"base": "mqtt_not_set_up"}


async def reach_tariff_step(hass: HomeAssistant, simulator: QuasarSimulator) -> Any:
    """Go through the connection and price steps to the tariff step."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    if result["type"] is FlowResultType.MENU:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "modbus"}
        )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": simulator.port, "unit_id": 1}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], PRICES_INPUT)
    assert result["step_id"] == "tariff"
    return result


async def test_tariff_step_lists_every_preset_company(
    hass: HomeAssistant, simulator: QuasarSimulator
) -> None:
    """The grid company is a sorted, searchable dropdown of the 73 bundled companies."""
    result = await reach_tariff_step(hass, simulator)
    selector = result["data_schema"].schema["grid_company"].config
    assert {"Elvia", "BKK", "Arva", "Tensio TN"} <= set(selector["options"])
    assert len(selector["options"]) == 73
    assert selector["sort"] is True
    assert selector["mode"] == "dropdown"


@pytest.mark.parametrize(
    ("tariff_input", "expected_data"),
    [
        pytest.param(
            {"grid_company": "BKK", "contract": "norgespris", "battery_kwh": 40.0},
            {"grid_company": "BKK", "contract": "norgespris", "tax_zone": "standard"},
            id="southern_company_defaults_to_standard_vat",
        ),
        pytest.param(
            {"grid_company": "Arva", "contract": "spot", "battery_kwh": 40.0},
            {"grid_company": "Arva", "contract": "spot", "tax_zone": "nord_norge"},
            id="northern_company_defaults_to_no_vat_zone",
        ),
        pytest.param(
            {"grid_company": "Barents Nett", "contract": "spot", "battery_kwh": 40.0},
            {"grid_company": "Barents Nett", "contract": "spot", "tax_zone": "tiltakssone"},
            id="finnmark_company_defaults_to_action_zone",
        ),
        pytest.param(
            {
                "grid_company": "Arva",
                "contract": "spot",
                "tax_zone": "standard",
                "battery_kwh": 40.0,
            },
            {"grid_company": "Arva", "contract": "spot", "tax_zone": "standard"},
            id="chosen_zone_overrides_the_company_zone",
        ),
        pytest.param(
            {"grid_company": "Elvia", "contract": "spot", "main_fuse_a": 63, "battery_kwh": 75.0},
            {
                "grid_company": "Elvia",
                "contract": "spot",
                "tax_zone": "standard",
                "main_fuse_a": 63.0,
            },
            id="main_fuse_is_stored_in_amperes",
        ),
    ],
)
async def test_tariff_step_stores_the_tariff(
    hass: HomeAssistant,
    simulator: QuasarSimulator,
    tariff_input: dict[str, Any],
    expected_data: dict[str, Any],
) -> None:
    """The tariff choices land in the entry's data; the zone follows the company unless chosen."""
    result = await reach_tariff_step(hass, simulator)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], tariff_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {**entry_data(simulator.port), **expected_data}
    assert result["options"]["battery_kwh"] == tariff_input["battery_kwh"]


async def test_fuse_priced_company_needs_the_fuse(
    hass: HomeAssistant, simulator: QuasarSimulator
) -> None:
    """A company that prices capacity by fuse size asks for the fuse, then accepts it."""
    result = await reach_tariff_step(hass, simulator)
    without_fuse = {"grid_company": "Netera", "contract": "spot", "battery_kwh": 40.0}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], without_fuse)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"main_fuse_a": "main_fuse_required"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**without_fuse, "main_fuse_a": 40}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["main_fuse_a"] == 40.0
