"""Norwegian public holidays (helligdager), fixed and Easter-based.

Grid companies whose day rate applies on "working days" bill public holidays at the low
rate. The list follows Lov om helligdager og helligdagsfred plus 1 and 17 May:
1 Jan, Maundy Thursday, Good Friday, Easter Sunday, Easter Monday, 1 May, 17 May,
Ascension Day, Whit Sunday, Whit Monday, 25 and 26 Dec. Some companies add their own low
days (BKK bills 24 and 31 Dec low); those live in the tariff, not here.

Public API: `easter_sunday(year)`, `norwegian_public_holidays(year)`,
`is_public_holiday(day)`, `day_number(day)`, `holiday_day_numbers(years, extra_days)`.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Final

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterable

    from numpy.typing import NDArray

EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()

# Offsets in days from Easter Sunday of the moving holidays.
_MOVING: Final = (
    (-3, "Maundy Thursday"),
    (-2, "Good Friday"),
    (0, "Easter Sunday"),
    (1, "Easter Monday"),
    (39, "Ascension Day"),
    (49, "Whit Sunday"),
    (50, "Whit Monday"),
)
_FIXED: Final = (
    (1, 1, "New Year's Day"),
    (5, 1, "Labour Day"),
    (5, 17, "Constitution Day"),
    (12, 25, "Christmas Day"),
    (12, 26, "Boxing Day"),
)


def easter_sunday(year: int) -> date:
    """Return Easter Sunday of a Gregorian year (the anonymous Gregorian algorithm)."""
    if not 1583 <= year <= 9999:
        raise ValueError(f"year {year} is outside the Gregorian range 1583-9999")
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=64)
def norwegian_public_holidays(year: int) -> dict[date, str]:
    """Return the public holidays of a year, date to English name, in date order."""
    easter = easter_sunday(year)
    days = {date(year, month, day): name for month, day, name in _FIXED}
    days.update({easter + timedelta(days=offset): name for offset, name in _MOVING})
    return dict(sorted(days.items()))


def is_public_holiday(day: date) -> bool:
    """Return True when the date is a Norwegian public holiday."""
    return day in norwegian_public_holidays(day.year)


def day_number(day: date) -> int:
    """Return the number of days since 1970-01-01 (the vectorised calendar's day key)."""
    return day.toordinal() - EPOCH_ORDINAL


def holiday_day_numbers(
    years: Iterable[int], extra_days: Iterable[tuple[int, int]] = ()
) -> NDArray[np.int64]:
    """Return sorted day numbers of the public holidays (plus (month, day) extras) in the years."""
    extras = tuple(extra_days)
    numbers: set[int] = set()
    for year in years:
        numbers.update(day_number(day) for day in norwegian_public_holidays(year))
        numbers.update(day_number(date(year, month, day)) for month, day in extras)
    return np.array(sorted(numbers), dtype=np.int64)
