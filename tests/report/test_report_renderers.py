"""The three renderings: a terminal of 100 columns, report.json with stable keys, one escaped HTML page."""

import json
import re

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from rich.cells import cell_len
from rich.console import Console

from escalation.report import (
    Dispute,
    ReportError,
    Ruling,
    read_report,
    render_html,
    render_terminal,
    report_json,
    write_report,
)
from escalation.report.__main__ import main
from escalation.report.sample import sample_report
from tests.report.strategies import reports

TOP_KEYS = ["params", "tickets", "reasons", "disputes", "timings", "money", "gas", "autonomy", "assumptions",
            "notes", "derived"]  # fmt: skip
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=1>'


def _terminal_at(report, width: int) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    render_terminal(report, console)
    return console.export_text()


@pytest.mark.parametrize("width", [100, 160])
def test_terminal_fits_100_columns_and_shows_the_key_figures(width):
    text = _terminal_at(sample_report(), width)
    assert max(cell_len(line) for line in text.splitlines()) <= 100
    for figure in ("2,000", "1,868", "6.6% of tickets", "2,665.00 USDC", "116.15 USDC", "66.00 USDC",
                   "26.65 USDC", "40.00 USDC", "306,815 gas", "$0.00184", "T-10003: worker paid",
                   "p50 30.3 min", "20 include 20.0 h of", "skipped time", "$2,250,000-$6,500,000",
                   "95.2%", "Gas at 30 gwei, POL at $0.20", "50-100 full-time agents"):  # fmt: skip
        assert figure in text, figure


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(reports())
def test_any_report_fits_100_columns(report):
    assert (
        max(cell_len(line) for line in _terminal_at(report, 100).splitlines()) <= 100
    )  # cells, as a terminal counts


def test_json_has_stable_keys_and_reads_back(tmp_path):
    report = sample_report()
    files = write_report(report, tmp_path / "demo-out")
    body = json.loads(files.json.read_text())
    assert list(body) == TOP_KEYS
    assert list(body["reasons"]) == ["low_confidence", "frustration", "compliance_legal", "novel"]
    assert list(body["money"]) == ["rewards_paid", "refunds", "oracle_fees", "protocol_fees", "slashes",
                                   "arbitration_fees"]  # fmt: skip
    assert body["derived"]["escalation_to_payment"]["with_skipped"] == 20
    assert body["derived"]["economics"]["team_per_year_high_usd"] == 6_500_000
    assert read_report(files.json) == report
    assert report_json(read_report(files.json)) == files.json.read_text()  # byte-stable
    assert not list(tmp_path.glob("demo-out/*.partial"))


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reports())
def test_any_report_survives_json(tmp_path, report):
    assert read_report(write_report(report, tmp_path).json) == report


def test_html_is_one_page_with_its_charts_and_every_text_escaped():
    report = sample_report().model_copy(
        update={
            "notes": [HOSTILE],
            "disputes": [Dispute(ticket=HOSTILE, opened_by="agent", ruling=Ruling.SPLIT)],
        }
    )
    page = render_html(report)
    assert "<script" not in page and "onerror=1>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    for chart in ("chart-reasons", "chart-acceptance", "chart-payment", "chart-money", "chart-autonomy"):
        assert f'<svg id="{chart}"' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "the page fetches something"
    assert "2,665.00 USDC" in page and "includes skipped simulated time" in page


def test_unwritable_folder_is_said_plainly(tmp_path):
    (tmp_path / "taken").write_text("a file where the folder should be")
    with pytest.raises(ReportError, match=r"cannot create the report folder .*taken"):
        write_report(sample_report(), tmp_path / "taken")
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ReportError, match="holds no report object"):
        read_report(bad)


def test_cli_renders_the_sample_and_rereads_a_report_at_other_prices(tmp_path):
    runner = CliRunner()
    made = runner.invoke(main, ["--sample", str(tmp_path / "a")])
    assert made.exit_code == 0, made.output
    assert "Support operation report" in made.output and (tmp_path / "a" / "report.html").exists()
    again = runner.invoke(main, ["--from", str(tmp_path / "a" / "report.json"), "--gwei", "60",
                                 str(tmp_path / "b")])  # fmt: skip
    assert again.exit_code == 0, again.output
    assert read_report(tmp_path / "b" / "report.json").assumptions.gas_gwei == 60
    assert "Gas at 60 gwei" in again.output
    neither = runner.invoke(main, [str(tmp_path / "c")])
    assert neither.exit_code == 2 and "exactly one of --sample or --from" in neither.output
    (tmp_path / "broken.json").write_text('{"params": {}}')
    broken = runner.invoke(main, ["--from", str(tmp_path / "broken.json"), str(tmp_path / "d")])
    assert broken.exit_code == 1 and "report: " in broken.output and "tickets" in broken.output
