"""The built pages in a real headless Chromium: what a reader sees, not just what the HTML says.

Needs Debian's chromium (`apt-get install chromium`; .ci/run installs it) and the Mermaid a site
ships (`looplens install`, which `make` runs; fetched here if it is missing). Where either cannot
be had the tests skip and say why. Every request that would leave the test's server is refused
and recorded: the site must work offline.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import html
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config

from looplens.errors import LooplensError
from looplens.queues import QUEUES_BY_NAME
from looplens.render.mermaid import render_mermaid
from looplens.render.player import render_player
from looplens.site.mermaid import install_mermaid, mermaid_file, npm_package_file
from looplens.site.share import share_pages
from looplens.trace import Trace

PROJECT = Path(__file__).parent.parent

PAGE = """\
# Hidden tab

```js {#hidden-diagram .trace}
setTimeout(() => console.log("timer"), 5);
Promise.resolve().then(() => console.log("microtask"));
console.log("sync");
```
"""

PLAYER_PAGE = """\
# Player

```js {#micro-vs-macro .trace}
console.log("Start");
setTimeout(() => console.log("Timeout"), 0);
Promise.resolve().then(() => console.log("Promise"));
console.log("End");
```

```js {#timers-by-delay .trace}
setTimeout(() => console.log("late"), 10);
setTimeout(() => console.log("soon"), 0);
```
"""


PREDICT_PAGE = """\
# Predict

```js {#guess-the-order .trace .predict}
setTimeout(() => console.log("timeout"), 0);
Promise.resolve().then(() => console.log("promise"));
process.nextTick(() => console.log("tick"));
console.log("sync");
```
"""


def chromium_path() -> str:
    # Debian's chromium here; GitHub's Ubuntu runners come with Google Chrome instead.
    names = ("chromium", "chromium-browser", "google-chrome")
    path = next((found for name in names if (found := shutil.which(name))), None)
    if path is None:
        pytest.skip("no chromium on this machine: apt-get install chromium to run browser tests")
    return path


def mermaid_script() -> Path:
    """The Mermaid the site ships (site/mermaid.py), fetched from the npm registry if need be."""
    try:
        install_mermaid(report=lambda _: None)
    except LooplensError as error:
        pytest.skip(f"could not fetch mermaid: {error}")
    return mermaid_file()


AXE_VERSION = "4.14.1"
AXE_CACHE = PROJECT / ".cache" / "test-assets" / f"axe-{AXE_VERSION}.min.js"


def axe_script() -> str:
    """axe-core, the accessibility checker, from the npm registry (once, into .cache/)."""
    if not AXE_CACHE.exists():
        try:
            script = npm_package_file("axe-core", AXE_VERSION, "package/axe.min.js")
        except LooplensError as error:
            pytest.skip(f"could not fetch axe-core: {error}")
        AXE_CACHE.parent.mkdir(parents=True, exist_ok=True)
        AXE_CACHE.write_bytes(script)
    return AXE_CACHE.read_text(encoding="utf-8")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


def new_page(browser: Any, errors: list[str], **options: Any) -> Any:
    """A page that records every console error and uncaught exception into `errors`."""
    page = browser.new_page(**options)
    page.on(
        "console",
        lambda message: (
            errors.append(f"{message.location['url']}: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser-site")
    (root / "docs" / "js").mkdir(parents=True)
    (root / "docs" / "index.md").write_text(PAGE)
    (root / "docs" / "player.md").write_text(PLAYER_PAGE)
    (root / "docs" / "predict.md").write_text(PREDICT_PAGE)
    mermaid_script()  # the site serves it; a page loads it when a diagram is opened
    (root / "mkdocs.yml").write_text(
        # font: false keeps Material from asking Google for fonts: the test runs offline.
        "site_name: browser\ntheme:\n  name: material\n  font: false\n"
        "markdown_extensions:\n  - attr_list\n  - pymdownx.superfences\n"
        "  - pymdownx.tabbed:\n      alternate_style: true\n"
        "plugins:\n  - looplens\n"
    )
    build(load_config(str(root / "mkdocs.yml")))
    with serve(root / "site") as url:
        yield url


def test_a_diagram_is_drawn_when_its_tab_is_first_opened(site: str, browser: Any) -> None:
    errors: list[str] = []
    page = new_page(browser, errors)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(site, wait_until="networkidle")
    block = page.locator('div.looplens[data-looplens-id="hidden-diagram"]')
    diagram_tab = block.locator(".tabbed-block").nth(1)
    assert not diagram_tab.is_visible(), "the diagram tab starts hidden"
    assert not [url for url in asked if "mermaid" in url], "Mermaid loaded with the page"
    block.locator("label", has_text="Sequence diagram").click()
    drawing = diagram_tab.locator(".looplens-diagram-drawn svg")
    drawing.wait_for(state="visible", timeout=15_000)
    assert [url for url in asked if "mermaid" in url] == [site + "assets/looplens/mermaid.min.js"]
    box = drawing.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100
    assert not diagram_tab.locator("pre.looplens-diagram-source").is_visible()
    page.close()
    assert errors == []


def test_a_diagram_keeps_its_text_size_and_scrolls_on_a_phone(site: str, browser: Any) -> None:
    errors: list[str] = []
    page = new_page(browser, errors, viewport={"width": 390, "height": 844})
    page.goto(site, wait_until="networkidle")
    block = page.locator('div.looplens[data-looplens-id="hidden-diagram"]')
    block.locator("label", has_text="Sequence diagram").click()
    box = block.locator(".looplens-diagram")
    box.locator(".looplens-diagram-drawn svg").wait_for(state="visible", timeout=15_000)
    sizes = box.evaluate(
        """box => ({
          scrolls: box.scrollWidth > box.clientWidth,
          text: Math.min(...[...box.querySelectorAll('svg text')].map(
            t => t.getBoundingClientRect().height).filter(h => h > 0)),
        })"""
    )
    assert sizes["scrolls"], "a diagram wider than a phone scrolls sideways"
    assert sizes["text"] >= 10, f"its text is {sizes['text']:.1f} px high: shrunk past reading"
    assert box.get_attribute("tabindex") == "0", "its scroll area is reachable by keyboard"
    page.close()
    assert errors == []


def test_a_queue_chip_has_its_colour_from_the_queue_table(site: str, browser: Any) -> None:
    """The queues' stylesheet is made at build time and must win over the main stylesheet's
    neutral chip background."""
    errors: list[str] = []
    page = new_page(browser, errors)
    page.goto(site)
    table = page.locator('div.looplens[data-looplens-id="hidden-diagram"] .looplens-output')
    chip = table.locator(".looplens-queue--timers").first
    red, green, blue = (int(QUEUES_BY_NAME["timers"].colour[i : i + 2], 16) for i in (1, 3, 5))
    # Chromium writes the chip's colour at alpha 0x33 (51 / 255) as 0.2.
    expected = f"rgba({red}, {green}, {blue}, 0.2)"
    assert chip.evaluate("chip => getComputedStyle(chip).backgroundColor") == expected
    page.close()
    assert errors == []


PLAYER_STATE = """player => ({
    step: player.querySelector(".looplens-player-position").textContent,
    clock: player.querySelector(".looplens-player-clock").textContent,
    line: [...player.querySelectorAll(".looplens-line--current")].map(l => l.dataset.line),
    stack: [...player.querySelectorAll(".looplens-player-panel")[0].querySelectorAll(
        ".looplens-queue")].map(chip => chip.textContent),
    queues: Object.fromEntries([...player.querySelectorAll(".looplens-player-queue")].map(
        row => [row.dataset.queue, [...row.querySelectorAll(".looplens-queue")].map(
            chip => chip.textContent)])),
    console: [...player.querySelectorAll(".looplens-player-line")].map(l => l.textContent),
})"""


def test_the_player_steps_forward_and_back_through_the_trace(site: str, browser: Any) -> None:
    errors: list[str] = []
    page = new_page(browser, errors)
    page.goto(site + "player/")
    block = page.locator('div.looplens[data-looplens-id="micro-vs-macro"]')
    block.locator("label", has_text="Step through").click()
    player = block.locator(".looplens-player")
    assert player.locator(".looplens-player-fallback").count() == 0

    def state() -> dict[str, Any]:
        return dict(player.evaluate(PLAYER_STATE))

    timer, then = "setTimeout · line 2", ".then · line 3"
    assert state() == {
        "step": "step 1 / 9",
        "clock": "t = 0 ms",
        "line": [],
        "stack": ["main script"],
        "queues": {"microtask": [], "timers": []},
        "console": [],
    }
    player.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # the main script queued the timer on line 2: that line is the current one
    assert state()["line"] == ["2"] and state()["queues"]["timers"] == [timer]
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    after_main = state()
    assert after_main["step"] == "step 5 / 9"
    assert after_main["queues"] == {"microtask": [then], "timers": [timer]}
    assert after_main["console"] == ["Start", "End"]
    # a print shows the line that printed, not the one that scheduled its callback
    assert after_main["line"] == ["4"]
    player.locator(".looplens-player-forward").click()
    assert state() == {
        "step": "step 6 / 9",
        "clock": "t = 0 ms",
        "line": ["3"],
        "stack": [then],
        "queues": {"microtask": [], "timers": [timer]},
        "console": ["Start", "End"],
    }
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert state() == {
        "step": "step 8 / 9",
        "clock": "t = 1 ms",
        "line": ["2"],
        "stack": [timer],
        "queues": {"microtask": [], "timers": []},
        "console": ["Start", "End", "Promise"],
    }
    page.keyboard.press("ArrowLeft")
    assert state()["line"] == ["3"] and state()["clock"] == "t = 0 ms"
    player.locator(".looplens-player-back").click()
    assert state()["console"] == ["Start", "End"]
    page.keyboard.press("Home")
    assert state()["step"] == "step 1 / 9"
    # On a focused button the space bar clicks that button; on the player it plays.
    player.focus()
    page.keyboard.press(" ")  # play to the end, one event at a time
    page.wait_for_function(
        "p => p.querySelector('.looplens-player-position').textContent === 'step 9 / 9'",
        arg=player.element_handle(),
        timeout=15_000,
    )
    assert state()["console"] == ["Start", "End", "Promise", "Timeout"]
    assert player.locator(".looplens-player-play").text_content() == "▶"
    page.close()
    assert errors == []


def test_the_player_keeps_the_focus_when_a_button_disables_itself(site: str, browser: Any) -> None:
    errors: list[str] = []
    page = new_page(browser, errors)
    page.goto(site + "player/")
    block = page.locator('div.looplens[data-looplens-id="micro-vs-macro"]')
    block.locator("label", has_text="Step through").click()
    player = block.locator(".looplens-player")
    position = player.locator(".looplens-player-position")
    inside = "p => p.contains(document.activeElement)"
    forward = player.locator(".looplens-player-forward")
    forward.focus()
    for _ in range(8):  # to the last step, with Enter on the focused button
        page.keyboard.press("Enter")
    assert position.text_content() == "step 9 / 9"
    assert forward.is_disabled()
    assert player.evaluate(inside), "the focus left the player at its end"
    page.keyboard.press("ArrowLeft")
    assert position.text_content() == "step 8 / 9", "the arrow keys stopped at the end"
    back = player.locator(".looplens-player-back")
    back.focus()
    for _ in range(7):
        page.keyboard.press("Enter")
    assert position.text_content() == "step 1 / 9"
    assert player.evaluate(inside), "the focus left the player at its start"
    page.keyboard.press("ArrowRight")
    assert position.text_content() == "step 2 / 9"
    page.close()
    assert errors == []


def test_the_player_lists_timers_by_due_time(site: str, browser: Any) -> None:
    errors: list[str] = []
    page = new_page(browser, errors)
    page.goto(site + "player/")
    block = page.locator('div.looplens[data-looplens-id="timers-by-delay"]')
    block.locator("label", has_text="Step through").click()
    player = block.locator(".looplens-player")
    player.locator(".looplens-player-forward").click()
    player.locator(".looplens-player-forward").click()
    # queued in the order of the code, but the 0 ms timer is due first
    assert player.evaluate(PLAYER_STATE)["queues"]["timers"] == [
        "setTimeout · line 2",
        "setTimeout · line 1",
    ]
    page.close()
    assert errors == []


@pytest.fixture(scope="module")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The project's own site, built as `make build` does, into a folder of the test's."""
    folder = tmp_path_factory.mktemp("real-site")
    with serve(folder) as url:
        yield build_real_site(folder, url)


def build_real_site(folder: Path, url: str) -> str:
    # Material's instant navigation only takes over links to the URLs in sitemap.xml, with their
    # port and path as site_url says: the served address must be the site's.
    mermaid_script()
    config = load_config(str(PROJECT / "mkdocs.yml"), site_dir=str(folder), site_url=url)
    build(config)
    return url


# Material asks the GitHub API for the repository's stars and version (repo_url in mkdocs.yml);
# offline that request fails. It is the theme's, not the site's, and the header shows the
# repository link without the numbers, so it is the one error this test lets through.
OFFLINE_ONLY = "https://api.github.com/"


SETTLED = """() => !document.querySelector(
    '.looplens-player:not([data-mounted]),'
    + ' .looplens[data-looplens-predict]:not([data-predict-mounted])')"""


def test_no_page_of_the_site_logs_an_error(real_site: str, browser: Any) -> None:
    docs = Path(load_config(str(PROJECT / "mkdocs.yml")).docs_dir)
    pages = sorted(
        path.relative_to(docs).with_suffix("").as_posix() + "/"
        for path in docs.rglob("*.md")
        if path.name != "index.md"
    )
    # and every generated share page (explain/<id>/), one per traced snippet
    shared = [
        page.path.removesuffix(".md") + "/"
        for page in share_pages(
            (path.relative_to(docs).as_posix(), path.read_text(encoding="utf-8"))
            for path in docs.rglob("*.md")
        )
    ]
    assert shared, "the site's snippets have share pages"
    errors: list[str] = []
    page = new_page(browser, errors)
    players = 0
    for path in ["", *pages, *shared]:
        response = page.goto(real_site + path, wait_until="load")
        assert response is not None and response.ok, f"{path} did not load"
        # Done when every widget is mounted: sooner than waiting for the network to be idle,
        # which matters over a hundred pages.
        page.wait_for_function(SETTLED, timeout=15_000)
        players += page.locator(".looplens-player-bar").count()
    assert players > 0, "the site's traced snippets have players"
    # Material's instant navigation swaps the page in place: the new page's players still mount.
    # Material reads sitemap.xml before it takes links over.
    page.goto(real_site, wait_until="networkidle")
    page.evaluate("window.looplensSamePage = true")
    page.locator(f'a.md-nav__link[href$="{pages[0]}"]').first.click()
    page.wait_for_url(real_site + pages[0])
    assert page.evaluate("window.looplensSamePage"), "Material's instant navigation was not used"
    page.locator(".looplens-player-bar").first.wait_for(state="attached")
    # and its diagrams are drawn when their tab opens, Mermaid loaded from the site itself
    first = page.locator("div.looplens").first
    first.locator(".tabbed-labels label", has_text="Sequence diagram").first.click()
    first.locator(".looplens-diagram-drawn svg").first.wait_for(state="visible", timeout=15_000)
    # and so do the questions of predict-the-output snippets
    page.locator('a.md-nav__link[href$="node/async-await-puzzles/"]').first.click()
    page.wait_for_url(real_site + "node/async-await-puzzles/")
    page.locator(".looplens-predict").first.wait_for(state="attached")
    assert page.evaluate("window.looplensSamePage"), "Material's instant navigation was not used"
    page.close()
    assert [error for error in errors if OFFLINE_ONLY not in error] == []


QUESTION = (
    "block => [...block.querySelectorAll('.looplens-predict-lines li code')]"
    ".map(c => c.textContent)"
)
REAL_OUTPUT = (
    "block => [...block.querySelectorAll('.looplens-output tbody tr td:nth-child(2)')]"
    ".map(c => c.textContent)"
)


def test_a_predict_snippet_asks_first_then_reveals_the_real_run(site: str, browser: Any) -> None:
    errors: list[str] = []
    page = new_page(browser, errors)
    page.goto(site + "predict/")
    block = page.locator('div.looplens[data-looplens-id="guess-the-order"]')
    run = block.locator(".looplens-run")
    assert not run.is_visible(), "the run stays hidden until the reader reveals it"
    real = block.evaluate(REAL_OUTPUT)
    assert sorted(block.evaluate(QUESTION)) == sorted(real)
    assert block.evaluate(QUESTION) != real, "the question never starts in the right order"

    status = block.locator(".looplens-predict-status")
    block.locator(".looplens-predict-check").click()
    in_place = sum(a == b for a, b in zip(block.evaluate(QUESTION), real, strict=True))
    assert status.text_content() == f"{in_place} of 4 lines are in the right place."

    # Order the lines with the keyboard only: the focus follows a moved line, so pressing Enter
    # again moves it on.
    for position, text in enumerate(real):
        current = block.evaluate(QUESTION).index(text)
        if current == position:
            continue
        block.locator(".looplens-predict-lines li").nth(current).locator(
            ".looplens-predict-up"
        ).focus()
        for _ in range(current - position):
            page.keyboard.press("Enter")
    assert block.evaluate(QUESTION) == real
    page.keyboard.press("Tab")  # on to the next control; the order does not change
    block.locator(".looplens-predict-check").focus()
    page.keyboard.press("Enter")
    assert status.text_content() == "All 4 lines are in the right place."

    block.locator(".looplens-predict-reveal").click()
    assert run.is_visible()
    answer = block.locator(".looplens-predict-answer li")
    assert answer.locator("code").all_text_contents() == real
    queues = block.evaluate(
        "block => [...block.querySelectorAll('.looplens-output tbody tr td:nth-child(4)')]"
        ".map(c => c.textContent)"
    )
    assert answer.locator(".looplens-queue").all_text_contents() == queues
    assert answer.locator(".looplens-predict-mark").all_text_contents() == ["✓"] * 4
    assert all(
        note.strip() for note in answer.locator(".looplens-predict-note").all_text_contents()
    )
    assert status.text_content() == "You had 4 of 4 lines in the right place."
    page.close()
    assert errors == []


def test_without_javascript_a_predict_snippet_shows_the_whole_run(site: str, browser: Any) -> None:
    page = browser.new_page(java_script_enabled=False)
    page.goto(site + "predict/")
    block = page.locator('div.looplens[data-looplens-id="guess-the-order"]')
    assert block.locator(".looplens-run").is_visible()
    assert block.locator(".looplens-output tbody tr").count() == 4
    assert block.locator(".looplens-predict").count() == 0
    page.close()


def test_the_question_fits_a_phone_and_its_buttons_a_finger(site: str, browser: Any) -> None:
    errors: list[str] = []
    page = new_page(browser, errors, viewport={"width": 360, "height": 740}, has_touch=True)
    page.goto(site + "predict/")
    block = page.locator('div.looplens[data-looplens-id="guess-the-order"]')
    first = block.evaluate(QUESTION)[0]
    down = block.locator(".looplens-predict-down").first
    box = down.bounding_box()
    assert box is not None and box["width"] >= 40 and box["height"] >= 40
    down.tap()
    assert block.evaluate(QUESTION)[1] == first
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.close()
    assert errors == []


def meta_tags(page: Any) -> dict[str, str]:
    return dict(
        page.evaluate(
            "() => Object.fromEntries([...document.querySelectorAll('meta[content]')]"
            ".map(m => [m.getAttribute('property') || m.getAttribute('name'), m.content]))"
        )
    )


def test_a_share_page_previews_well_and_plays_its_run(real_site: str, browser: Any) -> None:
    errors: list[str] = []
    page = new_page(browser, errors)
    # An article's caption links to the snippet's own page.
    page.goto(real_site + "node/async-await-puzzles/")
    page.locator('div.looplens[data-looplens-id="puz-classic"] a.looplens-share').click()
    page.wait_for_url(real_site + "explain/puz-classic/")
    # Instant navigation swaps the page's content, not every tag of its head; a link preview
    # fetches the page itself, as a fresh load does.
    page.goto(real_site + "explain/puz-classic/")
    meta = meta_tags(page)
    assert meta["og:title"].startswith("The classic: async1, async2, promise1, promise2")
    assert meta["og:description"] == meta["description"] != ""
    assert meta["og:url"] == real_site + "explain/puz-classic/"
    assert meta["twitter:card"] == "summary_large_image"
    image = meta["og:image"]
    assert image == real_site + "assets/looplens-card.png", "an absolute URL from site_url"
    card = page.request.get(image)
    assert card.ok and card.body()[:8] == b"\x89PNG\r\n\x1a\n"
    # a PNG's width and height are the first fields of its IHDR chunk
    assert int.from_bytes(card.body()[16:20]) == 1200 and int.from_bytes(card.body()[20:24]) == 630
    block = page.locator('div.looplens[data-looplens-id="puz-classic"]')
    # the snippet is a question here too; its run is there once revealed
    block.locator(".looplens-predict-reveal").click()
    block.locator("label", has_text="Step through").click()
    player = block.locator(".looplens-player")
    player.locator(".looplens-player-forward").click()
    assert player.locator(".looplens-player-position").text_content() == "step 2 / " + str(
        player.evaluate("p => JSON.parse(p.dataset.trace).events.length")
    )
    # the answers' glossary links land on the queue's entry
    block.locator(".looplens-predict-note a").first.click()
    page.wait_for_url(real_site + "glossary/#queue-sync")
    # Instant navigation sets the URL before it swaps the content in: wait for the entry.
    page.wait_for_selector("#queue-sync", state="attached", timeout=10_000)
    assert page.locator("#queue-sync").count() == 1
    page.close()
    assert [error for error in errors if OFFLINE_ONLY not in error] == []


def test_turns_show_in_the_player_and_the_diagram(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A hand-made trace with turns set: the player names each step's turn, and Mermaid draws
    the diagram with its turn notes (a syntax error would draw an error message instead)."""
    trace = Trace.from_json((PROJECT / "tests/golden/worker-and-stderr.trace.json").read_text())
    root = tmp_path_factory.mktemp("turns")
    assets = PROJECT / "plugin" / "looplens" / "assets"
    for script in ("looplens-dom.js", "looplens-player.js"):
        shutil.copy(assets / script, root / script)
    shutil.copy(mermaid_script(), root / "mermaid.min.js")
    (root / "index.html").write_text(
        # An empty icon, or Chromium asks for /favicon.ico and logs the 404 as an error.
        '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><body>'
        + render_player("one\ntwo\nthree\nfour\nfive\nsix\nseven\n", trace)
        + f'<pre id="source">{html.escape(render_mermaid(trace))}</pre>'
        + '<script src="looplens-dom.js"></script><script src="looplens-player.js"></script>'
        + '<script src="mermaid.min.js"></script></body>',
        encoding="utf-8",
    )
    errors: list[str] = []
    page = new_page(browser, errors)
    with serve(root) as url:
        page.goto(url)
        player = page.locator(".looplens-player")
        steps = [player.locator(".looplens-player-event").text_content()]
        for _ in trace.events[1:]:
            player.locator(".looplens-player-forward").click()
            steps.append(player.locator(".looplens-player-event").text_content())
        svg = page.evaluate(
            "async () => { mermaid.initialize({ startOnLoad: false });"
            " return (await mermaid.render('d', document.getElementById('source').textContent))"
            ".svg; }"
        )
    page.close()
    assert errors == []
    assert steps[0] == "turn 0 · runs from sync: main script"
    # the main script queues the poll callback, in its own turn
    assert steps[2] == "turn 0 · queued on poll: worker.on('message') · line 4"
    assert steps[5] == "turn 0 · prints “hello from the worker” in main script · worker 1"
    assert steps[6] == "turn 1 · runs from poll: worker.on('message') · line 4"
    assert steps[-1] == "turn 2 · prints “Error: boom” in setTimeout · line 7"
    assert "turn 1" in svg and "turn 2" in svg and "Syntax error" not in svg


#: The most an article may weigh on its first load: everything it fetches, as a host that
#: compresses what it sends (GitHub Pages does, with gzip) sends it. Most readers never open a
#: diagram, so Mermaid is no part of it.
FIRST_LOAD_BYTES = 700 * 1024

TABLE_FIT = """() => [...document.querySelectorAll('.looplens-output')]
  .filter(box => box.getClientRects().length)
  .map(box => {
    const queue = box.querySelector('tbody .looplens-queue');
    const place = queue ? queue.getBoundingClientRect() : null;
    return {
      sideways: box.scrollWidth > box.clientWidth + 1,
      queueOffScreen: place !== null && (place.left < 0 || place.right > window.innerWidth),
    };
  })"""


def _articles() -> list[str]:
    docs = PROJECT / "docs"
    return sorted(
        path.relative_to(docs).with_suffix("").as_posix() + "/"
        for path in docs.rglob("*.md")
        if path.name != "index.md"
    )


def _collect_into(found: list[Any]) -> Any:
    return lambda request: found.append(request)


def test_an_article_loads_offline_without_mermaid_and_light(real_site: str, browser: Any) -> None:
    outside: list[str] = []

    def only_the_site(route: Any) -> None:
        if route.request.url.startswith(real_site):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    weights: dict[str, int] = {}
    for article in _articles():
        # A context of its own each time: nothing comes from an earlier page's cache.
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.route("**/*", only_the_site)
        page = context.new_page()
        fetched: list[Any] = []
        page.on("requestfinished", _collect_into(fetched))
        page.goto(real_site + article, wait_until="networkidle")
        urls = [request.url for request in fetched]
        assert not [url for url in urls if "mermaid" in url], f"{article} loaded Mermaid"
        weights[article] = sum(len(gzip.compress(request.response().body())) for request in fetched)
        context.close()
    assert {url.split("/")[2] for url in outside} <= {"api.github.com"}, outside
    heaviest = max(weights, key=weights.__getitem__)
    assert weights[heaviest] <= FIRST_LOAD_BYTES, f"{heaviest} weighs {weights[heaviest]} bytes"


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_every_output_table_fits_and_shows_its_queue(
    real_site: str, browser: Any, width: int, height: int
) -> None:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(real_site) else route.abort()
        ),
    )
    sideways, hidden_queue, tables = [], [], 0
    for article in _articles():
        page.goto(real_site + article, wait_until="load")
        for index, fit in enumerate(page.evaluate(TABLE_FIT)):
            tables += 1
            if fit["sideways"]:
                sideways.append(f"{article} table {index + 1}")
            if fit["queueOffScreen"]:
                hidden_queue.append(f"{article} table {index + 1}")
    page.close()
    assert tables > 50
    assert sideways == [], f"{len(sideways)} of {tables} tables scroll sideways at {width} px"
    assert hidden_queue == [], f"{len(hidden_queue)} tables hide their Queue cell at {width} px"


def test_opening_a_tab_of_one_block_leaves_the_others_as_they_were(
    real_site: str, browser: Any
) -> None:
    # The site links Material's tabs (content.tabs.link): the runs' tab sets must not be.
    page = browser.new_page()
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(real_site) else route.abort()
        ),
    )
    page.goto(real_site + "node/async-operations/", wait_until="load")
    blocks = page.locator("div.looplens")
    assert blocks.count() > 2
    blocks.nth(0).locator(".tabbed-labels label", has_text="Step through").first.click()
    checked = """block => [...block.querySelectorAll('.tabbed-set > input')]
        .findIndex(input => input.checked)"""
    assert blocks.nth(0).evaluate(checked) == 2
    assert [blocks.nth(n).evaluate(checked) for n in range(1, blocks.count())] == [0] * (
        blocks.count() - 1
    )
    page.goto(real_site + "node/microtasks-vs-macrotasks/", wait_until="load")
    others = page.locator("div.looplens")
    assert [others.nth(n).evaluate(checked) for n in range(others.count())] == [0] * others.count()
    page.close()


#: Runs axe-core on the looplens blocks of the page: what it finds serious or critical.
AXE_RUN = """async () => {
  const found = await axe.run({ include: [[".looplens"]] }, {
    resultTypes: ["violations"],
  });
  return found.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "));
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_blocks_pass_axe_core_light_and_dark(real_site: str, browser: Any, scheme: str) -> None:
    axe = axe_script()
    context = browser.new_context(color_scheme=scheme)
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(real_site) else route.abort()
        ),
    )
    page = context.new_page()
    found: dict[str, list[str]] = {}
    for article in _articles():
        page.goto(real_site + article, wait_until="load")
        page.wait_for_function(SETTLED, timeout=15_000)
        if page.locator(".looplens").count() == 0:
            continue
        # Every tab of every block: a diagram drawn, a player mounted, as a reader opens them.
        for label in page.locator(".looplens .tabbed-labels label").all():
            if label.is_visible():
                label.click()
        page.wait_for_timeout(200)
        page.add_script_tag(content=axe)
        violations = page.evaluate(AXE_RUN)
        if violations:
            found[article] = violations
    context.close()
    assert found == {}
