"""Identifiers: DOI, arXiv id, PubMed id, ISBN, URLs and code repositories.

DOIs are validated with ``idutils``; anything that is not one (``144//``) becomes None, never a wrong
value. arXiv ids come from ids, ``arXiv:`` prefixes, abs/pdf URLs and ``10.48550/arXiv.*`` DOIs, with
the version kept apart. Malformed URLs (``nttps://gtutub.com/...``) never crash and are never taken as
identifiers.
"""

from __future__ import annotations

import re
import urllib.parse

import idutils

from .text import is_blank, strip_tags, unescape_entities

_SPLIT = re.compile(r"\s+|\|| ?[;,](?=\s|https?://|www\.)")
_DOI_FIND = re.compile(r"10\.\d{4,9}(?:\.\d+)*/\S+", re.I)
_DOI_CUT = re.compile(r"https?://|(?<![a-z])(?:doi|arxiv|pmid|pmcid|isbn|issn|url)\s*:", re.I)
_DOI_TAIL = re.compile(r"(?:/(?:full|abstract|epdf|pdf|fulltext|meta|html|suppinfo|full/html|pdfdirect)|\.pdf"
                       r"|[?#](?:utm_|via|casa_token|ref=|src=|origin=|rss=|af=|journalcode).*)$", re.I)
_DOI_VALID = re.compile(r"10\.\d{4,9}(?:\.\d+)*/\S*[a-z0-9]\S*")
_ARXIV_DOI = re.compile(r"10\.48550/arxiv\.", re.I)
_ARXIV_NEW = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(v\d+)?(?![\d])")
_ARXIV_OLD = re.compile(r"(?<![\w.-])([a-z][a-z\-]+)(?:\.[a-z]{2})?/(\d{7})(v\d+)?(?!\d)", re.I)
_ARXIV_SHAPE = re.compile(r"(?:arxiv:)?(?:\d{4}\.\d{4,5}|[a-z][a-z\-]+(?:\.[a-z]{2})?/\d{7})(?:v\d+)?", re.I)
ARXIV_ARCHIVES = frozenset(
    "acc-phys adap-org alg-geom ao-sci astro-ph atom-ph bayes-an chao-dyn chem-ph cmp-lg comp-gas cond-mat cs "
    "dg-ga funct-an gr-qc hep-ex hep-lat hep-ph hep-th math math-ph mtrl-th nlin nucl-ex nucl-th patt-sol "
    "physics plasm-ph q-alg q-bio quant-ph solv-int supr-con".split())
_PMID_PREFIX = re.compile(r"^(?:pmid\s*:?\s*|https?://(?:www\.)?ncbi\.nlm\.nih\.gov/pubmed/"
                          r"|https?://pubmed\.ncbi\.nlm\.nih\.gov/)", re.I)
TRACKING = re.compile(r"^(?:utm_\w*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|_gl|ref|ref_src|ref_url|referrer"
                      r"|source|src|via|casa_token|share|sharing|trk|cmpid|campaign|origin)$", re.I)
REPO_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "sourceforge.net")
REPO_NOT_OWNER = frozenset("about features marketplace orgs sponsors topics login join settings explore "
                            "collections trending pricing site search users apps".split())
_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}")


def texts(value) -> list[str]:
    """Candidate strings in a cell: list items, and whitespace/'|'/'; '-separated parts of strings."""
    if is_blank(value):
        return []
    if isinstance(value, (list, tuple)):
        out: list[str] = []
        for v in value:
            out.extend(texts(v))
        return out
    s = str(value).strip()
    if not any(c in s for c in " \t\n|;,"):
        return [s] if s else []
    return [x for x in _SPLIT.split(s) if x]


def _unquote_all(s: str) -> str:
    while "%" in s:
        t = urllib.parse.unquote(s)
        if t == s:
            break
        s = t
    return s


def _clean_doi_candidate(c: str) -> str | None:
    c = _DOI_CUT.split(c, maxsplit=1)[0]
    for _ in range(4):
        before = c
        c = _DOI_TAIL.sub("", c)
        c = c.rstrip(".,;:'\"`")
        while c and c[-1] in ")]}>" and c.count(c[-1]) > c.count({")": "(", "]": "[", "}": "{", ">": "<"}[c[-1]]):
            c = c[:-1]
        if c == before:
            break
    c = c.lower()
    if _DOI_VALID.fullmatch(c) and idutils.is_doi(c):
        return c
    return None


def normalise_doi(value) -> str | None:
    """Lowercase bare DOI ('10.1000/abc'), or None when no valid DOI is present.

    Prefixes (``https://doi.org/``, ``dx.doi.org``, ``doi:``) and trailing punctuation are removed,
    the text is URL-decoded and entity-decoded; ``144//`` and other non-DOIs give None.
    """
    for raw in texts(value):
        s = raw
        if "%" in s:
            s = _unquote_all(s)
        if "&" in s:
            s = unescape_entities(s)
        while "<" in s:
            t = strip_tags(s)
            if t == s:
                break
            s = t
        for m in _DOI_FIND.finditer(s):
            doi = _clean_doi_candidate(m.group(0))
            if doi:
                return doi
    return None


def _valid_new_arxiv(num: str) -> bool:
    yy, mm = int(num[:2]), int(num[2:4])
    if not (1 <= mm <= 12 and yy >= 7):
        return False
    five = len(num) == 10
    return (yy * 100 + mm >= 1501) if five else (yy * 100 + mm <= 1412)


def _valid_old_arxiv(archive: str, digits: str) -> bool:
    yy, mm = int(digits[:2]), int(digits[2:4])
    return archive in ARXIV_ARCHIVES and 1 <= mm <= 12 and (yy >= 91 or yy <= 7)


def normalise_arxiv(value) -> tuple[str | None, str | None]:
    """(arXiv id without version, version like 'v1') from ids, abs/pdf URLs or 10.48550 DOIs.

    New-style ids keep their form (``2103.11069``); old-style ids drop the subject class and are
    lowercased (``math.GT/0309136`` -> ``math/0309136``).
    """
    for raw in texts(value):
        s = _unquote_all(raw.strip()) if "%" in raw else raw.strip()
        m = _ARXIV_DOI.search(s)
        if m:
            s = s[m.end():]
        elif "arxiv" not in s.lower() and not _ARXIV_SHAPE.fullmatch(s):
            continue
        m = _ARXIV_NEW.search(s)
        if m and _valid_new_arxiv(m.group(1)):
            return m.group(1), m.group(2)
        m = _ARXIV_OLD.search(s)
        if m and _valid_old_arxiv(m.group(1).lower(), m.group(2)):
            return f"{m.group(1).lower()}/{m.group(2)}", m.group(3)
    return None, None


def normalise_pmid(value) -> str | None:
    """PubMed id as digits without leading zeros, from '123', 'PMID: 123' or a PubMed URL."""
    for raw in texts(value):
        s = _PMID_PREFIX.sub("", raw.strip()).strip("/")
        if s.isdigit() and s.isascii() and len(s) <= 9:
            return s.lstrip("0") or None
    return None


def _isbn10_ok(s: str) -> bool:
    total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(s))
    return total % 11 == 0


def _isbn13_ok(s: str) -> bool:
    return sum((3 if i % 2 else 1) * int(c) for i, c in enumerate(s)) % 10 == 0


def normalise_isbn(value) -> str | None:
    """ISBN as 13 digits (ISBN-10 converted), checksum verified; ISSNs and junk give None."""
    s_all = " ".join(texts(value)) if not isinstance(value, str) else value
    for m in re.finditer(r"(?<![\dXx])(?:97[89][\s-]?)?\d[\d\s-]{7,15}[\dXx](?![\dXx])", s_all or ""):
        s = re.sub(r"[^0-9Xx]", "", m.group(0)).upper()
        if len(s) == 10 and "X" not in s[:9] and _isbn10_ok(s):
            core = "978" + s[:9]
            check = (10 - sum((3 if i % 2 else 1) * int(c) for i, c in enumerate(core)) % 10) % 10
            return core + str(check)
        if len(s) == 13 and s.isdigit() and s[:3] in ("978", "979") and _isbn13_ok(s):
            return s
    return None


def normalise_url(raw: str) -> str | None:
    """'HTTPS://www.Example.org/a/?utm_source=x#top' -> 'example.org/a'; None for malformed URLs.

    DOI URLs become ``doi.org/<doi>``, arXiv abs/pdf URLs ``arxiv.org/abs/<id>``.
    """
    s = raw.strip().strip("<>\"'()[]{}")
    if s[:4].lower() == "www.":
        s = "http://" + s
    if not re.match(r"^(?:https?|ftp)://", s, re.I):
        return None
    try:
        p = urllib.parse.urlsplit(s)
        host = (p.hostname or "").lower()
        port = p.port
    except ValueError:
        return None
    if not _HOST.fullmatch(host):
        return None
    if host.startswith("www."):
        host = host[4:]
    if host in ("doi.org", "dx.doi.org") or host.endswith(".doi.org"):
        doi = normalise_doi(p.path.lstrip("/"))
        return f"doi.org/{doi}" if doi else None
    if host in ("arxiv.org", "export.arxiv.org") and re.match(r"^/(?:abs|pdf|html)/", p.path):
        arx, _ = normalise_arxiv("arxiv:" + re.sub(r"^/(?:abs|pdf|html)/|\.pdf$", "", p.path))
        if arx:
            return f"arxiv.org/abs/{arx}"
    path = re.sub(r"/+$", "", p.path)
    query = "&".join(q for q in p.query.split("&") if q and not TRACKING.match(q.split("=")[0]))
    port_s = f":{port}" if port and port not in (80, 443) else ""
    return host + port_s + path + (("?" + query) if query else "")


def repo_of(url_norm: str) -> str | None:
    """'github.com/Owner/Repo/tree/main' -> 'github.com/owner/repo' for code-hosting URLs."""
    parts = url_norm.split("?", 1)[0].split("/")
    if parts[0] not in REPO_HOSTS or len(parts) < 3 or not parts[1] or not parts[2]:
        return None
    if parts[1].lower() in REPO_NOT_OWNER:
        return None
    return f"{parts[0]}/{parts[1].lower()}/{parts[2].lower().removesuffix('.git')}"


def url_fields(value) -> dict:
    """``urls_norm`` (sorted distinct normalised URLs) and ``repo_url`` (first code repository)."""
    urls, repos = set(), set()
    for raw in texts(value):
        u = normalise_url(raw)
        if not u:
            continue
        urls.add(u)
        r = repo_of(u)
        if r:
            repos.add(r)
    return {"urls_norm": sorted(urls) or None, "repo_url": min(repos) if repos else None}


IDENTIFIER_COLUMNS = ("doi_norm", "arxiv_id_norm", "arxiv_version", "urls_norm", "repo_url")


def identifier_fields(doi=None, arxiv_id=None, urls=None, record_id=None, volume=None, venue=None) -> dict:
    """DOI, arXiv id/version, URLs and code repository of one record, each field looking at the others.

    A DOI missing from the DOI field is taken from a DOI URL. The arXiv id comes from the arXiv field,
    else the DOI (``10.48550/arXiv.*``), the URLs, the record id, a Semantic Scholar volume
    ``abs/2103.11069`` or a venue such as ``arXiv preprint arXiv:2103.11069`` / ``CoRR abs/2103.11069``.
    arXiv's own DataCite DOIs (``10.48550/...``) are not kept as ``doi_norm``: the arXiv id carries them,
    and the journal version's DOI must not count as a different DOI.
    """
    d = normalise_doi(doi)
    if d is None and urls is not None:
        d = normalise_doi([u for u in texts(urls) if "doi" in u.lower()])
    arx, ver = normalise_arxiv(arxiv_id)
    if arx is None:
        cands = [doi, urls, record_id]
        for extra in (volume, venue):
            s = extra.strip() if isinstance(extra, str) else ""
            low = s.lower()
            if low.startswith("abs/"):
                cands.append("arxiv:" + s[4:])
            elif "arxiv" in low:
                cands.append(s)
            elif low.startswith("corr") and "abs/" in low:
                cands.append("arxiv:" + s[low.index("abs/") + 4:])
        for cand in cands:
            arx, ver = normalise_arxiv(cand)
            if arx:
                break
    if d is not None and d.startswith("10.48550/"):
        d = None
    out = {"doi_norm": d, "arxiv_id_norm": arx, "arxiv_version": ver}
    out.update(url_fields(urls))
    return out
