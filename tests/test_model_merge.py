"""Merge provenance: each chosen value of merged.parquet names the member record it came from
(`*_from`), and equals that member's raw value (as displayed: mojibake repaired, whitespace trimmed)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from linkage.normalise.text import fix_text

pytestmark = pytest.mark.slow
FIELDS = ["title", "authors", "venue", "volume", "issue", "pages", "abstract"]
LEAD_ID = re.compile(r"^\s*(?:id[0-9a-f\-]{6,}|[0-9a-f]{16,})\s+", re.I)


def as_text(v) -> str | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    if hasattr(v, "tolist") and not isinstance(v, str):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        return "; ".join(str(x) for x in v if x is not None and str(x) != "") or None
    return str(v)


@pytest.fixture(scope="module")
def merged(example_run):
    m = example_run.merged
    members = example_run.clusters.groupby("cluster_id")["unique_id"].apply(set)
    records = example_run.records.set_index("unique_id")
    mappings = json.loads((example_run.out / "mappings.json").read_text())
    return m, members, records, mappings


def test_every_from_names_a_member_of_its_cluster(merged):
    m, members, _, _ = merged
    for field in [*FIELDS, "date"]:
        col = m[f"{field}_from"]
        for cid, uid in zip(m["cluster_id"], col):
            if uid is not None and uid == uid:
                assert uid in members[cid], (field, cid, uid)
    assert (m["member_ids"].map(set) == m["cluster_id"].map(members)).all()


def test_chosen_values_are_the_members_raw_values(merged):
    m, _, records, mappings = merged
    checked = 0
    for field in FIELDS:
        for value, uid in zip(m[field], m[f"{field}_from"]):
            if uid is None or uid != uid:
                assert value is None or value != value, (field, value)
                continue
            source = records.loc[uid, "source"]
            raw = as_text(records.loc[uid, mappings[source][field]])
            shown = fix_text(raw).strip()
            if field == "abstract":  # an id glued onto the front of an abstract is not shown
                shown = LEAD_ID.sub("", shown)
            assert value in (raw, shown), (field, uid, value, raw)
            checked += 1
    assert checked > 1000


def test_dates_and_identifiers_come_from_members(merged):
    m, members, records, _ = merged
    for _, row in m.iterrows():
        if row["date_from"] is not None and row["date_from"] == row["date_from"]:
            r = records.loc[row["date_from"]]
            if pd.isna(row["date"]):
                assert int(row["year"]) == int(r["year_norm"])
            else:
                assert row["date"] == str(r["date_norm"])
        ids = sorted(members[row["cluster_id"]])
        dois = sorted({d for d in records.loc[ids, "doi_norm"] if isinstance(d, str) and d})
        assert list(row["dois"]) == dois


def test_a_larger_cluster_takes_values_from_several_members(merged):
    """Values are chosen per field, not copied from one record: some cluster mixes sources."""
    m, _, _, _ = merged
    multi = m[m["size"] > 1]
    mixed = multi[[len({u for u in row if u == u and u is not None}) > 1
                   for row in multi[[f"{f}_from" for f in ("title", "authors", "venue", "date")]].itertuples(
                       index=False)]]
    assert len(mixed) > 0
    assert isinstance(mixed, pd.DataFrame)
