"""Constants of the Nordic V2H integration."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
import logging
from typing import Final

from .transport import ChargerStatus

DOMAIN: Final = "nordic_v2h"
LOGGER = logging.getLogger(__package__)

CONF_UNIT_ID: Final = "unit_id"
CONF_AREA: Final = "area"
CONF_CURRENCY: Final = "currency"
CONF_HOUSE_POWER_ENTITY: Final = "house_power_entity"
CONF_PRICE_SOURCE: Final = "price_source"
CONF_PRICE_ENTITY: Final = "price_entity"
CONF_PRICE_ENTITY_INCLUDES_VAT: Final = "price_entity_includes_vat"
CONF_TRANSPORT: Final = "transport"
CONF_MQTT: Final = "mqtt"
CONF_REGISTER_MAP: Final = "register_map"
CONF_TARIFF_OVERRIDES: Final = "tariff_overrides"

TRANSPORT_MODBUS: Final = "modbus"
TRANSPORT_MQTT: Final = "mqtt"
MQTT_DOMAIN: Final = "mqtt"

DEFAULT_PORT: Final = 502
DEFAULT_UNIT_ID: Final = 1
DEFAULT_AREA: Final = "NO1"
DEFAULT_CURRENCY: Final = "NOK"

AREAS: Final = ("NO1", "NO2", "NO3", "NO4", "NO5")
CURRENCIES: Final = ("NOK", "EUR")

CHARGER_POLL_INTERVAL: Final = timedelta(seconds=5)
# Control is handed back to the charger when it has been unreachable this long, so a lost
# connection never leaves the car (dis)charging on a stale command once it comes back.
CHARGER_LOST_RELEASE_AFTER: Final = timedelta(minutes=2)
# A charger that answers with an error or a value it cannot have is handed back once that has
# lasted this long. One busy reply or one torn read is no fault, and handing back on it would
# let the charger run itself for a moment; until then it runs on the last command, as between
# two polls.
CHARGER_FAULT_RELEASE_AFTER: Final = timedelta(seconds=15)
PLAN_INTERVAL: Final = timedelta(minutes=15)

STORAGE_VERSION: Final = 1
# What each entry keeps in Home Assistant's storage: the owner's settings and the house
# meter's hours. Removing the entry deletes every part.
SETTINGS_PART: Final = "settings"
PEAKS_PART: Final = "peaks"
STORED_PARTS: Final = (SETTINGS_PART, PEAKS_PART)


def storage_key(entry_id: str, part: str) -> str:
    """Return the storage key of one entry's stored part (one of `STORED_PARTS`)."""
    return f"{DOMAIN}.{entry_id}.{part}"


class PriceSourceKind(StrEnum):
    """Where the integration reads spot prices from."""

    NORDPOOL = "nordpool"
    COMMUNITY_ENTITY = "community_entity"
    CORE_NORDPOOL = "core_nordpool"


class OperatingMode(StrEnum):
    """The owner's choice of what the integration does with the car."""

    AUTO = "auto"
    CHARGE_NOW = "charge_now"
    DISCHARGE = "discharge"
    IDLE = "idle"
    OFF = "off"


CHARGER_STATUS_OPTIONS: Final = [status.value for status in ChargerStatus]

# Planner preferences kept in the entry's options (changed rarely, from the options flow).
CONF_BATTERY_KWH: Final = "battery_kwh"
CONF_BOOST_DURATION_MIN: Final = "boost_duration_min"
CONF_MAIN_FUSE_IMPORT_W: Final = "main_fuse_import_w"

DEFAULT_BOOST_DURATION_MIN: Final = 60
# A boost longer than a day is no longer a boost; the owner should choose the mode instead.
MAX_BOOST_DURATION_MIN: Final = 24 * 60

# The household's grid tariff, chosen in the config flow's tariff step (entry data).
CONF_GRID_COMPANY: Final = "grid_company"
CONF_CONTRACT: Final = "contract"
CONF_TAX_ZONE: Final = "tax_zone"
CONF_MAIN_FUSE_A: Final = "main_fuse_a"
CONTRACTS: Final = ("spot", "norgespris")
TAX_ZONES: Final = ("standard", "nord_norge", "tiltakssone")
