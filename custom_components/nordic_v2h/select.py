"""The operating mode select: Auto, Charge now, Discharge to house, Idle, Off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.select import SelectEntity, SelectEntityDescription

from .const import OperatingMode
from .controller import V2HController
from .entity import NordicV2HEntity

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import NordicV2HConfigEntry

PARALLEL_UPDATES = 1

MODE_DESCRIPTION = SelectEntityDescription(
    key="mode",
    translation_key="mode",
    options=[mode.value for mode in OperatingMode],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NordicV2HConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the mode select."""
    async_add_entities(
        [
            ModeSelect(
                entry=entry, coordinator=entry.runtime_data.controller, description=MODE_DESCRIPTION
            )
        ]
    )


class ModeSelect(NordicV2HEntity[V2HController], SelectEntity):
    """The owner's operating mode; Off hands the charger back to its own control."""

    @property
    def available(self) -> bool:
        """Return True: the mode can be chosen even while the charger is unreachable."""
        return True

    @property
    def current_option(self) -> str:
        """Return the mode in force."""
        return self.runtime_data.settings.current.mode.value

    async def async_select_option(self, option: str) -> None:
        """Change the mode and act on it at once."""
        await self.coordinator.async_set_mode(OperatingMode(option))
