"""Day-ahead price sources: the Nord Pool API, a community Nord Pool sensor or the core action.

Every source implements `PriceSource.async_fetch_day(day)` and returns the Europe/Oslo day as
15-minute slots in currency/kWh excluding VAT, or None while the day is not published.
"""

from __future__ import annotations

from .base import (
    CURRENCIES,
    NORWEGIAN_AREAS,
    BiddingArea,
    Currency,
    PriceConnectionError,
    PriceHttpError,
    PriceResponseError,
    PriceSource,
    PriceSourceError,
)
from .schedule import backoff_s, next_fetch_utc

__all__ = [
    "CURRENCIES",
    "NORWEGIAN_AREAS",
    "BiddingArea",
    "Currency",
    "PriceConnectionError",
    "PriceHttpError",
    "PriceResponseError",
    "PriceSource",
    "PriceSourceError",
    "backoff_s",
    "next_fetch_utc",
]
