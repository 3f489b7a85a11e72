"""The markets the skill serves: the one list. A new locale is a row here, its content overlay
(``routines/locales/<locale>.toml``) and its interaction model
(``skill_package/interactionModels/custom/<locale>.json``); the tests hold the three together."""

from __future__ import annotations

from typing import NamedTuple


class Market(NamedTuple):
    """One market: its locale and what differs by market besides the words."""

    locale: str
    # Where the device's time zone cannot be read, days are counted in the market's most
    # populous zone: nearer most users' midnight than UTC.
    zone: str
    # The Amazon Polly neural voice its audio is rendered with (Polly has no Canadian
    # English voice: en-CA uses en-US's).
    voice: str


BASE_LOCALE = "en-US"  # the base content; every other market is an overlay of what differs
MARKETS = (
    Market("en-US", "America/New_York", "Joanna"),
    Market("en-GB", "Europe/London", "Amy"),
    Market("en-CA", "America/Toronto", "Joanna"),
    Market("en-AU", "Australia/Sydney", "Olivia"),
    Market("en-IN", "Asia/Kolkata", "Kajal"),
)
LOCALES = tuple(market.locale for market in MARKETS)
OTHER_ZONE = "UTC"  # days of a request in a locale we do not serve


def market(locale: str | None) -> Market | None:
    return next((m for m in MARKETS if m.locale == locale), None)


def fallback_zone(locale: str | None) -> str:
    """The zone days are counted in when the device's own cannot be read."""
    found = market(locale)
    return found.zone if found else OTHER_ZONE
