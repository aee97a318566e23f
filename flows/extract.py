"""`statenotes extract`: one page in, the DESIGN.md JSON object out (what the pipeline would load)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from statenotes.extractors.credentials import redact, split_userinfo
from statenotes.extractors.errors import StatenotesError
from statenotes.extractors.http import Fetcher
from statenotes.flows.pages import transform_page
from statenotes.flows.settings import load_settings
from statenotes.transforms.actors import load_gazetteer


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def extract_page(page_or_url: str, url: str | None = None) -> dict[str, Any]:
    content_type = None
    if page_or_url.startswith(("http://", "https://")):
        bare, user, _ = split_userinfo(page_or_url)
        # user:password@ in the URL: Basic auth for that origin only (as in base_url), and a URL without them
        settings = load_settings(base_url=page_or_url) if user is not None else load_settings()
        # The operator named this URL: any http(s) origin is allowed (base_url="" opens the URL policy).
        with Fetcher(replace(settings.fetch_policy(), base_url="")) as fetcher:
            page = fetcher.fetch_page(bare)
        body, url, content_type = page.body, url or page.url, page.content_type
    else:
        path = Path(page_or_url)
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise StatenotesError(f"cannot read {path}: {exc.strerror}") from exc
        url = url or path.resolve().as_uri()
    url = redact(url)
    note, note_body, findings = transform_page(body, url, content_type, load_gazetteer())
    return {
        "note": {
            "url": url, "layout": note.layout, "title": note.title, "release_type": note.release_type,
            "office": note.office, "published_date": _iso(note.published_date),
            "modified_at": _iso(note.modified_at),
            "dateline_place": note_body.dateline_place, "dateline_date": _iso(note_body.dateline_date),
            "tags": list(note.tags), "has_quoted_text": note_body.has_quoted_text,
        },
        "paragraphs": [{"seq": p.seq, "label": p.label, "kind": p.kind, "text": p.text}
                       for p in note_body.paragraphs],
        "actors": [{"actor_id": a.actor_id, "name": a.name, "kind": a.kind, "iso3": a.iso3}
                   for a in findings.actors],
        "mentions": [{"seq": m.seq, "start": m.start, "end": m.end, "surface": m.surface,
                      "actor_id": m.actor_id, "role": m.role} for m in findings.mentions],
    }
