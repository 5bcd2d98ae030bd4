"""The wire form of a frame: what it holds, how small it is, and every hostile packet refused."""

from __future__ import annotations

import dataclasses
import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from installation.scene import wire
from installation.scene.modulation import SoundFeatures
from installation.scene.parameters import PLAYER_PARAMETERS, Parameters
from installation.scene.show import FrameState, Show
from installation.scene.tempo import Beat
from installation.scene.wire import WireError, decode, encode
from tests.helpers import flat_stage

STAGE = flat_stage(4, name="alps")
LOUD = SoundFeatures(level=0.5, bass=0.25, mid=0.125, treble=1.0, kick=0.75, onset=True)


def moving_state() -> FrameState:
    """A frame mid-transition, with settings that differ from the values (smoothing in flight)."""
    parameters = Parameters()
    parameters.set("hold", 0.5)
    show = Show(STAGE, parameters=parameters)
    for _ in range(40):
        show.advance(1 / 60, LOUD, time=0.0)
    parameters.set("hue", 120.0)
    return show.advance(1 / 60, LOUD, time=41 / 60)


def same_state(a: FrameState, b: FrameState) -> None:
    for field in (
        "index_a",
        "index_b",
        "blend",
        "transition",
        "values",
        "settings",
        "conductor",
        "time",
        "sound",
        "frame",
    ):
        assert getattr(a, field) == getattr(b, field), field
    assert (a.destinations is None) == (b.destinations is None)
    if a.destinations is not None:
        assert (a.destinations == b.destinations).all()


def test_a_frame_comes_back_as_it_went() -> None:
    state = moving_state()
    assert state.conductor.moving and state.values != state.settings
    state = dataclasses.replace(state, frame=12345)
    received = decode(encode(state))
    assert received.frame == 12345 and received.name == "alps" and received.grid == STAGE.grid
    same_state(received.state(STAGE), state)


def test_the_beat_followed_comes_back_as_it_went() -> None:
    state = dataclasses.replace(moving_state(), beat=Beat(128.5, 17.25, 4.0, 3, True, False, time=99.0))
    received = decode(encode(state)).beat
    assert received == Beat(128.5, 17.25, 4.0, 3, True, False)  # all but the source's own clock
    assert decode(encode(moving_state())).beat is None
    packet = bytearray(encode(state))
    struct.pack_into("<d", packet, wire._HEAD.size + wire._VALUES.size + 1, math.nan)  # the tempo
    with pytest.raises(WireError, match="tempo"):
        decode(bytes(packet))


def test_a_resting_paused_frame_comes_back_as_it_went() -> None:
    show = Show(STAGE)
    show.conductor.pause(True)
    state = show.advance(1 / 60, time=3.0)
    received = decode(encode(state)).state(STAGE)
    same_state(received, state)
    assert received.destinations is None and received.conductor.paused


def test_a_frame_takes_a_few_hundred_bytes() -> None:
    size = len(encode(moving_state()))
    assert 200 <= size <= 800  # 2 x 30-odd parameters as 64-bit floats dominate
    assert size == wire._FIXED + len("alps")


def test_another_stage_is_refused() -> None:
    packet = decode(encode(moving_state()))
    for other in (flat_stage(4, name="other"), flat_stage(5, name="alps"), flat_stage(4, columns=8, name="alps")):
        with pytest.raises(WireError, match="other keyframes, grid or transport"):
            packet.state(other)


def test_every_truncation_is_refused() -> None:
    packet = encode(moving_state())
    for length in range(len(packet)):
        with pytest.raises(WireError):
            decode(packet[:length])
    with pytest.raises(WireError, match="bytes"):
        decode(packet + b"x")


def values_offset(name: str) -> int:
    return wire._HEAD.size + 8 * [spec.name for spec in PLAYER_PARAMETERS].index(name)


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf, 1e308, -1.0])
@pytest.mark.parametrize("name", ["size", "trails", "hue"])
def test_a_value_outside_its_range_is_refused(number: float, name: str) -> None:
    packet = bytearray(encode(moving_state()))
    if name == "hue" and number == -1.0:
        number = -181.0
    struct.pack_into("<d", packet, values_offset(name), number)
    with pytest.raises(WireError, match=name):
        decode(bytes(packet))


@pytest.mark.parametrize(
    "offset_of, value, reason",
    [
        (lambda: 0, b"XXXX", "magic"),
        (lambda: 4, b"\x09", "version"),
        (lambda: 5, b"\0\0\0\0", "other parameters"),
    ],
)
def test_a_packet_of_another_program_or_version_is_refused(offset_of, value: bytes, reason: str) -> None:
    packet = bytearray(encode(moving_state()))
    packet[offset_of() : offset_of() + len(value)] = value
    with pytest.raises(WireError, match=reason):
        decode(bytes(packet))


@pytest.mark.parametrize("name", ["..", "a/b", "tab\there", "\udcff"])
def test_a_name_that_is_not_a_plain_folder_name_is_refused(name: str) -> None:
    raw = name.encode(errors="surrogateescape")
    forged = bytearray(encode(moving_state())[: -len("alps")] + raw)
    forged[wire._HEAD.size - 1] = len(raw)
    with pytest.raises(WireError, match="name"):
        decode(bytes(forged))


def test_a_move_to_a_keyframe_the_stage_lacks_is_refused() -> None:
    packet = bytearray(encode(moving_state()))
    fields = list(wire._HEAD.unpack_from(packet))
    fields[11] = 7  # the target, past the 4 keyframes
    wire._HEAD.pack_into(packet, 0, *fields)
    with pytest.raises(WireError, match="keyframes"):
        decode(bytes(packet))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=700))
def test_random_bytes_are_refused_never_raise_otherwise(data: bytes) -> None:
    with pytest.raises(WireError):
        decode(data)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_flipped_bytes_give_a_refusal_or_a_frame_within_range(data: st.DataObject) -> None:
    packet = bytearray(encode(moving_state()))
    for _ in range(data.draw(st.integers(1, 4))):
        packet[data.draw(st.integers(0, len(packet) - 1))] = data.draw(st.integers(0, 255))
    try:
        received = decode(bytes(packet))
    except WireError:
        return
    for spec in PLAYER_PARAMETERS:
        assert spec.minimum <= getattr(received.values, spec.name) <= spec.maximum
    assert 0 <= received.conductor.index < received.count


def test_status_is_the_decoded_frames_description() -> None:
    state = moving_state()
    told = wire.describe(state).status({"input": "none"})
    assert told == decode(encode(state)).status({"input": "none"})
    assert told["applied"]["hue"] == state.values.hue and told["parameters"]["hue"] == 120.0
    assert told["conductor"]["target"] == state.conductor.target and told["sequence"] == "alps"
    assert told["sound"]["treble"] == 1.0 and told["sound"]["input"] == "none"
