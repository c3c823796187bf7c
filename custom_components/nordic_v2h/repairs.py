"""Repair issues the owner can act on: the charger refuses control, prices stay away, tariffs are old.

Each issue is raised only after the problem has lasted long enough to be more than a hiccup,
and is removed by itself as soon as the problem is gone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .controller import Reason
from .core.timeseries import OSLO
from .validation import vol

if TYPE_CHECKING:
    from .data import NordicV2HConfigEntry

ISSUE_CONTROL_REFUSED: Final = "charger_refuses_control"
ISSUE_PRICES_UNAVAILABLE: Final = "prices_unavailable"
ISSUE_TARIFF_DATA_OUTDATED: Final = "tariff_data_outdated"
ISSUE_CHARGER_NOT_RESPONDING: Final = "charger_not_responding"
# A Modbus module that accepts connections but answers nothing (a known Quasar fault, fixed only
# by power-cycling the charger) shows as requests that time out one after the other.
NOT_RESPONDING_AFTER_TIMEOUTS: Final = 3

# A refused command can be a one-off (the charger rebooting); minutes of refusals are a setting.
CONTROL_REFUSED_AFTER: Final = timedelta(minutes=5)
# Prices are published once a day and fetches retry with backoff; half a day without any is real.
PRICES_UNAVAILABLE_AFTER: Final = timedelta(hours=6)

LEARN_MORE_URL: Final = (
    "https://github.com/nordic-v2h/nordic-v2h/blob/main/docs/user-guide.md#troubleshooting"
)
TARIFF_DATA_PATH: Final = Path(__file__).parent / "data" / "tariff_presets.json"


def entry_issue_id(kind: str, entry_id: str) -> str:
    """Return the id of an entry's issue of one kind."""
    return f"{kind}_{entry_id}"


def tariff_data_outdated(generated: date | None, today: date) -> bool:
    """Return whether the shipped tariff data predates this year (grid tariffs change on 1 January)."""
    return generated is not None and generated.year < today.year


def load_tariff_data_date(path: Path = TARIFF_DATA_PATH) -> date | None:
    """Return the day the shipped tariff data was built, or None when it is missing or unreadable."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return date.fromisoformat(str(document["generated"]))
    except (OSError, KeyError, TypeError, ValueError) as error:
        LOGGER.debug("No build date in the tariff data %s: %s", path, error)
        return None


class IssueMonitor:
    """Raises and clears an entry's repair issues from what the controller and the prices show."""

    def __init__(
        self, hass: HomeAssistant, entry: NordicV2HConfigEntry, tariff_data_date: date | None
    ) -> None:
        """Watch one entry."""
        self.hass = hass
        self.entry = entry
        self.tariff_data_date = tariff_data_date
        self.refused_since: datetime | None = None
        self.prices_missing_since: datetime | None = None

    @callback
    def async_check(self) -> None:
        """Look at the latest state and raise or clear each issue."""
        now = dt_util.utcnow()
        data = self.entry.runtime_data
        refused = data.controller.data.reason is Reason.CHARGER_ERROR
        self.refused_since = (self.refused_since or now) if refused else None
        self._set_issue(
            ISSUE_CONTROL_REFUSED,
            self.refused_since is not None and now - self.refused_since >= CONTROL_REFUSED_AFTER,
            is_fixable=True,
        )
        prices = data.price_coordinator
        missing = not prices.last_update_success or prices.data is None
        self.prices_missing_since = (self.prices_missing_since or now) if missing else None
        self._set_issue(
            ISSUE_PRICES_UNAVAILABLE,
            self.prices_missing_since is not None
            and now - self.prices_missing_since >= PRICES_UNAVAILABLE_AFTER,
        )
        timeouts = int(getattr(data.transport, "consecutive_timeouts", 0))
        self._set_issue(ISSUE_CHARGER_NOT_RESPONDING, timeouts >= NOT_RESPONDING_AFTER_TIMEOUTS)
        self._set_issue(
            ISSUE_TARIFF_DATA_OUTDATED,
            tariff_data_outdated(self.tariff_data_date, now.astimezone(OSLO).date()),
        )

    @callback
    def _set_issue(self, kind: str, active: bool, *, is_fixable: bool = False) -> None:
        """Create the issue when active, delete it otherwise (both are no-ops when nothing changes)."""
        ident = entry_issue_id(kind, self.entry.entry_id)
        registry = ir.async_get(self.hass)
        if not active:
            if registry.async_get_issue(DOMAIN, ident) is not None:
                ir.async_delete_issue(self.hass, DOMAIN, ident)
            return
        if registry.async_get_issue(DOMAIN, ident) is not None:
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            ident,
            data={"entry_id": self.entry.entry_id},
            is_fixable=is_fixable,
            is_persistent=False,
            learn_more_url=LEARN_MORE_URL,
            severity=ir.IssueSeverity.WARNING
            if kind != ISSUE_CONTROL_REFUSED
            else ir.IssueSeverity.ERROR,
            translation_key=kind,
            translation_placeholders={"title": self.entry.title},
        )

    @callback
    def async_clear(self) -> None:
        """Remove every issue of the entry, when it is unloaded."""
        for kind in (
            ISSUE_CONTROL_REFUSED,
            ISSUE_PRICES_UNAVAILABLE,
            ISSUE_TARIFF_DATA_OUTDATED,
            ISSUE_CHARGER_NOT_RESPONDING,
        ):
            ir.async_delete_issue(self.hass, DOMAIN, entry_issue_id(kind, self.entry.entry_id))


# Home Assistant 2026 types repair steps as RepairsFlowResult, older releases as FlowResult;
# the step results come from the base class's own helpers either way.
type RepairsStepResult = Any


class ControlRefusedRepairFlow(RepairsFlow):
    """Asks the owner to allow remote control on the charger, then tries to take control again."""

    def __init__(self, entry_id: str) -> None:
        """Remember which entry the issue belongs to."""
        self.entry_id = entry_id

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> RepairsStepResult:
        """Start with the explanation."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsStepResult:
        """Try again once the owner says the charger allows control."""
        if user_input is None:
            return self.async_show_form(step_id="confirm", data_schema=vol.Schema({}))
        entry: NordicV2HConfigEntry | None = self.hass.config_entries.async_get_entry(self.entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        controller = entry.runtime_data.controller
        # Control is asked for from scratch at the next write; in Off the step below tries the
        # hand-back again. Whether we hold control is not forgotten: unload still hands it back.
        await controller.async_retry_control()
        if controller.data.reason is Reason.CHARGER_ERROR:
            return self.async_abort(reason="still_refused")
        return self.async_create_entry(data={})


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """Return the fix flow of a fixable issue."""
    if data is None or "entry_id" not in data:
        raise ValueError(f"issue {issue_id} has no entry to fix")
    return ControlRefusedRepairFlow(str(data["entry_id"]))
