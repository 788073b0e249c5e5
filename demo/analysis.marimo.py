import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import csv
    import statistics
    from pathlib import Path

    import marimo as mo
    return Path, csv, mo, statistics


@app.cell
def _(mo):
    mo.md("""
    # Temperature by site

    Thirty days of readings from three field sites (`data/measurements.csv`).
    The same analysis lives in `analysis.ipynb`; both read one data file and
    share one `requirements.txt`.
    """)
    return


@app.cell
def _(Path, csv):
    data_file = Path(__file__).parent / "data" / "measurements.csv"
    with data_file.open(newline="") as handle:
        readings = [
            {"site": row["site"], "day": int(row["day"]), "temperature_c": float(row["temperature_c"])}
            for row in csv.DictReader(handle)
        ]
    sites = sorted({row["site"] for row in readings})
    sites
    return readings, sites


@app.cell
def _(mo, sites):
    site_picker = mo.ui.dropdown(options=sites, value=sites[0], label="Site")
    site_picker
    return (site_picker,)


@app.cell
def _(readings, site_picker, statistics):
    chosen = [row["temperature_c"] for row in readings if row["site"] == site_picker.value]
    summary = {
        "site": site_picker.value,
        "days": len(chosen),
        "mean_c": round(statistics.mean(chosen), 2),
        "stdev_c": round(statistics.stdev(chosen), 2),
        "min_c": min(chosen),
        "max_c": max(chosen),
    }
    summary
    return (summary,)


@app.cell
def _(mo, readings, sites, statistics):
    table = [
        {"site": site, "mean_c": round(statistics.mean(r["temperature_c"] for r in readings if r["site"] == site), 2)}
        for site in sites
    ]
    mo.ui.table(table, selection=None)
    return


if __name__ == "__main__":
    app.run()
