"""The layout stages of `parse_note`'s cascade: each recognises one page layout state.gov has used
and reads it into a `MediaNote`, or returns None to let the next stage try.

A stage that recognises its layout but finds no usable body raises `ParseError`: an unknown or
broken page is quarantined with a reason, never loaded half-empty.
"""

from __future__ import annotations

from collections.abc import Callable

from bs4.element import Tag

from statenotes.extractors import fields
from statenotes.extractors.fields import PageIndex
from statenotes.extractors.body import body_blocks
from statenotes.extractors.errors import ParseError
from statenotes.extractors.records import BLOCK_PARAGRAPH, BodyBlock, MediaNote
from statenotes.extractors.selectors import (
    DRUPAL_BODY,
    DRUPAL_DATE,
    DRUPAL_DATELINE,
    DRUPAL_OFFICE,
    DRUPAL_RELEASE_TYPE,
    DRUPAL_TITLE,
    LAYOUT_DRUPAL,
    LAYOUT_WORDPRESS,
    WP_BODY,
    WP_OFFICE,
    WP_PUBLISH_DATE,
    WP_RELEASE_TYPE,
    WP_TITLE,
)

OFFICE_LINE_SEPARATOR = ", "  # remarks print "Name<br>Title" in the office slot


def has_prose(blocks: list[BodyBlock]) -> bool:
    # "# # #" alone, or punctuation, is not a release body.
    return any(ch.isalnum() for block in blocks for line in block.lines for ch in line)


def checked_blocks(body: Tag | None, missing: str, url: str) -> list[BodyBlock]:
    """The body's blocks; ParseError when the body is missing or holds no prose."""
    if body is None:
        raise ParseError(f"no release body ({missing} missing)", url)
    blocks = body_blocks(body)
    if not has_prose(blocks):
        raise ParseError("empty release body", url)
    return blocks


def wordpress(page: PageIndex, url: str) -> MediaNote | None:
    # 1. WordPress release page (www.state.gov since 2019; the 2017-2021 / 2021-2025 archives).
    #    Recognised by its headline or its body; the title falls back to og:title. A state.gov
    #    og:title alone does not claim the page, so later stages still get their chance.
    headline = fields.text_of(page, WP_TITLE)
    body = page.first(WP_BODY)
    if headline is None and body is None:
        return None
    title = headline or fields.og_title(page)[0]
    if not title:
        return None
    return MediaNote(
        url=url,
        layout=LAYOUT_WORDPRESS,
        title=title,
        release_type=fields.text_of(page, WP_RELEASE_TYPE),
        office=fields.text_of(page, WP_OFFICE, line_separator=OFFICE_LINE_SEPARATOR),
        published_date=fields.parse_printed_date(fields.text_of(page, WP_PUBLISH_DATE)),
        modified_at=fields.modified_at(page),
        tags=fields.tags(page),
        blocks=checked_blocks(body, WP_BODY, url),
        canonical_url=page.canonical,
    )


def drupal(page: PageIndex, url: str) -> MediaNote | None:
    # 2. Drupal-era archive page (2009-2017.state.gov). Believed markup, never seen from here:
    #    engages only when its own title class and its body or date field are present. The header
    #    above the title prints the dateline ("Washington, DC" + date); it becomes the body's first
    #    block, where a WordPress page prints it, so the transform reads every layout's dateline alike.
    title = fields.text_of(page, DRUPAL_TITLE)
    body = page.first(DRUPAL_BODY)
    printed_date = fields.text_of(page, DRUPAL_DATE)
    if not title or (body is None and printed_date is None):
        return None
    blocks = checked_blocks(body, DRUPAL_BODY, url)
    place = fields.text_of(page, DRUPAL_DATELINE)
    if place and printed_date:
        blocks.insert(0, BodyBlock(kind=BLOCK_PARAGRAPH, lines=(place, printed_date)))
    return MediaNote(
        url=url,
        layout=LAYOUT_DRUPAL,
        title=title,
        release_type=fields.text_of(page, DRUPAL_RELEASE_TYPE),
        office=fields.text_of(page, DRUPAL_OFFICE),
        published_date=fields.parse_printed_date(printed_date),
        modified_at=fields.modified_at(page),
        blocks=blocks,
        canonical_url=page.canonical,
    )


LAYOUT_STAGES: tuple[Callable[[PageIndex, str], MediaNote | None], ...] = (wordpress, drupal)
