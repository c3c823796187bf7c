"""Sensors: the car's state of charge, the charger's power and state, prices and the decision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfEnergy, UnitOfPower, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .const import CHARGER_STATUS_OPTIONS, LOGGER
from .controller import DECISION_OPTIONS, REASON_OPTIONS, ControlStatus, V2HController
from .coordinator import ChargerCoordinator, PriceCoordinator, PriceData
from .data import NordicV2HConfigEntry
from .entity import NordicV2HEntity
from .transport import ChargerState

if TYPE_CHECKING:
    from datetime import datetime

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
    entities.extend(owner_sensors(entry))
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


# The charger is polled every few seconds; across a longer gap its power is unknown, so that
# stretch is left out of the energy totals rather than guessed.
MAX_INTEGRATION_GAP_S: Final = 60.0
# The planner's charging efficiency (core.types.ChargerLimits): energy into the battery per kWh drawn.
CHARGE_EFFICIENCY: Final = 0.92


@dataclass(frozen=True, kw_only=True)
class EnergySensorDescription(SensorEntityDescription):
    """A counter of energy into (positive power) or out of (negative power) the car."""

    sign: int


ENERGY_SENSORS: tuple[EnergySensorDescription, ...] = (
    EnergySensorDescription(
        key="energy_charged",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        sign=1,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        translation_key="energy_charged",
    ),
    EnergySensorDescription(
        key="energy_discharged",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        sign=-1,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        translation_key="energy_discharged",
    ),
)

TIME_TO_TARGET_DESCRIPTION = SensorEntityDescription(
    key="time_to_target",
    device_class=SensorDeviceClass.DURATION,
    native_unit_of_measurement=UnitOfTime.MINUTES,
    suggested_display_precision=0,
    translation_key="time_to_target",
)


def time_to_target_min(
    soc_pct: float | None, target_soc_pct: float, battery_kwh: float, charge_power_w: float
) -> float | None:
    """Return the minutes of charging at full power the car needs to reach the target, None if unknown."""
    if soc_pct is None or charge_power_w <= 0:
        return None
    missing_kwh = max(0.0, target_soc_pct - soc_pct) / 100.0 * battery_kwh
    return missing_kwh / (charge_power_w / 1000.0 * CHARGE_EFFICIENCY) * 60.0


def owner_sensors(entry: NordicV2HConfigEntry) -> list[SensorEntity]:
    """Return the energy counters and the time-to-target sensor of one charger."""
    coordinator = entry.runtime_data.charger_coordinator
    entities: list[SensorEntity] = [
        EnergySensor(entry=entry, coordinator=coordinator, description=description)
        for description in ENERGY_SENSORS
        if description.sign > 0 or entry.runtime_data.transport.capabilities.can_discharge
    ]
    entities.append(TimeToTargetSensor(entry=entry, coordinator=coordinator, description=TIME_TO_TARGET_DESCRIPTION))
    return entities


class EnergySensor(NordicV2HEntity[ChargerCoordinator], RestoreSensor):
    """Energy charged into or discharged from the car, integrated from the charger's power.

    With both counters the energy dashboard shows the car as a home battery. The totals are
    restored after a restart so they only ever increase.
    """

    entity_description: EnergySensorDescription

    def __init__(self, **kwargs: Any) -> None:
        """Start at zero until the stored total is restored."""
        super().__init__(**kwargs)
        self._energy_kwh = 0.0
        self._last_sample: tuple[datetime, float] | None = None

    async def async_added_to_hass(self) -> None:
        """Restore the total from before the restart, then count on."""
        await super().async_added_to_hass()
        last = await self.async_get_last_sensor_data()
        value = None if last is None else last.native_value
        if isinstance(value, int | float | Decimal | str):
            try:
                self._energy_kwh = max(0.0, float(value))
            except ValueError:
                LOGGER.warning("Ignoring a stored energy total that is not a number: %r", value)
        self._take_sample()

    @property
    def available(self) -> bool:
        """Return True: the total is known even while the charger is unreachable."""
        return True

    @property
    def native_value(self) -> float:
        """Return the total in kWh."""
        return round(self._energy_kwh, 4)

    def _handle_coordinator_update(self) -> None:
        """Add the energy since the previous reading, then write the state."""
        self._take_sample()
        super()._handle_coordinator_update()

    def _take_sample(self) -> None:
        """Integrate the power between the previous reading and this one (trapezoid rule)."""
        if not self.coordinator.last_update_success or self.coordinator.data is None:
            self._last_sample = None
            return
        now = dt_util.utcnow()
        power_w = max(0.0, self.entity_description.sign * self.coordinator.data.power_w)
        if self._last_sample is not None:
            previous_utc, previous_w = self._last_sample
            elapsed_s = (now - previous_utc).total_seconds()
            if 0 < elapsed_s <= MAX_INTEGRATION_GAP_S:
                self._energy_kwh += (previous_w + power_w) / 2.0 * elapsed_s / 3_600_000.0
        self._last_sample = (now, power_w)


class TimeToTargetSensor(NordicV2HEntity[ChargerCoordinator], SensorEntity):
    """How long charging at full power takes to reach the next departure's target."""

    async def async_added_to_hass(self) -> None:
        """Follow setting changes as well as the charger."""
        await super().async_added_to_hass()
        self.async_on_remove(self.runtime_data.settings.async_add_listener(self.async_write_ha_state))

    @property
    def native_value(self) -> float | None:
        """Return the minutes, or None while the state of charge is unknown."""
        settings = self.runtime_data.settings.current
        _departure, target_soc_pct = settings.next_departure(dt_util.utcnow())
        charge_power_w = min(settings.max_charge_power_w, self.runtime_data.transport.capabilities.max_charge_power_w)
        return time_to_target_min(
            self.coordinator.data.soc_pct, target_soc_pct, settings.battery_kwh, charge_power_w
        )
