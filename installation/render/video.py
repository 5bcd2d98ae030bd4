"""Where captured frames go: a video through ffmpeg, or a folder of numbered PNGs.

Both sinks take raw RGB frames and do their slow work (encoding, compressing) on other threads
or in the ffmpeg process, so the renderer keeps drawing meanwhile. ffmpeg runs in its own
session: Ctrl-C reaches only metamorph, which closes ffmpeg's input, and ffmpeg finishes a
playable file with the frames it has. Even if metamorph dies, the closed pipe ends the video
cleanly. The ffmpeg used is the static build inside the imageio-ffmpeg wheel.
"""

from __future__ import annotations

import contextlib
import functools
import queue
import re
import subprocess
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
from PIL import Image

from installation.errors import UserError

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")
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
    if not path.is_file():
        raise UserError(f"The audio file {path} does not exist; give the path of a WAV, FLAC or MP3 file.")
    media = probe(path)
    if not media.audio or not media.duration:
        raise UserError(f"The audio file {path} holds no sound ffmpeg can read; give a WAV, FLAC or MP3 file.")
    return media.duration


class VideoWriter:
    """Frames piped into ffmpeg, with music muxed in when given."""

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
        bottom_up: bool = True,
        preset: str = DEFAULT_PRESET,
    ) -> None:
        self.path = path
        self.frames = 0
        command = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
                   "-s", f"{size[0]}x{size[1]}", "-framerate", f"{fps}", "-i", "-"]
        if audio is not None:
            command += ["-ss", f"{audio_start:.6f}", "-t", f"{duration:.6f}", "-i", str(audio), "-map", "0:v", "-map", "1:a"]
        if bottom_up:
            command += ["-vf", "vflip"]
        command += ["-c:v", codec.encoder, "-pix_fmt", codec.pixel_format, *codec.quality_options(quality, preset)]
        if audio is not None:
            command += ["-c:a", "pcm_s24le" if codec.name == "prores" else "aac", "-b:a", "320k"]
        if path.suffix.lower() in (".mp4", ".mov"):
            command += ["-movflags", "+faststart"]
        command.append(str(path))
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
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
                self._process.stdin.write(frame)
        except BaseException as error:  # a dead ffmpeg: reported by write() and close()
            self._error = error
            while self._queue.get() is not None:
                pass

    def close(self) -> None:
        """Finish the file: ffmpeg gets end of input and writes its trailer."""
        self._queue.put(None)
        self._thread.join()
        with contextlib.suppress(BrokenPipeError):
            self._process.stdin.close()
        code = self._process.wait()
        if code != 0 or self._error is not None:
            raise self._failure()

    def _failure(self) -> UserError:
        self._process.wait()
        message = self._process.stderr.read().decode(errors="replace").strip().splitlines()
        reason = message[-1] if message else f"ffmpeg exited with code {self._process.returncode}"
        return UserError(f"ffmpeg could not write {self.path} ({reason}); check the path, disk space and --codec.")


class FrameFolder:
    """Frames saved as ``frame_000000.png`` ... by a small pool of threads (Pillow frees the GIL)."""

    def __init__(self, folder: Path, size: tuple[int, int], first: int = 0, bottom_up: bool = True) -> None:
        self.folder = folder
        self.size = size
        self.frames = 0
        self._index = first
        self._bottom_up = bottom_up
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="png-writer")
        self._pending: list[Future[None]] = []
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, frame: bytes) -> None:
        while self._pending and (len(self._pending) >= 4 or self._pending[0].done()):
            self._pending.pop(0).result()  # at most 4 frames in memory; errors surface here
        path = self.folder / frame_name(self._index)
        self._pending.append(self._pool.submit(self._save, frame, path))
        self._index += 1
        self.frames += 1

    def _save(self, frame: bytes, path: Path) -> None:
        image = Image.frombytes("RGB", self.size, frame)
        if self._bottom_up:
            image = image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        image.save(path, compress_level=3)

    def close(self) -> None:
        for future in self._pending:
            future.result()
        self._pool.shutdown()


def frame_name(index: int) -> str:
    return f"frame_{index:06d}.png"


def concat(parts: list[Path], out: Path) -> None:
    """Join videos rendered in ranges, stream for stream, without re-encoding."""
    for part in parts:
        if not part.is_file():
            raise UserError(f"The part {part} does not exist; give the videos rendered by `metamorph capture --frames A:B`.")
        if not probe(part).video:
            raise UserError(f"The part {part} holds no video ffmpeg can read; give the videos rendered by `metamorph capture`.")
    listing = out.with_name(f".{out.name}.parts.txt")
    listing.write_text("".join(f"file '{_concat_quote(part.resolve())}'\n" for part in parts))
    try:
        result = subprocess.run(
            [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
             "-c", "copy", str(out)],
            capture_output=True, text=True,
        )
    finally:
        listing.unlink(missing_ok=True)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise UserError(f"ffmpeg could not join the parts into {out} ({reason}); the parts must share codec, size and frame rate.")


def _concat_quote(path: Path) -> str:
    return str(path).replace("'", "'\\''")
