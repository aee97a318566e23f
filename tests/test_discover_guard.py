"""Listing discovery stops at MAX_LISTING_PAGES, and says so instead of stopping silently."""

from __future__ import annotations

import logging
from datetime import date

from statenotes.extractors import discover
from statenotes.mirror.site import load_sample_notes, render_listing_page

BASE = "http://127.0.0.1:9"


def test_a_listing_that_never_ends_stops_at_the_guard_with_a_warning(monkeypatch, caplog):
    page = render_listing_page(load_sample_notes(), 1, BASE)
    asked: list[str] = []

    def fetch(url: str) -> bytes:  # every page lists ten notes never seen before: a site that pages forever
        asked.append(url)
        return page.replace(f'href="{BASE}/', f'href="{BASE}/p{len(asked)}-').encode("utf-8")

    monkeypatch.setattr(discover, "MAX_LISTING_PAGES", 3)
    with caplog.at_level(logging.WARNING, logger=discover.__name__):
        refs = list(discover.discover_from_listing(fetch, BASE, date(2000, 1, 1), date(2030, 1, 1)))
    assert len(asked) == 3 and len(refs) == 30
    assert "still going after 3 pages" in caplog.text


def test_the_guard_leaves_room_for_a_hundred_thousand_notes():
    assert discover.MAX_LISTING_PAGES * 10 >= 100_000
