"""OSC over real UDP on loopback, with python-osc's own client."""

from __future__ import annotations

import ipaddress
import json
import math
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from installation.control import osc as osc_module
from installation.control.mapping import load_mapping
from installation.control.osc import FLOOD_DATAGRAMS, LOCAL_NETWORKS, OscControl, networks
from installation.errors import UserError
from installation.keyframes.contact import contact_sheet
from installation.keyframes.sequence import save_sequence
from installation.scene.clock import FixedClock
from installation.scene.commands import CommandQueue
from installation.scene.loader import SequenceLoader
from installation.scene.parameters import PLAYER_PARAMETERS
from installation.scene.pipeline import FramePipeline
from installation.scene.show import Show
from installation.scene.stage import load_stage
from tests.helpers import flat_stage, sequence_of, wait_for


@dataclass
class Rig:
    """A frame pipeline with an OSC server feeding it, as the player runs them."""

    pipeline: FramePipeline
    osc: OscControl

    @property
    def show(self) -> Show:
        return self.pipeline.show

    @property
    def counts(self):
        return self.osc.counts

    def frame(self) -> None:
        self.osc.after_frame(self.pipeline.step())


def make_rig(feedback: tuple[tuple[str, int], ...] = (), allow: tuple = ()) -> Rig:
    pipeline = FramePipeline(Show(flat_stage(5)), FixedClock(60.0))
    osc = OscControl(
        load_mapping(),
        pipeline.commands,
        lambda: pipeline.latest,
        port=0,
        host="127.0.0.1",
        allow=allow,
        feedback=feedback,
    )
    return Rig(pipeline, osc)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A UDP socket standing in for the controller (it receives answers and feedback)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2.0)
    yield sock
    sock.close()


@pytest.fixture
def control(listener: socket.socket) -> Iterator[Rig]:
    rig = make_rig(feedback=(listener.getsockname(),))
    yield rig
    rig.osc.close()


def deliver(rig: Rig, send, expected: int = 1) -> None:
    """Send, then run frames until the messages have been taken in (real UDP is asynchronous)."""
    before = rig.counts["received"]
    send()
    deadline = time.monotonic() + 2.0
    while rig.counts["received"] < before + expected and time.monotonic() < deadline:
        rig.frame()
        time.sleep(0.002)
    rig.frame()


def client_for(rig: Rig, sock: socket.socket | None = None) -> SimpleUDPClient:
    client = SimpleUDPClient("127.0.0.1", rig.osc.port)
    if sock is not None:
        client._sock = sock  # send from the listener, so answers come back to it
    return client


@pytest.mark.parametrize("spec", PLAYER_PARAMETERS, ids=lambda spec: spec.address)
def test_every_parameter_address_sets_its_parameter(control: Rig, spec) -> None:
    show = control.show
    value = spec.minimum + 0.37 * (spec.maximum - spec.minimum)
    deliver(control, lambda: client_for(control).send_message(spec.address, value))
    assert show.parameters.target(spec.name) == pytest.approx(value, rel=1e-6)


def test_values_are_clamped_and_non_finite_ones_ignored(control: Rig) -> None:
    show = control.show
    client = client_for(control)
    deliver(control, lambda: client.send_message("/hue", 999.0))
    assert show.parameters.target("hue") == 180.0
    for bad in (math.nan, math.inf, -math.inf):
        deliver(control, lambda bad=bad: client.send_message("/speed", bad))
    deliver(control, lambda: client.send_message("/speed", "fast"))
    deliver(control, lambda: client.send_message("/speed", [1.0, 2.0]))
    deliver(control, lambda: client.send_message("/nowhere", 1.0))
    assert show.parameters.target("speed") == 1.0
    assert control.counts["ignored"] == 6


def test_conductor_addresses(control: Rig) -> None:
    show = control.show
    client = client_for(control)
    deliver(control, lambda: client.send_message("/next", []))
    assert show.conductor.target == 1
    deliver(control, lambda: client.send_message("/next", 0))  # a push button's release
    assert show.conductor.target == 1
    deliver(control, lambda: client.send_message("/goto", 3))
    assert (show.conductor.index, show.conductor.target) == (1, 3)
    deliver(control, lambda: client.send_message("/prev", 1))
    assert show.conductor.target == 2
    deliver(control, lambda: client.send_message("/pause", 1))
    assert show.conductor.paused
    deliver(control, lambda: client.send_message("/pause", 0))
    assert not show.conductor.paused
    deliver(control, lambda: client.send_message("/blackout", 1))
    assert show.parameters.target("blackout") == 1.0
    deliver(control, lambda: client.send_message("/goto", math.inf))
    assert show.conductor.target == 2


def test_status_answers_the_sender_with_json(control: Rig, listener: socket.socket) -> None:
    show = control.show
    deliver(control, lambda: client_for(control).send_message("/hue", 42.0))
    deliver(control, lambda: client_for(control, listener).send_message("/status", []))
    while True:
        message = OscMessage(listener.recv(65536))
        if message.address == "/status":
            break
    answer = json.loads(message.params[0])
    assert answer["parameters"] == show.parameters.targets().as_dict()
    assert answer["parameters"]["hue"] == 42.0 and answer["conductor"]["keyframes"] == 5
    assert set(answer) >= {"applied", "sound", "conductor", "sequence", "time"}


def test_touchosc_values_are_scaled_into_ranges(control: Rig) -> None:
    show = control.show
    client = client_for(control)
    deliver(control, lambda: client.send_message("/1/fader1", 0.5))  # speed over [0, 4]
    assert show.parameters.target("speed") == 2.0
    deliver(control, lambda: client.send_message("/1/xy1", [0.25, 1.0]))  # hue and saturation
    assert show.parameters.target("hue") == -90.0 and show.parameters.target("saturation") == 2.0
    deliver(control, lambda: client.send_message("/1/toggle2", 1.0))
    assert show.parameters.target("blackout") == 1.0
    deliver(control, lambda: client.send_message("/1/push1", 1.0))
    assert show.conductor.target == 1


def test_feedback_reaches_the_controller_throttled(control: Rig, listener: socket.socket) -> None:
    client = client_for(control)
    for step in range(50):  # a fader drag: 50 positions at once
        client.send_message("/1/fader3", step / 49)
    deliver(control, lambda: None, expected=50)
    received: dict[str, list[float]] = {}
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        control.frame()
        listener.settimeout(0.02)
        try:
            message = OscMessage(listener.recv(65536))
        except TimeoutError:
            continue
        received.setdefault(message.address, []).append(message.params[0])
    assert received["/diffusion"][-1] == pytest.approx(1.0)
    assert received["/1/fader3"][-1] == pytest.approx(1.0)
    assert len(received["/diffusion"]) <= 5  # throttled: the last value or so, not fifty


def test_garbage_never_stops_the_server(control: Rig, listener: socket.socket) -> None:
    show = control.show
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rng = np.random.default_rng(1)
    for size in rng.integers(0, 200, 300):
        sender.sendto(rng.bytes(int(size)), ("127.0.0.1", control.osc.port))
    sender.sendto(b"#bundle\x00" + b"\xff" * 8 + b"\x00\x00\x00\x40garbage", ("127.0.0.1", control.osc.port))
    bundle = OscBundleBuilder(IMMEDIATELY)
    bundle.add_content(OscMessageBuilder("/hue").build())
    sender.sendto(bundle.build().dgram, ("127.0.0.1", control.osc.port))  # a bare address, no argument
    wait_for(lambda: control.frame() or control.counts["malformed"] > 200, 10.0, "the hostile datagrams read")
    deliver(control, lambda: client_for(control).send_message("/hue", 12.0))
    assert show.parameters.target("hue") == 12.0
    sender.close()


def test_only_allowed_networks_are_heard() -> None:
    rig = make_rig(allow=networks(["10.0.0.0/8"]))
    try:
        client_for(rig).send_message("/hue", 30.0)
        deadline = time.monotonic() + 2.0
        while rig.counts["refused"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        rig.frame()
        assert rig.show.parameters.target("hue") == 0.0 and rig.counts["refused"] == 1
    finally:
        rig.osc.close()


def test_the_default_allow_list_is_local_networks_only() -> None:
    allowed = networks(list(LOCAL_NETWORKS))
    heard = [
        ip
        for ip in ("127.0.0.1", "192.168.1.20", "10.1.2.3", "172.20.0.9", "169.254.3.3", "8.8.8.8", "172.32.0.1")
        if any(ipaddress.ip_address(ip) in network for network in allowed)
    ]
    assert heard == ["127.0.0.1", "192.168.1.20", "10.1.2.3", "172.20.0.9", "169.254.3.3"]
    assert networks(["any"]) == ()
    with pytest.raises(UserError, match=r"^--osc-allow has a value that is not a network"):
        networks(["192.168.1.0/33"])


def test_sequence_then_next_in_one_bundle_lands_on_the_new_sequences_keyframe_1(tmp_path) -> None:
    library = tmp_path / "library"
    save_sequence_folder(library / "b", 4)
    pipeline = FramePipeline(
        Show(flat_stage(3, name="a")), FixedClock(60.0), loader=SequenceLoader(library, load_stage)
    )
    osc = OscControl(load_mapping(), pipeline.commands, lambda: pipeline.latest, port=0, host="127.0.0.1")
    try:
        bundle = OscBundleBuilder(IMMEDIATELY)
        bundle.add_content(_message("/sequence", "b"))
        bundle.add_content(_message("/next"))
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(bundle.build().dgram, ("127.0.0.1", osc.port))
        deadline = time.monotonic() + 5.0
        state = pipeline.step()
        while not (state.stage.name == "b" and state.conductor.target is not None) and time.monotonic() < deadline:
            time.sleep(0.005)
            state = pipeline.step()
        assert (state.stage.name, state.conductor.index, state.conductor.target) == ("b", 0, 1)
    finally:
        osc.close()


def _message(address: str, *args):
    builder = OscMessageBuilder(address=address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build()


def save_sequence_folder(folder, count: int) -> None:
    frames = [np.full((8, 16, 3), 30 * i, np.uint8) for i in range(count)]
    save_sequence(folder, sequence_of(frames).manifest, frames, contact_sheet)


def test_a_port_in_use_is_one_sentence() -> None:
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    port = busy.getsockname()[1]
    try:
        with pytest.raises(
            UserError, match=rf"^The OSC port {port} cannot be opened \(.*\); .* choose another with --osc-port"
        ):
            OscControl(load_mapping(), CommandQueue(), lambda: None, port=port, host="127.0.0.1")
    finally:
        busy.close()


def test_a_flooding_sender_is_cut_to_its_datagrams_a_second_and_the_others_are_heard(
    control: Rig, listener: socket.socket, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(osc_module, "time", SimpleNamespace(monotonic=lambda: 1000.5))  # the whole flood in one second
    flooder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    flooder.bind(("127.0.0.2", 0))
    packet = OscMessageBuilder("/hue")
    packet.add_arg(90.0)
    sent = FLOOD_DATAGRAMS * 5 // 2
    try:
        for batch in range(1, sent // 50 + 1):  # in batches the server takes in whole: loopback loses none
            for _ in range(50):
                flooder.sendto(packet.build().dgram, ("127.0.0.1", control.osc.port))
            wait_for(
                lambda batch=batch: control.counts["received"] + control.counts["flooding"] == batch * 50, 5, "a batch"
            )
    finally:
        flooder.close()
    assert control.counts["flooding"] == sent - FLOOD_DATAGRAMS
    assert f"osc: 127.0.0.2 sends more than {FLOOD_DATAGRAMS} datagrams a second" in caplog.text
    deliver(control, lambda: client_for(control, listener).send_message("/speed", 2.0))  # another sender
    assert control.show.parameters.target("speed") == 2.0 and control.show.parameters.target("hue") == 90.0
