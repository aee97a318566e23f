"""Where the mirror's notes come from: a list of note dicts held in memory (the sample, tests), or
a JSON Lines file read on demand (a large synthetic corpus: only a small index stays in memory).

Both are read-only mappings from the path a note is served at (`notes.page_path`) to the note
dict, with `entries()` (what the mirror needs to order and find notes without loading them) and
`replace()` (an edited or added note, kept in memory).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from statenotes.mirror.notes import page_path


@dataclass(frozen=True, slots=True)
class Entry:
    """What the mirror knows about a note without loading it."""

    path: str
    url: str
    published_date: str  # ISO date
    modified_at: str | None  # the note's own `modified_at`, if it has one

    @property
    def stub(self) -> dict:
        """A note dict with just the fields `notes.published_at` / `modified_at` read."""
        return {"url": self.url, "published_date": self.published_date, "modified_at": self.modified_at}


def entry_for(note: dict) -> Entry:
    return Entry(page_path(note), note["url"], note["published_date"], note.get("modified_at") or None)


class NoteSource(Mapping[str, dict]):
    """Notes by the path they are served at. `source[path]` is the caller's own copy."""

    def entries(self) -> Iterator[Entry]:
        raise NotImplementedError

    def replace(self, path: str, note: dict) -> None:
        raise NotImplementedError


class MemoryNotes(NoteSource):
    """Note dicts held in memory (copied in, copied out)."""

    def __init__(self, notes: Iterable[dict]):
        self._notes = {page_path(n): copy.deepcopy(n) for n in notes}

    def __getitem__(self, path: str) -> dict:
        return copy.deepcopy(self._notes[path])

    def __iter__(self) -> Iterator[str]:
        return iter(self._notes)

    def __len__(self) -> int:
        return len(self._notes)

    def entries(self) -> Iterator[Entry]:
        return (entry_for(n) for n in self._notes.values())

    def replace(self, path: str, note: dict) -> None:
        self._notes[path] = copy.deepcopy(note)


class NotesFile(NoteSource):
    """Notes in a JSON Lines file (one note dict per line), read back by offset when asked for.

    Opening scans the file once; memory holds an `Entry` and an (offset, length) per note, never the
    notes. Reads use `os.pread`, so the server's threads share the one descriptor safely.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_RDONLY)
        self._spans: dict[str, tuple[int, int]] = {}
        self._entries: dict[str, Entry] = {}
        self._edited: dict[str, dict] = {}
        offset = 0
        with open(self.path, "rb") as lines:
            for line in lines:
                if line.strip():
                    entry = entry_for(json.loads(line))
                    if entry.path in self._spans:
                        raise ValueError(f"{self.path}: two notes are served at {entry.path}")
                    self._spans[entry.path] = (offset, len(line))
                    self._entries[entry.path] = entry
                offset += len(line)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()

    def __getitem__(self, path: str) -> dict:
        if path in self._edited:
            return copy.deepcopy(self._edited[path])
        offset, length = self._spans[path]
        return json.loads(os.pread(self._fd, length, offset))

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def replace(self, path: str, note: dict) -> None:
        self._edited[path] = copy.deepcopy(note)
        self._entries[path] = entry_for(note)
