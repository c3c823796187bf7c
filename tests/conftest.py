"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# Home Assistant logs this when the integration uses something it has deprecated (with the
# release that will refuse it): the suite fails on it while there is still time.
_DEPRECATED_USE = "Detected that custom integration 'nordic_v2h'"


@pytest.fixture(autouse=True)
def no_deprecated_home_assistant_use(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test in which Home Assistant reported a deprecated use by the integration."""
    yield
    reports = [
        record.getMessage()
        for record in caplog.get_records("call")
        if _DEPRECATED_USE in record.getMessage()
    ]
    assert not reports, "\n".join(reports)
