"""Player reports that race (issue 25). When a queued file starts, Alexa sends the end of the
file before it (PlaybackFinished) and the start of the next (PlaybackStarted) at the same
moment, without waiting for either answer, so two invocations handle them at once.

Through the real lambda_handler, real botocore and the fault proxy to moto's server: for
every file boundary of the ten minute relaxation, the two reports are sent at once; the
proxy makes them read the same version of the record and lets their writes through in a
chosen order (both orders), and loses the first or the second write's answer. After each
boundary the stored place must be at the file that plays (never back at the one that ended);
after the last file, the routine must be counted once. Run with -s for the table.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pelvic_ease.audio import Token
from pelvic_ease.repository import ProgressKey
from sim.driver import Clock, Conversation, Reply
from sim.player import Player, Stream, named_size
from tests.soak import Stage, stage

ORDERS = ("finished first", "started first")
LOSSES = (None, "first", "second")
CASES = [(order, lost) for order in ORDERS for lost in LOSSES]
TABLE: dict[str, str] = {}


@pytest.fixture(scope="module")
def racing(rendered_audio: Path) -> Iterator[Stage]:
    with stage(rendered_audio) as where:
        yield where


class RacingPlayer(Player):
    """At each file boundary, the proxy is told how the two reports race: both read the
    record before either writes, the writes go in ``order``, one answer is ``lost``."""

    def __init__(self, where: Stage, user: str, order: str, lost: str | None) -> None:
        super().__init__(Clock(), measure=where.lengths.__getitem__, look=named_size, at_once=True)
        self.where, self.order, self.lost = where, order, lost
        self.match = ProgressKey.of(user).user.encode()
        self.places: list[str] = []  # after each boundary: where the stored place is

    def boundary(self, queued: Stream) -> list[Reply]:
        ended, started = str(self.token).encode(), queued.token.encode()
        first = ended if self.order == ORDERS[0] else started
        proxy = self.where.proxy
        proxy.rendezvous("GetItem", parties=2, match=self.match)
        proxy.rendezvous("PutItem", parties=2, order=lambda body: 0 if first in body else 1, match=self.match)
        if self.lost == "second":
            proxy.inject("pass", "PutItem", times=1, match=self.match)
        if self.lost is not None:
            proxy.inject("lose_response", "PutItem", times=1, match=self.match)
        replies = super().boundary(queued)
        proxy.clear(match=self.match)
        place = Token.parse(self.where.stored(self.user).play)
        playing = Token.parse(queued.token)
        assert playing is not None
        self.places.append("ok" if place == playing else f"at {place.file if place else None}")
        return replies

    @property
    def user(self) -> str:
        assert self.conversation is not None
        return self.conversation.user_id


def race(where: Stage, order: str, lost: str | None) -> tuple[list[str], int]:
    user = f"amzn1.ask.account.RACE{ORDERS.index(order)}{LOSSES.index(lost)}"
    player = RacingPlayer(where, user, order, lost)
    conv = Conversation(where.handler, user_id=user, player=player)
    conv.say("ask pelvic ease for a ten minute relaxation")
    conv.wait(where.track().ms / 1000 + 30)
    return player.places, where.stored(user).total_sessions()


def test_the_two_reports_of_every_file_boundary_at_once_keep_the_place_and_count_the_routine_once(
    racing: Stage,
) -> None:
    """The six ways of racing (two orders, no answer lost, the first lost, the second lost) run
    at once, each for one user with its own rules on the wire."""
    results: dict[tuple[str, str | None], tuple[list[str], int]] = {}
    errors: list[BaseException] = []

    def run(order: str, lost: str | None) -> None:
        try:
            results[order, lost] = race(racing, order, lost)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=case) for case in CASES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    boundaries = len(racing.track().files) - 1
    print(f"\n{'race':28}" + "".join(f" {f'{b}|{b + 1}':>6}" for b in range(boundaries)) + "  counted")
    for (order, lost), (places, counted) in results.items():
        print(f"{order + ', lost ' + str(lost):28}" + "".join(f" {p:>6}" for p in places) + f"  {counted}")
    for (order, lost), (places, counted) in results.items():
        assert places == ["ok"] * boundaries, (order, lost, places)
        assert counted == 1, (order, lost)
