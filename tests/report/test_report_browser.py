"""report.html in a real headless Chromium (Debian's): the charts render, nothing is fetched, no console
errors, and it fits a phone; the screenshots are kept under the test's tmp dir (paths printed)."""

from pathlib import Path

import pytest

from escalation.report import write_report
from escalation.report.sample import sample_report

CHROMIUM = "/usr/bin/chromium"
CHARTS = ("chart-reasons", "chart-acceptance", "chart-payment", "chart-money", "chart-autonomy")
DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "report.png"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


@pytest.mark.parametrize(("viewport", "name"), [((1000, 900), "desktop"), ((390, 844), "phone")])
def test_report_page_renders_its_charts_without_errors(
    browser, tmp_path, capsys, record_property, viewport, name
):
    files = write_report(sample_report(), tmp_path)
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    errors, fetched = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: fetched.append(r.url))
    page.goto(files.html.as_uri())
    page.wait_for_load_state("load")
    for chart in CHARTS:
        box = page.locator(f"svg#{chart}").bounding_box()
        assert box and box["width"] > 100 and box["height"] > 30, (chart, box)
    assert page.locator("#chart-reasons rect").count() == 4
    assert page.locator("#chart-money rect").count() == 6
    assert page.locator("#chart-autonomy circle").count() == 4
    assert page.locator("#chart-payment rect[fill='#e8871e']").count() > 0  # skipped time shown apart
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]  # no sideways scrolling
    shot = tmp_path / f"report-{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    record_property("screenshot", str(shot))
    with capsys.disabled():
        print(f"\nscreenshot: {shot}")
    assert shot.stat().st_size > 10_000
    assert errors == [] and fetched == [files.html.as_uri()]
    page.close()


def test_readme_screenshot_is_there_and_small():
    assert DOCS_SHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert DOCS_SHOT.stat().st_size < 300_000
