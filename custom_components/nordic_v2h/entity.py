"""Base entity of Nordic V2H: one device per charger, unique ids from its serial."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator

from .const import DOMAIN
from .controller import V2HController

if TYPE_CHECKING:
    from homeassistant.helpers.entity import EntityDescription

    from .data import NordicV2HConfigEntry


class NordicV2HEntity[CoordinatorT: DataUpdateCoordinator[Any]](CoordinatorEntity[CoordinatorT]):
    """An entity of the charger device, fed by one of the entry's coordinators."""

    _attr_has_entity_name = True

    def __init__(
        self,
        *,
        entry: NordicV2HConfigEntry,
        coordinator: CoordinatorT,
        description: EntityDescription,
    ) -> None:
        """Describe the entity and attach it to the charger device."""
        super().__init__(coordinator=coordinator)
        self.entity_description = description
        self.runtime_data = entry.runtime_data
        identity = entry.runtime_data.identity
        self._attr_unique_id = f"{entry.unique_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, identity.serial)},
            manufacturer=identity.manufacturer,
            model=identity.model,
            model_id=identity.part_number,
            name=f"{identity.manufacturer} {identity.model}",
            serial_number=identity.serial,
            sw_version=identity.firmware,
        )


class NordicV2HSettingEntity(NordicV2HEntity[V2HController]):
    """An entity showing one of the owner's settings; it stays usable while the charger is away."""

    async def async_added_to_hass(self) -> None:
        """Follow the settings store as well as the controller."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.runtime_data.settings.async_add_listener(self.async_write_ha_state)
        )

    @property
    def available(self) -> bool:
        """Return True: settings can be changed even while the charger is unreachable."""
        return True
