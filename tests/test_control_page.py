"""The control page in a real browser (headless Chromium driven by Selenium) against a running show."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from installation.app import Player
from installation.scene.commands import Command
from tests.helpers import quiet_options, wait_for

PHONE = (390, 844)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian chromium and chromium-driver"),
]


def _browser():
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={PHONE[0]},{PHONE[1]}")
    options.binary_location = shutil.which("chromium") or ""
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    return webdriver.Chrome(options=options, service=service)


def _steer(player: Player, screenshot: Path, results: dict[str, object]) -> None:
    """The browser's part: open the page, drag the speed fader, see the show follow; then stop the show."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser = _browser()
    try:
        assert player.web is not None
        browser.get(f"http://127.0.0.1:{player.web.port}/control")
        wait = WebDriverWait(browser, 20)
        wait.until(lambda b: "connected" in b.find_element(By.ID, "status").text)
        fader = browser.find_element(By.CSS_SELECTOR, 'input[data-path="/speed"]')
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", fader)
        ActionChains(browser).click_and_hold(fader).move_by_offset(fader.size["width"] // 3, 0).release().perform()
        wait_for(lambda: player.pipeline.latest is not None and player.pipeline.latest.settings.speed > 2.0, 20)
        results["speed"] = player.pipeline.latest.settings.speed if player.pipeline.latest else None
        player.pipeline.commands.put(Command("set", ("hue", 90.0)))
        hue = browser.find_element(By.CSS_SELECTOR, 'input[data-path="/hue"]')
        wait.until(lambda b: float(hue.get_attribute("value")) == 90.0)  # a change made elsewhere shows
        results["buttons"] = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#buttons button")]
        browser.execute_script("window.scrollTo(0, 0)")
        browser.save_screenshot(str(screenshot))
    except Exception as error:  # handed to the test, which runs on the main thread
        results["error"] = error
    finally:
        browser.quit()
        player.running = False


def test_the_page_steers_the_running_show(sequence_folder: Path, tmp_path: Path) -> None:
    player = Player(quiet_options(sequence_folder, 10**9, http_port=0))
    results: dict[str, object] = {}
    screenshot = tmp_path / "control-page.png"
    driver = threading.Thread(target=_steer, args=(player, screenshot, results))
    driver.start()
    player.run()
    driver.join()
    assert "error" not in results, results.get("error")
    assert isinstance(results["speed"], float) and results["speed"] > 2.0
    assert sorted(results["buttons"]) == ["next", "pause", "prev", "tap"]  # type: ignore[arg-type]
    assert screenshot.stat().st_size > 10_000
