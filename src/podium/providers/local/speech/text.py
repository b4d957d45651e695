"""Splitting a script into the chunks a streaming voice speaks one after another.

The first sentence is split at its clause boundaries so the first chunk is short and its audio
arrives quickly; later sentences are spoken whole (better prosody) unless they are long, in which
case they are split at clauses too. Every chunk knows whether it ends a sentence, so the engine
can pause longer there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENTENCE = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=\S)")
_CLAUSE = re.compile(r"(?<=[,;:—–])\s+(?=\S)|\s+(?=[—–]\s)")
_ABBREVIATIONS = {"mr.", "mrs.", "ms.", "dr.", "st.", "vs.", "etc.", "e.g.", "i.e.", "no.", "jr."}
# words a phrase may start with: where a long first clause can be cut without breaking a phrase
_CONNECTIVES = {
    "and",
    "but",
    "or",
    "with",
    "without",
    "that",
    "which",
    "who",
    "because",
    "so",
    "for",
    "to",
    "in",
    "on",
    "at",
    "from",
    "like",
    "while",
    "when",
    "where",
    "as",
    "of",
}


@dataclass(frozen=True)
class Chunk:
    """A piece of text synthesised in one go.

    Attributes:
        text: the words.
        sentence: index of the sentence it belongs to.
        ends_sentence: whether a sentence ends with this chunk.
    """

    text: str
    sentence: int
    ends_sentence: bool


def normalize_text(text: str) -> str:
    """Collapse whitespace (line breaks in a YAML block become spaces)."""
    return re.sub(r"\s+", " ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``; a line break without punctuation also ends a sentence."""
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n|\n", text.strip()):
        para = normalize_text(paragraph)
        if para:
            for piece in (s.strip() for s in _SENTENCE.split(para) if s.strip()):
                if out and out[-1].split()[-1].lower() in _ABBREVIATIONS:
                    out[-1] = f"{out[-1]} {piece}"
                else:
                    out.append(piece)
    return out


def split_phrase(clause: str, *, max_words: int) -> list[str]:
    """Cut a long clause before a connective word so its first part has at most ``max_words``.

    Returns the clause unchanged (one item) when no connective falls in range.
    """
    words = clause.split()
    if len(words) <= max_words:
        return [clause]
    for i in range(min(max_words, len(words) - 2), 2, -1):
        if words[i].lower().strip("\"'“”") in _CONNECTIVES:
            return [" ".join(words[:i]), " ".join(words[i:])]
    return [clause]


def split_clauses(sentence: str, *, min_words: int = 2) -> list[str]:
    """Clauses of one sentence; a clause shorter than ``min_words`` joins the next."""
    parts = [p.strip() for p in _CLAUSE.split(sentence) if p.strip()]
    merged: list[str] = []
    carry = ""
    for part in parts:
        text = f"{carry} {part}".strip() if carry else part
        if len(text.split()) < min_words:
            carry = text
            continue
        merged.append(text)
        carry = ""
    if carry:
        if merged:
            merged[-1] = f"{merged[-1]} {carry}"
        else:
            merged.append(carry)
    return merged


def plan_chunks(
    text: str, *, long_words: int = 24, split_first: bool = True, first_words: int = 8
) -> list[Chunk]:
    """The chunks to synthesise, in order.

    Args:
        text: the script.
        long_words: sentences with more words than this are split at clauses.
        split_first: split the first sentence at clauses (short first chunk, fast first audio).
        first_words: with ``split_first``, also cut a longer first clause before a connective
            word so the first chunk has at most this many words.
    """
    chunks: list[Chunk] = []
    for i, sentence in enumerate(split_sentences(text)):
        split = (i == 0 and split_first) or len(sentence.split()) > long_words
        pieces = split_clauses(sentence) if split else [sentence]
        if i == 0 and split_first and pieces:
            pieces = split_phrase(pieces[0], max_words=first_words) + pieces[1:]
        for j, piece in enumerate(pieces):
            chunks.append(Chunk(piece, i, j == len(pieces) - 1))
    return chunks


def count_words(text: str) -> int:
    """Spoken words in ``text``."""
    return len(re.findall(r"[\w'’-]+", text))
