"""The wall's link over real UDP on loopback: a real leader (``metamorph play --lead`` in another
process) and followers that draw its frames as their tiles on a real GL, commands that land on
every follower at the same frame, a restarted leader, forged packets, a lost leader."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from installation.paths import shaders_dir
from installation.render.framebuffer import Framebuffer
from installation.render.renderer import Renderer
from installation.render.view import View
from installation.render.wall import WallLayout
from installation.render.window import PygameWindow
from installation.scene.commands import Command
from installation.scene.show import FrameState, Show
from installation.scene.stage import load_stage
from installation.wall import link as wall_link
from installation.wall.follower import FADE_SECONDS, FollowerPipeline
from installation.wall.link import LeaderLink, Received, WallLeader, frame_packet, hello
from tests.helpers import QUIET_PLAY, flat_stage, free_ports, wait_for

TILE = (160, 96)
WALL = ["--wall", "2x1", "--window", "160x96", "--bezel", "16"]


class Leader:
    """``metamorph play --lead`` in a process of its own, steered over OSC."""

    def __init__(self, library: Path, sequence: str) -> None:
        self.library, self.sequence = library, sequence
        self.port, self.osc_port = free_ports("udp", "udp")
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        argv = [*QUIET_PLAY, "--osc-port", str(self.osc_port), "--osc-allow", "127.0.0.0/8"]
        argv += [*WALL, "--tile", "0,0", "--lead", str(self.port), "--fixed-step", "30", "--no-vsync"]
        argv += ["--hold", "0.5", "--duration", "1", "--glow", "0.8"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "installation", "play", str(self.library / self.sequence), *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def send(self, address: str, *args: object) -> None:
        SimpleUDPClient("127.0.0.1", self.osc_port).send_message(address, list(args))

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)


@pytest.fixture
def library(tmp_path: Path, sequence_folder: Path) -> Path:
    shutil.copytree(sequence_folder, tmp_path / "alps")
    return tmp_path


@pytest.fixture
def leader(library: Path) -> Iterator[Leader]:
    running = Leader(library, "alps")
    running.start()
    yield running
    running.stop()


def follow(leader_port: int, tile: tuple[int, int]) -> LeaderLink:
    return LeaderLink(("127.0.0.1", leader_port), tile)


def test_each_follower_draws_the_leaders_frame_as_its_crop_of_the_whole_canvas(leader: Leader, library: Path) -> None:
    window = PygameWindow(TILE, vsync=False)
    links = [follow(leader.port, (column, 0)) for column in range(2)]
    try:
        show = Show(load_stage(library / "alps"))
        followers = [FollowerPipeline(show, link, library, timeout=5.0) for link in links]
        renderer = Renderer(shaders_dir())
        layouts = [WallLayout((2, 1), (column, 0), TILE, gap=16) for column in range(2)]
        checked = 0
        for follower, layout in zip(followers, layouts, strict=True):
            wait_for(lambda f=follower: f.step().values.blackout == 0.0 and f.shown, 60, "the leader's frames drawn")
            for _ in range(3):
                state = follower.step()
                tile, whole = drawn(renderer, state, layout.view), drawn(renderer, state, View.whole(layout.canvas))
                x, y, width, height = layout.view.rect
                top = layout.canvas[1] - y - height
                difference = np.abs(tile - whole[top : top + height, x : x + width]).max(axis=-1)
                assert (difference > 2).sum() <= 4, (np.argwhere(difference > 2).tolist(), difference.max())
                assert tile.max() > 0  # a picture, not the black of a follower still waiting
                checked += 1
        assert checked == 6
    finally:
        for link in links:
            link.close()
        window.close()


def drawn(renderer: Renderer, state: FrameState, view: View) -> np.ndarray:
    target = Framebuffer(view.size)
    target.bind()
    renderer.draw(state, view)
    pixels = target.read().astype(int)
    target.delete()
    return pixels


class Recorder:
    """Every frame a link takes: its number and where the show stood."""

    def __init__(self, link: LeaderLink) -> None:
        self._frames: dict[int, tuple[int, int | None, int, float]] = {}
        self._lock = threading.Lock()
        link.listeners.append(self.take)

    def take(self, received: Received) -> None:
        wire = received.wire
        conductor = wire.conductor
        with self._lock:
            self._frames[wire.frame] = (conductor.index, conductor.target, conductor.transition, wire.values.hue)

    @property
    def frames(self) -> dict[int, tuple[int, int | None, int, float]]:
        with self._lock:
            return dict(self._frames)

    def first(self, condition) -> int | None:
        return min((frame for frame, seen in self.frames.items() if condition(seen)), default=None)


def test_commands_sent_to_the_leader_land_on_every_follower_at_the_same_frame(leader: Leader) -> None:
    links = [follow(leader.port, (column, 0)) for column in range(2)]
    recorders = [Recorder(link) for link in links]
    try:
        wait_for(lambda: all(len(r.frames) > 10 for r in recorders), 60, "frames at both followers")
        before = max(max(r.frames) for r in recorders)
        leader.send("/goto", 2)
        leader.send("/hue", 90.0)
        wait_for(lambda: all(r.first(lambda s: s[3] > 45) for r in recorders), 30, "the hue")
        wait_for(lambda: all(len(r.frames) > 100 for r in recorders), 30, "frames after the goto")
        landed = min(r.first(lambda s: s[3] > 0) or 0 for r in recorders)
        assert landed > before
        frames = [r.frames for r in recorders]
        common = set(frames[0]) & set(frames[1])
        # UDP may lose a frame for one follower; every frame both got is the same frame: the goto
        # and the hue landed on both at one frame, and both saw frames before and after it
        assert {frame < landed for frame in common} == {True, False}
        assert all(frames[0][frame] == frames[1][frame] for frame in common)
        assert all(seen[1] == 2 or seen[0] == 2 for frame, seen in frames[0].items() if landed <= frame < landed + 5)
    finally:
        for link in links:
            link.close()


def test_a_restarted_follower_then_a_restarted_leader_recover_without_restarting_the_others(leader: Leader) -> None:
    steady, restarted = follow(leader.port, (0, 0)), follow(leader.port, (1, 0))
    try:
        wait_for(lambda: steady.counts.received > 5 and restarted.counts.received > 5, 60, "the leader's frames")
        restarted.close()  # a follower killed
        restarted = follow(leader.port, (1, 0))  # and started again, on another port
        before = steady.counts.received
        wait_for(lambda: restarted.counts.received > 5, 30, "the leader's frames at the new follower")
        assert steady.counts.received > before  # the other follower never stopped
        held = steady.latest
        assert held is not None
        leader.kill()
        leader.start()
        wait_for(lambda: steady.counts.restarts == 1 and restarted.counts.restarts == 1, 60, "the new run followed")
        latest = steady.latest
        assert latest is not None and latest.session != held.session
    finally:
        steady.close()
        restarted.close()


def test_a_forged_packet_from_another_port_is_ignored(leader: Leader, library: Path) -> None:
    link = follow(leader.port, (1, 0))
    try:
        wait_for(lambda: link.counts.received > 2, 60, "the leader's frames")
        show = Show(load_stage(library / "alps"))
        forged = show.advance(0.0, frame=10**9)
        packet = frame_packet(b"\x01" * 8, forged)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as forger:
            for _ in range(20):
                forger.sendto(packet, ("127.0.0.1", link.port))
        wait_for(lambda: link.counts.foreign >= 20, 10, "the forged packets read")
        latest = link.latest
        assert latest is not None and latest.wire.frame < 10**9 and link.counts.restarts == 0
    finally:
        link.close()


def heard(leader: WallLeader, show: Show) -> bool:
    """Whether the leader has a follower, once it sent a frame (it reads the hellos as it sends)."""
    leader.send(show.advance(0.0))
    return bool(leader.followers)


@pytest.fixture
def in_process_leader(library: Path) -> Iterator[tuple[WallLeader, Show]]:
    leader = WallLeader(0)
    yield leader, Show(load_stage(library / "alps"))
    leader.close()


def test_a_follower_that_loses_its_leader_holds_its_frame_then_fades_to_black(
    in_process_leader: tuple[WallLeader, Show], library: Path
) -> None:
    leader, show = in_process_leader
    link = follow(leader.port, (0, 0))
    later = 0.0
    follower = FollowerPipeline(
        Show(load_stage(library / "alps")), link, library, timeout=2.0, now=lambda: time.monotonic() + later
    )
    try:
        wait_for(lambda: heard(leader, show), 10, "the follower's hello")
        leader.send(show.advance(0.0, frame=1))
        wait_for(lambda: follower.step().values.blackout == 0.0, 10, "the first frame drawn")
        first = follower.step()
        later = 1.9  # silent, within the timeout: the frame holds
        held = follower.step()
        assert (held.frame, held.conductor, held.values) == (first.frame, first.conductor, first.values)
        later = 2.0 + FADE_SECONDS / 2
        assert follower.step().values.blackout == pytest.approx(0.5, abs=0.05)
        later = 2.0 + FADE_SECONDS * 3
        faded = follower.step()
        assert faded.values.blackout == 1.0 and faded.conductor == first.conductor
        later = 0.0
        leader.send(show.advance(0.1, frame=2))
        wait_for(lambda: follower.step().frame == 2, 10, "the leader's next frame")
        assert follower.step().values.blackout == 0.0
    finally:
        link.close()


def test_a_follower_keeps_its_own_corner_pin_and_gamma_and_takes_no_other_command(
    in_process_leader: tuple[WallLeader, Show], library: Path, caplog: pytest.LogCaptureFixture
) -> None:
    leader, show = in_process_leader
    link = follow(leader.port, (0, 0))
    follower = FollowerPipeline(Show(load_stage(library / "alps")), link, library, timeout=2.0)
    try:
        wait_for(lambda: heard(leader, show), 10, "the follower's hello")
        leader.send(show.advance(0.0, frame=1))
        wait_for(lambda: follower.step().frame == 1, 10, "the leader's frame")
        for _ in range(3):
            follower.commands.put(Command("goto", (2,)))
            state = follower.step()
        assert state.conductor.index == 0 and follower.ignored == 3
        told = [r.getMessage() for r in caplog.records if "takes no command" in r.getMessage()]
        assert len(told) == 1
        follower.commands.put(Command("set", ("corner_x0", 0.1)))
        follower.commands.put(Command("set", ("blend_gamma", 1.8)))
        follower.commands.put(Command("set", ("hue", 40.0)))  # the leader's to set
        show.parameters.set("corner_x0", 0.3, immediate=True)  # the leader's own projector
        leader.send(show.advance(0.0, frame=2))
        state = wait_for(lambda: (s := follower.step()).frame == 2 and s, 10, "the leader's next frame")
        assert (state.values.corner_x0, state.settings.corner_x0, state.values.blend_gamma) == (0.1, 0.1, 1.8)
        assert state.values.hue == 0.0 and follower.ignored == 4
        assert follower.describe()["commands_ignored"] == 4 and follower.describe()["leader_frame"] == 2
    finally:
        link.close()


def test_a_sequence_the_follower_does_not_have_is_said_in_one_line(
    in_process_leader: tuple[WallLeader, Show], library: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    leader, show = in_process_leader
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(library / "alps", elsewhere / "alps")
    manifest = elsewhere / "alps" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"prompt": "', '"prompt": "changed '))
    link = follow(leader.port, (0, 0))
    follower = FollowerPipeline(Show(load_stage(elsewhere / "alps", 8)), link, elsewhere, timeout=60.0)
    try:
        wait_for(lambda: heard(leader, show), 10, "the follower's hello")
        for frame in range(1, 40):
            leader.send(show.advance(1 / 30, frame=frame))
            follower.step()
            if any("cannot draw it" in r.getMessage() for r in caplog.records):
                break
            time.sleep(0.02)  # the leader's frame rate
        said = [r.getMessage() for r in caplog.records if "cannot draw it" in r.getMessage()]
        assert len(said) == 1 and "other keyframes" in said[0] and "copy the leader's keyframes folder" in said[0]
        assert "\n" not in said[0] and follower.step().values.blackout == 1.0  # nothing of the wrong picture shown
    finally:
        link.close()


def test_the_leader_keeps_no_more_followers_than_it_should_and_refuses_what_is_no_hello(
    in_process_leader: tuple[WallLeader, Show], caplog: pytest.LogCaptureFixture
) -> None:
    leader, show = in_process_leader
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(wall_link.MAX_FOLLOWERS + 8)]
    try:
        for sock in sockets:
            sock.sendto(hello((0, 0)), ("127.0.0.1", leader.port))
        garbage = [b"", b"MMwh", hello((0, 0))[:-1], hello((0, 0)) + b"x", b"\xff" * 256, "ü".encode() * 128]
        for data in garbage:
            sockets[0].sendto(data, ("127.0.0.1", leader.port))
        deadline = time.monotonic() + 10
        while leader.refused < 8 + len(garbage) and time.monotonic() < deadline:
            leader.send(show.advance(0.0))
        assert len(leader.followers) == wall_link.MAX_FOLLOWERS
        assert leader.refused == 8 + len(garbage)
        said = [r for r in caplog.records if "is no hello this leader takes" in r.getMessage()]
        assert len(said) == 1  # said once, then counted
    finally:
        for sock in sockets:
            sock.close()


def test_a_leader_refuses_followers_outside_its_allowed_networks(library: Path) -> None:
    from installation.control.osc import networks

    leader = WallLeader(0, networks(["10.0.0.0/8"]))
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
            stranger.sendto(hello((0, 0)), ("127.0.0.1", leader.port))
            show = Show(load_stage(library / "alps"))
            wait_for(lambda: not heard(leader, show) and leader.refused, 10, "the hello read")
        assert not leader.followers
    finally:
        leader.close()


def test_a_leader_port_in_use_is_one_sentence() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("0.0.0.0", 0))
        port = taken.getsockname()[1]
        with pytest.raises(
            Exception, match=f"The wall leader's UDP port {port} is in use by another program; give --lead another port"
        ):
            WallLeader(port)


def test_a_sequence_switch_lands_on_every_follower_at_the_leaders_frame(
    library: Path, isolated_keyframes: Path
) -> None:
    for name, prompt in (("alps", None), ("lake", "a lake")):
        shutil.copytree(library / "alps", isolated_keyframes / name)
        if prompt:  # another sequence: other keyframes, another manifest hash
            manifest = isolated_keyframes / name / "manifest.json"
            manifest.write_text(manifest.read_text().replace('"prompt": "', f'"prompt": "{prompt} '))
    leader = Leader(isolated_keyframes, "alps")
    leader.start()
    links = [follow(leader.port, (column, 0)) for column in range(2)]
    followers = [
        FollowerPipeline(Show(load_stage(isolated_keyframes / "alps")), link, isolated_keyframes, timeout=30.0)
        for link in links
    ]
    try:
        wait_for(lambda: all(f.step().values.blackout == 0.0 and f.shown for f in followers), 60, "frames drawn")
        leader.send("/sequence", "lake")
        deadline = time.monotonic() + 60
        drawn_lake = [False, False]
        while not all(drawn_lake) and time.monotonic() < deadline:
            for index, (follower, link) in enumerate(zip(followers, links, strict=True)):
                received = link.latest
                state = follower.step()
                assert received is not None and state.frame >= received.wire.frame  # never a held, older frame
                drawn_lake[index] |= state.stage.name == "lake"
        assert all(drawn_lake)
    finally:
        for link in links:
            link.close()
        leader.stop()


def test_a_forged_newest_frame_from_the_leaders_address_costs_one_frame() -> None:
    """A packet that claims the last frame number there is (forged from the leader's address) must
    not make every real frame after it look late."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as leader_socket:
        leader_socket.bind(("127.0.0.1", 0))
        leader_socket.settimeout(10)
        link = follow(leader_socket.getsockname()[1], (0, 0))
        try:
            _, follower = leader_socket.recvfrom(1024)  # its hello: where to send
            show = Show(flat_stage(3, name="alps"))
            session = b"\x07" * 8
            for frame in (5, 2**64 - 1, 6, 7):
                leader_socket.sendto(frame_packet(session, show.advance(0.0, frame=frame)), follower)
            wait_for(lambda: link.latest is not None and link.latest.wire.frame == 7, 10, "the real frames")
        finally:
            link.close()


def test_a_machine_cannot_both_lead_and_follow_even_from_a_config_file() -> None:
    from installation.errors import UserError
    from installation.options import WallOptions

    with pytest.raises(UserError, match=r"either leads the wall \(--lead\) or follows a leader \(--leader\), not both"):
        WallOptions(lead=9100, follow=("10.0.0.1", 9100))
    with pytest.raises(UserError, match="bezels .* or overlaps .*, not both"):
        WallOptions(bezel=10, overlap=10)
