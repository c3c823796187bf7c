"""The departure time entity: when the car must have reached its target each day."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.time import TimeEntity, TimeEntityDescription
from homeassistant.const import EntityCategory

from .entity import NordicV2HSettingEntity

if TYPE_CHECKING:
    from datetime import time

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import NordicV2HConfigEntry

PARALLEL_UPDATES = 1

DEPARTURE_DESCRIPTION = TimeEntityDescription(
    key="departure_time",
    entity_category=EntityCategory.CONFIG,
    translation_key="departure_time",
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NordicV2HConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the departure time entity."""
    async_add_entities(
        [
            DepartureTime(
                entry=entry,
                coordinator=entry.runtime_data.controller,
                description=DEPARTURE_DESCRIPTION,
            )
        ]
    )


class DepartureTime(NordicV2HSettingEntity, TimeEntity):
    """The daily departure time (Europe/Oslo); days in the weekday schedule use their own."""

    @property
    def native_value(self) -> time:
        """Return the daily departure time."""
        return self.runtime_data.settings.current.departure_time

    async def async_set_value(self, value: time) -> None:
        """Store the new departure time, to the minute."""
        self.runtime_data.settings.async_update(
            departure_time=value.replace(second=0, microsecond=0)
        )
