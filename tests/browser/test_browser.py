"""Open the built book in headless Chromium (Debian's package) and check what a reader sees.

Needs `make book` first (the Makefile's `test` target builds it before this runs). Saves a
screenshot of every page under _build/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tools.bookfiles import ROOT, config, notebooks, read

HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROME_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
    "--window-size=1280,1600",
]
CHAPTERS = [p.relative_to(ROOT).with_suffix("").as_posix() for p in notebooks()]


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    assert (HTML / "index.html").exists(), "build the book first: make book"

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep the test output readable
            pass

    handler = functools.partial(Quiet, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "install Debian's chromium and chromium-driver (make browser-deps)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROME_FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chrome')}"]:
        options.add_argument(flag)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_page_load_timeout(60)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield chrome
    chrome.quit()


def open_page(browser: webdriver.Chrome, url: str) -> None:
    browser.get(url)
    WebDriverWait(browser, 30).until(lambda b: b.execute_script("return document.readyState") == "complete")


def broken_images(browser: webdriver.Chrome) -> list[str]:
    """Scroll through the page (lazy images load when seen) and list images that did not load."""
    height = browser.execute_script("return document.body.scrollHeight")
    for y in range(0, height + 1, 800):
        browser.execute_script(f"window.scrollTo(0, {y});")
        time.sleep(0.05)
    script = (
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);"
    )
    deadline = time.time() + 10
    while (broken := browser.execute_script(script)) and time.time() < deadline:
        time.sleep(0.2)
    browser.execute_script("window.scrollTo(0, 0);")
    return broken


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_page_renders(site: str, browser: webdriver.Chrome, chapter: str) -> None:
    open_page(browser, f"{site}/{chapter}.html")
    title = read(ROOT / f"{chapter}.ipynb").cells[0].source.splitlines()[0].lstrip("# ").strip()
    h1 = browser.find_element(By.CSS_SELECTOR, "article h1").text.replace("#", "").strip()
    assert h1 == title
    assert len(browser.find_elements(By.CSS_SELECTOR, "div.cell_input")) >= 5, "code cells shown"
    assert len(browser.find_elements(By.CSS_SELECTOR, "div.cell_output")) >= 5, "outputs shown"
    assert broken_images(browser) == []
    if re.match(r"\d\d", Path(chapter).name):  # chapters (not appendix notebooks) have exercises
        assert len(browser.find_elements(By.CSS_SELECTOR, ".solution")) >= 3, "hidden solutions"
    assert "Colab set-up (hidden" not in browser.page_source, "the set-up cell is removed"
    browser.save_screenshot(str(SHOTS / f"{Path(chapter).name}.png"))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_colab_link_points_at_this_notebook(site: str, browser: webdriver.Chrome, chapter: str) -> None:
    open_page(browser, f"{site}/{chapter}.html")
    repo = config()["repository"]
    path = repo["url"].rstrip("/").removeprefix("https://github.com/")
    expected = f"https://colab.research.google.com/github/{path}/blob/{repo['branch']}/{chapter}.ipynb"
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a[href*='colab']")]
    assert links == [expected]


@pytest.mark.parametrize(
    "page",
    ["book/intro", "book/appendix/recipe-index", "book/appendix/cheatsheet", "book/appendix/glossary"],
)
def test_text_pages_render(site: str, browser: webdriver.Chrome, page: str) -> None:
    open_page(browser, f"{site}/{page}.html")
    assert browser.find_element(By.CSS_SELECTOR, "article h1").text.strip()
    assert broken_images(browser) == []
    browser.save_screenshot(str(SHOTS / f"{Path(page).name}.png"))


def test_search_finds_a_word_from_a_chapter(site: str, browser: webdriver.Chrome) -> None:
    open_page(browser, f"{site}/search.html?q=PYTHONHASHSEED")
    WebDriverWait(browser, 30).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#search-results ul.search li")
    )
    hits = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "ul.search li a")]
    assert any("01_setup.html" in h for h in hits), hits
    browser.save_screenshot(str(SHOTS / "search.png"))
