"""Where captured frames go: a video through ffmpeg, or a folder of numbered PNGs.

Frames arrive as raw RGB bytes, top row first (``render/readback.py`` is the one place that
turns OpenGL's bottom-up rows around), so no sink flips anything.

Both sinks take raw RGB frames and do their slow work (encoding, compressing) on other threads
or in the ffmpeg process, so the renderer keeps drawing meanwhile. ffmpeg runs in its own
session: Ctrl-C reaches only metamorph, which closes ffmpeg's input, and ffmpeg finishes a
playable file with the frames it has. Even if metamorph dies, the closed pipe ends the video
cleanly. The ffmpeg used is the static build inside the imageio-ffmpeg wheel.

Nothing appears under its final name before it is complete: a video (captured or joined) grows
as ``NAME.partial`` in the same folder and is renamed when finished, so a killed capture leaves a
playable ``.partial`` that ``concat`` does not take for a whole part; each PNG frame is written
the same way, so a frame file is never half-written.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import re
import subprocess
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
from PIL import Image

from installation.errors import UserError

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")
MUXERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
"""ffmpeg's muxer for each video suffix: named explicitly, since the file grows as ``.partial``."""
PARTIAL_SUFFIX = ".partial"
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
    return imageio_ffmpeg.get_ffmpeg_exe()


def partial_path(path: Path) -> Path:
    """Where ``path`` grows until it is complete: beside it, so the final rename is atomic."""
    return path.with_name(path.name + PARTIAL_SUFFIX)


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

    The video grows under ``partial_path(path)`` and takes its final name in ``close``.
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
    ) -> None:
        self.path = path
        self.partial = partial_path(path)
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
        if audio is not None:
            command += [
                "-ss",
                f"{audio_start:.6f}",
                "-t",
                f"{duration:.6f}",
                "-i",
                str(audio),
                "-map",
                "0:v",
                "-map",
                "1:a",
            ]
        command += ["-c:v", codec.encoder, "-pix_fmt", codec.pixel_format, *codec.quality_options(quality, preset)]
        if audio is not None:
            command += ["-c:a", "pcm_s24le" if codec.name == "prores" else "aac", "-b:a", "320k"]
        if path.suffix.lower() in (".mp4", ".mov"):
            command += ["-movflags", "+faststart"]
        command += ["-f", MUXERS[path.suffix.lower()], str(self.partial)]
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
        ``complete=False`` and stays under ``self.partial``: playable, never taken for a whole one.
        """
        self._queue.put(None)
        self._thread.join()
        with contextlib.suppress(BrokenPipeError):
            self._stdin.close()
        code = self._process.wait()
        if code != 0 or self._error is not None:
            raise self._failure()
        if not complete:
            return self.partial
        _rename(self.partial, self.path)
        return self.path

    def discard(self) -> None:
        """After a failure elsewhere: stop ffmpeg and remove the unfinished file."""
        self._queue.put(None)
        self._thread.join()
        with contextlib.suppress(OSError):
            self._stdin.close()
        self._process.kill()
        self._process.wait()
        self.partial.unlink(missing_ok=True)

    def _failure(self) -> UserError:
        """The reason ffmpeg stopped, as one sentence; its unplayable output is removed."""
        self._process.wait()
        self.partial.unlink(missing_ok=True)
        self._stderr.seek(0)
        message = self._stderr.read().decode(errors="replace").strip().splitlines()
        reason = message[-1] if message else f"ffmpeg exited with code {self._process.returncode}"
        return UserError(f"ffmpeg could not write {self.path} ({reason}); check the path, disk space and --codec.")


def _rename(partial: Path, path: Path) -> None:
    """Give a finished file its final name, atomically (same folder), replacing an older one."""
    try:
        os.replace(partial, path)
    except OSError as error:
        raise UserError(
            f"The finished video {partial} cannot be renamed to {path.name} ({error.strerror}); rename it by hand."
        ) from error


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
        """Write under the partial name, then rename: a frame file is whole or absent, never cut."""
        image = Image.frombytes("RGB", self.size, frame)
        partial = partial_path(path)
        try:
            image.save(partial, format="PNG", compress_level=3)
            os.replace(partial, path)
        except OSError as error:
            partial.unlink(missing_ok=True)
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


def concat(parts: list[Path], out: Path) -> None:
    """Join videos rendered in ranges, stream for stream, without re-encoding.

    The joined video grows under its partial name and replaces ``out`` only when finished, so a
    failed join leaves any older ``out`` as it was; an output that is one of the parts is refused,
    since writing it would destroy that part.
    """
    if out.suffix.lower() not in MUXERS:
        raise UserError(f"The output {out} is not a video file name; name it .mp4, .mov or .mkv like the parts.")
    for part in parts:
        _check_part(part, out)
    partial = partial_path(out)
    try:
        partial.touch()
    except OSError as error:
        raise UserError(f"The output {out} cannot be written ({error.strerror}); choose another --out.") from error
    with tempfile.TemporaryDirectory(prefix="metamorph-concat-") as folder:
        listing = Path(folder) / "parts.txt"
        listing.write_text("".join(f"file '{_concat_quote(part.resolve())}'\n" for part in parts))
        result = subprocess.run(
            [
                *quiet_ffmpeg(),
                "-f",
                "concat",
                "-safe",
                "0",
                "-i",
                str(listing),
                "-c",
                "copy",
                "-f",
                MUXERS[out.suffix.lower()],
                str(partial),
            ],
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        reason = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise UserError(
            f"ffmpeg could not join the parts into {out} ({reason}); check disk space, and that the parts share "
            "codec, size and frame rate."
        )
    _rename(partial, out)


def _check_part(part: Path, out: Path) -> None:
    """One sentence for a part that is missing, unfinished, not a video, or the output itself."""
    if not os.path.isfile(part):
        if os.path.isfile(partial_path(part)):
            raise UserError(
                f"The part {part} was never finished (only {partial_path(part).name} exists, from an interrupted "
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
