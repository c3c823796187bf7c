"""Device profiles: register maps of bidirectional chargers, as frozen data."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from .loader import profile_from_dict
from .schema import (
    CommandSpec,
    DeviceProfile,
    ProfileError,
    ReadBlock,
    RegisterSpec,
    RegisterTable,
    RegisterType,
    RegisterValueError,
    SignConvention,
    StringSpec,
    WordOrder,
)
from .wallbox_quasar import WALLBOX_QUASAR

PROFILES: Final = MappingProxyType({WALLBOX_QUASAR.key: WALLBOX_QUASAR})


def get_profile(key: str) -> DeviceProfile:
    """Return a built-in profile by key, naming the known ones when it is unknown."""
    try:
        return PROFILES[key]
    except KeyError:
        raise ProfileError(
            f"unknown profile {key!r}; known profiles: {', '.join(sorted(PROFILES))}"
        ) from None


__all__ = [
    "PROFILES",
    "WALLBOX_QUASAR",
    "CommandSpec",
    "DeviceProfile",
    "ProfileError",
    "ReadBlock",
    "RegisterSpec",
    "RegisterTable",
    "RegisterType",
    "RegisterValueError",
    "SignConvention",
    "StringSpec",
    "WordOrder",
    "get_profile",
    "profile_from_dict",
]
