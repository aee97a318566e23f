"""The WordPress REST API of a WordPress host: `/wp-json/wp/v2/state_press_release` (corpus MARKUP.md).

Items carry the same body HTML as the note's page (`content.rendered` is what the page prints inside
`div.entry-content`), with WordPress's character references (`&#8217;`, `&#8211;`, `&#038;`) in
`title.rendered` and `content.rendered`. Queries as WordPress answers them: `per_page` (1-100,
default 10), `page`, `after` / `before` (exclusive, on `date`, the Washington local time),
`modified_after` (on `modified`), `slug`, `order`, `orderby`, and `_fields` (top-level names or
dotted sub-fields); paging in `X-WP-Total` / `X-WP-TotalPages` and a `Link` header; a bad parameter
or a page past the end is a 400 with WordPress's error body.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

REST_ROUTE = "/wp-json/wp/v2/state_press_release"
POST_TYPE = "state_press_release"
DEFAULT_PER_PAGE, MAX_PER_PAGE = 10, 100
EASTERN = ZoneInfo("America/New_York")  # WordPress's `date` is the site's local time
ORDERBY = {"date": "date", "modified": "modified", "id": "id", "slug": "slug"}
JSON_TYPE = "application/json; charset=UTF-8"
EXCERPT_WORDS = 55  # WordPress's default excerpt length


def wp_entities(text: str) -> str:
    """Text as WordPress renders it in REST fields: `&` as `&#038;`, non-ASCII as `&#NNNN;`."""
    out = text.replace("&", "&#038;")
    return "".join(ch if ord(ch) < 128 else f"&#{ord(ch)};" for ch in out)


def _html_entities(html: str) -> str:
    """Rendered HTML with non-ASCII characters as numeric references (markup left as it is)."""
    return "".join(ch if ord(ch) < 128 else ("&nbsp;" if ch == "\xa0" else f"&#{ord(ch)};") for ch in html)


def _wp_time(value: datetime, zone) -> str:
    return value.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds")


def query_keys(*, post_id: int, slug: str, published: datetime, modified: datetime) -> dict:
    """The fields of an item that queries filter and sort on, as `rest_item` writes them."""
    return {"id": post_id, "date": _wp_time(published, EASTERN), "modified": _wp_time(modified, EASTERN),
            "slug": slug}


def rest_item(*, post_id: int, slug: str, link: str, title: str, content_html: str, excerpt: str,
              published: datetime, modified: datetime, api_base: str) -> dict:
    """One item as `/wp-json/wp/v2/state_press_release` lists it (all fields, before `_fields`)."""
    words = excerpt.split()
    short = " ".join(words[:EXCERPT_WORDS]) + (" [&hellip;]" if len(words) > EXCERPT_WORDS else "")
    return {
        "id": post_id,
        "date": _wp_time(published, EASTERN),
        "date_gmt": _wp_time(published, timezone.utc),
        "guid": {"rendered": f"{api_base}/?post_type={POST_TYPE}&#038;p={post_id}"},
        "modified": _wp_time(modified, EASTERN),
        "modified_gmt": _wp_time(modified, timezone.utc),
        "slug": slug,
        "status": "publish",
        "type": POST_TYPE,
        "link": link,
        "title": {"rendered": wp_entities(title)},
        "content": {"rendered": _html_entities(content_html) + "\n", "protected": False},
        "excerpt": {"rendered": f"<p>{wp_entities(short)}</p>\n", "protected": False},
        "template": "",
        "meta": [],
        "_links": {"self": [{"href": f"{api_base}{REST_ROUTE}/{post_id}"}],
                   "collection": [{"href": f"{api_base}{REST_ROUTE}"}]},
    }


class RestError(ValueError):
    """A query WordPress refuses: (code, message, params) become its 400 body."""

    def __init__(self, code: str, message: str, params: dict[str, str] | None = None):
        super().__init__(message)
        self.code, self.message, self.params = code, message, params


def _error_body(error: RestError) -> dict:
    data: dict = {"status": 400}
    if error.params:
        data["params"] = error.params
    return {"code": error.code, "message": error.message, "data": data}


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _int(query: dict[str, list[str]], name: str, default: int, low: int, high: int | None) -> int:
    raw = _one(query, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        bound = f"between {low} (inclusive) and {high} (inclusive)" if high else f"greater than or equal to {low}"
        raise RestError("rest_invalid_param", f"Invalid parameter(s): {name}", {name: f"{name} must be {bound}."})
    return value


def _local_time(query: dict[str, list[str]], name: str) -> str | None:
    """An ISO 8601 bound as the local time string WordPress compares (an offset is converted)."""
    raw = _one(query, name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise RestError("rest_invalid_param", f"Invalid parameter(s): {name}",
                        {name: "Invalid date."}) from None
    return _wp_time(value, EASTERN) if value.tzinfo else value.isoformat(timespec="seconds")


def _select(item: dict, fields: list[str]) -> dict:
    """`_fields`: keep the named top-level fields, or one sub-field with a dotted name."""
    out: dict = {}
    for name in fields:
        top, _, sub = name.partition(".")
        if top not in item:
            continue
        if sub and isinstance(item[top], dict):
            if sub in item[top]:
                out.setdefault(top, {})[sub] = item[top][sub]
        else:
            out[top] = item[top]
    return out


def answer(items: list[dict], query_string: str, endpoint: str,
           expand: Callable[[dict], dict] | None = None) -> tuple[int, bytes, dict[str, str]]:
    """(status, JSON body, headers) for a GET of the collection `endpoint` with `query_string`.
    `items` need only the fields queries filter and sort on (date, modified, id, slug) when
    `expand` turns an item into the full one: only the page's items are expanded."""
    query = parse_qs(query_string, keep_blank_values=True)
    try:
        per_page = _int(query, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
        page = _int(query, "page", 1, 1, None)
        after, before = _local_time(query, "after"), _local_time(query, "before")
        modified_after = _local_time(query, "modified_after")
        order, orderby = (_one(query, "order") or "desc").lower(), (_one(query, "orderby") or "date").lower()
        if order not in ("asc", "desc") or orderby not in ORDERBY:
            bad = "order" if order not in ("asc", "desc") else "orderby"
            raise RestError("rest_invalid_param", f"Invalid parameter(s): {bad}", {bad: f"{bad} is not valid."})
        slugs = {s for raw in query.get("slug", []) for s in raw.split(",") if s}
        chosen = [i for i in items
                  if (after is None or i["date"] > after) and (before is None or i["date"] < before)
                  and (modified_after is None or i["modified"] > modified_after)
                  and (not slugs or i["slug"] in slugs)]
        chosen.sort(key=lambda i: (i[ORDERBY[orderby]], i["id"]), reverse=order == "desc")
        total, pages = len(chosen), math.ceil(len(chosen) / per_page)
        if page > max(pages, 1):
            raise RestError("rest_post_invalid_page_number",
                            "The page number requested is larger than the number of pages available.")
    except RestError as error:
        return 400, json.dumps(_error_body(error)).encode("utf-8"), {}
    shown = chosen[(page - 1) * per_page: page * per_page]
    fields = [f.strip() for raw in query.get("_fields", []) for f in raw.split(",") if f.strip()]
    full = [expand(i) for i in shown] if expand else shown
    body = [_select(i, fields) if fields else i for i in full]
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
    links = []
    for rel, number in (("prev", page - 1), ("next", page + 1)):
        if 1 <= number <= pages:
            params = {k: v[-1] for k, v in query.items()} | {"page": str(number)}
            links.append(f'<{endpoint}?{urlencode(params)}>; rel="{rel}"')
    if links:
        headers["Link"] = ", ".join(links)
    # PHP's json_encode escapes "/" and writes non-ASCII as \uXXXX; clients must not mind either.
    return 200, json.dumps(body).replace("/", "\\/").encode("utf-8"), headers
