#!/usr/bin/env python3
"""Regenerate breathring's cue sounds (WAV, 44.1 kHz, 16-bit, mono).

Usage: python assets/make_sounds.py [--out DIR]   (default: this script's directory)

The synthesis lives in firmware/breathring/sounds.py (pure, standard library
only); this script only writes the files, so the output is byte-for-byte
reproducible and tests/test_sounds.py can check the committed WAVs.
"""

from __future__ import annotations

import argparse
import sys
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "firmware"))

from breathring import sounds  # noqa: E402  (needs the path above)

EXIT_USAGE = 2


def write_wav(path: Path, pcm: bytes) -> None:
    """Write 16-bit mono PCM at the cue sample rate as a WAV file."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(sounds.CHANNELS)
        out.setsampwidth(sounds.SAMPLE_WIDTH)
        out.setframerate(sounds.SAMPLE_RATE)
        out.writeframes(pcm)


def write_all(out_dir: Path) -> list[Path]:
    """Render every cue into `out_dir` as <cue>.wav; return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, pcm in sounds.render_all().items():
        path = out_dir / f"{name}.wav"
        write_wav(path, pcm)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate breathring's cue sounds.")
    parser.add_argument("--out", type=Path, default=HERE, help="output directory")
    args = parser.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        print(f"--out {args.out} is not a directory; give a directory path", file=sys.stderr)
        return EXIT_USAGE
    for path in write_all(args.out):
        print(f"{path}  {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
