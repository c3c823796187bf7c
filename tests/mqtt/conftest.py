"""Fixtures for the MQTT charger tests: a real mosquitto, HA's real MQTT entry, a device client.

Clean-up approach, because pytest-homeassistant-custom-component's `verify_cleanup`
fails a test that leaves threads, tasks or timers behind:

- mosquitto is a plain `subprocess.Popen` (no asyncio child watcher, so no thread) that
  is terminated and waited for at teardown.
- The "device" is a paho-mqtt client whose network thread (`loop_start`) is joined with
  `loop_stop` in the fixture's teardown, which runs before `verify_cleanup` checks the
  threads because autouse fixtures are set up first and torn down last.
- HA's MQTT config entry is unloaded at teardown, which disconnects HA's client and
  cancels its misc-loop and reconnect timers before the `hass` fixture stops.
- pytest-socket is enabled through `socket_enabled`; phcc still only allows 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import json
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import threading
import time
from typing import TYPE_CHECKING, Any

from homeassistant.components import mqtt
from homeassistant.components.mqtt import const as mqtt_const
from homeassistant.config_entries import ConfigEntryState
from paho.mqtt import client as paho
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

    from homeassistant.core import HomeAssistant

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
HOST = "127.0.0.1"
# Upper bound of every wait in these tests; conditions are polled, not slept for.
DEADLINE_S = 10.0


def _free_port() -> int:
    """Return a loopback port the kernel just handed out (ephemeral)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _accepts(port: int) -> bool:
    """Return whether something accepts TCP connections on the port."""
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


class Mosquitto:
    """A mosquitto broker on 127.0.0.1 that can be stopped and restarted on the same port."""

    def __init__(self, workdir: Path) -> None:
        """Pick a port and write the config file."""
        self.port = _free_port()
        self._config = workdir / "mosquitto.conf"
        self._config.write_text(
            f"listener {self.port} {HOST}\nallow_anonymous true\npersistence false\n",
            encoding="utf-8",
        )
        self._log = workdir / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                [MOSQUITTO, "-c", str(self._config)], stdout=log, stderr=log
            )
        deadline = time.monotonic() + DEADLINE_S
        while not _accepts(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"mosquitto did not start: {self._log.read_text(encoding='utf-8')}"
                )
            time.sleep(0.01)

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP): connections stay open but nothing is answered."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a frozen broker run again (SIGCONT)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Stop the broker and wait for it to exit."""
        if self._process is None:
            return
        self._process.send_signal(signal.SIGCONT)  # A frozen broker cannot act on SIGTERM.
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)
        self._process = None


@pytest.fixture
def mosquitto(socket_enabled: None, tmp_path: Path) -> Iterator[Mosquitto]:
    """Run a real mosquitto on an ephemeral loopback port for one test."""
    if not Path(MOSQUITTO).exists():
        pytest.skip("mosquitto is not installed")
    broker = Mosquitto(tmp_path)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
async def mqtt_entry(
    hass: HomeAssistant, mosquitto: Mosquitto, tmp_path: Path
) -> AsyncIterator[MockConfigEntry]:
    """Set up HA's real MQTT integration against the broker and unload it at teardown."""
    # MQTT setup reads configuration.yaml for YAML-defined items; phcc's testing config
    # directory has none, so point HA at an empty one of our own.
    (tmp_path / "configuration.yaml").write_text("{}\n", encoding="utf-8")
    hass.config.config_dir = str(tmp_path)
    entry = MockConfigEntry(
        domain=mqtt.DOMAIN,
        data={"broker": HOST, "port": mosquitto.port},
        version=mqtt_const.CONFIG_ENTRY_VERSION,
        minor_version=mqtt_const.CONFIG_ENTRY_MINOR_VERSION,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_for(lambda: mqtt.is_connected(hass), "HA's MQTT client connects")
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@dataclass(frozen=True, slots=True)
class Received:
    """One message the device received."""

    topic: str
    payload: str
    retain: bool
    # When it arrived (time.monotonic), for the intervals between commands.
    received_mono_s: float


class Device:
    """The charger side: a plain paho client that publishes state and records commands."""

    def __init__(self, port: int, subscriptions: tuple[str, ...]) -> None:
        """Connect to the broker and subscribe to the command topics."""
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._subscribed = threading.Event()
        self._subscriptions = subscriptions
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="charger-device")
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.connect(HOST, port, keepalive=10)
        self.client.loop_start()
        if not self._subscribed.wait(DEADLINE_S):
            raise RuntimeError("the device client did not subscribe")

    def _on_connect(self, client: paho.Client, *_: Any) -> None:
        """Subscribe on every (re)connect."""
        self._subscribed.clear()
        client.subscribe([(topic, 1) for topic in self._subscriptions])

    def _on_subscribe(self, *_: Any) -> None:
        """Note that the subscriptions are active."""
        self._subscribed.set()

    def _on_message(self, _client: paho.Client, _userdata: Any, msg: paho.MQTTMessage) -> None:
        """Record a command."""
        with self._lock:
            self._received.append(
                Received(
                    msg.topic,
                    msg.payload.decode("utf-8", "replace"),
                    bool(msg.retain),
                    time.monotonic(),
                )
            )

    @property
    def received(self) -> list[Received]:
        """Return a copy of what the device received so far."""
        with self._lock:
            return list(self._received)

    def on(self, topic: str) -> list[Received]:
        """Return the messages received on one topic."""
        return [msg for msg in self.received if msg.topic == topic]

    def publish(self, topic: str, payload: Any, *, retain: bool = False) -> None:
        """Publish (dicts as JSON) and wait until the broker has it."""
        text = payload if isinstance(payload, str) else json.dumps(payload)
        info = self.client.publish(topic, text, qos=1, retain=retain)
        info.wait_for_publish(timeout=DEADLINE_S)
        assert info.is_published(), f"device publish to {topic} was not acknowledged"

    def wait_subscribed(self) -> None:
        """Wait until the device has (re)subscribed, e.g. after a broker restart."""
        assert self._subscribed.wait(DEADLINE_S), "the device did not resubscribe"

    def close(self) -> None:
        """Disconnect and join the network thread."""
        self.client.disconnect()
        self.client.loop_stop()


def retained_on(port: int, topic: str) -> list[str]:
    """Return what the broker keeps retained on a topic, seen by a fresh subscriber."""
    got: list[str] = []
    done = threading.Event()
    probe = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="retained-probe")

    def on_message(_c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        if msg.retain:
            got.append(msg.payload.decode())

    def on_subscribe(*_: Any) -> None:
        done.set()

    probe.on_message = on_message
    probe.on_subscribe = on_subscribe
    probe.connect(HOST, port)
    probe.subscribe(topic, 1)
    probe.loop_start()
    try:
        assert done.wait(DEADLINE_S)
        # Retained messages are sent right after SUBACK; a second round trip flushes them.
        probe.publish("probe/flush", "x", qos=1).wait_for_publish(DEADLINE_S)
    finally:
        probe.disconnect()
        probe.loop_stop()
    return got


async def wait_for(
    condition: Callable[[], bool | Awaitable[bool]],
    what: str,
    *,
    timeout_s: float = DEADLINE_S,
) -> None:
    """Poll a condition until it holds; fail naming it at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        await asyncio.sleep(0.02)


PREFIX = "garage/bidi"
SETPOINT = f"{PREFIX}/cmd/power_setpoint/set"
CONTROL = f"{PREFIX}/cmd/enable/set"
STATE = f"{PREFIX}/state"
STATUS = f"{PREFIX}/status"

BASE_CONFIG: dict[str, Any] = {
    "device_id": "garage-bidi-01",
    "manufacturer": "Acme",
    "model": "Bidi 11",
    "setpoint_topic": SETPOINT,
    "control_topic": CONTROL,
    "state_topic": STATE,
    "power_path": "power",
    "soc_path": "vehicle.soc",
    "plugged_path": "plugged",
    "status_path": "status",
    "availability_topic": STATUS,
    "can_discharge": True,
    "min_power_w": 1380,
    "max_charge_power_w": 7400,
    "max_discharge_power_w": 7400,
    "stale_after_s": 30.0,
    "publish_timeout_s": 2.0,
}

GOOD_DOC: dict[str, Any] = {
    "power": 3000,
    "vehicle": {"soc": 55.5},
    "plugged": True,
    "status": "charging",
}


@pytest.fixture
def device(mosquitto: Mosquitto) -> Iterator[Device]:
    """Run the charger-side client, subscribed to the setpoint and control topics."""
    dev = Device(mosquitto.port, (SETPOINT, CONTROL))
    yield dev
    dev.close()
