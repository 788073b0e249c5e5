"""Output equivalence between the two sides of a pair (documented in the README).

1. Cells are matched: the code cells of each side, in order, aligned by how
   alike their sources are (marimo's convert rewrites some lines, so equal
   sources are not required). Markdown cells are not compared.
2. In each matched pair of cells, printed text (stdout) and shown values are
   compared as text: both are cut into words and numbers (punctuation and
   brackets ignored, so ``[1, 2.5]`` in one format equals ``(1, 2.5)`` or a
   JSON list in the other); words must be equal, numbers equal within a
   tolerance. A value has several forms (plain text, an HTML table's text,
   marimo's JSON); two values are equal when any forms of theirs are.
3. Images are matched by count, their pixels are not compared (renderers
   differ); marimo UI elements, JavaScript, widgets and values that show a
   memory address are listed as not compared.
4. A cell that raised counts as a failure on that side; the same error on both
   sides is reported as such.
5. Magics and shell escapes of the notebook are named with what marimo's
   convert made of them.
"""

from __future__ import annotations

import difflib
import html
import json
import math
import re
import struct
import base64
from dataclasses import dataclass, field

MATCH_THRESHOLD = 0.3
_TOKEN = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[^\W\d][\w.-]*|[^\s\w\[\](){},:;'\"]")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")
_MPL_REPR = re.compile(r"^\s*(\[?<matplotlib\.|Text\(|\[<|<Figure size|\(-?[\d.]+, -?[\d.]+, -?[\d.]+, -?[\d.]+\)$)")
_TAG = re.compile(r"<[^>]+>")
_PRE = re.compile(r"^\s*<pre[^>]*>(.*)</pre>\s*$", re.DOTALL)
_MAGIC = re.compile(r"^\s*(%%?[A-Za-z_]|!|[\w, ]+=\s*[!%])|\?\??\s*$")
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")


@dataclass
class Item:
    kind: str  # "text", "image", "other"
    forms: list[str] = field(default_factory=list)
    label: str = ""


@dataclass
class CellOutputs:
    source: str
    stdout: str = ""
    items: list[Item] = field(default_factory=list)
    error: tuple[str, str] | None = None


@dataclass
class CellComparison:
    ipynb_cell: int | None  # 1-based index among the notebook's code cells
    marimo_cell: int | None
    preview: str
    status: str  # "same", "different", "error", "no-output", "not-compared"
    differences: list[str] = field(default_factory=list)
    not_compared: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return self.__dict__.copy()


@dataclass
class Comparison:
    cells: list[CellComparison] = field(default_factory=list)
    magics: list[dict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # a side that could not run, cells that raised

    @property
    def differences(self) -> int:
        return sum(1 for cell in self.cells if cell.status == "different")

    @property
    def equivalent(self) -> bool:
        return not self.failures and self.differences == 0

    def to_json(self) -> dict:
        return {
            "equivalent": self.equivalent,
            "differences": self.differences,
            "compared": sum(1 for c in self.cells if c.status == "same"),
            "not_compared": sum(len(c.not_compared) for c in self.cells),
            "failures": self.failures,
            "magics": self.magics,
            "cells": [cell.to_json() for cell in self.cells],
        }


# -- reading outputs ---------------------------------------------------------


def _text(value: object) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _html_text(markup: str) -> str:
    inner = _PRE.match(markup)
    if inner:
        return html.unescape(inner.group(1))
    spaced = re.sub(r"</t[dh]>|</tr>|<br\s*/?>|</p>|</li>", " ", markup, flags=re.IGNORECASE)
    return html.unescape(_TAG.sub(" ", spaced))


def _marimo_json(value: object) -> object:
    """marimo's JSON output tags numbers as strings: "text/plain+float:2.5"."""
    if isinstance(value, str) and value.startswith("text/plain+"):
        kind, _, payload = value[len("text/plain+"):].partition(":")
        if kind in ("float", "int", "bigint"):
            try:
                return float(payload) if kind == "float" else int(payload)
            except ValueError:
                return payload
        return payload
    if isinstance(value, list):
        return [_marimo_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _marimo_json(v) for k, v in value.items()}
    return value


def _image_size(mime: str, data: str) -> str:
    if mime != "image/png":
        return ""
    try:
        head = base64.b64decode(_text(data)[:64])
        width, height = struct.unpack(">II", head[16:24])
        return f" {width}x{height}"
    except Exception:  # noqa: BLE001 - a size is a nicety
        return ""


def _item(data: dict) -> Item:
    for mime in IMAGE_TYPES:
        if mime in data:
            return Item("image", [], f"{mime}{_image_size(mime, data[mime])}")
    for mime in ("application/javascript", "application/vnd.jupyter.widget-view+json"):
        if mime in data:
            return Item("other", [], mime)
    forms: list[str] = []
    markup = _text(data.get("text/html", ""))
    markdown = _text(data.get("text/markdown", ""))
    if "<marimo-" in markup or "&lt;marimo-" in markdown or "<marimo-" in markdown:
        tag = re.search(r"(?:<|&lt;)(marimo-[\w-]+)", markup + markdown)
        return Item("other", [], f"marimo UI element {tag.group(1) if tag else ''}".strip())
    if "application/json" in data:
        value = data["application/json"]
        try:
            value = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            pass
        forms.append(repr(_marimo_json(value)))
    if "text/plain" in data:
        forms.append(_text(data["text/plain"]))
    if markup:
        forms.append(_html_text(markup))
    for mime in ("text/markdown", "text/latex"):
        if mime in data:
            forms.append(_text(data[mime]))
    if not forms:
        return Item("other", [], ", ".join(sorted(data)) or "empty output")
    if all(_ADDRESS.search(form) for form in forms):
        return Item("other", [], f"object repr {forms[0].strip()[:60]!r} (shows a memory address)")
    label = forms[0].strip().replace("\n", " ")
    return Item("text", forms, label[:80])


def read_cell(cell: dict) -> CellOutputs:
    result = CellOutputs(_text(cell.get("source", "")))
    for output in cell.get("outputs", []) or []:
        kind = output.get("output_type")
        if kind == "stream":
            if output.get("name") == "stdout":
                result.stdout += _text(output.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            result.items.append(_item(output.get("data", {}) or {}))
        elif kind == "error":
            result.error = (str(output.get("ename", "")), str(output.get("evalue", "")))
    if any(item.kind == "image" for item in result.items):
        # Jupyter shows the return value of plt.plot() & co. next to the figure; marimo shows the figure.
        result.items = [i for i in result.items if not (i.kind == "text" and any(_MPL_REPR.match(f) for f in i.forms))]
    return result


# -- comparing ---------------------------------------------------------------


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def same_text(a: str, b: str, rtol: float, atol: float) -> bool:
    left, right = tokens(a), tokens(b)
    if len(left) != len(right):
        return False
    for x, y in zip(left, right):
        if x == y:
            continue
        if _NUMBER.match(x) and _NUMBER.match(y):
            if not math.isclose(float(x), float(y), rel_tol=rtol, abs_tol=atol):
                return False
        else:
            return False
    return True


def _same_item(a: Item, b: Item, rtol: float, atol: float) -> bool:
    return any(same_text(x, y, rtol, atol) for x in a.forms for y in b.forms)


def _normalise_source(source: str) -> str:
    """For matching: comments dropped, but magics that marimo's convert commented
    out (``# %time ...``, ``#! ls`` and its subprocess call) read as they were."""
    kept: list[str] = []
    after_shell = False
    for line in (line.strip() for line in source.splitlines()):
        if after_shell and line.startswith(("subprocess.call(", "subprocess.run(")):
            after_shell = False
            continue
        after_shell = line.startswith("#! ")
        if after_shell:
            kept.append("!" + line[3:])
        elif line.startswith(("# %", "#%")):
            kept.append(line.lstrip("# "))
        elif line and not line.startswith("#"):
            kept.append(line)
    return "\n".join(kept)


def magic_only(source: str) -> bool:
    lines = [line for line in source.splitlines() if line.strip() and not line.strip().startswith("#")]
    return bool(lines) and (lines[0].strip().startswith("%%") or all(_MAGIC.search(line) for line in lines))


def align(left: list[str], right: list[str]) -> list[tuple[int | None, int | None]]:
    """Order-keeping alignment of two lists of sources, maximising total likeness."""
    a = [_normalise_source(s) for s in left]
    b = [_normalise_source(s) for s in right]
    n, m = len(a), len(b)
    sim = [[0.0] * m for _ in range(n)]
    for i in range(n):
        for j in range(m):
            if a[i] == b[j]:
                sim[i][j] = 1.0
            else:
                matcher = difflib.SequenceMatcher(None, a[i], b[j], autojunk=False)
                sim[i][j] = matcher.ratio() if matcher.real_quick_ratio() >= MATCH_THRESHOLD else 0.0
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            options = [best[i + 1][j], best[i][j + 1]]
            if sim[i][j] >= MATCH_THRESHOLD:
                options.append(sim[i][j] + best[i + 1][j + 1])
            best[i][j] = max(options)
    pairs: list[tuple[int | None, int | None]] = []
    i = j = 0
    while i < n and j < m:
        if sim[i][j] >= MATCH_THRESHOLD and math.isclose(best[i][j], sim[i][j] + best[i + 1][j + 1]):
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif math.isclose(best[i][j], best[i + 1][j]):
            pairs.append((i, None))
            i += 1
        else:
            pairs.append((None, j))
            j += 1
    pairs.extend((k, None) for k in range(i, n))
    pairs.extend((None, k) for k in range(j, m))
    return pairs


def _preview(source: str) -> str:
    for line in source.splitlines():
        if line.strip() and not line.strip().startswith("#"):
            return line.strip()[:70]
    return source.strip()[:70]


def compare_cell(left: CellOutputs | None, right: CellOutputs | None, rtol: float, atol: float) -> tuple[str, list[str], list[str]]:
    differences: list[str] = []
    not_compared: list[str] = []
    sides = (("notebook", left), ("marimo", right))
    for name, side in sides:
        if side:
            not_compared += [f"{name}: {item.label}" for item in side.items if item.kind == "other"]
    if left is not None and magic_only(left.source) and not (right and right.error):
        for name, side in sides:
            if side and (side.stdout.strip() or any(i.kind != "other" for i in side.items)):
                not_compared.append(f"{name}: output of magics or shell escapes, which marimo's convert rewrites or drops")
        return ("not-compared" if not_compared else "no-output"), differences, not_compared
    if left is None or right is None:
        present = left or right
        name = "notebook" if left else "marimo"
        shown = [i for i in present.items if i.kind != "other"]
        if present.error:
            differences.append(f"only the {name} side has this cell, and it raised {present.error[0]}: {present.error[1]}")
        elif shown or present.stdout.strip():
            what = ", ".join(i.label for i in shown) or present.stdout.strip()[:80]
            differences.append(f"only the {name} side has this cell, and it shows output: {what}")
        return ("different" if differences else ("not-compared" if not_compared else "no-output")), differences, not_compared
    if left.error or right.error:
        if left.error and right.error and left.error[0] == right.error[0]:
            return "error", [f"both sides raised {left.error[0]}: {left.error[1]}"], not_compared
        for name, side in sides:
            if side.error:
                differences.append(f"{name} raised {side.error[0]}: {side.error[1]}")
            else:
                differences.append(f"{name} ran without error")
        return "different", differences, not_compared
    if not same_text(left.stdout, right.stdout, rtol, atol):
        differences.append(f"printed text differs: notebook {left.stdout.strip()[:120]!r} / marimo {right.stdout.strip()[:120]!r}")
    for kind in ("text", "image"):
        a = [i for i in left.items if i.kind == kind]
        b = [i for i in right.items if i.kind == kind]
        if len(a) != len(b):
            differences.append(
                f"{len(a)} {kind} output(s) in the notebook, {len(b)} in marimo: "
                f"notebook [{'; '.join(i.label for i in a)}] / marimo [{'; '.join(i.label for i in b)}]"
            )
            continue
        for x, y in zip(a, b):
            if kind == "image":
                not_compared.append(f"image: notebook {x.label} / marimo {y.label} (pixels not compared)")
            elif not _same_item(x, y, rtol, atol):
                differences.append(f"value differs: notebook {x.label!r} / marimo {y.label!r}")
    if differences:
        return "different", differences, not_compared
    compared = left.stdout.strip() or any(i.kind == "text" for i in left.items)
    return ("same" if compared else ("not-compared" if not_compared else "no-output")), differences, not_compared


def magics_of(notebook_cells: list[dict], marimo_text: str) -> list[dict]:
    """Each magic or shell escape of the notebook, and what marimo's convert made of it."""
    found = []
    code_index = 0
    marimo_lines = [line.strip() for line in marimo_text.splitlines()]
    for cell in notebook_cells:
        if cell.get("cell_type") != "code":
            continue
        code_index += 1
        for line in _text(cell.get("source", "")).splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#") or not _MAGIC.search(line):
                continue
            if f"# {stripped}" in marimo_lines or f"#{stripped}" in marimo_lines:
                treatment = "commented out by marimo convert: it does not run in marimo"
            elif stripped.startswith("!") and f"#! {stripped[1:].strip()}" in marimo_lines:
                treatment = "rewritten by marimo convert as a subprocess call"
            elif stripped in marimo_lines:
                treatment = "kept as is by marimo convert: not Python, the marimo cell fails"
            else:
                treatment = "dropped or rewritten by marimo convert"
            found.append({"cell": code_index, "line": stripped[:100], "treatment": treatment})
    return found


def compare(notebook_cells: list[dict], marimo_cells: list[dict], marimo_text: str = "", rtol: float = 1e-6, atol: float = 1e-9) -> Comparison:
    left = [read_cell(c) for c in notebook_cells if c.get("cell_type") == "code"]
    right = [read_cell(c) for c in marimo_cells if c.get("cell_type") == "code"]
    result = Comparison(magics=magics_of(notebook_cells, marimo_text))
    for i, j in align([c.source for c in left], [c.source for c in right]):
        a = left[i] if i is not None else None
        b = right[j] if j is not None else None
        status, differences, not_compared = compare_cell(a, b, rtol, atol)
        preview = _preview((a or b).source)
        result.cells.append(
            CellComparison(None if i is None else i + 1, None if j is None else j + 1, preview, status, differences, not_compared)
        )
    for name, cells in (("notebook", left), ("marimo", right)):
        raised = [(n + 1, c.error) for n, c in enumerate(cells) if c.error]
        if raised:
            first = raised[0]
            result.failures.append(
                f"{name}: {len(raised)} cell(s) raised an error (first: cell {first[0]}, {first[1][0]}: {first[1][1][:100]})"
            )
    return result
