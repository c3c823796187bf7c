"""Start the Quasar simulator and Home Assistant, onboard it and add Nordic V2H through its real flow.

Used by `scripts/demo`. Everything listens on 127.0.0.1 only. Prices come from Nord Pool when
it can be reached; otherwise (and always with --offline or --smoke) a recorded real day of NO1
quarter-hour prices is published as a Nord Pool-style sensor and used as the price source.
"""

from __future__ import annotations

import argparse
import asyncio
from contextlib import suppress
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import secrets
import shutil
import signal
import socket
import sys
import tempfile
from typing import Any, Final
from zoneinfo import ZoneInfo

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
OSLO = ZoneInfo("Europe/Oslo")
RECORDED_PRICES = ROOT / "scripts" / "demo_data" / "no1_2025-10-15_quarter_prices.json"
DEMO_USER = "demo"
CLIENT_ID = "http://127.0.0.1/"
PRICE_SENSOR = "sensor.nord_pool_no1_recorded"
DOMAIN = "nordic_v2h"
BRAND_DIR = ROOT / "custom_components" / DOMAIN / "brand"
# Home Assistant serves a custom integration's own brand/ images from this release on.
BRANDS_SINCE: Final = (2026, 3)
# What Home Assistant logs when an integration uses something it has deprecated.
DEPRECATED_USE = f"Detected that custom integration '{DOMAIN}'"
# Home Assistant's error lines a failed run prints (the last ones).
_FAILURE_LOG_LINES = 20

CONFIGURATION_YAML = """\
homeassistant:
  name: Nordic V2H demo
  latitude: 59.91
  longitude: 10.75
  elevation: 10
  unit_system: metric
  currency: NOK
  country: "NO"
  language: en
  time_zone: Europe/Oslo
frontend:
config:
api:
energy:
history:
logbook:
recorder:
http:
  server_host: 127.0.0.1
  server_port: {port}
logger:
  default: warning
  logs:
    custom_components.nordic_v2h: debug
"""


def log(message: str) -> None:
    """Print a progress line of the demo."""
    print(f"[demo] {message}", flush=True)


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_config(config_dir: Path, port: int, fresh: bool) -> bool:
    """Write the configuration and link the integration; return whether onboarding is needed."""
    if fresh and config_dir.exists():
        shutil.rmtree(config_dir)
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(
        CONFIGURATION_YAML.format(port=port), encoding="utf-8"
    )
    components = config_dir / "custom_components"
    components.mkdir(exist_ok=True)
    link = components / DOMAIN
    if not link.exists():
        link.symlink_to(ROOT / "custom_components" / DOMAIN, target_is_directory=True)
    return not (config_dir / ".storage" / "onboarding").exists()


def recorded_price_attributes(now: datetime) -> dict[str, Any]:
    """Return a recorded real day of prices, moved onto today and tomorrow, as Nord Pool-sensor attributes."""
    recorded = json.loads(RECORDED_PRICES.read_text(encoding="utf-8"))
    values: list[float] = recorded["nok_per_kwh"]
    today = now.astimezone(OSLO).date()

    def day_entries(day_offset: int) -> list[dict[str, Any]]:
        day = today + timedelta(days=day_offset)
        start = datetime(day.year, day.month, day.day, tzinfo=OSLO).astimezone(UTC)
        end_day = day + timedelta(days=1)
        end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=OSLO).astimezone(UTC)
        count = int((end - start).total_seconds() // 900)
        entries = []
        for index in range(count):
            slot_start = start + timedelta(minutes=15 * index)
            entries.append(
                {
                    "start": slot_start.astimezone(OSLO).isoformat(),
                    "end": (slot_start + timedelta(minutes=15)).astimezone(OSLO).isoformat(),
                    "value": values[index % len(values)],
                }
            )
        return entries

    raw_today = day_entries(0)
    current = next(
        (
            entry["value"]
            for entry in raw_today
            if datetime.fromisoformat(entry["start"]) <= now < datetime.fromisoformat(entry["end"])
        ),
        raw_today[0]["value"],
    )
    return {
        "state": current,
        "attributes": {
            "raw_today": raw_today,
            "raw_tomorrow": day_entries(1),
            "tomorrow_valid": True,
            "unit_of_measurement": "NOK/kWh",
            "currency": "NOK",
            "friendly_name": "Nord Pool NO1 (recorded 2025-10-15)",
            "device_class": "monetary",
        },
    }


class HomeAssistantClient:
    """The REST calls the demo needs: onboarding, states, services and the config flow."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        """Talk to the Home Assistant at `base_url`."""
        self.session = session
        self.base_url = base_url
        self.token: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        """Return the authorisation header once logged in."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def wait_until_up(self, timeout_s: float) -> None:
        """Wait until the HTTP server answers."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            with suppress(aiohttp.ClientError):
                async with self.session.get(f"{self.base_url}/api/onboarding") as response:
                    if response.status in (200, 401, 404):
                        return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("Home Assistant did not start in time")
            await asyncio.sleep(1)

    async def post(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        """POST JSON and return the decoded answer, raising on HTTP errors."""
        async with self.session.post(
            f"{self.base_url}{path}", json=payload or {}, headers=self.headers
        ) as response:
            text = await response.text()
            if response.status >= 400:
                raise RuntimeError(f"POST {path} answered {response.status}: {text}")
            return json.loads(text) if text else None

    async def get(self, path: str) -> Any:
        """GET and return the decoded answer."""
        async with self.session.get(f"{self.base_url}{path}", headers=self.headers) as response:
            response.raise_for_status()
            return await response.json()

    async def onboard(self, password: str) -> None:
        """Create the owner, finish onboarding and log in."""
        created = await self.post(
            "/api/onboarding/users",
            {
                "client_id": CLIENT_ID,
                "name": "Demo",
                "username": DEMO_USER,
                "password": password,
                "language": "en",
            },
        )
        await self.exchange_code(created["auth_code"])
        for step in ("core_config", "analytics"):
            await self.post(f"/api/onboarding/{step}")
        await self.post(
            "/api/onboarding/integration", {"client_id": CLIENT_ID, "redirect_uri": CLIENT_ID}
        )

    async def login(self, password: str) -> None:
        """Log in with the demo user through the login flow."""
        flow = await self.post(
            "/auth/login_flow",
            {"client_id": CLIENT_ID, "handler": ["homeassistant", None], "redirect_uri": CLIENT_ID},
        )
        result = await self.post(
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": CLIENT_ID, "username": DEMO_USER, "password": password},
        )
        await self.exchange_code(result["result"])

    async def exchange_code(self, code: str) -> None:
        """Turn an authorisation code into an access token."""
        async with self.session.post(
            f"{self.base_url}/auth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID},
        ) as response:
            response.raise_for_status()
            self.token = (await response.json())["access_token"]

    async def add_integration(self, sim_port: int, price_source: str) -> dict[str, Any]:
        """Walk through the integration's real config flow, answering each step as a user would."""
        answers: dict[str, dict[str, Any]] = {
            "modbus": {"host": "127.0.0.1", "port": sim_port, "unit_id": 1},
            "prices": {
                "area": "NO1",
                "currency": "NOK",
                "price_source": price_source,
                "price_entity_includes_vat": False,
                **({"price_entity": PRICE_SENSOR} if price_source == "community_entity" else {}),
            },
            "tariff": {"grid_company": "Elvia", "contract": "spot", "battery_kwh": 40},
        }
        return await self.walk_flow(
            "/api/config/config_entries/flow",
            {"handler": DOMAIN, "show_advanced_options": False},
            answers,
        )

    async def walk_flow(
        self, path: str, start: dict[str, Any], answers: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        """Start a flow at `path` and answer each form from `answers` by step; return the end."""
        step = await self.post(path, start)
        for _ in range(10):
            if step.get("type") == "menu":
                step = await self.post(f"{path}/{step['flow_id']}", {"next_step_id": "modbus"})
                continue
            if step.get("type") != "form":
                return dict(step)
            if step.get("errors"):
                raise RuntimeError(f"the {step['step_id']} step failed: {step['errors']}")
            known = {field["name"] for field in step.get("data_schema", [])}
            answer = {
                key: value
                for key, value in answers.get(step["step_id"], {}).items()
                if key in known
            }
            step = await self.post(f"{path}/{step['flow_id']}", answer)
        raise RuntimeError(f"the flow at {path} did not finish: {step}")

    async def states(self) -> list[dict[str, Any]]:
        """Return every entity state."""
        return list(await self.get("/api/states"))


async def nordpool_reachable() -> bool:
    """Return whether Nord Pool's data portal answers within a few seconds."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
            session.get(
                "https://dataportal-api.nordpoolgroup.com/api/DayAheadPriceIndices"
            ) as response,
        ):
            return response.status < 500
    except (aiohttp.ClientError, TimeoutError, OSError):
        return False


async def read_simulator(port: int) -> dict[str, int]:
    """Read the simulator's control registers with a plain Modbus client, as a check from outside."""
    from pymodbus.client import AsyncModbusTcpClient  # noqa: PLC0415 - only the smoke test needs it

    client = AsyncModbusTcpClient("127.0.0.1", port=port)
    await client.connect()
    try:
        control = await client.read_holding_registers(0x51, count=1, **_unit_kwargs())
        setpoints = await client.read_holding_registers(0x100, count=5, **_unit_kwargs())
        power = setpoints.registers[4]
        current = setpoints.registers[2]
        return {
            "control_mode": control.registers[0],
            "action": setpoints.registers[1],
            "current_setpoint_a": current - 65536 if current >= 32768 else current,
            "power_setpoint_w": power - 65536 if power >= 32768 else power,
        }
    finally:
        client.close()


def _unit_kwargs() -> dict[str, Any]:
    """Return the unit-id keyword of the installed pymodbus (renamed in 3.10)."""
    import inspect  # noqa: PLC0415

    from pymodbus.client import AsyncModbusTcpClient  # noqa: PLC0415

    parameters = inspect.signature(AsyncModbusTcpClient.read_holding_registers).parameters
    return {"device_id": 1} if "device_id" in parameters else {"slave": 1}


async def run(args: argparse.Namespace) -> int:
    """Run the demo; return the exit code."""
    smoke = bool(args.smoke)
    config_dir = (
        Path(tempfile.mkdtemp(prefix="nordic-v2h-demo-")) if smoke else Path(args.config).resolve()  # noqa: ASYNC240 - start-up, before anything runs
    )
    ha_port = free_port() if smoke else int(args.port)
    sim_port = free_port()
    needs_onboarding = prepare_config(config_dir, ha_port, fresh=bool(args.fresh))
    password = "nordic-v2h-demo" if not smoke else secrets.token_urlsafe(12)
    processes: list[asyncio.subprocess.Process] = []
    log_file = (config_dir / "demo-processes.log").open("w", encoding="utf-8")
    exit_code = 1
    try:
        log(f"starting the Wallbox Quasar simulator on 127.0.0.1:{sim_port}")
        processes.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "quasar_simulator",
                "--host",
                "127.0.0.1",
                "--port",
                str(sim_port),
                "--soc",
                "45",
                "--speed",
                "1",
                cwd=ROOT,
                stdout=log_file,
                stderr=log_file,
            )
        )
        log(f"starting Home Assistant on http://127.0.0.1:{ha_port} (config: {config_dir})")
        processes.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "homeassistant",
                "--config",
                str(config_dir),
                "--skip-pip",
                cwd=ROOT,
                stdout=log_file,
                stderr=log_file,
            )
        )
        async with aiohttp.ClientSession() as session:
            client = HomeAssistantClient(session, f"http://127.0.0.1:{ha_port}")
            await client.wait_until_up(timeout_s=240)
            if needs_onboarding:
                log("onboarding: creating the owner account")
                await client.onboard(password)
            else:
                await client.login(password)
            offline = smoke or bool(args.offline) or not await nordpool_reachable()
            price_source = "community_entity" if offline else "nordpool"
            if offline:
                log(f"Nord Pool not used: publishing recorded real prices as {PRICE_SENSOR}")
                await client.post(
                    f"/api/states/{PRICE_SENSOR}", recorded_price_attributes(datetime.now(UTC))
                )
            # On a second run the flow aborts as already configured and updates the entry with
            # this run's simulator port, which reloads it.
            result = await client.add_integration(sim_port, price_source)
            log(
                f"integration: {result.get('type')} {result.get('title', result.get('reason', ''))}"
            )
            if (
                result.get("type") != "create_entry"
                and result.get("reason") != "already_configured"
            ):
                raise RuntimeError(f"the integration was not added: {result}")  # noqa: TRY301 - reported like every other demo failure
            seen = await wait_for_entities(client, timeout_s=120)
            for entity_id, state in sorted(seen.items()):
                log(f"  {entity_id} = {state}")
            if smoke:
                exit_code = await smoke_check(client, sim_port, seen, config_dir)
                return exit_code
            log(
                f"open http://127.0.0.1:{ha_port} and log in as '{DEMO_USER}' with password '{password}'"
            )
            log("press Ctrl-C to stop")
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await stop.wait()
            exit_code = 0
            return exit_code
    except (RuntimeError, TimeoutError, aiohttp.ClientError) as error:
        log(f"FAILED: {error}")
        return 1
    finally:
        for process in reversed(processes):
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), timeout=30)
                except TimeoutError:
                    process.kill()
        log_file.close()
        if exit_code != 0:
            report_failure(config_dir)
        elif smoke:
            shutil.rmtree(config_dir, ignore_errors=True)


def report_failure(config_dir: Path) -> None:
    """Print Home Assistant's errors and where the logs are kept, so a failed run says why."""
    ha_log = config_dir / "home-assistant.log"
    lines = (
        ha_log.read_text(encoding="utf-8", errors="replace").splitlines() if ha_log.exists() else []
    )
    errors = [line for line in lines if " ERROR " in line]
    # Onboarding sets up integrations of its own that log errors in a bare environment: show
    # this integration's lines when there are any.
    ours = [
        line
        for line in lines
        if DOMAIN in line
        and (" ERROR " in line or " WARNING " in line)
        and "not been tested" not in line
    ]
    for line in (ours or errors)[-_FAILURE_LOG_LINES:]:
        log(f"  {line}")
    log(f"logs kept in {config_dir} (home-assistant.log, demo-processes.log)")


async def wait_for_entities(client: HomeAssistantClient, timeout_s: float) -> dict[str, str]:
    """Wait until the integration's entities have states; return them."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    wanted = (
        "_car_state_of_charge",
        "_charger_power",
        "_charger_state",
        "_car_plugged_in",
        "_spot_price",
        "_mode",
    )
    while True:
        states = {
            s["entity_id"]: s["state"] for s in await client.states() if "quasar" in s["entity_id"]
        }
        if all(any(entity.endswith(suffix) for entity in states) for suffix in wanted):
            return states
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"entities did not appear; have {sorted(states)}")
        await asyncio.sleep(1)


async def smoke_check(
    client: HomeAssistantClient, sim_port: int, seen: dict[str, str], config_dir: Path
) -> int:
    """Check charging, handing control back, the settings flows and Home Assistant's log.

    Asks for charging and checks the setpoint reached the simulator, then that mode Off hands
    control back and that Home Assistant serves the brand images (where it can); then changes
    the options, reconfigures and reloads the entry, and fails if
    Home Assistant reported a deprecated use by the integration in all that.
    """
    mode_entity = next(
        entity for entity in seen if entity.startswith("select.") and entity.endswith("_mode")
    )
    await client.post(
        "/api/services/select/select_option", {"entity_id": mode_entity, "option": "charge_now"}
    )
    deadline = asyncio.get_running_loop().time() + 60
    registers: dict[str, int] = {}
    while asyncio.get_running_loop().time() < deadline:
        registers = await read_simulator(sim_port)
        if registers["control_mode"] == 1 and (
            registers["power_setpoint_w"] > 0 or registers["current_setpoint_a"] > 0
        ):
            break
        await asyncio.sleep(1)
    else:
        log(f"FAILED: no charging setpoint reached the simulator: {registers}")
        return 1
    log(f"setpoint reached the simulator: {registers}")
    await client.post(
        "/api/services/select/select_option", {"entity_id": mode_entity, "option": "off"}
    )
    deadline = asyncio.get_running_loop().time() + 30
    while asyncio.get_running_loop().time() < deadline:
        registers = await read_simulator(sim_port)
        if registers["control_mode"] == 0:
            log(f"mode Off handed control back to the charger: {registers}")
            break
        await asyncio.sleep(1)
    else:
        log(f"FAILED: control was not handed back: {registers}")
        return 1
    if not await check_brand_images(client):
        return 1
    await change_settings(client, sim_port)
    # Home Assistant writes its log from a queue: give it a moment before reading.
    await asyncio.sleep(1)
    ha_log = (config_dir / "home-assistant.log").read_text(encoding="utf-8", errors="replace")
    reports = [line for line in ha_log.splitlines() if DEPRECATED_USE in line]
    if reports:
        log("FAILED: Home Assistant reported deprecated use by the integration:")
        for line in reports:
            log(f"  {line}")
        return 1
    log("no deprecated use reported by Home Assistant")
    log("smoke test passed")
    return 0


async def check_brand_images(client: HomeAssistantClient) -> bool:
    """Check that Home Assistant serves the integration's own icon and logo where it can."""
    version = str((await client.get("/api/config"))["version"])
    major, minor = (int(part) for part in version.split(".")[:2])
    if (major, minor) < BRANDS_SINCE:
        log(f"brand images: Home Assistant {version} does not serve them (2026.3 and newer do)")
        return True
    for name in ("icon.png", "logo.png"):
        url = f"{client.base_url}/api/brands/integration/{DOMAIN}/{name}"
        async with client.session.get(url, headers=client.headers) as response:
            body = await response.read()
            status = response.status
        if status != 200 or body != (BRAND_DIR / name).read_bytes():
            log(f"FAILED: Home Assistant did not serve brand/{name} (HTTP {status})")
            return False
    log("brand images served by Home Assistant: icon.png, logo.png")
    return True


async def change_settings(client: HomeAssistantClient, sim_port: int) -> None:
    """Change the options, reconfigure the address and reload the entry, as an owner might."""
    entries = await client.get(f"/api/config/config_entries/entry?domain={DOMAIN}")
    entry_id = str(entries[0]["entry_id"])
    options = await client.walk_flow(
        "/api/config/config_entries/options/flow",
        {"handler": entry_id},
        {"init": {"battery_kwh": 62, "boost_duration_min": 90}},
    )
    if options.get("type") != "create_entry":
        raise RuntimeError(f"the options flow did not save: {options}")
    log("options flow saved")
    reconfigure = await client.walk_flow(
        "/api/config/config_entries/flow",
        {"handler": DOMAIN, "entry_id": entry_id},
        {"reconfigure": {"host": "127.0.0.1", "port": sim_port, "unit_id": 1}},
    )
    if reconfigure.get("reason") != "reconfigure_successful":
        raise RuntimeError(f"the reconfigure flow did not finish: {reconfigure}")
    log("reconfigure flow finished")
    await client.post(f"/api/config/config_entries/entry/{entry_id}/reload")
    seen = await wait_for_entities(client, timeout_s=60)
    log(f"reloaded: {len(seen)} entities back")


def main() -> int:
    """Parse the arguments and run the demo."""
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__)
    parser.add_argument(
        "--smoke", action="store_true", help="headless check, then stop (exit code 0 or 1)"
    )
    parser.add_argument(
        "--offline", action="store_true", help="use recorded prices without trying Nord Pool"
    )
    parser.add_argument("--port", type=int, default=8123, help="Home Assistant's HTTP port")
    parser.add_argument(
        "--config", default=str(ROOT / "demo-config"), help="Home Assistant config directory"
    )
    parser.add_argument("--fresh", action="store_true", help="start from an empty config directory")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
