"""``metamorph play``: the live loop, a window, keys and an on-screen display around the frame
pipeline.

``Player`` only assembles parts: the pipeline decides what each frame is (``scene/pipeline.py``),
the frame loop draws it and hands it to its outputs (``render/loop.py``): the screenshot, the
window's present, then the chores (OSC feedback, MIDI lights, the gallery's heartbeat, state and
playlist). Each part is opened inside an ``ExitStack``, so a start-up that fails half-way (a bad
``--audio`` file after the OSC thread and the web process started) closes what it opened, in
reverse order, before its one sentence. Keys, OSC and any other surface only put commands in the
pipeline's queue.
"""

from __future__ import annotations

import logging
import textwrap
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pygame
from PIL import Image

from installation import signals
from installation.control.mapping import Mapping, learn_target, learned_map, load_mapping, show_map
from installation.control.midi import MidiControl
from installation.control.osc import OscControl, networks
from installation.control.sound import MusicSound, open_sound
from installation.control.websupervisor import ShowServer
from installation.errors import UserError
from installation.gallery import Gallery
from installation.options import PlayOptions
from installation.paths import keyframes_dir, shaders_dir
from installation.render.finish import TileFinish
from installation.render.framebuffer import Framebuffer
from installation.render.loop import Chore, Frame, FrameLoop, FrameTimes, Readback
from installation.render.overlay import Overlay
from installation.render.readback import PixelFormat
from installation.render.renderer import Renderer
from installation.render.window import GLError, PygameWindow
from installation.scene.clock import Clock, FixedClock, WallClock
from installation.scene.commands import Command
from installation.scene.loader import SequenceLoader
from installation.scene.parameters import OUTPUT_PARAMETERS
from installation.scene.pipeline import FramePipeline
from installation.scene.playlist import Playlist, is_playlist, sequence_named
from installation.scene.show import FrameState, Show
from installation.scene.stage import Stage
from installation.scene.tempo import TempoPolicy
from installation.state import SavedState, check_state_file, load_state

if TYPE_CHECKING:
    from installation.outputs.ndi import NdiSender
    from installation.outputs.spout import SpoutSender
    from installation.outputs.syphon import SyphonSender
    from installation.scene.tempo import BeatSource
    from installation.visitors.show import VisitorLink, Visits
    from installation.wall.follower import FollowerPipeline
    from installation.wall.link import WallLeader

log = logging.getLogger(__name__)
CONTEXT_LOST_EXIT_CODE = 4
_SHADER_CHECK_SECONDS = 0.5


class Player:
    """One run of the live loop."""

    def __init__(self, options: PlayOptions) -> None:
        self.options = options
        self.running = True
        self.frames = 0
        self.state: FrameState | None = None
        self._screenshot_wanted = False
        self._frame_seconds = 1.0 / 60.0
        self.times = FrameTimes(options.fixed_step or 60.0)
        self._next_shader_check = 0.0
        self._parts = ExitStack()
        self.texture_outputs: dict[str, SpoutSender | SyphonSender] = {}
        self.visitor_link: VisitorLink | None = None
        try:
            self._assemble()
        except BaseException:
            self._parts.close()  # what was opened before the failure, last first
            raise

    def _assemble(self) -> None:
        """Open every part, each closed by ``_parts`` when the run ends (or start-up fails)."""
        options, parts = self.options, self._parts
        folder = options.show.sequence
        self.playlist = Playlist(folder, options.shuffle) if folder and is_playlist(folder) else None
        library = self.playlist.folder if self.playlist else keyframes_dir()
        saved = self._saved_state()
        self.policy = self._open_tempo()
        show = self._open_show(saved)
        self.follower = self._open_follower(show, library)
        self.pipeline = self.follower or FramePipeline(show, self._clock())
        self.mapping = load_mapping(show_map(options.osc_map, learned_map(options.gallery.state_file)))
        self.window = PygameWindow(options.window, options.fullscreen, options.display, options.vsync)
        parts.callback(self.window.close)
        self.ndi = self._open_ndi()
        self.renderer = Renderer(shaders_dir())
        self.overlay = Overlay()
        self.loop = FrameLoop(self.renderer, Framebuffer(self.window.size), finish=self._open_finish())
        parts.callback(self.loop.close)
        self._lay_out(self.window.size)
        self.leader = self._open_leader()
        self.osc = self._open_osc()
        self.visits = self._open_visitors()
        self.web = self._open_web(library)
        self.midi = self._open_midi(self.mapping) if self.follower is None else None
        playlist = self.playlist if self.follower is None else None  # a follower plays its leader's
        self.gallery = Gallery(
            options.gallery,
            self.pipeline,
            playlist,
            self._describe,
            held=lambda: self.visits is not None and self.visits.holding,
        )
        parts.callback(lambda: self.gallery.close(self.state))
        if self.follower is None:  # a follower's frames are the leader's: its sound, schedule and loads
            self.pipeline.closed = self.gallery.closed
            self.pipeline.sound = open_sound(options.audio, options.audio_device)
            parts.callback(self.pipeline.sound.close)
            self._send_music()
            self.pipeline.loader = SequenceLoader(library, options.show.prepare)
        assert self.pipeline.loader is not None
        parts.callback(self.pipeline.loader.close)
        self.osd = options.osd
        self._add_outputs()

    def _add_outputs(self) -> None:
        """What each drawn frame goes to, in order: the readback of video out (first, so that the
        copy overlaps the rest), the screenshot, the window, the chores."""
        if self.ndi is not None:
            sender, readback = self.ndi
            self.loop.add(readback)
            self.loop.add(Chore(lambda frame: sender.describe(frame.state.stage.name, frame.state.conductor.index)))
        self._open_texture_outputs()
        self.loop.add(Chore(self._screenshot))
        self.loop.add(Chore(self._present))
        osc, midi = self.osc, self.midi
        if osc is not None:
            self.loop.add(Chore(lambda frame: osc.after_frame(frame.state)))
        if midi is not None:
            self.loop.add(Chore(lambda frame: midi.after_frame(frame.state)))
        visits = self.visits
        if visits is not None:
            self.loop.add(Chore(lambda frame: visits.after_frame(frame.state)))
        self.loop.add(Chore(lambda frame: self.gallery.after_frame(frame.state, self._frame_seconds)))

    # Start-up ---------------------------------------------------------------------------------

    def _saved_state(self) -> SavedState | None:
        path = self.options.gallery.state_file
        if path is None:
            return None
        check_state_file(path)
        return load_state(path)

    def _clock(self) -> Clock:
        return FixedClock(self.options.fixed_step) if self.options.fixed_step else WallClock()

    def _open_show(self, saved: SavedState | None) -> Show:
        """The first sequence that loads: the saved one of a playlist, then the others in order."""
        show_options = self.options.show
        if self.playlist is None:
            stage = show_options.first_stage()
        else:
            stage = self._first_playlist_stage(saved)
        parameters = show_options.parameters_set()
        start = 0
        if saved is not None:  # this machine's output (corner pin, gamma) is kept whatever it played
            for name in OUTPUT_PARAMETERS:
                if name in saved.parameters and name not in show_options.parameters:
                    parameters.set(name, saved.parameters[name], immediate=True)
        if saved is not None and saved.sequence == stage.name:
            for name, value in saved.parameters.items():
                parameters.set(name, value, immediate=True)
            for name, value in show_options.parameters.items():
                parameters.set(name, value, immediate=True)
            start = min(max(saved.keyframe, 0), stage.count - 1)
            log.info("state: resumed %s at keyframe %d", saved.sequence, start + 1)
        return Show(stage, show_options.order, parameters, start, policy=self.policy)

    def _first_playlist_stage(self, saved: SavedState | None) -> Stage:
        assert self.playlist is not None
        items = list(self.playlist.items)
        resumed = sequence_named(self.playlist.folder, saved.sequence) if saved is not None else None
        if resumed in items:
            items.remove(resumed)
            items.insert(0, resumed)
        problems = []
        for path in items:
            try:
                return self.options.show.prepare(path)
            except UserError as error:
                log.warning("playlist: skipping %s (%s)", path.name, error)
                problems.append(str(error))
        raise UserError(
            f"No sequence in the playlist {self.playlist.folder} can be played; the first problem: {problems[0]}"
        )

    def _open_tempo(self) -> TempoPolicy:
        """What transitions follow: the beat of ``--sync`` (free: seconds), switched by ``/sync``."""
        tempo = self.options.tempo

        def opener(sync: str) -> BeatSource | None:
            from installation.control.tempo import open_source

            return open_source(
                sync,
                bpm=tempo.bpm or 120.0,
                quantum=tempo.quantum,
                midi_clock=tempo.midi_clock,
                start_stop=tempo.start_stop,
            )

        following = self.options.wall.follow is not None  # a follower draws the leader's beat
        policy = tempo.policy(opener("free" if following else tempo.sync), opener)
        self._parts.callback(policy.close)
        return policy

    def _open_follower(self, show: Show, library: Path) -> FollowerPipeline | None:
        """The pipeline of a follower (``--follow``): the leader's frames, on this machine's keyframes."""
        wall = self.options.wall
        if wall.follow is None:
            return None
        from installation.wall.follower import FollowerPipeline
        from installation.wall.link import LeaderLink

        link = LeaderLink(wall.follow, wall.tile, wall.port)
        self._parts.callback(link.close)
        log.info("wall: following the leader at %s:%d, receiving on UDP port %d", *wall.follow, link.port)
        return FollowerPipeline(show, link, library, wall.timeout)

    def _open_leader(self) -> WallLeader | None:
        """The leader's link (``--lead``): each frame sent to the followers before it is drawn."""
        wall = self.options.wall
        if wall.lead is None:
            return None
        from installation.wall.link import WallLeader

        leader = WallLeader(wall.lead, networks(list(self.options.osc_allow)))
        self._parts.callback(leader.close)
        self.loop.heralds.append(leader.send)
        self.pipeline.switch_when = leader.ready_for  # the wall switches sequence at one frame
        log.info("wall: leading on UDP port %d", leader.port)
        return leader

    def _open_finish(self) -> TileFinish:
        """The output's corner pin and a wall tile's soft edges (nothing drawn while there are none)."""
        return TileFinish(shaders_dir(), self.options.wall.layout(self.window.size))

    def _lay_out(self, size: tuple[int, int]) -> None:
        """The frame at the window's ``size``: the whole canvas, or this machine's tile of the wall."""
        layout = self.options.wall.layout(size)
        if self.loop.target.size != size:
            self.loop.target.delete()
            self.loop.target = Framebuffer(size)
        self.loop.view = layout.view
        if self.loop.finish is not None:
            self.loop.finish.layout = layout
        if layout.grid != (1, 1):
            log.info("%s", layout.describe())

    def _open_ndi(self) -> tuple[NdiSender, Readback] | None:
        """The NDI source of ``--ndi``, fed by a live readback at ``--ndi-size`` (the window's size
        by default), UYVY or BGRA with alpha, off the render thread."""
        options = self.options
        if options.ndi is None:
            return None
        from installation.outputs.ndi import open_ndi

        pixels = PixelFormat.BGRA if options.ndi_alpha else PixelFormat.UYVY
        size = options.ndi_size or self.window.size
        sender = self._parts.enter_context(open_ndi(options.ndi, size, options.fixed_step or 60.0, pixels))
        log.info("sending the show over NDI as %r at %dx%d", sender.full_name, *size)
        readback = Readback(pixels, lossless=False, size=size)
        readback.add(sender)
        return sender, readback

    def _send_music(self) -> None:
        """A music file the show plays goes out over NDI too, each frame's samples with the frame."""
        sound = self.pipeline.sound
        if self.ndi is not None and isinstance(sound, MusicSound):
            sender = self.ndi[0]
            sound.heard.append(lambda samples, rate: sender.send_audio(samples, int(rate)))

    def _open_texture_outputs(self) -> None:
        """Spout (Windows) and Syphon (macOS): the frame's texture shared as it is, no readback."""
        options = self.options
        if options.spout is not None:
            from installation.outputs.spout import open_spout

            self.texture_outputs["spout"] = self.loop.add(open_spout(options.spout))
        if options.syphon is not None:
            from installation.outputs.syphon import open_syphon

            self.texture_outputs["syphon"] = self.loop.add(open_syphon(options.syphon))

    def reports(self) -> dict[str, object]:
        """What the show tells beside its frame (``/status``): the beat it follows, its outputs."""
        outputs: dict[str, object] = {}
        told: dict[str, object] = {"timing": self.times.report(), "tempo": self.policy.describe(), "outputs": outputs}
        if self.leader is not None or self.follower is not None:
            link = self.leader.describe() if self.leader is not None else self.follower.describe()  # type: ignore[union-attr]
            told["wall"] = link | {"tile": list(self.options.wall.tile), "view": list(self.loop.view.rect)}
        if self.ndi is not None:
            sender, readback = self.ndi
            ndi = {"name": sender.full_name, "receivers": sender.receivers, "sent": sender.sent}
            outputs["ndi"] = ndi | {"dropped": readback.dropped, "failed": sender.failed, "audio": sender.audio_sent}
        for kind, output in self.texture_outputs.items():
            outputs[kind] = {"name": output.name, "sent": output.sent, "failed": output.failed}
        if self.visits is not None:
            told["visitors"] = self._visitors()
        return told

    def _open_osc(self) -> OscControl | None:
        options = self.options
        if options.osc_port is None:
            return None
        osc = OscControl(
            self.mapping,
            self.pipeline.commands,
            lambda: self.pipeline.latest,
            options.osc_port,
            hearing=lambda: self.pipeline.sound.describe(),
            reports=self.reports,
            allow=networks(list(options.osc_allow)),
            feedback=options.osc_feedback,
        )
        self._parts.callback(osc.close)
        return osc

    def _open_visitors(self) -> Visits | None:
        """The visitor page on its own port, and the glide into each wish made (``--visitors``)."""
        options = self.options.visitors
        if not options.enabled:
            return None
        if self.follower is not None:
            raise UserError("A wall follower draws its leader's frames; give --visitors to the leader.")
        from installation.visitors.show import VisitorLink, Visits, visitor_settings

        link = VisitorLink(lambda: self.pipeline.latest, visitor_settings(options), options.port)
        self._parts.callback(link.close)
        self.visitor_link = link
        return Visits(link.ready, self.pipeline, options.hold)

    def _visitors(self) -> dict[str, object] | None:
        """What ``/status`` and the control page show of the visitors (None: no visitors)."""
        if self.visits is None or self.visitor_link is None:
            return None
        return self.visitor_link.describe(self.visits.on_screen)

    def _open_web(self, library: Path) -> ShowServer | None:
        """OSCQuery and the control page, on the OSC allow-list; they read frame states and queue commands."""
        options = self.options
        if options.http_port is None:
            return None
        web = ShowServer(
            lambda: self.pipeline.latest,
            self.pipeline.commands,
            self.mapping,
            options.http_port,
            allow=networks(list(options.osc_allow)),
            key=options.control_key,
            readonly=options.http_readonly,
            osc_port=self.osc.port if self.osc else None,
            library=library,
            visitors=self._visitors if self.visits is not None else None,
        )
        self._parts.callback(web.close)
        return web

    def _open_midi(self, mapping: Mapping) -> MidiControl | None:
        """The MIDI controller named by ``--midi``; a learned map is saved over the user's map file,
        or next to the state file when the map is the package's (and loaded from there next time)."""
        if self.options.midi is None:
            return None
        save_to = learn_target(self.options.osc_map, learned_map(self.options.gallery.state_file))
        midi = MidiControl(mapping, self.pipeline.commands, self.options.midi, save_to)
        self._parts.callback(midi.close)
        return midi

    # The loop ---------------------------------------------------------------------------------

    def run(self) -> None:
        """Draw frames until q, the window closing, ``options.frames`` or a stop signal (read
        between frames); then close everything, saving the state."""
        with self._parts, signals.polling():
            self._loop()

    def _loop(self) -> None:
        last = time.perf_counter()
        while self.running and not signals.stop_requested():
            now = time.perf_counter()
            if self.frames:
                self.times.add(now - last, now)
            self._frame_seconds += (max(now - last, 1e-6) - self._frame_seconds) * 0.05
            last = now
            self._handle_events()
            self._check_shaders(now)
            self.state = self.pipeline.step()
            self.frames += 1  # the outputs of a frame see it counted
            if self.options.frames is not None and self.frames >= self.options.frames:
                self.running = False
            self._draw(self.state)

    def _draw(self, state: FrameState) -> None:
        """Draw the frame offscreen (as capture does) and hand it to the outputs; a lost GL
        context ends the process (code 4)."""
        try:
            self._follow_window()
            self.loop.draw(state)
        except (GLError, pygame.error) as error:
            log.critical(
                "the OpenGL context was lost (%s); exiting with code %d so the service restarts the show",
                error,
                CONTEXT_LOST_EXIT_CODE,
            )
            raise SystemExit(CONTEXT_LOST_EXIT_CODE) from error

    def _follow_window(self) -> None:
        """The offscreen picture has the window's size: laid out again when the window is resized."""
        if self.loop.target.size != self.window.size:
            self._lay_out(self.window.size)

    def _present(self, frame: Frame) -> None:
        """The window's output: the frame and the on-screen display over it, swapped in."""
        if not self.window.offscreen:  # nobody sees an offscreen window: no copy, no display
            frame.target.blit_to_window()
            self._draw_overlay(frame.state)
        self.window.swap()

    def _screenshot(self, frame: Frame) -> None:
        """The `s` key's picture, or --screenshot's of the last frame."""
        if self._screenshot_wanted or (not self.running and self.options.screenshot):
            self._save_screenshot(frame.target)

    def _describe(self) -> str:
        """The heartbeat's words on the inputs."""
        received = self.osc.counts["received"] if self.osc else 0
        hearing = self.pipeline.sound.describe()
        sound = hearing["input"] if "connected" not in hearing else "on" if hearing["connected"] else "off"
        timing = self.times.report()
        frames = f", p99 {timing['p99_ms']:.1f} ms, {timing['late_frames']} late frames"
        return f"{frames}, osc {received} messages, sound {sound}{self._ndi_words()}"

    def _ndi_words(self) -> str:
        """The NDI output in a few words, for the heartbeat and the on-screen display."""
        if self.ndi is None:
            return ""
        sender, readback = self.ndi
        return f", ndi {sender.receivers} receivers, {sender.sent} sent, {readback.dropped} dropped"

    # Keys, shaders, display -------------------------------------------------------------------

    def _handle_events(self) -> None:
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.running = False
            elif event.type == pygame.KEYDOWN:
                self._key(event.key)

    def _key(self, key: int) -> None:
        command = KEY_COMMANDS.get(key)
        if command is not None:
            self.pipeline.commands.put(command)
        elif (action := KEY_ACTIONS.get(key)) is not None:
            action(self)

    def _quit(self) -> None:
        self.running = False

    def _toggle_osd(self) -> None:
        self.osd = not self.osd

    def _reload_shaders(self) -> None:
        for program in self.renderer.programs:
            program.reload(force=True)

    def _want_screenshot(self) -> None:
        self._screenshot_wanted = True

    def _check_shaders(self, now: float) -> None:
        if now >= self._next_shader_check:
            self._next_shader_check = now + _SHADER_CHECK_SECONDS
            for program in self.renderer.programs:
                program.reload()

    def _draw_overlay(self, state: FrameState) -> None:
        errors = [program.error for program in self.renderer.programs if program.error]
        alert = [line for error in errors for line in textwrap.wrap(f"shader error: {error}", 110)]
        lines = self._status_lines(state) if self.osd else []
        if lines or alert:
            self.overlay.draw(self.renderer, self.window.size, lines, alert)
        if self.osd and (link := self.visitor_link) is not None:
            self.overlay.corner(self.renderer, self.window.size, link.qr)

    def _status_lines(self, state: FrameState) -> list[str]:
        where = f"{state.stage.name}: keyframe {state.index_a + 1}/{state.stage.count}"
        if state.conductor.moving:
            where += f" -> {state.index_b + 1}  {state.conductor.progress:.0%}"
        if state.conductor.paused:
            where += "  (paused)"
        values = state.values.as_dict()
        spheres = self.renderer.field.count if self.renderer.field else 0
        return [
            f"{1.0 / self._frame_seconds:5.1f} fps  {self._frame_seconds * 1000:5.1f} ms  {spheres} spheres"
            + self._ndi_words().replace(",", " ", 1),
            "last 10 s: {fps:.1f} fps, {p50_ms:.1f} ms median, {p99_ms:.1f} ms 99th; {late_frames} frames late".format(
                **self.times.report()
            ),
            where,
            "  ".join(f"{name} {values[name]:.2f}" for name in ("speed", "hold", "duration", "diffusion", "size")),
            "  ".join(f"{name} {values[name]:.2f}" for name in ("hue", "saturation", "brightness", "blackout")),
            *self._beat_line(),
        ]

    def _beat_line(self) -> list[str]:
        """Tempo, the beat in the bar as dots, Link's peers: when a beat is followed."""
        beat, source = self.policy.beat, self.policy.source
        if source is None:
            return []
        if beat is None or not self.policy.locked:
            return [f"sync {source.name}: no beat yet, running free"]
        dots = "".join("o" if index == beat.beat_in_bar else "." for index in range(int(self.policy.quantum)))
        peers = f"  {beat.peers} peers" if source.name == "link" else ""
        return [f"{beat.tempo:6.1f} BPM  {dots}  sync {source.name}{peers}"]

    def _save_screenshot(self, target: Framebuffer) -> None:
        """Save the frame as a PNG, whole or not at all (``save_png``). The `s` key's picture is a
        convenience: its failure (a full disk, a folder that cannot be written) is one warning and
        the show goes on. The --screenshot asked for at the end is the run's output: its failure
        is the command's error."""
        from installation.render.video import save_png

        self._screenshot_wanted = False
        path = self.options.screenshot
        final = path is not None and not self.running
        if path is None or self.running:
            path = Path(f"metamorph-{datetime.now():%Y%m%d-%H%M%S-%f}.png")
        try:
            save_png(Image.fromarray(target.read()), path, replace=final)
        except (OSError, UserError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            fix = "choose another --screenshot" if final else "start the show in a folder that can be written"
            message = f"The screenshot {path} could not be saved ({reason}); free disk space or {fix}."
            if final:
                raise UserError(message) from error
            log.warning("%s", message)
            return
        log.info("screenshot saved: %s", path)


KEY_COMMANDS: dict[int, Command] = {
    pygame.K_SPACE: Command("pause", (None,)),
    pygame.K_RIGHT: Command("next", (True,)),
    pygame.K_LEFT: Command("prev", (True,)),
    pygame.K_b: Command("blackout", (None,)),
    pygame.K_t: Command("tap", (True,)),
}
"""Keys that ask the show for something: the same commands as OSC and every other surface."""

KEY_ACTIONS: dict[int, Callable[[Player], None]] = {
    pygame.K_q: Player._quit,
    pygame.K_ESCAPE: Player._quit,
    pygame.K_f: lambda player: player.window.toggle_fullscreen(),
    pygame.K_h: Player._toggle_osd,
    pygame.K_r: Player._reload_shaders,
    pygame.K_s: Player._want_screenshot,
}
"""Keys that act on the player itself: window, display, shaders, screenshots."""


def play(options: PlayOptions) -> None:
    """Run ``metamorph play`` until q, Esc, the window closes, a stop signal, or ``options.frames``."""
    Player(options).run()
