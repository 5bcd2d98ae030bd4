"""Where captured frames go: a video through ffmpeg, or a folder of numbered PNGs.

Frames arrive as raw RGB bytes, top row first (``render/readback.py`` is the one place that
turns OpenGL's bottom-up rows around), so no sink flips anything.

Both sinks take raw RGB frames and do their slow work (encoding, compressing) on other threads
or in the ffmpeg process, so the renderer keeps drawing meanwhile. ffmpeg runs in its own
session: Ctrl-C reaches only metamorph, which closes ffmpeg's input, and ffmpeg finishes a
playable file with the frames it has. Even if metamorph dies, the closed pipe ends the video
cleanly. The ffmpeg used is the static build inside the imageio-ffmpeg wheel.

Nothing appears under its final name before it is complete, and no two runs share a file: every
output (a captured or joined video, a PNG frame, a screenshot) grows under a name only its own
run uses, ``NAME.<pid>-<random>.partial`` in the same folder (``run_partial``), and is renamed
when finished (``publish``), replacing a file already there only with ``--force``; a run that
finds the name taken by another run meanwhile keeps its result under its own name and says so.
An interrupted capture's playable video is renamed to ``NAME.partial`` (``keep_partial``), which
a later run does not replace without ``--force`` and ``concat`` does not take for a whole part.
While a file is being finished, signals are deferred (``finishing``): a stop then can never
leave a half-joined file.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import logging
import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from installation import signals
from installation.errors import UserError
from installation.files import PARTIAL_SUFFIX, keep_partial, publish, run_partial, save_picture, written

log = logging.getLogger(__name__)
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")
MUXERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
"""ffmpeg's muxer for each video suffix: named explicitly, since the file grows as ``.partial``."""
DEFERRED = (signal.SIGINT, *signals.SIGNALS)
"""The signals held back while a file is being finished: Ctrl-C, SIGTERM and SIGHUP."""
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
DEFAULT_PRESET = "faster"


@dataclass(frozen=True)
class Codec:
    """An ffmpeg encoder with the settings this tool uses for it."""

    name: str
    encoder: str
    pixel_format: str
    containers: tuple[str, ...]

    def quality_options(self, quality: int, preset: str = DEFAULT_PRESET) -> list[str]:
        """Encoder options for ``quality`` in 1..100 (higher is better and larger).

        ``preset`` is x264/x265's speed preset: on a machine where rendering already keeps every
        core busy, a faster preset is what lets encoding overlap with rendering.
        """
        if self.name == "prores":
            return ["-profile:v", "1" if quality < 50 else "2" if quality < 75 else "3"]
        if self.name == "av1":
            return ["-preset", "8", "-crf", str(round(60 - 0.45 * quality))]
        crf = str(round(40 - 0.3 * quality))
        tag = ["-tag:v", "hvc1"] if self.name == "h265" else []
        return ["-preset", preset, "-crf", crf, *tag]


CODECS = {
    "h264": Codec("h264", "libx264", "yuv420p", VIDEO_SUFFIXES),
    "h265": Codec("h265", "libx265", "yuv420p", VIDEO_SUFFIXES),
    "prores": Codec("prores", "prores_ks", "yuv422p10le", (".mov", ".mkv")),
    "av1": Codec("av1", "libsvtav1", "yuv420p", (".mp4", ".mkv")),
}


@functools.cache
def ffmpeg() -> str:
    import imageio_ffmpeg  # here, not at the top: `metamorph play` reads this module but writes no video

    return imageio_ffmpeg.get_ffmpeg_exe()


def partials_of(path: Path) -> list[Path]:
    """The unfinished files of ``path``: its kept partial, and the files of runs killed (or still
    running) while writing it."""
    own = re.compile(re.escape(path.name) + r"(\.\d+-[0-9a-f]+)?" + re.escape(PARTIAL_SUFFIX))
    candidates = path.parent.glob(glob.escape(path.name) + "*" + PARTIAL_SUFFIX)
    return sorted(candidate for candidate in candidates if own.fullmatch(candidate.name))


@contextlib.contextmanager
def finishing(what: str) -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP back while a file is being finished (ffmpeg's trailer, a
    join, a mux, the rename), then deliver them to the handlers they had: stopping half-way would
    leave neither a whole file nor a playable partial. A signal held back is logged."""
    if threading.current_thread() is not threading.main_thread():  # only it receives signals
        yield
        return
    held: list[int] = []
    previous = {number: signal.getsignal(number) for number in DEFERRED}
    for number in DEFERRED:
        signal.signal(number, lambda arrived, frame: held.append(arrived))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        if held:
            log.warning("%s arrived while %s; that was done first", signal.Signals(held[0]).name, what)
        for arrived in dict.fromkeys(held):
            signal.raise_signal(arrived)


def run_ffmpeg(arguments: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a writing ffmpeg to its end in its own session: Ctrl-C, which a terminal sends to
    metamorph's whole process group, never kills a join or a mux half-way."""
    return subprocess.run([*quiet_ffmpeg(), *arguments], capture_output=True, text=True, start_new_session=True)


def save_png(image: Image.Image, path: Path, replace: bool) -> None:
    """Write ``image`` to ``path`` whole or not at all (``written``): a PNG frame or a screenshot.
    A failed write raises its ``OSError`` and leaves nothing behind."""
    save_picture(image, path, replace, compress_level=3)


def check_screenshot(path: Path | None) -> Path | None:
    """Refuse at start-up, in one sentence, a --screenshot the show could not write at its end:
    Pillow picks the format by the name's ending, and the folder must already be there."""
    if path is None:
        return None
    if path.suffix.lower() != ".png":
        raise UserError(f"--screenshot {path} does not end in .png; name the picture e.g. {path.with_suffix('.png')}.")
    if os.path.lexists(path) and not path.is_file():
        raise UserError(f"--screenshot {path} is not a file (a folder, a FIFO or a device); name a .png file.")
    folder = path.parent
    if not folder.is_dir():
        raise UserError(
            f"The folder {folder} of --screenshot {path} does not exist; create it or choose another --screenshot."
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"The folder {folder} of --screenshot {path} cannot be written; choose another --screenshot.")
    return path


def music_arguments(music: Path, start: float, seconds: float | None, codec: str) -> tuple[list[str], list[str]]:
    """ffmpeg's arguments that mux ``seconds`` (None: the rest) of ``music`` from ``start`` under the
    video (input 0): the input's, and the output's (its codec: PCM beside ProRes, else AAC). One
    place for a single capture and for the join of a split one, so both carry the same sound."""
    length = ["-t", f"{seconds:.6f}"] if seconds is not None else []
    inputs = ["-ss", f"{start:.6f}", *length, "-i", str(music), "-map", "0:v", "-map", "1:a"]
    return inputs, ["-c:a", "pcm_s24le" if codec == "prores" else "aac", "-b:a", "320k"]


def container_arguments(path: Path, working: Path) -> list[str]:
    """ffmpeg's arguments that write ``working`` in the container ``path``'s name asks for."""
    faststart = ["-movflags", "+faststart"] if path.suffix.lower() in (".mp4", ".mov") else []
    return [*faststart, "-f", MUXERS[path.suffix.lower()], str(working)]


def quiet_ffmpeg() -> list[str]:
    """The start of every ffmpeg command that writes: errors only, outputs replaced."""
    return [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y"]


@functools.cache
def encoders() -> frozenset[str]:
    """Names of the encoders this ffmpeg has."""
    listing = subprocess.run([ffmpeg(), "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    return frozenset(match[1] for match in re.finditer(r"^\s*[VAS][\w.]{5}\s+(\S+)", listing, re.MULTILINE))


def check_codec(codec: Codec, path: Path, size: tuple[int, int]) -> None:
    """Refuse, before any rendering, what this codec, container or ffmpeg cannot do."""
    if codec.encoder not in encoders():
        raise UserError(
            f"The ffmpeg in use ({ffmpeg()}) has no {codec.encoder} encoder for --codec {codec.name}; "
            "choose another --codec or upgrade imageio-ffmpeg."
        )
    if path.suffix.lower() not in codec.containers:
        raise UserError(
            f"--codec {codec.name} cannot be stored in a {path.suffix} file; name the output "
            f"{' or '.join(path.with_suffix(s).name for s in codec.containers)}."
        )
    width, height = size
    if width % 2 or height % 2:
        raise UserError(
            f"--size {width}x{height} is refused: {codec.name} video ({codec.pixel_format}) needs an even width "
            f"and height; use --size {width - width % 2}x{height - height % 2}."
        )


@dataclass(frozen=True)
class Media:
    """What ffmpeg says a file holds."""

    duration: float | None
    audio: bool
    video: bool


def probe(path: Path) -> Media:
    """Read a media file's duration and streams (ffmpeg alone, no ffprobe needed)."""
    result = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    text = result.stderr
    duration = re.search(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)", text)
    seconds = None if duration is None else int(duration[1]) * 3600 + int(duration[2]) * 60 + float(duration[3])
    return Media(seconds, bool(re.search(r"Stream #.*: Audio:", text)), bool(re.search(r"Stream #.*: Video:", text)))


def probe_audio(path: Path) -> float:
    """The duration in seconds of a music file, or one sentence saying why it is not one."""
    if not path.exists():
        raise UserError(f"The audio file {path} does not exist; give the path of a WAV, FLAC or MP3 file.")
    if not path.is_file():
        raise UserError(f"The audio file {path} is not a regular file; give the path of a WAV, FLAC or MP3 file.")
    media = probe(path)
    if not media.audio or not media.duration:
        raise UserError(f"The audio file {path} holds no sound ffmpeg can read; give a WAV, FLAC or MP3 file.")
    return media.duration


class VideoWriter:
    """Frames piped into ffmpeg, with music muxed in when given.

    The video grows under this run's own ``run_partial(path)`` and takes its final name in
    ``close``; ``force`` lets it replace a video already there.
    """

    def __init__(
        self,
        path: Path,
        size: tuple[int, int],
        fps: float,
        codec: Codec,
        quality: int,
        audio: Path | None = None,
        audio_start: float = 0.0,
        duration: float | None = None,
        preset: str = DEFAULT_PRESET,
        force: bool = False,
    ) -> None:
        self.path = path
        self.force = force
        self.working = run_partial(path)
        self.frames = 0
        command = [
            *quiet_ffmpeg(),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{size[0]}x{size[1]}",
            "-framerate",
            f"{fps}",
            "-i",
            "-",
        ]
        music = music_arguments(audio, audio_start, duration, codec.name) if audio is not None else ([], [])
        command += music[0]
        command += ["-c:v", codec.encoder, "-pix_fmt", codec.pixel_format, *codec.quality_options(quality, preset)]
        command += [*music[1], *container_arguments(path, self.working)]
        # ffmpeg's messages go to a file: a pipe read only on failure could fill and stall ffmpeg.
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=self._stderr, start_new_session=True)
        assert self._process.stdin is not None
        self._stdin = self._process.stdin
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=3)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._pump, name="video-writer", daemon=True)
        self._thread.start()

    def write(self, frame: bytes) -> None:
        if self._error is not None:
            raise self._failure()
        self._queue.put(frame)
        self.frames += 1

    def _pump(self) -> None:
        try:
            while (frame := self._queue.get()) is not None:
                self._stdin.write(frame)
        except BaseException as error:  # a dead ffmpeg: reported by write() and close()
            self._error = error
            while self._queue.get() is not None:
                pass

    def close(self, complete: bool = True) -> Path:
        """Finish the file (ffmpeg gets end of input and writes its trailer); return where it is.

        A ``complete`` video then takes its final name; an interrupted capture passes
        ``complete=False`` and its video becomes the kept ``NAME.partial``: playable, never taken
        for a whole one.
        """
        self._queue.put(None)
        self._thread.join()
        with contextlib.suppress(BrokenPipeError):
            self._stdin.close()
        code = self._process.wait()
        if code != 0 or self._error is not None:
            raise self._failure()
        if not complete:
            return keep_partial(self.working, self.path, self.force)
        return publish(self.working, self.path, self.force)

    def discard(self) -> None:
        """After a failure elsewhere: stop ffmpeg and remove the unfinished file."""
        self._queue.put(None)
        self._thread.join()
        with contextlib.suppress(OSError):
            self._stdin.close()
        self._process.kill()
        self._process.wait()
        self.working.unlink(missing_ok=True)

    def _failure(self) -> UserError:
        """The reason ffmpeg stopped, as one sentence; its unplayable output is removed."""
        self._process.wait()
        self.working.unlink(missing_ok=True)
        self._stderr.seek(0)
        reason = ffmpeg_reason(self._stderr.read().decode(errors="replace"))
        reason = reason or f"ffmpeg exited with code {self._process.returncode}"
        return UserError(f"ffmpeg could not write {self.path} ({reason}); check the path, disk space and --codec.")


class FrameFolder:
    """Frames saved as ``frame_000000.png`` ... by a small pool of threads (Pillow frees the GIL)."""

    def __init__(self, folder: Path, size: tuple[int, int], first: int = 0) -> None:
        self.folder = folder
        self.size = size
        self.frames = 0
        self._index = first
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="png-writer")
        self._pending: list[Future[None]] = []
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, frame: bytes) -> None:
        while self._pending and (len(self._pending) >= 4 or self._pending[0].done()):
            self._outcome(self._pending.pop(0))  # at most 4 frames in memory; errors surface here
        path = self.folder / frame_name(self._index)
        self._pending.append(self._pool.submit(self._save, frame, path))
        self._index += 1
        self.frames += 1

    def _save(self, frame: bytes, path: Path) -> None:
        """Whole or absent, never cut (``save_png``); an older frame of the name is replaced, since
        the folder was emptied (or --force given) for this run."""
        try:
            save_png(Image.frombytes("RGB", self.size, frame), path, replace=True)
        except OSError as error:
            raise UserError(
                f"The frame {path} could not be written ({error.strerror or error}); free disk space or choose another --out."
            ) from error

    def _outcome(self, future: Future[None]) -> None:
        """A frame's result; after a failure the frames already being written finish first, so
        the folder holds only whole frames when the error is reported."""
        try:
            future.result()
        except UserError:
            self._pool.shutdown(wait=True, cancel_futures=True)
            raise

    def close(self, complete: bool = True) -> Path:
        """Wait for the frames still being written and return the folder; every saved frame is
        whole, ``complete`` or not (the argument is the video sink's, so either sink closes alike)."""
        for future in self._pending:
            self._outcome(future)
        self._pool.shutdown()
        return self.folder

    def discard(self) -> None:
        """After a failure elsewhere: stop writing; the frames already saved are whole and stay."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def frame_name(index: int) -> str:
    return f"frame_{index:06d}.png"


def concat(parts: list[Path], out: Path, force: bool) -> None:
    """Join videos rendered in ranges, stream for stream, without re-encoding.

    The joined video grows under this run's own partial name and takes the name ``out`` only when
    finished (replacing a video there only with ``force``), so a failed join leaves any older
    ``out`` as it was; an output that is one of the parts is refused, since writing it would
    destroy that part.
    """
    if out.suffix.lower() not in MUXERS:
        raise UserError(f"The output {out} is not a video file name; name it .mp4, .mov or .mkv like the parts.")
    for part in parts:
        _check_part(part, out)
    with written(out, force) as working, tempfile.TemporaryDirectory(prefix="metamorph-concat-") as folder:
        try:
            working.touch()
        except OSError as error:
            raise UserError(f"The output {out} cannot be written ({error.strerror}); choose another --out.") from error
        listing = Path(folder) / "parts.txt"
        listing.write_text("".join(f"file '{_concat_quote(part.resolve())}'\n" for part in parts))
        arguments = ["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy"]
        result = run_ffmpeg([*arguments, "-f", MUXERS[out.suffix.lower()], str(working)])
        if result.returncode != 0:
            reason = ffmpeg_reason(result.stderr) or "unknown error"
            raise UserError(
                f"ffmpeg could not join the parts into {out} ({reason}); check disk space, and that the parts share "
                "codec, size and frame rate."
            )


def _check_part(part: Path, out: Path) -> None:
    """One sentence for a part that is missing, unfinished, not a video, or the output itself."""
    if not os.path.isfile(part):
        if unfinished := partials_of(part):
            raise UserError(
                f"The part {part} was never finished (only {unfinished[0].name} exists, from an interrupted "
                "capture); capture that range again."
            )
        raise UserError(
            f"The part {part} does not exist; give the videos rendered by `metamorph capture --frames A:B`."
        )
    if part.resolve() == out.resolve() or (os.path.exists(out) and os.path.samefile(part, out)):
        raise UserError(f"The output {out} is also the part {part}, which joining would destroy; choose another --out.")
    if not probe(part).video:
        raise UserError(
            f"The part {part} holds no video ffmpeg can read; give the videos rendered by `metamorph capture`."
        )


def _concat_quote(path: Path) -> str:
    return str(path).replace("'", "'\\''")


def ffmpeg_reason(stderr: str) -> str:
    """ffmpeg's reason for failing, as a clause that fits inside one of our sentences ("" if it
    gave none).

    ffmpeg ends on a summary line that repeats the cause after its context ("Error opening input
    files: Invalid data found when processing input"), often after lines prefixed with the
    component ("[in#0 @ 0x5559...]"): the cause is the text after the last line's last ": ".
    """
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    last = re.sub(r"^(\[[^]]*\]\s*)+", "", lines[-1])
    return last.rsplit(": ", 1)[-1].strip() or last


def clear_frames(folder: Path) -> None:
    """Remove the whole frames of an earlier capture; partial files belong to other runs."""
    if folder.is_dir():
        for path in folder.glob("frame_[0-9]*.png"):
            path.unlink()
