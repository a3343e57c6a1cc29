"""The cues and guide tones the service plays, and when (a hold, a short press on the button)."""

from __future__ import annotations

import pytest
from testkit.mock_hw import RecordingAudio
from testkit.service_loop import (
    make_service,
    run_for,
)

from breathring.config import Config, parse_config


def test_cues_play_on_their_phase_with_the_right_volume():
    service, clock, hw = make_service()
    hw.button.press()
    run_for(service, clock, 40)
    cues = [c for c, _, _ in hw.audio.played]
    assert cues == ["start", "inhale", "exhale", "inhale", "exhale", "inhale", "exhale", "end"]
    times = [t for _, t, _ in hw.audio.played]
    assert times[1] - times[0] == pytest.approx(2.0, abs=0.011)
    assert {v for _, _, v in hw.audio.played} == {Config().audio.volume}


class GuideAudio(RecordingAudio):
    """RecordingAudio that also records which guide tones were prepared ahead."""

    def __init__(self, clock):
        super().__init__(clock)
        self.prepared: list[tuple[str, float]] = []

    def prepare_guide(self, kind: str, seconds: float) -> None:
        self.prepared.append((kind, round(seconds, 6)))


def test_guide_tones_play_per_phase_and_are_prepared_ahead():
    cfg = parse_config('[audio]\nguide_tone = true\n[session]\npattern = "box"\nbreaths = 1\n')
    service, clock, hw = make_service(cfg)
    hw.audio = hw.hardware.audio = GuideAudio(clock)
    hw.button.press()
    run_for(service, clock, 25)
    guides = [(c, round(s, 6)) for c, _, s in hw.audio.played if c.startswith("guide:")]
    assert guides == [
        ("guide:inhale", 4.0),
        ("guide:hold", 4.0),
        ("guide:exhale", 4.0),
        ("guide:hold", 4.0),
    ]
    # Each tone was prepared before its phase started.
    assert hw.audio.prepared[:2] == [("inhale", 4.0), ("hold", 4.0)]
    assert set(hw.audio.prepared) == {("inhale", 4.0), ("hold", 4.0), ("exhale", 4.0)}


def test_a_hold_on_the_button_blinks_without_start_or_end():
    service, clock, hw = make_service(Config())
    hw.button.down()
    run_for(service, clock, 0.5)
    assert hw.ring.lit > 0  # the light may start at once...
    assert hw.audio.cues == []  # ...but not the sound
    run_for(service, clock, 2.0)
    hw.button.up()
    run_for(service, clock, 3.0)
    assert hw.audio.cues == ["confirm-off"]


def test_a_short_press_on_the_button_plays_start_at_its_release():
    service, clock, hw = make_service(Config())
    hw.button.down()
    run_for(service, clock, 0.2)
    assert hw.audio.cues == []
    hw.button.up()
    run_for(service, clock, 0.1)
    assert hw.audio.cues == ["start"]
    run_for(service, clock, 40)
    assert hw.audio.cues.count("start") == 1 and hw.audio.cues[-1] == "end"
