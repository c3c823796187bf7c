"""Nordic V2H: use an electric car as a home battery under Norwegian prices and grid tariffs."""

from __future__ import annotations

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady

from .const import CONF_CURRENCY, CONF_HOUSE_POWER_ENTITY, DOMAIN
from .controller import V2HController
from .coordinator import ChargerCoordinator, PriceCoordinator
from .data import NordicV2HConfigEntry, NordicV2HRuntimeData
from .helpers import create_price_source, create_transport
from .settings import SettingsStore
from .transport import TransportError

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.SELECT, Platform.SENSOR]


async def async_setup_entry(hass: HomeAssistant, entry: NordicV2HConfigEntry) -> bool:
    """Set up Nordic V2H from a config entry."""

    # Connect to the charger and learn what it is before anything else exists
    transport = create_transport(hass, entry.data)
    try:
        await transport.connect()
        identity = await transport.identify()
    except TransportError as error:
        await transport.close()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="charger_unreachable",
            translation_placeholders={"error": str(error)},
        ) from error

    # The owner's settings survive restarts in the integration's own storage
    settings = SettingsStore(hass, entry.entry_id)
    await settings.async_load()

    # Coordinators: the charger every few seconds, prices on Nord Pool's clock
    charger = ChargerCoordinator(hass, entry, transport)
    prices = PriceCoordinator(hass, entry, create_price_source(hass, entry.data), entry.data[CONF_CURRENCY])
    controller = V2HController(
        hass,
        entry,
        transport=transport,
        charger=charger,
        prices=prices,
        settings=settings,
        house_power_entity=entry.data.get(CONF_HOUSE_POWER_ENTITY),
    )
    entry.runtime_data = NordicV2HRuntimeData(
        charger_coordinator=charger,
        controller=controller,
        identity=identity,
        price_coordinator=prices,
        settings=settings,
        transport=transport,
    )
    await charger.async_config_entry_first_refresh()
    # Prices may be late or the source down: the integration still starts and keeps retrying.
    await prices.async_refresh()

    # Hand control back to the charger however Home Assistant stops
    async def async_on_stop(_event: Event) -> None:
        await _async_shutdown(entry)

    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, async_on_stop))
    entry.async_on_unload(prices.async_shutdown_timers)

    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    controller.async_start()
    entry.async_on_unload(controller.async_stop)
    controller.async_set_updated_data(controller.data)
    await controller.async_refresh()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: NordicV2HConfigEntry) -> bool:
    """Unload a config entry, handing the charger back to its own control first."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await _async_shutdown(entry)
    return unloaded


async def _async_shutdown(entry: NordicV2HConfigEntry) -> None:
    """Stop controlling, release the charger and close the connection (safe to repeat)."""
    data = entry.runtime_data
    data.controller.async_stop()
    await data.controller.async_release_control()
    await data.transport.close()


