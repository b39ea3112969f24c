"""Blocking rules, rule by rule: the pairs each one adds and how many are true, on generated data and on
the labelled sets; with ``--against REV``, what the current rules lose (and gain) against another revision's.

Reads what the other benchmarks wrote (run both first): the 1M generated run of ``benchmarks.speed``
(``runs/speed/run-N/records.parquet`` and ``data-N/truth.csv``) and the project's run folders of
``benchmarks.accuracy`` (``runs/accuracy/SET/project``). A pair belongs to the first rule that finds it, as
Splink counts it (``match_key``). Whether the current rules keep the linked pairs shows in
``benchmarks.accuracy`` (cluster F1 per set). Writes the "blocking" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SETTINGS = ROOT / "settings" / "scholarly.yaml"
LABELLED = ["cora", "dblp-acm", "cytology", "haematology", "respiratory", "stroke", "misq-baseline", "misq-mixed"]


def log(msg: str) -> None:
    print(msg, flush=True)  # noqa: T201


def rules_of(settings: Path) -> list[str]:
    from linkage.settings import compile_settings, load_settings

    d = compile_settings(load_settings(settings), "duckdb", "dedupe").get_settings("duckdb").as_dict()
    return [b["blocking_rule"] for b in d["blocking_rules_to_generate_predictions"]]


def settings_at(rev: str, folder: Path) -> Path:
    """The shipped settings file as it was at git revision ``rev``."""
    text = subprocess.run(["git", "show", f"{rev}:settings/scholarly.yaml"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout
    p = folder / "scholarly.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _pairs_sql(rules: list[str]) -> str:
    """Every pair any rule finds, once, with its first rule (0-based)."""
    joins = " UNION ALL ".join(f"select {i} as rule, l.unique_id as a, r.unique_id as b from r2 as l join r2 as r "
                               f"on ({c}) where l.unique_id < r.unique_id" for i, c in enumerate(rules))
    return f"select min(rule) as rule, a, b from ({joins}) group by a, b"


def _connect(records: Path, entity: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    """``r2``: the run's records with their true entity; title/abstract tokens as the run holds them (hashes)."""
    con = duckdb.connect()
    con.execute("set threads = 2")
    con.register("entity_df", entity)
    con.execute(f"create table r2 as select r.* replace (list_transform(title_tokens, lambda x: hash(x)) as title_tokens), "
                f"e.entity from read_parquet('{records}') r left join entity_df e using (unique_id)")
    con.unregister("entity_df")
    return con


def per_rule(con, rules: list[str], table: str = "p") -> list[dict]:
    con.execute(f"create or replace temp table {table} as {_pairs_sql(rules)}")
    rows = con.execute(f"""select rule, count(*), count(*) filter (where x.entity = y.entity)
        from {table} join r2 x on x.unique_id = {table}.a join r2 y on y.unique_id = {table}.b
        group by rule order by rule""").fetchall()
    found = {r: (n, t) for r, n, t in rows}
    return [{"rule": i, "sql": rules[i], "pairs": found.get(i, (0, 0))[0], "true": found.get(i, (0, 0))[1]}
            for i in range(len(rules))]


def true_pairs(con) -> int:
    return int(con.execute("select coalesce(sum(n * (n - 1) / 2), 0) from "
                           "(select count(*) n from r2 where entity is not null group by entity)").fetchone()[0])


def difference(con) -> dict:
    """Pairs the old rules (table ``o``) find and the current ones (``p``) do not, and the reverse."""
    lost = con.execute("""with lost as (select a, b from o except select a, b from p)
        select count(*), count(*) filter (where x.entity = y.entity)
        from lost join r2 x on x.unique_id = lost.a join r2 y on y.unique_id = lost.b""").fetchone()
    gained = con.execute("select count(*) from (select a, b from p except select a, b from o)").fetchone()[0]
    return {"lost": int(lost[0]), "lost_true": int(lost[1]), "gained": int(gained)}


def _labelled_entity(key: str, run: Path) -> pd.DataFrame:
    """unique_id -> true entity for a labelled set's project run (its ids mapped as ``benchmarks.accuracy`` does)."""
    from .datasets import BY_KEY

    prep = BY_KEY[key].prepare(run.parent)
    info = json.loads((run / "run.json").read_text())
    order = [i["source"] for i in info.get("inputs", [])]
    src_map = {s: prep.inputs[i][0] for i, s in enumerate(order) if i < len(prep.inputs)}
    rec = pd.read_parquet(run / "records.parquet", columns=["unique_id", "source", "source_id"])
    uids = [f"{src_map.get(s, s)}:{str(i).strip()}" for s, i in zip(rec["source"], rec["source_id"], strict=True)]
    return pd.DataFrame({"unique_id": rec["unique_id"].astype(str),
                         "entity": pd.Series(uids).map(prep.truth).astype(object).to_numpy()})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.blocking", description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=1_000_000, help="the generated run of benchmarks.speed to read")
    ap.add_argument("--against", metavar="REV", help="a git revision whose settings/scholarly.yaml to compare with")
    ap.add_argument("--no-write", action="store_true", help="do not write the BENCHMARKS.md section")
    a = ap.parse_args(argv)
    speed = HERE / "runs" / "speed"
    gen_run, gen_data = speed / f"run-{a.size}", speed / f"data-{a.size}"
    missing = [p for p in (gen_run / "records.parquet", gen_data / "truth.csv") if not p.exists()]
    if missing:
        log(f"missing {missing[0]}: run python -m benchmarks.speed --sizes {a.size} first")
        return 2
    rules = rules_of(SETTINGS)
    with tempfile.TemporaryDirectory() as tmp:
        old = rules_of(settings_at(a.against, Path(tmp))) if a.against else None
    truth = pd.read_csv(gen_data / "truth.csv", dtype=str)
    rec = pd.read_parquet(gen_run / "records.parquet", columns=["unique_id", "source", "source_id"])
    info = json.loads((gen_run / "run.json").read_text())
    names = {i["source"]: Path(i["path"]).stem for i in info.get("inputs", [])}
    ent = dict(zip(truth["source"] + ":" + truth["id"], truth["entity"], strict=True))
    entity = pd.DataFrame({"unique_id": rec["unique_id"].astype(str), "entity": [
        ent.get(f"{names.get(s, s)}:{i}") for s, i in zip(rec["source"], rec["source_id"], strict=True)]})
    con = _connect(gen_run / "records.parquet", entity)
    gen = per_rule(con, rules)
    gen_true = true_pairs(con)
    gen_diff = None
    if old:
        per_rule(con, old, "o")
        gen_diff = difference(con)
    log(f"generated {a.size:,} records: {sum(r['pairs'] for r in gen):,} pairs, "
          f"{sum(r['true'] for r in gen):,} of {gen_true:,} true pairs" + (f"; against {a.against}: {gen_diff}" if gen_diff else ""))
    labelled = []
    for key in LABELLED:
        run = HERE / "runs" / "accuracy" / key / "project"
        if not (run / "records.parquet").exists():
            log(f"  {key}: no run folder (python -m benchmarks.accuracy --datasets {key} --systems project)")
            continue
        con = _connect(run / "records.parquet", _labelled_entity(key, run))
        row = {"key": key, "rules": per_rule(con, rules), "true_pairs": true_pairs(con)}
        if old:
            per_rule(con, old, "o")
            row["diff"] = difference(con)
        labelled.append(row)
        log(f"  {key}: {sum(r['pairs'] for r in row['rules']):,} pairs" + (f"; {row['diff']}" if old else ""))
    text = render(a, rules, gen, gen_true, gen_diff, labelled)
    if not a.no_write:
        from .report import write_section

        cmd = "python -m benchmarks.blocking" + (f" --against {a.against}" if a.against else "")
        log("wrote " + str(write_section("blocking", "Blocking rules, rule by rule", cmd, text)))
    return 0


def render(a, rules, gen, gen_true, gen_diff, labelled) -> str:
    out = [f"Pairs each rule of `settings/scholarly.yaml` adds (the first rule that finds a pair owns it, as Splink's "
           f"`match_key`), and how many are true: on {a.size:,} generated records (`benchmarks.speed`'s run) and on "
           "the project's runs of the labelled sets (`benchmarks.accuracy`).", ""]
    heads = ["generated", *[r["key"] for r in labelled]]
    out.append("| # | rule | " + " | ".join(f"{h} pairs (true)" for h in heads) + " |")
    out.append("|---:|---|" + "---:|" * len(heads))
    for i, sql in enumerate(rules):
        cells = [gen[i], *[r["rules"][i] for r in labelled]]
        short = sql if len(sql) <= 90 else sql[:87] + "..."
        out.append(f"| {i} | `{short}` | " + " | ".join(f"{c['pairs']:,} ({c['true']:,})" for c in cells) + " |")
    tot = [gen, *[r["rules"] for r in labelled]]
    out.append("| | all rules | " + " | ".join(f"{sum(c['pairs'] for c in t):,} ({sum(c['true'] for c in t):,})"
                                             for t in tot) + " |")
    out.append("| | true pairs in the data | " + " | ".join(f"{n:,}" for n in [gen_true, *[r["true_pairs"] for r in labelled]])
               + " |")
    if gen_diff is not None:
        out += ["", f"Against the rules of `{a.against}`: pairs the old rules find and these do not (lost), and the "
                "reverse (gained). Whether a lost true pair was linked shows in `benchmarks.accuracy`'s F1.", "",
                "| data | lost pairs | of them true | gained pairs |", "|---|---:|---:|---:|",
                *[f"| {k} | {d['lost']:,} | {d['lost_true']:,} | {d['gained']:,} |"
                  for k, d in [(f"generated {a.size:,}", gen_diff), *[(r["key"], r["diff"]) for r in labelled]]]]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
