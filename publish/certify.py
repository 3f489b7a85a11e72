"""`make certify`: skill.json and the five interaction models against the certification rules
that can be checked without Amazon, offline.

    make certify                         the repository's skill package (placeholders pending)
    make certify ARGS="--deployed"       after deploy step 4: every URL and endpoint must be real

Each check prints ok, pending (only before a deploy: what step 4 writes) or FAIL, and the
run fails on any FAIL. What only Amazon can judge (how the skill sounds, the store review,
the functional tests on devices) is not here: the testing instructions in skill.json walk a
tester through it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import images, legal, point_skill, site

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "skill_package"
CODE = ROOT / "lambda" / "pelvic_ease"
MARKETS = {"en-US": "US", "en-CA": "CA", "en-GB": "GB", "en-AU": "AU", "en-IN": "IN"}
# Limits of the skill manifest's publishing fields (the SMAPI manifest schema).
LIMITS = {"name": 50, "summary": 160, "description": 4000}
MAX_PHRASES, MAX_KEYWORDS, MAX_TESTING = 3, 30, 4000
PLACEHOLDER = re.compile(r"//(www\.)?example\.(com|org|net)\b")
# Invocation names: two or more words, lowercase letters and spaces (a period or apostrophe
# only in an abbreviation or possessive), none of Alexa's wake or launch words.
FORBIDDEN_WORDS = {"alexa", "amazon", "echo", "computer", "skill", "app"}
LAUNCH_WORDS = {"ask", "tell", "open", "launch", "begin", "load", "resume", "run", "start", "use", "play"}
MEDICAL_NOTE = "not a substitute for professional medical advice"
QUOTED = re.compile(r"“([^”]+)”")
OK, PENDING, FAIL = "ok", "pending", "FAIL"


@dataclass(frozen=True)
class Check:
    verdict: str
    what: str


def _models(package: Path) -> dict[str, dict[str, Any]]:
    folder = package / "interactionModels" / "custom"
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))}


def _resolves(locale: str, utterance: str, invocation: str) -> bool:
    """Whether a phrase, said to the skill, reaches one of its intents in that locale's model."""
    from sim.driver import MODELS, InteractionModel  # noqa: PLC0415 - the simulator's matcher

    text = utterance.lower().strip(" .!?")
    text = re.sub(r"^alexa,?\s+", "", text)
    if text in (f"open {invocation}", f"launch {invocation}", f"start {invocation}"):
        return True
    text = re.sub(rf"^(ask|tell) {re.escape(invocation)} (to |for |if |about )?", "", text)
    text = text.replace(",", "")
    model = InteractionModel(MODELS / f"{locale}.json")
    return model.resolve(text).intent != "AMAZON.FallbackIntent"


def checks(package: Path, *, deployed: bool) -> Iterator[Check]:
    """Every check of ``package`` (a skill_package folder), in order."""
    from ask_sdk_core.serialize import DefaultSerializer  # noqa: PLC0415
    from ask_smapi_model.v1.skill.manifest.skill_manifest_envelope import (  # noqa: PLC0415
        SkillManifestEnvelope,
    )

    text = (package / "skill.json").read_text(encoding="utf-8")
    manifest = json.loads(text)["manifest"]
    try:
        DefaultSerializer().deserialize(text, SkillManifestEnvelope)
        yield Check(OK, "skill.json reads as a skill manifest (ask-smapi-model)")
    except Exception as error:  # any failure to read is the finding
        yield Check(FAIL, f"skill.json does not read as a skill manifest: {error}")
    publishing, privacy = manifest["publishingInformation"], manifest["privacyAndCompliance"]
    models = _models(package)
    yield from _locales(publishing, privacy, models)
    yield from _pictures()
    yield from _urls(publishing, privacy, deployed=deployed)
    yield from _endpoints(manifest, deployed=deployed)
    yield from _invocation(models)
    yield from _phrases(publishing, models)
    yield from _permissions(manifest, publishing)
    yield from _privacy(manifest, privacy, publishing)


def _locales(publishing: dict[str, Any], privacy: dict[str, Any], models: dict[str, Any]) -> Iterator[Check]:
    locales = publishing["locales"]
    problems = []
    if set(locales) != set(models) or set(privacy["locales"]) != set(models):
        problems.append(f"locales differ: store {sorted(locales)}, privacy {sorted(privacy['locales'])}, "
                        f"models {sorted(models)}")  # fmt: skip
    for locale, info in locales.items():
        for field, limit in LIMITS.items():
            if not 0 < len(info.get(field, "")) <= limit:
                problems.append(f"{locale} {field}: 1 to {limit} characters")
        if not 1 <= len(info.get("examplePhrases", [])) <= MAX_PHRASES:
            problems.append(f"{locale}: 1 to {MAX_PHRASES} example phrases")
        if not 0 < len(info.get("keywords", [])) <= MAX_KEYWORDS:
            problems.append(f"{locale}: 1 to {MAX_KEYWORDS} keywords")
        if MEDICAL_NOTE not in info.get("description", ""):
            problems.append(f"{locale}: the description must say it is {MEDICAL_NOTE} (a health skill)")
        for field in ("smallIconUri", "largeIconUri"):
            if not info.get(field):
                problems.append(f"{locale}: no {field}")
    countries = {MARKETS.get(locale) for locale in locales}
    if (
        publishing.get("isAvailableWorldwide")
        or set(publishing.get("distributionCountries", [])) != countries
    ):
        problems.append(
            f"distributionCountries should be the markets of the locales: {sorted(map(str, countries))}"
        )
    if len(publishing.get("testingInstructions", "")) > MAX_TESTING:
        problems.append(f"testingInstructions over {MAX_TESTING} characters")
    yield (
        Check(FAIL, "; ".join(problems))
        if problems
        else Check(
            OK,
            f"{len(locales)} locales, each complete, with its model and market: {', '.join(sorted(locales))}",
        )
    )


def _pictures() -> Iterator[Check]:
    """The icons and art, drawn here as `make site` draws them: PNG, opaque, their sizes."""
    wrong = []
    for picture in images.PICTURES:
        drawn = images.draw(picture)
        if drawn.size != (picture.width, picture.height) or drawn.mode != "RGB":
            wrong.append(f"{picture.path} is {drawn.size} {drawn.mode}")
    yield (
        Check(FAIL, "; ".join(wrong))
        if wrong
        else Check(
            OK, "icons 108x108 and 512x512, AudioPlayer art 480x480 and background 1024x640: opaque PNG"
        )
    )


def _urls(publishing: dict[str, Any], privacy: dict[str, Any], *, deployed: bool) -> Iterator[Check]:
    urls = [(f"{loc} {f}", info.get(f, "")) for loc, info in publishing["locales"].items()
            for f in ("smallIconUri", "largeIconUri")]  # fmt: skip
    urls += [(f"{loc} {f}", info.get(f, "")) for loc, info in privacy["locales"].items()
             for f in ("privacyPolicyUrl", "termsOfUseUrl")]  # fmt: skip
    insecure = [name for name, url in urls if not url.startswith("https://")]
    placeholders = [name for name, url in urls if PLACEHOLDER.search(url)]
    bases = {url.rsplit(site.PREFIX, 1)[0] for _, url in urls if site.PREFIX in url}
    if insecure:
        yield Check(FAIL, f"not HTTPS: {', '.join(insecure)}")
    elif placeholders:
        said = f"{len(placeholders)} icon and page URLs are placeholders (step 4 writes them)"
        yield Check(FAIL if deployed else PENDING, said)
    elif len(bases) != 1:
        yield Check(FAIL, f"the icons and pages are not all on the stack's distribution: {sorted(bases)}")
    else:
        yield Check(OK, f"icons, privacy policy and terms of use on HTTPS at {bases.pop()}{site.PREFIX}")


def _endpoints(manifest: dict[str, Any], *, deployed: bool) -> Iterator[Check]:
    apis = (manifest["apis"]["custom"], manifest["events"])
    named = [api for api in apis if "endpoint" in api or "regions" in api]
    if not deployed:
        if named:
            yield Check(
                FAIL, "the repository's skill.json names an endpoint: the first `ask deploy` must carry none"
            )
        else:
            yield Check(
                OK, "no endpoint named yet (Alexa refuses one whose function does not allow the skill)"
            )
        return
    expected = point_skill.stacks()
    wrong = []
    for name, api in zip(("requests", "skill events"), apis, strict=True):
        arns = {point_skill.DEFAULT_REGION: api.get("endpoint", {}).get("uri", "")}
        arns |= {region: value["endpoint"]["uri"] for region, value in api.get("regions", {}).items()}
        if set(arns) != set(expected):
            wrong.append(f"{name}: regions {sorted(arns)}, not {sorted(expected)}")
        for region, arn in arns.items():
            parts = arn.split(":")
            aws_region = expected.get(region, ("?", ""))[0]
            if len(parts) != 8 or parts[3] != aws_region or parts[7] != "live":
                wrong.append(f"{name} {region}: {arn or 'none'} is not a live alias in {aws_region}")
    yield (
        Check(FAIL, "; ".join(wrong))
        if wrong
        else Check(
            OK, f"requests and skill events go to each region's live alias: {', '.join(sorted(expected))}"
        )
    )


def _invocation(models: dict[str, Any]) -> Iterator[Check]:
    problems = []
    for locale, model in models.items():
        name = model["interactionModel"]["languageModel"]["invocationName"]
        words = name.split()
        if len(words) < 2 or not re.fullmatch(r"[a-z][a-z .']*[a-z]", name):
            problems.append(f"{locale} {name!r}: two or more lowercase words")
        if FORBIDDEN_WORDS & set(words) or LAUNCH_WORDS & set(words):
            problems.append(f"{locale} {name!r}: a wake, launch or forbidden word")
    yield (
        Check(FAIL, "; ".join(problems))
        if problems
        else Check(
            OK, f"invocation name {name!r} in every locale: two lowercase words, no wake or launch word"
        )
    )


def _phrases(publishing: dict[str, Any], models: dict[str, Any]) -> Iterator[Check]:
    problems = []
    for locale, info in publishing["locales"].items():
        invocation = models[locale]["interactionModel"]["languageModel"]["invocationName"]
        phrases = info.get("examplePhrases", [])
        if phrases and not re.fullmatch(rf"Alexa, (open|launch|start) {re.escape(invocation)}", phrases[0]):
            problems.append(f"{locale}: the first example phrase must be 'Alexa, open {invocation}'")
        for phrase in phrases:
            if not phrase.startswith("Alexa, ") or invocation not in phrase.lower():
                problems.append(f"{locale} {phrase!r}: wake word and invocation name")
            elif not _resolves(locale, phrase, invocation):
                problems.append(f"{locale} {phrase!r} reaches no intent of its model")
    said = QUOTED.findall(publishing.get("testingInstructions", ""))
    lost = [p for p in said if not _resolves("en-US", p, "pelvic ease")]
    if lost:
        problems.append(f"testing instructions: {lost} reach no intent of the en-US model")
    yield (
        Check(FAIL, "; ".join(problems))
        if problems
        else Check(
            OK,
            f"every example phrase and the {len(said)} phrases of the testing instructions reach an intent "
            "of their locale's model",
        )
    )


def _permissions(manifest: dict[str, Any], publishing: dict[str, Any]) -> Iterator[Check]:
    declared = {p["name"] for p in manifest.get("permissions", [])}
    used = set(
        re.findall(r'"(alexa::[a-z:_]+)"', "\n".join(p.read_text() for p in sorted(CODE.glob("*.py"))))
    )
    instructions = publishing.get("testingInstructions", "")
    problems = []
    if declared != used:
        problems.append(f"declared {sorted(declared)} but the code asks for {sorted(used)}")
    unmentioned = sorted(p for p in declared if p not in instructions)
    if unmentioned:
        problems.append(f"the testing instructions do not mention {unmentioned}")
    yield (
        Check(FAIL, "; ".join(problems))
        if problems
        else Check(
            OK,
            f"permissions declared, used, named in the testing instructions: {', '.join(sorted(declared))}",
        )
    )


def _privacy(
    manifest: dict[str, Any], privacy: dict[str, Any], publishing: dict[str, Any]
) -> Iterator[Check]:
    stored = legal.load()["stored"]
    expected = {
        "usesPersonalInfo": bool(stored),  # a record per user, with health-related and time-zone-derived data
        "allowsPurchases": False,
        "containsAds": False,
        "isChildDirected": False,
        "isExportCompliant": True,
    }
    wrong = [f"{key} should be {value}" for key, value in expected.items() if privacy.get(key) != value]
    subscribed = {s["eventName"] for s in manifest["events"].get("subscriptions", [])}
    if "SKILL_DISABLED" not in subscribed:
        wrong.append("no SKILL_DISABLED subscription, though the privacy policy promises deletion on disable")
    if not any(i.get("type") == "AUDIO_PLAYER" for i in manifest["apis"]["custom"].get("interfaces", [])):
        wrong.append("no AUDIO_PLAYER interface, though routines play as audio")
    yield (
        Check(FAIL, "; ".join(wrong))
        if wrong
        else Check(
            OK, "privacy answers match what is stored (publish/privacy.toml); deletion on disable subscribed"
        )
    )


def run(package: Path, *, deployed: bool, out: Callable[[str], None] = print) -> int:
    found = list(checks(package, deployed=deployed))
    out(f"make certify: {package} against the rules checkable without Amazon"
        f"{' (deployed)' if deployed else ''}")  # fmt: skip
    for check in found:
        out(f"  {check.verdict:<8} {check.what}")
    counts = {verdict: sum(c.verdict == verdict for c in found) for verdict in (OK, PENDING, FAIL)}
    out(f"{counts[OK]} ok, {counts[PENDING]} pending, {counts[FAIL]} failed")
    return 1 if counts[FAIL] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make certify", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--package", type=Path, default=PACKAGE, help="a skill_package folder")
    parser.add_argument("--deployed", action="store_true",
                        help="after deploy step 4: placeholders and missing endpoints fail")  # fmt: skip
    args = parser.parse_args(argv)
    return run(args.package, deployed=args.deployed)


if __name__ == "__main__":
    sys.exit(main())
