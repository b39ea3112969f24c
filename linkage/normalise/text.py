"""Shared text folding: entity and mojibake repair, markup removal, transliteration, case folding.

Everything here is a pure function of one value. The DuckDB fast path (``sql.py``) reproduces
``fold`` for the regular case (printable ASCII without markup characters, see ``is_plain``):
there ``fold(s) == " ".join(re.findall("[0-9a-z]+", s.lower().replace("'", "")))``.
"""

from __future__ import annotations

import codecs
import html
import math
import re
import unicodedata

import ftfy
from anyascii import anyascii

# Named entities need their ';' ("&notation" stays text); numeric ones may lack it ("&#225").
_ENTITY = re.compile(r"&(?:#[0-9]{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};)")
# A tag starts with a letter ("x < y > z" is not a tag); inline tags vanish, block tags become a space.
_TAG = re.compile(r"</?([A-Za-z][\w:.-]{0,30})(?:\s[^<>]{0,300})?/?>")
_INLINE_TAGS = frozenset("i b u em strong sup sub scp span a small tt mml:mi mml:mo mml:mn mml:msub mml:msup "
                         "mml:math mml:mrow mml:mtext math inline-formula jats:italic jats:bold jats:sup "
                         "jats:sub jats:sc italic bold sc font".split())
_LATEX_ACCENT = re.compile(r"\\([`'^\"~=.])\s*\{?\s*\\?([A-Za-z])\}?|\\([uvHcdbtrk])(?:\s+|\s*\{)\\?([A-Za-z])\}?")
_ACCENT_MARK = {"`": "\u0300", "'": "\u0301", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
                ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "d": "\u0323",
                "b": "\u0331", "t": "\u0361", "r": "\u030a", "k": "\u0328"}
_LATEX_LETTERS = {"ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å",
                  "AA": "Å", "l": "ł", "L": "Ł", "i": "i", "j": "j", "&": "&", "%": "%", "_": "_", "#": "#"}
_GREEK = "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi rho " \
         "sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega"
_GREEK_CHARS = dict(zip(_GREEK.split(), "αβγδεεζηθθικλμνξπρστυφφχψωΓΔΘΛΞΠΣΥΦΨΩ", strict=True))
_LATEX_CMD = re.compile(r"\\([A-Za-z]+|[&%_#])\*?(?:\s*\{\})?\s?")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_SPACES = re.compile(r"\s+")

# Placeholder values that mean "no value" in exports (ASySD/CoLRev write UNKNOWN for a missing title/author).
BLANKS = frozenset({"", "none", "nan", "null", "n/a", "na", "-", "--", "[]", "{}", "unknown", "[unknown]",
                    "anonymous", "[anonymous]", "anon", "n.d.", "nd", "no title", "untitled", "[no title]",
                    "[untitled]", "not available", "<na>"})


_LONGEST_BLANK = max(map(len, BLANKS))


def unescape_entities(s: str) -> str:
    """Decode HTML entities, also double-escaped ones (``&amp;#225;`` -> ``á``), leaving bare ``&`` alone."""
    while "&" in s:
        t = _ENTITY.sub(lambda m: html.unescape(m.group(0)), s)
        if t == s:
            break
        s = t
    return s


def strip_tags(s: str) -> str:
    """Remove HTML/XML/JATS tags: ``<i>x</i>`` -> ``x``, ``<jats:p>a</jats:p><jats:p>b`` -> ``a b``."""
    return _TAG.sub(lambda m: "" if m.group(1).lower() in _INLINE_TAGS else " ", s)


def _latex_accent(m: re.Match) -> str:
    mark, letter = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return unicodedata.normalize("NFC", letter + _ACCENT_MARK[mark])


def _latex_cmd(m: re.Match) -> str:
    name = m.group(1)
    if name in _LATEX_LETTERS:
        return _LATEX_LETTERS[name]
    if name in _GREEK_CHARS:
        return _GREEK_CHARS[name]
    return ""


def strip_latex(s: str) -> str:
    """Resolve LaTeX accents (``{\\"o}`` -> ``ö``), Greek letters (``$\\alpha$`` -> ``α``); drop other markup."""
    s = _LATEX_ACCENT.sub(_latex_accent, s)
    s = _LATEX_CMD.sub(_latex_cmd, s)
    return s.replace("$", "").replace("{", "").replace("}", "")


# Mojibake needs a UTF-8 lead byte read as a Latin-1/Windows-1252 (or -1251) character followed by a
# continuation byte read the same way (or the spaces ftfy restores, C1 controls, U+FFFD). Text without such
# a pair cannot be mojibake; only text with one goes through ftfy (whose check costs ~1 us per 10 characters).
_CONT = "\x80-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201a" \
        "\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122\u0402-\u040f\u0452-\u045f\u0490\u0491"
_MOJIBAKE_RUN = re.compile(f"[\xc2-\xf4\u0420\u0421\u0432\u0433\u0435][{_CONT}]|[\x80-\x9f\ufffd]")
_SPACE_RESTORED = frozenset("\xc2\xc3\xc5\xce\xd0\xd9\xe2\xe3")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


class _MojibakeFound(Exception):
    pass


def _mojibake_run(exc: UnicodeEncodeError) -> tuple[str, int]:
    """Error handler of ``_may_be_mojibake``: the ASCII encoder hands it each maximal run of non-ASCII characters
    (the runs ``_NON_ASCII`` finds), found by C code instead of a Python regex scan of the whole string."""
    s, end = exc.object, exc.end
    run = s[exc.start:end]
    if _MOJIBAKE_RUN.search(run) or (run[-1] in _SPACE_RESTORED and s[end:end + 1] == " "):
        raise _MojibakeFound
    return "", end


codecs.register_error("linkage.mojibake_run", _mojibake_run)


def _may_be_mojibake(s: str) -> bool:
    """False when ``s`` has no sequence ftfy could read as mis-decoded UTF-8 (checked run by run)."""
    if "\x1a" in s:
        return True
    try:
        s.encode("ascii", "linkage.mojibake_run")
    except _MojibakeFound:
        return True
    return False


def fix_text(value: str) -> str:
    """Repair one string: (double) HTML entities, mojibake (ftfy), markup and LaTeX; NFC; accents kept."""
    s = value
    if "&" in s:
        s = unescape_entities(s)
    if not s.isascii():
        if _may_be_mojibake(s):
            s = ftfy.fix_encoding(s)
        s = unicodedata.normalize("NFC", s)
    if "<" in s:
        s = strip_tags(s)
        if "&" in s:
            s = unescape_entities(s)
    if "\\" in s or "$" in s or "{" in s:
        s = strip_latex(s)
    return s


_ASCII_RUNS: dict[str, str] = {}


def _ascii_run(m: re.Match) -> str:
    run = m.group(0)
    out = _ASCII_RUNS.get(run)
    if out is None:
        out = anyascii(run)
        if len(_ASCII_RUNS) < 200_000:
            _ASCII_RUNS[run] = out
    return out


def _ascii_run_error(exc: UnicodeEncodeError) -> tuple[str, int]:
    """Error handler of ``to_ascii``: each maximal run of non-ASCII characters (what ``_NON_ASCII`` matches),
    transliterated as ``_ascii_run`` does; the ASCII encoder finds the runs in C."""
    run = exc.object[exc.start:exc.end]
    out = _ASCII_RUNS.get(run)
    if out is None:
        out = anyascii(run)
        if len(_ASCII_RUNS) < 200_000:
            _ASCII_RUNS[run] = out
    return out, exc.end


codecs.register_error("linkage.ascii_run", _ascii_run_error)


def to_ascii(s: str) -> str:
    """Transliterate to ASCII (anyascii): ``Jörg Łukasz 東京`` -> ``Jorg Lukasz DongJing``."""
    return s if s.isascii() else s.encode("ascii", "linkage.ascii_run").decode("ascii")


def fold_fixed(s: str) -> str:
    """``fold`` for text that already went through ``fix_text``."""
    s = to_ascii(s).lower().replace("'", "")
    return " ".join(_NON_ALNUM.sub(" ", s).split())


def fold(value: str) -> str:
    """ASCII, lowercase, apostrophes dropped, other punctuation to single spaces.

    ``"Nicolás & Ö-test"`` -> ``"nicolas o test"``; ``"Editor's Notes"`` -> ``"editors notes"``.
    """
    return fold_fixed(fix_text(value))


_MARKUP_CHARS = frozenset("&<\\${")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")


def is_plain(s: str) -> bool:
    """True for printable ASCII without markup characters (``& < \\ $ {``): ``prep_text`` leaves it as is."""
    return s.isascii() and s.isprintable() and _MARKUP_CHARS.isdisjoint(s)


# Characters that need no repair before transliteration: stable under NFC, not combining, transliterated by
# anyascii to printable ASCII, and anyascii of a run of them is that of each one alone. Text made of ASCII and
# these, with no markup character and nothing ftfy could read as mojibake (``SIMPLE_TEXT_RE2`` does not match),
# needs only ``to_ascii`` (``prep_translit``); the table path tests the pattern in bulk (``sql._prep_array``).
_TRANSLIT_RANGES = ((0xA0, 0x250), (0x370, 0x460), (0x1E00, 0x1F00), (0x2000, 0x2070), (0x2100, 0x2200))
TRANSLIT: frozenset[str] = frozenset(
    chr(c) for a, b in _TRANSLIT_RANGES for c in range(a, b)
    if unicodedata.normalize("NFC", chr(c)) == chr(c) and not unicodedata.combining(chr(c))
    and anyascii(chr(c)).isascii() and anyascii(chr(c)).isprintable()
)
# RE2 (DuckDB/Arrow) and Python: a character outside ASCII and TRANSLIT, a markup character, a possible mojibake
# pair or C1 control (``_may_be_mojibake``), a character ftfy may turn into a space before a space, or the
# substitute character
NOT_SIMPLE_TEXT_RE2 = ("[^\\x00-\\x7f" + "".join(sorted(TRANSLIT)) + "]|" + _MOJIBAKE_RUN.pattern
                       + "|[" + "".join(sorted(_SPACE_RESTORED)) + "] |\\x1a|[&<\\\\$\\{]")


def prep_translit(s: str) -> str:
    """``prep_text(s)`` for text ``NOT_SIMPLE_TEXT_RE2`` does not match (the caller checks): ``fix_text`` would
    leave it as it is, so only the transliteration and the control characters remain."""
    t = to_ascii(s)
    return t if t.isprintable() else _CONTROLS.sub(" ", t)


def prep_text(s: str) -> str:
    """The repaired ASCII form every text normaliser works from: ``fix_text``, transliteration, and control
    characters (tabs, newlines) turned into spaces. Plain text (``is_plain``) is returned unchanged, which is
    what lets the DuckDB path take plain values as they are and send only the rest through Python.
    """
    if is_plain(s):
        return s
    s = to_ascii(fix_text(s))
    return s if s.isprintable() else _CONTROLS.sub(" ", s)


def is_blank(value) -> bool:
    """None, NaN, empty or a placeholder such as 'None', 'nan', 'UNKNOWN', '[]' (lists: all items blank)."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        t = value.strip()
        return len(t) <= _LONGEST_BLANK and t.lower() in BLANKS  # (no lowercase copy of a long text)
    if isinstance(value, (list, tuple)):
        return all(is_blank(v) for v in value)
    return False


def as_text(value) -> str | None:
    """A raw cell as one string (lists joined with '; '), or None when blank."""
    if is_blank(value):
        return None
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value if not is_blank(v))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def collapse_spaces(s: str) -> str:
    return _SPACES.sub(" ", s).strip()
