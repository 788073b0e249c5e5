"""The benchmark suite of jupyter-marimo-proxy: ``python -m benchmarks`` (see BENCHMARKS.md)."""
