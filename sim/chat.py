"""Talk to Pelvic Ease from a terminal: no Echo, no AWS account.

Type what you would say ("open pelvic ease", "massage my lower back", "next"). Each
utterance is resolved through the skill's own interaction model, sent as a real request
envelope to the real Lambda handler, and the answer is printed as Alexa would say it: pauses
as [4 s], the estimated duration, whether the microphone stays open, and the reprompt.

Real Alexa understands more than the model's sample utterances, so what matches no sample
is taken as the nearest one (shared words, a slot standing for any of its values), and a
line marked "approximate" says which sample was used. Nothing near enough is sent as
AMAZON.FallbackIntent, as Alexa would. --exact matches the samples literally, as the tests do.

Device commands (start with a slash):
  /timeout             the session times out (SessionEndedRequest EXCEEDED_MAX_REPROMPTS)
  /end REASON          the session ends: USER_INITIATED, ERROR or EXCEEDED_MAX_REPROMPTS
  /drop                the session ends without any SessionEndedRequest
  /wait 3d | 2h | 90s  time passes (for "carry on or start again?" after 14 days); audio
                       that is playing plays on, and its reports are shown
  /device [no-audio]   the same person on another device
  /button Pause|Play|Next|Previous   a playback button;  /fail  the stream fails
  /playing             what the player is playing, and where
  /user NAME           another user on this device (a new session)
  /person ID           a recognised voice profile (no ID: none)
  /intent Name slot=value   send an intent directly, e.g. /intent StartRoutineIntent area=psoas
  /record              show what is stored for this user
  /consent yes|no|none|unsupported   Alexa's answer to the skill's request for the
                       reminders permission (after "remind me every day at 8 pm")
  /api-fail 429        the fake Reminders API answers the next request 429 (401, 403, 404, 500)
  /api-delay 3         ... or 3 s late, past the skill's time-out
  /timezone Australia/Sydney   the device's time zone, as the Alexa settings API gives it
  /api-log             what the fake Alexa API received since last asked
  /help, /quit

The Alexa APIs the skill calls (reminders, the device's time zone) are a fake on 127.0.0.1
(HTTPS, sim/alexa_api.py), the device in America/New_York unless /timezone says otherwise.

By default DynamoDB is moto's server on 127.0.0.1, started and stopped here. With
--endpoint URL it talks to DynamoDB Local (or any endpoint); with --aws to the DynamoDB of
the usual AWS environment (credentials, region). --table names the table. --locale en-GB
(en-CA, en-AU, en-IN) talks as a device in that locale: its model and its content.

The device has an audio player (--no-audio: it has none). A routine that plays straight
through (the relaxation; any routine after "play it straight through") plays on the
simulated clock: "/wait 5m" lets it play, and "alexa pause", "alexa resume", "alexa next",
"alexa previous", "alexa start over" act on it, as they would on an Echo.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import TextIO

from .driver import LOCALES, DriverError, InteractionModel, Resolved, model_path
from .local_dynamodb import LOCAL_TABLE
from .local_skill import local_skill, quiet_environment
from .script import ScriptFailure, Simulator


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make chat", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--endpoint", metavar="URL", help="a DynamoDB endpoint, e.g. http://localhost:8000")
    where.add_argument("--aws", action="store_true", help="the usual AWS environment's DynamoDB")
    parser.add_argument("--table", default=LOCAL_TABLE, help=f"table name (default {LOCAL_TABLE})")
    parser.add_argument(
        "--create-table",
        action="store_true",
        help="create the table from template.yaml (with --endpoint or --aws)",
    )
    parser.add_argument(
        "--locale",
        default="en-US",
        choices=LOCALES,
        help="the device's locale: its interaction model and the skill's content (default en-US)",
    )
    parser.add_argument(
        "--no-audio",
        action="store_true",
        help="a device without an audio player: every routine is spoken step by step",
    )
    parser.add_argument(
        "--exact",
        action="store_true",
        help="match the model's sample utterances literally: no nearest-sample approximation",
    )
    return parser.parse_args(argv)


def approximation_line(utterance: str, resolved: Resolved) -> str:
    """What the simulator made of an utterance that matched no sample."""
    slots = "".join(f", {name}={said}" for name, said in resolved.said().items())
    return (
        f'(approximate: heard "{utterance.strip()}" as "{resolved.approximation}" '
        f"→ {resolved.intent}{slots}; score {resolved.score})"
    )


def chat(lines: Iterable[str], simulator: Simulator, out: TextIO, interactive: bool) -> None:
    for line in lines:
        command = line.strip()
        if command in ("/quit", "/exit"):
            return
        if command == "/help":
            print(__doc__, file=out)
            continue
        if not interactive and command:
            print(f"you> {command}", file=out)
        try:
            simulator.run_line(command, echo=False)
        except (ScriptFailure, DriverError) as failure:
            print(f"(!) {failure}", file=out)
        except Exception as error:  # a chat survives a bad line and says what happened
            print(f"(!) {type(error).__name__}: {error}", file=out)


def prompt_lines() -> Iterable[str]:
    while True:
        try:
            yield input("you> ")
        except EOFError:
            return


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    with local_skill(
        args.endpoint, args.table, args.aws, args.create_table, audio=not args.no_audio
    ) as skill:
        print(f"({skill.where}) Type what you would say; /help for device commands, /quit to leave.")
        model = InteractionModel(
            model_path(args.locale),
            approximate=not args.exact,
            on_approximation=lambda utterance, resolved: print(approximation_line(utterance, resolved)),
        )
        simulator = Simulator(
            skill.handler,
            skill.table,
            skill.clock,
            sys.stdout,
            model=model,
            locale=args.locale,
            audio=not args.no_audio,
            alexa_api=skill.alexa_api,
        )
        interactive = sys.stdin.isatty()
        chat(prompt_lines() if interactive else sys.stdin, simulator, sys.stdout, interactive)
    return 0


if __name__ == "__main__":
    quiet_environment()
    sys.exit(main())
