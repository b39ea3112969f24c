"""Authors: split the forms found in the wild into names, then surname keys and initials.

Handled: "Last, First and Last, F.", "F. Last; F. M. Last", "First Last, First Last",
"Last, F., Last, F., and Last, F." (Cora), JSON lists and Python lists, the glued export form
"Adeli K.Lewis G. F.", PubMed "Zhai QJ, Yue XY", one unsegmented string of pinyin names
"Keke Wu Rui Du Jingrun Chen Xiang Zhou", "et al." / "and others", particles (van, de, von),
suffixes (Jr., III), parenthesised nicknames, transliteration and case folding.

The surname key is the last content word of the surname, folded: "van den Berg" -> "berg",
"Hernández-Ochoa" -> "hernandezochoa", "O'Neill" -> "oneill". Initials are the first letters of
the given names: "Jean-Luc R." -> "jlr".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .text import fold_fixed, is_blank, prep_text

PARTICLES = frozenset("van von der den de del della dello di da dos das du le la lo ter ten te st ste bin ibn "
                      "al el mac ap af zu zum zur vom op het ver 't".split())
SUFFIXES = frozenset("jr jnr sr snr ii iii iv".split())
TITLES = frozenset("dr prof mr mrs ms sir dame professor".split())
_ET_AL = re.compile(r"[,;]?\s*(?:\bet\.?\s*al\b\.?|\bet\s+alii\b|\band\s+others\b|\bu\.\s*a\.$|\[?\.\.\.\]?$)", re.I)
_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,4}$")
_INITIALS_LOWER_DOT = re.compile(r"^(?:[a-z]\.-?){1,4}$")
_PAREN = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")
_PRIMARY_SEP = re.compile(r"\s+and\s+|\s*;\s*|\s+&\s+|\s*\n\s*|\s*\|\s*|,\s*and\s+|,\s*&\s*", re.I)
_GLUED = re.compile(r"(?<=[A-Z]\.)(?=[A-Z][a-z'’])")
_WORD = re.compile(r"[A-Za-z0-9]+")
_INNER_JOINER = re.compile(r"(?<=\w)[-‐‑'’](?=\w)")
# one lowercase word made of pinyin syllables (also the RE2 pattern of the table path, ``sql.AUTHORS_PINYIN_SQL``)
PINYIN_WORD_RE = (
    r"(?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|van|ai|ei|ao|ou|an|en"
    r"|in|un|vn|ia|ie|iu|ua|uo|ui|ue|ve|er|a|o|e|i|u|v))+")
_PINYIN = re.compile(f"^{PINYIN_WORD_RE}$")


@dataclass(frozen=True)
class Author:
    """One parsed author: folded surname key and the initials of the given names."""

    surname: str          # folded surname key, particles dropped: "berg" for "van den Berg"
    initials: str         # folded initials of the given names: "jr"

    def __str__(self) -> str:
        return f"{self.surname} {self.initials}".strip()


def _is_particle(tok: str) -> bool:
    return tok.lower().replace("’", "'") in PARTICLES


def _is_initials(tok: str) -> bool:
    """'J.', 'JR', 'J.-P.', 'M.R.', 'j.' are initials; 'Jo', 'Wu', 'Li' are not."""
    t = tok.strip().rstrip(",")
    if not t:
        return False
    return bool(_INITIALS.match(t)) or bool(_INITIALS_LOWER_DOT.match(t)) or (
        len(t) <= 3 and t.isupper() and t.isalpha()) or (len(t) == 1 and t.isalpha())


def _is_given_token(tok: str) -> bool:
    return _is_initials(tok) or (tok[:1].isupper() and tok.replace("-", "").replace(".", "").isalpha())


def surname_key(surname: str) -> str:
    """Folded last content word of a surname: 'van den Berg' -> 'berg', "O'Neill-Smith" -> 'oneillsmith'."""
    words = fold_fixed(_INNER_JOINER.sub("", surname)).split()
    content = [w for w in words if w not in PARTICLES and w not in SUFFIXES]
    return content[-1] if content else (words[-1] if words else "")


def initials_of(given: str) -> str:
    """First letters of the given names: 'Jean-Luc R.' -> 'jlr', 'M.R.' -> 'mr', 'QJ' -> 'qj'.

    Words are ASCII letter/digit runs; suffixes (Jr., III) are skipped; a word of two or three
    capitals is read as initials.
    """
    out = []
    for w in _WORD.findall(given.replace("'", "")):
        lw = w.lower()
        if lw in SUFFIXES:
            continue
        if 1 < len(w) <= 3 and w.isupper() and w.isalpha():
            out.append(lw)
        else:
            out.append(lw[0])
    return "".join(out)


def parse_name(name: str) -> Author | None:
    """One person's name in any of 'Last, First', 'First Last', 'Last F.', 'F. Last'."""
    name = _PAREN.sub("", name).strip().strip(",;.: ")
    if not name:
        return None
    if "," in name:
        last, _, first = name.partition(",")
        parts = [p.strip() for p in first.split(",")]
        given = " ".join(p for p in parts if fold_fixed(p) not in SUFFIXES)  # "Adams, Harold P., Jr."
        key = surname_key(last)
        return Author(key, initials_of(given)) if key else None
    toks = name.split()
    if len(toks) > 2 and fold_fixed(toks[0]) in TITLES:
        toks = toks[1:]
    toks = [t for t in toks if fold_fixed(t) not in SUFFIXES] or toks
    if len(toks) == 1:
        if _is_initials(toks[0]) and len(toks[0].strip(".")) <= 2:
            return None  # a lone initial ("y.") is not a person
        return Author(surname_key(toks[0]), "")
    if all(_is_initials(t) for t in toks):
        return None  # "T. T." left over from a broken list is not a person
    if not _is_initials(toks[0]) and _is_initials(toks[-1]):  # "Chen J. R.", "Zhai QJ", "Call Douglas R."
        return Author(surname_key(toks[0]), initials_of(" ".join(toks[1:])))
    # surname = last token plus any particles before it: "Ludwig van Beethoven"
    i = len(toks) - 1
    while i > 1 and _is_particle(toks[i - 1]):
        i -= 1
    return Author(surname_key(" ".join(toks[i:])), initials_of(" ".join(toks[:i])))


def _parse_json_list(s: str) -> list | None:
    if not (s.startswith("[") and s.endswith("]")):
        return None
    try:
        v = json.loads(s)
    except ValueError:
        return None
    if isinstance(v, list):
        return [x.get("name") or " ".join(filter(None, (x.get("given"), x.get("family")))) if isinstance(x, dict)
                else x for x in v]
    return None


def _surname_word(p: str) -> bool:
    """A surname written before its comma: one word, maybe after particles ('van der Berg', 'Van-Poelgeest')."""
    toks = [t for t in p.split() if fold_fixed(t) not in SUFFIXES]
    return bool(toks) and len(toks) <= 4 and all(_is_particle(t) for t in toks[:-1]) and not _is_initials(
        toks[-1]) and not toks[-1].endswith(".")


def _looks_given(p: str) -> bool:
    """Given names as written after 'Last,': 'J.', 'J. R.', 'Bernd Carsten', 'Harold P.'."""
    toks = p.split()
    return 0 < len(toks) <= 4 and all(_is_given_token(t) for t in toks)


def _split_commas(s: str) -> list[str]:
    """A comma list: 'Last, F., Last, F.' pairs, or 'First Last, First Last' names."""
    parts = [p.strip() for p in s.split(",") if p.strip()]
    parts = [p for p in parts if fold_fixed(p) not in SUFFIXES] or parts
    if len(parts) >= 2 and len(parts) % 2 == 0 and all(_surname_word(parts[i]) for i in range(0, len(parts), 2)) \
            and all(_looks_given(parts[i]) for i in range(1, len(parts), 2)):
        return [f"{parts[i]}, {parts[i + 1]}" for i in range(0, len(parts), 2)]
    return parts


def _split_spaced(s: str) -> list[str]:
    """Names written without separators: glued/PubMed 'Zhai Q J Yue X Y', unsegmented pinyin names."""
    toks = s.split()
    # "Zhai Q J Yue X Y" / "Adeli K. Lewis G. F.": surname words then initials, repeated, ending in initials
    if len(toks) >= 3 and not _is_initials(toks[0]) and _is_initials(toks[-1]):
        groups: list[tuple[list[str], list[str]]] = []
        for t in toks:
            if _is_initials(t):
                groups[-1][1].append(t)
            elif groups and not groups[-1][1]:
                groups[-1][0].append(t)
            else:
                groups.append(([t], []))
        if len(groups) > 1:
            return [f"{' '.join(sur)}, {' '.join(ini)}" for sur, ini in groups]
    # one unsegmented string of full names: "Keke Wu Rui Du Jingrun Chen Xiang Zhou"
    if len(toks) >= 4 and len(toks) % 2 == 0 and all(t[:1].isupper() and t[1:].islower() and t.isalpha()
                                                      for t in toks):
        if all(_PINYIN.match(t.lower()) for t in toks) or len(toks) >= 6:
            return [f"{toks[i]} {toks[i + 1]}" for i in range(0, len(toks), 2)]
    return [s]


def split_names(value) -> list[str]:
    """Split a raw authors cell into one string per person (order kept)."""
    if is_blank(value):
        return []
    if isinstance(value, (list, tuple)):
        items = [prep_text(str(v)).strip() for v in value if not is_blank(v)]
        items = [i for i in items if not is_blank(i)]
        if len(items) == 1:
            return split_names(items[0])
        return [_ET_AL.sub("", i).strip() for i in items if _ET_AL.sub("", i).strip()]
    s = str(value).strip()
    lst = _parse_json_list(s)
    if lst is not None:
        return split_names(lst)
    s = prep_text(s).strip()
    if is_blank(s):
        return []
    if "(" in s or "[" in s:
        s = _PAREN.sub("", s)  # "Zhang, Zhe (James)", "Smith J [corrected]"
    s = _ET_AL.sub("", s).strip().strip(",;").strip()
    if not s or is_blank(s):
        return []
    if "," not in s and ";" not in s and " and " not in s:
        s = _GLUED.sub(" ", s)  # glued export form: "Adeli K.Lewis G. F." -> "Adeli K. Lewis G. F."
    parts = [p.strip(" ,") for p in _PRIMARY_SEP.split(s)]
    parts = [p for p in parts if p and not is_blank(p)]
    out: list[str] = []
    if len(parts) > 1:
        for p in parts:  # "A. Smith, B. Jones and C. Brown" / "Aha, D. W., Kibler, D., and Albert, M. K."
            out.extend(_split_commas(p) if "," in p else [p])
        return out
    if "," in s:
        return _split_commas(s)
    return _split_spaced(s)


def parse_authors(value) -> list[Author]:
    """Parsed authors in order; names that fold to nothing are dropped."""
    out = []
    for name in split_names(value):
        a = parse_name(name)
        if a and a.surname:
            out.append(a)
    return out


def _fields(authors: list[Author]) -> tuple:
    if not authors:
        return (None, None, None, None, None)
    return ([a.surname for a in authors], authors[0].surname, [a.initials for a in authors], len(authors),
            "; ".join(str(a) for a in authors))


AUTHOR_COLUMNS = ("author_surnames", "first_author", "author_initials", "author_count", "authors_norm")


def author_fields(value) -> dict:
    """Normalised author columns for one raw value."""
    vals = _fields(parse_authors(value))
    out = dict(zip(AUTHOR_COLUMNS, vals, strict=True))
    for k in ("author_surnames", "author_initials"):
        if out[k] is not None:
            out[k] = list(out[k])
    return out
