"""The live loop: window, keys, the show and the renderer, sixty times a second.

A thin shell: the scene decides what the frame is, the renderer draws it. The loop only reads
the clock and the keyboard, keeps the on-screen display, and saves screenshots.
"""

from __future__ import annotations

import logging
import textwrap
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pygame
from PIL import Image

from installation.control.analysis import SoundAnalysis
from installation.control.audio import open_microphone
from installation.control.mapping import load_mapping
from installation.control.osc import OscControl
from installation.paths import shaders_dir
from installation.render.overlay import Overlay
from installation.render.renderer import Renderer, read_pixels
from installation.render.window import PygameWindow
from installation.scene.modulation import SILENCE, SoundFeatures
from installation.scene.show import FrameState, ShowOptions, open_show

log = logging.getLogger(__name__)
FIXED_STEP = 1.0 / 60.0
_SHADER_CHECK_SECONDS = 0.5


@dataclass
class PlayOptions:
    """What ``metamorph play`` was asked for."""

    show: ShowOptions = field(default_factory=ShowOptions)
    window: tuple[int, int] = (1280, 720)
    fullscreen: bool = False
    display: int = 0
    vsync: bool = True
    osc_port: int | None = None
    osc_allow: list[str] = field(default_factory=list)
    osc_feedback: tuple[str, int] | None = None
    osc_map: Path | None = None
    audio: bool = False
    audio_device: str | None = None
    frames: int | None = None
    screenshot: Path | None = None
    fixed_step: bool = False
    osd: bool = False


class Player:
    """One run of the live loop."""

    def __init__(self, options: PlayOptions) -> None:
        self.options = options
        self.show = open_show(options.show)
        self.window = PygameWindow(options.window, options.fullscreen, options.display, options.vsync)
        self.renderer = Renderer(self.show, shaders_dir())
        self.overlay = Overlay()
        self.osc = None
        if options.osc_port is not None:
            mapping = load_mapping(options.osc_map) if options.osc_map else load_mapping()
            self.osc = OscControl(mapping, options.osc_port, allow=options.osc_allow, feedback=options.osc_feedback)
        self.sound = open_microphone(options.audio_device) if options.audio else None
        self._analysis: SoundAnalysis | None = None
        self.osd = options.osd
        self.running = True
        self._screenshot_wanted = False
        self._frame_seconds = FIXED_STEP
        self._next_shader_check = 0.0

    def run(self) -> None:
        frames = 0
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
                state = self.show.advance(dt, self._listen(dt))
                self.renderer.draw(state, self.window.size)
                self._draw_overlay(state)
                frames += 1
                if self.options.frames is not None and frames >= self.options.frames:
                    self.running = False
                if self._screenshot_wanted or (not self.running and self.options.screenshot):
                    self._save_screenshot()
                self.window.swap()
        finally:
            if self.osc is not None:
                self.osc.close()
            if self.sound is not None:
                self.sound.close()
            self.window.close()

    def _listen(self, dt: float) -> SoundFeatures:
        """This frame's sound features (silence without an input)."""
        if self.sound is None:
            return SILENCE
        samples = self.sound.read()
        if self._analysis is None or self._analysis.sample_rate != self.sound.sample_rate:
            self._analysis = SoundAnalysis(self.sound.sample_rate)
        return self._analysis.update(samples, dt)

    def _handle_events(self) -> None:
        conductor = self.show.conductor
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.running = False
            elif event.type == pygame.KEYDOWN:
                key = event.key
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
        where = f"keyframe {state.index_a + 1}/{count}"
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


def play(options: PlayOptions) -> None:
    """Run ``metamorph play`` until q, Esc, the window closes, or ``options.frames``."""
    Player(options).run()
