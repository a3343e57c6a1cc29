"""Sound cues and guide tones on pygame.mixer, with a silent fallback.

The mixer is opened at start and closed again while the device is idle (`sleep()`): an
open mixer keeps SDL's audio thread feeding silence to the device, some 50 wake-ups a
second, all day. The service wakes it (`wake()`, in the background) at the first sign of
a session (a button going down, a request, a pulse), ahead of the first cue; a cue asked
for while it is still opening waits for it (at most WAKE_WAIT_S). Mixer settings:

- 44.1 kHz, signed 16-bit, MONO: the cues are mono, the device has one
  speaker, mono halves the mixing work, and SDL upmixes to the device's
  channels when it needs stereo (allowedchanges=0: SDL converts, so our PCM
  always matches the mixer format and guide tones can be handed over as raw
  bytes).
- buffer = audio.buffer_samples (default 1024 frames = 23 ms at 44.1 kHz).
  Smaller buffers (256/512) underrun and crackle with pygame on a Pi under
  systemd when the CPU is busy (a frame render, an SD-card write); 1024 keeps a
  comfortable margin while a cue still starts within ~50 ms of play() (one
  buffer here plus the device's own period), well inside what feels "at once".
- audio.driver sets SDL_AUDIODRIVER before the mixer opens. A systemd service
  has no desktop session (no PulseAudio/PipeWire user daemon), so "alsa" is the
  right choice there; "" lets SDL pick (fine on a desktop).

With background=True (the service), the mixer is opened in a thread of its own: importing
pygame and opening the device take seconds on a slow CPU, and the service tells systemd it is
ready without waiting for them; cues asked for meanwhile are silent.

pygame takes Python's GIL in SDL's audio thread whenever a voice finishes (to drop its
reference to the Sound), inside the mixing callback: a Python thread that keeps the GIL delays
the next buffer, and a delay longer than the device's buffer is an underrun (a gap). Python
hands the GIL over only after a waiter has asked for sys.getswitchinterval() (5 ms); with the
mixer open the interval is GIL_SWITCH_S, so the audio thread gets it within a millisecond or
two of asking, even on a slow CPU.

No device, or one that fails later (pygame.error): ONE warning, then silence;
a new attempt is made on the next play at most every RETRY_SECONDS of the
injected clock's monotonic time, and one info line when the sound is back.
play() and play_guide() never raise.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from .. import sounds
from ..clock import Clock
from .guide_tones import GuideTones

LOG = logging.getLogger("breathring.audio")

#: Wait this long (monotonic seconds) between attempts to reopen a failed device.
RETRY_SECONDS = 60.0
MIXER_FREQUENCY = sounds.SAMPLE_RATE
MIXER_SIZE = -16  # signed 16-bit
MIXER_CHANNELS = sounds.CHANNELS  # mono: see the module docstring
#: Number of mixer channels (voices); one is reserved for guide tones.
MIXER_VOICES = 8
GUIDE_VOICE = 0
#: stop() fades out over this long instead of cutting (a cut clicks).
STOP_FADE_MS = 120
#: close() waits at most this long for a background open still under way.
CLOSE_WAIT_S = 0.5
#: A cue asked for while the mixer is waking waits at most this long for it.
WAKE_WAIT_S = 0.5
#: The GIL's switch interval while the mixer is open (see the module docstring).
GIL_SWITCH_S = 0.001
ASSETS_ENV = "BREATHRING_ASSETS"


class AudioSettings(Protocol):
    """The [audio] config section fields used here (config.AudioConfig)."""

    enabled: bool
    driver: str
    device: str
    cues_dir: str
    buffer_samples: int


def bundled_assets_dir() -> Path:
    """Where the bundled cue WAVs are.

    $BREATHRING_ASSETS if set; else breathring/assets inside the package (an
    installed wheel, if it bundles them); else the repo's assets/ next to firmware/.
    """
    env = os.environ.get(ASSETS_ENV)
    if env:
        return Path(env)
    package = Path(__file__).resolve().parents[1]
    inside = package / "assets"
    if inside.is_dir():
        return inside
    return package.parents[1] / "assets"


def _clamp_volume(volume: float) -> float:
    if not isinstance(volume, int | float) or math.isnan(volume):
        return 0.0
    return min(1.0, max(0.0, float(volume)))


#: SDL hint: SDL must not install its own SIGINT/SIGTERM handlers when the mixer opens.
#: They only post an SDL_QUIT event nobody reads, so a SIGTERM caught by them is lost
#: and the service never stops; the service's own handlers must be the only ones.
SDL_NO_SIGNAL_HANDLERS = "SDL_NO_SIGNAL_HANDLERS"


#: pygame looks for its data files through setuptools' pkg_resources when it can import it,
#: which costs some 11 MB of resident memory for the service's whole life; without it pygame
#: uses its own file lookup (the cues are loaded by path anyway).
SKIPPED_ON_IMPORT = "pkg_resources"


def _import_pygame() -> Any:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    os.environ[SDL_NO_SIGNAL_HANDLERS] = "1"
    skip = SKIPPED_ON_IMPORT not in sys.modules
    if skip:
        sys.modules[SKIPPED_ON_IMPORT] = None  # type: ignore[assignment]  # ImportError inside
    try:
        import pygame  # lazy: heavy, and hardware
    finally:
        if skip:
            del sys.modules[SKIPPED_ON_IMPORT]
    return pygame


class SilentAudio:
    """The Audio interface doing nothing (audio.enabled = false)."""

    available = False

    def play(self, cue: str, volume: float) -> None:
        """Play nothing."""

    def play_guide(self, kind: str, seconds: float, volume: float) -> None:
        """Play nothing."""

    def prepare_guide(self, kind: str, seconds: float) -> None:
        """Render nothing."""

    def stop(self) -> None:
        """Nothing to stop."""

    def close(self) -> None:
        """Nothing to release."""

    def sleep(self) -> bool:
        """Nothing to close."""
        return True

    def wake(self) -> None:
        """Nothing to open."""


class PygameAudio:
    """Cues and guide tones through pygame.mixer; silent while the device is unusable."""

    def __init__(
        self,
        settings: AudioSettings,
        clock: Clock,
        log: logging.Logger | None = None,
        *,
        background: bool = False,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._log = log or LOG
        self._pygame: Any = None
        self._open = False
        self._closed = False
        #: Closed while idle by sleep(); the next wake() or play() opens the mixer again.
        self._asleep = False
        #: True once a wake() has started an opener (cues wait for it; the first open's do not).
        self._waking = False
        self._warned = False
        self._last_attempt: float | None = None
        self._sounds: dict[str, Any] = {}
        self._guides = GuideTones()
        self._complained: set[str] = set()
        #: How many times the mixer was asked to open (for tests and status).
        self.open_attempts = 0
        self._opener: threading.Thread | None = None
        if background:
            self._opener = threading.Thread(
                target=self._open_at_start, name="breathring-audio-open", daemon=True
            )
            self._opener.start()
        else:
            self._try_open()

    def _open_at_start(self) -> None:
        """The service's first open, in the background: one line once the sound is ready."""
        started = self._clock.monotonic()
        if self._try_open():
            self._log.info(
                "audio ready after %.1f s: %d Hz, %d-sample buffer%s",
                self._clock.monotonic() - started,
                MIXER_FREQUENCY,
                self._settings.buffer_samples,
                self._where(),
            )

    def wait_open(self, timeout: float | None = None) -> bool:
        """Wait for a background open to finish; True when the mixer is open."""
        opener = self._opener
        if opener is not None:
            opener.join(timeout)
        return self._open

    @property
    def asleep(self) -> bool:
        """True while the mixer is closed for idleness (sleep())."""
        return self._asleep

    def sleep(self) -> bool:
        """Close the mixer while nothing plays; False (nothing done) while a sound still plays.

        The device is released, so no thread wakes for silence; cues and guide tones
        rendered so far stay cached.
        """
        if self._opening():
            return False  # still opening: ask again later
        if not self._open or self._closed:
            return True  # nothing open (no device, or closed for good)
        try:
            if self._pygame.mixer.get_busy():
                return False
        except self._pygame.error:
            return False
        self._open = False
        self._asleep = True
        self._quit_mixer()  # the cues stay loaded: the mixer reopens in the same format
        return True

    def wake(self) -> None:
        """Open a sleeping mixer in the background, ahead of the next cue (returns at once)."""
        if not self._asleep or self._closed or self._opening():
            return
        self._waking = True
        self._opener = threading.Thread(
            target=self._reopen, name="breathring-audio-wake", daemon=True
        )
        self._opener.start()

    def _reopen(self) -> None:
        """Open after sleep(); a failure is an outage like any other (warned, retried)."""
        self._try_open()
        self._asleep = False

    def _opening(self) -> bool:
        opener = self._opener
        return opener is not None and opener.is_alive()

    # -- the Audio interface -------------------------------------------------

    @property
    def available(self) -> bool:
        """True while the mixer is open and working."""
        return self._open

    def play(self, cue: str, volume: float) -> None:
        """Start cue `cue` at `volume` (0..1) on a free voice; never raises."""
        if cue not in sounds.CUES:
            self._complain_once(
                f"cue:{cue}", f"cue {cue!r} is not known; allowed: {', '.join(sounds.CUE_NAMES)}"
            )
            return
        if not self._ready():
            return
        try:
            sound = self._sounds.get(cue)
            if sound is None:
                return
            # Sound.play() picks a free voice outside the reserved guide voice
            # (mixer.find_channel would not skip it). Volume is set before play
            # so that no buffer goes out at a previous level.
            sound.set_volume(_clamp_volume(volume))
            sound.play()
        except self._pygame.error as err:
            self._fail(f"playing {cue!r} failed: {err}")

    def play_guide(self, kind: str, seconds: float, volume: float) -> None:
        """A soft tone swelling and fading over exactly `seconds`; replaces the previous one.

        Renders the tone (pure Python, ~20 ms per second of tone on a desktop
        CPU, several times that on a Pi) unless prepare_guide() or an earlier
        play cached it.
        """
        try:
            key = self._guides.key(kind, seconds)
        except ValueError as err:
            self._complain_once(f"guide:{kind}:{seconds}", str(err))
            return
        if not self._ready():
            return
        pcm = self._guides.pcm(key)
        try:
            sound = self._pygame.mixer.Sound(buffer=pcm)
            channel = self._pygame.mixer.Channel(GUIDE_VOICE)
            channel.set_volume(_clamp_volume(volume))
            channel.play(sound)
        except self._pygame.error as err:
            self._fail(f"playing the {key[0]} guide tone failed: {err}")

    def prepare_guide(self, kind: str, seconds: float) -> None:
        """Render a guide tone into the cache in a background thread (returns at once).

        Call it ahead of a session (e.g. for each phase of its pattern) so that
        play_guide() does not render in the frame loop.
        """
        try:
            key = self._guides.key(kind, seconds)
        except ValueError as err:
            self._complain_once(f"guide:{kind}:{seconds}", str(err))
            return
        self._guides.prepare(key)

    def stop(self) -> None:
        """Fade out everything playing (quickly, without a click)."""
        if not self._open:
            return
        try:
            self._pygame.mixer.fadeout(STOP_FADE_MS)
        except self._pygame.error as err:
            self._fail(f"stopping failed: {err}")

    def close(self) -> None:
        """Close the mixer for good (at service stop)."""
        self._closed = True
        self.wait_open(CLOSE_WAIT_S)
        if self._open:
            self._open = False
            self._sounds.clear()
            self._quit_mixer()

    # -- opening, failing, retrying ---------------------------------------------

    def _ready(self) -> bool:
        """Open (or retry opening) if needed; True when cues can be played."""
        if self._open:
            return True
        if self._closed:
            return False
        if self._opening():
            # Waking from idle: the cue waits for the mixer; the first open at start does not.
            return self._waking and self.wait_open(WAKE_WAIT_S)
        if self._asleep:
            self._reopen()
            return self._open
        now = self._clock.monotonic()
        if self._last_attempt is not None and now - self._last_attempt < RETRY_SECONDS:
            return False
        return self._try_open()

    def _try_open(self) -> bool:
        self.open_attempts += 1
        self._last_attempt = self._clock.monotonic()
        settings = self._settings
        try:
            pygame = self._pygame or _import_pygame()
        except ImportError as err:
            return self._fail(f"pygame is not installed ({err}); pip install pygame")
        self._pygame = pygame
        if settings.driver:
            os.environ["SDL_AUDIODRIVER"] = settings.driver
        try:
            pygame.mixer.init(
                frequency=MIXER_FREQUENCY,
                size=MIXER_SIZE,
                channels=MIXER_CHANNELS,
                buffer=settings.buffer_samples,
                devicename=settings.device or None,
                allowedchanges=0,
            )
            sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_S))
            pygame.mixer.set_num_channels(MIXER_VOICES)
            pygame.mixer.set_reserved(GUIDE_VOICE + 1)
            if not self._sounds:  # loaded once; again only after a failure dropped them
                self._sounds = load_cues(pygame, settings.cues_dir, self._complain_once)
        except pygame.error as err:
            return self._fail(f"cannot open the audio device{self._where()}: {err}")
        self._open = True
        if self._warned:
            self._log.info("audio is back%s; cues play again", self._where())
            self._warned = False
        return True

    def _where(self) -> str:
        parts = []
        if self._settings.driver:
            parts.append(f"audio.driver = {self._settings.driver!r}")
        if self._settings.device:
            parts.append(f"audio.device = {self._settings.device!r}")
        return f" ({', '.join(parts)})" if parts else ""

    def _fail(self, reason: str) -> bool:
        """Go silent; warn once per outage. Returns False for convenience."""
        was_open = self._open
        self._open = False
        self._sounds = {}
        self._last_attempt = self._clock.monotonic()
        if was_open or self._pygame is not None:
            self._quit_mixer()
        if not self._warned:
            self._log.warning(
                "%s; cues are silent, retrying at most every %g s", reason, RETRY_SECONDS
            )
            self._warned = True
        return False

    def _quit_mixer(self) -> None:
        # Best effort: we are already failing or closing.
        with contextlib.suppress(Exception):
            self._pygame.mixer.quit()

    def _complain_once(self, key: str, message: str) -> None:
        if key not in self._complained:
            self._complained.add(key)
            self._log.warning(message)


def load_cues(pygame: Any, cues_dir: str, complain: Callable[[str, str], None]) -> dict[str, Any]:
    """Every cue as a mixer Sound: from `cues_dir` when set (else bundled), falling back to
    the bundled file; `complain(key, message)` warns once about a missing or bad file."""
    loaded = {}
    bundled = bundled_assets_dir()
    custom = Path(cues_dir).expanduser() if cues_dir else None
    for name in sounds.CUE_NAMES:
        candidates = [custom / f"{name}.wav"] if custom else []
        candidates.append(bundled / f"{name}.wav")
        for path in candidates:
            sound = _load_one(pygame, path, path.parent == custom, complain)
            if sound is not None:
                loaded[name] = sound
                break
    return loaded


def _load_one(
    pygame: Any, path: Path, is_custom: bool, complain: Callable[[str, str], None]
) -> Any:
    if not path.is_file():
        if is_custom:
            message = f"audio.cues_dir: {path} not found; using the bundled {path.name}"
        else:
            message = f"bundled cue {path} not found; that cue is silent"
        complain(f"file:{path}", message)
        return None
    try:
        return pygame.mixer.Sound(file=str(path))
    except pygame.error as err:
        complain(f"file:{path}", f"cannot load cue {path}: {err}; skipping it")
        return None


def open_audio(
    settings: AudioSettings,
    clock: Clock,
    log: logging.Logger | None = None,
    *,
    background: bool = False,
) -> PygameAudio | SilentAudio:
    """The audio for `settings` ([audio] config): silent when audio.enabled is false.

    background=True opens the mixer in a thread (see the module docstring).
    """
    if not settings.enabled:
        return SilentAudio()
    return PygameAudio(settings, clock, log, background=background)
