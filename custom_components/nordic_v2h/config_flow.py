"""Config flow: connect to the charger and identify it, then choose where prices come from.

The options flow holds the planner preferences; the reconfigure flow changes the address of
the same charger (it connects and identifies it again before saving).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_PORT, UnitOfEnergy, UnitOfPower, UnitOfTime
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
)

from .const import (
    AREAS,
    CONF_AREA,
    CONF_BATTERY_KWH,
    CONF_BOOST_DURATION_MIN,
    CONF_CONTRACT,
    CONF_CURRENCY,
    CONF_GRID_COMPANY,
    CONF_HOUSE_POWER_ENTITY,
    CONF_MAIN_FUSE_A,
    CONF_MAIN_FUSE_IMPORT_W,
    CONF_MQTT,
    CONF_PRICE_ENTITY,
    CONF_PRICE_ENTITY_INCLUDES_VAT,
    CONF_PRICE_SOURCE,
    CONF_REGISTER_MAP,
    CONF_TARIFF_OVERRIDES,
    CONF_TAX_ZONE,
    CONF_TRANSPORT,
    CONF_UNIT_ID,
    CONTRACTS,
    CURRENCIES,
    DEFAULT_AREA,
    DEFAULT_BOOST_DURATION_MIN,
    DEFAULT_CURRENCY,
    DEFAULT_PORT,
    DEFAULT_UNIT_ID,
    DOMAIN,
    LOGGER,
    MAX_BOOST_DURATION_MIN,
    MQTT_DOMAIN,
    TAX_ZONES,
    TRANSPORT_MODBUS,
    TRANSPORT_MQTT,
    PriceSourceKind,
)
from .core.tariff_model import CapacityMethod
from .core.tariff_presets import load_presets
from .costs import validate_tariff_overrides
from .helpers import create_transport, parse_register_map
from .settings import ControlSettings
from .transport import ChargerIdentity, TransportConnectionError, TransportError
from .transport.mqtt_profile import (
    MAX_DEVICE_WATCHDOG_S,
    MIN_DEVICE_WATCHDOG_S,
    MqttChargerConfig,
    MqttConfigError,
)
from .validation import vol

if TYPE_CHECKING:
    from .data import NordicV2HConfigEntry


CONNECTION_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HOST): TextSelector(),
        vol.Required(CONF_PORT, default=DEFAULT_PORT): NumberSelector(
            NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX)
        ),
        vol.Required(CONF_UNIT_ID, default=DEFAULT_UNIT_ID): NumberSelector(
            NumberSelectorConfig(min=0, max=247, step=1, mode=NumberSelectorMode.BOX)
        ),
    }
)


# ConfigFlow reserves `async_step_mqtt` for MQTT discovery, so the manual MQTT step has its own name.
STEP_MQTT_CHARGER = "mqtt_charger"

MODBUS_SCHEMA = CONNECTION_SCHEMA.extend(
    {vol.Optional(CONF_REGISTER_MAP): TextSelector(TextSelectorConfig(multiline=True))}
)

_POWER_W = NumberSelectorConfig(
    min=0, max=50000, step=10, mode=NumberSelectorMode.BOX, unit_of_measurement="W"
)

MQTT_SCHEMA = vol.Schema(
    {
        vol.Required("device_id"): TextSelector(),
        vol.Required("setpoint_topic"): TextSelector(),
        vol.Optional("setpoint_json_key"): TextSelector(),
        vol.Required("state_topic"): TextSelector(),
        vol.Required("power_path", default="power_w"): TextSelector(),
        vol.Required("plugged_path", default="plugged"): TextSelector(),
        vol.Optional("soc_path"): TextSelector(),
        vol.Optional("status_path"): TextSelector(),
        vol.Optional("availability_topic"): TextSelector(),
        vol.Optional("control_topic"): TextSelector(),
        vol.Required("can_discharge", default=True): BooleanSelector(),
        vol.Required("min_power_w", default=1380): NumberSelector(_POWER_W),
        vol.Required("max_charge_power_w", default=7400): NumberSelector(_POWER_W),
        vol.Required("max_discharge_power_w", default=7400): NumberSelector(_POWER_W),
        vol.Optional("device_watchdog_s"): NumberSelector(
            NumberSelectorConfig(
                min=MIN_DEVICE_WATCHDOG_S,
                max=MAX_DEVICE_WATCHDOG_S,
                step=1,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement=UnitOfTime.SECONDS,
            )
        ),
    }
)


def _prices_schema(defaults: dict[str, Any]) -> vol.Schema:
    """Return the price step's form, pre-filled with what the user entered before."""
    house = defaults.get(CONF_HOUSE_POWER_ENTITY)
    price_entity = defaults.get(CONF_PRICE_ENTITY)
    return vol.Schema(
        {
            vol.Required(CONF_AREA, default=defaults.get(CONF_AREA, DEFAULT_AREA)): SelectSelector(
                SelectSelectorConfig(options=list(AREAS), translation_key=CONF_AREA)
            ),
            vol.Required(
                CONF_CURRENCY, default=defaults.get(CONF_CURRENCY, DEFAULT_CURRENCY)
            ): SelectSelector(
                SelectSelectorConfig(options=list(CURRENCIES), translation_key=CONF_CURRENCY)
            ),
            vol.Required(
                CONF_PRICE_SOURCE,
                default=defaults.get(CONF_PRICE_SOURCE, PriceSourceKind.NORDPOOL.value),
            ): SelectSelector(
                SelectSelectorConfig(
                    options=[kind.value for kind in PriceSourceKind],
                    translation_key=CONF_PRICE_SOURCE,
                    mode=SelectSelectorMode.LIST,
                )
            ),
            vol.Optional(
                CONF_PRICE_ENTITY,
                description={"suggested_value": price_entity} if price_entity else None,
            ): EntitySelector(EntitySelectorConfig(domain="sensor")),
            vol.Optional(
                CONF_PRICE_ENTITY_INCLUDES_VAT,
                default=defaults.get(CONF_PRICE_ENTITY_INCLUDES_VAT, True),
            ): BooleanSelector(),
            vol.Optional(
                CONF_HOUSE_POWER_ENTITY, description={"suggested_value": house} if house else None
            ): EntitySelector(EntitySelectorConfig(domain="sensor", device_class="power")),
        }
    )


def _tariff_schema(companies: list[str]) -> vol.Schema:
    """Return the tariff step's form: a searchable list of the bundled grid companies."""
    return vol.Schema(
        {
            vol.Required(CONF_GRID_COMPANY): SelectSelector(
                SelectSelectorConfig(options=companies, mode=SelectSelectorMode.DROPDOWN, sort=True)
            ),
            vol.Required(CONF_CONTRACT, default=CONTRACTS[0]): SelectSelector(
                SelectSelectorConfig(options=list(CONTRACTS), translation_key=CONF_CONTRACT)
            ),
            vol.Optional(CONF_TAX_ZONE): SelectSelector(
                SelectSelectorConfig(options=list(TAX_ZONES), translation_key=CONF_TAX_ZONE)
            ),
            vol.Optional(CONF_MAIN_FUSE_A): NumberSelector(
                NumberSelectorConfig(
                    min=10, max=400, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="A"
                )
            ),
            vol.Required(CONF_BATTERY_KWH, default=ControlSettings().battery_kwh): NumberSelector(
                NumberSelectorConfig(
                    min=5,
                    max=250,
                    step=0.5,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
                )
            ),
        }
    )


def _options_schema(options: dict[str, Any]) -> vol.Schema:
    """Return the planner-preferences form, pre-filled with the options in force."""
    fuse = options.get(CONF_MAIN_FUSE_IMPORT_W)
    overrides = options.get(CONF_TARIFF_OVERRIDES)
    return vol.Schema(
        {
            vol.Required(
                CONF_BATTERY_KWH,
                default=options.get(CONF_BATTERY_KWH, ControlSettings().battery_kwh),
            ): NumberSelector(
                NumberSelectorConfig(
                    min=5,
                    max=250,
                    step=0.5,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
                )
            ),
            vol.Optional(
                CONF_MAIN_FUSE_IMPORT_W,
                description={"suggested_value": fuse} if fuse is not None else None,
            ): NumberSelector(
                NumberSelectorConfig(
                    min=1000,
                    max=200_000,
                    step=100,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement=UnitOfPower.WATT,
                )
            ),
            vol.Required(
                CONF_BOOST_DURATION_MIN,
                default=options.get(CONF_BOOST_DURATION_MIN, DEFAULT_BOOST_DURATION_MIN),
            ): NumberSelector(
                NumberSelectorConfig(
                    min=1,
                    max=MAX_BOOST_DURATION_MIN,
                    step=1,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement=UnitOfTime.MINUTES,
                )
            ),
            vol.Optional(
                CONF_TARIFF_OVERRIDES,
                description={"suggested_value": overrides} if overrides else None,
            ): TextSelector(TextSelectorConfig(multiline=True)),
        }
    )


def _clean_options(user_input: dict[str, Any]) -> dict[str, Any]:
    """Return the options with whole numbers where the planner expects them.

    Raises ValueError when the tariff overrides are not a JSON object.
    """
    options: dict[str, Any] = {
        CONF_BATTERY_KWH: float(user_input[CONF_BATTERY_KWH]),
        CONF_BOOST_DURATION_MIN: int(user_input[CONF_BOOST_DURATION_MIN]),
    }
    if user_input.get(CONF_MAIN_FUSE_IMPORT_W) is not None:
        options[CONF_MAIN_FUSE_IMPORT_W] = int(user_input[CONF_MAIN_FUSE_IMPORT_W])
    if overrides_text := str(user_input.get(CONF_TARIFF_OVERRIDES) or "").strip():
        try:
            overrides = json.loads(overrides_text)
        except json.JSONDecodeError as error:
            raise ValueError(f"not valid JSON: {error}") from error
        if not isinstance(overrides, dict):
            raise ValueError("the tariff overrides must be a JSON object")
        options[CONF_TARIFF_OVERRIDES] = overrides
    return options


class NordicV2HOptionsFlow(OptionsFlow):
    """Change the planner preferences: battery size, main fuse and how long a boost lasts."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the preferences and save them."""
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            try:
                options = _clean_options(user_input)
                if CONF_TARIFF_OVERRIDES in options:
                    await self.hass.async_add_executor_job(
                        validate_tariff_overrides, dict(self.config_entry.data), options
                    )
            except ValueError as error:
                errors[CONF_TARIFF_OVERRIDES] = "invalid_tariff_overrides"
                placeholders["error"] = str(error)
            else:
                return self.async_create_entry(data=options)
        current = dict(self.config_entry.options)
        if CONF_TARIFF_OVERRIDES in current:
            current[CONF_TARIFF_OVERRIDES] = json.dumps(current[CONF_TARIFF_OVERRIDES], indent=2)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                _options_schema(current), user_input or {}
            ),
            errors=errors,
            description_placeholders=placeholders,
        )


class NordicV2HConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a bidirectional charger: connection first, then prices and the house meter."""

    VERSION = 1
    MINOR_VERSION = 2

    def __init__(self) -> None:
        """Start with nothing entered."""
        self._connection: dict[str, Any] = {}
        self._identity: ChargerIdentity | None = None
        self._prices: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: NordicV2HConfigEntry) -> NordicV2HOptionsFlow:
        """Return the options flow."""
        return NordicV2HOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask how the charger is reached: Modbus TCP or the MQTT broker of Home Assistant."""
        return self.async_show_menu(
            step_id="user", menu_options=[TRANSPORT_MODBUS, STEP_MQTT_CHARGER]
        )

    async def async_step_modbus(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the charger's address (and a register map for other chargers), connect and identify it."""
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            connection: dict[str, Any] = {
                CONF_TRANSPORT: TRANSPORT_MODBUS,
                CONF_HOST: str(user_input[CONF_HOST]).strip(),
                CONF_PORT: int(user_input[CONF_PORT]),
                CONF_UNIT_ID: int(user_input[CONF_UNIT_ID]),
            }
            register_map_text = str(user_input.get(CONF_REGISTER_MAP) or "").strip()
            if register_map_text:
                try:
                    connection[CONF_REGISTER_MAP] = parse_register_map(register_map_text)
                except ValueError as error:
                    errors[CONF_REGISTER_MAP] = "invalid_register_map"
                    placeholders["error"] = str(error)
            if not errors:
                result = await self._async_connect(connection, errors)
                if result is not None:
                    return result
        return self.async_show_form(
            step_id=TRANSPORT_MODBUS,
            data_schema=self.add_suggested_values_to_schema(MODBUS_SCHEMA, user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_mqtt_charger(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the charger's MQTT topics and limits, then wait for the broker and identify it."""
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            if MQTT_DOMAIN not in self.hass.config.components:
                errors["base"] = "mqtt_not_set_up"
            else:
                settings = {
                    key: value for key, value in user_input.items() if value not in (None, "")
                }
                # Number selectors return floats; the charger description takes whole watts.
                for key in ("min_power_w", "max_charge_power_w", "max_discharge_power_w"):
                    settings[key] = int(settings.get(key, 0))
                if "device_watchdog_s" in settings:
                    settings["device_watchdog_s"] = int(settings["device_watchdog_s"])
                try:
                    MqttChargerConfig.from_dict(settings)
                except MqttConfigError as error:
                    errors["base"] = "invalid_mqtt_config"
                    placeholders["error"] = str(error)
                else:
                    result = await self._async_connect(
                        {CONF_TRANSPORT: TRANSPORT_MQTT, CONF_MQTT: settings}, errors
                    )
                    if result is not None:
                        return result
        return self.async_show_form(
            step_id=STEP_MQTT_CHARGER,
            data_schema=self.add_suggested_values_to_schema(MQTT_SCHEMA, user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )

    @callback
    def _async_store_connection(
        self, entry: NordicV2HConfigEntry, connection: dict[str, Any]
    ) -> None:
        """Store the charger's new connection in its entry, which then runs on it.

        A running entry reloads itself from its update listener when its data change (Home
        Assistant refuses a flow's reload of an entry with an update listener from 2026.12);
        an entry that is not running, such as one waiting to retry its setup, is reloaded
        here, so that it tries the new address at once.
        """
        running = entry.state is ConfigEntryState.LOADED
        self.hass.config_entries.async_update_entry(entry, data={**entry.data, **connection})
        if not running:
            self.hass.config_entries.async_schedule_reload(entry.entry_id)

    async def _async_connect(
        self, connection: dict[str, Any], errors: dict[str, str]
    ) -> ConfigFlowResult | None:
        """Identify the charger; continue to the prices on success, fill `errors` otherwise."""
        identity = await self._async_identify_or_error(connection, errors)
        if identity is not None:
            existing = await self.async_set_unique_id(identity.serial)
            # A running entry reloads itself when its data change (`_async_store_connection`).
            self._abort_if_unique_id_configured(
                updates=connection,
                reload_on_update=existing is None or existing.state is not ConfigEntryState.LOADED,
            )
            self._connection = connection
            self._identity = identity
            return await self.async_step_prices()
        return None

    async def async_step_prices(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the bidding area, the currency, the price source and the house meter."""
        errors: dict[str, str] = {}
        if user_input is not None:
            source = PriceSourceKind(user_input[CONF_PRICE_SOURCE])
            if source is PriceSourceKind.COMMUNITY_ENTITY and not user_input.get(CONF_PRICE_ENTITY):
                errors[CONF_PRICE_ENTITY] = "price_entity_required"
            else:
                self._prices = dict(user_input)
                return await self.async_step_tariff()
        return self.async_show_form(
            step_id="prices",
            data_schema=_prices_schema(user_input or {}),
            errors=errors,
        )

    async def async_step_tariff(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the grid company, the contract, the tax zone, the main fuse and the battery size."""
        presets = await self.hass.async_add_executor_job(load_presets)
        errors: dict[str, str] = {}
        if user_input is not None:
            tariff = presets.tariffs(user_input[CONF_GRID_COMPANY])[-1]
            fuse = user_input.get(CONF_MAIN_FUSE_A)
            if tariff.capacity_method is CapacityMethod.FUSE_SIZE and fuse is None:
                errors[CONF_MAIN_FUSE_A] = "main_fuse_required"
            else:
                assert self._identity is not None
                data = {
                    **self._connection,
                    **self._prices,
                    CONF_GRID_COMPANY: user_input[CONF_GRID_COMPANY],
                    CONF_CONTRACT: user_input[CONF_CONTRACT],
                    # Left empty, the zone is the company's: no VAT in the north.
                    CONF_TAX_ZONE: user_input.get(CONF_TAX_ZONE) or tariff.vat_zone.value,
                }
                if fuse is not None:
                    data[CONF_MAIN_FUSE_A] = float(fuse)
                return self.async_create_entry(
                    title=f"{self._identity.manufacturer} {self._identity.model} {self._identity.serial}",
                    data=data,
                    options={
                        CONF_BATTERY_KWH: float(user_input[CONF_BATTERY_KWH]),
                        CONF_BOOST_DURATION_MIN: DEFAULT_BOOST_DURATION_MIN,
                    },
                )
        return self.async_show_form(
            step_id="tariff",
            data_schema=self.add_suggested_values_to_schema(
                _tariff_schema(presets.companies()), user_input or {}
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the address of the same charger: connect, identify, and refuse a different one."""
        entry = self._get_reconfigure_entry()
        if entry.data.get(CONF_TRANSPORT) == TRANSPORT_MQTT:
            # An MQTT charger has no address: its topics are chosen when it is added.
            return self.async_abort(reason="reconfigure_mqtt")
        errors: dict[str, str] = {}
        if user_input is not None:
            connection = {
                CONF_HOST: str(user_input[CONF_HOST]).strip(),
                CONF_PORT: int(user_input[CONF_PORT]),
                CONF_UNIT_ID: int(user_input[CONF_UNIT_ID]),
            }
            # The rest of the entry's data (such as a register map) describes the same charger.
            identity = await self._async_identify_or_error({**entry.data, **connection}, errors)
            if identity is not None:
                await self.async_set_unique_id(identity.serial)
                self._abort_if_unique_id_mismatch(reason="wrong_charger")
                self._async_store_connection(entry, connection)
                return self.async_abort(reason="reconfigure_successful")
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                CONNECTION_SCHEMA, user_input or dict(entry.data)
            ),
            errors=errors,
        )

    async def _async_identify_or_error(
        self, connection: dict[str, Any], errors: dict[str, str]
    ) -> ChargerIdentity | None:
        """Identify the charger, or put the reason it failed into `errors` and return None."""
        try:
            return await self._async_identify(connection)
        except TransportConnectionError:
            field = (
                CONF_HOST
                if connection.get(CONF_TRANSPORT, TRANSPORT_MODBUS) == TRANSPORT_MODBUS
                else "base"
            )
            errors[field] = "cannot_connect"
        except TransportError:
            errors["base"] = "not_a_supported_charger"
        except Exception:  # noqa: BLE001 - the flow must end cleanly on any failure
            LOGGER.exception("Unexpected error while identifying the charger")
            errors["base"] = "unknown"
        return None

    async def _async_identify(self, connection: dict[str, Any]) -> ChargerIdentity:
        """Connect to the charger, read who it is, and close the connection again."""
        transport = create_transport(self.hass, connection)
        try:
            await transport.connect()
            return await transport.identify()
        finally:
            await transport.close()
