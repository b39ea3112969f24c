"""Source names found inside records (an ``origin_source`` column, a ``source`` field of an API record).

``normalise_source_value`` is the value-level twin of ``linkage.sources.normalise_source_name`` (which
names input tables): ``SupportedSources.ARXIV``, ``arXiv`` and ``arxiv`` all give ``arxiv``. It is a
plain function, not a normalised column: origin columns may carry ground truth and never become features.
"""

from __future__ import annotations

import re

from .text import as_text, to_ascii

# Common spellings of bibliographic sources -> one name.
SOURCE_ALIASES = {
    "pwc": "papers_with_code", "paperswithcode": "papers_with_code", "papers_with_code": "papers_with_code",
    "s2": "semantic_scholar", "semanticscholar": "semantic_scholar", "semantic_scholar": "semantic_scholar",
    "crossref": "crossref", "cross_ref": "crossref", "dblp": "dblp", "acm": "acm", "acm_dl": "acm",
    "acm_digital_library": "acm", "pubmed": "pubmed", "medline": "pubmed", "pub_med": "pubmed",
    "web_of_science": "web_of_science", "wos": "web_of_science", "webofscience": "web_of_science",
    "scopus": "scopus", "embase": "embase", "arxiv": "arxiv", "biorxiv": "biorxiv", "medrxiv": "medrxiv",
    "google_scholar": "google_scholar", "googlescholar": "google_scholar", "openalex": "openalex",
    "core": "core", "grobid": "pdf", "pdf": "pdf", "ieee": "ieee", "ieee_xplore": "ieee", "ieeexplore": "ieee",
    "cinahl": "cinahl", "psycinfo": "psycinfo", "cochrane": "cochrane", "europe_pmc": "europe_pmc",
    "europepmc": "europe_pmc",
}


def normalise_source_value(value) -> str | None:
    """``SupportedSources.PAPERS_WITH_CODE`` -> ``papers_with_code``; ``Semantic Scholar`` -> ``semantic_scholar``."""
    s = as_text(value)
    if s is None:
        return None
    s = to_ascii(s).strip()
    if re.fullmatch(r"[A-Za-z_]\w*\.[A-Za-z_]\w*", s):  # Enum repr: SupportedSources.ARXIV
        s = s.rsplit(".", 1)[1]
    s = re.sub(r"[^0-9a-zA-Z]+", "_", s).strip("_").lower()
    if not s:
        return None
    return SOURCE_ALIASES.get(s, SOURCE_ALIASES.get(s.replace("_", ""), s))
