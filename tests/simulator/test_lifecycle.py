"""Starting and stopping the simulator inside one event loop, and running it alone."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys

from pymodbus.client import AsyncModbusTcpClient
import pytest

from quasar_simulator import QuasarSimulator

from .conftest import RawClient

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "manual_time",
    [pytest.param(True, id="manual_clock"), pytest.param(False, id="realtime_clock")],
)
async def test_start_stop_leaves_no_tasks_and_frees_the_port(
    socket_enabled: None, manual_time: bool
) -> None:
    """start() returns an ephemeral port; stop() closes clients and leaves only this task."""
    before = asyncio.all_tasks()
    simulator = QuasarSimulator(manual_time=manual_time)
    port = await simulator.start()
    assert port > 0
    assert simulator.running
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=0.5, retries=0)
    await client.connect()
    assert await RawClient(client).read(0x219, 1) == [0]
    await simulator.stop()
    client.close()
    assert not simulator.running
    assert asyncio.all_tasks() == before
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_double_start_is_refused(socket_enabled: None) -> None:
    """Starting a running simulator raises instead of leaking a second listener."""
    simulator = QuasarSimulator(manual_time=True)
    await simulator.start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            await simulator.start()
    finally:
        await simulator.stop()


def test_command_line_serves_and_stops_on_sigterm(socket_enabled: None) -> None:
    """`python -m quasar_simulator --port 0` prints its port, serves, and exits 0 on SIGTERM."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with subprocess.Popen(
        [sys.executable, "-m", "quasar_simulator", "--port", "0", "--soc", "45"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    ) as process:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "Quasar simulator on 127.0.0.1:" in banner
        port = int(banner.split(":")[1].split()[0])
        assert port > 0
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    assert "Car plugged in at 45.0 %" in stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--capacity-kwh", "0"], "capacity_kwh must be positive", id="zero_capacity"),
        pytest.param(["--soc", "120"], "soc_pct must be within 0..100", id="soc_above_100"),
        pytest.param(["--speed", "-1"], "speed must be positive", id="negative_speed"),
        pytest.param(["--port", "x"], "invalid int value", id="port_not_a_number"),
    ],
)
def test_command_line_refuses_bad_arguments(
    socket_enabled: None, args: list[str], message: str
) -> None:
    """Bad arguments exit with status 2 and a one-line reason, not a traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "quasar_simulator", "--port", "0", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        cwd=REPO_ROOT,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_command_line_reports_a_busy_port(socket_enabled: None) -> None:
    """A port already in use exits with status 1 and says which address failed."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "quasar_simulator", "--port", str(port)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            cwd=REPO_ROOT,
            timeout=30,
            check=False,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
