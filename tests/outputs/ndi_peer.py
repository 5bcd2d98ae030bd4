"""A real NDI peer for the tests, run in its own process: ``python ndi_peer.py MODE NAME ...``.

It uses only the binding's own API (``NDIlib``: finder, receiver, sender), none of the project's
code, and reports one JSON object a line on stdout.

- ``receive NAME LAST_TC SAVE_TC SAVE_PATH``: find the source whose name ends in "(NAME)" (mDNS
  and 127.0.0.1), connect, and take video, audio and metadata until the frame with time code
  LAST_TC arrives (or 3 s pass without a frame); the frame with time code SAVE_TC (the first
  frame when SAVE_TC is negative) is saved to SAVE_PATH (numpy .npy) and said; then report what
  arrived and exit.
- ``flap NAME COUNT``: COUNT times connect to NAME, wait for a frame (at most 2 s) and vanish
  (the receiver is destroyed without a word); reports each cycle.
- ``hold NAME``: connect, report the first frame, then stay until killed.
- ``slow NAME PAUSE``: connect (said), then sleep PAUSE seconds after each frame taken, until 3 s
  pass without one; report how many arrived.
- ``sender NAME``: be a source named NAME until stdin closes.
"""

from __future__ import annotations

import json
import sys
import time

import NDIlib as ndi
import numpy as np

DEADLINE = 30.0


def say(**event: object) -> None:
    print(json.dumps(event), flush=True)


def find(name: str) -> object:
    finder = ndi.find_create_v2(ndi.FindCreate(True, None, "127.0.0.1"))
    deadline = time.monotonic() + DEADLINE
    try:
        while time.monotonic() < deadline:
            ndi.find_wait_for_sources(finder, 200)
            for source in ndi.find_get_current_sources(finder):
                if source.ndi_name.endswith(f"({name})"):
                    say(event="found", name=source.ndi_name, address=source.url_address)
                    return ndi.Source(source.ndi_name, source.url_address)
    finally:
        ndi.find_destroy(finder)
    say(event="not found", name=name)
    sys.exit(3)


def connect(source: object) -> object:
    receiver = ndi.recv_create_v3(
        ndi.RecvCreateV3(source, ndi.RECV_COLOR_FORMAT_UYVY_BGRA, ndi.RECV_BANDWIDTH_HIGHEST, False, "metamorph-test")
    )
    ndi.recv_connect(receiver, source)
    return receiver


def receive(name: str, last_tc: int, save_tc: int, save_path: str) -> None:
    receiver = connect(find(name))
    timecodes: list[int] = []
    metadata: list[str] = []
    connection: list[str] = []
    video_info: dict[str, object] = {}
    audio: dict = {"samples": 0, "channels": 0, "rate": 0, "peak": 0.0, "timecodes": []}
    deadline = time.monotonic() + DEADLINE
    last_frame = time.monotonic()
    saved = heard = False
    while time.monotonic() < deadline and time.monotonic() - last_frame < 3.0:
        if saved and audio["samples"] and not heard:  # said once, after "saved": sound came too
            say(event="heard")
            heard = True
        kind, video, sound, meta = ndi.recv_capture_v2(receiver, 100)
        if kind == ndi.FRAME_TYPE_VIDEO:
            last_frame = time.monotonic()
            timecodes.append(video.timecode)
            if video.metadata and video.metadata not in metadata:
                metadata.append(video.metadata)
            if not video_info:
                video_info = {
                    "fourcc": int(video.FourCC),
                    "size": [video.xres, video.yres],
                    "stride": video.line_stride_in_bytes,
                    "rate": [video.frame_rate_N, video.frame_rate_D],
                    "progressive": video.frame_format_type == ndi.FRAME_FORMAT_TYPE_PROGRESSIVE,
                }
            if video.timecode == save_tc or (save_tc < 0 and len(timecodes) == 1):
                np.save(save_path, np.array(video.data, copy=True))
                say(event="saved", timecode=video.timecode)
                saved = True
            done = video.timecode >= last_tc
            ndi.recv_free_video_v2(receiver, video)
            if done:
                break
        elif kind == ndi.FRAME_TYPE_AUDIO:
            audio["samples"] += sound.no_samples
            audio["channels"] = sound.no_channels
            audio["rate"] = sound.sample_rate
            audio["peak"] = max(audio["peak"], float(np.abs(sound.data).max()))
            audio["timecodes"].append(sound.timecode)
            ndi.recv_free_audio_v2(receiver, sound)
        elif kind == ndi.FRAME_TYPE_METADATA:
            connection.append(meta.data)
            ndi.recv_free_metadata(receiver, meta)
    say(
        event="done",
        frames=len(timecodes),
        timecodes=timecodes,
        metadata=metadata,
        connection=connection,
        video=video_info,
        audio=audio,
    )
    ndi.recv_destroy(receiver)


def flap(name: str, count: int) -> None:
    source = find(name)
    for cycle in range(count):
        receiver = connect(source)
        deadline = time.monotonic() + 2.0
        got = False
        while not got and time.monotonic() < deadline:
            kind, video, _, meta = ndi.recv_capture_v2(receiver, 50, True, False, True)
            if kind == ndi.FRAME_TYPE_VIDEO:
                ndi.recv_free_video_v2(receiver, video)
                got = True
            elif kind == ndi.FRAME_TYPE_METADATA:
                ndi.recv_free_metadata(receiver, meta)
        ndi.recv_destroy(receiver)
        say(event="cycle", cycle=cycle, frame=got)
    say(event="done")


def hold(name: str) -> None:
    receiver = connect(find(name))
    while True:
        kind, video, _, meta = ndi.recv_capture_v2(receiver, 100, True, False, True)
        if kind == ndi.FRAME_TYPE_VIDEO:
            ndi.recv_free_video_v2(receiver, video)
            say(event="frame")
        elif kind == ndi.FRAME_TYPE_METADATA:
            ndi.recv_free_metadata(receiver, meta)


def slow(name: str, pause: float) -> None:
    receiver = connect(find(name))
    say(event="connected")
    frames, last_frame = 0, time.monotonic()
    while time.monotonic() - last_frame < 3.0:
        kind, video, _, meta = ndi.recv_capture_v2(receiver, 100)
        if kind == ndi.FRAME_TYPE_VIDEO:
            ndi.recv_free_video_v2(receiver, video)
            frames, last_frame = frames + 1, time.monotonic()
            time.sleep(pause)  # a receiver too slow for the show
        elif kind == ndi.FRAME_TYPE_METADATA:
            ndi.recv_free_metadata(receiver, meta)
    say(event="done", frames=frames)
    ndi.recv_destroy(receiver)


def sender(name: str) -> None:
    instance = ndi.send_create(ndi.SendCreate(name, None, False, False))
    say(event="ready", name=ndi.send_get_source_name(instance).ndi_name if instance else None)
    sys.stdin.read()
    if instance:
        ndi.send_destroy(instance)


def main(argv: list[str]) -> None:
    if not ndi.initialize():
        say(event="no runtime")
        sys.exit(4)
    mode, name, *rest = argv
    if mode == "receive":
        receive(name, int(rest[0]), int(rest[1]), rest[2])
    elif mode == "flap":
        flap(name, int(rest[0]))
    elif mode == "hold":
        hold(name)
    elif mode == "sender":
        sender(name)
    elif mode == "slow":
        slow(name, float(rest[0]))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
