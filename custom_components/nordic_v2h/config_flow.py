"""Config flow: connect to the charger and identify it, then choose where prices come from.

The options flow holds the planner preferences; the reconfigure flow changes the address of
the same charger (it connects and identifies it again before saving).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
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
)

from .const import (
    AREAS,
    CONF_AREA,
    CONF_BATTERY_KWH,
    CONF_BOOST_DURATION_MIN,
    CONF_CURRENCY,
    CONF_HOUSE_POWER_ENTITY,
    CONF_MAIN_FUSE_IMPORT_W,
    CONF_PRICE_ENTITY,
    CONF_PRICE_ENTITY_INCLUDES_VAT,
    CONF_PRICE_SOURCE,
    CONF_TRANSPORT,
    CONF_UNIT_ID,
    CURRENCIES,
    DEFAULT_AREA,
    DEFAULT_BOOST_DURATION_MIN,
    DEFAULT_CURRENCY,
    DEFAULT_PORT,
    DEFAULT_UNIT_ID,
    DOMAIN,
    LOGGER,
    MAX_BOOST_DURATION_MIN,
    PriceSourceKind,
)
from .helpers import create_modbus_transport
from .settings import ControlSettings
from .transport import ChargerIdentity, TransportConnectionError, TransportError
from .validation import vol

if TYPE_CHECKING:
    from .data import NordicV2HConfigEntry

TRANSPORT_MODBUS = "modbus"

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


def _prices_schema(defaults: dict[str, Any]) -> vol.Schema:
    """Return the price step's form, pre-filled with what the user entered before."""
    house = defaults.get(CONF_HOUSE_POWER_ENTITY)
    price_entity = defaults.get(CONF_PRICE_ENTITY)
    return vol.Schema(
        {
            vol.Required(CONF_AREA, default=defaults.get(CONF_AREA, DEFAULT_AREA)): SelectSelector(
                SelectSelectorConfig(options=list(AREAS), translation_key=CONF_AREA)
            ),
            vol.Required(CONF_CURRENCY, default=defaults.get(CONF_CURRENCY, DEFAULT_CURRENCY)): SelectSelector(
                SelectSelectorConfig(options=list(CURRENCIES), translation_key=CONF_CURRENCY)
            ),
            vol.Required(
                CONF_PRICE_SOURCE, default=defaults.get(CONF_PRICE_SOURCE, PriceSourceKind.NORDPOOL.value)
            ): SelectSelector(
                SelectSelectorConfig(
                    options=[kind.value for kind in PriceSourceKind],
                    translation_key=CONF_PRICE_SOURCE,
                    mode=SelectSelectorMode.LIST,
                )
            ),
            vol.Optional(
                CONF_PRICE_ENTITY, description={"suggested_value": price_entity} if price_entity else None
            ): EntitySelector(EntitySelectorConfig(domain="sensor")),
            vol.Optional(
                CONF_PRICE_ENTITY_INCLUDES_VAT, default=defaults.get(CONF_PRICE_ENTITY_INCLUDES_VAT, True)
            ): BooleanSelector(),
            vol.Optional(
                CONF_HOUSE_POWER_ENTITY, description={"suggested_value": house} if house else None
            ): EntitySelector(EntitySelectorConfig(domain="sensor", device_class="power")),
        }
    )


def _options_schema(options: dict[str, Any]) -> vol.Schema:
    """Return the planner-preferences form, pre-filled with the options in force."""
    fuse = options.get(CONF_MAIN_FUSE_IMPORT_W)
    return vol.Schema(
        {
            vol.Required(
                CONF_BATTERY_KWH, default=options.get(CONF_BATTERY_KWH, ControlSettings().battery_kwh)
            ): NumberSelector(
                NumberSelectorConfig(
                    min=5, max=250, step=0.5, mode=NumberSelectorMode.BOX, unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR
                )
            ),
            vol.Optional(
                CONF_MAIN_FUSE_IMPORT_W, description={"suggested_value": fuse} if fuse is not None else None
            ): NumberSelector(
                NumberSelectorConfig(
                    min=1000, max=200_000, step=100, mode=NumberSelectorMode.BOX, unit_of_measurement=UnitOfPower.WATT
                )
            ),
            vol.Required(
                CONF_BOOST_DURATION_MIN, default=options.get(CONF_BOOST_DURATION_MIN, DEFAULT_BOOST_DURATION_MIN)
            ): NumberSelector(
                NumberSelectorConfig(
                    min=1,
                    max=MAX_BOOST_DURATION_MIN,
                    step=1,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement=UnitOfTime.MINUTES,
                )
            ),
        }
    )


def _clean_options(user_input: dict[str, Any]) -> dict[str, Any]:
    """Return the options with whole numbers where the planner expects them."""
    options: dict[str, Any] = {
        CONF_BATTERY_KWH: float(user_input[CONF_BATTERY_KWH]),
        CONF_BOOST_DURATION_MIN: int(user_input[CONF_BOOST_DURATION_MIN]),
    }
    if user_input.get(CONF_MAIN_FUSE_IMPORT_W) is not None:
        options[CONF_MAIN_FUSE_IMPORT_W] = int(user_input[CONF_MAIN_FUSE_IMPORT_W])
    return options


class NordicV2HOptionsFlow(OptionsFlow):
    """Change the planner preferences: battery size, main fuse and how long a boost lasts."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the preferences and save them."""
        if user_input is not None:
            return self.async_create_entry(data=_clean_options(user_input))
        return self.async_show_form(step_id="init", data_schema=_options_schema(dict(self.config_entry.options)))


class NordicV2HConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a bidirectional charger: connection first, then prices and the house meter."""

    VERSION = 1
    MINOR_VERSION = 2

    def __init__(self) -> None:
        """Start with nothing entered."""
        self._connection: dict[str, Any] = {}
        self._identity: ChargerIdentity | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: NordicV2HConfigEntry) -> NordicV2HOptionsFlow:
        """Return the options flow."""
        return NordicV2HOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the charger's address, connect to it and identify it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            connection = {
                CONF_TRANSPORT: TRANSPORT_MODBUS,
                CONF_HOST: str(user_input[CONF_HOST]).strip(),
                CONF_PORT: int(user_input[CONF_PORT]),
                CONF_UNIT_ID: int(user_input[CONF_UNIT_ID]),
            }
            try:
                identity = await self._async_identify(connection)
            except TransportConnectionError:
                errors[CONF_HOST] = "cannot_connect"
            except TransportError:
                errors["base"] = "not_a_supported_charger"
            except Exception:  # noqa: BLE001 - the flow must end cleanly on any failure
                LOGGER.exception("Unexpected error while identifying the charger")
                errors["base"] = "unknown"
            else:
                await self.async_set_unique_id(identity.serial)
                self._abort_if_unique_id_configured(updates=connection)
                self._connection = connection
                self._identity = identity
                return await self.async_step_prices()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(CONNECTION_SCHEMA, user_input or {}),
            errors=errors,
        )

    async def async_step_prices(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the bidding area, the currency, the price source and the house meter."""
        errors: dict[str, str] = {}
        if user_input is not None:
            source = PriceSourceKind(user_input[CONF_PRICE_SOURCE])
            if source is PriceSourceKind.COMMUNITY_ENTITY and not user_input.get(CONF_PRICE_ENTITY):
                errors[CONF_PRICE_ENTITY] = "price_entity_required"
            else:
                assert self._identity is not None
                return self.async_create_entry(
                    title=f"{self._identity.manufacturer} {self._identity.model} {self._identity.serial}",
                    data={**self._connection, **user_input},
                    options={
                        CONF_BATTERY_KWH: ControlSettings().battery_kwh,
                        CONF_BOOST_DURATION_MIN: DEFAULT_BOOST_DURATION_MIN,
                    },
                )
        return self.async_show_form(
            step_id="prices",
            data_schema=_prices_schema(user_input or {}),
            errors=errors,
        )

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change the address of the same charger: connect, identify, and refuse a different one."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            connection = {
                CONF_HOST: str(user_input[CONF_HOST]).strip(),
                CONF_PORT: int(user_input[CONF_PORT]),
                CONF_UNIT_ID: int(user_input[CONF_UNIT_ID]),
            }
            try:
                identity = await self._async_identify(connection)
            except TransportConnectionError:
                errors[CONF_HOST] = "cannot_connect"
            except TransportError:
                errors["base"] = "not_a_supported_charger"
            except Exception:  # noqa: BLE001 - the flow must end cleanly on any failure
                LOGGER.exception("Unexpected error while identifying the charger")
                errors["base"] = "unknown"
            else:
                await self.async_set_unique_id(identity.serial)
                self._abort_if_unique_id_mismatch(reason="wrong_charger")
                return self.async_update_reload_and_abort(entry, data_updates=connection)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(CONNECTION_SCHEMA, user_input or dict(entry.data)),
            errors=errors,
        )

    async def _async_identify(self, connection: dict[str, Any]) -> ChargerIdentity:
        """Connect to the charger, read who it is, and close the connection again."""
        transport = create_modbus_transport(connection)
        try:
            await transport.connect()
            return await transport.identify()
        finally:
            await transport.close()
