"""Actor recognition against the seed gold, the corpus notes, and the hard cases of the design card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statenotes.extractors.errors import ConfigError
from statenotes.transforms.actors import find_actors, gazetteer_actors, load_gazetteer
from statenotes.transforms.records import Paragraph

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "tests" / "gold" / "2019-02-07-statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh.gold.json"
NOTES = ROOT / "mirror" / "sample" / "notes"
BUNDLED = ROOT / "config" / "gazetteer.toml"
MARKERS = {"begin text:", "end text", "end text.", "# # #"}


@pytest.fixture(scope="module")
def gaz():
    return load_gazetteer()


def paragraphs_of(*texts: str) -> list[Paragraph]:
    return [Paragraph(seq, None, "body", text) for seq, text in enumerate(texts)]


def corpus_note(name: str) -> tuple[str, list[Paragraph]]:
    """Title and paragraphs of a corpus note, one paragraph per body line (markers left out)."""
    note = json.loads((NOTES / name).read_text(encoding="utf-8"))
    lines = [line for line in note["body_lines"] if line.strip().lower() not in MARKERS]
    return note["title"], paragraphs_of(*lines)


def surfaces(findings, actor_id: str) -> list[str]:
    return [m.surface for m in findings.mentions if m.actor_id == actor_id]


def ids(text: str, gaz, title: str = "") -> list[str]:
    return [m.actor_id for m in find_actors(title, paragraphs_of(text), gaz).mentions]


# --- the seed note against its gold ------------------------------------------------------------

@pytest.fixture(scope="module")
def seed(gaz):
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    title = json.loads((NOTES / gold["note"]).read_text(encoding="utf-8"))["title"]
    paragraphs = [Paragraph(seq, p["label"], "body", p["text"]) for seq, p in enumerate(gold["paragraphs"])]
    return gold["actors"], find_actors(title, paragraphs, gaz)


def gold_index(actor, findings, gold: list[dict], gaz) -> int | None:
    """Which gold entry a found actor is: by ISO code, by name, by a printed surface, or by its parent."""
    printed = {s.lower() for s in surfaces(findings, actor.actor_id)}
    lineage = [actor]
    while lineage[-1].parent_id in gaz.actors and lineage[-1].kind != "government":
        lineage.append(gaz.actors[lineage[-1].parent_id])
    for index, entry in enumerate(gold):
        if entry["kind"] == "country":
            if actor.kind == "country" and actor.iso3 == entry["iso3"]:
                return index
        elif entry["kind"] == "person":
            if actor.kind == "person" and actor.name == entry["name"]:
                return index
        elif actor.kind == entry["kind"]:
            names = {entry["name"].lower(), *entry.get("match", [])}
            if printed & names or any(a.name.lower() in names for a in lineage):
                return index
    return None


def test_seed_names_every_required_gold_actor(seed, gaz):
    gold, findings = seed
    found = {gold_index(a, findings, gold, gaz) for a in findings.actors}
    missing = [g.get("name", g.get("iso3")) for i, g in enumerate(gold) if not g.get("optional") and i not in found]
    assert missing == []


def test_seed_names_nothing_outside_gold(seed, gaz):
    gold, findings = seed
    extra = [a.actor_id for a in findings.actors if gold_index(a, findings, gold, gaz) is None]
    assert extra == []


def test_seed_persons_have_gold_roles_and_countries(seed):
    gold, findings = seed
    persons = {a.name: a for a in findings.actors if a.kind == "person"}
    for entry in (g for g in gold if g["kind"] == "person"):
        person = persons[entry["name"]]
        if "iso3" in entry:
            assert person.iso3 == entry["iso3"], entry["name"]
        roles = [m.role for m in findings.mentions if m.actor_id == person.actor_id and m.role]
        assert roles[:1] == ([entry["role"]] if "role" in entry else []), entry["name"]


def test_seed_title_names_the_coalition(seed):
    _, findings = seed
    title = [m for m in findings.mentions if m.seq == -1]
    assert [(m.surface, m.actor_id) for m in title] == [
        ("Global Coalition To Defeat ISIS/DAESH", "org:global-coalition-to-defeat-isis")]


# --- surfaces ----------------------------------------------------------------------------------

def test_isis_isil_daesh_are_one_actor(gaz):
    text = ("ISIS, ISIL, Daesh, DAESH, Da'esh, Da’esh, the Islamic State, the Islamic State of Iraq "
            "and Syria and the Islamic State of Iraq and the Levant.")
    assert ids(text, gaz) == ["group:isis"] * 9


def test_slashed_aliases_are_one_mention(gaz):
    findings = find_actors("", paragraphs_of("the fight against ISIS/DAESH, ISIS’s finances and Iraq’s army"), gaz)
    assert [(m.surface, m.actor_id) for m in findings.mentions] == [
        ("ISIS/DAESH", "group:isis"), ("ISIS", "group:isis"), ("Iraq", "IRQ")]


def test_niger_is_not_nigeria(gaz):
    text = "Niger and Nigeria; the Nigerien and Nigerian delegations; the Niger Delta."
    assert ids(text, gaz) == ["NER", "NGA", "NER", "NGA"]


def test_longest_name_wins(gaz):
    text = "Papua New Guinea, Guinea-Bissau, Equatorial Guinea, Guinea, South Sudan and Sudan."
    assert ids(text, gaz) == ["PNG", "GNB", "GNQ", "GIN", "SSD", "SDN"]
    assert ids("UN Security Council sanctions and the UN", gaz) == ["org:un-security-council", "org:united-nations"]


def test_georgia_the_us_state_is_not_the_country(gaz):
    text = ("He flew to Atlanta, Georgia, met the governors of Alabama, Georgia, and Florida, and "
            "visited the State of Georgia.")
    assert ids(text, gaz) == []
    assert ids("Girls from Tbilisi, Georgia, and from Georgia, Armenia, and Azerbaijan.", gaz) == [
        "GEO", "GEO", "ARM", "AZE"]


def test_jordan_and_chad_as_person_names_are_not_countries(gaz):
    assert ids("Michael Jordan met Chad Smith in Jordan and in Chad.", gaz) == ["JOR", "TCD"]
    assert ids("In Jordan, officials met.", gaz) == ["JOR"]
    assert ids("Jordan Peterson and Chad Wolf spoke; Jordan Armed Forces; Jordan, Egypt.", gaz) == ["JOR", "JOR", "EGY"]


def test_turkey_is_the_country_only_as_a_name(gaz):
    text = ("Turkey, Türkiye, Turkiye, the Republic of Turkey and Turkish officials; a turkey dinner and "
            "turkeys at Thanksgiving.")
    assert ids(text, gaz) == ["TUR"] * 5
    assert ids("Deputy Secretary Travels to Turkey", gaz, title="Deputy Secretary Travels to Turkey") == ["TUR", "TUR"]


def test_demonyms_used_as_languages_are_not_countries(gaz):
    text = ("Remarks in Spanish and French. Spanish-language media, French-speaking states, Chinese "
            "speakers; translated into Russian; available in English, Portuguese, and Japanese.")
    assert ids(text, gaz) == []
    text = ("Spanish officials met in French territory; investment in Chinese companies; exercises in "
            "Russian, Chinese, and Iranian waters; Russian-occupied Crimea.")
    assert ids(text, gaz) == ["ESP", "FRA", "CHN", "RUS", "CHN", "IRN", "RUS", "region:crimea"]


def test_foreign_ministries_are_government_bodies(gaz):
    text = ("The French Ministry of Foreign Affairs, Japan's Foreign Ministry, the Ministry of Foreign "
            "Affairs of the Republic of Korea and the U.S. Department of State; Japanese Foreign "
            "Minister Taro Kono and Chinese Foreign Ministry Spokesperson Hua Chunying.")
    findings = find_actors("", paragraphs_of(text), gaz)
    assert [(m.surface, m.actor_id) for m in findings.mentions] == [
        ("French Ministry of Foreign Affairs", "gov:FRA-foreign-ministry"),
        ("Japan's Foreign Ministry", "gov:JPN-foreign-ministry"),
        ("Ministry of Foreign Affairs of the Republic of Korea", "gov:KOR-foreign-ministry"),
        ("U.S. Department of State", "gov:USA-department-of-state"), ("Japanese", "JPN"),
        ("Taro Kono", "person:taro-kono"), ("Chinese Foreign Ministry", "gov:CHN-foreign-ministry"),
        ("Hua Chunying", "person:hua-chunying")]
    assert {a.actor_id: a.iso3 for a in findings.actors if a.kind == "person"} == {
        "person:taro-kono": "JPN", "person:hua-chunying": "CHN"}


def test_acronyms_match_only_in_their_case(gaz):
    assert ids("Let us meet un-named officials; Au revoir; the US, the UN and the AU.", gaz) == [
        "USA", "org:united-nations", "org:african-union"]


def test_places_named_after_countries_are_not_countries(gaz):
    assert ids("New Mexico, Mexico City, Latin American states and the South China Sea.", gaz) == []
    assert ids("Southeast Asia and Africa, the Sahel and the Western Balkans.", gaz) == [
        "region:sahel", "region:western-balkans"]


def test_country_names_and_demonyms(gaz):
    text = ("the Philippines, The Philippines, Burma, Türkiye, Turkey, DRC, the UAE, the UK, South "
            "Korea, Republic of Korea, ROK, Iraqi, Syrian, Afghan, German, Japanese, Dutch, British, "
            "United States of America, U.S., US, American, Côte d’Ivoire")
    assert ids(text, gaz) == [
        "PHL", "PHL", "MMR", "TUR", "TUR", "COD", "ARE", "GBR", "KOR", "KOR", "KOR", "IRQ", "SYR",
        "AFG", "DEU", "JPN", "NLD", "GBR", "USA", "USA", "USA", "USA", "CIV"]


def test_governments(gaz):
    text = ("The governments of France, Italy, the United Kingdom, and the United States agree with "
            "the Government of Iraq, the Iraqi government and the Iraqi Security Forces.")
    findings = find_actors("", paragraphs_of(text), gaz)
    assert [(m.surface, m.actor_id) for m in findings.mentions] == [
        ("France", "gov:FRA"), ("Italy", "gov:ITA"), ("United Kingdom", "gov:GBR"),
        ("United States", "gov:USA"), ("Government of Iraq", "gov:IRQ"),
        ("Iraqi government", "gov:IRQ"), ("Iraqi Security Forces", "gov:IRQ-security-forces")]
    assert gaz.actors["gov:IRQ"].iso3 == "IRQ" and gaz.actors["gov:IRQ"].kind == "government"


def test_the_coalition_counts_only_where_the_coalition_is_named(gaz):
    assert ids("The Coalition met and its Coalition partners agreed.", gaz) == []
    named = ids("The Global Coalition to Defeat ISIS met. The Coalition agreed.", gaz)
    assert named == ["org:global-coalition-to-defeat-isis"] * 2
    title, paragraphs = corpus_note("2022-06-04-us-delegation-world-telecommunication-development-conference.json")
    assert "org:global-coalition-to-defeat-isis" not in {a.actor_id for a in find_actors(title, paragraphs, gaz).actors}


def test_offsets_point_at_the_surface_in_every_corpus_note(gaz):
    checked = 0
    for path in sorted(NOTES.glob("*.json")):
        title, paragraphs = corpus_note(path.name)
        texts = {-1: title} | {p.seq: p.text for p in paragraphs}
        findings = find_actors(title, paragraphs, gaz)
        for m in findings.mentions:
            assert texts[m.seq][m.start : m.end] == m.surface, (path.name, m)
            checked += 1
        for a, b in zip(findings.mentions, findings.mentions[1:]):
            assert a.seq < b.seq or a.end <= b.start, (path.name, a, b)  # sorted, no overlaps
        assert [a.actor_id for a in findings.actors] == list(dict.fromkeys(m.actor_id for m in findings.mentions))
    assert checked > 300


# --- persons -----------------------------------------------------------------------------------

def test_michael_r_pompeo_is_mike_pompeo(gaz, seed):
    title, paragraphs = corpus_note("2020-03-01-iwoc-2020-ceremony.json")
    iwoc = find_actors(title, paragraphs, gaz)
    assert surfaces(iwoc, "person:mike-pompeo") == ["Michael R. Pompeo", "Michael R. Pompeo"]
    assert surfaces(seed[1], "person:mike-pompeo") == ["Mike Pompeo"]
    assert ids("Secretary Pompeo spoke.", gaz) == ["person:mike-pompeo"]


def test_titled_names_roles_and_countries(gaz):
    text = ("Under Secretary of State for Political Affairs Thomas A. Shannon met Iraqi Foreign "
            "Minister Jane Doe and Vice Foreign Minister Lee Taeho of the Republic of Korea. Under "
            "Secretary Shannon thanked Minister Doe.")
    findings = find_actors("Under Secretary Shannon Travels to Vietnam", paragraphs_of(text), gaz)
    persons = {a.actor_id: a for a in findings.actors if a.kind == "person"}
    assert {p: a.iso3 for p, a in persons.items()} == {
        "person:thomas-shannon": "USA", "person:jane-doe": "IRQ", "person:lee-taeho": "KOR"}
    assert persons["person:thomas-shannon"].name == "Thomas A. Shannon"
    assert [(m.seq, m.surface, m.actor_id, m.role) for m in findings.mentions if m.role] == [
        (-1, "Shannon", "person:thomas-shannon", "Under Secretary"),
        (0, "Thomas A. Shannon", "person:thomas-shannon", "Under Secretary of State for Political Affairs"),
        (0, "Jane Doe", "person:jane-doe", "Foreign Minister"),
        (0, "Lee Taeho", "person:lee-taeho", "Vice Foreign Minister"),
        (0, "Shannon", "person:thomas-shannon", "Under Secretary"),
        (0, "Doe", "person:jane-doe", "Minister"),
    ]
    assert [m.actor_id for m in findings.mentions if m.role is None] == ["VNM", "IRQ", "KOR"]


def test_countries_of_titles_and_namesakes(gaz):
    text = ("President of Ghana Nana Akufo-Addo met Acting Secretary of Homeland Security Chad Wolf, "
            "President Trump and First Lady Trump.")
    findings = find_actors("", paragraphs_of(text), gaz)
    assert [(a.actor_id, a.iso3) for a in findings.actors if a.kind == "person"] == [
        ("person:nana-akufo-addo", "GHA"), ("person:chad-wolf", "USA"),
        ("person:donald-trump", "USA"), ("person:melania-trump", "USA")]
    assert "TCD" not in {a.actor_id for a in findings.actors}


def test_corpus_titles_resolve_to_the_persons_of_the_body(gaz):
    expected = {
        "2011-09-21-clinton-new-silk-road-ministerial.json": ("Clinton", "person:hillary-clinton"),
        "2015-04-09-blinken-host-trilateral-japan-rok.json": ("Blinken", "person:antony-blinken"),
        "2018-04-24-sales-travel-france-jordan.json": ("Nathan A. Sales", "person:nathan-sales"),
        "2019-04-10-risch-travel-arizona-mexico.json": ("Carl Risch", "person:carl-risch"),
        "2024-02-16-zeya-travel-jamaica-belize.json": ("Zeya", "person:uzra-zeya"),
    }
    for name, (surface, person_id) in expected.items():
        title, paragraphs = corpus_note(name)
        heads = [(m.surface, m.actor_id) for m in find_actors(title, paragraphs, gaz).mentions
                 if m.seq == -1 and m.actor_id.startswith("person:")]
        assert heads == [(surface, person_id)], name


def test_a_titled_role_is_not_read_as_a_name(gaz):
    text = ("the 2020 Secretary of State's International Women of Courage Award; the Assistant "
            "Secretary will review; Ambassador Nathan A. Sales, the Coordinator for Counterterrorism, will go.")
    findings = find_actors("", paragraphs_of(text), gaz)
    persons = [a for a in findings.actors if a.kind == "person"]
    assert [(p.actor_id, p.iso3) for p in persons] == [("person:nathan-sales", "USA")]


def test_a_second_title_before_the_name_is_not_part_of_it(gaz):
    text = ("U.S. Special Envoy for the Horn of Africa Ambassador David Satterfield will travel. Special "
            "Envoy Satterfield will meet Special Representative for Syria Engagement Ambassador James "
            "Jeffrey and Ambassador Robert King.")
    findings = find_actors("", paragraphs_of(text), gaz)
    assert [(m.surface, m.actor_id, m.role) for m in findings.mentions if m.actor_id.startswith("person:")] == [
        ("David Satterfield", "person:david-satterfield", "Special Envoy for the Horn of Africa"),
        ("Satterfield", "person:david-satterfield", "Special Envoy"),
        ("James Jeffrey", "person:james-jeffrey", "Special Representative for Syria Engagement"),
        ("Robert King", "person:robert-king", "Ambassador")]
    assert {a.actor_id: a.iso3 for a in findings.actors}["person:david-satterfield"] == "USA"


def test_an_office_word_with_a_possessive_stays_in_the_title(gaz):
    findings = find_actors("", paragraphs_of("Ambassador-at-Large for Global Women's Issues Kelley Currie spoke."), gaz)
    assert [(m.surface, m.role) for m in findings.mentions] == [
        ("Kelley Currie", "Ambassador-at-Large for Global Women's Issues")]


def test_a_person_keeps_one_id_however_the_note_names_them(gaz):
    for text in ("Mexican President Andrés Manuel López Obrador met President López Obrador's cabinet.",
                 "President López Obrador spoke; Mexican President Andrés Manuel López Obrador agreed."):
        findings = find_actors("", paragraphs_of(text), gaz)
        persons = [a for a in findings.actors if a.kind == "person"]
        assert [(p.actor_id, p.name, p.iso3) for p in persons] == [
            ("person:andres-manuel-lopez-obrador", "Andrés Manuel López Obrador", "MEX")]
        assert sorted(surfaces(findings, persons[0].actor_id)) == ["Andrés Manuel López Obrador", "López Obrador"]
    # Across notes: a known leader named by surname alone is the one named in full elsewhere.
    assert ids("President Putin spoke.", gaz) == ids("Russian President Vladimir Putin spoke.", gaz)[1:] == [
        "person:vladimir-putin"]


def test_a_persons_span_is_never_a_country(gaz, tmp_path):
    custom = tmp_path / "gazetteer.toml"
    custom.write_text(BUNDLED.read_text(encoding="utf-8") + (
        '\n[[actor]]\nid = "person:kenya-moore"\nname = "Kenya Moore"\nkind = "person"\n'
        'aliases = ["Kenya Moore"]\n'), encoding="utf-8")
    findings = find_actors("", paragraphs_of("Kenya Moore met officials from Kenya."), load_gazetteer(custom))
    assert [(m.surface, m.actor_id) for m in findings.mentions] == [
        ("Kenya Moore", "person:kenya-moore"), ("Kenya", "KEN")]


# --- the gazetteer itself ----------------------------------------------------------------------

def test_dimension_rows(gaz):
    rows = {a.actor_id: a for a in gazetteer_actors(gaz)}
    countries = [a for a in rows.values() if a.kind == "country"]
    assert len(countries) >= 249 and all(a.iso3 == a.actor_id for a in countries)
    assert rows["org:un-security-council"].parent_id == "org:united-nations"
    assert rows["gov:USA-department-of-state"].iso3 == "USA"
    assert rows["gov:PHL"].name == "Government of the Philippines"
    ministry = rows["gov:FRA-foreign-ministry"]
    assert (ministry.name, ministry.kind, ministry.iso3, ministry.parent_id) == (
        "Ministry of Foreign Affairs of France", "government", "FRA", "gov:FRA")
    assert "gov:USA-foreign-ministry" not in rows  # the Department of State is its own entry
    assert all(a.parent_id is None or a.parent_id in rows for a in rows.values())
    assert {a.kind for a in rows.values()} == {"country", "organization", "group", "government", "region", "person"}


def test_a_surface_naming_two_actors_is_a_config_error(tmp_path):
    bad = tmp_path / "gazetteer.toml"
    bad.write_text(BUNDLED.read_text(encoding="utf-8") + (
        '\n[[actor]]\nid = "org:other-un"\nname = "Other"\nkind = "organization"\naliases = ["UN"]\n'),
        encoding="utf-8")
    with pytest.raises(ConfigError, match="UN"):
        load_gazetteer(bad)


@pytest.mark.parametrize(("text", "expected"), [
    # Written after the rule, on sentences it was not tuned on.
    ("The Secretary was joined by Victoria Nuland, Assistant Secretary of State for European and Eurasian "
     "Affairs, and Amos Hochstein, Special Envoy for International Energy Affairs.",
     {("Victoria Nuland", "Assistant Secretary of State for European and Eurasian Affairs"),
      ("Amos Hochstein", "Special Envoy for International Energy Affairs")}),
    ("The delegation will include Linda Thomas-Greenfield, the Assistant Secretary for African Affairs.",
     {("Linda Thomas-Greenfield", "Assistant Secretary for African Affairs")}),
    ("He met with Ana María de la Cruz, Minister of Foreign Affairs of Peru; Olaf Berg, Ambassador to Norway.",
     {("Ana María de la Cruz", "Minister of Foreign Affairs of Peru"), ("Olaf Berg", "Ambassador to Norway")}),
    # Not names: a place or an office before the comma, or a sentence that starts with one.
    ("In Washington, Secretary Kerry met the delegation.", {("Kerry", "Secretary")}),
    ("Talks on East Asian and Pacific Affairs, Ambassador Lee said, went well.", {("Lee", "Ambassador")}),
    ("Representatives of Japan, Ambassador Ito and others attended.", {("Ito", "Ambassador")}),
])
def test_persons_introduced_before_their_title(gaz, text, expected):
    """Issue 12: "accompanied by Brett McGurk, Special Presidential Envoy ..., and Joseph Pennington,
    Deputy Assistant Secretary ..." gave no person."""
    findings = find_actors("Readout", paragraphs_of(text), gaz)
    persons = {(m.surface, m.role) for m in findings.mentions if m.actor_id.startswith("person:")}
    assert persons == expected
