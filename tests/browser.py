"""Open a Snakemake report in headless Chromium (Debian's chromium and chromedriver)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Without these, Chromium keeps calling home through a closed network.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)
WAIT_SECONDS = 30
ITEM_SECONDS = 5
EYE = "a[iconname=eye]"


@contextmanager
def chromium(profile: Path):
    """A headless Chromium driven through chromedriver, its console log kept."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        raise RuntimeError(
            f"{missing} not installed: run tests/install_system_packages.sh (as "
            "root), as `make test` does"
        )
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, condition):
    """Wait until ``condition(driver)`` is truthy and return it."""
    return WebDriverWait(driver, WAIT_SECONDS).until(condition)


def sidebar_links(driver) -> list[str]:
    """Texts of the report's navigation links."""
    return [link.text for link in driver.find_elements(By.TAG_NAME, "a") if link.text]


def shown_image_width(driver) -> int:
    """Natural width of the widest PNG the report displays (0: none)."""
    widths = driver.execute_script(
        "return Array.from(document.images)"
        ".filter(i => i.src.startsWith('data:image/png') && i.complete)"
        ".map(i => i.naturalWidth)"
    )
    return max(widths, default=0)


def show_a_figure(driver, category: str, subcategory: str | None) -> int:
    """Open a category (and subcategory) and show its items until one is a figure.

    Returns
    -------
    int
        Natural width of the figure shown (0 when no item is a figure).
    """
    wait_for(driver, lambda d: d.find_element(By.LINK_TEXT, category)).click()
    if subcategory is not None:
        wait_for(driver, lambda d: d.find_element(By.LINK_TEXT, subcategory)).click()
    eyes = wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, EYE))
    for position in range(len(eyes)):
        # The page re-renders on every click: find the buttons again.
        driver.find_elements(By.CSS_SELECTOR, EYE)[position].click()
        try:
            return WebDriverWait(driver, ITEM_SECONDS).until(shown_image_width)
        except TimeoutException:
            continue
    return 0


def severe_console_messages(driver) -> list[str]:
    """JavaScript errors the page raised."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE"
    ]
