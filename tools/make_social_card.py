"""Draw the site's link-preview card (docs/assets/looplens-card.png, 1200×630) with the headless
Chromium that the browser tests use, from the HTML card below.

Run it after changing the card: `.venv/bin/python tools/make_social_card.py`; commit the PNG.
The output lines on the card are those of the site's first example (micro-vs-macro).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from looplens.queues import QUEUES_BY_NAME

PROJECT = Path(__file__).parent.parent
CARD = PROJECT / "docs" / "assets" / "looplens-card.png"
WIDTH, HEIGHT = 1200, 630
BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")

LINES = [("Start", "sync"), ("End", "sync"), ("Promise", "microtask"), ("Timeout", "timers")]

HTML = """<!doctype html><html><head><meta charset="utf-8"><style>
body {{ margin: 0; width: 1200px; height: 630px; font-family: "DejaVu Sans", sans-serif;
  background: linear-gradient(135deg, #4527a0 0%, #673ab7 55%, #7e57c2 100%); color: #fff;
  display: flex; align-items: center; }}
.text {{ flex: 1; padding: 0 40px 0 80px; }}
h1 {{ font-size: 96px; margin: 0 0 18px; letter-spacing: -2px; }}
p {{ font-size: 36px; line-height: 1.3; margin: 0; opacity: 0.92; }}
.run {{ width: 420px; margin-right: 80px; background: #1e1e2e; border-radius: 18px;
  padding: 28px 32px; box-shadow: 0 20px 60px #0006; font-family: "DejaVu Sans Mono", monospace; }}
.row {{ display: flex; justify-content: space-between; align-items: center; font-size: 30px;
  padding: 10px 0; border-bottom: 1px solid #ffffff1a; }}
.row:nth-last-child(2) {{ border-bottom: 0; }}
.chip {{ font-size: 22px; padding: 4px 14px; border-radius: 18px; }}
.caption {{ font-size: 18px; opacity: 0.6; margin-top: 14px;
  font-family: "DejaVu Sans", sans-serif; }}
</style></head><body>
<div class="text"><h1>looplens</h1>
<p>The event loop of Node.js and asyncio, shown by real runs: every line with the queue it ran
from.</p></div>
<div class="run">{rows}<div class="caption">printed by a real run at build time</div></div>
</body></html>"""


def card_html() -> str:
    rows = "".join(
        f'<div class="row"><span>{text}</span><span class="chip" '
        f'style="background:{QUEUES_BY_NAME[queue].colour}55">{queue}</span></div>'
        for text, queue in LINES
    )
    return HTML.format(rows=rows)


def main() -> int:
    executable = next((path for path in BROWSERS if Path(path).exists()), None)
    if executable is None:
        print("no chromium found: apt-get install chromium", file=sys.stderr)
        return 1
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        page.set_content(card_html())
        CARD.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(CARD))
        browser.close()
    print(f"wrote {CARD.relative_to(PROJECT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
