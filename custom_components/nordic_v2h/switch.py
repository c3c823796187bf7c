"""Switches: whether the car may cover the house (V2H) and whether it may export to the grid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory

from .entity import NordicV2HSettingEntity

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import NordicV2HConfigEntry
    from .settings import ControlSettings
    from .transport import ChargerCapabilities

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SettingSwitchDescription(SwitchEntityDescription):
    """A switch that is one of the owner's permissions."""

    has_fn: Callable[[ChargerCapabilities], bool] = lambda _: True
    setting: str
    value_fn: Callable[[ControlSettings], bool]


SWITCHES: tuple[SettingSwitchDescription, ...] = (
    SettingSwitchDescription(
        key="allow_v2h",
        entity_category=EntityCategory.CONFIG,
        has_fn=lambda capabilities: capabilities.can_discharge,
        setting="allow_v2h",
        translation_key="allow_v2h",
        value_fn=lambda settings: settings.allow_v2h,
    ),
    SettingSwitchDescription(
        key="allow_export",
        entity_category=EntityCategory.CONFIG,
        has_fn=lambda capabilities: capabilities.can_discharge,
        setting="allow_export",
        translation_key="allow_export",
        value_fn=lambda settings: settings.allow_export,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NordicV2HConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the permission switches the charger supports."""
    data = entry.runtime_data
    async_add_entities(
        SettingSwitch(entry=entry, coordinator=data.controller, description=description)
        for description in SWITCHES
        if description.has_fn(data.transport.capabilities)
    )


class SettingSwitch(NordicV2HSettingEntity, SwitchEntity):
    """A permission kept in the settings store; the controller acts on it at once."""

    entity_description: SettingSwitchDescription

    @property
    def is_on(self) -> bool:
        """Return whether the permission is given."""
        return self.entity_description.value_fn(self.runtime_data.settings.current)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Give the permission."""
        self.runtime_data.settings.async_update(**{self.entity_description.setting: True})

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Withdraw the permission."""
        self.runtime_data.settings.async_update(**{self.entity_description.setting: False})
