"""Typed runtime data of a Nordic V2H config entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry

if TYPE_CHECKING:
    from .controller import V2HController
    from .coordinator import ChargerCoordinator, PriceCoordinator
    from .core.tariff import CostModel
    from .costs import CostView
    from .peaks import PeakTracker
    from .settings import SettingsStore
    from .transport import ChargerIdentity, ChargerTransport


@dataclass(kw_only=True)
class NordicV2HRuntimeData:
    """Everything one config entry runs: the charger link, prices, settings and the controller."""

    charger_coordinator: ChargerCoordinator
    controller: V2HController
    identity: ChargerIdentity
    price_coordinator: PriceCoordinator
    settings: SettingsStore
    transport: ChargerTransport
    # The entry's data all this was built from (the charger's address among it); a change, as
    # a reconfigure makes, needs a reload.
    entry_data: dict[str, Any]
    # The household's cost model (None without a grid company) and the house meter's peaks
    # (None without a house power sensor).
    cost_model: CostModel | None = None
    peak_tracker: PeakTracker | None = None
    cost_view: CostView | None = None
    # The tariff overrides the cost model was built with; a change needs a reload.
    tariff_overrides: dict[str, Any] | None = None


type NordicV2HConfigEntry = ConfigEntry[NordicV2HRuntimeData]
