"""Venues: a normalised name, a key robust to abbreviation and aliases, and preprint-server detection.

``venue_key`` is built in three steps:

1. the *core* of the name: folded words without years, ordinals ("25th", "twenty-fifth"), edition
   words, "proceedings of the", articles and prepositions, and for conferences also "international"
   and the society names (ACM, IEEE, USENIX, IFIP); every word is then written in its ISO-4 form
   (LTWA word list in ``linkage/data/venues/iso4_words.tsv``): "Current Opinion in Lipidology" and
   "Curr Opin Lipidol" both give ``curr opin lipidol``;
2. the alias table ``linkage/data/venues/aliases.tsv`` maps the cores of known spellings of a venue
   family to one key ("SIGMOD Conference" and "International Conference on Management of Data" ->
   ``sigmod``), trying the whole name, then its parts (split at ':', ',', dashes, brackets), then a
   single conference acronym among its words ("Proc. VLDB'96" -> ``vldb``);
3. otherwise the core itself is the key.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from .text import as_text, fix_text, fold_fixed, to_ascii

_DATA = "data/venues"
PREPRINT_KEYS = frozenset({"arxiv", "biorxiv", "medrxiv", "chemrxiv", "psyarxiv", "socarxiv", "techrxiv",
                           "eartharxiv", "ssrn", "research square", "preprints", "osf preprints", "iacr eprint"})
_DROP = frozenset("the of and on in for a an at to by with from de la le les des du der die das und fur et "
                  "proceedings proc procs edition ed vol volume no part pp held annual annu revised selected "
                  "papers".split())
_CONF_WORDS = frozenset("conf conference symp symposium sympos workshop meeting congress colloquium proceedings "
                        "proc forum".split())
_CONF_DROP = frozenset("international intl int acm ieee usenix ifip siam annual".split())
_JOURNAL_WORDS = frozenset("j rec trans bull lett mag newsl q rev explor forum".split())
_ORDINAL_WORDS = frozenset(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
    "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth thirtieth fortieth fiftieth sixtieth "
    "twenty thirty forty fifty sixty seventy eighty ninety hundredth".split())
_ORDINAL = re.compile(r"^\d+(?:st|nd|rd|th|d)?$")
_ACRONYM_YEAR = re.compile(r"^([a-z]{2,}?)(?:\d{2}|\d{4})$")
_SEGMENT = re.compile(r"\s*(?::|,|;|\s[-–—]+\s|&mdash;|—|\(|\)|\[|\])\s*")
_PAREN = re.compile(r"\(([^()]*)\)")
_SERVER_WORDS = {"arxiv": "arxiv", "biorxiv": "biorxiv", "medrxiv": "medrxiv", "chemrxiv": "chemrxiv",
                 "psyarxiv": "psyarxiv", "socarxiv": "socarxiv", "techrxiv": "techrxiv", "eartharxiv": "eartharxiv",
                 "ssrn": "ssrn"}
_RESPELL = (("haem", "hem"), ("gynaec", "gynec"), ("paediatr", "pediatr"), ("anaesth", "anesth"),
            ("oesoph", "esoph"), ("orthopaed", "orthoped"), ("foet", "fet"))


def _read_tsv(name: str) -> list[tuple[str, str]]:
    text = resources.files("linkage").joinpath(f"{_DATA}/{name}").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        a, _, b = line.partition("\t")
        rows.append((a.strip(), b.strip()))
    return rows


@lru_cache(maxsize=1)
def iso4_table() -> dict[str, str]:
    """word -> ISO-4 abbreviation (lowercase, no period), plus variants seen in the wild -> ISO-4 form."""
    table = {w: a for w, a in _read_tsv("iso4_words.tsv")}
    table.update({v: a for v, a in _read_tsv("variants.tsv")})
    return table


def _respell(w: str) -> str:
    for a, b in _RESPELL:
        if w.startswith(a):
            return b + w[len(a):]
    if w.endswith("isation") or w.endswith("isations"):
        w = w.replace("isation", "ization")
    return w


def _tokens(folded: str) -> list[str]:
    out = []
    for t in folded.split():
        m = _ACRONYM_YEAR.match(t)
        if m:  # "vldb96", "sigmod99"
            t = m.group(1)
        out.append(t)
    return out


@lru_cache(maxsize=65536)
def venue_core(folded: str) -> str:
    """The abbreviation-robust core of a folded venue name (see the module docstring)."""
    toks = _tokens(folded)
    is_conf = any(t in _CONF_WORDS for t in toks)
    table = iso4_table()
    out = []
    for i, t in enumerate(toks):
        if t in _DROP or _ORDINAL.match(t) or t in _ORDINAL_WORDS or (t == "in" and i == 0):
            continue
        if is_conf and t in _CONF_DROP and len(toks) > 1:
            continue
        t = _respell(t)
        a = table.get(t, t)
        if is_conf and a in _CONF_DROP:
            continue
        out.append(a)
    return " ".join(out)


@lru_cache(maxsize=1)
def alias_maps() -> tuple[dict[str, str], dict[str, str]]:
    """(core of a known spelling -> family key, conference acronym word -> family key)."""
    by_core: dict[str, str] = {}
    acronyms: dict[str, str] = {}
    for key, name in _read_tsv("aliases.tsv"):
        core = venue_core(fold_fixed(to_ascii(name)))
        if core:
            by_core.setdefault(core, key)
        words = name.replace("-", " ").split()
        if len(words) == 1 and any(c.isupper() for c in name[1:]) and key not in PREPRINT_KEYS:
            acronyms.setdefault(fold_fixed(name), key)
    return by_core, acronyms


def _lookup(folded: str) -> str | None:
    by_core, _ = alias_maps()
    return by_core.get(venue_core(folded))


@lru_cache(maxsize=65536)
def venue_key_of(text: str) -> str | None:
    """Family key of a (fixed, ASCII) venue name: alias key when known, else its ISO-4 core."""
    folded = fold_fixed(text)
    if not folded:
        return None
    key = _lookup(folded)
    if key:
        return key
    parts = [p for p in _SEGMENT.split(text) if p and p.strip()]
    if len(parts) > 1:
        for p in parts:
            key = _lookup(fold_fixed(p))
            if key:
                return key
    _, acronyms = alias_maps()
    toks = _tokens(folded)
    servers = [t for t in toks if t in _SERVER_WORDS]
    if servers:  # "arXiv preprint arXiv:2103.11069", "bioRxiv : the preprint server for biology"
        return _SERVER_WORDS[servers[0]]
    if not any(t in _JOURNAL_WORDS or t in ("journal", "record", "transactions") for t in toks):
        hits = {acronyms[t] for t in toks if t in acronyms}
        if len(hits) == 1:
            return hits.pop()
    bare = fold_fixed(_PAREN.sub(" ", text))  # "Sensors (Basel, Switzerland)" -> "sensors"
    return venue_core(bare or folded) or venue_core(folded) or None


_YEARS = re.compile(r"\b(?:1[5-9]|20)\d\d\b|'\d\d\b")
_ORDINAL_IN_TEXT = re.compile(r"\b\d+(?:st|nd|rd|th)\b", re.I)


def venue_fields(value) -> dict:
    """``venue_norm`` (folded, years and ordinals removed), ``venue_key`` and ``is_preprint``."""
    s = as_text(value)
    if s is None:
        return {"venue_norm": None, "venue_key": None, "is_preprint": False}
    s = to_ascii(fix_text(s))
    norm = fold_fixed(_ORDINAL_IN_TEXT.sub(" ", _YEARS.sub(" ", s)))
    if norm.startswith("in "):
        norm = norm[3:]
    key = venue_key_of(s)
    is_pre = key in PREPRINT_KEYS or bool(re.search(r"\b(?:arxiv|biorxiv|medrxiv|preprint|e-?prints?)\b", norm))
    return {"venue_norm": norm or None, "venue_key": key, "is_preprint": is_pre}
