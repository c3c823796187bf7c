"""Buttons: charge or discharge now for a while (then back to Auto), and plan again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription

from .const import CONF_BOOST_DURATION_MIN, DEFAULT_BOOST_DURATION_MIN, OperatingMode
from .controller import V2HController
from .entity import NordicV2HEntity
from .helpers import action_exception_handler

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import NordicV2HConfigEntry
    from .transport import ChargerCapabilities

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class ControlButtonDescription(ButtonEntityDescription):
    """A button that tells the controller to do something now."""

    has_fn: Callable[[ChargerCapabilities], bool] = lambda _: True
    press_fn: Callable[[V2HController, timedelta], Coroutine[Any, Any, None]]


BUTTONS: tuple[ControlButtonDescription, ...] = (
    ControlButtonDescription(
        key="charge_now",
        press_fn=lambda controller, duration: controller.async_force_mode(
            OperatingMode.CHARGE_NOW, duration
        ),
        translation_key="charge_now",
    ),
    ControlButtonDescription(
        key="discharge_now",
        has_fn=lambda capabilities: capabilities.can_discharge,
        press_fn=lambda controller, duration: controller.async_force_mode(
            OperatingMode.DISCHARGE, duration
        ),
        translation_key="discharge_now",
    ),
    ControlButtonDescription(
        key="replan",
        press_fn=lambda controller, _duration: controller.async_replan(),
        translation_key="replan",
    ),
)


def boost_duration(entry: NordicV2HConfigEntry) -> timedelta:
    """Return how long Charge now and Discharge now last, from the entry's options."""
    return timedelta(
        minutes=int(entry.options.get(CONF_BOOST_DURATION_MIN, DEFAULT_BOOST_DURATION_MIN))
    )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NordicV2HConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the buttons the charger supports."""
    data = entry.runtime_data
    async_add_entities(
        ControlButton(entry=entry, coordinator=data.controller, description=description)
        for description in BUTTONS
        if description.has_fn(data.transport.capabilities)
    )


class ControlButton(NordicV2HEntity[V2HController], ButtonEntity):
    """A one-press command to the controller."""

    entity_description: ControlButtonDescription

    def __init__(self, *, entry: NordicV2HConfigEntry, **kwargs: Any) -> None:
        """Remember the entry, whose options hold the boost duration."""
        super().__init__(entry=entry, **kwargs)
        self._entry = entry

    @action_exception_handler
    async def async_press(self) -> None:
        """Run the command."""
        await self.entity_description.press_fn(self.coordinator, boost_duration(self._entry))
