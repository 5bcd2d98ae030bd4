"""The control map: controller addresses (TouchOSC's 0..1 controls) and MIDI controls to parameters and actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from installation.config import is_finite_number, line_of, read_toml
from installation.control.midimap import MidiBinding, read_midi
from installation.errors import UserError
from installation.scene.commands import COMMANDS
from installation.scene.parameters import PLAYER_PARAMETERS

DEFAULT_MAP = Path(__file__).with_name("touchosc.toml")
ACTIONS = tuple(name for name, spec in COMMANDS.items() if spec.arguments == "T")
"""Commands a button or toggle can run: those that take a press or nothing."""
_SPECS = {spec.name: spec for spec in PLAYER_PARAMETERS}
TOGGLES = ("pause", "blackout")
"""Actions that hold a state (a toggle shows it); the others (next, prev) are pushes."""


@dataclass(frozen=True)
class Control:
    """One controller address: the parameters it sets (with ranges) or the action it runs."""

    address: str
    parameters: tuple[tuple[str, float, float], ...] = ()
    action: str | None = None

    def scale(self, values: tuple[float, ...]) -> list[tuple[str, float]]:
        """Map 0..1 values into each parameter's range."""
        return [
            (name, low + (high - low) * value) for (name, low, high), value in zip(self.parameters, values, strict=True)
        ]

    @property
    def label_address(self) -> str:
        """Where the layout's label showing this control's value listens (fed back as text)."""
        return self.address + "/value"

    def unscale(self, name: str, value: float) -> float | None:
        """A parameter's value as this control's 0..1 position (for feedback), or None."""
        for parameter, low, high in self.parameters:
            if parameter == name and high != low:
                return min(max((value - low) / (high - low), 0.0), 1.0)
        return None


@dataclass(frozen=True)
class Mapping:
    """A show's control map: OSC addresses and MIDI controls, read from one file."""

    controls: dict[str, Control]
    midi: tuple[MidiBinding, ...] = ()
    path: Path = DEFAULT_MAP
    text: str = field(default="", repr=False)
    """The file's text, kept so that MIDI learn can save the map with its comments."""


def load_mapping(path: Path = DEFAULT_MAP) -> Mapping:
    """Read a mapping file; a mistake is one sentence naming the file, the line and the fix."""
    text, data = read_toml(path, "OSC map", "--osc-map")
    controls = data.get("controls")
    if not isinstance(controls, dict):
        raise UserError(f'The OSC map {path} has no [controls."/address"] tables; see the default map for the layout.')
    osc = {address: _control(path, text, address, entry) for address, entry in controls.items()}
    return Mapping(osc, read_midi(path, text, data), path, text)


def _control(path: Path, text: str, address: str, entry: object) -> Control:
    line = line_of(text, address)

    def fail(problem: str) -> UserError:
        return UserError(f"The OSC map {path}, line {line}: control {address} {problem}.")

    if not address.startswith("/") or not isinstance(entry, dict):
        raise fail("must be a table under an address that starts with /")
    if "action" in entry:
        if entry["action"] not in ACTIONS:
            raise fail(f"has an unknown action {entry['action']!r}; use one of {', '.join(ACTIONS)}")
        return Control(address, action=entry["action"])
    names = entry.get("parameters", [entry["parameter"]] if "parameter" in entry else None)
    if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
        raise fail("needs a parameter, a list of parameters, or an action")
    parameters = []
    for name in names:
        if name not in _SPECS:
            raise fail(f"names an unknown parameter {name!r}; use one of {', '.join(_SPECS)}")
        spec = _SPECS[name]
        bounds = entry.get("range", [spec.minimum, spec.maximum])
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(is_finite_number(b) for b in bounds)):
            raise fail("has a range that is not two numbers, such as range = [0.0, 4.0]")
        parameters.append((name, float(bounds[0]), float(bounds[1])))
    return Control(address, parameters=tuple(parameters))
