"""MIDI: the map's tables, the translation of real mido messages, and a controller on real JACK
MIDI ports (python-rtmidi's JACK API; the ALSA sequencer does not exist on these machines)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from installation.app import Player
from installation.control import mapping
from installation.control.mapping import DEFAULT_MAP, load_mapping
from installation.control.midimap import MidiBinding
from installation.errors import UserError
from installation.gallery import GalleryOptions
from installation.scene.clock import FixedClock
from installation.scene.commands import LEARNING, Command, CommandQueue
from installation.scene.pipeline import FramePipeline
from installation.scene.show import Show
from tests.helpers import flat_stage, quiet_options, wait_for
from tests.jack import JackServer, jack_server

mido = pytest.importorskip("mido")
rtmidi = pytest.importorskip("rtmidi")

from installation.control import midi  # noqa: E402  (needs the extra)


def test_default_map_is_the_apc_mini() -> None:
    bindings = {b.key: b for b in load_mapping().midi}
    assert bindings[("cc", 48, None)].parameter == ("speed", 0.0, 4.0)
    assert bindings[("note", 84, None)].action == "pause" and bindings[("note", 84, None)].led == (1, 0)


def test_cc_notes_and_fourteen_bit_pairs() -> None:
    translator = midi.Translator(
        (
            MidiBinding("cc", 1, None, lsb=33, parameter=("hue", -180.0, 180.0)),
            MidiBinding("cc", 7, 0, parameter=("speed", 0.0, 4.0)),
            MidiBinding("note", 84, None, action="pause"),
            MidiBinding("note", 82, None, action="next"),
        )
    )

    def run(**fields) -> list[Command]:
        event = midi.event_of(mido.Message(**fields))
        return [] if event is None else translator.commands(event)

    assert run(type="control_change", control=7, value=127) == [Command("set", ("speed", 4.0))]
    assert run(type="control_change", channel=3, control=7, value=127) == []  # another channel
    run(type="control_change", control=1, value=64)
    (command,) = run(type="control_change", control=33, value=0)  # 64 << 7 = 8192 of 16383
    assert command.args[1] == pytest.approx(-180 + 360 * 8192 / 16383)
    assert run(type="note_on", note=84, velocity=100) == [Command("pause", (None,))]
    assert run(type="note_off", note=84) == [] and run(type="note_on", note=84, velocity=0) == []
    assert run(type="note_on", note=82, velocity=1) == [Command("next", (True,))]
    assert run(type="clock") == [] and run(type="sysex", data=[1, 2, 3]) == []
    assert run(type="pitchwheel", pitch=8191) == [] and run(type="control_change", control=127, value=127) == []


@pytest.mark.parametrize(
    "table, expected",
    [
        ("cc = 128\nparameter = 'hue'", "has cc = 128, not a MIDI number 0..127"),
        ("cc = -1\nparameter = 'hue'", "has cc = -1, not a MIDI number"),
        ("cc = true\nparameter = 'hue'", "has cc = True, not a MIDI number"),
        ("cc = 99999999999999999999\nparameter = 'hue'", "not a MIDI number"),
        ("cc = 1.5\nparameter = 'hue'", "not a MIDI number"),
        ("cc = 1\nparameter = 'hew'", "names an unknown parameter 'hew'"),
        ("note = 1\naction = 'explode'", "has an unknown action 'explode'"),
        ("cc = 1\nnote = 2\nparameter = 'hue'", "needs exactly one of cc = N or note = N"),
        ("cc = 1\nchannel = 17\nparameter = 'hue'", "has channel = 17, not a MIDI channel 1..16"),
        ("cc = 1\nlsb = 1\nparameter = 'hue'", "has an lsb, which only a cc takes"),
        ("cc = 1\nparameter = 'hue'\nrange = [0, nan]", "has a range that is not two numbers"),
        ("note = 1\naction = 'pause'\nled = [1]", "has a led that is not two velocities"),
        ("cc = 1\nparameter = 'hue'\nwobble = 3", "has an unknown key 'wobble'"),
        ("cc = 48\nparameter = 'hue'", "binds cc 48 a second time"),
        ("cc = 16\nlsb = 48\nparameter = 'hue'", "binds cc 16 a second time"),
    ],
)
def test_bad_midi_tables_are_one_sentence_with_the_line(tmp_path: Path, table: str, expected: str) -> None:
    path = tmp_path / "map.toml"
    path.write_text(
        f'[controls."/a"]\naction = "next"\n\n[[midi.controls]]\ncc = 48\nparameter = "speed"\n\n[[midi.controls]]\n{table}\n'
    )
    with pytest.raises(UserError) as raised:
        load_mapping(path)
    message = str(raised.value)
    assert f"{path}, line 8: the MIDI control " in message and expected in message and message.count("\n") == 0


# Real ports -----------------------------------------------------------------------------------


@pytest.fixture
def jack(monkeypatch: pytest.MonkeyPatch) -> Iterator[JackServer]:
    for server in jack_server(monkeypatch):
        server.start()
        wait_for(server.ports, 10, "the JACK server's ports")  # jack_wait -c says 0 even before it runs
        monkeypatch.setattr(midi, "RETRY_SECONDS", 0.2)
        yield server


class Controller:
    """A stand-in APC mini: a JACK MIDI output the show hears and an input for its LEDs."""

    def __init__(self) -> None:
        self.out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, "APC MINI")
        self.out.open_virtual_port("APC MINI out")
        self.leds = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, "APC MINI leds")
        self.leds.open_virtual_port("APC MINI in")

    def send(self, *data: int) -> None:
        self.out.send_message(list(data))

    def led_messages(self) -> list[list[int]]:
        found = []
        while (message := self.leds.get_message()) is not None:
            found.append(message[0])
        return found

    def close(self) -> None:
        self.out.close_port()
        self.leds.close_port()
        del self.out, self.leds


@pytest.mark.slow
def test_a_controller_on_real_ports(jack: JackServer, tmp_path: Path) -> None:
    pipeline = FramePipeline(Show(flat_stage(5)), FixedClock(60.0))
    show = pipeline.show
    controller = Controller()
    saved = tmp_path / "learned.toml"
    others = tmp_path / "learned.tmp"  # the name every run's save once shared
    others.write_text("another show's half-written map")
    control = midi.MidiControl(load_mapping(), pipeline.commands, "apc mini", saved)
    try:
        wait_for(lambda: control.device, 10, "the controller to be found by name")

        def until(condition, what: str) -> None:
            def step() -> bool:
                control.after_frame(pipeline.step())
                return bool(condition())

            wait_for(step, 5, what)

        controller.send(0xB0, 48, 127)  # fader 1: speed to the top of its range
        until(lambda: show.parameters.target("speed") == 4.0, "CC 48 to set the speed")
        controller.send(0x90, 84, 127)  # the pause button
        leds: list[list[int]] = []
        until(lambda: leds.extend(controller.led_messages()) or [0x90, 84, 1] in leds, "the pause LED to light")
        assert show.conductor.paused
        LEARNING.ask("hue")
        controller.send(0xB0, 20, 5)  # learn: CC 20 now drives the hue
        wait_for(lambda: saved.exists(), 5, "the learned map to be saved")
        controller.send(0xB0, 20, 127)
        until(lambda: show.parameters.target("hue") == 180.0, "the learned CC to set the hue")
        assert any(b.key == ("cc", 20, 0) and b.parameter == ("hue", -180.0, 180.0) for b in load_mapping(saved).midi)
        assert sorted(path.name for path in tmp_path.iterdir()) == ["learned.tmp", "learned.toml"]
        assert others.read_text() == "another show's half-written map"
        controller.close()  # unplugged
        wait_for(lambda: control.device is None, 5, "the unplugged controller to be noticed")
        controller = Controller()  # plugged in again: found by name
        wait_for(lambda: control.device, 5, "the controller to be found again")
        controller.send(0xB0, 48, 0)
        until(lambda: show.parameters.target("speed") == 0.0, "CC 48 after the reconnection")
    finally:
        control.close()
        controller.close()


# The player: learned maps across restarts ------------------------------------------------------


def player_with_midi(sequence: Path, state: Path, **extra) -> Player:
    """A one-frame offscreen show with ``--midi "apc mini"`` and a state file, once it found the
    controller."""
    gallery = GalleryOptions(state_file=state, watchdog=None)
    player = Player(quiet_options(sequence, 1, midi="apc mini", gallery=gallery, **extra))
    wait_for(lambda: player.midi is not None and player.midi.device, 10, "the controller to be found")
    return player


def bound(path: Path) -> dict[tuple[str, int, int | None], MidiBinding]:
    """The MIDI bindings a saved map holds (none before it exists)."""
    return {b.key: b for b in load_mapping(path).midi} if path.exists() else {}


def learn(controller: Controller, target: str, cc: int, saved: Path) -> None:
    LEARNING.ask(target)
    controller.send(0xB0, cc, 5)
    wait_for(lambda: ("cc", cc, 0) in bound(saved), 5, f"CC {cc} learned for {target} and saved")


def until(player: Player, condition, what: str) -> None:
    wait_for(lambda: player.pipeline.step() and condition(), 5, what)


@pytest.mark.slow
def test_what_was_learned_drives_the_show_after_a_restart(
    jack: JackServer, sequence_folder: Path, tmp_path: Path
) -> None:
    shipped = DEFAULT_MAP.read_bytes()
    saved = tmp_path / "control-map.toml"
    controller = Controller()
    try:
        first = player_with_midi(sequence_folder, tmp_path / "state.json")
        learn(controller, "hue", 20, saved)
        first.run()  # one frame, then everything closes, as at the end of a show
        second = player_with_midi(sequence_folder, tmp_path / "state.json")  # the same options
        controller.send(0xB0, 20, 127)
        until(second, lambda: second.pipeline.show.parameters.target("hue") == 180.0, "the learned CC to set the hue")
        learn(controller, "saturation", 21, saved)
        second.run()
    finally:
        controller.close()
    learned = bound(saved)
    assert (learned[("cc", 20, 0)].parameter, learned[("cc", 21, 0)].parameter) == (
        ("hue", -180.0, 180.0),
        ("saturation", 0.0, 2.0),
    )
    assert DEFAULT_MAP.read_bytes() == shipped


@pytest.mark.slow
def test_learn_with_the_shipped_map_by_a_relative_path_saves_beside_the_state(
    jack: JackServer,
    sequence_folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=mapping.__name__)
    shipped = DEFAULT_MAP.read_bytes()
    monkeypatch.chdir(DEFAULT_MAP.parents[2])
    relative = Path("installation/control/touchosc.toml")
    saved = tmp_path / "control-map.toml"
    controller = Controller()
    try:
        player = player_with_midi(sequence_folder, tmp_path / "state.json", osc_map=relative)
        learn(controller, "hue", 20, saved)
        player.run()
    finally:
        controller.close()
    assert DEFAULT_MAP.read_bytes() == shipped
    said = [r.getMessage() for r in caplog.records if "belongs to the installed package" in r.getMessage()]
    assert said == [f"midi: learned bindings will be saved to {saved} ({relative} belongs to the installed package)"]


@pytest.mark.slow
def test_no_midi_system_is_one_warning(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "metamorph-nobody-runs-this")
    monkeypatch.setattr(midi, "RETRY_SECONDS", 0.05)
    monkeypatch.setattr(midi, "RETRY_LIMIT_SECONDS", 0.05)  # no back-off: ten tries at once
    tries: list[object] = []
    ten_done = threading.Event()

    def backend() -> object:
        tries.append(None)
        if len(tries) > 10:  # the eleventh try: ten have run their course
            ten_done.set()
        return midi._backend()

    control = midi.MidiControl(load_mapping(), CommandQueue(), "apc", Path("unused.toml"), backend=backend)
    assert ten_done.wait(10), "ten tries within 10 s"
    control.close()
    warnings = [r for r in caplog.records if r.name == midi.__name__ and r.levelname == "WARNING"]
    assert len(warnings) == 1 and "no MIDI system" in warnings[0].getMessage() and control.device is None
