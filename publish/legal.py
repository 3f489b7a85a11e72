"""The privacy policy, the terms of use and the first section of docs/storage.md, rendered
from one source (publish/privacy.toml), so the three cannot say different things.

`make site` writes the pages into the site (publish/site.py) and the section into the doc;
tests/test_legal.py fails when the doc's section is not what this renders, when a stored
field of the record (progress.py) is not named in the source, or when the regions named
are not the deployed ones (samconfig.toml).
"""

from __future__ import annotations

import html
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path(__file__).resolve().parent / "privacy.toml"
STORAGE_DOC = ROOT / "docs" / "storage.md"
BEGIN = "<!-- generated from publish/privacy.toml by `make site`: edit that file, not this section -->"
END = "<!-- end of the generated section -->"


def load() -> dict[str, Any]:
    with SOURCE.open("rb") as handle:
        return tomllib.load(handle)


def _years(days: int) -> str:
    return "a year" if days == 365 else f"{days} days"


def storage_section(source: dict[str, Any] | None = None) -> str:
    """The markdown of docs/storage.md's generated section (markers included)."""
    data = source or load()
    lines = [
        BEGIN,
        "One DynamoDB item per user (per recognised voice profile, when Alexa identifies one), in",
        "the table of the region that answers them. " + data["key"]["what"],
        "",
    ]
    for item in data["stored"]:
        fields = ", ".join(f"`{name}`" for name in item["fields"])
        lines.append(f"- {item['what']} ({fields}) {item['why']}")
    zone = data["time_zone"]
    lines += [
        "",
        f"**The device's time zone.** {zone['what']} {zone['why']}",
        "",
        "**Not kept.** " + " ".join(data["not_kept"]["items"]),
        "",
        f"**How long.** Every write sets a TTL {data['retention_days']} days ahead (`expires_at`), so a "
        f"record unused for {_years(data['retention_days'])} expires. {data['deletion']['what']}",
        "",
        f"**Shared with nobody.** {data['sharing']['what']}",
        "",
        "| Alexa region | markets | AWS region (samconfig.toml) |",
        "|---|---|---|",
        *(
            f"| {r['alexa']} | {', '.join(r['markets'])} | `{r['aws']}`, {r['where']} |"
            for r in data["region"]
        ),
        END,
    ]
    return "\n".join(lines) + "\n"


def with_section(doc: str, section: str) -> str:
    """``doc`` with its generated section replaced by ``section``."""
    start, end = doc.index(BEGIN), doc.index(END) + len(END) + 1
    return doc[:start] + section + doc[end:]


_STYLE = """
body { font: 17px/1.55 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1c3338;
       background: #f7f3ec; max-width: 44rem; margin: 2rem auto; padding: 0 1.2rem; }
h1 { color: #184652; font-weight: 600; } h2 { color: #184652; font-weight: 600; margin-top: 2rem; }
dt { font-weight: 600; margin-top: .8rem; } dd { margin-left: 1.2rem; }
table { border-collapse: collapse; } td, th { border-bottom: 1px solid #d9d2c5; padding: .3rem .8rem .3rem 0;
       text-align: left; }
footer { margin-top: 3rem; color: #5b6b6e; font-size: .9rem; }
"""


def _page(title: str, body: list[str], updated: str) -> str:
    return "\n".join([
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{html.escape(title)}</h1>",
        *body,
        f"<footer>Last updated {html.escape(updated)}.</footer>",
        "</body>",
        "</html>",
        "",
    ])  # fmt: skip


def _p(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def privacy_html(source: dict[str, Any] | None = None) -> str:
    data = source or load()
    skill = data["skill"]
    body = [
        _p(f"{skill} is an Alexa skill that guides pelvic-floor relaxation and gentle self-massage by voice. "
           "This page says everything it keeps about you, why, for how long, where, and how to have it "
           "deleted."),
        "<h2>What it keeps</h2>",
        _p(data["key"]["what"] + " " + data["key"]["why"]),
        "<dl>",
        *(f"<dt>{html.escape(i['what'])}</dt><dd>{html.escape(i['why'])}</dd>" for i in data["stored"]),
        "</dl>",
        "<h2>Your time zone</h2>",
        _p(data["time_zone"]["what"] + " " + data["time_zone"]["why"]),
        "<h2>What it does not keep</h2>",
        "<ul>",
        *(f"<li>{html.escape(text)}</li>" for text in data["not_kept"]["items"]),
        "</ul>",
        "<h2>Where it is kept</h2>",
        _p("Alexa sends your requests to the region that serves your country; your record is kept there:"),
        "<table><tr><th>You use Alexa in</th><th>Your record is kept in</th></tr>",
        *(f"<tr><td>{html.escape(', '.join(r['markets']))}</td><td>{html.escape(r['where'])}</td></tr>"
          for r in data["region"]),
        "</table>",
        "<h2>How long, and deleting it</h2>",
        _p(f"A record is kept while you use the skill, and expires {_years(data['retention_days'])} after "
           "its last use. " + data["deletion"]["what"]),
        "<h2>Sharing</h2>",
        _p(data["sharing"]["what"]),
        "<h2>Children</h2>",
        _p(f"{skill} is not directed to children under 13 and does not knowingly keep anything about them."),
        "<h2>Contact</h2>",
        _p(data["contact"]["what"]),
    ]  # fmt: skip
    return _page(f"{skill}: privacy policy", body, data["updated"])


def terms_html(source: dict[str, Any] | None = None) -> str:
    data = source or load()
    body = [_p(text) for text in data["terms"]["paragraphs"]]
    body.append(_p(data["contact"]["what"]))
    return _page(f"{data['skill']}: terms of use", body, data["updated"])
