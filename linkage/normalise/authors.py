"""Authors: split the forms found in the wild into names, then surname keys and initials.

Handled: "Last, First and Last, F.", "F. Last; F. M. Last", "First Last, First Last", JSON lists,
the glued export form "Adeli K.Lewis G. F.", one unsegmented string "Keke Wu Rui Du Jingrun Chen
Xiang Zhou", "et al.", particles (van, de, von) and transliteration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import fix_text, fold, is_blank

PARTICLES = frozenset("van von der den de del della di da dos das du le la ter ten st bin ibn al el mac".split())
SUFFIXES = frozenset("jr sr ii iii iv phd md".split())
_ET_AL = re.compile(r"\bet\.?\s*al\.?|\band others\b|\bu\.\s*a\.", re.I)
_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,4}$")


@dataclass(frozen=True)
class Author:
    surname: str          # folded surname key, particles dropped: "berg" for "van den Berg"
    initials: str         # folded initials of the given names: "jr"

    def __str__(self) -> str:
        return f"{self.surname} {self.initials}".strip()


def _is_initials(tok: str) -> bool:
    t = tok.strip().rstrip(",")
    return bool(_INITIALS.match(t)) or (len(t) <= 3 and t.isupper() and t.isalpha())


def _looks_given(part: str) -> bool:
    """'J.', 'J. R.', 'Peter B. B.', 'Jean-Luc': given names as written after 'Last,'."""
    toks = part.split()
    if not toks or len(toks) > 3:
        return False
    return all(_is_initials(t) for t in toks) or all(_is_initials(t) for t in toks[1:])


def _surname_key(surname: str) -> str:
    words = [w for w in fold(re.sub(r"(?<=\w)[-'’](?=\w)", "", surname)).split() if w]
    content = [w for w in words if w not in PARTICLES and w not in SUFFIXES]
    return (content[-1] if content else (words[-1] if words else ""))


def _initials(given: str) -> str:
    return "".join(w[0] for w in fold(given.replace("-", " ")).split() if w and w not in SUFFIXES)


def _split_name_first_last(name: str) -> Author | None:
    """'Jingrun Chen', 'J. R. Chen', 'Chen J.R.', 'Ludwig van Beethoven'."""
    toks = [t for t in re.split(r"\s+", name.strip().strip(",;.")) if t]
    toks = [t for t in toks if fold(t) not in SUFFIXES]
    if not toks:
        return None
    if len(toks) == 1:
        return Author(_surname_key(toks[0]), "")
    if all(_is_initials(t) for t in toks[1:]) and not _is_initials(toks[0]):  # "Chen J. R." (surname first)
        return Author(_surname_key(toks[0]), _initials(" ".join(re.sub(r"([A-Z])", r" \1", t) for t in toks[1:])))
    # surname = last token plus any particles before it
    i = len(toks) - 1
    while i > 1 and fold(toks[i - 1]) in PARTICLES:
        i -= 1
    return Author(_surname_key(" ".join(toks[i:])), _initials(" ".join(re.sub(r"\.(?=\S)", ". ", t) for t in toks[:i])))


def _split_last_comma_first(name: str) -> Author | None:
    last, _, first = name.partition(",")
    if not fold(last):
        return None
    return Author(_surname_key(last), _initials(re.sub(r"\.(?=\S)", ". ", first)))


def split_names(value) -> list[str]:
    """Split a raw authors cell into one string per person (order kept)."""
    if is_blank(value):
        return []
    if isinstance(value, (list, tuple)):
        items = [fix_text(str(v)).strip() for v in value if not is_blank(v)]
        if len(items) == 1:
            return split_names(items[0])
        return items
    s = fix_text(str(value)).strip()
    s = _ET_AL.sub("", s).strip().strip(",;")
    if not s:
        return []
    # glued export form: "Adeli K.Lewis G. F." -> "Adeli K.; Lewis G. F."
    s = re.sub(r"([A-Z]\.)(?=[A-Z][a-z])", r"\1; ", s)
    if re.search(r"\s+and\s+|\s*;\s*|\s+&\s+|\n|\s*\|\s*", s):
        parts = [p.strip(" ,") for p in re.split(r"\s+and\s+|\s*;\s*|\s+&\s+|\n|\s*\|\s*", s) if p.strip(" ,")]
        out = []
        for p in parts:  # "A. Smith, B. Jones and C. Brown"
            sub = [x.strip() for x in p.split(",") if x.strip()]
            if len(sub) > 1 and all(len(x.split()) >= 2 for x in sub) and not any(_is_initials(x) for x in sub):
                out.extend(sub)
            else:
                out.append(p)
        return out
    if "," in s:
        parts = [p.strip() for p in s.split(",") if p.strip()]
        # "Last, F., Last, F." : every second part is initials or a given name
        if len(parts) >= 2 and len(parts) % 2 == 0 and all(
            _looks_given(parts[i]) for i in range(1, len(parts), 2)
        ) and all(len(parts[i].split()) <= 2 and not _is_initials(parts[i]) for i in range(0, len(parts), 2)):
            return [f"{parts[i]}, {parts[i + 1]}" for i in range(0, len(parts), 2)]
        return parts
    toks = s.split()
    # "Zhai Q J Yue X Y" style: surname followed by initials, repeated
    if len(toks) >= 3 and _is_initials(toks[-1]) and any(_is_initials(t) for t in toks[1:]) and not _is_initials(toks[0]):
        names, cur = [], []
        for t in toks:
            if cur and not _is_initials(t) and _is_initials(cur[-1]):
                names.append(" ".join(cur))
                cur = []
            cur.append(t)
        if cur:
            names.append(" ".join(cur))
        if len(names) > 1:
            return [f"{n.split()[0]}, {' '.join(n.split()[1:])}" for n in names]
    # one unsegmented string of full names: "Keke Wu Rui Du Jingrun Chen Xiang Zhou"
    if len(toks) >= 4 and len(toks) % 2 == 0 and all(t[:1].isupper() and t[1:].islower() and len(t) > 1 for t in toks):
        return [f"{toks[i]} {toks[i + 1]}" for i in range(0, len(toks), 2)]
    return [s]


def parse_authors(value) -> list[Author]:
    """Parsed authors in order; names that fold to nothing are dropped."""
    out = []
    for name in split_names(value):
        a = _split_last_comma_first(name) if "," in name else _split_name_first_last(name)
        if a and a.surname:
            out.append(a)
    return out


def author_fields(value) -> dict:
    """Normalised author columns for one raw value."""
    authors = parse_authors(value)
    if not authors:
        return {"author_surnames": None, "first_author": None, "author_initials": None, "author_count": None,
                "authors_norm": None}
    return {
        "author_surnames": [a.surname for a in authors],
        "first_author": authors[0].surname,
        "author_initials": [a.initials for a in authors],
        "author_count": len(authors),
        "authors_norm": "; ".join(str(a) for a in authors),
    }
