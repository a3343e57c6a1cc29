"""The measured breathing rate on the phone: the JSON API carries it, the page shows it live
and before/after in the history (a real browser for the page)."""

from __future__ import annotations

from typing import Any

from testkit import wait_until
from testkit.browser import text
from testkit.fake_service import FakeService
from testkit.web import AUTH, TOKEN, run_async, web_client


@run_async
async def test_status_and_history_carry_the_rates(fake: FakeService) -> None:
    fake.set_breath_rate(13.5)
    fake.record_rates(14.0, 6.5)
    async with web_client(fake.path) as client:
        status = await (await client.get("/api/status", headers=AUTH)).json()
        history = await (await client.get("/api/history?days=2", headers=AUTH)).json()
    assert status["breath_rate"] == {"per_min": 13.5, "age_s": 0.0, "source": "mqtt"}
    assert history["today"]["breath_rate"] == {"start": 14.0, "end": 6.5, "sessions": 1}
    assert history["days"][0]["breath_rate"] is None
    assert history["breath_rates"] == [
        {
            "started": "2025-03-14T09:00:00+01:00",
            "pattern": "follow",
            "outcome": "completed",
            "rate_start": 14.0,
            "rate_end": 6.5,
        }
    ]


def test_the_page_shows_the_rate_live_and_before_and_after(
    browser: Any, web_url: str, fake: FakeService
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(f"{web_url}/?token={TOKEN}")
    wait_until(lambda: text(driver, "link") == "live", what="the live event stream")
    rate = driver.find_element(By.ID, "rate")
    rates = driver.find_element(By.ID, "rates")
    assert not rate.is_displayed() and not rates.is_displayed()  # no sensor reading yet

    fake.set_breath_rate(13.5)
    wait_until(lambda: text(driver, "rate") == "Breathing 13.5 a minute", what="the live rate")
    fake.set_breath_rate(12.0)
    wait_until(lambda: text(driver, "rate") == "Breathing 12.0 a minute", what="the new rate")
    fake.set_breath_rate(None)  # stale
    wait_until(lambda: not rate.is_displayed(), what="the stale rate to go")

    fake.record_rates(14.0, 6.5)
    wait_until(rates.is_displayed, what="the before and after")
    assert text(driver, "rates").startswith(
        "Breathing 14.0 → 6.5 a minute · last measured follow session, "
    )
    today = driver.find_elements(By.CSS_SELECTOR, "#chart .bar.today")[0]
    assert today.get_attribute("title").endswith(", breathing 14.0 → 6.5 a minute")
    fake.record_rates(15.0, None)  # the sensor lost the person before the end
    wait_until(
        lambda: text(driver, "rates").startswith("Breathing 15.0 → – a minute"),
        what="the newest measured session",
    )
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors
