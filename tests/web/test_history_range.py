"""The history page's range: every documented number of days is asked of the service."""

from __future__ import annotations

from testkit.fake_service import FakeService
from testkit.web import AUTH, run_async, web_client

#: The documented range of ?days= (docs/api.md): one day to a leap year.
FEWEST, MOST = 1, 366


@run_async
async def test_the_most_days_are_answered_in_full(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.get(f"/api/history?days={MOST}", headers=AUTH)
        assert response.status == 200
        body = await response.json()
    assert fake.commands() == [{"cmd": "stats", "days": 366}]
    assert len(body["days"]) == 366
    assert body["days"][-1]["date"] == "2025-03-14"
    assert body["days"][0]["date"] == "2024-03-14"


@run_async
async def test_the_fewest_days_are_answered(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.get(f"/api/history?days={FEWEST}", headers=AUTH)
        assert response.status == 200
        body = await response.json()
    assert fake.commands() == [{"cmd": "stats", "days": 1}]
    assert [d["date"] for d in body["days"]] == ["2025-03-14"]
