"""The Pygments lexer for HarmonyQL (`harmonyql`, files `*.hq`), registered through the `pygments.lexers` entry point
so nbconvert, Sphinx and GitHub-style renderers colour HarmonyQL cells.

Its keywords come from the parser's own table (`harmonyql._harmonyql.keywords()`, built from
crates/lang/src/keyword.rs), so a new verb or clause is coloured as soon as the parser knows it.
"""

import re

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace

from harmonyql._harmonyql import keywords as _keywords

_WORDS = _keywords()
# Word characters of HarmonyQL names: collection IDs (C1234-PROV), granule globs (ATL03_2020*.h5), CRS codes
# (EPSG:3413), URLs and S3 destinations.
_NAME_CHARS = r"[\w\-.:/*?]"
_AFTER = rf"(?!{_NAME_CHARS})"


def _spaced(names):
    """Multi-word keywords (`skip_preview`) as typed with a space (`skip preview`), longest first."""
    spaced = sorted((name for name in names if "_" in name), key=len, reverse=True)
    return [re.escape(name).replace("_", r"[ \t]+") for name in spaced]


class HarmonyQLLexer(RegexLexer):
    """HarmonyQL: verbs, clauses, dates, numbers, strings, names and `#` comments."""

    name = "HarmonyQL"
    aliases = ["harmonyql", "hq"]
    filenames = ["*.hq"]
    mimetypes = ["text/x-harmonyql"]
    url = "https://github.com/harmonyql/harmonyql"
    flags = re.IGNORECASE

    tokens = {
        "root": [
            (r"[ \t]+", Whitespace),
            (r"\n", Whitespace),
            (r"#[^\n]*", Comment.Single),
            (r'"(\\\\|\\"|[^"\n])*"?', String.Double),
            (r"'(\\\\|\\'|[^'\n])*'?", String.Single),
            # Date-times before numbers: 2020-04-27, 2020-01-01T00:00:00Z.
            (r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?" + _AFTER, Number.Other),
            # Job IDs (UUIDs).
            (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}" + _AFTER, Name.Constant),
            (r"(" + "|".join(_spaced(_WORDS["verbs"] + _WORDS["clauses"])) + r")" + _AFTER, Keyword),
            (words(_WORDS["verbs"], prefix=r"(?<![\w\-.:/*?])", suffix=_AFTER), Keyword),
            (words(_WORDS["clauses"], prefix=r"(?<![\w\-.:/*?])", suffix=_AFTER), Keyword.Reserved),
            (words(("true", "false", "off", "on"), prefix=r"(?<![\w\-.:/*?])", suffix=_AFTER), Keyword.Constant),
            (
                words(
                    _WORDS["plots"] + _WORDS["environments"] + _WORDS["formats"] + _WORDS["statuses"],
                    prefix=r"(?<![\w\-.:/*?])",
                    suffix=_AFTER,
                ),
                Name.Builtin,
            ),
            (r"(local)(:)(\d+)", bygroups(Name.Builtin, Punctuation, Number.Integer)),
            (r"-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?" + _AFTER, Number),
            (rf"[A-Za-z_]{_NAME_CHARS}*", Name),
            (rf"[\d*?]{_NAME_CHARS}*", Name),
            (r"\.\.", Operator),
            (r"[=]", Operator),
            (r"[(),\[\]]", Punctuation),
            # Anything else is still the user's text, never an error token: a half-typed cell must colour too.
            (r".", Text),
        ],
    }
