"""The soak: many users at once through the real lambda_handler (real botocore, the fault proxy
on 127.0.0.1, moto's DynamoDB server), some hearing a relaxation played straight through as
audio, some a massage spoken step by step, with a few percent of DynamoDB calls faulted.
Each played user's player reports every file boundary as Alexa does: the end of one file and
the start of the next at the same moment, so two invocations race on the record.

What it must show: completions heard = completions stored, for played and spoken users alike;
and the turn times (p50, p99, max) by the Lambda context's own clock.

    python -m tests.soak --played 500 --spoken 100 --concurrency 50     (make soak)

tests/test_soak.py runs the same at a small size in ``make test``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "lambda") not in sys.path:  # run as a script: the package and the simulator
    sys.path[:0] = [str(ROOT / "lambda"), str(ROOT)]

from pelvic_ease import app  # noqa: E402
from pelvic_ease.audio import AudioLibrary, Manifest, Token, Track  # noqa: E402
from pelvic_ease.content import load_library  # noqa: E402
from pelvic_ease.progress import Progress  # noqa: E402
from pelvic_ease.repository import DynamoTable, ProgressKey, decode  # noqa: E402
from pelvic_ease.settings import Settings  # noqa: E402
from pelvic_ease.skill import build_skill, use_skill  # noqa: E402
from sim.driver import DEFAULT_SKILL_ID, Clock, Conversation, LambdaContext, Reply  # noqa: E402
from sim.local_dynamodb import LOCAL_TABLE, moto_server  # noqa: E402
from sim.local_skill import quiet_environment  # noqa: E402
from sim.player import FINISHED, Player, named_size  # noqa: E402
from tests.fault_proxy import FaultProxy  # noqa: E402

LIB = load_library()
PLAYED = ("down_training", "normal", 10)  # what "a ten minute relaxation" plays
SPOKEN = "lower back"  # "massage my lower back", spoken step by step
# A few percent of DynamoDB calls faulted, each kind with its own share (the proxy tries the
# rules in turn, so the shares add up): answers lost after the write landed, connections
# reset, throttling, server errors, a hang (the client's 1 s read time-out), latency.
FAULT_MIX: tuple[tuple[str, str | None, float, float], ...] = (
    ("lose_response", "PutItem", 0.010, 0.0),
    ("reset", None, 0.008, 0.0),
    ("throttle", None, 0.008, 0.0),
    ("server_error", None, 0.006, 0.0),
    ("hang", None, 0.002, 0.0),
    ("latency", None, 0.004, 0.4),
)
ENDED = (LIB.say("another_offer"), LIB.say("reminder_offer"))


@dataclass
class Stage:
    """moto's server behind the fault proxy (one request at a time reaches moto, so its
    conditional writes are atomic as DynamoDB's are), and the real handler on it."""

    moto_url: str
    proxy: FaultProxy
    audio: AudioLibrary
    lengths: dict[str, int]  # each file's length, by its URL: the player measures nothing
    turn_ms: list[int] = field(default_factory=list)
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        wall = time.time  # users run at once: the skill's clock is the wall clock
        table = DynamoTable(LOCAL_TABLE, clock=wall)
        skill = build_skill(
            Settings(LOCAL_TABLE, DEFAULT_SKILL_ID), table=table, clock=wall, audio=self.audio
        )
        use_skill(skill)

        def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            result = app.lambda_handler(event, context)
            self.turn_ms.append(context.timeout_ms - context.get_remaining_time_in_millis())
            return result

        self.handler = handler

    def track(self) -> Track:
        tracks = self.audio.tracks("en-US")
        track = tracks.get(*PLAYED) if tracks is not None else None
        assert track is not None, f"the manifest has no {PLAYED} track"
        return track

    def player(self, **options: Any) -> Player:
        return Player(Clock(), measure=self.lengths.__getitem__, look=named_size, **options)

    def stored(self, user_id: str) -> Progress:
        """The user's record straight from moto, not through the proxy."""
        import boto3  # noqa: PLC0415

        key = ProgressKey.of(user_id)
        client = boto3.client("dynamodb", endpoint_url=self.moto_url)
        item = client.get_item(
            TableName=LOCAL_TABLE,
            Key={"user_id": {"S": key.user}, "profile": {"S": key.profile}},
            ConsistentRead=True,
        ).get("Item")
        return Progress.salvaged(decode(item) if item else None)[0]

    def faulted(self) -> tuple[int, int]:
        """(faulted calls, all calls) the proxy has seen."""
        with self.proxy._lock:
            seen = list(self.proxy.log)
        return sum(1 for _, fault in seen if fault != "pass"), len(seen)


@contextlib.contextmanager
def stage(manifest_path: Path, seed: int = 25) -> Iterator[Stage]:
    """The stage for ``with``: the environment points botocore at the proxy meanwhile."""
    manifest = Manifest.load(manifest_path)
    audio = AudioLibrary(manifest, "http://127.0.0.1:9/audio/")  # never fetched
    lengths = {
        audio.url(f.path): f.ms
        for rows in manifest.locales.values()
        for t in rows.tracks.values()
        for f in t.files
    }
    with moto_server() as url, FaultProxy(url, seed=seed, atomic=True) as proxy:
        previous = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = proxy.url
        try:
            yield Stage(url, proxy, audio, lengths)
        finally:
            use_skill(None)
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = previous or url


# -- the users ---------------------------------------------------------------------------------------
@dataclass
class Heard:
    """What one user heard and what was stored for them."""

    user: str
    played: bool
    heard: int  # routines heard to their end
    stored: int = 0
    warned: bool = False  # told a save might have failed
    problem: str | None = None  # the exception that ended the user's run, if any


def played_user(stage: Stage, user: str) -> Heard:
    """A ten minute relaxation asked for in one breath, played to its end (every boundary
    reported at once), and the next day's question: how am I doing."""
    track = stage.track()
    player = stage.player(at_once=True)
    conv = Conversation(stage.handler, user_id=user, player=player)
    started = conv.say("ask pelvic ease for a ten minute relaxation")
    conv.wait(track.ms / 1000 + 30)
    token = Token.parse(player.token)
    heard = int(player.activity == FINISHED and token is not None and token.file == len(track.files) - 1)
    player.clock.advance(days=1)
    conv.say("ask pelvic ease how am I doing")
    return Heard(user, True, heard, warned=LIB.say("save_failed") in started.text)


def spoken_user(stage: Stage, user: str) -> Heard:
    """The lower-back massage, step by step to its end, goodbye, and later: how am I doing."""
    conv = Conversation(stage.handler, user_id=user)
    replies: list[Reply] = [conv.say(f"ask pelvic ease to massage my {SPOKEN}")]
    if LIB.say("progress_unavailable") in replies[-1].text:
        replies.append(conv.say(f"massage my {SPOKEN}"))  # as the user is told: again
    for _ in range(40):
        if replies[-1].text.endswith(ENDED) or not replies[-1].session_open:
            break
        replies.append(conv.say("next"))
    if replies[-1].session_open:
        replies.append(conv.say("no"))  # no other routine: goodbye
    heard = sum(r.text.endswith(ENDED) for r in replies)
    conv.say("ask pelvic ease how am I doing")
    return Heard(user, False, heard, warned=any(LIB.say("save_failed") in r.text for r in replies))


def percentile(values: list[int], share: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0


@dataclass
class Soak:
    """The soak's figures."""

    users: list[Heard]
    turn_ms: list[int]
    faulted: int
    calls: int
    seconds: float

    def kind(self, played: bool) -> list[Heard]:
        return [u for u in self.users if u.played is played]

    @property
    def exact(self) -> bool:
        return all(u.problem is None and u.heard == u.stored for u in self.users)

    def table(self) -> str:
        rows = [
            f"{'users':10} {'heard':>6} {'stored':>6} {'lost':>5} {'extra':>5} {'warned':>6} {'failed':>6}",
        ]
        for name, played in (("played", True), ("spoken", False)):
            users = self.kind(played)
            heard = sum(u.heard for u in users)
            stored = sum(u.stored for u in users)
            lost = sum(max(0, u.heard - u.stored) for u in users)
            extra = sum(max(0, u.stored - u.heard) for u in users)
            rows.append(
                f"{name + f' {len(users)}':10} {heard:6d} {stored:6d} {lost:5d} {extra:5d} "
                f"{sum(u.warned for u in users):6d} {sum(u.problem is not None for u in users):6d}"
            )
        share = 100 * self.faulted / max(1, self.calls)
        rows.append(
            f"{len(self.turn_ms)} turns in {self.seconds:.0f} s; DynamoDB calls {self.calls}, "
            f"faulted {self.faulted} ({share:.1f} %); turn ms p50 {percentile(self.turn_ms, 0.5)}, "
            f"p99 {percentile(self.turn_ms, 0.99)}, max {max(self.turn_ms, default=0)}"
        )
        return "\n".join(rows)


def soak(stage: Stage, played: int, spoken: int, concurrency: int, seed: int = 25) -> Soak:
    """``played`` and ``spoken`` users, ``concurrency`` at a time, with FAULT_MIX on the wire."""
    rng = random.Random(seed)
    people = [(f"amzn1.ask.account.SOAKPLAY{i:05d}", played_user) for i in range(played)]
    people += [(f"amzn1.ask.account.SOAKTALK{i:05d}", spoken_user) for i in range(spoken)]
    rng.shuffle(people)
    stage.proxy.clear()
    stage.proxy.log.clear()
    stage.turn_ms.clear()
    for fault, operation, probability, seconds in FAULT_MIX:
        stage.proxy.inject(fault, operation, probability=probability, seconds=seconds)
    lock = threading.Lock()

    def run(person: tuple[str, Callable[[Stage, str], Heard]]) -> Heard:
        user, kind = person
        try:
            result = kind(stage, user)
        except Exception as error:  # a failed run is reported, never hidden
            with lock:
                print(f"{user}: {type(error).__name__}: {error}", file=sys.stderr)
            result = Heard(user, kind is played_user, 0, problem=type(error).__name__)
        return result

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(run, people))
    seconds = time.monotonic() - began
    stage.proxy.clear()
    stage.proxy.wait_idle(timeout=30)  # a write whose client gave up may still land
    faulted, calls = stage.faulted()
    for result in results:
        result.stored = stage.stored(result.user).total_sessions()
    return Soak(results, list(stage.turn_ms), faulted, calls, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--played", type=int, default=500)
    parser.add_argument("--spoken", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seed", type=int, default=25)
    args = parser.parse_args(argv)
    from sim.local_audio import ensure_rendered  # noqa: PLC0415

    quiet_environment()  # the skill's own log lines: errors only
    # Its metric blobs are held back around the whole run, never per call:
    # contextlib.redirect_stdout swaps sys.stdout for every thread.
    with (
        open(os.devnull, "w") as nowhere,
        contextlib.redirect_stdout(nowhere),  # the skill's metric blobs, not the figures
        stage(ensure_rendered(quiet=True), seed=args.seed) as where,
    ):
        result = soak(where, args.played, args.spoken, args.concurrency, seed=args.seed)
    print(result.table())
    if not result.exact:
        print("NOT MET: completions heard != completions stored", file=sys.stderr)
        return 1
    print("met: completions heard = completions stored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
