"""Prices taken from another Home Assistant integration instead of the Nord Pool API.

Two sources: (a) the community Nord Pool sensor's `raw_today`/`raw_tomorrow` attributes and
(b) the core `nordpool` integration's `nordpool.get_prices_for_date` action. The parsing is in
`entity_parsing` (pure, no Home Assistant); the two classes here only read Home Assistant.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Final

from homeassistant.exceptions import HomeAssistantError, ServiceNotFound
import voluptuous as vol

from .base import CURRENCIES, PriceConnectionError, PriceResponseError, PriceSourceError
from .entity_parsing import (
    DEFAULT_VAT_RATE,
    parse_core_response,
    parse_price_unit,
    parse_sensor_day,
    unit_from_sensor_attributes,
)

if TYPE_CHECKING:
    from datetime import date

    from homeassistant.core import HomeAssistant

    from custom_components.nordic_v2h.core.timeseries import SlotSeries

    from .base import Currency

LOGGER = logging.getLogger(__package__)

CORE_DOMAIN: Final = "nordpool"
CORE_SERVICE: Final = "get_prices_for_date"


def _schema_error_types() -> tuple[type[Exception], ...]:
    """Return what an action's schema raises: voluptuous's error, and probatio's where it exists."""
    # Newer Home Assistant versions validate actions with probatio, a voluptuous fork whose
    # errors do not derive from voluptuous's; older ones do not have it at all.
    try:
        probatio = importlib.import_module("probatio")
    except ImportError:
        return (vol.Invalid,)
    return (vol.Invalid, probatio.Invalid)


SCHEMA_ERRORS: Final = _schema_error_types()


class NordpoolSensorPriceSource:
    """Prices from a community Nord Pool sensor (custom-components/nordpool) in Home Assistant."""

    def __init__(
        self,
        hass: HomeAssistant,
        entity_id: str,
        currency: Currency,
        *,
        vat_included: bool,
        vat_rate: float = DEFAULT_VAT_RATE,
        unit: str | None = None,
    ) -> None:
        """Set the sensor; without `unit` it is read from the sensor's attributes each time."""
        # Check the settings now so that a wrong one fails at set-up, not at the first fetch.
        parse_price_unit(
            unit or f"{currency}/kWh", currency, vat_included=vat_included, vat_rate=vat_rate
        )
        self._hass = hass
        self.entity_id = entity_id
        self.currency = currency
        self._vat_included = vat_included
        self._vat_rate = vat_rate
        self._unit = unit

    async def async_fetch_day(self, day: date) -> SlotSeries | None:
        """Return the day's quarters in currency/kWh excl. VAT, or None if the sensor lacks it."""
        what = f"sensor {self.entity_id} {day}"
        state = self._hass.states.get(self.entity_id)
        if state is None:
            raise PriceSourceError(f"{what}: the entity does not exist")
        unit_text = self._unit or unit_from_sensor_attributes(state.attributes)
        try:
            unit = parse_price_unit(
                unit_text, self.currency, vat_included=self._vat_included, vat_rate=self._vat_rate
            )
        except ValueError as err:
            raise PriceResponseError(f"{what}: {err}") from err
        return parse_sensor_day(state.attributes, day, unit, what)


class NordpoolActionPriceSource:
    """Prices from the core Nord Pool integration's `nordpool.get_prices_for_date` action."""

    def __init__(
        self, hass: HomeAssistant, config_entry_id: str, area: str, currency: Currency
    ) -> None:
        """Set the core integration's config entry, the area and the currency to ask for."""
        if currency not in CURRENCIES:
            raise ValueError(f"unsupported currency {currency!r}: use one of {CURRENCIES}")
        self._hass = hass
        self.config_entry_id = config_entry_id
        self.area = area
        self.currency = currency

    async def async_fetch_day(self, day: date) -> SlotSeries | None:
        """Return the day's quarters in currency/kWh excl. VAT, or None if not published yet."""
        what = f"{CORE_DOMAIN}.{CORE_SERVICE} {self.area} {self.currency} {day}"
        try:
            response = await self._hass.services.async_call(
                CORE_DOMAIN,
                CORE_SERVICE,
                {
                    "config_entry": self.config_entry_id,
                    "date": day.isoformat(),
                    # A single area as a string passes the schemas of every supported
                    # Home Assistant version (older ones reject a list here).
                    "areas": self.area,
                    "currency": self.currency,
                },
                blocking=True,
                return_response=True,
            )
        except ServiceNotFound as err:
            raise PriceSourceError(f"{what}: the core Nord Pool integration is not set up") from err
        except TimeoutError as err:
            # Home Assistant 2025.4's action lets a client timeout through unwrapped.
            raise PriceConnectionError(f"{what}: Nord Pool did not answer in time") from err
        except SCHEMA_ERRORS as err:
            raise PriceSourceError(f"{what}: the action rejected the request: {err}") from err
        except HomeAssistantError as err:
            # Older versions say "no prices yet" with this error instead of an empty list.
            if err.translation_domain == CORE_DOMAIN and err.translation_key == "empty_response":
                LOGGER.debug("%s: prices not published yet", what)
                return None
            if err.translation_key == "connection_error":
                raise PriceConnectionError(f"{what}: {err}") from err
            raise PriceSourceError(f"{what}: {err!r}") from err
        series = parse_core_response(response, self.area, day, what)
        if series is None:
            LOGGER.debug("%s: prices not published yet", what)
        return series
