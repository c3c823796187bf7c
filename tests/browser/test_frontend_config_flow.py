"""The real Home Assistant frontend in headless Chromium: add Nordic V2H through its config flow.

Home Assistant and the Quasar simulator run as processes on 127.0.0.1 (started and onboarded
the way `scripts/demo` does it), prices come from a recorded real day published as a Nord
Pool-style sensor, and Chromium is Debian's, driven by Playwright. Screenshots of each step are
written to build/screenshots/.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
import importlib.util
import json
import os
from pathlib import Path
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

import aiohttp
import pytest

from scripts.demo_runner import (
    CLIENT_ID,
    DEMO_USER,
    PRICE_SENSOR,
    HomeAssistantClient,
    free_port,
    prepare_config,
    recorded_price_attributes,
)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FORM_TIMEOUT_MS = 60_000

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="the playwright package is not installed",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("hass_frontend") is None,
        reason="Home Assistant's frontend is not installed (pip install -r requirements_demo.txt)",
    ),
]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunningHomeAssistant:
    """A Home Assistant with an owner account, reachable at `base_url`, and the simulator's port."""

    base_url: str
    sim_port: int
    tokens: dict[str, Any]


def _wait_for_port(port: int, timeout_s: float) -> None:
    """Wait until something listens on the loopback port."""
    import socket  # noqa: PLC0415 - only needed here

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


async def _onboard(base_url: str, password: str) -> dict[str, Any]:
    """Onboard the fresh Home Assistant, publish the recorded prices and return the owner's tokens."""
    async with aiohttp.ClientSession() as session:
        client = HomeAssistantClient(session, base_url)
        await client.wait_until_up(timeout_s=240)
        created = await client.post(
            "/api/onboarding/users",
            {
                "client_id": CLIENT_ID,
                "name": "Owner",
                "username": DEMO_USER,
                "password": password,
                "language": "en",
            },
        )
        async with session.post(
            f"{base_url}/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": created["auth_code"],
                "client_id": CLIENT_ID,
            },
        ) as response:
            response.raise_for_status()
            tokens: dict[str, Any] = await response.json()
        client.token = tokens["access_token"]
        for step in ("core_config", "analytics"):
            await client.post(f"/api/onboarding/{step}")
        await client.post(
            "/api/onboarding/integration", {"client_id": CLIENT_ID, "redirect_uri": CLIENT_ID}
        )
        await client.post(
            f"/api/states/{PRICE_SENSOR}", recorded_price_attributes(datetime.now(UTC))
        )
        return tokens


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process we started: politely first, then for good."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def home_assistant(socket_enabled: None) -> Iterator[RunningHomeAssistant]:
    """Start the simulator and Home Assistant on loopback ports, onboard, and stop both afterwards."""
    config_dir = Path(tempfile.mkdtemp(prefix="nordic-v2h-browser-"))
    ha_port, sim_port = free_port(), free_port()
    prepare_config(config_dir, ha_port, fresh=True)
    log = (config_dir / "processes.log").open("wb")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "quasar_simulator", "--host", "127.0.0.1", "--port", str(sim_port),
                 "--soc", "45", "--speed", "1"],
                cwd=ROOT, stdout=log, stderr=log,
            )
        )  # fmt: skip
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "homeassistant", "--config", str(config_dir), "--skip-pip"],
                cwd=ROOT, stdout=log, stderr=log,
            )
        )  # fmt: skip
        _wait_for_port(sim_port, 30)
        base_url = f"http://127.0.0.1:{ha_port}"
        tokens = asyncio.run(_onboard(base_url, secrets.token_urlsafe(12)))
        yield RunningHomeAssistant(base_url=base_url, sim_port=sim_port, tokens=tokens)
    finally:
        for process in reversed(processes):
            _stop(process)
        log.close()
        shutil.rmtree(config_dir, ignore_errors=True)


def _hass_tokens(running: RunningHomeAssistant) -> str:
    """Return the tokens as the frontend keeps them in localStorage."""
    tokens = running.tokens
    return json.dumps(
        {
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
            "token_type": "Bearer",
            "expires_in": tokens["expires_in"],
            "expires": int(time.time() * 1000) + int(tokens["expires_in"]) * 1000,
            "hassUrl": running.base_url,
            "clientId": CLIENT_ID,
        }
    )


def test_add_the_charger_through_the_frontend(home_assistant: RunningHomeAssistant) -> None:
    """The owner adds the charger in the UI: both steps show their fields, and the device appears."""
    from playwright.sync_api import expect, sync_playwright  # noqa: PLC0415 - optional dependency

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="nordic-v2h-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900},
                env={**os.environ, "HOME": profile},
            )
            try:
                # Logged in as the owner: the frontend finds its tokens before any of its code runs.
                context.add_init_script(
                    f"localStorage.setItem('hassTokens', {json.dumps(_hass_tokens(home_assistant))})"
                )
                page = context.new_page()
                page.goto(
                    f"{home_assistant.base_url}/config/integrations/dashboard/add?domain=nordic_v2h"
                )
                page.get_by_role("button", name="OK", exact=True).click(timeout=FORM_TIMEOUT_MS)

                # Step 1: the charger's address, with a description under every field.
                dialog = page.locator("dialog-data-entry-flow")
                connect = dialog.get_by_text("Connect to the charger")
                menu = dialog.get_by_text("Modbus TCP", exact=False)
                expect(connect.or_(menu).first).to_be_visible(timeout=FORM_TIMEOUT_MS)
                if menu.count():
                    # Builds that offer several transports ask first how the charger is connected.
                    page.screenshot(path=SCREENSHOTS / "config-flow-transport.png")
                    menu.first.click()
                expect(connect).to_be_visible(timeout=FORM_TIMEOUT_MS)
                expect(dialog.get_by_text("IP address or host name of the charger")).to_be_visible()
                dialog.locator("ha-selector-text input").first.fill("127.0.0.1")
                port = dialog.locator("ha-selector-number input").first
                port.fill(str(home_assistant.sim_port))
                page.screenshot(path=SCREENSHOTS / "config-flow-connect.png")
                dialog.get_by_role("button", name="Submit").click()

                # Step 2: prices and the house meter.
                expect(dialog.get_by_text("Prices and house meter")).to_be_visible(
                    timeout=FORM_TIMEOUT_MS
                )
                expect(dialog.get_by_text("Your Nord Pool bidding area")).to_be_visible()
                dialog.get_by_text("A Nord Pool sensor (community integration)").click()
                picker = dialog.locator("ha-entity-picker input").first
                picker.fill(PRICE_SENSOR)
                page.keyboard.press("Enter")
                page.screenshot(path=SCREENSHOTS / "config-flow-prices.png")
                dialog.get_by_role("button", name="Submit").click()

                # Any later steps keep their defaults, until the device is created.
                finish = dialog.get_by_role("button", name="Finish")
                submit = dialog.get_by_role("button", name="Submit")
                for step in range(5):
                    expect(finish.or_(submit).first).to_be_visible(timeout=FORM_TIMEOUT_MS)
                    if finish.count():
                        break
                    # A required number left empty (such as a main fuse of 25 A) gets a typical value.
                    for field in dialog.locator("ha-selector-number input").all():
                        if field.is_visible() and not field.input_value():
                            field.fill("25")
                    page.screenshot(path=SCREENSHOTS / f"config-flow-step-{step + 3}.png")
                    submit.click()
                    page.wait_for_timeout(500)
                expect(dialog.get_by_text("Wallbox Quasar").first).to_be_visible(
                    timeout=FORM_TIMEOUT_MS
                )
                page.screenshot(path=SCREENSHOTS / "config-flow-created.png")
                dialog.get_by_role("button", name="Finish").click()

                # The device page lists the entities of every platform.
                page.goto(f"{home_assistant.base_url}/config/integrations/integration/nordic_v2h")
                expect(page.get_by_text("1 device").first).to_be_visible(timeout=FORM_TIMEOUT_MS)
                page.get_by_text("1 device").first.click()
                page.get_by_text("Wallbox Quasar").first.click()
                expect(page.get_by_text("Departure target").first).to_be_visible(
                    timeout=FORM_TIMEOUT_MS
                )
                expect(page.get_by_text("Charge now").first).to_be_visible()
                page.wait_for_timeout(2000)
                page.screenshot(path=SCREENSHOTS / "device-page.png", full_page=True)
            except Exception:
                page.screenshot(path=SCREENSHOTS / "failure.png")
                raise
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    for name in ("config-flow-connect", "config-flow-prices", "config-flow-created", "device-page"):
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000, name
