"""Run the Quasar simulator alone: `python -m quasar_simulator --port 5020`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from .server import QuasarSimulator

LOGGER = logging.getLogger(__package__)


def _parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(prog="python -m quasar_simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=5020, help="TCP port (0 picks a free one)")
    parser.add_argument("--soc", type=float, default=None, help="plug a car in at this SoC %%")
    parser.add_argument("--capacity-kwh", type=float, default=40.0, help="usable battery")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second")
    parser.add_argument("--reaction-delay-s", type=float, default=5.0, help="charger reaction")
    parser.add_argument("--status-interval-s", type=float, default=10.0, help="log period")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


async def _run(args: argparse.Namespace, simulator: QuasarSimulator) -> None:
    """Serve until SIGINT or SIGTERM, logging the charger's state now and then."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    port = await simulator.start(args.host, args.port)
    print(f"Quasar simulator on {args.host}:{port} (Ctrl-C stops)", flush=True)
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), args.status_interval_s)
            LOGGER.info(
                "t=%.0f s state=%s power=%.0f W soc=%.1f %% control=%s setpoint=%d W/%d A",
                simulator.now_s,
                simulator.state.name,
                simulator.power_w,
                simulator.soc_pct,
                simulator.control_mode.name,
                simulator.setpoint_w,
                simulator.setpoint_a,
            )
    finally:
        await simulator.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    try:
        simulator = QuasarSimulator(
            capacity_kwh=args.capacity_kwh,
            speed=args.speed,
            reaction_delay_s=args.reaction_delay_s,
        )
        if args.soc is not None:
            simulator.plug_in(args.soc)
    except ValueError as err:
        parser.error(str(err))
    try:
        asyncio.run(_run(args, simulator))
    except OSError as err:
        parser.exit(1, f"cannot listen on {args.host}:{args.port}: {err}\n")


if __name__ == "__main__":
    main()
