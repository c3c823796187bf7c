"""Whether the house meter still follows the car, so a meter stuck on its last value is caught.

A meter that stops publishing without going unavailable keeps its last value, and the fuse
guard and the no-export cap would trust it. The main meter's reading includes the charger, so
a live meter shows any large change of the car's power; one that shows none for minutes has
stopped. A meter that publishes only on change and reads a steady value is not judged: the
test needs the car to move. Neither is an import-only meter at zero while the house exports,
since the car may then change what is exported and not what is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

# A change of the car's power that every live whole-house meter shows.
CAR_STEP_W: Final = 1500.0
# How long a live meter may take to show it: AMS/HAN readers publish every 2-10 s, and cloud
# relays within a minute or two.
STUCK_AFTER: Final = timedelta(minutes=5)
# An import-only meter reads zero while the house exports, whatever the car does. A two-way
# meter within this of zero is not judged either.
ZERO_IMPORT_W: Final = 50.0


@dataclass(slots=True)
class MeterWatch:
    """Follows the meter's changes against the car's power, one observation per control step.

    Once judged stuck, the meter stays so until its value changes: the car's power falls
    back when the meter is distrusted, and that must not make the meter trusted again.
    """

    meter_changed_utc: datetime | None = None
    car_w_at_meter_change: float = 0.0
    car_moved_utc: datetime | None = None
    stuck: bool = False

    def observe(
        self,
        now_utc: datetime,
        *,
        meter_w: float | None,
        meter_changed_utc: datetime | None,
        car_w: float | None,
    ) -> bool:
        """Take one observation and return whether the meter is judged stuck.

        `meter_changed_utc` is when the meter's value last changed; `car_w` is the car's
        power as the charger measures it, None when the charger has no reading.
        """
        if meter_w is None or meter_changed_utc is None:
            # No reading at all is handled as such; start afresh when one comes.
            self._restart(None, 0.0)
            return False
        if meter_changed_utc != self.meter_changed_utc:
            # The meter moved, so it is alive: measure the car from here.
            self._restart(meter_changed_utc, car_w or 0.0)
            return False
        if self.stuck or car_w is None:
            return self.stuck
        if abs(car_w - self.car_w_at_meter_change) < CAR_STEP_W:
            self.car_moved_utc = None
            return False
        if self.car_moved_utc is None:
            self.car_moved_utc = now_utc
        self.stuck = abs(meter_w) >= ZERO_IMPORT_W and now_utc - self.car_moved_utc >= STUCK_AFTER
        return self.stuck

    def _restart(self, meter_changed_utc: datetime | None, car_w: float) -> None:
        """Measure the car from the meter's latest change, trusting the meter again."""
        self.meter_changed_utc = meter_changed_utc
        self.car_w_at_meter_change = car_w
        self.car_moved_utc = None
        self.stuck = False
