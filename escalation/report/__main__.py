"""`python -m escalation.report`: renders the built-in sample, or re-renders a report.json."""

import sys
from pathlib import Path

import click
from pydantic import ValidationError
from rich.console import Console

from escalation.report.files import ReportError, read_report, write_report
from escalation.report.sample import sample_report
from escalation.report.terminal import WIDTH, render_terminal


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--sample", is_flag=True, help="Render the built-in sample report (not a measured run).")
@click.option("--from", "source", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Re-render a report.json written by a run.")  # fmt: skip
@click.option("--pol-usd", type=float, help="POL price in dollars for the gas costs.")
@click.option("--gwei", type=float, help="Gas price in gwei for the gas costs.")
def main(out_dir: Path, sample: bool, source: Path | None, pol_usd: float | None, gwei: float | None) -> None:
    """Writes OUT_DIR/report.json and OUT_DIR/report.html and prints the report."""
    if sample == (source is not None):
        raise click.UsageError("give exactly one of --sample or --from REPORT_JSON")
    try:
        report = sample_report() if sample else read_report(source)  # type: ignore[arg-type]
        prices = {k: v for k, v in (("pol_usd", pol_usd), ("gas_gwei", gwei)) if v is not None}
        if prices:
            assumptions = report.assumptions.model_validate({**report.assumptions.model_dump(), **prices})
            report = report.model_copy(update={"assumptions": assumptions})
        files = write_report(report, out_dir)
    except (ReportError, ValidationError) as exc:
        click.echo(f"report: {exc}", err=True)
        sys.exit(1)
    render_terminal(report, Console(width=WIDTH))
    click.echo(f"wrote {files.json} and {files.html}")


if __name__ == "__main__":
    main()
