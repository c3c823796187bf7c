"""Number entities: the departure target, the minimum state of charge and the power limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfPower
from homeassistant.exceptions import ServiceValidationError

from .const import DOMAIN
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
class SettingNumberDescription(NumberEntityDescription):
    """A number that is one of the owner's settings."""

    has_fn: Callable[[ChargerCapabilities], bool] = lambda _: True
    max_fn: Callable[[ChargerCapabilities], float] | None = None
    set_fn: Callable[[ControlSettings, float], dict[str, Any]]
    value_fn: Callable[[ControlSettings], float]


def _soc_changes(key: str, settings: ControlSettings, value: float) -> dict[str, Any]:
    """Return the change of a state-of-charge setting, refusing a minimum above the target."""
    min_soc_pct = value if key == "min_soc_pct" else settings.min_soc_pct
    target_soc_pct = value if key == "target_soc_pct" else settings.target_soc_pct
    if min_soc_pct > target_soc_pct:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="min_soc_above_target",
            translation_placeholders={
                "min_soc": f"{min_soc_pct:g}",
                "target_soc": f"{target_soc_pct:g}",
            },
        )
    return {key: value}


NUMBERS: tuple[SettingNumberDescription, ...] = (
    SettingNumberDescription(
        key="target_soc",
        device_class=NumberDeviceClass.BATTERY,
        entity_category=EntityCategory.CONFIG,
        mode=NumberMode.SLIDER,
        native_max_value=100,
        native_min_value=0,
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        set_fn=lambda settings, value: _soc_changes("target_soc_pct", settings, value),
        translation_key="target_soc",
        value_fn=lambda settings: settings.target_soc_pct,
    ),
    SettingNumberDescription(
        key="min_soc",
        device_class=NumberDeviceClass.BATTERY,
        entity_category=EntityCategory.CONFIG,
        mode=NumberMode.SLIDER,
        native_max_value=100,
        native_min_value=0,
        native_step=1,
        native_unit_of_measurement=PERCENTAGE,
        set_fn=lambda settings, value: _soc_changes("min_soc_pct", settings, value),
        translation_key="min_soc",
        value_fn=lambda settings: settings.min_soc_pct,
    ),
    SettingNumberDescription(
        key="max_charge_power",
        device_class=NumberDeviceClass.POWER,
        entity_category=EntityCategory.CONFIG,
        max_fn=lambda capabilities: capabilities.max_charge_power_w,
        mode=NumberMode.BOX,
        native_min_value=0,
        native_step=100,
        native_unit_of_measurement=UnitOfPower.WATT,
        set_fn=lambda _settings, value: {"max_charge_power_w": int(value)},
        translation_key="max_charge_power",
        value_fn=lambda settings: settings.max_charge_power_w,
    ),
    SettingNumberDescription(
        key="max_discharge_power",
        device_class=NumberDeviceClass.POWER,
        entity_category=EntityCategory.CONFIG,
        has_fn=lambda capabilities: capabilities.can_discharge,
        max_fn=lambda capabilities: capabilities.max_discharge_power_w,
        mode=NumberMode.BOX,
        native_min_value=0,
        native_step=100,
        native_unit_of_measurement=UnitOfPower.WATT,
        set_fn=lambda _settings, value: {"max_discharge_power_w": int(value)},
        translation_key="max_discharge_power",
        value_fn=lambda settings: settings.max_discharge_power_w,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NordicV2HConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the setting numbers the charger supports."""
    data = entry.runtime_data
    async_add_entities(
        SettingNumber(entry=entry, coordinator=data.controller, description=description)
        for description in NUMBERS
        if description.has_fn(data.transport.capabilities)
    )


class SettingNumber(NordicV2HSettingEntity, NumberEntity):
    """One of the owner's numeric settings, kept in the settings store."""

    entity_description: SettingNumberDescription

    @property
    def native_max_value(self) -> float:
        """Return the upper bound, which for powers is what the charger can do."""
        if self.entity_description.max_fn is not None:
            return self.entity_description.max_fn(self.runtime_data.transport.capabilities)
        return super().native_max_value

    @property
    def native_value(self) -> float:
        """Return the setting in force."""
        return self.entity_description.value_fn(self.runtime_data.settings.current)

    async def async_set_native_value(self, value: float) -> None:
        """Store the new value; the controller replans with it."""
        settings = self.runtime_data.settings
        settings.async_update(**self.entity_description.set_fn(settings.current, value))
