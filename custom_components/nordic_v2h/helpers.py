"""Factories for the charger transport and the price source, and the entity-action error handler."""

from __future__ import annotations

from functools import wraps
import json
from typing import TYPE_CHECKING, Any, Concatenate, cast

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import (
    CONF_AREA,
    CONF_CURRENCY,
    CONF_MQTT,
    CONF_PRICE_ENTITY,
    CONF_PRICE_ENTITY_INCLUDES_VAT,
    CONF_PRICE_SOURCE,
    CONF_REGISTER_MAP,
    CONF_TRANSPORT,
    CONF_UNIT_ID,
    DOMAIN,
    TRANSPORT_MQTT,
    PriceSourceKind,
)
from .prices.base import PriceSource, PriceSourceError
from .prices.entity import NordpoolActionPriceSource, NordpoolSensorPriceSource
from .prices.nordpool import NordPoolPriceSource
from .profiles import WALLBOX_QUASAR
from .profiles.loader import profile_from_dict
from .transport import ChargerTransport, TransportError
from .transport.modbus import ModbusChargerTransport
from .transport.mqtt_profile import MqttChargerConfig

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Mapping

    from homeassistant.core import HomeAssistant

    from .entity import NordicV2HEntity


def parse_register_map(text: str) -> dict[str, Any]:
    """Parse and validate a user's register map (JSON); raise ValueError saying what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise ValueError("the register map must be a JSON object")  # noqa: TRY004 - every invalid map is reported to the form as a ValueError
    profile_from_dict(data)
    return data


def create_modbus_transport(connection: Mapping[str, Any]) -> ModbusChargerTransport:
    """Return a Modbus transport for the charger at the entered address, with its register map."""
    register_map = connection.get(CONF_REGISTER_MAP)
    return ModbusChargerTransport(
        host=str(connection[CONF_HOST]),
        port=int(connection[CONF_PORT]),
        unit_id=int(connection[CONF_UNIT_ID]),
        profile=profile_from_dict(register_map) if register_map else WALLBOX_QUASAR,
    )


def create_transport(hass: HomeAssistant, data: Mapping[str, Any]) -> ChargerTransport:
    """Return the transport a config entry's data describes (Modbus unless it says MQTT)."""
    if data.get(CONF_TRANSPORT) == TRANSPORT_MQTT:
        # Home Assistant installs the MQTT integration's library only when MQTT is set up, and
        # the MQTT integration imports it at once from 2026.11: import it only for an MQTT charger.
        from .transport.mqtt import MqttChargerTransport  # noqa: PLC0415

        return MqttChargerTransport(hass, MqttChargerConfig.from_dict(data[CONF_MQTT]))
    return create_modbus_transport(data)


class NoCoreNordpoolEntryError(PriceSourceError):
    """The core Nord Pool integration is chosen as price source but is not set up."""


class _CoreNordpoolSource:
    """Finds the core Nord Pool integration's entry at each fetch, since it may be added later."""

    def __init__(self, hass: HomeAssistant, area: str, currency: str) -> None:
        """Remember what to ask the core integration for."""
        self._hass = hass
        self._area = area
        self._currency = currency

    async def async_fetch_day(self, day: Any) -> Any:
        """Fetch the day through the first loaded core Nord Pool entry."""
        entries = (
            self._hass.config_entries.async_loaded_entries("nordpool")
            if hasattr(self._hass.config_entries, "async_loaded_entries")
            else self._hass.config_entries.async_entries("nordpool")
        )
        if not entries:
            raise NoCoreNordpoolEntryError(
                "the Nord Pool integration is not set up in Home Assistant"
            )
        source = NordpoolActionPriceSource(
            self._hass, entries[0].entry_id, self._area, cast("Any", self._currency)
        )
        return await source.async_fetch_day(day)


def create_price_source(hass: HomeAssistant, data: Mapping[str, Any]) -> PriceSource:
    """Return the price source a config entry's data describes."""
    currency = cast("Any", data[CONF_CURRENCY])
    match PriceSourceKind(data.get(CONF_PRICE_SOURCE, PriceSourceKind.NORDPOOL)):
        case PriceSourceKind.COMMUNITY_ENTITY:
            return NordpoolSensorPriceSource(
                hass,
                data[CONF_PRICE_ENTITY],
                currency,
                vat_included=bool(data.get(CONF_PRICE_ENTITY_INCLUDES_VAT, True)),
            )
        case PriceSourceKind.CORE_NORDPOOL:
            return _CoreNordpoolSource(hass, data[CONF_AREA], currency)
    return NordPoolPriceSource(async_get_clientsession(hass), data[CONF_AREA], currency)


def action_exception_handler[EntityT: NordicV2HEntity[Any], **P](
    func: Callable[Concatenate[EntityT, P], Coroutine[Any, Any, Any]],
) -> Callable[Concatenate[EntityT, P], Coroutine[Any, Any, None]]:
    """Turn charger errors in entity actions into translated Home Assistant errors."""

    @wraps(func)
    async def handler(self: EntityT, /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            await func(self, *args, **kwargs)
        except TransportError as error:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="charger_error",
                translation_placeholders={"error": str(error)},
            ) from error
        self.coordinator.async_update_listeners()

    return handler
