"""The report: one self-contained ``report.html`` per run folder, explaining every decision.

The page holds, with no network access needed:

* summary: inputs per source and format, counts, clusters by size, records per source per cluster,
  timings, versions, the settings file, warnings and data notes;
* model: Splink's match-weights and m/u charts, the levels' m, u and weights, λ, EM sessions, the
  settings file;
* score distribution: a histogram of every scored pair's match weight with the threshold and the
  review band;
* decisions: every linked pair and every pair in the review band in a searchable, sortable,
  paginated table; selecting one shows both records and its waterfall (table and chart);
* clusters: the works with more than one record, their members and the merged record with the
  record each value came from;
* works at risk: the multi-record works most likely to be wrongly merged first (weakest link, bridges
  whose removal splits the work, links refused towards other works; ``linkage.review.cluster_diagnostics``,
  also written as ``cluster_diagnostics.parquet``), each with its bridges' waterfalls and its members;
* review: the review band's pairs, most uncertain first, each with same / different / unsure buttons;
  the marks are kept in the browser (``localStorage``) and the page builds the decisions file for
  download (a ``Blob`` behind an ``<a download>`` link, previewed in the page) for ``linkage review import``;
* accuracy (when ``metrics.json`` exists): precision/recall/F1 against the threshold, the
  precision-recall curve, confusion counts, and false positives/negatives with their waterfalls.

Records are stored once, long text is cut, and the data is gzip-compressed and base64-encoded in the
page (the browser inflates it with ``DecompressionStream``); waterfalls are built when a pair is
selected. Up to ``MAX_DECISIONS`` decisions are kept (beyond that, the most confident links are left
out and the page says how many); ``linkage explain RUN --all`` always exports every decision.

The page's address selects a view: ``report.html#tab=decisions&q=loss%20landscapes&open=first`` opens the
decisions, searches them and shows the first match's waterfall (``cq=`` / ``copen`` do the same for
clusters, ``ropen`` opens the riskiest work; ``tab=`` is one of overview, model, decisions, clusters, risk,
review, accuracy, about). On the review page, ``#tab=review&who=NAME&mark=0:same,3:different,ID_L|ID_R:unsure``
marks pairs (by their position in the review list, or by their ids; ``:clear`` unmarks) and ``export=1``
prepares the decisions file (``body[data-review-file]`` then holds its row count): how the browser test
drives it.

Charts are Vega-Lite specs (Splink's chart classes where Splink has the chart, Altair for the rest),
drawn by one inline Vega/Vega-Lite/Vega-Embed bundle from ``vl_convert.javascript_bundle()`` (cached on
disk after its first build). ``export_charts`` writes each chart as PNG and SVG offline.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import html
import itertools
import json
import math
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .explain import (
    MAX_TEXT,
    Comparison,
    RunData,
    combine_values,
    format_value,
    is_missing,
    probability,
    raw_field,
    score_pairs_now,
    truncate,
)

MAX_DECISIONS = 250_000     # decisions kept in the page; beyond it the most confident links are left out
MAX_CLUSTERS = 100_000      # multi-record works listed in the page (largest first)
MAX_ERROR_PAIRS = 5_000     # false positives / false negatives listed, each
MAX_RESCORE = 5_000         # listed error pairs blocking never scored that are scored for their waterfall
MAX_DATA_NOTES = 50         # records with markup in their text listed in the summary
MAX_BRIDGES_SHOWN = 20      # bridge edges listed per work at risk
MAX_DECIDED_SHOWN = 50_000  # earlier decisions on file shown beside the review band's pairs
TEXT_LIMITS = {"title": 300, "authors": 200, "venue": 150, "date": 40, "doi": 100}
RAW_FIELDS = ("title", "authors", "date", "venue", "doi")
_MARKUP_RE = re.compile(r"<\s*/?\s*[A-Za-z!][^>]*>|&#?[A-Za-z0-9]{2,8};")
_GAMMA_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"
_CHART_TITLES = {
    "match_weights": "Match weights of each comparison level (Splink)",
    "m_u": "m and u probabilities of each comparison level (Splink)",
    "histogram": "Match weights of every scored pair",
    "accuracy": "Precision, recall and F1 against the threshold",
    "precision_recall": "Precision-recall curve",
    "cluster_sizes": "Works by number of records",
}


# ---------------------------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------------------------


def write_report(run_dir: str | Path, *, max_decisions: int = MAX_DECISIONS) -> Path:
    """Build ``report.html`` in the run folder ``run_dir`` and return its path.

    Also writes ``cluster_diagnostics.parquet`` (``linkage.review.cluster_diagnostics``), which the
    page's "Works at risk" view shows.
    """
    from .review import cluster_diagnostics, write_cluster_diagnostics

    run = RunData(run_dir)
    diagnostics = cluster_diagnostics(run)
    write_cluster_diagnostics(run, diagnostics)
    page = build_report_html(run, max_decisions=max_decisions, diagnostics=diagnostics)
    out = run.out / "report.html"
    tmp = out.with_name(".report.html.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    return out


def build_report_html(run: RunData, *, max_decisions: int = MAX_DECISIONS,
                      diagnostics: pd.DataFrame | None = None) -> str:
    """The report page of a run as one HTML string."""
    meta, data = build_payload(run, max_decisions=max_decisions, diagnostics=diagnostics)
    meta["charts"] = {name: {"title": _CHART_TITLES.get(name, name), "spec": spec}
                      for name, spec in report_charts(run).items()}
    meta["waterfall_spec"] = waterfall_chart_template()
    packed = base64.b64encode(gzip.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":"),
                                                       allow_nan=False).encode("utf-8"), compresslevel=6,
                                            mtime=0)).decode("ascii")
    meta["data_bytes"] = len(packed)
    title = f"linkage report: {run.out.resolve().name}"
    parts = {
        "TITLE": html.escape(title),
        "CSS": _template("report.css"),
        "VEGA": script_safe(vega_bundle()),
        "JS": script_safe(_template("report.js")),
        "META": json_for_script(meta),
        "DATA": packed,
    }
    return re.sub(r"\{\{([A-Z]+)\}\}", lambda m: parts[m.group(1)], _template("report.html"))


def export_charts(run_dir: str | Path, out_dir: str | Path, formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Write every chart of the report as PNG and/or SVG files into ``out_dir`` (offline, via vl-convert)."""
    import vl_convert as vlc

    run = RunData(run_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, spec in report_charts(run).items():
        for fmt in formats:
            p = out / f"{name}.{fmt}"
            if fmt == "png":
                p.write_bytes(vlc.vegalite_to_png(spec, scale=2))
            elif fmt == "svg":
                p.write_text(vlc.vegalite_to_svg(spec), encoding="utf-8")
            else:
                raise ValueError(f"unknown chart format {fmt!r} (png or svg)")
            written.append(p)
    return written


# ---------------------------------------------------------------------------------------------------------
# HTML helpers
# ---------------------------------------------------------------------------------------------------------


def _template(name: str) -> str:
    return resources.files("linkage").joinpath("templates", name).read_text(encoding="utf-8")


def finite(obj: Any) -> Any:
    """``obj`` with NaN and infinite floats replaced by None (JSON has no NaN), numpy scalars as Python."""
    if isinstance(obj, dict):
        return {str(k): finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def json_for_script(obj: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: ``<``, ``>`` and ``&`` escaped, so no
    ``</script>`` or ``<!--`` from record text can end or alter the script element."""
    text = json.dumps(finite(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def script_safe(js: str) -> str:
    """JavaScript source safe to inline in a ``<script>`` element."""
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)


_BUNDLE: str | None = None


def _cache_dir() -> Path:
    if os.environ.get("LINKAGE_CACHE_DIR"):
        return Path(os.environ["LINKAGE_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "linkage"
    try:
        return Path.home() / ".cache" / "linkage"
    except RuntimeError:  # no home folder
        return Path(tempfile.gettempdir()) / "linkage-cache"


def vega_bundle() -> str:
    """One JavaScript bundle of Vega, Vega-Lite and Vega-Embed (``window.vega``, ``vegaLite``, ``vegaEmbed``).

    Built by ``vl_convert.javascript_bundle()`` (about 3 s) once per vl-convert version, then read from
    the cache folder (``$LINKAGE_CACHE_DIR``, else ``$XDG_CACHE_HOME/linkage``, else ``~/.cache/linkage``).
    """
    global _BUNDLE
    if _BUNDLE is not None:
        return _BUNDLE
    import vl_convert as vlc

    try:
        from importlib.metadata import version

        vlc_version = version("vl-convert-python")
    except Exception:
        vlc_version = "unknown"
    key = re.sub(r"[^A-Za-z0-9._-]", "_", f"{vlc_version}-vega{vlc.get_vega_version()}-vl{vlc.get_vegalite_versions()[-1]}")
    path = _cache_dir() / f"vega-bundle-{key}.js"
    try:
        text = path.read_text(encoding="utf-8")
        if len(text) > 100_000 and "vegaEmbed" in text:
            _BUNDLE = text
            return text
    except OSError:
        pass
    text = vlc.javascript_bundle()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".vega-bundle-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:  # an unwritable cache: build again next time
        pass
    _BUNDLE = text
    return text


# ---------------------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------------------


def model_charts(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Splink's match-weights and m/u parameter charts of a saved model (Vega-Lite dicts).

    The linker only needs the model, so it runs over an empty table of the model's columns.
    """
    from .explain import model_linker
    from .normalise import NORMALISED_COLUMNS
    from .scoring import model_frame

    empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in ["unique_id", "source", *NORMALISED_COLUMNS]})
    linker, _ = model_linker(model, model_frame(empty), name="__linkage_report_model")
    return {"match_weights": linker.visualisations.match_weights_chart().chart_dict,
            "m_u": linker.visualisations.m_u_parameters_chart().chart_dict}


def _bins(w: np.ndarray) -> tuple[np.ndarray, float]:
    lo, hi = math.floor(float(w.min())), math.ceil(float(w.max()))
    if hi <= lo:
        hi = lo + 1
    width = 0.5
    for width in (0.5, 1.0, 2.0, 5.0, 10.0, 20.0):
        if (hi - lo) / width <= 60:
            break
    start = math.floor(lo / width) * width
    edges = np.arange(start, hi + width, width)
    if len(edges) < 2:
        edges = np.array([start, start + width])
    return edges, width


def histogram_chart(weights: np.ndarray, threshold: float, band: tuple[float, float]) -> dict[str, Any]:
    """Splink's match-weight histogram of ``weights`` with the threshold (rule) and review band (shaded)."""
    import altair as alt
    from splink.internals.charts import MatchWeightsHistogramChart

    w = np.asarray(weights, dtype=float)
    w = w[np.isfinite(w)]
    if len(w):
        edges, _ = _bins(w)
        counts, _ = np.histogram(w, bins=edges)
        recs = [{"splink_score_bin_low": float(a), "splink_score_bin_high": float(b), "count_rows": int(c)}
                for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True)]
    else:
        recs = [{"splink_score_bin_low": threshold - 1, "splink_score_bin_high": threshold, "count_rows": 0}]
    chart = MatchWeightsHistogramChart(recs)
    chart.set_width_height(width=640, height=260)
    spec = chart.chart_dict
    spec.pop("$schema", None)
    spec.pop("config", None)
    spec.pop("title", None)
    bars = alt.Chart.from_dict(spec)
    lo, hi = threshold + band[0], threshold + band[1]
    shade = alt.Chart(alt.Data(values=[{"from": lo, "to": hi, "what": f"review band {lo:.2f} to {hi:.2f}"}])) \
        .mark_rect(color="#f0a030", opacity=0.18).encode(x="from:Q", x2="to:Q", tooltip=[alt.Tooltip("what:N",
                                                                                                     title="")])
    rule = alt.Chart(alt.Data(values=[{"t": threshold, "what": f"threshold {threshold:.2f} bits "
                                                              f"(probability {probability(threshold):.3f})"}])) \
        .mark_rule(color="#c0392b", strokeWidth=2).encode(x="t:Q", tooltip=[alt.Tooltip("what:N", title="")])
    layered = alt.layer(shade, bars, rule).properties(
        title=alt.TitleParams("Match weights of every scored pair",
                              subtitle=[f"red line: threshold {threshold:.2f} bits; shaded: review band "
                                        f"[{lo:.2f}, {hi:.2f}); mouse wheel zooms"]))
    return layered.configure_title(fontSize=14).to_dict()


def _sweep_records(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for r in metrics.get("edge_sweep") or []:
        t = r.get("threshold")
        if t is None:
            continue
        out.append({"truth_threshold": float(t), "match_probability": probability(float(t)),
                    "tp": r.get("tp"), "fp": r.get("fp"), "fn": r.get("fn"), "tn": None,
                    "precision": r.get("precision"), "recall": r.get("recall"), "f1": r.get("f1"),
                    "tp_rate": r.get("recall"), "fp_rate": None})
    return out


def accuracy_charts(metrics: dict[str, Any], threshold: float) -> dict[str, dict[str, Any]]:
    """Splink's accuracy (precision/recall/F1 vs threshold) and precision-recall charts from ``edge_sweep``."""
    from splink.internals.charts import AccuracyChart, PrecisionRecallChart

    recs = _sweep_records(metrics)
    if not recs:
        return {}
    acc = AccuracyChart(recs, add_metrics=["f1"]).chart_dict
    acc["title"] = {"text": "Precision, recall and F1 against the match-weight threshold",
                    "subtitle": [f"dashed line: the run's threshold ({threshold:.2f} bits); pairs counted "
                                 "on scored edges; click the legend to pick metrics"], "fontSize": 14}
    acc["layer"].append({"data": {"values": [{"t": threshold}]}, "transform": [],
                         "mark": {"type": "rule", "color": "#c0392b", "strokeDash": [5, 4], "strokeWidth": 2},
                         "encoding": {"x": {"field": "t", "type": "quantitative"}}})
    pr_recs = [r for r in recs if (r["tp"] or 0) + (r["fp"] or 0) > 0]
    out = {"accuracy": acc}
    if pr_recs:
        out["precision_recall"] = PrecisionRecallChart(pr_recs).chart_dict
    return out


def cluster_size_chart(sizes: dict[int, int]) -> dict[str, Any]:
    """Bars: number of works by number of records."""
    import altair as alt

    df = pd.DataFrame({"records": [str(k) for k in sizes], "works": list(sizes.values()),
                       "order": list(sizes.keys())})
    return (alt.Chart(df).mark_bar().encode(
        x=alt.X("records:N", sort=alt.SortField("order"), title="records in the work"),
        y=alt.Y("works:Q", scale=alt.Scale(type="symlog"), title="works (symlog scale)"),
        tooltip=["records:N", "works:Q"]).properties(width=alt.Step(28), height=180,
                                                     title="Works by number of records")).to_dict()


def report_charts(run: RunData) -> dict[str, dict[str, Any]]:
    """Every chart of the report as a Vega-Lite dict, by name."""
    charts = model_charts(run.model)
    charts["histogram"] = histogram_chart(run.pairs["match_weight"].to_numpy(dtype=float), run.threshold, run.band)
    sizes = run.clusters.groupby("cluster_id").size().value_counts().sort_index()
    charts["cluster_sizes"] = cluster_size_chart({int(k): int(v) for k, v in sizes.items()})
    if run.metrics:
        charts.update(accuracy_charts(run.metrics, run.threshold))
    return charts


def waterfall_chart_template() -> dict[str, Any]:
    """Splink's waterfall chart spec with no data: the page fills it for the selected pair."""
    from splink.internals.charts import WaterfallChart

    spec = WaterfallChart([{"record_number": 0}], filter_nulls=True).chart_dict
    spec["data"] = {"values": []}
    for p in spec.get("params", []):
        p.pop("bind", None)   # one pair at a time: no record slider
    spec.pop("$schema", None)
    return spec


# ---------------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------------


def _texts(values: Iterable[Any], limit: int) -> list[str | None]:
    """``format_value`` of each value (plain strings take a fast path)."""
    out: list[str | None] = []
    for v in values:
        if v is None:
            out.append(None)
        elif type(v) is str:
            out.append(None if not v or v.isspace() else v if len(v) <= limit else truncate(v, limit))
        elif type(v) is float and v != v:
            out.append(None)
        else:
            out.append(format_value(v, limit))
    return out


def _record_rows(run: RunData, positions: np.ndarray, cluster_index: dict[str, int]) -> list[list[Any]]:
    """Rows of the record store: ids, raw fields, cluster, then what each comparison saw."""
    recs = run.records.iloc[positions].reset_index(drop=True)
    info = run.info
    cols: list[list[Any]] = [recs["unique_id"].astype(str).tolist(), recs["source"].astype(str).tolist(),
                             recs["source_id"].astype(str).tolist() if "source_id" in recs else [None] * len(recs)]
    for f in RAW_FIELDS:
        vals = raw_field(recs, info, f)
        if f == "date":
            year = raw_field(recs, info, "year")
            vals = vals.where(~vals.map(is_missing), year)
        cols.append(_texts(vals.tolist(), TEXT_LIMITS[f]))
    cols.append([cluster_index.get(c, -1) for c in recs["unique_id"].astype(str).map(run.cluster_of).tolist()])
    needed = sorted({c for comp in run.comparisons for c in comp.columns if c in recs.columns})
    col_texts = {c: _texts(recs[c].tolist(), MAX_TEXT) for c in needed}
    for comp in run.comparisons:
        present = [c for c in comp.columns if c in col_texts]
        if not present:
            cols.append([None] * len(recs))
            continue
        columns = [col_texts[c] for c in present]
        vals = []
        for row in zip(*columns, strict=True):
            if not any(row):
                vals.append(None)
            elif len(present) == 1:
                vals.append(row[0])
            else:
                vals.append(combine_values(dict(zip(present, row, strict=True)), comp.columns))
        cols.append(vals)
    return [list(r) for r in zip(*cols, strict=True)] if len(recs) else []


def record_fields(comparisons: Sequence[Comparison]) -> list[str]:
    """Field names of a record-store row (the page reads rows by these positions)."""
    return ["unique_id", "source", "source_id", *RAW_FIELDS, "cluster", *[f"cmp:{c.name}" for c in comparisons]]


def _gamma_string(gammas: np.ndarray) -> list[str]:
    chars = np.array(list(_GAMMA_CHARS))
    g = np.clip(gammas.astype(int) + 1, 0, len(_GAMMA_CHARS) - 1)
    if g.size == 0:
        return []
    return ["".join(row) for row in chars[g]]


def _pair_rows(run: RunData, pairs: pd.DataFrame, pos_of: dict[str, int]) -> list[list[Any]]:
    """Rows ``[left, right, weight, gammas, weight per comparison...]`` (left/right index the record store)."""
    known = pairs["unique_id_l"].astype(str).isin(pos_of) & pairs["unique_id_r"].astype(str).isin(pos_of)
    pairs = pairs[known.to_numpy()]
    if pairs.empty:
        return []
    names = [c.name for c in run.comparisons]
    li = [pos_of[u] for u in pairs["unique_id_l"].astype(str)]
    ri = [pos_of[u] for u in pairs["unique_id_r"].astype(str)]
    mw = np.round(np.nan_to_num(pairs["match_weight"].to_numpy(dtype=float)), 3).tolist()
    gam = np.column_stack([pairs[f"{n}_gamma"].to_numpy() if f"{n}_gamma" in pairs else np.full(len(pairs), -1)
                           for n in names]) if names else np.zeros((len(pairs), 0), dtype=int)
    gs = _gamma_string(gam) if names else [""] * len(pairs)
    ws = [np.round(np.nan_to_num(pairs[f"{n}_weight"].to_numpy(dtype=float)), 3).tolist() if f"{n}_weight" in pairs
          else [0.0] * len(pairs) for n in names]
    return [[a, b, w, g, *cw] for a, b, w, g, *cw in zip(li, ri, mw, gs, *ws, strict=True)]


def _select_decisions(run: RunData, max_decisions: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    d = run.decisions()
    total = len(d)
    info: dict[str, Any] = {"total": total, "shown": total, "limit": max_decisions, "left_out": 0}
    if total > max_decisions:
        w = d["match_weight"].to_numpy(dtype=float)
        lo, hi = run.threshold + run.band[0], run.threshold + run.band[1]
        outside = ~((w >= lo) & (w < hi))
        order = np.lexsort((np.abs(w - run.threshold), outside))  # the review band first, then nearest the threshold
        keep = np.sort(order[:max_decisions])
        dropped = d.drop(index=d.index[keep])
        d = d.iloc[keep].reset_index(drop=True)
        info.update(shown=len(d), left_out=int(len(dropped)),
                    left_out_min_weight=float(dropped["match_weight"].min()))
    return d, info


def _members(clusters: pd.DataFrame, cluster_ids: Sequence[str]) -> dict[str, list[str]]:
    """cluster id -> its members' unique_ids, for the given clusters."""
    c = clusters[clusters["cluster_id"].astype(str).isin(set(cluster_ids))]
    cid = c["cluster_id"].astype(str).to_numpy()
    uid = c["unique_id"].astype(str).to_numpy()
    order = np.argsort(cid, kind="stable")
    cid, uid = cid[order], uid[order]
    if not len(cid):
        return {}
    cuts = np.flatnonzero(cid[1:] != cid[:-1]) + 1
    starts = np.concatenate([[0], cuts])
    return {str(cid[a]): g.tolist() for a, g in zip(starts, np.split(uid, cuts), strict=True)}


def _merged_rows(run: RunData, pos_of: dict[str, int], cluster_ids: list[str]) -> tuple[list[str], list[list[Any]]]:
    """Merged records of the listed clusters: field names and rows ``[cluster_id, members, value, from...]``."""
    m = run.merged
    m = m[m["cluster_id"].astype(str).isin(set(cluster_ids))].copy()
    m.index = m["cluster_id"].astype(str)
    m = m.reindex(cluster_ids)
    skip = {"cluster_id", "size", "member_ids", "sources"}
    fields = [c for c in m.columns if c not in skip and not c.endswith("_from")]
    members = _members(run.clusters, cluster_ids)
    rows = []
    col_texts = {f: _texts(m[f].tolist(), 400 if f == "abstract" else 300) for f in fields}
    col_from = {f: m[f"{f}_from"].tolist() if f"{f}_from" in m.columns else None for f in fields}
    if "year" in fields and "date_from" in m.columns and col_from.get("year") is None:
        col_from["year"] = m["date_from"].tolist()
    for i, cid in enumerate(cluster_ids):
        mem = [pos_of[str(u)] for u in members.get(cid, []) if str(u) in pos_of]
        row: list[Any] = [cid, mem]
        for f in fields:
            src = col_from[f][i] if col_from[f] is not None else None
            row += [col_texts[f][i], pos_of.get(str(src), -1) if isinstance(src, str) else -1]
        rows.append(row)
    return fields, rows


def _data_notes(run: RunData) -> dict[str, Any]:
    """Records whose raw title, authors or venue contain markup or character entities (shown literally)."""
    recs = run.records
    hits, total = [], 0
    for f in ("title", "authors", "venue"):
        vals = raw_field(recs, run.info, f)
        texts = vals.map(lambda v: v if isinstance(v, str) else (format_value(v, 10_000) or ""))
        mask = texts.str.contains(_MARKUP_RE, regex=True, na=False).to_numpy()
        total += int(mask.sum())
        for uid, text in zip(recs["unique_id"].to_numpy()[mask], texts.to_numpy()[mask], strict=True):
            if len(hits) < MAX_DATA_NOTES:
                hits.append({"unique_id": str(uid), "field": f, "text": truncate(text, 200)})
    return {"markup_total": total, "markup": hits}


def _labels_path(run: RunData, metrics: dict[str, Any]) -> Path | None:
    p = (metrics.get("labels") or {}).get("path")
    if not p:
        return None
    for cand in (Path(p), run.out / p, run.out.parent / p):
        if cand.is_file():
            return cand
    return None


def _error_lists(run: RunData, metrics: dict[str, Any]) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """Cluster-level false positives and negatives (capped) with their scores, from the labels file."""
    from .evaluation import error_pairs, read_labels

    path = _labels_path(run, metrics)
    if path is None:
        return {"error": "the labels file named in metrics.json was not found, so false positives and negatives "
                         "are not listed (run 'linkage evaluate' again from the folder it names)"}, {}
    try:
        truth = read_labels(path, run.records)
        ep = error_pairs(run.records, run.clusters, truth, cross_source=bool(metrics.get("cross_source")),
                         limit=MAX_ERROR_PAIRS, pairs=run.pairs)
    except Exception as exc:  # labels that no longer resolve: report the rest
        return {"error": f"false positives and negatives could not be listed: {str(exc).splitlines()[0][:200]}"}, {}
    return {"labels_path": str(path)}, {"fp": ep.false_positives, "fn": ep.false_negatives}


def _scored_error_pairs(run: RunData, lists: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Each error pair with its evidence: from pairs.parquet, else scored now (up to ``MAX_RESCORE``)."""
    p = run.pairs
    keyed = p.set_index(["unique_id_l", "unique_id_r"], drop=False)
    out = {}
    todo: list[tuple[str, str]] = []
    frames = {}
    for name, df in lists.items():
        a = df["unique_id_l"].astype(str).to_numpy()
        b = df["unique_id_r"].astype(str).to_numpy()
        lo, hi = np.where(a <= b, a, b), np.where(a <= b, b, a)
        idx = pd.MultiIndex.from_arrays([lo, hi])
        found = keyed.reindex(idx)
        found["unique_id_l"], found["unique_id_r"] = lo, hi
        found["scored"] = np.where(found["match_weight"].notna(), 1, 0)
        frames[name] = found.reset_index(drop=True)
        for x, y, s in zip(lo, hi, found["scored"], strict=True):
            if not s:
                todo.append((x, y))
    todo = list(dict.fromkeys(todo))[:MAX_RESCORE]
    if todo:
        now = score_pairs_now(run, todo).set_index(["unique_id_l", "unique_id_r"], drop=False)
        for f in frames.values():
            miss = f["scored"].to_numpy() == 0
            if not miss.any():
                continue
            idx = pd.MultiIndex.from_arrays([f.loc[miss, "unique_id_l"], f.loc[miss, "unique_id_r"]])
            got = now.reindex(idx)
            for c in now.columns:
                if c in ("unique_id_l", "unique_id_r"):
                    continue
                if c not in f.columns:
                    f[c] = None
                f.loc[miss, c] = got[c].to_numpy()
            f.loc[miss, "scored"] = np.where(got["match_weight"].notna().to_numpy(), 2, 0)
    for name, f in frames.items():
        out[name] = f
    return out


def _error_rows(run: RunData, f: pd.DataFrame, pos_of: dict[str, int]) -> list[list[Any]]:
    """Rows ``[left, right, weight|null, gammas|null, weights..., scored]`` (scored: 0 no, 1 run, 2 now)."""
    rows = []
    names = [c.name for c in run.comparisons]
    for r in f.to_dict(orient="records"):
        a, b = pos_of[str(r["unique_id_l"])], pos_of[str(r["unique_id_r"])]
        if r.get("scored"):
            g = "".join(_GAMMA_CHARS[min(max(int(r[f"{n}_gamma"]) + 1, 0), len(_GAMMA_CHARS) - 1)] for n in names)
            ws = [round(float(np.nan_to_num(float(r[f"{n}_weight"]))), 3) for n in names]
            rows.append([a, b, round(float(r["match_weight"]), 3), g, *ws, int(r["scored"])])
        else:
            rows.append([a, b, None, None, *([None] * len(names)), 0])
    return rows


def _summary(run: RunData) -> dict[str, Any]:
    info = run.info
    cl = run.clusters
    sizes = cl.groupby("cluster_id").size()
    by_size = {int(k): int(v) for k, v in sizes.value_counts().sort_index().items()}
    src = run.records.set_index("unique_id")["source"].astype(str)
    cs = cl.assign(source=cl["unique_id"].map(src).fillna("?"))
    per = cs.groupby(["cluster_id", "source"]).size().rename("n").reset_index()
    multi = set(sizes[sizes > 1].index)
    per_multi = per[per["cluster_id"].isin(multi)]
    per_source = []
    for s, g in per.groupby("source"):
        gm = per_multi[per_multi["source"] == s]
        per_source.append({"source": s, "records": int(g["n"].sum()), "works": int(len(g)),
                           "in_multi_record_works": int(gm["n"].sum()),
                           "works_with_1": int((gm["n"] == 1).sum()), "works_with_2": int((gm["n"] == 2).sum()),
                           "works_with_3_plus": int((gm["n"] >= 3).sum())})
    parts = per_multi.assign(part=per_multi["source"] + np.where(per_multi["n"] > 1, " ×" + per_multi["n"].astype(str),
                                                                   "")).sort_values(["cluster_id", "part"])
    combos: dict[str, int] = {}
    for _, grp in itertools.groupby(zip(parts["cluster_id"].tolist(), parts["part"].tolist(), strict=True),
                                    key=lambda x: x[0]):
        k = " + ".join(p for _, p in grp)
        combos[k] = combos.get(k, 0) + 1
    combo = sorted(combos.items(), key=lambda kv: (-kv[1], kv[0]))[:25]
    settings_text = None
    sp = (info.get("settings") or {}).get("path")
    if sp:
        try:
            settings_text = truncate(Path(sp).read_text(encoding="utf-8", errors="replace"), 60_000)
        except OSError:
            settings_text = None
    return {
        "run_dir": str(run.out.resolve()), "created": info.get("created"), "report_created":
            dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "linkage_version": info.get("linkage_version"), "versions": info.get("versions") or {},
        "machine": info.get("machine") or {}, "settings": info.get("settings") or {}, "settings_text": settings_text,
        "seed": info.get("seed"), "link_type": info.get("link_type"), "backend": info.get("backend"),
        "inputs": info.get("inputs") or [], "counts": info.get("counts") or {},
        "threshold": info.get("threshold") or {}, "band": list(run.band), "timings": info.get("timings") or {},
        "clustering": {k: v for k, v in (info.get("clustering") or {}).items() if k != "refused_examples"},
        "one_to_one": info.get("one_to_one"), "decisions_file": info.get("decisions"),
        "warnings": [str(w) for w in info.get("warnings") or []], "model_from": info.get("model_from"),
        "cluster_sizes": by_size, "per_source": per_source,
        "compositions": [{"sources": k, "works": int(v)} for k, v in combo],
        "scored_pairs": int(len(run.pairs)),
    }


def _model_meta(run: RunData) -> dict[str, Any]:
    model = run.model
    comps = []
    for c in run.comparisons:
        levels = []
        for g in sorted(c.labels, reverse=True):
            levels.append({"gamma": g, "label": c.labels[g], "m": c.m.get(g), "u": c.u.get(g),
                           "weight": None if g == -1 else round(c.weights.get(g, 0.0), 4), "sql": c.sql.get(g, ""),
                           "tf": c.tf_levels.get(g)})
        comps.append({"name": c.name, "columns": list(c.columns), "levels": levels})
    rules = []
    for r in model.get("blocking_rules_to_generate_predictions") or []:
        rules.append(r.get("blocking_rule") if isinstance(r, dict) else str(r))
    tr = run.info.get("training") or {}
    return {"prior": model.get("probability_two_random_records_match"), "prior_weight": run.prior_weight,
            "comparisons": comps, "blocking_rules": rules, "training": tr,
            "em_convergence": model.get("em_convergence"), "max_iterations": model.get("max_iterations"),
            "link_type": model.get("link_type")}


def _risk_rows(diagnostics: pd.DataFrame, cluster_index: dict[str, int], pos_of: dict[str, int]) -> list[list[Any]]:
    """Rows ``[cluster, risk, weakest edge, weakest bridge, bridges, edges, components, must-links,
    refused links, strongest refused, same-source, [[left, right, weight] per bridge...]]``, riskiest first
    (``cluster`` indexes the page's works)."""
    rows = []
    for r in diagnostics.to_dict(orient="records"):
        ci = cluster_index.get(str(r["cluster_id"]))
        if ci is None:
            continue
        brs = [[pos_of[str(a)], pos_of[str(b)], round(float(w), 3)]
               for a, b, w in zip(r["bridge_l"], r["bridge_r"], r["bridge_weights"], strict=True)
               if str(a) in pos_of and str(b) in pos_of][:MAX_BRIDGES_SHOWN]
        rows.append([ci, float(r["risk"]), _round(r["weakest_edge"]), _round(r["weakest_bridge"]), int(r["bridges"]),
                     int(r["edges"]), int(r["components"]), int(r["decisions_same"]), int(r["split_links"]),
                     _round(r["strongest_split_link"]), int(bool(r["same_source_members"])), brs])
    return rows


def _round(v: Any, d: int = 3) -> float | None:
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else round(float(v), d)


def _review_meta(run: RunData, band_total: int) -> dict[str, Any]:
    """What the Review page needs besides the decisions: earlier decisions on file and a key for the
    browser's saved marks."""
    from .review import decided_pairs, decisions_in_force

    out: dict[str, Any] = {"band_total": band_total, "key": f"{run.out.resolve()}|{run.info.get('created', '')}",
                           "decided": [], "file": None, "error": None}
    try:
        path = decisions_in_force(run)
        decided = decided_pairs(path)
    except Exception as exc:  # a broken decisions file must not break the report
        out["error"] = f"the decisions file could not be read: {str(exc).splitlines()[0][:200]}"
        return out
    out["file"] = str(path) if path else None
    out["decided"] = [[d.unique_id_l, d.unique_id_r, d.decision, d.who, d.when, d.note]
                      for d in list(decided.values())[:MAX_DECIDED_SHOWN]]
    return out


def build_payload(run: RunData, *, max_decisions: int = MAX_DECISIONS,
                  diagnostics: pd.DataFrame | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The page's data: ``meta`` (small, plain JSON) and ``data`` (records, decisions, clusters, errors,
    works at risk: compressed in the page)."""
    decisions, dec_info = _select_decisions(run, max_decisions)
    sizes = run.clusters.groupby(run.clusters["cluster_id"].astype(str)).size()
    multi = sizes[sizes > 1].rename("n").reset_index()
    multi = multi.sort_values(["n", "cluster_id"], ascending=[False, True], kind="mergesort")
    cluster_ids = multi["cluster_id"].astype(str).tolist()
    clusters_info = {"total": len(cluster_ids), "shown": min(len(cluster_ids), MAX_CLUSTERS), "limit": MAX_CLUSTERS,
                     "singletons": int((sizes == 1).sum())}
    cluster_ids = cluster_ids[:MAX_CLUSTERS]
    cluster_index = {c: i for i, c in enumerate(cluster_ids)}

    metrics = run.metrics
    acc_meta: dict[str, Any] | None = None
    error_frames: dict[str, pd.DataFrame] = {}
    if metrics:
        acc_meta = {k: v for k, v in metrics.items() if k != "edge_sweep"}
        extra, lists = _error_lists(run, metrics)
        acc_meta.update(extra)
        if lists:
            error_frames = _scored_error_pairs(run, lists)

    needed: list[str] = []
    needed += decisions["unique_id_l"].astype(str).tolist() + decisions["unique_id_r"].astype(str).tolist()
    if cluster_ids:
        cl = run.clusters
        needed += cl.loc[cl["cluster_id"].astype(str).isin(set(cluster_ids)), "unique_id"].astype(str).tolist()
    for f in error_frames.values():
        needed += f["unique_id_l"].astype(str).tolist() + f["unique_id_r"].astype(str).tolist()
    uniq = pd.unique(pd.Series(needed, dtype=object)) if needed else np.array([], dtype=object)
    positions = run.record_index.get_indexer(uniq)
    keep = positions >= 0
    positions, uniq = positions[keep], uniq[keep]
    pos_of = {u: i for i, u in enumerate(uniq.tolist())}

    records = _record_rows(run, positions, cluster_index)
    merged_fields, clusters = _merged_rows(run, pos_of, cluster_ids)
    if diagnostics is None:
        from .review import cluster_diagnostics

        diagnostics = cluster_diagnostics(run)
    data: dict[str, Any] = {"records": records, "decisions": _pair_rows(run, decisions, pos_of),
                            "clusters": clusters, "risk": _risk_rows(diagnostics, cluster_index, pos_of)}
    if error_frames:
        for name, f in error_frames.items():
            data[name] = _error_rows(run, f, pos_of)
        acc_meta["listed"] = {name: len(f) for name, f in error_frames.items()}
        acc_meta["list_limit"] = MAX_ERROR_PAIRS
    meta = {
        "format": 1,
        "summary": _summary(run),
        "model": _model_meta(run),
        "threshold": run.threshold, "band": list(run.band),
        "record_fields": record_fields(run.comparisons),
        "comparisons": [{"name": c.name, "labels": {str(k): v for k, v in c.labels.items()}}
                        for c in run.comparisons],
        "decisions": dec_info, "clusters": clusters_info, "merged_fields": merged_fields,
        "notes": _data_notes(run),
        "accuracy": acc_meta,
        "sweep": (metrics or {}).get("edge_sweep") or [],
        "limits": {"decisions": MAX_DECISIONS, "clusters": MAX_CLUSTERS, "error_pairs": MAX_ERROR_PAIRS},
        "risk": {"total": int(len(diagnostics)), "listed": len(data["risk"])},
        "review": _review_meta(run, int(((decisions["match_weight"] >= run.threshold + run.band[0])
                                         & (decisions["match_weight"] < run.threshold + run.band[1])).sum())
                               if len(decisions) else 0),
        "run_decisions": {k: v for k, v in (run.info.get("decisions") or {}).items() if k not in ("pairs",)},
    }
    return meta, data
