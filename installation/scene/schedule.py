"""Opening hours: a daily window in local time, overnight windows included (18:00-02:00)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import time

from installation.errors import UserError
from installation.scene.parameters import ParameterValues

CLOSED_LOOKS = ("black", "dim")
DIM_BRIGHTNESS = 0.2


@dataclass(frozen=True)
class Schedule:
    opens: time
    closes: time

    def is_open(self, now: time) -> bool:
        if self.opens <= self.closes:
            return self.opens <= now < self.closes
        return now >= self.opens or now < self.closes


def parse_schedule(text: str) -> Schedule:
    """``"10:00-18:00"`` to a schedule, or one sentence with the fix."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if match:
        hours = [int(match[1]), int(match[3])]
        minutes = [int(match[2]), int(match[4])]
        if (
            all(h < 24 for h in hours)
            and all(m < 60 for m in minutes)
            and (hours, minutes) != (hours[::-1], minutes[::-1])
        ):
            return Schedule(time(hours[0], minutes[0]), time(hours[1], minutes[1]))
    raise UserError(f"--open {text!r} is not a daily window; write it as HH:MM-HH:MM, e.g. 10:00-18:00 or 18:00-02:00.")


def closed_look(values: ParameterValues, look: str) -> ParameterValues:
    """The parameters of a frame outside opening hours: black, or dimmed."""
    if look == "dim":
        return dataclasses.replace(values, brightness=values.brightness * DIM_BRIGHTNESS)
    return dataclasses.replace(values, blackout=1.0)
