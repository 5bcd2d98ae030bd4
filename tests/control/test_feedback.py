"""Feedback over real UDP: two controllers on loopback addresses (127.0.0.2 and .3, one port, as
two tablets listening on their port 9000) follow the show, whoever changed it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from installation.app import KEY_COMMANDS
from installation.control.feedback import MAX_CONTROLLERS
from installation.control.mapping import load_mapping
from installation.control.osc import OscControl
from installation.errors import UserError
from installation.scene.clock import FixedClock
from installation.scene.commands import Command, CommandQueue
from installation.scene.parameters import PLAYER_PARAMETERS
from installation.scene.pipeline import FramePipeline
from installation.scene.show import Show
from tests.helpers import flat_stage


@dataclass
class Tablet:
    """A controller: it sends from one socket and hears feedback on its own address."""

    sock: socket.socket
    heard: list[tuple[float, str, tuple]] = field(default_factory=list)

    def send(self, port: int, address: str, *args: float) -> None:
        builder = OscMessageBuilder(address)
        for arg in args:
            builder.add_arg(arg)
        self.sock.sendto(builder.build().dgram, ("127.0.0.1", port))

    def drain(self) -> None:
        while True:
            try:
                message = OscMessage(self.sock.recv(65536))
            except BlockingIOError:
                return
            self.heard.append((time.monotonic(), message.address, tuple(message.params)))

    def last(self, address: str) -> tuple | None:
        return next((args for _, a, args in reversed(self.heard) if a == address), None)


@dataclass
class Rig:
    pipeline: FramePipeline
    osc: OscControl
    tablets: list[Tablet]

    def frames_until(self, done, seconds: float = 2.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.osc.after_frame(self.pipeline.step())
            for tablet in self.tablets:
                tablet.drain()
            if done():
                return
            time.sleep(0.005)
        raise AssertionError("not within the deadline")


def tablet_on(host: str, port: int) -> Tablet:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, port))
    sock.setblocking(False)
    return Tablet(sock)


@pytest.fixture
def rig() -> Iterator[Rig]:
    first = tablet_on("127.0.0.2", 0)
    port = first.sock.getsockname()[1]
    tablets = [first, tablet_on("127.0.0.3", port)]
    pipeline = FramePipeline(Show(flat_stage(5)), FixedClock(60.0))
    osc = OscControl(
        load_mapping(), pipeline.commands, lambda: pipeline.latest, 0, host="127.0.0.1", feedback_port=port
    )
    yield Rig(pipeline, osc, tablets)
    osc.close()
    for tablet in tablets:
        tablet.sock.close()


def introduce(rig: Rig) -> None:
    """Each tablet touches a control once, so the show knows it; both get the whole state."""
    a, b = rig.tablets
    a.send(rig.osc.port, "/1/fader1", 0.25)
    b.send(rig.osc.port, "/1/fader2", 0.5)
    rig.frames_until(lambda: all(t.last("/1/toggle1") is not None for t in rig.tablets))
    time.sleep(0.35)  # let the hands rest


def test_both_follow_a_key_and_the_other_controller(rig: Rig) -> None:
    introduce(rig)
    a, b = rig.tablets
    rig.pipeline.commands.put(KEY_COMMANDS[32])  # the space bar: pause
    rig.frames_until(lambda: a.last("/1/toggle1") == (1.0,) and b.last("/1/toggle1") == (1.0,))
    assert a.last("/1/toggle1/value") == ("on",) and b.last("/1/toggle1/value") == ("on",)
    rig.pipeline.commands.put(KEY_COMMANDS[ord("b")])  # blackout
    rig.frames_until(lambda: a.last("/1/toggle2") == (1.0,) and b.last("/1/toggle2") == (1.0,))
    b.send(rig.osc.port, "/1/xy1", 0.75, 0.25)  # hue +90, saturation 0.5: the pad and the faders follow
    rig.frames_until(lambda: a.last("/1/xy1") == (pytest.approx(0.75), pytest.approx(0.25)))
    rig.frames_until(lambda: a.last("/1/fader2") == (pytest.approx(0.75),))
    assert a.last("/1/fader5") == (pytest.approx(0.25),) and a.last("/1/xy1/value") == ("90.00  0.50",)


def test_the_dragging_controller_gets_no_echo(rig: Rig) -> None:
    introduce(rig)
    a, b = rig.tablets
    start = time.monotonic()
    for step in range(40):  # a 0.4 s drag
        a.send(rig.osc.port, "/1/fader3", step / 39)
        rig.frames_until(lambda: True, 0.01)
        time.sleep(0.01)
    rig.frames_until(lambda: b.last("/1/fader3") == (pytest.approx(1.0),))
    end_of_drag = time.monotonic()
    echoes = [t for t, address, _ in a.heard if address == "/1/fader3" and t > start]
    assert all(t > end_of_drag + 0.25 for t in echoes), "the dragger heard its own fader"
    assert a.last("/1/fader3/value") == ("1.00",)  # its value label still follows
    sent_to_b = [t for t, address, _ in b.heard if address == "/1/fader3" and t > start]
    gaps = [later - earlier for earlier, later in zip(sent_to_b, sent_to_b[1:], strict=False)]
    assert len(sent_to_b) <= 12 and all(gap >= 0.045 for gap in gaps)  # throttled per address


def test_only_the_named_targets_when_given() -> None:
    tablets = [tablet_on("127.0.0.2", 0), tablet_on("127.0.0.3", 0)]
    pipeline = FramePipeline(Show(flat_stage(5)), FixedClock(60.0))
    named = tablets[1].sock.getsockname()
    osc = OscControl(load_mapping(), pipeline.commands, lambda: pipeline.latest, 0, host="127.0.0.1", feedback=(named,))
    rig = Rig(pipeline, osc, tablets)
    try:
        tablets[0].send(osc.port, "/hue", 45.0)
        rig.frames_until(lambda: tablets[1].last("/hue") == (45.0,))
        assert tablets[0].heard == []
    finally:
        osc.close()
        for tablet in tablets:
            tablet.sock.close()


class Resolver:
    """``socket.getaddrinfo`` with one name of its own (the show's DNS, for a tablet on
    127.0.0.2) and a count of the times that name is looked up."""

    NAME = "tablet.show.invalid"

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.real = socket.getaddrinfo
        self.asked = 0
        monkeypatch.setattr(socket, "getaddrinfo", self)

    def __call__(self, host, port, *args, **kwargs):
        if host != self.NAME:
            return self.real(host, port, *args, **kwargs)
        self.asked += 1
        return [(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP, "", ("127.0.0.2", port))]


def test_a_named_target_is_looked_up_once_at_the_start_never_per_send(monkeypatch: pytest.MonkeyPatch) -> None:
    resolver = Resolver(monkeypatch)
    tablet = tablet_on("127.0.0.2", 0)
    pipeline = FramePipeline(Show(flat_stage(5)), FixedClock(60.0))
    target = (Resolver.NAME, tablet.sock.getsockname()[1])
    osc = OscControl(
        load_mapping(), pipeline.commands, lambda: pipeline.latest, 0, host="127.0.0.1", feedback=(target,)
    )
    rig = Rig(pipeline, osc, [tablet])
    try:
        assert resolver.asked == 1
        for hue in (45.0, -90.0):  # two changes, so that at least two sends follow the start
            pipeline.commands.put(Command("set", ("hue", hue)))
            rig.frames_until(lambda hue=hue: tablet.last("/hue") == (hue,))
        assert resolver.asked == 1
    finally:
        osc.close()
        tablet.sock.close()


def test_a_target_that_cannot_be_looked_up_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def unknown(host, *args, **kwargs):
        if host == "nowhere.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    with pytest.raises(UserError) as raised:
        OscControl(
            load_mapping(), CommandQueue(), lambda: None, 0, host="127.0.0.1", feedback=(("nowhere.invalid", 9000),)
        )
    assert str(raised.value) == (
        "The --osc-feedback host nowhere.invalid cannot be found (Name or service not known); "
        "give its IP address, such as 192.168.1.20:9000, or a name this machine can look up."
    )


def test_at_most_sixteen_controllers_and_status_is_no_controller(rig: Rig) -> None:
    crowd = [tablet_on(f"127.0.1.{i}", 0) for i in range(1, 25)]
    try:
        for tablet in crowd:
            tablet.send(rig.osc.port, "/status")
        rig.frames_until(lambda: rig.osc.counts["received"] >= len(crowd))
        assert rig.osc.feedback.targets() == []  # asking is not steering
        for tablet in crowd:
            tablet.send(rig.osc.port, "/1/fader1", 2.0)  # out of range: clamped
        rig.frames_until(lambda: len(rig.osc.feedback.targets()) == MAX_CONTROLLERS)
        assert {host for host, _ in rig.osc.feedback.targets()} == {f"127.0.1.{i}" for i in range(9, 25)}
    finally:
        for tablet in crowd:
            tablet.sock.close()


def test_every_parameter_is_fed_back_on_the_address_it_is_set_on(rig: Rig) -> None:
    introduce(rig)
    a, b = rig.tablets
    wanted = {spec.address: spec.minimum + (spec.maximum - spec.minimum) / 4 for spec in PLAYER_PARAMETERS}
    for address, value in wanted.items():
        a.send(rig.osc.port, address, value)
    rig.frames_until(lambda: all(b.last(address) == (pytest.approx(v),) for address, v in wanted.items()), 5)
