"""A fuzz of the audio player's reports (issue 25), through the real lambda_handler on the
in-memory table: many plays of the ten minute relaxation, each a device's honest reports
(started, nearly finished and finished for every file, or a stop part way), delivered in a
random order, some twice, some two at once (both read the record before either writes), and
mixed with the late reports of an old device whose play another device's start replaced.

What must hold, after every report: the stored place never moves backward within a play;
and at the end: a completion is counted at most once per play, and a play heard to its end
(its last file's end reported while it was the user's newest play) is counted exactly once.

    python -m tests.player_fuzz --plays 100 --events 10000          (make soak)

tests/test_player_fuzz.py runs the same at a small size in ``make test``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "lambda") not in sys.path:  # run as a script: the package and the simulator
    sys.path[:0] = [str(ROOT / "lambda"), str(ROOT)]

from pelvic_ease import app  # noqa: E402
from pelvic_ease.audio import AudioLibrary, Manifest, Token, Track  # noqa: E402
from pelvic_ease.memory_table import MemoryTable  # noqa: E402
from pelvic_ease.progress import Progress  # noqa: E402
from pelvic_ease.repository import ProgressKey  # noqa: E402
from pelvic_ease.settings import Settings  # noqa: E402
from pelvic_ease.skill import build_skill, use_skill  # noqa: E402
from sim.driver import DEFAULT_SKILL_ID, Clock, Conversation  # noqa: E402
from sim.player import Player, named_size  # noqa: E402

PLAYED = ("down_training", "normal", 10)
OVERLAP_WAIT = 0.02  # how long one of two reports sent at once waits for the other's read


class OverlappingTable(MemoryTable):
    """The in-memory table, where the reads of two reports sent at once wait for each other
    (at most OVERLAP_WAIT: a report that reads nothing does not hold the other long)."""

    def __init__(self) -> None:
        super().__init__()
        self.pair: threading.Barrier | None = None

    def get(self, key: ProgressKey) -> dict[str, Any] | None:
        pair = self.pair
        if pair is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                pair.wait(OVERLAP_WAIT)
        return super().get(key)


class SilentPlayer(Player):
    """A device's player whose reports the fuzz delivers itself: it only notes them."""

    def report(self, kind: str, **extra: Any) -> Any:
        return None


@dataclass
class Play:
    """One play on one device: its id, the reports it makes, whether it was heard to its end."""

    user: str
    device: Conversation
    play: str
    reports: list[dict[str, Any]]
    heard_to_end: bool
    counted_expected: bool = False  # its last file's end reported while it was the newest play


@dataclass
class Fuzz:
    events: int = 0
    plays: int = 0
    backward: list[str] = field(default_factory=list)
    over: list[str] = field(default_factory=list)  # users counted more than their plays allow
    under: list[str] = field(default_factory=list)  # plays heard to their end, not counted

    @property
    def held(self) -> bool:
        return not (self.backward or self.over or self.under)

    def table(self) -> str:
        return (
            f"{self.events} player reports over {self.plays} plays: place moved backward "
            f"{len(self.backward)} times, counted more than once {len(self.over)}, "
            f"heard to the end but not counted {len(self.under)}"
        )


def honest_reports(track: Track, token: Token, rng: random.Random) -> tuple[list[dict[str, Any]], bool]:
    """What a device reports for one play: every file to the end, or a stop part way."""
    last = len(track.files) - 1
    stop_at = rng.randrange(last + 1) if rng.random() < 0.25 else None
    reports: list[dict[str, Any]] = []
    for file in range(last + 1):
        stream = str(token.at_file(file))
        length = track.files[file].ms
        reports.append({"type": "AudioPlayer.PlaybackStarted", "token": stream, "offsetInMilliseconds": 0})
        if file == stop_at:
            offset = rng.randrange(1, length)
            reports.append(
                {"type": "AudioPlayer.PlaybackStopped", "token": stream, "offsetInMilliseconds": offset}
            )
            return reports, False
        reports.append(
            {
                "type": "AudioPlayer.PlaybackNearlyFinished",
                "token": stream,
                "offsetInMilliseconds": length - 15_000,
            }
        )
        reports.append(
            {"type": "AudioPlayer.PlaybackFinished", "token": stream, "offsetInMilliseconds": length}
        )
    return reports, True


def jumbled(reports: list[dict[str, Any]], rng: random.Random) -> list[list[dict[str, Any]]]:
    """The reports in a random order, some twice; grouped into deliveries of one or two at once."""
    sent = list(reports) + [r for r in reports if rng.random() < 0.2]
    rng.shuffle(sent)
    deliveries: list[list[dict[str, Any]]] = []
    while sent:
        size = 2 if len(sent) > 1 and rng.random() < 0.15 else 1
        deliveries.append(sent[:size])
        sent = sent[size:]
    return deliveries


class Fuzzer:
    def __init__(self, manifest_path: Path, seed: int) -> None:
        manifest = Manifest.load(manifest_path)
        self.audio = AudioLibrary(manifest, "http://127.0.0.1:9/audio/")
        self.lengths = {
            self.audio.url(f.path): f.ms
            for rows in manifest.locales.values()
            for t in rows.tracks.values()
            for f in t.files
        }
        tracks = self.audio.tracks("en-US")
        track = tracks.get(*PLAYED) if tracks is not None else None
        assert track is not None
        self.track = track
        self.rng = random.Random(seed)
        self.clock = Clock()
        self.table = OverlappingTable()
        self.result = Fuzz()
        self.seen: dict[str, tuple[int, int]] = {}  # play id -> the furthest place stored for it

    def start(self, user: str) -> Play:
        """A new device of ``user`` starts the relaxation: a new play, the user's newest."""
        device = Conversation(
            app.lambda_handler,
            user_id=user,
            player=SilentPlayer(self.clock, measure=self.lengths.__getitem__, look=named_size),
        )
        reply = device.say("ask pelvic ease for a ten minute relaxation")
        (play,) = [d for d in reply.audio_directives if d["type"] == "AudioPlayer.Play"]
        token = Token.parse(play["audioItem"]["stream"]["token"])
        assert token is not None
        reports, heard = honest_reports(self.track, token, self.rng)
        self.result.plays += 1
        return Play(user, device, token.play, reports, heard)

    def stored(self, user: str) -> Progress:
        return Progress.from_dict(self.table.get(ProgressKey.of(user)) or {})

    def deliver(self, play: Play, reports: list[dict[str, Any]], newest: bool) -> None:
        """Send ``reports`` (two of them at once), then check the stored place."""
        self.clock.advance(seconds=self.rng.choice((0, 1, 7)))
        if len(reports) == 1:
            play.device.send_event(reports[0])
        else:
            self.table.pair = threading.Barrier(2)
            threads = [threading.Thread(target=play.device.send_event, args=(r,)) for r in reports]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            self.table.pair = None
        self.result.events += len(reports)
        for report in reports:
            token = Token.parse(report["token"])
            last = token is not None and token.file == len(self.track.files) - 1
            if newest and last and report["type"] == "AudioPlayer.PlaybackFinished":
                play.counted_expected = True
        self.check_place(play.user)

    def check_place(self, user: str) -> None:
        progress = self.stored(user)
        token = Token.parse(progress.play)
        if token is None:
            return
        here = (token.file, progress.offset)
        before = self.seen.get(token.play)
        if before is not None and here < before:
            self.result.backward.append(f"{user} play {token.play}: {before} -> {here}")
        self.seen[token.play] = max(here, before or here)

    def user(self, index: int) -> list[Play]:
        """One user: a play; sometimes a second device starts another part way through it,
        and the first device's remaining reports arrive late, mixed with the second's."""
        user = f"amzn1.ask.account.FUZZPLAY{index:05d}"
        first = self.start(user)
        deliveries = jumbled(first.reports, self.rng)
        if self.rng.random() >= 0.3:
            for delivery in deliveries:
                self.deliver(first, delivery, newest=True)
            return [first]
        cut = self.rng.randrange(len(deliveries) + 1)
        for delivery in deliveries[:cut]:
            self.deliver(first, delivery, newest=True)
        self.clock.advance(seconds=2)
        second = self.start(user)  # another device: the newest play; the first is stale now
        late = [(first, d) for d in deliveries[cut:]] + [
            (second, d) for d in jumbled(second.reports, self.rng)
        ]
        self.rng.shuffle(late)
        for play, delivery in late:
            self.deliver(play, delivery, newest=play is second)
        return [first, second]

    def run(self, plays: int, events: int = 0) -> Fuzz:
        """At least ``plays`` plays and ``events`` reports."""
        use_skill(
            build_skill(
                Settings("fuzz", DEFAULT_SKILL_ID), table=self.table, clock=self.clock, audio=self.audio
            )
        )
        try:
            index = 0
            while self.result.plays < plays or self.result.events < events:
                users_plays = self.user(index)
                self.judge(users_plays)
                index += 1
                self.clock.advance(days=1)
        finally:
            use_skill(None)
        return self.result

    def judge(self, plays: list[Play]) -> None:
        user = plays[0].user
        counted = self.stored(user).total_sessions()
        expected = sum(p.counted_expected for p in plays)
        if counted > len(plays) or counted > expected:
            self.result.over.append(f"{user}: {counted} counted, {expected} expected")
        if counted < expected:
            self.result.under.append(f"{user}: {counted} counted, {expected} expected")


def fuzz(manifest_path: Path, plays: int, events: int = 0, seed: int = 25) -> Fuzz:
    return Fuzzer(manifest_path, seed).run(plays, events)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plays", type=int, default=100)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=25)
    args = parser.parse_args(argv)
    from sim.local_audio import ensure_rendered  # noqa: PLC0415
    from sim.local_skill import quiet_environment  # noqa: PLC0415

    quiet_environment()  # the skill's own log lines: errors only
    with open(os.devnull, "w") as nowhere, contextlib.redirect_stdout(nowhere):  # the skill's metrics
        result = fuzz(ensure_rendered(quiet=True), args.plays, args.events, args.seed)
    print(result.table())
    for line in (result.backward + result.over + result.under)[:10]:
        print("  " + line)
    if not result.held:
        print("NOT MET", file=sys.stderr)
        return 1
    print("met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
