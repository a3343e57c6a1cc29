"""Smoke test of benchmarks/companions.py (web and MQTT bridge figures) in its quick mode."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import companions  # noqa: E402

pytestmark = pytest.mark.bench


def test_quick_run_measures_web_and_the_service_with_and_without_it() -> None:
    result = companions.measure(quick=True)
    assert result["cpus"] >= 1 and len(result["load_before"]) == 3
    assert 0 < result["web_startup_s"] <= result["web_first_answer_s"]
    assert result["session_seconds"] == pytest.approx(1.5, abs=0.5)
    assert result["service_session_cpu_pct"] >= 0
    assert result["web_events_relayed"] >= 2  # the first status, then the session's lead-in
    assert result["web_peak_rss_mb"] >= result["web_rss_mb"] > 5
    if "bridge" in result:  # mosquitto missing outside CI
        assert "skipped" in result["bridge"]
    else:
        assert result["bridge_online_s"] > 0
        assert result["bridge_idle_cpu_pct"] >= 0
        assert result["bridge_peak_rss_mb"] >= result["bridge_rss_mb"] > 5


def test_a_rewritten_report_keeps_the_companions_section() -> None:
    from benchmarks.__main__ import kept_sections

    old = "# Benchmarks\n\n## 3-6. Service\n\nold\n\n## Companions: web and MQTT\n\nweb 40 MB\n"
    assert kept_sections(old) == "\n## Companions: web and MQTT\n\nweb 40 MB\n"
    middle = old.replace("web 40 MB\n", "web 40 MB\n\n## Later\n\nx\n")
    assert kept_sections(middle) == "\n## Companions: web and MQTT\n\nweb 40 MB\n"
    assert kept_sections("# Benchmarks\n\n## 3-6. Service\n") == ""
