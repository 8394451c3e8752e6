"""What both browser tests share: the built book served on localhost, and Debian's headless Chromium.

Needs `make book` first. A build elsewhere: BOOK_HTML=<folder> (read through `html_dir`).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Callable, Iterator

import pytest
from browserkit import CHROME_FLAGS, SHOTS, html_dir
from selenium import webdriver
from selenium.webdriver.chrome.service import Service


@pytest.fixture(scope="session")
def site() -> Iterator[str]:
    """The built book served on a free localhost port; yields its base URL."""
    assert (html_dir() / "index.html").exists(), "build the book first: make book"

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep the test output readable
            pass

    handler = functools.partial(Quiet, directory=str(html_dir()))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def launch_chrome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., webdriver.Chrome]]:
    """`launch_chrome(extra_flags, network_log=False)` starts a Chromium; all quit at the end."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "install Debian's chromium and chromium-driver (make browser-deps)"
    started: list[webdriver.Chrome] = []

    def launch(extra_flags: list[str] = (), network_log: bool = False) -> webdriver.Chrome:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in [*CHROME_FLAGS, *extra_flags, f"--user-data-dir={tmp_path_factory.mktemp('chrome')}"]:
            options.add_argument(flag)
        if network_log:  # every request a page makes, read with get_log("performance")
            options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        chrome = webdriver.Chrome(service=Service(driver), options=options)
        chrome.set_page_load_timeout(60)
        started.append(chrome)
        return chrome

    SHOTS.mkdir(parents=True, exist_ok=True)
    yield launch
    for chrome in started:
        chrome.quit()
