"""A real browser for the page tests: Debian's headless chromium + chromium-driver, via selenium.

The `browser` fixture (testkit/plugin.py) skips when one is missing, only outside CI; under
CI=true that fails (CI installs them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
#: A phone: 390 x 844 CSS pixels (iPhone 12-15), drawn at 2x like the real thing.
PHONE = (390, 844)
SCALE = 2
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def missing() -> str | None:
    """What is missing for a real browser, or None."""
    if CHROMIUM is None:
        return "chromium not installed (apt-get install chromium chromium-driver)"
    if CHROMEDRIVER is None:
        return "chromedriver not installed (apt-get install chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium not installed (pip install -e '.[test]')"
    return None


def phone_browser(profile: Path) -> Iterator[Any]:
    """A headless chromium the size of a phone, its profile in `profile`; quit after."""
    absent = missing()
    if absent:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs a real browser: {absent}", pytrace=False)
        pytest.skip(absent)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager download anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={PHONE[0]},{PHONE[1]}")
    options.add_argument(f"--force-device-scale-factor={SCALE}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        # Headless windows include no browser chrome: make the viewport exactly the phone's.
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": SCALE, "mobile": True},
        )
        yield driver
    finally:
        driver.quit()


def text(driver: Any, element_id: str) -> str:
    """The visible text of the element with that id."""
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id).text
