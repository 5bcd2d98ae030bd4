"""Visitors against the real show: ``metamorph play --visitors`` in a process of its own, the page
in headless Chromium (a prompt and a photo), the operator's tap on the control page, the show
gliding into the wish and back; and the tiny diffusers pipeline serving a wish."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import QUIET_PLAY, ask, free_ports, wait_for
from tests.visitors.visitor import Visitor

pytestmark = pytest.mark.slow
HOLD = 5.0


@contextmanager
def show(sequence: Path, *options: str) -> Iterator[tuple[int, int, int]]:
    """A show taking visitors: its OSC, control page and visitor ports."""
    osc, http, visitors = free_ports("udp", "tcp", "tcp")
    quiet = [option for option in QUIET_PLAY if option not in ("--osc-port", "--http-port", "0")]
    command = [sys.executable, "-m", "installation", "play", str(sequence), *quiet, "--window", "160x96"]
    command += ["--osc-port", str(osc), "--http-port", str(http), "--visitors", "--visitor-port", str(visitors)]
    command += ["--visitor-size", "64x36", "--visitor-steps", "10", "--visitor-captures", "3"]
    command += ["--visitor-hold", f"{HOLD:g}", *options]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: process.poll() is not None or ask(osc, "/status"), 60, "the show's first /status")
        assert process.poll() is None, process.communicate()[1]
        yield osc, http, visitors
    finally:
        process.terminate()
        _, said = process.communicate(timeout=30)
    assert process.returncode == 0, said


def playing(osc: int) -> str:
    answer = ask(osc, "/status")
    return answer["sequence"] if answer else ""


def finished(visitor: Visitor, token: str) -> dict | None:
    """The wish's state once it is made or failed."""
    state = visitor.request("GET", f"/visit/wish/{token}")[1]
    return state if state["state"] in ("ready", "failed") else None


def photo_file(folder: Path) -> Path:
    pixels = np.zeros((48, 64, 3), np.uint8)
    pixels[:, :32] = (30, 200, 90)
    path = folder / "from-my-phone.jpg"
    Image.fromarray(pixels).save(path)
    return path


def browser():
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=390,844",
    ):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium") or ""
    return webdriver.Chrome(
        options=options, service=webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    )


@pytest.mark.skipif(shutil.which("chromedriver") is None, reason="needs Debian chromium and chromium-driver")
def test_a_visitor_wishes_from_a_phone_the_operator_taps_and_the_show_glides_there_and_back(
    sequence_folder: Path, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with show(sequence_folder, "--visitor-photos", "--visitor-approve") as (osc, http, visitors):
        phone = browser()
        try:
            wait = WebDriverWait(phone, 60)
            phone.get(f"http://127.0.0.1:{visitors}/visit")
            wait.until(lambda b: b.find_element(By.ID, "photo").is_displayed())
            phone.find_element(By.ID, "prompt").send_keys("a green meadow under snow")
            phone.find_element(By.ID, "photo").send_keys(str(photo_file(tmp_path)))
            phone.find_element(By.ID, "send").click()
            place = "Your wish is number 1 in the queue, waiting for the operator."
            wait.until(lambda b: b.find_element(By.ID, "said").text == place)
            visitor_tab = phone.current_window_handle
            phone.switch_to.new_window("tab")
            phone.get(f"http://127.0.0.1:{http}/control")
            wait.until(lambda b: "a green meadow under snow (with a photo)" in b.find_element(By.ID, "wishes").text)
            wait.until(lambda b: "connected" in b.find_element(By.ID, "status").text)
            phone.find_element(By.XPATH, "//ol[@id='wishes']//button[text()='make it']").click()
            made = wait_for(lambda: playing(osc).startswith("wish-") and playing(osc), 120, "the show on the wish")
            phone.switch_to.window(visitor_tab)
            wait.until(
                lambda b: b.execute_script(
                    "const s = document.getElementById('sheet'); return !s.hidden && s.naturalWidth > 0"
                )
            )
            assert phone.find_element(By.ID, "said").text.startswith("Your wish is made")
        finally:
            phone.quit()
        status = ask(osc, "/status")
        assert status is not None and status["visitors"]["counts"]["made"] == 1
        assert status["visitors"]["holding"] and status["visitors"]["port"] == visitors
        wait_for(lambda: playing(osc) == sequence_folder.name, HOLD + 60, "the show back on its sequence")
        assert (sequence_folder.parent / made).exists() is False  # the wish lives in the visitors' folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_pipeline import build_tiny_pipeline

    return build_tiny_pipeline(tmp_path_factory.mktemp("models"))


def test_the_tiny_diffusers_pipeline_serves_a_wish_from_the_picture_on_screen(
    sequence_folder: Path, tiny_model: Path
) -> None:
    options = ("--visitor-backend", "diffusers", "--visitor-model", str(tiny_model), "--visitor-size", "64x32")
    with show(sequence_folder, *options) as (osc, _, visitors):
        visitor = Visitor(visitors, "127.0.0.9")
        visitor.open_page()
        status, told = visitor.wish("pink waves")
        assert status == 200 and told["place"] == 1
        state = wait_for(lambda: finished(visitor, told["token"]), 180, "the diffusers wish made")
        assert state["state"] == "ready", state["message"]
        wait_for(lambda: playing(osc).startswith("wish-"), 30, "the show on the diffusers wish")
        sheet = Image.open(io.BytesIO(visitor.request("GET", state["contact_sheet"])[1]))
        assert state["state"] == "ready" and sheet.width > 64
