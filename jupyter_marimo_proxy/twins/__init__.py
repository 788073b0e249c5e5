"""Twin notebooks: ``x.ipynb`` and ``x.marimo.py`` kept in step and shown to compute the same.

- ``record``: the sync record (``marimo-twins.json`` beside the files, meant to be committed)
- ``discovery``: which files are twins and what state each pair is in
- ``sync``: regenerate the stale side with marimo's own convert and export
- ``run``: run both sides headless on the marimo venv
- ``compare``: output equivalence, cell by cell
- ``report``: the readable report and the JSON one
- ``command``: ``jupyter marimo-proxy twins``
- ``handlers``: the REST routes for JupyterLab
"""
