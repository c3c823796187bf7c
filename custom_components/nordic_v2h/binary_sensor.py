"""Binary sensors: whether a car is plugged in and whether we are in control of the charger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory

from .coordinator import ChargerCoordinator
from .entity import NordicV2HEntity

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import NordicV2HConfigEntry
    from .transport import ChargerState

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChargerBinarySensorDescription(BinarySensorEntityDescription):
    """A yes/no fact read from the charger."""

    value_fn: Callable[[ChargerState], bool]


BINARY_SENSORS: tuple[ChargerBinarySensorDescription, ...] = (
    ChargerBinarySensorDescription(
        key="plugged_in",
        translation_key="plugged_in",
        device_class=BinarySensorDeviceClass.PLUG,
        value_fn=lambda state: state.plugged_in,
    ),
    ChargerBinarySensorDescription(
        key="remote_control",
        translation_key="remote_control",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.remote_control,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NordicV2HConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the binary sensors of one charger."""
    coordinator = entry.runtime_data.charger_coordinator
    async_add_entities(
        ChargerBinarySensor(entry=entry, coordinator=coordinator, description=description)
        for description in BINARY_SENSORS
    )


class ChargerBinarySensor(NordicV2HEntity[ChargerCoordinator], BinarySensorEntity):
    """A yes/no fact from the latest charger reading."""

    entity_description: ChargerBinarySensorDescription

    @property
    def is_on(self) -> bool:
        """Return the fact."""
        return self.entity_description.value_fn(self.coordinator.data)
