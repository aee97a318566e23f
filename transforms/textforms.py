"""How printed names are compared: apostrophes, dashes and odd spaces unified, case folded, accents
dropped. Every form keeps the text's length, so offsets found in it are offsets in the original."""

from __future__ import annotations

import unicodedata

# Characters that print differently but read the same; one character each, so offsets in the
# normalised text are offsets in the original.
_SAME_CHAR = (
    ("’", "'"), ("‘", "'"), ("ʼ", "'"), ("`", "'"), ("´", "'"), ("‐", "-"), ("‑", "-"), ("‒", "-"),
    ("–", "-"), ("—", "-"), ("\u00a0", " "), ("\u2009", " "), ("\u202f", " "),
)


def normalise(text: str) -> str:
    """The text with apostrophes, dashes and odd spaces unified; same length as `text`."""
    # A chain of str.replace runs in C; str.translate with a mapping looks every character up in
    # Python and was a tenth of the actor stage's time.
    for odd, same in _SAME_CHAR:
        if odd in text:
            text = text.replace(odd, same)
    return text


def fold(text: str) -> str:
    """Lower case without changing the length (a few characters lower to two)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def ascii_variant(text: str) -> str:
    """"Côte d'Ivoire" -> "Cote d'Ivoire": writers often drop the accents."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
