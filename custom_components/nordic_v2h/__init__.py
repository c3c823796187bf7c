"""Nordic V2H: use an electric car as a home battery under Norwegian prices and grid tariffs."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import (
    CONF_BATTERY_KWH,
    CONF_BOOST_DURATION_MIN,
    CONF_CURRENCY,
    CONF_HOUSE_POWER_ENTITY,
    CONF_MAIN_FUSE_IMPORT_W,
    CONF_TARIFF_OVERRIDES,
    DEFAULT_BOOST_DURATION_MIN,
    DOMAIN,
    LOGGER,
    STORAGE_VERSION,
    STORED_PARTS,
    storage_key,
)
from .controller import V2HController
from .coordinator import ChargerCoordinator, PriceCoordinator
from .costs import CostView, build_cost_model
from .data import NordicV2HConfigEntry, NordicV2HRuntimeData
from .helpers import create_price_source, create_transport
from .peaks import PeakTracker
from .repairs import IssueMonitor, load_tariff_data_date
from .services import async_setup_services
from .settings import ControlSettings, SettingsStore
from .transport import ChargerTransport, TransportConnectionError, TransportError

if TYPE_CHECKING:
    from homeassistant.core import Event, HomeAssistant
    from homeassistant.helpers.typing import ConfigType

# How long setup waits for a charger's first state before it retries later.
FIRST_STATE_WAIT_S: Final = 10.0

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TIME,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the service actions, which then serve every Nordic V2H entry."""
    async_setup_services(hass)
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: NordicV2HConfigEntry) -> bool:
    """Bring an entry from an older version to the current one; refuse entries from a newer one."""
    if entry.version > 1:
        LOGGER.error(
            "This entry was made by a newer version of Nordic V2H (%s); downgrade is not possible",
            entry.version,
        )
        return False
    if entry.minor_version < 2:
        # 1.2 keeps the planner preferences in the options, where the options flow edits them.
        defaults = ControlSettings()
        options: dict[str, Any] = {
            CONF_BATTERY_KWH: defaults.battery_kwh,
            CONF_BOOST_DURATION_MIN: DEFAULT_BOOST_DURATION_MIN,
            **entry.options,
        }
        hass.config_entries.async_update_entry(entry, options=options, minor_version=2)
        LOGGER.debug("Migrated entry %s to version 1.2", entry.entry_id)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: NordicV2HConfigEntry) -> bool:
    """Set up Nordic V2H from a config entry."""

    # Connect to the charger and learn what it is before anything else exists
    transport = create_transport(hass, entry.data)
    try:
        await transport.connect()
        identity = await transport.identify()
        await _async_wait_for_first_state(transport)
    except TransportError as error:
        await transport.close()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="charger_unreachable",
            translation_placeholders={"error": str(error)},
        ) from error

    # A setup that fails from here on (the first reading, say) leaves no connection or
    # meter listener behind: each retry would add one.
    peak_tracker: PeakTracker | None = None
    try:
        # The owner's settings survive restarts in the integration's own storage
        settings = SettingsStore(hass, entry.entry_id)
        await settings.async_load()
        _apply_options(entry, settings)

        # Coordinators: the charger every few seconds, prices on Nord Pool's clock
        charger = ChargerCoordinator(hass, entry, transport)
        prices = PriceCoordinator(
            hass, entry, create_price_source(hass, entry.data), entry.data[CONF_CURRENCY]
        )
        controller = V2HController(
            hass,
            entry,
            transport=transport,
            charger=charger,
            prices=prices,
            settings=settings,
            house_power_entity=entry.data.get(CONF_HOUSE_POWER_ENTITY),
        )
        # The household's costs and the house meter's hourly peaks (each optional)
        cost_model = await hass.async_add_executor_job(
            build_cost_model, dict(entry.data), dict(entry.options)
        )
        house_entity = entry.data.get(CONF_HOUSE_POWER_ENTITY)
        peak_tracker = PeakTracker(hass, entry.entry_id, house_entity) if house_entity else None
        if peak_tracker is not None:
            await peak_tracker.async_start()
        entry.runtime_data = NordicV2HRuntimeData(
            charger_coordinator=charger,
            controller=controller,
            identity=identity,
            price_coordinator=prices,
            settings=settings,
            transport=transport,
            cost_model=cost_model,
            tariff_overrides=entry.options.get(CONF_TARIFF_OVERRIDES),
            entry_data=dict(entry.data),
            peak_tracker=peak_tracker,
            cost_view=CostView(cost_model, peak_tracker),
        )
        if peak_tracker is not None:
            entry.async_on_unload(
                charger.async_add_listener(partial(_async_car_reading, charger, peak_tracker))
            )
        await charger.async_config_entry_first_refresh()
        # Prices may be late or the source down: the integration still starts and keeps retrying.
        await prices.async_refresh()
    except BaseException:
        # Cancelled too (Home Assistant stopping during setup): nothing may stay open.
        await transport.close()
        if peak_tracker is not None:
            await peak_tracker.async_stop()
        raise

    # Hand control back to the charger however Home Assistant stops
    async def async_on_stop(_event: Event) -> None:
        await _async_shutdown(entry)

    # Not a one-time listener: removing one that has fired logs an error at a later unload.
    entry.async_on_unload(hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, async_on_stop))
    entry.async_on_unload(prices.async_shutdown_timers)

    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    controller.async_start()
    entry.async_on_unload(controller.async_stop)

    # Repair issues follow every control step and go away with the entry
    monitor = IssueMonitor(hass, entry, await hass.async_add_executor_job(load_tariff_data_date))
    entry.async_on_unload(controller.async_add_listener(monitor.async_check))
    entry.async_on_unload(monitor.async_clear)
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    controller.async_set_updated_data(controller.data)
    await controller.async_refresh()
    return True


@callback
def _async_car_reading(charger: ChargerCoordinator, tracker: PeakTracker) -> None:
    """Hand the peak tracker each charger reading: the house's own draw is the meter minus it."""
    state = charger.data if charger.last_update_success else None
    tracker.hold_car(
        None if state is None else state.power_w,
        None if state is None else state.plugged_in,
        dt_util.utcnow(),
    )


def _apply_options(entry: NordicV2HConfigEntry, settings: SettingsStore) -> None:
    """Copy the planner preferences from the entry's options into the settings in force."""
    changes: dict[str, Any] = {}
    if CONF_BATTERY_KWH in entry.options:
        changes["battery_kwh"] = float(entry.options[CONF_BATTERY_KWH])
    fuse = entry.options.get(CONF_MAIN_FUSE_IMPORT_W)
    changes["main_fuse_import_w"] = None if fuse is None else int(fuse)
    if any(getattr(settings.current, key) != value for key, value in changes.items()):
        settings.async_update(**changes)


async def _async_entry_updated(hass: HomeAssistant, entry: NordicV2HConfigEntry) -> None:
    """Apply changed options at once; new data (a new address) or a new tariff need a reload.

    Home Assistant wants an entry with an update listener to reload itself here, so the
    config flow only stores a new address (see `config_flow._async_store_connection`).
    """
    runtime = entry.runtime_data
    if (
        dict(entry.data) != runtime.entry_data
        or entry.options.get(CONF_TARIFF_OVERRIDES) != runtime.tariff_overrides
    ):
        hass.config_entries.async_schedule_reload(entry.entry_id)
        return
    _apply_options(entry, runtime.settings)


async def async_unload_entry(hass: HomeAssistant, entry: NordicV2HConfigEntry) -> bool:
    """Unload a config entry, handing the charger back to its own control first."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await _async_shutdown(entry)
        await entry.runtime_data.settings.async_flush()
        if (tracker := entry.runtime_data.peak_tracker) is not None:
            await tracker.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: NordicV2HConfigEntry) -> None:
    """Delete what the entry stored: the owner's settings and the house meter's hours."""
    for part in STORED_PARTS:
        store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, storage_key(entry.entry_id, part)
        )
        await store.async_remove()


async def _async_shutdown(entry: NordicV2HConfigEntry) -> None:
    """Stop controlling, release the charger and close the connection (safe to repeat)."""
    data = entry.runtime_data
    try:
        await data.controller.async_stop_control()
    finally:
        await data.transport.close()


async def _async_wait_for_first_state(transport: ChargerTransport) -> None:
    """Give a charger that reports by itself (MQTT) a few seconds to deliver its first state.

    A Modbus charger answers the first read at once; an MQTT charger's retained state arrives
    just after the subscription, so reading at once would fail the setup for nothing.
    """
    deadline = asyncio.get_running_loop().time() + FIRST_STATE_WAIT_S
    while True:
        try:
            await transport.read_state()
        except TransportConnectionError:
            if asyncio.get_running_loop().time() >= deadline:
                raise
            await asyncio.sleep(0.5)
        else:
            return
