"""Build a DeviceProfile from plain data (JSON, YAML, an options flow) with clear errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from functools import partial
from typing import Any

from custom_components.nordic_v2h.transport import ChargerStatus, SetpointMode

from .schema import (
    CommandSpec,
    DeviceProfile,
    ProfileError,
    ReadBlock,
    RegisterSpec,
    RegisterTable,
    RegisterType,
    SignConvention,
    StringSpec,
    WordOrder,
)

_REGISTER_KEYS = frozenset(
    {"address", "type", "scale", "table", "word_order", "min_value", "max_value"}
)
_STRING_KEYS = frozenset({"address", "count", "table"})
_COMMAND_KEYS = frozenset({"register", "on_value", "off_value"})
_PROFILE_KEYS = frozenset(
    {
        "key",
        "manufacturer",
        "model",
        "unit_id",
        "setpoint_mode",
        "power_setpoint",
        "current_setpoint",
        "setpoint_sign",
        "setpoint_mode_select",
        "action",
        "control",
        "autostart",
        "watchdog",
        "watchdog_s",
        "state",
        "status_map",
        "unplugged_states",
        "power",
        "power_sign",
        "soc",
        "soc_zero_when_idle",
        "soc_glitch_values",
        "max_current",
        "max_power",
        "error_registers",
        "serial",
        "part_number",
        "firmware",
        "read_blocks",
        "identity_blocks",
        "phases",
        "voltage_v",
        "min_power_w",
        "max_charge_power_w",
        "max_discharge_power_w",
        "can_discharge",
    }
)


def _mapping(value: Any, path: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    """Return value as a mapping whose keys are all known."""
    if not isinstance(value, Mapping):
        raise ProfileError(f"{path}: expected a mapping, got {type(value).__name__}")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise ProfileError(f"{path}: unknown field(s) {', '.join(unknown)}")
    return value


def _int(value: Any, path: str) -> int:
    """Return an int from an int or a string such as '0x0104'."""
    if isinstance(value, bool):
        raise ProfileError(f"{path}: expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError:
            pass
    raise ProfileError(f"{path}: expected an integer, got {value!r}")


def _float(value: Any, path: str) -> float:
    """Return a float from a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError(f"{path}: expected a number, got {value!r}")
    return float(value)


def _bool(value: Any, path: str) -> bool:
    """Return a strict boolean."""
    if not isinstance(value, bool):
        raise ProfileError(f"{path}: expected true or false, got {value!r}")
    return value


def _str(value: Any, path: str) -> str:
    """Return a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ProfileError(f"{path}: expected a non-empty string, got {value!r}")
    return value


def _enum[E: StrEnum](enum: type[E], value: Any, path: str) -> E:
    """Return an enum member by value, naming the choices when it is not one."""
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise ProfileError(f"{path}: {value!r} is not one of {choices}") from None


def _wrap[T](path: str, build: Callable[[], T]) -> T:
    """Run a constructor, prefixing its ProfileError with the field path."""
    try:
        return build()
    except ProfileError as err:
        if str(err).startswith(path):
            raise
        raise ProfileError(f"{path}: {err}") from None


def register_from_data(value: Any, path: str) -> RegisterSpec:
    """Build a RegisterSpec from an address or a mapping."""
    if not isinstance(value, Mapping):
        address = _int(value, path)
        return _wrap(path, lambda: RegisterSpec(address=address))
    data = _mapping(value, path, _REGISTER_KEYS)
    if "address" not in data:
        raise ProfileError(f"{path}: address is required")
    address = _int(data["address"], f"{path}.address")
    kind = _enum(RegisterType, data.get("type", "uint16"), f"{path}.type")
    scale = _float(data.get("scale", 1.0), f"{path}.scale")
    table = _enum(RegisterTable, data.get("table", "holding"), f"{path}.table")
    order = _enum(WordOrder, data.get("word_order", "big"), f"{path}.word_order")
    low = _float(data["min_value"], f"{path}.min_value") if "min_value" in data else None
    high = _float(data["max_value"], f"{path}.max_value") if "max_value" in data else None
    return _wrap(
        path,
        lambda: RegisterSpec(
            address=address,
            type=kind,
            scale=scale,
            table=table,
            word_order=order,
            min_value=low,
            max_value=high,
        ),
    )


def string_from_data(value: Any, path: str) -> StringSpec:
    """Build a StringSpec from a mapping with address and count."""
    data = _mapping(value, path, _STRING_KEYS)
    if "address" not in data or "count" not in data:
        raise ProfileError(f"{path}: address and count are required")
    address = _int(data["address"], f"{path}.address")
    count = _int(data["count"], f"{path}.count")
    table = _enum(RegisterTable, data.get("table", "holding"), f"{path}.table")
    return _wrap(path, lambda: StringSpec(address=address, count=count, table=table))


def _register_or_string(value: Any, path: str) -> RegisterSpec | StringSpec:
    """Build a string spec when a count is given, else a register."""
    if isinstance(value, Mapping) and "count" in value:
        return string_from_data(value, path)
    return register_from_data(value, path)


def command_from_data(value: Any, path: str) -> CommandSpec:
    """Build a CommandSpec from {register, on_value, off_value}."""
    data = _mapping(value, path, _COMMAND_KEYS)
    missing = sorted(_COMMAND_KEYS - set(data))
    if missing:
        raise ProfileError(f"{path}: missing {', '.join(missing)}")
    return CommandSpec(
        register=register_from_data(data["register"], f"{path}.register"),
        on_value=_int(data["on_value"], f"{path}.on_value"),
        off_value=_int(data["off_value"], f"{path}.off_value"),
    )


def _status_map(value: Any, path: str) -> tuple[tuple[int, ChargerStatus], ...]:
    """Build the status map from {code: status}."""
    if not isinstance(value, Mapping):
        raise ProfileError(f"{path}: expected a mapping of code to status")
    return tuple(
        (_int(code, f"{path}.{code}"), _enum(ChargerStatus, status, f"{path}.{code}"))
        for code, status in value.items()
    )


def _int_list(value: Any, path: str) -> list[int]:
    """Return a list of ints."""
    if not isinstance(value, list | tuple):
        raise ProfileError(f"{path}: expected a list, got {type(value).__name__}")
    return [_int(item, f"{path}[{index}]") for index, item in enumerate(value)]


def _read_blocks(value: Any, path: str) -> tuple[ReadBlock, ...]:
    """Build the read blocks from a list of {address, count, table}."""
    if not isinstance(value, list | tuple):
        raise ProfileError(f"{path}: expected a list, got {type(value).__name__}")
    blocks = []
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        data = _mapping(item, where, _STRING_KEYS)
        if "address" not in data or "count" not in data:
            raise ProfileError(f"{where}: address and count are required")
        address = _int(data["address"], f"{where}.address")
        count = _int(data["count"], f"{where}.count")
        table = _enum(RegisterTable, data.get("table", "holding"), f"{where}.table")
        blocks.append(_wrap(where, partial(ReadBlock, address=address, count=count, table=table)))
    return tuple(blocks)


def profile_from_dict(data: Mapping[str, Any]) -> DeviceProfile:
    """Build and validate a DeviceProfile; raise ProfileError naming the bad field."""
    data = _mapping(data, "profile", _PROFILE_KEYS)
    for required in ("key", "manufacturer", "model"):
        if required not in data:
            raise ProfileError(f"profile: {required} is required")
    kwargs: dict[str, Any] = {
        "key": _str(data["key"], "key"),
        "manufacturer": _str(data["manufacturer"], "manufacturer"),
        "model": _str(data["model"], "model"),
    }
    for name in ("power_setpoint", "current_setpoint", "watchdog", "state", "power", "soc"):
        if data.get(name) is not None:
            kwargs[name] = register_from_data(data[name], name)
    for name in ("max_current", "max_power"):
        if data.get(name) is not None:
            kwargs[name] = register_from_data(data[name], name)
    for name in ("setpoint_mode_select", "action", "control", "autostart"):
        if data.get(name) is not None:
            kwargs[name] = command_from_data(data[name], name)
    for name in ("serial", "firmware"):
        if data.get(name) is not None:
            kwargs[name] = _register_or_string(data[name], name)
    if data.get("part_number") is not None:
        kwargs["part_number"] = string_from_data(data["part_number"], "part_number")
    if "error_registers" in data:
        items = data["error_registers"]
        if not isinstance(items, list | tuple):
            raise ProfileError("error_registers: expected a list")
        kwargs["error_registers"] = tuple(
            register_from_data(item, f"error_registers[{i}]") for i, item in enumerate(items)
        )
    for name in ("read_blocks", "identity_blocks"):
        if name in data:
            kwargs[name] = _read_blocks(data[name], name)
    if "status_map" in data:
        kwargs["status_map"] = _status_map(data["status_map"], "status_map")
    if "unplugged_states" in data:
        kwargs["unplugged_states"] = frozenset(
            _int_list(data["unplugged_states"], "unplugged_states")
        )
    if "soc_glitch_values" in data:
        kwargs["soc_glitch_values"] = frozenset(
            _int_list(data["soc_glitch_values"], "soc_glitch_values")
        )
    if "setpoint_mode" in data:
        kwargs["setpoint_mode"] = _enum(SetpointMode, data["setpoint_mode"], "setpoint_mode")
    for name in ("setpoint_sign", "power_sign"):
        if name in data:
            kwargs[name] = _enum(SignConvention, data[name], name)
    for name in (
        "unit_id",
        "watchdog_s",
        "phases",
        "voltage_v",
        "min_power_w",
        "max_charge_power_w",
        "max_discharge_power_w",
    ):
        if data.get(name) is not None:
            kwargs[name] = _int(data[name], name)
    for name in ("soc_zero_when_idle", "can_discharge"):
        if name in data:
            kwargs[name] = _bool(data[name], name)
    return DeviceProfile(**kwargs)
