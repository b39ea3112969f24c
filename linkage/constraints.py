"""Constraints on clustering: one-to-one sources and clerical-review decisions (must-link / cannot-link).

A decisions file is a CSV with the columns ``unique_id_l``, ``unique_id_r`` and ``decision``
(``same``, ``different`` or ``unsure``; ``match``/``duplicate``/``1`` and ``non-match``/``distinct``/``0``
are read as the first two), and optionally ``who``, ``when`` and ``note``. Other columns (titles,
match weights: the review sheet's context) are ignored; a row with an empty decision is a pair not
reviewed yet and is skipped.

How the decisions become constraints (``load_decisions``), in this order:

1. **Later rows replace earlier ones.** A pair decided twice (either order of its ids) keeps its last
   row; an earlier row with a different decision is reported under ``replaced_changed``. ``linkage
   review import`` keeps a file in this shape: one row per pair, the latest decision last.
2. ``same`` is a must-link, ``different`` a cannot-link, ``unsure`` no constraint (counted only).
3. **A cannot-link wins over must-links that contradict it.** When must-links would put a
   cannot-linked pair into one work through other records (A–B same, B–C same, A–C different), the
   must-links on the shortest chain between the pair are dropped (all of them: none is trusted over
   the others) and the conflict is reported; this repeats until no cannot-linked pair is joined by
   must-links. The model then decides the dropped pairs, and the cannot-link still holds.
4. Ids that are not records of the run are reported (``unknown_ids``) and skipped, so one decisions
   file can serve several runs. ``linkage review import`` instead refuses unknown ids.

Clustering (``clustering.cluster``) joins must-linked records first and refuses any join that would
put a cannot-linked pair together, so every applied decision holds in the clusters.

Decisions are constraints only: they are not used as labels to choose the threshold (the threshold
comes from the model; see ``threshold`` in run.json).
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import LinkageError
from .settings import Spec

DECISION_COLUMNS = ("unique_id_l", "unique_id_r", "decision", "who", "when", "note")
REQUIRED_COLUMNS = ("unique_id_l", "unique_id_r", "decision")
MAX_LISTED = 1000   # decisions, conflicts and replaced rows listed in run.json (all are counted)
MAX_PROBLEMS = 10   # problems named in one error message


def one_to_one_sources(records: pd.DataFrame, pairs: pd.DataFrame, threshold: float, spec: Spec,
                       n_sources: int) -> tuple[set[str], dict]:
    """Sources that link one-to-one: forced by settings, or (auto) those with no within-source pair
    at or above the threshold. Only meaningful with two or more sources."""
    setting = spec.clustering.get("one_to_one", "auto")
    sources = sorted(records["source"].astype(str).unique())
    if n_sources < 2 or setting is False:
        reason = "one source: nothing to link across" if n_sources < 2 else "off in the settings"
        return set(), {"setting": setting, "sources": [], "reason": reason}
    if setting is True:
        return set(sources), {"setting": True, "sources": sources, "reason": "forced on in the settings"}
    # A source is one-to-one when (a) few of its records link to another record of the same source and
    # (b) records of the other sources rarely link to two of its records. Clean catalogues (DBLP, ACM)
    # show a few percent of either (lookalike columns, errata); a source holding several versions of
    # works, or duplicates of its own, shows many.
    linked = pairs[pairs["match_weight"] >= threshold]
    within = linked[linked["source_l"] == linked["source_r"]]
    x = linked[linked["source_l"] != linked["source_r"]]
    ends = pd.concat([pd.DataFrame({"r": x["unique_id_l"], "target": x["source_r"]}),
                      pd.DataFrame({"r": x["unique_id_r"], "target": x["source_l"]})])
    per = ends.groupby(["target", "r"]).size()
    sizes = records.groupby(records["source"].astype(str)).size()
    on, why = set(), {}
    limit = float(spec.clustering.get("one_to_one_max_rate", 0.1))
    for s in sources:
        c = per.xs(s, level="target") if s in per.index.get_level_values(0) else pd.Series(dtype=int)
        multi = float((c >= 2).mean()) if len(c) else 0.0
        w = within[within["source_l"] == s]
        dup = len(set(w["unique_id_l"]) | set(w["unique_id_r"])) / max(int(sizes.get(s, 1)), 1)
        text = (f"{dup:.1%} of its records link within {s}; {multi:.1%} of records linking into {s} link to two "
                f"or more of its records (limit {limit:.0%} each)")
        if dup <= limit and multi <= limit:
            on.add(s)
            why[s] = "one-to-one: " + text
        else:
            why[s] = "1:N allowed: " + text
    return on, {"setting": "auto", "sources": sorted(on), "reason": why}


# ---------------------------------------------------------------------------------------------------------
# Decisions files
# ---------------------------------------------------------------------------------------------------------

VALID = {"same": "same", "different": "different", "unsure": "unsure", "match": "same", "duplicate": "same",
         "non-match": "different", "nonmatch": "different", "non_match": "different", "distinct": "different",
         "not duplicate": "different", "not-duplicate": "different", "1": "same", "0": "different",
         "yes": "same", "no": "different", "true": "same", "false": "different", "?": "unsure",
         "maybe": "unsure", "skip": "unsure"}


def normalise_decision(value: Any) -> str | None:
    """``same``, ``different`` or ``unsure`` for a decision value (synonyms accepted); None if unknown."""
    return VALID.get(str(value).strip().lower()) if value is not None else None


@dataclass
class Decision:
    """One row of a decisions file: the pair, the decision (normalised), who, when, a note, its line."""

    unique_id_l: str
    unique_id_r: str
    decision: str
    who: str = ""
    when: str = ""
    note: str = ""
    line: int = 0

    @property
    def key(self) -> tuple[str, str]:
        """The pair regardless of order."""
        a, b = self.unique_id_l, self.unique_id_r
        return (a, b) if a <= b else (b, a)

    def as_row(self) -> dict[str, str]:
        return {"unique_id_l": self.unique_id_l, "unique_id_r": self.unique_id_r, "decision": self.decision,
                "who": self.who, "when": self.when, "note": self.note}


@dataclass
class DecisionsFile:
    """A decisions file as read: its decided rows (file order) and what was skipped."""

    path: Path
    rows: list[Decision] = field(default_factory=list)
    undecided: int = 0          # rows with an empty decision (not reviewed yet)
    columns: list[str] = field(default_factory=list)


def _sniff(text: str) -> str:
    head = text.split("\n", 1)[0]
    counts = {d: head.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_decisions_file(path: str | Path, allow_missing: bool = False) -> DecisionsFile:
    """Read a decisions CSV (comma, semicolon or tab separated; UTF-8, a BOM allowed).

    Raises ``LinkageError`` naming the file and line numbers for: a missing or unreadable file, missing
    columns, unknown decision values, empty ids, a record paired with itself.
    ``allow_missing`` returns an empty file for a path that does not exist (a file about to be created).
    """
    p = Path(path)
    if not p.exists():
        if allow_missing:
            return DecisionsFile(path=p, columns=list(DECISION_COLUMNS))
        raise LinkageError(f"{p}: no such decisions file",
                           "give a CSV with unique_id_l, unique_id_r, decision (same/different/unsure)")
    if p.is_dir():
        raise LinkageError(f"{p}: is a folder, not a decisions file", "give the CSV file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise LinkageError(f"{p}: cannot read the decisions file ({exc.strerror or exc})") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    reader = csv.reader(io.StringIO(text), delimiter=_sniff(text))
    try:
        header = next(reader)
    except StopIteration:
        raise LinkageError(f"{p}: the decisions file is empty",
                           "the first line names the columns: unique_id_l,unique_id_r,decision") from None
    except csv.Error as exc:
        raise LinkageError(f"{p}: line 1: not a readable CSV ({exc})") from exc
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise LinkageError(f"{p}: line 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                           f"(columns: {', '.join(h for h in header if h) or 'none'})",
                           "a decisions file has unique_id_l, unique_id_r, decision (same/different/unsure)")
    pos = {c: names.index(c) for c in DECISION_COLUMNS if c in names}
    out = DecisionsFile(path=p, columns=names)
    problems: list[str] = []

    def get(cells: list[str], col: str) -> str:
        i = pos.get(col)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    start = reader.line_num + 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            raw = get(cells, "decision")
            a, b = get(cells, "unique_id_l"), get(cells, "unique_id_r")
            if not raw:
                out.undecided += 1
                continue
            d = normalise_decision(raw)
            if d is None:
                problems.append(f"line {line}: decision {raw!r} is not same, different or unsure")
                continue
            if not a or not b:
                problems.append(f"line {line}: {'unique_id_l' if not a else 'unique_id_r'} is empty")
                continue
            if a == b:
                problems.append(f"line {line}: record {a!r} is paired with itself")
                continue
            out.rows.append(Decision(a, b, d, get(cells, "who"), get(cells, "when"), get(cells, "note"), line))
    except csv.Error as exc:
        raise LinkageError(f"{p}: line {reader.line_num}: not a readable CSV ({exc})") from exc
    if problems:
        more = f" (and {len(problems) - MAX_PROBLEMS} more)" if len(problems) > MAX_PROBLEMS else ""
        raise LinkageError(f"{p}: {len(problems)} bad row{'s' if len(problems) > 1 else ''}: "
                           + "; ".join(problems[:MAX_PROBLEMS]) + more,
                           "a decision is same, different or unsure, between two different record ids")
    return out


def write_decisions_file(path: str | Path, rows: Iterable[Decision]) -> Path:
    """Write decisions as CSV (``unique_id_l, unique_id_r, decision, who, when, note``), atomically."""
    import os
    import tempfile

    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(DECISION_COLUMNS), lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow(r.as_row())
        os.replace(tmp, p)
    except OSError as exc:
        raise LinkageError(f"{p}: cannot write the decisions file ({exc.strerror or exc})",
                           "choose a file in a folder you can write to") from exc
    return p


def settings_decisions_path(spec: Spec | str | Path | None) -> Path | None:
    """The decisions file a settings file names (key ``decisions:``), relative to the settings file's folder.

    Takes a loaded ``Spec`` or a settings path; None when the settings name no decisions file.
    """
    if spec is None:
        return None
    if isinstance(spec, Spec):
        value, base = spec.get("decisions"), spec.path
    else:
        from .settings import read_settings_file

        try:
            data = read_settings_file(Path(spec)) or {}
        except Exception:  # a moved settings file: no decisions file known
            return None
        value, base = data.get("decisions"), str(spec)
    if not value:
        return None
    p = Path(str(value)).expanduser()
    if not p.is_absolute() and base:
        p = Path(base).resolve().parent / p
    return p


def latest_per_pair(rows: Sequence[Decision]) -> tuple[list[Decision], list[dict[str, Any]], int]:
    """The last row of each pair (in file order of those last rows), the replaced rows whose decision
    differed from the one kept, and how many rows were replaced in all."""
    last: dict[tuple[str, str], int] = {}
    for i, r in enumerate(rows):
        last[r.key] = i
    kept = [r for i, r in enumerate(rows) if last[r.key] == i]
    changed: list[dict[str, Any]] = []
    for i, r in enumerate(rows):
        k = rows[last[r.key]]
        if last[r.key] != i and r.decision != k.decision:
            changed.append({"pair": [k.unique_id_l, k.unique_id_r], "line": k.line, "decision": k.decision,
                            "earlier_line": r.line, "earlier_decision": r.decision})
    return kept, changed, len(rows) - len(kept)


def resolve_conflicts(must: Sequence[Decision], cannot: Sequence[Decision]) -> tuple[list[Decision], list[dict]]:
    """Drop the must-links that join a cannot-linked pair through other records (see the module docstring).

    Returns the must-links kept and one conflict per cannot-link that had to be enforced this way.
    """
    adj: dict[str, dict[str, Decision]] = {}
    for m in must:
        adj.setdefault(m.unique_id_l, {})[m.unique_id_r] = m
        adj.setdefault(m.unique_id_r, {})[m.unique_id_l] = m
    dropped: set[int] = set()
    conflicts: list[dict] = []
    for c in cannot:
        a, b = c.unique_id_l, c.unique_id_r
        chains = []
        while True:
            path = _shortest_path(adj, a, b)
            if path is None:
                break
            links = [adj[x][y] for x, y in zip(path, path[1:])]
            for m in links:
                dropped.add(id(m))
                adj[m.unique_id_l].pop(m.unique_id_r, None)
                adj[m.unique_id_r].pop(m.unique_id_l, None)
            chains.append(links)
        if chains:
            links = sorted((m for ch in chains for m in ch), key=lambda m: m.line)
            conflicts.append({
                "cannot_link": [a, b], "line": c.line,
                "must_links_dropped": [{"pair": [m.unique_id_l, m.unique_id_r], "line": m.line} for m in links],
                "kind": "direct" if any(len(ch) == 1 for ch in chains) else "transitive",
                "resolution": "the cannot-link holds; the must-links joining its pair are dropped and the model "
                              "decides those pairs",
            })
    return [m for m in must if id(m) not in dropped], conflicts


def _shortest_path(adj: dict[str, dict[str, Decision]], a: str, b: str) -> list[str] | None:
    """Breadth-first shortest path from ``a`` to ``b`` over must-links (neighbours in sorted order)."""
    if a not in adj or b not in adj:
        return None
    prev: dict[str, str | None] = {a: None}
    queue = deque([a])
    while queue:
        x = queue.popleft()
        if x == b:
            path = [b]
            while prev[path[-1]] is not None:
                path.append(prev[path[-1]])  # type: ignore[arg-type]
            return path[::-1]
        for y in sorted(adj.get(x, {})):
            if y not in prev:
                prev[y] = x
                queue.append(y)
    return None


def conflict_text(c: dict) -> str:
    """One line describing a conflict and how it was resolved."""
    a, b = c["cannot_link"]
    drops = "; ".join(f"{m['pair'][0]} – {m['pair'][1]} (line {m['line']})" for m in c["must_links_dropped"])
    return (f"decisions conflict: {a} – {b} is 'different' (line {c['line']}) but 'same' decisions join them "
            f"({drops}): the cannot-link holds, those must-links are not applied")


def apply_decisions(rows: Sequence[Decision], known: set[str] | None = None,
                    frozen: dict[str, str] | None = None, path: str | None = None,
                    undecided: int = 0) -> tuple[list[tuple[str, str]], list[tuple[str, str]], dict]:
    """(must-link pairs, cannot-link pairs, info) from decided rows, following the module's rules.

    ``known`` is the set of the run's record ids (others are reported and skipped). ``frozen`` maps
    record ids to existing cluster ids (``linkage match``): a cannot-link inside one existing work and a
    must-link between two existing works are reported under ``not_applied``, not applied (a full
    ``linkage run`` applies them).
    """
    unknown: list[str] = []
    usable: list[Decision] = []
    for r in rows:
        if known is not None and (r.unique_id_l not in known or r.unique_id_r not in known):
            miss = r.unique_id_l if r.unique_id_l not in known else r.unique_id_r
            unknown.append(f"line {r.line}: {miss}")
            continue
        usable.append(r)
    kept, changed, n_replaced = latest_per_pair(usable)
    must = [r for r in kept if r.decision == "same"]
    cannot = [r for r in kept if r.decision == "different"]
    unsure = sum(r.decision == "unsure" for r in kept)
    must, conflicts = resolve_conflicts(must, cannot)
    not_applied: list[dict] = []
    if frozen:
        def stays(r: Decision, same: bool) -> bool:
            ca, cb = frozen.get(r.unique_id_l), frozen.get(r.unique_id_r)
            if ca is None or cb is None or (ca == cb) == same:
                return True
            not_applied.append({"pair": [r.unique_id_l, r.unique_id_r], "line": r.line,
                                "decision": "same" if same else "different",
                                "reason": ("joins two existing works" if same else "splits an existing work")
                                + " (a full 'linkage run' applies it)"})
            return False

        must = [r for r in must if stays(r, True)]
        cannot = [r for r in cannot if stays(r, False)]
    applied = [(r.unique_id_l, r.unique_id_r, "same") for r in must] + \
              [(r.unique_id_l, r.unique_id_r, "different") for r in cannot]
    warnings = [conflict_text(c) for c in conflicts]
    if unknown:
        warnings.append(f"decisions: {len(unknown)} rows name records that are not in this run, skipped "
                        f"(first: {unknown[0]})")
    for ch in changed[:5]:
        warnings.append(f"decisions: {ch['pair'][0]} – {ch['pair'][1]} was '{ch['earlier_decision']}' on line "
                        f"{ch['earlier_line']} and '{ch['decision']}' on line {ch['line']}: the later row holds")
    for na in not_applied[:5]:
        warnings.append(f"decisions: {na['pair'][0]} – {na['pair'][1]} ({na['decision']}, line {na['line']}) "
                        f"not applied: {na['reason']}")
    info: dict[str, Any] = {
        "file": path, "rows": len(rows) + undecided, "undecided": undecided,
        "pairs_decided": len(kept), "applied": len(applied), "must_link": len(must), "cannot_link": len(cannot),
        "unsure": unsure, "replaced": n_replaced, "replaced_changed": changed[:MAX_LISTED],
        "unknown": len(unknown), "unknown_ids": unknown[:20],
        "conflicts": conflicts[:MAX_LISTED], "conflicts_total": len(conflicts),
        "pairs": [list(x) for x in applied[:MAX_LISTED]], "pairs_listed": min(len(applied), MAX_LISTED),
        "policy": "the later row of a pair replaces earlier ones; 'unsure' adds no constraint; a cannot-link "
                  "wins over the must-links that would join its pair through other records (they are dropped "
                  "and reported); decisions are constraints, not labels for the threshold",
        "warnings": warnings,
    }
    if frozen is not None:
        info["not_applied"] = not_applied[:MAX_LISTED]
    return ([(r.unique_id_l, r.unique_id_r) for r in must], [(r.unique_id_l, r.unique_id_r) for r in cannot],
            info)


def load_decisions(path, records: pd.DataFrame,
                   frozen: dict[str, str] | None = None) -> tuple[list, list, dict]:
    """(must-link pairs, cannot-link pairs, info) from a decisions CSV (unique_id_l, unique_id_r, decision).

    ``path`` None or empty: no decisions. ``info`` goes to run.json under ``decisions``: the file, rows,
    pairs decided, how many were applied as must-links / cannot-links, unsure, replaced rows, unknown ids,
    conflicts and how they were resolved, the applied pairs (up to ``MAX_LISTED``) and one-line
    ``warnings``. ``frozen``: see ``apply_decisions``.
    """
    if not path:
        return [], [], {"file": None, "applied": 0}
    df = read_decisions_file(path)
    known = set(records["unique_id"].astype(str))
    return apply_decisions(df.rows, known, frozen=frozen, path=str(df.path), undecided=df.undecided)
