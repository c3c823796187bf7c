"""Sensors: the car's state of charge, the charger's power and state, prices and the decision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .const import CHARGER_STATUS_OPTIONS
from .controller import DECISION_OPTIONS, REASON_OPTIONS, ControlStatus, V2HController
from .coordinator import ChargerCoordinator, PriceCoordinator, PriceData
from .data import NordicV2HConfigEntry
from .entity import NordicV2HEntity
from .transport import ChargerState

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChargerSensorDescription(SensorEntityDescription):
    """A sensor read from the charger's state."""

    value_fn: Callable[[ChargerState], StateType]


@dataclass(frozen=True, kw_only=True)
class PriceSensorDescription(SensorEntityDescription):
    """A sensor computed from the price series at the current quarter."""

    value_fn: Callable[[PriceData], StateType]


@dataclass(frozen=True, kw_only=True)
class ControlSensorDescription(SensorEntityDescription):
    """A sensor of the controller's decision."""

    attributes_fn: Callable[[ControlStatus], dict[str, Any]] | None = None
    value_fn: Callable[[ControlStatus], StateType]


CHARGER_SENSORS: tuple[ChargerSensorDescription, ...] = (
    ChargerSensorDescription(
        key="soc",
        translation_key="soc",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda state: state.soc_pct,
    ),
    ChargerSensorDescription(
        key="charger_power",
        translation_key="charger_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda state: state.power_w,
    ),
    ChargerSensorDescription(
        key="charger_state",
        translation_key="charger_state",
        device_class=SensorDeviceClass.ENUM,
        options=CHARGER_STATUS_OPTIONS,
        value_fn=lambda state: state.status.value,
    ),
    ChargerSensorDescription(
        key="setpoint",
        translation_key="setpoint",
        device_class=SensorDeviceClass.POWER,
        entity_category=EntityCategory.DIAGNOSTIC,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda state: state.setpoint_w,
    ),
)

PRICE_SENSORS: tuple[PriceSensorDescription, ...] = (
    PriceSensorDescription(
        key="spot_price",
        translation_key="spot_price",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=3,
        value_fn=lambda data: data.spot.value_at(dt_util.utcnow()),
    ),
)

CONTROL_SENSORS: tuple[ControlSensorDescription, ...] = (
    ControlSensorDescription(
        key="decision",
        translation_key="decision",
        device_class=SensorDeviceClass.ENUM,
        options=DECISION_OPTIONS,
        attributes_fn=lambda status: {"reason": status.reason.value},
        value_fn=lambda status: status.decision.value,
    ),
    ControlSensorDescription(
        key="decision_reason",
        translation_key="decision_reason",
        device_class=SensorDeviceClass.ENUM,
        options=REASON_OPTIONS,
        value_fn=lambda status: status.reason.value,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NordicV2HConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the sensors of one charger."""
    data = entry.runtime_data
    entities: list[SensorEntity] = [
        ChargerSensor(entry=entry, coordinator=data.charger_coordinator, description=description)
        for description in CHARGER_SENSORS
    ]
    entities.extend(
        PriceSensor(entry=entry, coordinator=data.price_coordinator, description=description)
        for description in PRICE_SENSORS
    )
    entities.extend(
        ControlSensor(entry=entry, coordinator=data.controller, description=description)
        for description in CONTROL_SENSORS
    )
    async_add_entities(entities)


class ChargerSensor(NordicV2HEntity[ChargerCoordinator], SensorEntity):
    """A value read from the charger."""

    entity_description: ChargerSensorDescription

    @property
    def native_value(self) -> StateType:
        """Return the value from the latest charger reading."""
        return self.entity_description.value_fn(self.coordinator.data)


class PriceSensor(NordicV2HEntity[PriceCoordinator], SensorEntity):
    """A price at the current quarter-hour, in the entry's currency per kWh."""

    entity_description: PriceSensorDescription

    @property
    def native_unit_of_measurement(self) -> str:
        """Return the currency per kWh of the price source."""
        return f"{self.coordinator.currency}/kWh"

    @property
    def native_value(self) -> StateType:
        """Return the price of the quarter we are in."""
        return self.entity_description.value_fn(self.coordinator.data)


class ControlSensor(NordicV2HEntity[V2HController], SensorEntity):
    """What the controller decided and why."""

    entity_description: ControlSensorDescription

    @property
    def native_value(self) -> StateType:
        """Return the decision value."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return extra details of the decision."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.coordinator.data)
