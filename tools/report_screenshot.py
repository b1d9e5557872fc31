"""Writes docs/report.png: a report in Debian's headless Chromium (needs /usr/bin/chromium).

`.venv/bin/python tools/report_screenshot.py [demo-out/report.json]`: the report of a `make demo` run
(what the README shows), or the built-in sample when no file is given.
"""

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from escalation.report import read_report, write_report
from escalation.report.sample import sample_report

OUT = Path(__file__).resolve().parents[1] / "docs" / "report.png"
LIMIT = 300_000  # bytes: the README's image stays small


def main() -> None:
    """Renders the report and saves its screenshot, scaled down until it fits the limit."""
    report = read_report(sys.argv[1]) if len(sys.argv) > 1 else sample_report()
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        page_file = write_report(report, folder).html
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        for scale in (1.0, 0.85, 0.7, 0.6):
            page = browser.new_page(viewport={"width": 1000, "height": 900}, device_scale_factor=scale)
            page.goto(page_file.as_uri())
            page.screenshot(path=str(OUT), full_page=True)
            page.close()
            if OUT.stat().st_size < LIMIT:
                break
        browser.close()
    size = OUT.stat().st_size
    print(f"wrote {OUT} ({size:,} bytes)")
    if size >= LIMIT:
        sys.exit(f"{OUT} is {size:,} bytes, over {LIMIT:,}: shorten the sample or lower the scale")


if __name__ == "__main__":
    main()
