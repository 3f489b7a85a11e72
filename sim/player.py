"""A device's audio player (AudioPlayer), emulated on the script clock.

It carries out the Play and Stop directives in the skill's responses and reports what a
real player reports, through the real handler, at the offsets a real one would: a stream
starts (PlaybackStarted), nears its end (PlaybackNearlyFinished, NEARLY_MS before it), is
stopped (PlaybackStopped, with the offset) or ends (PlaybackFinished), and a queued stream
then starts. It measures each file it is asked to play by fetching its URL and reading
the MP3 frames, so it plays what was rendered, not what the manifest says.

``at_once``: where a queued file follows the one that ended, the two reports (the end of one,
the start of the next) are sent at the same moment from two threads, as Alexa sends them,
without waiting for either answer: two Lambda invocations race on the user's record.
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pelvic_ease.audio import ART, BACKGROUND, LOCAL_HTTP
from render.mp3 import mp3_info

if TYPE_CHECKING:
    from .driver import Clock, Conversation, Reply

NEARLY_MS = 15_000  # how long before a stream's end the player asks for the next one
IDLE, PLAYING, STOPPED, FINISHED = "IDLE", "PLAYING", "STOPPED", "FINISHED"


class PlayerError(AssertionError):
    """The skill asked the player for something a device would refuse."""


def fetch_length_ms(url: str) -> int:
    """Fetch a stream and measure it. Only this machine's files: nothing leaves 127.0.0.1."""
    if not url.startswith(LOCAL_HTTP):
        raise PlayerError(f"the emulated player fetches only local files, not {url}")
    with urllib.request.urlopen(url, timeout=5) as answer:
        data = answer.read()
    return round(mp3_info(data).seconds * 1000)


def named_size(url: str) -> tuple[int, int]:
    """A picture's size as the Play directive names it, for players whose audio host is never
    fetched (the bench, the soak): the screen's check then holds the names to each other."""
    return next((width, height) for path, width, height in (ART, BACKGROUND) if url.endswith(path))


def fetch_picture_size(url: str) -> tuple[int, int]:
    """Fetch a PNG the screen would show and read its width and height (only local files)."""
    if not url.startswith(LOCAL_HTTP):
        raise PlayerError(f"the emulated player fetches only local files, not {url}")
    with urllib.request.urlopen(url, timeout=5) as answer:
        head = answer.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise PlayerError(f"{url} is not a PNG")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


@dataclass
class Stream:
    token: str
    url: str
    offset: int  # where it starts, ms
    screen: str = ""  # what a screen shows while it plays (its metadata), "" if none


@dataclass
class Player:
    clock: Clock
    measure: Callable[[str], int] = fetch_length_ms
    look: Callable[[str], tuple[int, int]] = fetch_picture_size
    conversation: Conversation | None = None
    token: str | None = None
    url: str | None = None
    activity: str = IDLE
    length: int = 0  # of the current stream, ms
    at: int = 0  # offset when the clock read ``since``
    since: float = 0.0
    nearly_sent: bool = False
    queued: Stream | None = None
    log: list[str] = field(default_factory=list)
    screen: str = ""  # what the device's screen shows (the playing stream's metadata)
    at_once: bool = False  # a file's end and the next one's start reported at the same moment

    # -- where it is ------------------------------------------------------------------
    @property
    def offset(self) -> int:
        if self.activity != PLAYING:
            return self.at
        return min(self.length, self.at + round((self.clock.now - self.since) * 1000))

    @property
    def holds_stream(self) -> bool:
        return self.token is not None and self.activity in (PLAYING, STOPPED)

    def context(self) -> dict[str, Any]:
        """context.AudioPlayer as the device reports it."""
        state: dict[str, Any] = {"playerActivity": self.activity}
        if self.token is not None:
            state.update(token=self.token, offsetInMilliseconds=self.offset)
        return state

    def describe(self) -> str:
        if self.token is None:
            return "nothing"
        where = f"{clock_time(self.offset)} of {clock_time(self.length)}"
        shown = f"; the screen shows {self.screen}" if self.screen else ""
        return f"{self.token} at {where} ({self.activity.lower()}){shown}"

    # -- reports ----------------------------------------------------------------------
    def report(self, kind: str, **extra: Any) -> Reply:
        assert self.conversation is not None
        request = {"type": f"AudioPlayer.{kind}", "token": self.token, "offsetInMilliseconds": self.offset}
        self.log.append(f"[player] {kind} {self.token} at {clock_time(self.offset)}")
        reply = self.conversation.send_event({**request, **extra})
        self.carry_out(reply)
        return reply

    def button(self, name: str) -> Reply:
        """A remote's or a screen's button: PlaybackController.<name>CommandIssued."""
        assert self.conversation is not None
        self.log.append(f"[player] button {name}")
        reply = self.conversation.send_event({"type": f"PlaybackController.{name}CommandIssued"})
        self.carry_out(reply)
        return reply

    # -- directives -------------------------------------------------------------------
    def carry_out(self, reply: Reply) -> None:
        for directive in reply.response.get("directives") or []:
            kind = directive.get("type")
            if kind == "AudioPlayer.Play":
                self.play(directive)
            elif kind == "AudioPlayer.Stop":
                self.stop()
            elif kind == "AudioPlayer.ClearQueue":
                self.queued = None

    def play(self, directive: dict[str, Any]) -> None:
        stream = directive["audioItem"]["stream"]
        url = stream["url"]
        if not str(url).startswith(("https://", *LOCAL_HTTP)):
            raise PlayerError(f"a device plays only HTTPS streams, not {url}")
        new = Stream(
            stream["token"],
            url,
            int(stream.get("offsetInMilliseconds", 0)),
            self.shown(directive["audioItem"]),
        )
        if directive["playBehavior"] == "ENQUEUE":
            playing = self.token if self.activity == PLAYING else None
            if stream.get("expectedPreviousToken") != playing:
                raise PlayerError(
                    f"ENQUEUE expected {stream.get('expectedPreviousToken')!r} but {playing!r} is playing"
                )
            self.queued = new
            self.log.append(f"[player] queued {new.token}")
            return
        self.queued = None
        if self.activity == PLAYING:
            self.report("PlaybackStopped")
        self.begin(new)

    def shown(self, item: dict[str, Any]) -> str:
        """What a screen would show for an audio item: its title and subtitle, and its art and
        background, each fetched and checked to be the size the directive says."""
        metadata = item.get("metadata") or {}
        pictures = []
        for name in ("art", "backgroundImage"):
            for source in (metadata.get(name) or {}).get("sources") or []:
                width, height = self.look(source["url"])
                if (width, height) != (source.get("widthPixels"), source.get("heightPixels")):
                    raise PlayerError(f"{source['url']} is {width} x {height}, not as its metadata says")
                pictures.append(f"{name} {width}x{height}")
        words = " / ".join(str(metadata[key]) for key in ("title", "subtitle") if metadata.get(key))
        return f"{words} [{', '.join(pictures)}]" if pictures else words

    def begin(self, stream: Stream) -> None:
        self.token, self.url, self.screen = stream.token, stream.url, stream.screen
        if stream.screen:
            self.log.append(f"[screen] {stream.screen}")
        self.length = self.measure(stream.url)
        self.at, self.since, self.nearly_sent = min(stream.offset, self.length), self.clock.now, False
        self.activity = PLAYING
        self.report("PlaybackStarted")

    def boundary(self, queued: Stream) -> list[Reply]:
        """The file playing ended and ``queued`` starts: both reported at once, from two
        threads (the replies in that order: the end's, then the start's)."""
        assert self.conversation is not None
        conversation = self.conversation
        ended = {
            "type": "AudioPlayer.PlaybackFinished",
            "token": self.token,
            "offsetInMilliseconds": self.length,
        }
        self.log.append(f"[player] PlaybackFinished {self.token} at {clock_time(self.length)}")
        self.token, self.url = queued.token, queued.url
        self.length = self.measure(queued.url)
        self.at, self.since, self.nearly_sent = min(queued.offset, self.length), self.clock.now, False
        self.activity = PLAYING
        started = {
            "type": "AudioPlayer.PlaybackStarted",
            "token": self.token,
            "offsetInMilliseconds": self.at,
        }
        self.log.append(f"[player] PlaybackStarted {self.token} at {clock_time(self.at)}")
        replies: list[Reply | BaseException | None] = [None, None]

        def send(index: int, request: dict[str, Any]) -> None:
            try:
                replies[index] = conversation.send_event(request)
            except BaseException as error:  # raised below, in the caller's thread
                replies[index] = error

        threads = [threading.Thread(target=send, args=(i, r)) for i, r in enumerate((ended, started))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        answered: list[Reply] = []
        for reply in replies:
            if isinstance(reply, BaseException):
                raise reply
            assert reply is not None
            answered.append(reply)
        for reply in answered:
            self.carry_out(reply)
        return answered

    def stop(self) -> None:
        if self.activity != PLAYING:
            return
        self.at = self.offset
        self.activity = STOPPED
        self.report("PlaybackStopped")

    # -- time -------------------------------------------------------------------------
    def wait(self, seconds: float) -> None:
        """Let ``seconds`` pass, reporting what happens on the way."""
        end = self.clock.now + seconds
        while self.activity == PLAYING:
            nearly_at = self.since + max(0, self.length - NEARLY_MS - self.at) / 1000
            finish_at = self.since + (self.length - self.at) / 1000
            if not self.nearly_sent and nearly_at <= end:
                self.clock.now = max(self.clock.now, nearly_at)
                self.nearly_sent = True
                self.report("PlaybackNearlyFinished")
            elif finish_at <= end:
                self.clock.now = max(self.clock.now, finish_at)
                self.at, self.activity = self.length, FINISHED
                queued, self.queued = self.queued, None
                if queued is not None and self.at_once:
                    self.boundary(queued)
                    continue
                self.report("PlaybackFinished")
                if queued is not None:
                    self.begin(queued)
            else:
                break
        self.clock.now = max(self.clock.now, end)

    def fail(self, error_type: str = "MEDIA_ERROR_SERVICE_UNAVAILABLE") -> Reply:
        """The stream cannot be played any further (the network dropped, the file is gone)."""
        self.at = self.offset
        self.activity = STOPPED
        state = {"token": self.token, "offsetInMilliseconds": self.at, "playerActivity": "STOPPED"}
        return self.report(
            "PlaybackFailed",
            error={"type": error_type, "message": "simulated failure"},
            currentPlaybackState=state,
        )


def clock_time(ms: int) -> str:
    seconds = ms // 1000
    return f"{seconds // 60}:{seconds % 60:02d}"
