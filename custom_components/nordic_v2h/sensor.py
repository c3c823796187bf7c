"""Sensors: the car's state of charge, the charger's power and state, prices and the decision."""

from __future__ import annotations

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
from homeassistant.util import dt as dt_util

from .const import CHARGER_STATUS_OPTIONS, LOGGER
from .controller import DECISION_OPTIONS, REASON_OPTIONS, ControlStatus, V2HController
from .coordinator import ChargerCoordinator, PriceCoordinator, PriceData
from .costs import CostSnapshot, CostView
from .entity import NordicV2HEntity

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType

    from .data import NordicV2HConfigEntry
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
        # What was last written, for tracing a fault; the charger power sensor shows what
        # the car does. Recording it every 5 s by default would only fill the database.
        entity_registry_enabled_default=False,
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
    entities.extend(cost_sensors(entry))
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
    entities.append(
        TimeToTargetSensor(
            entry=entry, coordinator=coordinator, description=TIME_TO_TARGET_DESCRIPTION
        )
    )
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
        self.async_on_remove(
            self.runtime_data.settings.async_add_listener(self.async_write_ha_state)
        )

    @property
    def native_value(self) -> float | None:
        """Return the minutes, or None while the state of charge is unknown."""
        settings = self.runtime_data.settings.current
        _departure, target_soc_pct = settings.next_departure(dt_util.utcnow())
        charge_power_w = min(
            settings.max_charge_power_w, self.runtime_data.transport.capabilities.max_charge_power_w
        )
        return time_to_target_min(
            self.coordinator.data.soc_pct, target_soc_pct, settings.battery_kwh, charge_power_w
        )


@dataclass(frozen=True, kw_only=True)
class CostSensorDescription(SensorEntityDescription):
    """A sensor of the household's costs, peaks or plan, computed at the current moment."""

    value_fn: Callable[[CostSnapshot, ControlStatus], StateType]
    attributes_fn: Callable[[CostSnapshot, ControlStatus], dict[str, Any]] | None = None
    needs_cost_model: bool = False
    needs_house_meter: bool = False


# Slots listed in the planned-power attribute: a day ahead is what dashboards chart.
PLAN_ATTRIBUTE_SLOTS: Final = 96


def _plan_attributes(_snapshot: CostSnapshot, status: ControlStatus) -> dict[str, Any]:
    """Return the plan's next slots (start, W), its expected cost and its import threshold."""
    plan = status.plan
    if plan is None:
        return {"slots": [], "expected_cost_nok": None, "import_threshold_kw": None}
    return {
        "slots": [
            [slot.start_utc.isoformat(), round(slot.power_w)]
            for slot in plan.slots[:PLAN_ATTRIBUTE_SLOTS]
        ],
        "expected_cost_nok": round(plan.expected_cost_nok, 2),
        "import_threshold_kw": plan.import_threshold_kw,
    }


def _step_attributes(snapshot: CostSnapshot, _status: ControlStatus) -> dict[str, Any]:
    """Return the step's range and the month's capacity measure so far."""
    step = snapshot.capacity
    if step is None:
        return {}
    return {
        "from_kw": step.step_from_kw,
        "to_kw": step.step_to_kw,
        "measure_kw": round(step.measure_kw, 3),
    }


COST_SENSORS: tuple[CostSensorDescription, ...] = (
    CostSensorDescription(
        key="all_in_price",
        translation_key="all_in_price",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="NOK/kWh",
        suggested_display_precision=3,
        needs_cost_model=True,
        value_fn=lambda snapshot, _status: snapshot.import_price_now,
    ),
    CostSensorDescription(
        key="all_in_price_next_hour",
        translation_key="all_in_price_next_hour",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="NOK/kWh",
        suggested_display_precision=3,
        needs_cost_model=True,
        value_fn=lambda snapshot, _status: snapshot.import_price_next_hour,
    ),
    CostSensorDescription(
        key="peak_days_mean",
        translation_key="peak_days_mean",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        needs_house_meter=True,
        value_fn=lambda snapshot, _status: snapshot.top_days_mean_kw,
        attributes_fn=lambda snapshot, _status: {
            "peak_days": [
                {"date": day.isoformat(), "kw": round(kwh, 3)} for day, kwh in snapshot.top_days
            ]
        },
    ),
    CostSensorDescription(
        key="capacity_step",
        translation_key="capacity_step",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=0,
        needs_cost_model=True,
        needs_house_meter=True,
        value_fn=lambda snapshot, _status: (
            None if snapshot.capacity is None else snapshot.capacity.step_from_kw
        ),
        attributes_fn=_step_attributes,
    ),
    CostSensorDescription(
        key="capacity_step_cost",
        translation_key="capacity_step_cost",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="NOK",
        suggested_display_precision=0,
        needs_cost_model=True,
        needs_house_meter=True,
        value_fn=lambda snapshot, _status: (
            None if snapshot.capacity is None else round(snapshot.capacity.step_nok_per_month, 2)
        ),
    ),
    CostSensorDescription(
        key="capacity_headroom",
        translation_key="capacity_headroom",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=2,
        needs_cost_model=True,
        needs_house_meter=True,
        value_fn=lambda snapshot, _status: snapshot.headroom_kw,
    ),
    CostSensorDescription(
        key="projected_hour_import",
        translation_key="projected_hour_import",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        needs_house_meter=True,
        value_fn=lambda snapshot, _status: snapshot.projected_hour_kwh,
    ),
    CostSensorDescription(
        key="planned_power",
        translation_key="planned_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda _snapshot, status: (
            None if status.plan is None else round(status.plan.power_now_w)
        ),
        attributes_fn=_plan_attributes,
    ),
)


def cost_sensors(entry: NordicV2HConfigEntry) -> list[SensorEntity]:
    """Return the cost, peak and plan sensors this entry has the inputs for.

    Without a grid company there are no all-in prices or capacity steps; without a house
    power sensor there are no peaks, headroom or hourly projection.
    """
    data = entry.runtime_data
    return [
        CostSensor(entry=entry, coordinator=data.controller, description=description)
        for description in COST_SENSORS
        if (data.cost_model is not None or not description.needs_cost_model)
        and (data.peak_tracker is not None or not description.needs_house_meter)
    ]


class CostSensor(NordicV2HEntity[V2HController], SensorEntity):
    """A cost, peak or plan value, refreshed on every control step and every meter reading."""

    entity_description: CostSensorDescription
    # The plan's slots change every quarter and would bloat the recorder's history.
    _unrecorded_attributes = frozenset({"slots"})

    async def async_added_to_hass(self) -> None:
        """Follow the house meter's readings as well as the controller."""
        await super().async_added_to_hass()
        if (
            self.entity_description.needs_house_meter
            and (tracker := self.runtime_data.peak_tracker) is not None
        ):
            self.async_on_remove(tracker.async_add_listener(self.async_write_ha_state))

    def _snapshot(self) -> CostSnapshot:
        """Return the costs and peaks now."""
        view = self.runtime_data.cost_view
        prices = self.runtime_data.price_coordinator.data
        spot = prices.spot if prices is not None else None
        if view is None:
            view = CostView(None, None)
        return view.snapshot(spot, dt_util.utcnow())

    @property
    def native_value(self) -> StateType:
        """Return the value now."""
        return self.entity_description.value_fn(self._snapshot(), self.coordinator.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the details (peak days, step range, plan slots)."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self._snapshot(), self.coordinator.data)
