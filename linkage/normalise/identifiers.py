"""Identifiers: DOI, arXiv id, PubMed id, ISBN, URLs and code repositories.

DOIs and arXiv ids are validated with ``idutils``; anything that is not one (``144//``) becomes
None, never a wrong value. Malformed URLs never crash and are never taken as identifiers.
"""

from __future__ import annotations

import re
import urllib.parse

import idutils

from .text import is_blank

_DOI_IN = re.compile(r"10\.\d{4,9}/[^\s\"<>]+", re.I)
_ARXIV_NEW = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(v\d+)?(?![\d])")
_ARXIV_OLD = re.compile(r"\b([a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?\b", re.I)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.I)
TRACKING = re.compile(r"^(utm_|fbclid|gclid|mc_|ref$|ref_|source$)")
REPO_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "huggingface.co", "sourceforge.net")


def _values(value) -> list[str]:
    if is_blank(value):
        return []
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out.extend(_values(v))
        return out
    s = str(value).strip()
    return [x for x in re.split(r"[\s;,|]+", s) if x] if " " in s or ";" in s or "|" in s else [s]


def normalise_doi(value) -> str | None:
    """Lowercase bare DOI ('10.1000/abc'), or None when no valid DOI is present."""
    for raw in _values(value):
        s = urllib.parse.unquote(raw.strip())
        m = _DOI_IN.search(s)
        if not m:
            continue
        doi = m.group(0).rstrip(".,;:)]}'\"").lower()
        doi = re.sub(r"(\.pdf|/full|/abstract|/epdf|/pdf)$", "", doi)
        if idutils.is_doi(doi):
            return doi
    return None


def normalise_arxiv(value) -> tuple[str | None, str | None]:
    """(arXiv id without version, version like 'v1') from ids, abs/pdf URLs or 10.48550 DOIs."""
    for raw in _values(value):
        s = urllib.parse.unquote(raw.strip())
        m = _ARXIV_DOI.search(s.replace("https://doi.org/", "").replace("doi:", ""))
        if m:
            s = m.group(1)
        low = s.lower()
        if "arxiv" not in low and not re.fullmatch(r"(arxiv:)?\d{4}\.\d{4,5}(v\d+)?|[a-z\-]+(\.[a-z]{2})?/\d{7}(v\d+)?",
                                                   low, re.I):
            continue
        m = _ARXIV_NEW.search(s)
        if m and idutils.is_arxiv(m.group(1)):
            return m.group(1), m.group(2)
        m = _ARXIV_OLD.search(s)
        if m and idutils.is_arxiv(m.group(1)):
            return m.group(1).lower(), m.group(2)
    return None, None


def normalise_pmid(value) -> str | None:
    for raw in _values(value):
        s = re.sub(r"(?i)^(pmid:?\s*|https?://(www\.)?ncbi\.nlm\.nih\.gov/pubmed/|https?://pubmed\.ncbi\.nlm\.nih\.gov/)",
                   "", raw.strip()).strip("/")
        if re.fullmatch(r"\d{1,9}", s):
            return s.lstrip("0") or None
    return None


def normalise_isbn(value) -> str | None:
    for raw in _values(value):
        s = re.sub(r"[^0-9Xx]", "", raw)
        if len(s) in (10, 13) and idutils.is_isbn(s):
            return s.upper()
    return None


def normalise_url(raw: str) -> str | None:
    """'HTTPS://www.Example.org/a/?utm_source=x' -> 'example.org/a'; None for malformed URLs."""
    s = raw.strip().strip("<>\"'")
    if not re.match(r"^(https?|ftp)://", s, re.I):
        if re.match(r"^www\.", s, re.I):
            s = "http://" + s
        else:
            return None
    try:
        p = urllib.parse.urlsplit(s)
    except ValueError:
        return None
    host = (p.hostname or "").lower()
    if not host or "." not in host or not re.fullmatch(r"[a-z0-9.\-]+", host):
        return None
    host = host[4:] if host.startswith("www.") else host
    query = "&".join(q for q in p.query.split("&") if q and not TRACKING.match(q.split("=")[0].lower()))
    path = re.sub(r"/+$", "", p.path)
    return host + path + (("?" + query) if query else "")


def url_fields(value) -> dict:
    urls, repos = [], []
    for raw in _values(value):
        u = normalise_url(raw)
        if not u:
            continue
        host = u.split("/", 1)[0]
        if host in REPO_HOSTS and u.count("/") >= 2:
            repos.append("/".join(u.lower().split("/")[:3]).removesuffix(".git"))
        urls.append(u)
    return {"urls_norm": sorted(set(urls)) or None, "repo_url": sorted(set(repos))[0] if repos else None}
