"""Read the built book with no network: math is typeset and no page reaches outside the build.

Chromium runs with every host name unresolvable and a dead proxy, so only the local test server
(or file:// pages) can answer. Its network log lists every request a page attempts; anything
not served by the build itself is a network dependency and fails the test. Needs `make book`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlparse

import pytest
from browserkit import SHOTS, html_dir
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tools.bookfiles import toc_files

HTML = html_dir()
OFFLINE_FLAGS = [
    # No network: no name resolves (only the loopback address is reachable) and any request
    # that still tries to leave goes to a proxy on a closed port of this machine.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=127.0.0.1:9",
]
LOCAL_SCHEMES = {"data", "blob", "about", "file", "chrome", "devtools"}


def math_page() -> str:
    """The first chapter whose built page has inline math (Sphinx writes it as raw TeX)."""
    for page in toc_files():
        html = (HTML / f"{page}.html").read_text(encoding="utf-8")
        if '<span class="math notranslate nohighlight">' in html:
            return page
    raise AssertionError("no page of the build has math")


@pytest.fixture(scope="module")
def offline(launch_chrome: Callable[..., webdriver.Chrome]) -> webdriver.Chrome:
    return launch_chrome(OFFLINE_FLAGS, network_log=True)


def visit(browser: webdriver.Chrome, url: str) -> list[str]:
    """Open a page, let it settle (math typeset), and return every URL it requested."""
    browser.get_log("performance")  # drop what earlier pages logged
    browser.get(url)
    WebDriverWait(browser, 30).until(lambda b: b.execute_script("return document.readyState") == "complete")
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight);")  # lazy images load
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const p = window.MathJax && MathJax.startup && MathJax.startup.promise;"
        "(p || Promise.resolve()).then(() => setTimeout(done, 500), () => done());"
    )
    browser.execute_script("window.scrollTo(0, 0);")
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def external(urls: list[str], site: str) -> list[str]:
    """The requested URLs that the build itself does not serve."""
    local = urlparse(site).netloc
    parts = {u: urlparse(u) for u in urls}
    return sorted(u for u, p in parts.items() if p.scheme not in LOCAL_SCHEMES and p.netloc != local)


def test_the_browser_really_is_offline(site: str, offline: webdriver.Chrome) -> None:
    """Control: a request to any other host fails, and the network log sees it."""
    visit(offline, f"{site}/index.html")
    offline.get_log("performance")
    failed = offline.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('http://network-check.invalid/x.js').then(() => done(false), () => done(true));"
    )
    assert failed, "a request to another host went through: the test browser is not offline"
    seen = [json.loads(e["message"])["message"] for e in offline.get_log("performance")]
    urls = [m["params"]["request"]["url"] for m in seen if m["method"] == "Network.requestWillBeSent"]
    assert external(urls, site) == ["http://network-check.invalid/x.js"]


def test_math_is_typeset_offline(site: str, offline: webdriver.Chrome) -> None:
    requests = visit(offline, f"{site}/{math_page()}.html")
    assert any("/_static/mathjax/" in u for u in requests), "MathJax comes from the build"
    text = offline.find_element(By.CSS_SELECTOR, "article").text
    assert "\\(" not in text, "raw TeX left on the page: MathJax did not run"
    formulas = offline.find_elements(By.CSS_SELECTOR, "article mjx-container")
    assert formulas, "no typeset formula on the page"
    offline.save_screenshot(str(SHOTS / "offline-math.png"))


def test_math_is_typeset_from_disk(offline: webdriver.Chrome) -> None:
    """A reader who opens _build/html/... straight from disk (file://) sees typeset math too."""
    visit(offline, (HTML / f"{math_page()}.html").as_uri())
    assert offline.find_elements(By.CSS_SELECTOR, "article mjx-container")
    assert "\\(" not in offline.find_element(By.CSS_SELECTOR, "article").text


@pytest.mark.parametrize("page", toc_files() + ["search"])
def test_page_needs_no_network(site: str, offline: webdriver.Chrome, page: str) -> None:
    requests = visit(offline, f"{site}/{page}.html")
    assert len(requests) > 1, "the network log recorded the page's own files"
    assert external(requests, site) == [], "the page asks the network for these"
