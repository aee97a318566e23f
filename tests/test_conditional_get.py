"""Conditional GET against the mirror: validators from the last fetch's log row, a 304 that names
the archived copy, and a changed page that comes back whole."""

from __future__ import annotations

import time

from statenotes.extractors.archive import RawArchive
from statenotes.extractors.http import Fetcher, FetchPolicy
from statenotes.extractors.records import FetchRecord, Validators
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes

SEED_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"
POLICY = FetchPolicy(user_agent="statenotes-tests", crawl_delay_s=0.0, backoff_factor_s=0.01)


def statuses(site: MirrorServer, path: str, expected: int) -> list[int]:
    """The statuses the mirror logged for `path`, once it has logged `expected` of them (a bodiless
    answer such as a 304 is logged just after its headers went out: the client may be quicker)."""
    deadline = time.monotonic() + 2
    while True:
        found = [s for _, p, s in site.requests if p == path]
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


def validators_of(record: FetchRecord) -> Validators:
    """What a flow builds from the `fetches` row of a URL's last 200."""
    return Validators(etag=record.etag, last_modified=record.last_modified, sha256=record.sha256)


def test_an_unchanged_page_answers_304_and_names_the_archived_copy(tmp_path):
    archive = RawArchive(tmp_path)
    with MirrorServer() as site, Fetcher(POLICY) as fetcher:
        url = site.base_url + SEED_PATH
        first = fetcher.fetch_page(url)
        archive.put(first.body, first.sha256)
        row = fetcher.log[-1]
        assert row.status == 200 and row.etag and row.last_modified and row.sha256 == first.sha256

        again = fetcher.fetch_page(url, validators=validators_of(row))
        assert (again.status, again.body, again.sha256) == (304, b"", first.sha256)
        assert archive.get(again.sha256) == first.body  # what the caller reuses
        logged = fetcher.log[-1]
        assert (logged.status, logged.bytes, logged.sha256, logged.error) == (304, 0, first.sha256, None)
        assert (logged.etag, logged.last_modified) == (row.etag, row.last_modified)  # carried to the next run
        assert statuses(site, SEED_PATH, 2) == [200, 304]


def test_either_validator_alone_is_enough():
    with MirrorServer() as site, Fetcher(POLICY) as fetcher:
        url = site.base_url + SEED_PATH
        row = (fetcher.fetch_page(url), fetcher.log[-1])[1]
        by_date = fetcher.fetch_page(url, validators=Validators(last_modified=row.last_modified))
        by_tag = fetcher.fetch_page(url, validators=Validators(etag=row.etag))
    assert by_date.status == by_tag.status == 304
    assert by_date.sha256 == ""  # no archived copy was named: nothing to reuse but the caller's own


def test_a_changed_page_comes_back_whole_with_new_validators():
    with MirrorServer() as site, Fetcher(POLICY) as fetcher:
        url = site.base_url + SEED_PATH
        first = fetcher.fetch_page(url)
        old = validators_of(fetcher.log[-1])
        seed = next(n for n in load_sample_notes() if n["url"].endswith(SEED_PATH))
        site.update_note(SEED_PATH, dict(seed, body_lines=seed["body_lines"] + ["A correction was added."]))
        changed = fetcher.fetch_page(url, validators=old)
        assert changed.status == 200 and b"A correction was added." in changed.body
        assert changed.sha256 != first.sha256 and fetcher.log[-1].etag != old.etag


def test_no_validators_sends_no_condition():
    assert Validators().headers() == {} and not Validators()
    assert Validators(etag='"x"', last_modified="Thu, 07 Feb 2019 15:25:05 GMT").headers() == {
        "If-None-Match": '"x"', "If-Modified-Since": "Thu, 07 Feb 2019 15:25:05 GMT"}
