"""The show as an NDI source: frames (UYVY, or BGRA with alpha), time codes, metadata and sound.

The binding is ``ndi-python`` (module ``NDIlib``, MIT; the optional extra ``ndi``). Its wheels
(CPython 3.11-3.15 on Linux x64/aarch64, Windows x64 and macOS arm64) carry the NDI runtime
(``libndi.so`` 6.3.2 on Linux, with ``libndi_licenses.txt``), so ``pip install`` is all a machine
needs, and it is a one-to-one binding of the SDK's C API: asynchronous video send, connection
metadata, the number of connections, planar float audio. ``cyndilib`` (MIT, Cython) was checked
too: its 0.1.3 x86-64 Linux wheel also carries libndi 6.3.2, but it wraps the SDK in its own
object model (and needs ``pugixml-cython``) and the project's measurements were made with
``ndi-python``; it is not used. One trade-off to watch: ndi-python keeps the GIL during
``send_send_video_async_v2``, which returns at once unless NDI is still compressing the previous
frame (measured here, 1920x1080 UYVY of noise paced at 60 fps: median 0.2 ms a call, at worst
5 ms; compressing one such frame takes about 6 ms); cyndilib sends without the GIL, the
alternative if the render thread is ever seen waiting on it.

The NDI runtime is Vizrt NDI AB's, under the NDI SDK licence (http://ndi.link/ndisdk_license):
the binary may be shipped inside an application (as the wheel does) with its licence file, and a
product that uses it must say "NDI® is a registered trademark of Vizrt NDI AB" and link to
https://ndi.video/.

Facts measured on these machines: mDNS discovery does not see a sender on this machine, but a
finder created with ``extra_ips="127.0.0.1"`` does; a second sender with a name that a source
on the machine already has is refused by ``send_create`` (libndi 6.3.2 returns nothing, it does
not append " (2)"), so ``open_ndi`` names the other source in one warning line and sends as
"NAME (2)" (an NDI runtime that renames the source itself is said the same way).

``NdiSender`` is a pixel output of the frame loop (``write(frame)``): it sits behind a live
``Readback`` of ``PixelFormat.UYVY`` (or ``BGRA`` with alpha), whose ``Dropping`` thread calls
``write``; each frame goes out with NDI's asynchronous send and the clock off, so a call returns
as soon as NDI has taken the previous frame. The other methods (``describe``, ``receivers``,
``send_audio``) may be called from the render thread or the audio thread.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from types import ModuleType
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

from installation.errors import UserError
from installation.render.readback import PixelFormat

log = logging.getLogger(__name__)

NO_NDI = (
    "NDI needs the ndi-python binding with its NDI runtime, which is not installed here: run pip install -e '.[ndi]'."
)
"""The one sentence said when ``NDIlib`` or its ``libndi`` does not load."""

LOOPBACK = "127.0.0.1"
"""The finder's extra IP that makes a sender on this machine visible (mDNS alone does not here)."""

TIMECODE_UNITS = 10_000_000
"""NDI time codes count 100 ns units."""

_FORMATS = {PixelFormat.UYVY: "FOURCC_VIDEO_TYPE_UYVY", PixelFormat.BGRA: "FOURCC_VIDEO_TYPE_BGRA"}
_ndi_module: ModuleType | None = None


def load_ndi() -> Any:
    """The initialised ``NDIlib`` module, or the ``UserError`` that says how to install it."""
    global _ndi_module
    if _ndi_module is not None:
        return _ndi_module
    try:
        import NDIlib  # libndi.so is loaded here: a missing or broken runtime fails here too
    except (ImportError, OSError) as error:
        raise UserError(NO_NDI) from error
    if not NDIlib.initialize():
        raise UserError(
            "The NDI runtime does not run on this CPU (it needs SSE4.2 on x86); send the show from another machine."
        )
    _ndi_module = NDIlib
    return NDIlib


@dataclass(frozen=True)
class Source:
    """An NDI source on the network: its full name ("HOST (name)") and address ("ip:port")."""

    name: str
    address: str


def list_sources(timeout: float = 2.0, extra_ips: str | None = LOOPBACK) -> list[Source]:
    """The NDI sources seen within ``timeout`` seconds, sorted by name.

    ``extra_ips`` (comma-separated) are asked directly besides mDNS: machines on other subnets,
    and 127.0.0.1 for the senders on this one."""
    return _find(timeout, extra_ips)


def _find(timeout: float, extra_ips: str | None, until: Any = None) -> list[Source]:
    """The sources seen within ``timeout`` s, or as soon as ``until(sources)`` is true."""
    ndi = load_ndi()
    finder = ndi.find_create_v2(ndi.FindCreate(True, None, extra_ips or None))
    if finder is None:
        raise UserError("NDI could not start looking for sources; check that the network is up and try again.")
    sources: list[Source] = []
    try:
        deadline = time.monotonic() + max(timeout, 0.0)
        while (left := deadline - time.monotonic()) > 0:
            if ndi.find_wait_for_sources(finder, max(1, int(left * 1000))) or not sources:
                found = ndi.find_get_current_sources(finder)
                sources = [Source(source.ndi_name or "", source.url_address or "") for source in found]
                if until is not None and until(sources):
                    break
    finally:
        ndi.find_destroy(finder)
    return sorted(sources, key=lambda source: source.name)


def ndi_command(timeout: float = 2.0, extra_ips: str | None = LOOPBACK) -> int:
    """``metamorph ndi``: print the NDI sources as a table; 0 when some were found, 1 when none."""
    sources = list_sources(timeout, extra_ips)
    asked = f" and at {extra_ips}" if extra_ips else ""
    if not sources:
        print(
            f"No NDI sources seen in {timeout:g} s (mDNS{asked}); a sender on another subnet needs --extra-ips ITS_IP."
        )
        return 1
    width = max(len("NAME"), *(len(source.name) for source in sources))
    print(f"{'NAME':<{width}}  ADDRESS")
    for source in sources:
        print(f"{source.name:<{width}}  {source.address}")
    print(f"{len(sources)} source{'s' if len(sources) != 1 else ''} seen in {timeout:g} s (mDNS{asked}).")
    return 0


def frame_rate(fps: float | Fraction) -> tuple[int, int]:
    """NDI's frame_rate_N / frame_rate_D for ``fps``: 60 -> 60/1, 29.97 -> 30000/1001."""
    if isinstance(fps, Fraction):
        rate = fps
    elif abs(fps - round(fps)) < 1e-6:
        rate = Fraction(round(fps))
    elif abs(fps * 1001 / 1000 - round(fps * 1001 / 1000)) < 1e-3:
        rate = Fraction(round(fps * 1001 / 1000) * 1000, 1001)
    else:
        rate = Fraction(fps).limit_denominator(1001)
    if rate <= 0:
        raise UserError(f"The NDI frame rate {float(rate):g} is not positive; use the show's --fps, e.g. 60.")
    return rate.numerator, rate.denominator


def timecode(number: int, rate: tuple[int, int]) -> int:
    """The NDI time code (100 ns units) of frame ``number`` at ``rate`` = (N, D) frames a second."""
    numerator, denominator = rate
    return number * TIMECODE_UNITS * denominator // numerator


def metadata_xml(show: str, sequence: str, keyframe: int) -> str:
    """The NDI metadata that labels the source in a mixer: one XML element."""
    return f"<metamorph show={quoteattr(show)} sequence={quoteattr(sequence)} keyframe={quoteattr(str(keyframe))}/>"


class NdiSender:
    """One NDI source: a pixel output (``write``) plus the show's metadata, sound and receiver count.

    Made by ``open_ndi``. ``sent`` counts the frames NDI took, ``failed`` those it refused (said
    once in the log; the show goes on); frames the readback dropped never reach it.
    """

    def __init__(
        self,
        ndi: Any,
        instance: Any,
        name: str,
        size: tuple[int, int],
        rate: tuple[int, int],
        pixel_format: PixelFormat,
        show: str,
    ) -> None:
        self._ndi = ndi
        self._instance = instance
        self.name = name
        """The name asked for, as NDI took it (with " (2)" when the first was taken)."""
        self.full_name: str = ndi.send_get_source_name(instance).ndi_name
        """The name receivers see: "HOST (name)"."""
        self.size = size
        self.rate = rate
        self.format = pixel_format
        self.show = show
        self.sent = 0
        self.failed = 0
        self.audio_sent = 0
        """Audio samples (per channel) NDI took."""
        width, height = size
        self._shape = (height, width, pixel_format.bytes_per_pixel)
        self._frame_bytes = width * height * pixel_format.bytes_per_pixel
        self._fourcc = getattr(ndi, _FORMATS[pixel_format])
        self._origin = time.monotonic()
        self._last_number = -1
        self._in_flight: Any = None  # the frame NDI may still be reading: kept alive until the next send
        self._metadata = metadata_xml(show, "", 0)
        self._connection_metadata: str | None = None
        self._audio_start: int | None = None
        self._audio_rate = 0
        self._audio_samples = 0
        self._video_lock = threading.Lock()
        self._audio_lock = threading.Lock()
        self._closed = False
        self._said_failure = False
        self._set_connection_metadata()

    # The frame loop's side -------------------------------------------------------------------

    def write(self, frame: bytes) -> None:
        """Send one frame of packed pixels (rows top first), numbered by the show's clock: the
        time since the sender opened in frames of its rate, so a dropped frame leaves a gap in
        the time codes as it leaves one in time."""
        self.send(frame)

    def send(self, frame: bytes, number: int | None = None) -> None:
        """Send one frame with the time code of frame ``number`` (by default the show's clock)."""
        if len(frame) != self._frame_bytes:
            raise ValueError(
                f"an NDI frame of {self.size[0]}x{self.size[1]} {self.format} is {self._frame_bytes} bytes, not {len(frame)}"
            )
        with self._video_lock:
            if self._closed:
                return
            if number is None:
                elapsed = time.monotonic() - self._origin
                number = max(round(elapsed * self.rate[0] / self.rate[1]), self._last_number + 1)
            self._last_number = number
            try:
                if self._connection_metadata != self._metadata:
                    self._set_connection_metadata()
                video = self._ndi.VideoFrameV2(
                    FourCC=self._fourcc,
                    frame_rate_N=self.rate[0],
                    frame_rate_D=self.rate[1],
                    timecode=timecode(number, self.rate),
                    p_metadata=self._metadata,
                )
                video.data = np.frombuffer(frame, dtype=np.uint8).reshape(self._shape)  # sets size and stride
                self._ndi.send_send_video_async_v2(self._instance, video)
            except Exception as error:  # NDI's fault never reaches the show: said once, counted
                self._failure("a frame", error)
                return
            self._in_flight = video  # NDI reads the previous frame until this call returns
            self.sent += 1

    def describe(self, sequence: str, keyframe: int) -> None:
        """Label the source: the show's name, its sequence and keyframe, as NDI metadata on each
        frame from the next one on and as the connection metadata a new receiver gets first."""
        self._metadata = metadata_xml(self.show, sequence, keyframe)

    @property
    def metadata(self) -> str:
        """The XML sent with each frame."""
        return self._metadata

    @property
    def receivers(self) -> int:
        """The number of receivers connected now (asked without waiting)."""
        if self._closed:
            return 0
        try:
            return int(self._ndi.send_get_no_connections(self._instance, 0))
        except Exception:
            return 0

    def send_audio(self, samples: np.ndarray, rate: int) -> None:
        """Send a block of the show's sound: ``samples`` planar (channels x samples; a 1-D block
        is mono), float32 in -1..1, at ``rate`` Hz. Its time code follows on from the last
        block's, starting at the show's clock when the sound starts (or changes rate)."""
        planar = np.ascontiguousarray(np.atleast_2d(samples), dtype=np.float32)
        if planar.ndim != 2 or planar.shape[1] == 0:
            return
        with self._audio_lock:
            if self._closed:
                return
            if self._audio_start is None or rate != self._audio_rate:
                self._audio_start = round((time.monotonic() - self._origin) * TIMECODE_UNITS)
                self._audio_rate = rate
                self._audio_samples = 0
            try:
                audio = self._ndi.AudioFrameV2(
                    sample_rate=rate,
                    timecode=self._audio_start + self._audio_samples * TIMECODE_UNITS // rate,
                )
                audio.data = planar  # sets channels, samples and stride
                self._ndi.send_send_audio_v2(self._instance, audio)
            except Exception as error:
                self._failure("a block of sound", error)
                return
            self._audio_samples += planar.shape[1]
            self.audio_sent += planar.shape[1]

    def close(self) -> None:
        """Let NDI finish the frame in flight, then end the source (receivers see it go)."""
        with self._video_lock, self._audio_lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._ndi.send_send_video_async_v2(self._instance, None)  # waits for the last frame
            finally:
                self._in_flight = None
                self._ndi.send_destroy(self._instance)

    def __enter__(self) -> NdiSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------

    def _set_connection_metadata(self) -> None:
        metadata = self._metadata
        self._ndi.send_clear_connection_metadata(self._instance)
        self._ndi.send_add_connection_metadata(self._instance, self._ndi.MetadataFrame(p_data=metadata))
        self._connection_metadata = metadata

    def _failure(self, what: str, error: Exception) -> None:
        self.failed += 1
        if not self._said_failure:
            self._said_failure = True
            log.warning("NDI refused %s (%s); the show goes on, refused frames are counted.", what, error)


def open_ndi(
    name: str,
    size: tuple[int, int],
    fps: float | Fraction,
    pixel_format: PixelFormat = PixelFormat.UYVY,
    groups: str | None = None,
    show: str | None = None,
) -> NdiSender:
    """Open the NDI source ``name`` for frames of ``size`` at ``fps`` in ``pixel_format`` (UYVY, or
    BGRA for alpha); ``groups`` are NDI groups (comma-separated; None is NDI's public group),
    ``show`` the show's name in the metadata (``name`` by default).

    A name already used by a source on this machine is said in one warning line and the source
    is sent as "NAME (2)" (or the next free number)."""
    if pixel_format not in _FORMATS:
        raise UserError(f"NDI takes UYVY or BGRA frames, not {pixel_format}; use UYVY, or BGRA for alpha.")
    width, height = size
    if pixel_format is PixelFormat.UYVY and width % 2:
        raise UserError(f"NDI's UYVY needs an even width, not {width}; use --ndi-size {width + 1}x{height}.")
    if not name.strip():
        raise UserError("The NDI source name is empty; give one, e.g. --ndi metamorph.")
    rate = frame_rate(fps)
    ndi = load_ndi()
    instance = None
    used: Source | None = None
    taken = name
    for attempt in range(1, 10):
        taken = name if attempt == 1 else f"{name} ({attempt})"
        instance = ndi.send_create(ndi.SendCreate(taken, groups, False, False))  # clocks off: never waits
        if instance is not None:
            break
        clash = _same_name(taken)
        if clash is None:
            break
        used = used or clash
    if instance is None:
        raise UserError(
            f"NDI could not create the source {taken!r}; check the name (letters, digits, spaces) and the network."
        )
    sender = NdiSender(ndi, instance, taken, size, rate, pixel_format, show or name)
    if used is not None:
        log.warning(
            "The NDI name %r is already used by %s at %s; this show is sent as %r.",
            name,
            used.name,
            used.address,
            sender.full_name,
        )
    elif not sender.full_name.endswith(f"({name})"):
        log.warning(
            "The NDI name %r is already used on the network; NDI sends this show as %r.", name, sender.full_name
        )
    return sender


def _same_name(name: str) -> Source | None:
    """The source on this machine (or the network) that already uses ``name``, if one is seen."""

    def has(sources: list[Source]) -> bool:
        return any(source.name.endswith(f"({name})") for source in sources)

    for source in _find(1.5, LOOPBACK, until=has):
        if source.name.endswith(f"({name})"):
            return source
    return None
