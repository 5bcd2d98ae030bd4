"""The live loop: window, keys, the show and the renderer, sixty times a second.

A thin shell: the scene decides what the frame is, the renderer draws it. The loop reads the
clock, the keyboard, OSC and sound, keeps the on-screen display, and does the chores of a show
that runs for weeks: opening hours, a heartbeat in the log, the state saved every few seconds,
the next sequence of a playlist, and a watchdog that ends a stalled process so the service
restarts it.
"""

from __future__ import annotations

import logging
import os
import textwrap
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pygame
from PIL import Image

from installation.control.analysis import SoundAnalysis
from installation.control.audio import LiveInput, open_microphone
from installation.control.mapping import load_mapping
from installation.control.osc import OscControl
from installation.paths import keyframes_dir, shaders_dir
from installation.render.overlay import Overlay
from installation.render.renderer import Renderer, read_pixels
from installation.render.window import GLError, PygameWindow
from installation.scene.modulation import SILENCE, SoundFeatures
from installation.scene.playlist import Playlist, is_playlist, sequence_named
from installation.scene.schedule import Schedule
from installation.scene.show import FrameState, ShowOptions, open_show
from installation.state import SAVE_SECONDS, SavedState, load_state, save_state
from installation.watchdog import Watchdog

log = logging.getLogger(__name__)
FIXED_STEP = 1.0 / 60.0
CONTEXT_LOST_EXIT_CODE = 4
_SHADER_CHECK_SECONDS = 0.5


@dataclass
class PlayOptions:
    """What ``metamorph play`` was asked for."""

    show: ShowOptions = field(default_factory=ShowOptions)
    window: tuple[int, int] = (1280, 720)
    fullscreen: bool = False
    display: int = 0
    vsync: bool = True
    shuffle: bool = False
    osc_port: int | None = None
    osc_allow: list[str] = field(default_factory=list)
    osc_feedback: tuple[str, int] | None = None
    osc_map: Path | None = None
    audio: bool = False
    audio_device: str | None = None
    schedule: Schedule | None = None
    closed: str = "black"
    state_file: Path | None = None
    heartbeat: float = 60.0
    watchdog: float | None = None
    frames: int | None = None
    screenshot: Path | None = None
    fixed_step: bool = False
    osd: bool = False


class Player:
    """One run of the live loop."""

    def __init__(self, options: PlayOptions) -> None:
        self.options = options
        folder = options.show.sequence
        self.playlist = Playlist(folder, options.shuffle) if folder and is_playlist(folder) else None
        self.library = self.playlist.folder if self.playlist else keyframes_dir()
        saved = load_state(options.state_file) if options.state_file else None
        self.show = open_show(options.show, self._first_sequence(saved))
        self._restore(saved)
        self.window = PygameWindow(options.window, options.fullscreen, options.display, options.vsync)
        self.renderer = Renderer(self.show, shaders_dir())
        self.overlay = Overlay()
        self.osc = self._open_osc()
        self.sound: LiveInput | None = open_microphone(options.audio_device) if options.audio else None
        self._analysis: SoundAnalysis | None = None
        self.osd = options.osd
        self.running = True
        self.frames = 0
        self._screenshot_wanted = False
        self._frame_seconds = FIXED_STEP
        self._next_shader_check = 0.0
        self._next_heartbeat = time.monotonic() + options.heartbeat
        self._next_save = time.monotonic() + SAVE_SECONDS
        self._sequence_seconds = 0.0
        self._watchdog = Watchdog(options.watchdog) if options.watchdog else None

    # Start-up ---------------------------------------------------------------------------------

    def _first_sequence(self, saved: SavedState | None) -> Path | None:
        """The sequence asked for; in a playlist, the one playing when the last run stopped."""
        if self.playlist is None:
            return self.options.show.sequence
        if saved is not None and (path := sequence_named(self.playlist.folder, saved.sequence)) is not None:
            self.playlist.select(path)
        return self.playlist.current

    def _restore(self, saved: SavedState | None) -> None:
        """Resume where the last run left off, then let this run's explicit options win."""
        if saved is None or saved.sequence != self.show.sequence.name:
            return
        for name, value in saved.parameters.items():
            self.show.parameters.set(name, value, immediate=True)
        for name, value in self.options.show.parameters.items():
            self.show.parameters.set(name, value, immediate=True)
        self.show.conductor.index = min(max(saved.keyframe, 0), self.show.conductor.count - 1)
        log.info("state: resumed %s at keyframe %d", saved.sequence, self.show.conductor.index + 1)

    def _open_osc(self) -> OscControl | None:
        if self.options.osc_port is None:
            return None
        mapping = load_mapping(self.options.osc_map) if self.options.osc_map else load_mapping()
        osc = OscControl(mapping, self.options.osc_port, allow=self.options.osc_allow, feedback=self.options.osc_feedback)
        osc.on_sequence = self.switch_to_name
        return osc

    # The loop ---------------------------------------------------------------------------------

    def run(self) -> None:
        last = time.perf_counter()
        try:
            while self.running:
                now = time.perf_counter()
                dt = FIXED_STEP if self.options.fixed_step else min(now - last, 0.1)
                self._frame_seconds += (max(now - last, 1e-6) - self._frame_seconds) * 0.05
                last = now
                self._handle_events()
                self._check_shaders(now)
                if self.osc is not None:
                    self.osc.apply(self.show)
                state = self.show.advance(dt, self._listen(dt), self._closed())
                self._draw(state)
                self.frames += 1
                if self._watchdog is not None:
                    self._watchdog.beat()
                self._chores(dt)
        finally:
            self._save()
            if self._watchdog is not None:
                self._watchdog.stop()
            if self.osc is not None:
                self.osc.close()
            if self.sound is not None:
                self.sound.close()
            self.window.close()

    def _draw(self, state: FrameState) -> None:
        """Draw, show and maybe save the frame; a lost GL context ends the process (code 4)."""
        try:
            self.renderer.draw(state, self.window.size)
            self._draw_overlay(state)
            if self.options.frames is not None and self.frames + 1 >= self.options.frames:
                self.running = False
            if self._screenshot_wanted or (not self.running and self.options.screenshot):
                self._save_screenshot()
            self.window.swap()
        except (GLError, pygame.error) as error:
            log.critical("the OpenGL context was lost (%s); exiting with code %d so the service restarts the show",
                         error, CONTEXT_LOST_EXIT_CODE)
            raise SystemExit(CONTEXT_LOST_EXIT_CODE) from error

    def _listen(self, dt: float) -> SoundFeatures:
        """This frame's sound features (silence without an input)."""
        if self.sound is None:
            return SILENCE
        samples = self.sound.read()
        if self._analysis is None or self._analysis.sample_rate != self.sound.sample_rate:
            self._analysis = SoundAnalysis(self.sound.sample_rate)
        return self._analysis.update(samples, dt)

    def _closed(self) -> str | None:
        schedule = self.options.schedule
        if schedule is None or schedule.is_open(datetime.now().time()):
            return None
        return self.options.closed

    def _chores(self, dt: float) -> None:
        """The once-in-a-while work: heartbeat, saved state, the playlist's next sequence."""
        now = time.monotonic()
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + self.options.heartbeat
            self._heartbeat()
        if now >= self._next_save:
            self._next_save = now + SAVE_SECONDS
            self._save()
        self._sequence_seconds += dt
        if self.playlist is not None and len(self.playlist.items) > 1 and self._sequence_seconds >= self.show.pass_seconds():
            self.switch_to(self.playlist.advance())

    def _heartbeat(self) -> None:
        state = self.show.conductor.state()
        received = self.osc.counts["received"] if self.osc else 0
        log.info(
            "heartbeat: %.1f fps, %.0f MB, %s keyframe %d/%d, osc %d messages, sound %s",
            1.0 / self._frame_seconds, resident_megabytes(), self.show.sequence.name, state.index + 1,
            self.show.conductor.count, received, "on" if self.sound and self.sound.connected else "off",
        )

    def _save(self) -> None:
        if self.options.state_file is not None:
            conductor = self.show.conductor.state()
            keyframe = conductor.index if conductor.target is None else conductor.target  # where it is heading
            state = SavedState(self.show.sequence.name, keyframe, self.show.parameters.targets())
            save_state(self.options.state_file, state)

    # Sequences --------------------------------------------------------------------------------

    def switch_to_name(self, name: str) -> bool:
        """``/sequence NAME``: only a sequence inside the keyframes (or playlist) folder."""
        path = sequence_named(self.library, name)
        if path is None:
            log.warning("osc: /sequence %r is not a sequence in %s", name, self.library)
            return False
        return self.switch_to(path)

    def switch_to(self, path: Path) -> bool:
        """Play another sequence with the same parameters; a broken one leaves the current playing."""
        try:
            show = open_show(self.options.show, path, self.show.parameters)
        except Exception as error:  # a bad folder must never stop the show
            log.warning("cannot switch to %s (%s); the current sequence goes on", path, error)
            return False
        self.show = show
        self.renderer.play(show)
        self._sequence_seconds = 0.0
        if self.playlist is not None:
            self.playlist.select(path)
        log.info("now playing %s", path.name)
        return True

    # Keys, shaders, display -------------------------------------------------------------------

    def _handle_events(self) -> None:
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.running = False
            elif event.type == pygame.KEYDOWN:
                self._key(event.key)

    def _key(self, key: int) -> None:
        conductor = self.show.conductor
        if key in (pygame.K_q, pygame.K_ESCAPE):
            self.running = False
        elif key == pygame.K_SPACE:
            conductor.pause()
        elif key == pygame.K_RIGHT:
            conductor.next()
        elif key == pygame.K_LEFT:
            conductor.prev()
        elif key == pygame.K_f:
            self.window.toggle_fullscreen()
        elif key == pygame.K_h:
            self.osd = not self.osd
        elif key == pygame.K_r:
            for program in self.renderer.programs:
                program.reload(force=True)
        elif key == pygame.K_s:
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

    def _status_lines(self, state: FrameState) -> list[str]:
        count = len(self.show.sequence)
        where = f"{self.show.sequence.name}: keyframe {state.index_a + 1}/{count}"
        if state.conductor.moving:
            where += f" -> {state.index_b + 1}  {state.conductor.progress:.0%}"
        if state.conductor.paused:
            where += "  (paused)"
        params = state.parameters
        return [
            f"{1.0 / self._frame_seconds:5.1f} fps  {self._frame_seconds * 1000:5.1f} ms  "
            f"{self.renderer.field.count} spheres",
            where,
            "  ".join(f"{name} {params[name]:.2f}" for name in ("speed", "hold", "duration", "diffusion", "size")),
            "  ".join(f"{name} {params[name]:.2f}" for name in ("hue", "saturation", "brightness", "blackout")),
        ]

    def _save_screenshot(self) -> None:
        self._screenshot_wanted = False
        path = self.options.screenshot
        if path is None or self.running:
            path = Path(f"metamorph-{datetime.now():%Y%m%d-%H%M%S-%f}.png")
        pixels = read_pixels(self.window.size)
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(path)
        log.info("screenshot saved: %s", path)


def resident_megabytes() -> float:
    """The process's resident memory now (Linux), else its peak."""
    try:
        with open("/proc/self/statm", encoding="ascii") as stream:
            pages = int(stream.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def play(options: PlayOptions) -> None:
    """Run ``metamorph play`` until q, Esc, the window closes, or ``options.frames``."""
    Player(options).run()
