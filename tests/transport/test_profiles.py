"""Device profiles: encoding, sign conventions, loading a user's map from a dict."""

from __future__ import annotations

import math
from typing import Any

import pytest

from custom_components.nordic_v2h.profiles import (
    PROFILES,
    WALLBOX_QUASAR,
    ProfileError,
    RegisterSpec,
    RegisterTable,
    RegisterType,
    RegisterValueError,
    SignConvention,
    WordOrder,
    get_profile,
    profile_from_dict,
)
from custom_components.nordic_v2h.transport import ChargerStatus, SetpointMode
from custom_components.nordic_v2h.transport.modbus import ModbusChargerTransport
from quasar_simulator import ChargerStateCode, ControlMode, QuasarSimulator


@pytest.mark.parametrize(
    ("spec", "value", "words"),
    [
        pytest.param(
            RegisterSpec(address=0, type=RegisterType.INT16), -3000, [0xF448], id="int16_negative"
        ),
        pytest.param(RegisterSpec(address=0, type=RegisterType.UINT16), 7400, [7400], id="uint16"),
        pytest.param(
            RegisterSpec(address=0, type=RegisterType.INT32),
            -3000,
            [0xFFFF, 0xF448],
            id="int32_big",
        ),
        pytest.param(
            RegisterSpec(address=0, type=RegisterType.INT32, word_order=WordOrder.LITTLE),
            -3000,
            [0xF448, 0xFFFF],
            id="int32_little_word_order",
        ),
        pytest.param(
            RegisterSpec(address=0, type=RegisterType.UINT32), 123456, [0x0001, 0xE240], id="uint32"
        ),
        pytest.param(
            RegisterSpec(address=0, type=RegisterType.FLOAT32), 12.5, [0x4148, 0x0000], id="float32"
        ),
        pytest.param(
            RegisterSpec(address=0, type=RegisterType.INT32, scale=0.1),
            52.3,
            [0, 523],
            id="permille",
        ),
    ],
)
def test_encode_and_decode_round_trip(spec: RegisterSpec, value: float, words: list[int]) -> None:
    """A value encodes to the device's words and decodes back to the same value."""
    assert spec.encode(value) == words
    assert spec.decode(words) == pytest.approx(value)


@pytest.mark.parametrize(
    ("spec", "value"),
    [
        pytest.param(RegisterSpec(address=0, type=RegisterType.INT16), 40000, id="int16_overflow"),
        pytest.param(RegisterSpec(address=0, type=RegisterType.UINT16), -1, id="uint16_negative"),
        pytest.param(
            RegisterSpec(address=0, type=RegisterType.INT16, min_value=-7400, max_value=7400),
            7401,
            id="beyond_plausible_range",
        ),
    ],
)
def test_encode_refuses_what_the_register_cannot_hold(spec: RegisterSpec, value: float) -> None:
    """Out-of-range values raise RegisterValueError naming the register, before any I/O."""
    with pytest.raises(RegisterValueError, match="0x0000"):
        spec.encode(value)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        pytest.param(RegisterSpec(address=0x21A, max_value=100), [250], id="soc_above_range"),
        pytest.param(RegisterSpec(address=0, type=RegisterType.FLOAT32), [0x7FC0, 0], id="nan"),
        pytest.param(RegisterSpec(address=0, type=RegisterType.INT32), [1], id="too_few_words"),
    ],
)
def test_decode_refuses_garbage(spec: RegisterSpec, words: list[int]) -> None:
    """Implausible, NaN or short register values raise RegisterValueError."""
    with pytest.raises(RegisterValueError):
        spec.decode(words)


@pytest.mark.parametrize(
    ("convention", "power_w", "device_value"),
    [
        pytest.param(SignConvention.CHARGE_POSITIVE, 3000, 3000, id="quasar_charge"),
        pytest.param(SignConvention.CHARGE_POSITIVE, -3000, -3000, id="quasar_discharge"),
        pytest.param(SignConvention.DISCHARGE_POSITIVE, 3000, -3000, id="ambibox_charge_negative"),
        pytest.param(SignConvention.DISCHARGE_POSITIVE, -3000, 3000, id="ambibox_discharge"),
    ],
)
def test_sign_conventions(convention: SignConvention, power_w: int, device_value: int) -> None:
    """+ into the car maps to the device's sign and back."""
    assert convention.to_device(power_w) == device_value
    assert convention.from_device(device_value) == power_w


AMBIBOX_STYLE: dict[str, Any] = {
    "key": "ambibox_style",
    "manufacturer": "Ambibox",
    "model": "ambiCHARGE",
    "power_setpoint": {"address": 3000, "type": "int32"},
    "setpoint_sign": "discharge_positive",
    "power": {"address": 4018, "type": "int32", "table": "input"},
    "soc": {"address": 4054, "type": "float32", "table": "input", "min_value": 0, "max_value": 100},
    "state": {"address": 4082, "type": "uint32", "table": "input"},
    "status_map": {"5": "charging", "7": "paused", "9": "error"},
    "read_blocks": [{"address": 4000, "count": 104, "table": "input"}],
    "max_charge_power_w": 11000,
    "max_discharge_power_w": 11000,
    "phases": 3,
}

EVTEC_STYLE: dict[str, Any] = {
    "key": "evtec_style",
    "manufacturer": "EVtec",
    "model": "BiDiPro 10",
    "power_setpoint": {"address": 186, "type": "int32"},
    "action": {"register": {"address": 188, "type": "int32"}, "on_value": 1, "off_value": 0},
    "watchdog": {"address": 42, "type": "int32"},
    "watchdog_s": 600,
    "soc": {"address": 112, "type": "int32", "scale": 0.1, "max_value": 100},
    "power": {"address": 110, "type": "float32"},
    "serial": {"address": 16, "count": 10},
    "max_charge_power_w": 10000,
}


def test_ambibox_style_map_loads_with_opposite_sign_and_input_registers() -> None:
    """Generator sign convention, int32 setpoint, input-register block: all expressible."""
    profile = profile_from_dict(AMBIBOX_STYLE)
    assert profile.setpoint_sign is SignConvention.DISCHARGE_POSITIVE
    assert profile.power_setpoint == RegisterSpec(address=3000, type=RegisterType.INT32)
    assert profile.power is not None
    assert profile.power.table is RegisterTable.INPUT
    assert profile.statuses[5] is ChargerStatus.CHARGING
    assert profile.phases == 3
    assert profile.setpoint_mode is SetpointMode.POWER
    # Discharging 3 kW writes +3000 as int32.
    device_value = profile.setpoint_sign.to_device(-3000)
    assert profile.power_setpoint.encode(device_value) == [0, 3000]


def test_evtec_style_map_loads_with_int32_setpoint_and_action() -> None:
    """int32 setpoint and action, permille SoC, string serial, 600 s watchdog."""
    profile = profile_from_dict(EVTEC_STYLE)
    assert profile.power_setpoint is not None
    assert profile.power_setpoint.encode(-3000) == [0xFFFF, 0xF448]
    assert profile.action is not None
    assert profile.action.register.type is RegisterType.INT32
    assert profile.watchdog_s == 600
    assert profile.soc is not None
    assert profile.soc.decode([0, 523]) == pytest.approx(52.3)
    assert profile.serial is not None
    assert profile.serial.word_count == 10


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"key": None}, "key", id="missing_key"),
        pytest.param({"colour": "red"}, "unknown field.*colour", id="unknown_field"),
        pytest.param(
            {"power_setpoint": {"address": 3000, "type": "int8"}},
            r"power_setpoint.type: 'int8' is not one of int16, uint16, int32, uint32, float32",
            id="unknown_register_type",
        ),
        pytest.param(
            {"power_setpoint": {"address": 70000}}, "power_setpoint.*70000", id="address_too_big"
        ),
        pytest.param({"power_setpoint": {"type": "int16"}}, "address is required", id="no_address"),
        pytest.param({"power_setpoint": {"address": "0xZZ"}}, "expected an integer", id="bad_hex"),
        pytest.param({"power_setpoint": {"address": 1, "scale": 0}}, "scale", id="zero_scale"),
        pytest.param(
            {"power_setpoint": None}, "power_setpoint or current_setpoint", id="no_setpoint"
        ),
        pytest.param({"setpoint_mode": "current"}, "needs current_setpoint", id="mode_without_reg"),
        pytest.param({"status_map": {"5": "flying"}}, r"status_map.5: 'flying'", id="bad_status"),
        pytest.param({"phases": 2}, "phases must be 1 or 3", id="two_phases"),
        pytest.param({"phases": True}, "expected an integer", id="boolean_phases"),
        pytest.param({"setpoint_sign": "up"}, "setpoint_sign", id="bad_sign"),
        pytest.param(
            {"read_blocks": [{"address": 0, "count": 200}]}, "read_blocks", id="huge_block"
        ),
        pytest.param({"state": {"address": 1}, "status_map": {}}, "status_map", id="state_no_map"),
        pytest.param({"unit_id": 300}, "unit_id", id="unit_id_too_big"),
    ],
)
def test_invalid_maps_are_refused_with_the_field_named(
    change: dict[str, Any], message: str
) -> None:
    """Every mistake raises ProfileError whose message names the field at fault."""
    # None removes a field from the otherwise valid map.
    data = {k: v for k, v in {**AMBIBOX_STYLE, **change}.items() if v is not None}
    with pytest.raises(ProfileError, match=message):
        profile_from_dict(data)


def test_hex_string_addresses_are_accepted() -> None:
    """Users copy addresses from manuals in hex: '0x0104' works."""
    profile = profile_from_dict(
        {**EVTEC_STYLE, "power_setpoint": {"address": "0x0104", "type": "int16"}}
    )
    assert profile.power_setpoint == RegisterSpec(address=0x104, type=RegisterType.INT16)


def test_builtin_profiles() -> None:
    """The Quasar is built in; an unknown key lists the known ones."""
    assert get_profile("wallbox_quasar") is WALLBOX_QUASAR
    assert set(PROFILES) == {"wallbox_quasar"}
    with pytest.raises(ProfileError, match="known profiles: wallbox_quasar"):
        get_profile("quasar_3")
    assert WALLBOX_QUASAR.power_setpoint is not None
    assert not math.isnan(WALLBOX_QUASAR.power_setpoint.decode([0]))


# A Quasar map as a user would type it in: current setpoints only, the fewest registers.
USER_QUASAR_MAP: dict[str, Any] = {
    "key": "my_quasar",
    "manufacturer": "Wallbox",
    "model": "Quasar",
    "setpoint_mode": "current",
    "current_setpoint": {"address": "0x0102", "type": "int16"},
    "setpoint_mode_select": {"register": "0x0053", "on_value": 1, "off_value": 0},
    "action": {"register": "0x0101", "on_value": 1, "off_value": 2},
    "control": {"register": "0x0051", "on_value": 1, "off_value": 0},
    "state": "0x0219",
    "status_map": {"0": "disconnected", "4": "paused", "1": "charging", "11": "discharging"},
    "unplugged_states": [0],
    "power": {"address": "0x020E", "type": "int16"},
    "serial": {"address": 2, "type": "uint32"},
}


async def test_user_map_drives_the_simulator_in_current_mode(socket_enabled: None) -> None:
    """A Quasar map typed in by a user (current setpoints only) drives the real simulator:
    -2300 W becomes -10 A at 0x102 and the car discharges."""
    profile = profile_from_dict(USER_QUASAR_MAP)
    simulator = QuasarSimulator(manual_time=True)
    port = await simulator.start()
    transport = ModbusChargerTransport(
        host="127.0.0.1", port=port, profile=profile, min_request_interval_s=0
    )
    try:
        simulator.plug_in(50)
        identity = await transport.identify()
        assert identity.serial == "123456"
        await transport.set_power(-2300)
        assert simulator.setpoint_a == -10
        assert simulator.state is ChargerStateCode.DISCHARGING
        reading = await transport.read_state()
        assert reading.power_w == -2300
        assert reading.setpoint_w == -2300
        assert reading.status is ChargerStatus.DISCHARGING
    finally:
        await transport.close()
        await simulator.stop()


async def test_release_turns_autostart_back_on_for_a_charger_without_control_register(
    socket_enabled: None,
) -> None:
    """A charger that is always remote-controllable has no control to hand back and does not
    restore autostart itself: releasing must turn it back on, or the car would not charge on
    its own at the next plug-in."""
    always_remote_map = {
        key: value
        for key, value in USER_QUASAR_MAP.items()
        if key not in {"control", "setpoint_mode_select"}
    } | {"autostart": {"register": "0x0052", "on_value": 1, "off_value": 0}}
    simulator = QuasarSimulator(manual_time=True)
    port = await simulator.start()
    # Such a charger takes commands at any time: the simulator stands in, held in remote mode.
    simulator.device.control = ControlMode.REMOTE
    transport = ModbusChargerTransport(
        host="127.0.0.1",
        port=port,
        profile=profile_from_dict(always_remote_map),
        min_request_interval_s=0,
    )
    try:
        simulator.plug_in(50)
        await transport.set_power(2300)
        assert simulator.device.autostart == 0
        assert simulator.state is ChargerStateCode.CHARGING

        await transport.release_control()
        assert simulator.device.autostart == 1
        assert simulator.setpoint_a == 0
    finally:
        await transport.close()
        await simulator.stop()
