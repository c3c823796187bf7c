"""All-in prices and capacity sensors against the core cost model, with real Home Assistant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from homeassistant.core import HomeAssistant
import pytest

from custom_components.nordic_v2h.core.tariff import CostModel, settings_from_presets
from custom_components.nordic_v2h.core.tariff_model import Contract, TaxZone
from custom_components.nordic_v2h.core.tariff_presets import load_presets
from quasar_simulator import QuasarSimulator

from .cost_helpers import set_house_power, setup_entry, tariff_entry
from .helpers import entity_id_for


@pytest.mark.parametrize(
    ("company", "contract", "tax_zone"),
    [
        pytest.param("Elvia", Contract.SPOT, TaxZone.STANDARD, id="elvia_spot_with_vat"),
        pytest.param("BKK", Contract.NORGESPRIS, TaxZone.STANDARD, id="bkk_norgespris"),
        pytest.param("Arva", Contract.SPOT, TaxZone.NORD_NORGE, id="arva_north_without_vat"),
        pytest.param(
            "Barents Nett", Contract.SPOT, TaxZone.TILTAKSSONE, id="finnmark_without_elavgift"
        ),
    ],
)
async def test_all_in_price_matches_the_core_model(
    hass: HomeAssistant,
    simulator: QuasarSimulator,
    company: str,
    contract: Contract,
    tax_zone: TaxZone,
) -> None:
    """The all-in price sensors show the core model's price for the quarter now and the next hour."""
    entry = tariff_entry(
        simulator.port,
        company=None,
        house_sensor=False,
        grid_company=company,
        contract=contract.value,
        tax_zone=tax_zone.value,
    )
    now = datetime.now(UTC)
    await setup_entry(hass, entry, now)
    spot = entry.runtime_data.price_coordinator.data.spot
    model = CostModel(
        settings_from_presets(
            company, load_presets(), contract=contract, tax_zone=tax_zone, allow_export=True
        )
    )
    expected = model.import_price_nok_per_kwh(spot)
    now = datetime.now(UTC)
    state = hass.states.get(entity_id_for(hass, "sensor", "all_in_price"))
    assert state is not None
    assert state.attributes["unit_of_measurement"] == "NOK/kWh"
    assert float(state.state) == pytest.approx(expected.value_at(now), abs=1e-3)
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1, minutes=5)
    next_state = hass.states.get(entity_id_for(hass, "sensor", "all_in_price_next_hour"))
    assert next_state is not None
    assert float(next_state.state) == pytest.approx(expected.value_at(next_hour), abs=1e-3)
    # All-in is never the raw spot price: grid energy and taxes are always on top.
    assert float(state.state) != pytest.approx(spot.value_at(now), abs=1e-3)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_all_in_price_past_the_monthly_cap(
    hass: HomeAssistant, simulator: QuasarSimulator
) -> None:
    """Past a month's 5,000 kWh the home pays spot: the price sensors drop Norgespris."""
    entry = tariff_entry(
        simulator.port, company=None, grid_company="BKK", contract="norgespris", tax_zone="standard"
    )
    now = datetime.now(UTC)
    await setup_entry(hass, entry, now)
    price_id = entity_id_for(hass, "sensor", "all_in_price")
    under_cap = hass.states.get(price_id)
    assert under_cap is not None
    tracker = entry.runtime_data.peak_tracker
    assert tracker is not None
    # The month's import reaches the cap (as hours read back from the recorder would).
    tracker.hours_kwh[tracker.running_start_s] = 5000.0
    entry.runtime_data.controller.async_update_listeners()
    await hass.async_block_till_done()
    now = datetime.now(UTC)
    past_cap = hass.states.get(price_id)
    assert past_cap is not None
    spot = entry.runtime_data.price_coordinator.data.spot
    model = CostModel(
        settings_from_presets(
            "BKK", load_presets(), contract=Contract.NORGESPRIS, tax_zone=TaxZone.STANDARD
        )
    )
    assert tracker.month_import_kwh(now) >= model.monthly_cap_kwh
    hour_start = now.replace(minute=0, second=0, microsecond=0)
    uncapped = model.import_price_nok_per_kwh(spot).value_at(now)
    capped = model.import_price_nok_per_kwh(
        spot.window(hour_start, spot.end_utc), tracker.month_import_kwh(now)
    ).value_at(now)
    assert uncapped is not None
    assert capped is not None
    assert float(under_cap.state) == pytest.approx(uncapped, abs=1e-3)
    assert float(past_cap.state) == pytest.approx(capped, abs=1e-3)
    # Spot is not 0.40 NOK/kWh, so the two differ.
    assert capped != pytest.approx(uncapped, abs=1e-3)
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("house_w", "expected_step_from_kw"),
    [
        pytest.param("1500", 0.0, id="quiet_house_lowest_step"),
        pytest.param("9000", 0.0, id="unfinished_hour_does_not_move_the_step_yet"),
    ],
)
async def test_capacity_sensors_match_the_tariff(
    hass: HomeAssistant, simulator: QuasarSimulator, house_w: str, expected_step_from_kw: float
) -> None:
    """The step, its monthly cost and the headroom come from the tariff in force and the peaks."""
    set_house_power(hass, house_w)
    entry = tariff_entry(simulator.port)
    await setup_entry(hass, entry, datetime.now(UTC))
    model = entry.runtime_data.cost_model
    assert model is not None
    step = model.capacity_step(0.0, datetime.now(UTC).date())
    step_state = hass.states.get(entity_id_for(hass, "sensor", "capacity_step"))
    assert step_state is not None
    assert float(step_state.state) == expected_step_from_kw
    assert step_state.attributes["to_kw"] == step.to_kw
    cost_state = hass.states.get(entity_id_for(hass, "sensor", "capacity_step_cost"))
    assert cost_state is not None
    assert float(cost_state.state) == pytest.approx(step.nok_per_month, abs=0.01)
    # Nothing measured yet: today may peak at three times the next edge before the mean crosses it.
    assert step.to_kw is not None
    headroom = hass.states.get(entity_id_for(hass, "sensor", "capacity_headroom"))
    projected = hass.states.get(entity_id_for(hass, "sensor", "projected_hour_import"))
    assert headroom is not None
    assert projected is not None
    assert float(headroom.state) + float(projected.state) == pytest.approx(3 * step.to_kw, abs=0.01)
    await hass.config_entries.async_unload(entry.entry_id)
