"""The Wallbox Quasar (1, CHAdeMO) profile.

Register map from the vendor-provided table published with V2G Liberty and four
independent client implementations (see the project's protocol notes): holding
registers only, int16 two's complement for signed values, unit id 1.
"""

from __future__ import annotations

from typing import Final

from custom_components.nordic_v2h.transport import ChargerStatus, SetpointMode

from .schema import (
    CommandSpec,
    DeviceProfile,
    ReadBlock,
    RegisterSpec,
    RegisterType,
    StringSpec,
)

WALLBOX_QUASAR: Final = DeviceProfile(
    key="wallbox_quasar",
    manufacturer="Wallbox",
    model="Quasar",
    unit_id=1,
    setpoint_mode=SetpointMode.POWER,
    power_setpoint=RegisterSpec(
        address=0x0104, type=RegisterType.INT16, min_value=-7400, max_value=7400
    ),
    current_setpoint=RegisterSpec(
        address=0x0102, type=RegisterType.INT16, min_value=-32, max_value=32
    ),
    setpoint_mode_select=CommandSpec(
        register=RegisterSpec(address=0x0053), on_value=1, off_value=0
    ),
    action=CommandSpec(register=RegisterSpec(address=0x0101), on_value=1, off_value=2),
    control=CommandSpec(register=RegisterSpec(address=0x0051), on_value=1, off_value=0),
    autostart=CommandSpec(register=RegisterSpec(address=0x0052), on_value=1, off_value=0),
    # Short enough that a crashed Home Assistant stops a discharge within a minute.
    watchdog=RegisterSpec(address=0x0058),
    watchdog_s=60,
    state=RegisterSpec(address=0x0219, min_value=0, max_value=11),
    status_map=(
        (0, ChargerStatus.DISCONNECTED),
        (1, ChargerStatus.CHARGING),
        (2, ChargerStatus.WAITING),
        (3, ChargerStatus.SCHEDULED),
        (4, ChargerStatus.PAUSED),
        (5, ChargerStatus.SCHEDULED),
        (6, ChargerStatus.LOCKED),
        (7, ChargerStatus.ERROR),
        (8, ChargerStatus.QUEUED),
        (9, ChargerStatus.ERROR),
        (10, ChargerStatus.QUEUED),
        (11, ChargerStatus.DISCHARGING),
    ),
    unplugged_states=frozenset({0, 6}),
    power=RegisterSpec(address=0x020E, type=RegisterType.INT16, min_value=-7400, max_value=7400),
    soc=RegisterSpec(address=0x021A, min_value=0, max_value=100),
    soc_zero_when_idle=True,
    # V2G Liberty rejects 1 % as a glitch; 0 while power flows is the idle quirk leaking through.
    soc_glitch_values=frozenset({0, 1}),
    max_current=RegisterSpec(address=0x0200, min_value=6, max_value=32),
    max_power=RegisterSpec(address=0x0202, min_value=1380, max_value=7400),
    error_registers=(
        RegisterSpec(address=0x021B, type=RegisterType.UINT32),
        RegisterSpec(address=0x021D, type=RegisterType.UINT32),
    ),
    serial=RegisterSpec(address=0x0002, type=RegisterType.UINT32),
    part_number=StringSpec(address=0x0004, count=6),
    firmware=RegisterSpec(address=0x0001),
    # The unit refuses reads across its unmapped space, so read the three blocks apart.
    read_blocks=(
        ReadBlock(address=0x0200, count=0x1F),
        ReadBlock(address=0x0051, count=8),
        ReadBlock(address=0x0100, count=5),
    ),
    identity_blocks=(ReadBlock(address=0x0001, count=9), ReadBlock(address=0x0200, count=3)),
    phases=1,
    voltage_v=230,
    min_power_w=1380,
    max_charge_power_w=7400,
    max_discharge_power_w=7400,
    can_discharge=True,
)
