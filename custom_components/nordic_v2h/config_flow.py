"""Config flow: connect to the charger and identify it, then choose where prices come from."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT
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
import voluptuous as vol

from .const import (
    AREAS,
    CONF_AREA,
    CONF_CURRENCY,
    CONF_HOUSE_POWER_ENTITY,
    CONF_PRICE_ENTITY,
    CONF_PRICE_ENTITY_INCLUDES_VAT,
    CONF_PRICE_SOURCE,
    CONF_TRANSPORT,
    CONF_UNIT_ID,
    CURRENCIES,
    DEFAULT_AREA,
    DEFAULT_CURRENCY,
    DEFAULT_PORT,
    DEFAULT_UNIT_ID,
    DOMAIN,
    LOGGER,
    PriceSourceKind,
)
from .helpers import create_modbus_transport
from .transport import ChargerIdentity, TransportConnectionError, TransportError

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


class NordicV2HConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a bidirectional charger: connection first, then prices and the house meter."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Start with nothing entered."""
        self._connection: dict[str, Any] = {}
        self._identity: ChargerIdentity | None = None

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
                )
        return self.async_show_form(
            step_id="prices",
            data_schema=_prices_schema(user_input or {}),
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
