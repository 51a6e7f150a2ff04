"""The review page in a real browser: headless Chromium, driven by Selenium, opens the emailed
link on the page served on this machine, against a RequireApproval heal waiting for its answer.

The reviewer reads the stack, its risk and every drifted property with its expected and actual
value. Every field of the form has a label, the page names its language and runs no script. The
browser itself refuses to send Approve until the confirmation box is ticked, and nothing reaches
the heal. Once the box is ticked, Approve answers the heal, which executes the change set and
records who approved, with the ticket. The link then works no more, and a tampered link is
refused.

Without Debian's chromium and chromium-driver these tests are skipped, saying how to install
them; any other failure fails them. The browser never reaches the network.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from drift_healer_cli.review_server import ReviewServer
from tests.support import Reviewed, forged

NO_BROWSER = (
    "no browser: install Debian's chromium and chromium-driver (apt-get install chromium "
    "chromium-driver) to run the review page in a real browser"
)
#: Seconds to wait for a page; the tests wait on the page, never sleep.
WAIT = 10
#: Headless, and quiet: this machine has no network, and without the background-networking
#: flags Chromium hangs on refused connections.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def find_browser() -> tuple[str, str]:
    """Chromium and its driver (Debian's paths first, then PATH); the test is skipped, saying how
    to install them, when either is missing."""
    chromium = _program("/usr/bin/chromium", "chromium")
    chromedriver = _program("/usr/bin/chromedriver", "chromedriver")
    if chromium is None or chromedriver is None:
        pytest.skip(NO_BROWSER)
    return chromium, chromedriver


def _program(path: str, name: str) -> str | None:
    return path if os.access(path, os.X_OK) else shutil.which(name)


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[webdriver.Chrome]:
    chromium, chromedriver = find_browser()
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager downloads nothing
    options = Options()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium'}")
    # the driver's path is given: Selenium Manager is not run at all
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    try:
        driver.set_page_load_timeout(WAIT)
        yield driver
    finally:
        driver.quit()


def test_a_reviewer_reads_the_plan_in_a_browser_and_approves(
    reviewed: Reviewed, browser: webdriver.Chrome
) -> None:
    with ReviewServer(reviewed.settings) as server:
        browser.get(server.url + "?t=" + reviewed.token)
        heading = _heading(browser, "Approve the heal of app?")
        assert browser.title.startswith("Review: app")

        # the plan: the risk, and the drifted property with its expected and actual value
        risk = browser.find_element(By.XPATH, "//dt[.='Risk']/following-sibling::dd[1]")
        assert risk.text == "LOW"
        rows = [
            [cell.text for cell in row.find_elements(By.CSS_SELECTOR, "th, td")]
            for row in browser.find_elements(By.CSS_SELECTOR, "table tbody tr")
        ]
        assert [row[1:] for row in rows if row[1] == "/Value"] == [["/Value", "on", "off"]]

        # readable without sight, and nothing runs
        controls = browser.find_elements(
            By.CSS_SELECTOR, "form input:not([type=hidden]), form textarea"
        )
        ids = [control.get_attribute("id") for control in controls]
        assert ids == ["name", "ticket", "comment", "confirm"]
        for control_id in ids:
            assert browser.find_elements(By.CSS_SELECTOR, f'label[for="{control_id}"]'), control_id
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang")
        assert browser.find_elements(By.TAG_NAME, "script") == []

        # Approve without the box ticked: the browser keeps the page and sends nothing
        browser.find_element(By.ID, "name").send_keys("Ana Ops")
        browser.find_element(By.ID, "ticket").send_keys("CHG-9")
        confirm = browser.find_element(By.ID, "confirm")
        assert not confirm.is_selected()
        _approve_button(browser).click()
        # the browser found the box missing and points at it
        assert browser.find_elements(By.CSS_SELECTOR, "#confirm:invalid") == [confirm]
        assert browser.switch_to.active_element == confirm
        assert heading.text == "Approve the heal of app?"  # the same page, not reloaded
        assert browser.find_elements(By.CSS_SELECTOR, "[role=alert]") == []  # nor answered
        assert reviewed.still_waiting()

        confirm.click()
        assert confirm.is_selected()
        _approve_button(browser).click()
        _heading(browser, "Approved: app")
        assert "Thank you, Ana Ops." in browser.find_element(By.TAG_NAME, "main").text

    run = reviewed.runner.finish(reviewed.arn)
    assert run.result is not None and run.result["Outcome"] == "HEALED"
    approval = run.result["Approval"]
    assert approval["Decision"] == "APPROVED"
    assert approval["Approver"] == "Ana Ops (review link)"
    assert approval["Ticket"] == "CHG-9"
    assert reviewed.harness.executions() == 1 and reviewed.harness.param_value() == "on"


def test_the_link_works_once_and_a_tampered_one_is_refused(
    reviewed: Reviewed, browser: webdriver.Chrome
) -> None:
    link = reviewed.token
    with ReviewServer(reviewed.settings) as server:
        browser.get(server.url + "?t=" + link)
        _heading(browser, "Approve the heal of app?")
        browser.find_element(By.ID, "name").send_keys("Ana Ops")
        browser.find_element(By.ID, "confirm").click()
        _approve_button(browser).click()
        _heading(browser, "Approved: app")

        browser.get(server.url + "?t=" + link)
        _heading(browser, "This approval was already answered")
        assert browser.find_elements(By.TAG_NAME, "form") == []

        tampered = forged(link)
        browser.get(server.url + "?t=" + tampered)
        _heading(browser, "This link is not valid")
        assert browser.find_elements(By.TAG_NAME, "form") == []

    run = reviewed.runner.finish(reviewed.arn)
    assert run.result is not None and run.result["Outcome"] == "HEALED"
    assert reviewed.harness.executions() == 1


def _heading(browser: webdriver.Chrome, text: str) -> WebElement:
    """The page's h1, once it reads ``text``; after WAIT seconds, fails saying what it reads."""

    def read(driver: webdriver.Chrome) -> str:  # the page may change under it: waited out
        found = driver.find_elements(By.TAG_NAME, "h1")
        return found[0].text if found else "(no h1)"

    wait = WebDriverWait(browser, WAIT, ignored_exceptions=[StaleElementReferenceException])
    try:
        wait.until(lambda driver: read(driver) == text)
    except TimeoutException:
        pytest.fail(f"expected the h1 {text!r}; the page shows {read(browser)!r}")
    return browser.find_element(By.TAG_NAME, "h1")


def _approve_button(browser: webdriver.Chrome) -> WebElement:
    button = browser.find_element(By.CSS_SELECTOR, 'button[name=decision][value="approve"]')
    assert button.text == "Approve and execute"
    return button
