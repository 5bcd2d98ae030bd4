"""100,000 hostile datagrams at the running OSC server: it stays up and the show stays sane."""

from __future__ import annotations

import json
import math
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pythonosc.osc_bundle_builder import IMMEDIATELY
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from installation.control.mapping import load_mapping
from installation.control.osc import OscControl
from installation.scene.clock import FixedClock
from installation.scene.commands import COMMANDS
from installation.scene.parameters import PLAYER_PARAMETERS
from installation.scene.pipeline import FramePipeline
from installation.scene.show import Show
from tests.helpers import flat_stage

pytestmark = pytest.mark.slow

KNOWN = (
    [spec.address for spec in PLAYER_PARAMETERS]
    + list(load_mapping().controls)
    + [
        "/status",
        *("/" + name for name in COMMANDS),
    ]
)
ARGUMENTS = st.one_of(
    st.integers(-(2**31), 2**31 - 1),
    st.floats(width=32, allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
    st.binary(min_size=1, max_size=12),
    st.booleans(),
    st.none(),
)
ADDRESSES = st.one_of(
    st.sampled_from(KNOWN), st.text(alphabet="/abcxyz019", min_size=1, max_size=16).map(lambda s: "/" + s)
)


def message(address: str, args: list) -> object:
    builder = OscMessageBuilder(address=address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build()


def bundle(contents: list[bytes]) -> bytes:
    """An OSC bundle, written by hand (the builder would parse it back and refuse odd content)."""
    return b"#bundle\x00" + IMMEDIATELY.to_bytes(8, "big") + b"".join(len(c).to_bytes(4, "big") + c for c in contents)


MESSAGES = st.builds(message, ADDRESSES, st.lists(ARGUMENTS, max_size=4)).map(lambda m: m.dgram)
PACKETS = st.recursive(MESSAGES, lambda inner: st.lists(inner, min_size=1, max_size=3).map(bundle), max_leaves=6)
DATAGRAMS = st.one_of(st.binary(max_size=128), PACKETS)

BATCH, EXAMPLES = 100, 1000  # 100,000 datagrams in all


@dataclass
class Storm:
    """The show under attack: a pipeline, its OSC server, a sender, and the count sent so far."""

    pipeline: FramePipeline
    osc: OscControl
    sender: socket.socket
    sent: int = 0

    def frame(self) -> None:
        self.osc.after_frame(self.pipeline.step())


@pytest.fixture(scope="module")
def storm() -> Iterator[Storm]:
    pipeline = FramePipeline(Show(flat_stage(4)), FixedClock(60.0))
    osc = OscControl(  # every datagram parsed: no flood limit to cut the storm short
        load_mapping(), pipeline.commands, lambda: pipeline.latest, port=0, host="127.0.0.1", flood=BATCH * EXAMPLES
    )
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    yield Storm(pipeline, osc, sender)
    osc.close()
    sender.close()


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(datagrams=st.lists(DATAGRAMS, min_size=BATCH, max_size=BATCH))
def test_batches_of_datagrams(storm: Storm, datagrams: list[bytes]) -> None:
    for index, datagram in enumerate(datagrams):
        storm.sender.sendto(datagram, ("127.0.0.1", storm.osc.port))
        if index % 200 == 199:
            time.sleep(0.001)  # a loopback socket buffer holds a few hundred datagrams
            storm.frame()
    storm.frame()
    storm.sent += len(datagrams)
    parameters = storm.pipeline.show.parameters
    for name, spec in parameters.specs.items():
        for value in (parameters.target(name), parameters[name]):
            assert math.isfinite(value) and spec.minimum <= value <= spec.maximum, name


def test_after_the_storm_the_server_is_alive_and_answers_status(storm: Storm) -> None:
    assert storm.sent >= BATCH * EXAMPLES
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(0.05)
    listener.sendto(message("/status", []).dgram, ("127.0.0.1", storm.osc.port))
    deadline = time.monotonic() + 2.0
    answer = None
    while answer is None and time.monotonic() < deadline:
        storm.frame()
        try:
            reply = OscMessage(listener.recv(65536))
        except (TimeoutError, BlockingIOError):
            continue
        if reply.address == "/status":
            answer = json.loads(reply.params[0])
    listener.close()
    assert answer is not None and answer["conductor"]["keyframes"] == 4
    assert storm.osc.counts["malformed"] > 0 and storm.osc.counts["received"] > 0
