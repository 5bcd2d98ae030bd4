"""OSC over real UDP on loopback, with python-osc's own client."""

from __future__ import annotations

import json
import math
import socket
import time
from typing import Iterator

import numpy as np
import pytest
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.udp_client import SimpleUDPClient

from installation.control.mapping import load_mapping
from installation.control.osc import OscControl, status
from installation.errors import UserError
from installation.scene.parameters import PLAYER_PARAMETERS
from installation.scene.show import Show
from tests.helpers import sequence_of


def make_show() -> Show:
    return Show(sequence_of([np.full((8, 16, 3), 40 * i, np.uint8) for i in range(5)]), (4, 2))


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A UDP socket standing in for the controller (it receives answers and feedback)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2.0)
    yield sock
    sock.close()


@pytest.fixture
def control(listener: socket.socket) -> Iterator[OscControl]:
    osc = OscControl(load_mapping(), port=0, host="127.0.0.1", feedback=listener.getsockname())
    yield osc
    osc.close()


def deliver(osc: OscControl, show: Show, send, expected: int = 1) -> None:
    """Send, then run frames until the messages have been taken in (real UDP is asynchronous)."""
    before = osc.counts["received"]
    send()
    deadline = time.monotonic() + 2.0
    while osc.counts["received"] < before + expected and time.monotonic() < deadline:
        osc.apply(show)
        time.sleep(0.002)


def client_for(osc: OscControl, sock: socket.socket | None = None) -> SimpleUDPClient:
    client = SimpleUDPClient("127.0.0.1", osc.port)
    if sock is not None:
        client._sock = sock  # send from the listener, so answers come back to it
    return client


@pytest.mark.parametrize("spec", PLAYER_PARAMETERS, ids=lambda spec: spec.address)
def test_every_parameter_address_sets_its_parameter(control: OscControl, spec) -> None:
    show = make_show()
    value = spec.minimum + 0.37 * (spec.maximum - spec.minimum)
    deliver(control, show, lambda: client_for(control).send_message(spec.address, value))
    assert show.parameters.target(spec.name) == pytest.approx(value, rel=1e-6)


def test_values_are_clamped_and_non_finite_ones_ignored(control: OscControl) -> None:
    show = make_show()
    client = client_for(control)
    deliver(control, show, lambda: client.send_message("/hue", 999.0))
    assert show.parameters.target("hue") == 180.0
    for bad in (math.nan, math.inf, -math.inf):
        deliver(control, show, lambda: client.send_message("/speed", bad))
    deliver(control, show, lambda: client.send_message("/speed", "fast"))
    deliver(control, show, lambda: client.send_message("/speed", [1.0, 2.0]))
    deliver(control, show, lambda: client.send_message("/nowhere", 1.0))
    assert show.parameters.target("speed") == 1.0
    assert control.counts["ignored"] == 6


def test_conductor_addresses(control: OscControl) -> None:
    show = make_show()
    client = client_for(control)
    deliver(control, show, lambda: client.send_message("/next", []))
    assert show.conductor.target == 1
    deliver(control, show, lambda: client.send_message("/next", 0))  # a push button's release
    assert show.conductor.target == 1
    deliver(control, show, lambda: client.send_message("/goto", 3))
    assert (show.conductor.index, show.conductor.target) == (1, 3)
    deliver(control, show, lambda: client.send_message("/prev", 1))
    assert show.conductor.target == 2
    deliver(control, show, lambda: client.send_message("/pause", 1))
    assert show.conductor.paused
    deliver(control, show, lambda: client.send_message("/pause", 0))
    assert not show.conductor.paused
    deliver(control, show, lambda: client.send_message("/blackout", 1))
    assert show.parameters.target("blackout") == 1.0
    deliver(control, show, lambda: client.send_message("/goto", math.inf))
    assert show.conductor.target == 2


def test_status_answers_the_sender_with_json(control: OscControl, listener: socket.socket) -> None:
    show = make_show()
    show.parameters.set("hue", 42.0)
    deliver(control, show, lambda: client_for(control, listener).send_message("/status", []))
    while True:
        message = OscMessage(listener.recv(65536))
        if message.address == "/status":
            break
    answer = json.loads(message.params[0])
    assert answer == json.loads(json.dumps(status(show)))
    assert answer["parameters"]["hue"] == 42.0 and answer["conductor"]["keyframes"] == 5


def test_touchosc_values_are_scaled_into_ranges(control: OscControl) -> None:
    show = make_show()
    client = client_for(control)
    deliver(control, show, lambda: client.send_message("/1/fader1", 0.5))  # speed over [0, 4]
    assert show.parameters.target("speed") == 2.0
    deliver(control, show, lambda: client.send_message("/1/xy1", [0.25, 1.0]))  # hue and saturation
    assert show.parameters.target("hue") == -90.0 and show.parameters.target("saturation") == 2.0
    deliver(control, show, lambda: client.send_message("/1/toggle2", 1.0))
    assert show.parameters.target("blackout") == 1.0
    deliver(control, show, lambda: client.send_message("/1/push1", 1.0))
    assert show.conductor.target == 1


def test_feedback_reaches_the_controller_throttled(control: OscControl, listener: socket.socket) -> None:
    show = make_show()
    client = client_for(control)
    for step in range(50):  # a fader drag: 50 positions at once
        client.send_message("/1/fader3", step / 49)
    deliver(control, show, lambda: None, expected=50)
    received: dict[str, list[float]] = {}
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        control.apply(show)
        listener.settimeout(0.02)
        try:
            message = OscMessage(listener.recv(65536))
        except TimeoutError:
            continue
        received.setdefault(message.address, []).append(message.params[0])
    assert received["/diffusion"][-1] == pytest.approx(1.0)
    assert received["/1/fader3"][-1] == pytest.approx(1.0)
    assert len(received["/diffusion"]) <= 5  # throttled: the last value or so, not fifty


def test_garbage_never_stops_the_server(control: OscControl, listener: socket.socket) -> None:
    show = make_show()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rng = np.random.default_rng(1)
    for size in rng.integers(0, 200, 300):
        sender.sendto(rng.bytes(int(size)), ("127.0.0.1", control.port))
    sender.sendto(b"#bundle\x00" + b"\xff" * 8 + b"\x00\x00\x00\x40garbage", ("127.0.0.1", control.port))
    bundle = OscBundleBuilder(IMMEDIATELY)
    bundle.add_content(OscMessageBuilder("/hue").build())
    sender.sendto(bundle.build().dgram, ("127.0.0.1", control.port))  # a bare address, no argument
    time.sleep(0.3)
    control.apply(show)
    assert control.counts["malformed"] > 200
    deliver(control, show, lambda: client_for(control).send_message("/hue", 12.0))
    assert show.parameters.target("hue") == 12.0
    sender.close()


def test_only_allowed_networks_are_heard() -> None:
    osc = OscControl(load_mapping(), port=0, host="127.0.0.1", allow=["10.0.0.0/8"])
    try:
        show = make_show()
        client_for(osc).send_message("/hue", 30.0)
        deadline = time.monotonic() + 2.0
        while osc.counts["refused"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        osc.apply(show)
        assert show.parameters.target("hue") == 0.0 and osc.counts["refused"] == 1
    finally:
        osc.close()


def test_a_port_in_use_is_one_sentence() -> None:
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    port = busy.getsockname()[1]
    try:
        with pytest.raises(UserError, match=rf"^The OSC port {port} cannot be opened \(.*\); .* choose another with --osc-port"):
            OscControl(load_mapping(), port=port, host="127.0.0.1")
    finally:
        busy.close()
