"""Open the built book in headless Chromium (Debian's package) and check what a reader sees.

Needs `make book` first (the Makefile's `test` target builds it before this runs). Saves a
screenshot of every page under _build/screenshots/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from browserkit import SHOTS, html_dir
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tools.bookfiles import ROOT, config, notebooks, read, toc_files

HTML = html_dir()
CHAPTERS = [p.relative_to(ROOT).with_suffix("").as_posix() for p in notebooks()]


@pytest.fixture(scope="module")
def browser(launch_chrome: Callable[..., webdriver.Chrome]) -> webdriver.Chrome:
    return launch_chrome()


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


def test_amp_page_shows_real_gpu_outputs_with_their_origin(site: str, browser: webdriver.Chrome) -> None:
    """Under each guarded cell of the AMP chapter, a collapsed block with its recorded GPU output."""
    open_page(browser, f"{site}/book/08_amp.html")
    blocks = browser.find_elements(By.CSS_SELECTOR, "div.cell details.gpu-output")
    guarded = [c for c in read(ROOT / "book" / "08_amp.ipynb").cells if "needs_gpu(" in c.source]
    assert len(blocks) == len(guarded) > 0, "one GPU block per needs_gpu cell"
    current = [b for b in blocks if "gpu-output-current" in b.get_attribute("class")]
    assert current, "at least one recorded output of the current version of its cell"
    block = current[0]
    summary = block.find_element(By.TAG_NAME, "summary").text
    assert re.search(r"On a real GPU \(.+, torch \S+, CUDA \S+, \d{4}-\d\d-\d\d", summary), summary
    text = block.find_element(By.TAG_NAME, "pre")
    assert not text.is_displayed(), "collapsed until the reader opens it"
    block.find_element(By.TAG_NAME, "summary").click()
    assert text.is_displayed() and text.text.strip(), "opens to show what the GPU printed"
    browser.save_screenshot(str(SHOTS / "amp-gpu-output.png"))


WIDE = """
const wide = [];
for (const pre of document.querySelectorAll("article pre")) {
  if (pre.scrollWidth <= pre.clientWidth + 1) continue;
  const where = pre.closest(".cell_input") ? "code" : pre.closest(".cell_output") ? "output" : "block";
  const longest = pre.innerText.split("\\n").reduce((a, b) => (b.length > a.length ? b : a), "");
  wide.push(`${where} (${longest.length} chars): ${longest.trim().slice(0, 70)}`);
}
for (const nav of document.querySelectorAll(".bd-sidebar-secondary, .bd-sidebar-primary")) {
  if (nav.scrollWidth > nav.clientWidth + 1) wide.push(`sidebar ${nav.className.split(" ")[0]}`);
}
return [window.innerWidth, wide];
"""


@pytest.mark.parametrize("page", toc_files())
def test_nothing_scrolls_sideways_at_1280_px_and_no_marker_shows(
    site: str, browser: webdriver.Chrome, page: str
) -> None:
    """Every code block and output of every page fits its column at 1280 px, and so do the
    sidebars (STYLE.md habit 12); tooling lives in cell tags and metadata, so a reader never
    sees NBVAL_ or fmt: markers. (One page load for both: the browser stage is part of CI's time.)"""
    open_page(browser, f"{site}/{page}.html")
    width, wide = browser.execute_script(WIDE)
    assert width == 1280, "the browser window is 1280 px wide (browserkit.CHROME_FLAGS)"
    assert not wide, f"{page}: {len(wide)} blocks scroll sideways:\n" + "\n".join(wide)
    text = browser.find_element(By.TAG_NAME, "article").get_attribute("textContent")
    found = sorted(set(re.findall(r"NBVAL_[A-Z_]+|# fmt: (?:skip|off|on)", text)))
    assert not found, f"{page} shows {found}"
