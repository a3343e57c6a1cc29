"""`breathring stats --days N`: the whole documented range reaches the real service."""

from __future__ import annotations

from datetime import date, timedelta


def test_stats_for_366_days_and_no_more(cli_service):
    cli_service.start()
    stats = cli_service.json("stats", "--days", "366")
    days = [date.fromisoformat(d["date"]) for d in stats["days"]]
    assert len(days) == 366
    assert days[-1] - days[0] == timedelta(days=365)
    assert days[-1] == date.fromisoformat(stats["today"]["date"])
    for refused in ("0", "367"):
        result = cli_service.cli("stats", "--days", refused, "--json")
        assert result.returncode == 2, refused
        assert "allowed 1-366" in result.stderr
    cli_service.stop()
