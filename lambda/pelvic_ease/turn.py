"""One request's view of the conversation: session state, progress, and the reply.

The record is read at most once per session (the first request that needs it) and then
travels in the session attributes. Every change of progress is handed to the repository
at once; a change it could not store in the turn's time stays in the session and is
stored with the next turn.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import (
    Intent,
    IntentConfirmationStatus,
    IntentRequest,
    Response,
    Slot,
    SlotConfirmationStatus,
)
from ask_sdk_model.ui import AskForPermissionsConsentCard

if TYPE_CHECKING:  # the directives' models are imported where a turn sends one (most send none)
    from ask_sdk_model.interfaces.audioplayer import AudioItemMetadata
    from ask_sdk_model.interfaces.display import Image

from . import playback
from .alexa_api import AFTER_CALL_SECONDS, AlexaReminders, api_access, known_zone, read_time_zone, zone_info
from .audio import ART, BACKGROUND, AudioLibrary, Token, Tracks, whole_ms
from .budget import Budget
from .content import Library, default_library, supported_locale
from .dialogue import MODES, OUTSIDE, REMINDER_MODES, State
from .engine import Engine
from .markets import BASE_LOCALE, LOCALES, fallback_zone
from .moves import Stream
from .observability import count, log_failure, logger
from .progress import KEEP_WRITES_SECONDS, Change, CorruptProgress, Progress, applied
from .reminders import PERIODS, SCOPE, Reminders, checkin_times
from .repository import ProgressKey, ProgressRepository, SaveFailed, StoreUnavailable, UnknownUser
from .settings import Settings
from .speech import Script, join, render, say

EPOCH_DAY = date(1970, 1, 1).toordinal()
ZONE_KEY = "zone"  # session attribute: the device's time zone ("" when it could not be read)
ZONE_RETRIED = "zone_again"  # session attribute: a failed read was tried once more, for a reminder


class Contents:
    """Each locale's content and engine, made on first use and kept for the container.
    Given one library (tests with their own content), every locale gets it."""

    def __init__(self, library: Library | None = None) -> None:
        self._fixed = library
        self._made: dict[str, tuple[Library, Engine]] = {}

    def __call__(self, locale: str | None) -> tuple[Library, Engine]:
        key = BASE_LOCALE if self._fixed is not None else supported_locale(locale)
        if key not in self._made:
            library = self._fixed or default_library(key)
            self._made[key] = (library, Engine(library))
        return self._made[key]

    def said_everywhere(self, key: str) -> frozenset[str]:
        """What the prompt ``key`` says in every market (how a reminder of ours is known by
        its words, whichever market's device set it)."""
        return frozenset(self(locale)[0].say(key) for locale in LOCALES)


class Deps(NamedTuple):
    """What every handler is built with: content, the repository, the clock, settings and audio."""

    contents: Contents
    repository: ProgressRepository
    clock: Callable[[], float]
    settings: Settings
    audio: AudioLibrary


class Turn:
    def __init__(self, handler_input: HandlerInput, deps: Deps) -> None:
        self.handler_input = handler_input
        self.deps = deps
        envelope = handler_input.request_envelope
        self.library, self.engine = deps.contents(getattr(envelope.request, "locale", None))
        self.budget = Budget.of(handler_input.context)
        attributes = handler_input.attributes_manager.session_attributes if envelope.session else None
        # With a session this is the SDK's own dict, so what we put in it is sent back.
        self._session: dict[str, Any] = attributes if attributes is not None else {}
        self.save_failed = False
        self.read_failed = False  # the record could not be read this turn: progress() is a blank
        self._saved = False  # save() ran this turn
        self._progress: Progress | None = None  # this turn's record, once read or saved
        self._read_fresh = False  # this turn's record was read from the store, this turn
        self._zone: tuple[str | None] | None = None  # the device's time zone, once looked up

    # -- state ------------------------------------------------------------------------
    @property
    def now(self) -> int:
        """When the person spoke: the request's timestamp (so every day, streak and plan day
        counts from it, whatever the delay), else this machine's clock. A request can only
        date its own user's record (the skill id is checked before any turn)."""
        stamp = getattr(self.handler_input.request_envelope.request, "timestamp", None)
        if isinstance(stamp, datetime):
            return int(stamp.timestamp())
        return int(self.deps.clock())

    @property
    def user_id(self) -> str | None:
        context = self.handler_input.request_envelope.context
        user = context.system.user if context and context.system else None
        return user.user_id if user else None

    @property
    def key(self) -> ProgressKey:
        context = self.handler_input.request_envelope.context
        person = context.system.person if context and context.system else None
        return ProgressKey.of(self.user_id, person.person_id if person else None)

    @property
    def state(self) -> State:
        """The conversation's state from the session (anything malformed in it is dropped)."""
        mode = self._session.get("mode")
        finished = self._session.get("finished")
        suggested = self._session.get("suggested")
        choice: tuple[str, int | None] | None = None
        if isinstance(suggested, list) and len(suggested) == 2 and suggested[0] in self.library.routines:
            routine_id, minutes = suggested
            whole = isinstance(minutes, int) and not isinstance(minutes, bool)
            choice = (routine_id, minutes if whole else None)
        back = self._session.get("back")
        period = self._session.get("period")
        return State(
            mode=mode if mode in MODES else OUTSIDE,
            finished=finished if isinstance(finished, str) and finished in self.library.routines else None,
            suggested=choice,
            back=back if back in MODES and back not in REMINDER_MODES else None,
            period=period if period in PERIODS else None,
            times=tuple(time.clock for time in checkin_times(self._session.get("times"))) or None,
        )

    @state.setter
    def state(self, state: State) -> None:
        self._session["mode"] = state.mode
        for name, value in (
            ("finished", state.finished),
            ("suggested", state.suggested),
            ("back", state.back),
            ("period", state.period),
            ("times", state.times),
        ):
            if value is None:
                self._session.pop(name, None)
            else:
                self._session[name] = list(value) if isinstance(value, tuple) else value

    def progress(self) -> Progress:
        """The user's record: from the session, else one read of the store, at most once a turn
        (a failed read is not retried within the turn). Read from the store, it first gets
        what the device's player says it did and the record lacks (``recovered``)."""
        if self._progress is None:
            self._progress = self._load_progress()
            if self._read_fresh:
                self._recover_played()
        return self._progress

    def _recover_played(self) -> None:
        """A stream of ours that finished or stopped, by this request's context, that the
        record does not show (its report could not be stored in its own turn; Alexa never
        sends a report again): stored now, with this turn. Not for a player's report itself,
        which carries its own word."""
        request_type = str(getattr(self.handler_input.request_envelope.request, "object_type", ""))
        if request_type.startswith("AudioPlayer."):
            return
        token, offset, activity = self.device_stream()
        report = playback.Report(playback.STOPPED, token, offset)
        change = playback.implied(
            self.engine,
            self.deps.audio.tracks(self.library.locale),
            report,
            activity,
            self.now,
            day_of=self.local_day,
        )
        if change is not None and not unchanged(self.progress(), (change,)):
            logger.info(
                "a played stream's report the record lacks is stored now", extra={"activity": activity}
            )
            self.save(change)

    def _load_progress(self) -> Progress:
        cached = self._session.get("progress")
        if cached is not None:
            try:
                return self._checked(Progress.from_dict(cached))
            except CorruptProgress:
                logger.warning("session progress is malformed; reading the store again")
        try:
            progress = self.deps.repository.load(self.key, self.budget)
        except (StoreUnavailable, UnknownUser) as error:
            log_failure("could not read progress; going on without it this turn", error)
            self.read_failed = True
            return Progress()
        self._read_fresh = True
        self._session["progress"] = progress.to_dict()
        return self._checked(progress)

    def _checked(self, progress: Progress) -> Progress:
        """Drop a position that no longer names a real step (content changed)."""
        position = progress.position
        if position is not None and not self.engine.is_valid(position):
            logger.warning(
                "stored position names no step; clearing it", extra={"routine": position.routine_id}
            )
            return progress.at(None, None, progress.updated_at)
        return progress

    def loaded_pace(self) -> str | None:
        """The user's pace if the record is already in the session (no read for it)."""
        cached = self._session.get("progress") or {}
        pace = cached.get("pace") if isinstance(cached, dict) else None
        return pace if isinstance(pace, str) else None

    def save(self, change: Change | None = None) -> Progress:
        """Store ``change`` (and any change an earlier turn could not store) and return the
        record as the user now has it, stored or not; it is kept in the session either way.
        A time zone read in this session that the record does not keep goes with the change."""
        unsaved = self._unsaved()
        base = self.progress()
        read = self._zone_read()
        if change is not None and read is not None and read[0] is not None and read[0] != base.zone:
            change = replace(change, zone=read[0])
        changes = (*unsaved, change) if change else unsaved
        self._saved = True
        own = applied(base, changes)
        if self._read_fresh and unchanged(base, changes):
            # read this turn, and nothing here changes it (every change is in it already, or is
            # a report the record's place has moved past): no write
            self._session.pop("unsaved", None)
            return base
        try:
            stored = self.deps.repository.store(self.key, base, changes, self.budget)
            progress = stored.progress
            for _ in stored.completed:
                count("RoutineCompleted")  # only once it is stored
            self._session.pop("unsaved", None)
        except SaveFailed as failure:
            self.save_failed = True
            count("ProgressSaveFailed")
            # the session keeps the last stored version, so the next write is conditional on it
            progress = replace(failure.progress, version=base.version)
            self._session["unsaved"] = [c.to_dict() for c in failure.unsaved]
        except UnknownUser as error:
            log_failure("no user to save progress for", error)
            self.save_failed = True
            progress = own
        # This session goes on from its own place, even where another device's newer move
        # holds the stored one (the resume point); everything else is the stored record.
        progress = progress.with_place_of(own)
        self._session["progress"] = progress.to_dict()
        self._progress = self._checked(progress)
        return self._progress

    def _unsaved(self) -> tuple[Change, ...]:
        pending = self._session.get("unsaved")
        if not isinstance(pending, list):
            return ()
        try:
            changes = tuple(Change.from_dict(c) for c in pending)
        except CorruptProgress:
            logger.warning("unsaved changes in the session are malformed; dropped")
            self._session.pop("unsaved", None)
            return ()
        # Past KEEP_WRITES_SECONDS its id may have left the record: storing it then could
        # count it twice. The user was told it might not be saved.
        return tuple(c for c in changes if self.now - c.at < KEEP_WRITES_SECONDS)

    def retry_unsaved(self) -> None:
        """A change an earlier turn could not store is stored now, if this turn stored nothing."""
        if not self._saved and self._unsaved():
            self.save()

    # -- the user's time zone and reminders ---------------------------------------------
    def _read_zone(self, after_seconds: float) -> str | None:
        """Read the device's time zone now (kept in the session, a failed read too)."""
        zone = read_time_zone(self.handler_input, self.budget, after_seconds)
        self._session[ZONE_KEY] = zone or ""
        self._zone = (zone,)
        return zone

    def _zone_read(self) -> tuple[str | None] | None:
        """The zone as read this session: (its name, or None if the read failed), or None if
        it has not been read."""
        if self._zone is None:
            cached = self._session.get(ZONE_KEY)
            if isinstance(cached, str):
                self._zone = (cached if cached and known_zone(cached) else None,)
        return self._zone

    def _last_known_zone(self) -> str | None:
        """The zone the record keeps, as last read (None if there is none, or no longer known)."""
        zone = self.progress().zone
        return zone if zone and known_zone(zone) else None

    def time_zone(self) -> str | None:
        """The zone the user's days are counted in: as read this session (at most once); for a
        request with no session (the player's report), the record's last known zone without
        asking; read only if the write after it still fits in the turn; else the record's
        last known zone. None: neither is known (the locale's zone stands in)."""
        read = self._zone_read()
        if read is None:
            known = self._last_known_zone()
            if known is not None and self.handler_input.request_envelope.session is None:
                return known  # a report: its day is known, the turn's time is kept for its write
            read = (self._read_zone(self.deps.repository.table.attempt_seconds),)
        return read[0] or self._last_known_zone()

    def reminder_zone(self) -> str | None:
        """The zone a reminder is set in: as read from Alexa this session, never the last known
        one nor a guess; a read that failed is tried once more in the session."""
        read = self._zone_read()
        if read is not None and read[0] is None and not self._session.get(ZONE_RETRIED):
            self._session[ZONE_RETRIED] = True
            read = None
        if read is None:
            read = (self._read_zone(AFTER_CALL_SECONDS),)
        return read[0]

    def local_day(self, at: int) -> int:
        """The number of the user's day (days since 1970-01-01 in their time zone) at ``at``;
        where no zone is known, the request's market's (UTC for a locale we do not serve)."""
        locale = getattr(self.handler_input.request_envelope.request, "locale", None)
        name = self.time_zone() or fallback_zone(locale)
        return datetime.fromtimestamp(at, zone_info(name)).date().toordinal() - EPOCH_DAY

    @property
    def can_remind(self) -> bool:
        """The request carries what a call to the Alexa APIs needs."""
        return api_access(self.handler_input) is not None

    def reminders(self) -> Reminders:
        return AlexaReminders(
            self.handler_input,
            self.budget,
            zone=self.reminder_zone,
            text=self.library.say("reminder_text"),
            locale=self.library.locale,
            now=self.now,
            checkin_text=self.library.say("checkin_reminder_text"),
            checkin_texts=partial(self.deps.contents.said_everywhere, "checkin_reminder_text"),
            checkins=self.progress().checkins,
        )

    @property
    def fresh(self) -> bool:
        """A one-shot: the session was opened by this request ("Alexa, ask Pelvic Ease to ...")."""
        session = self.handler_input.request_envelope.session
        return session is None or bool(session.new)

    def ask_permission(self, token: str) -> Response:
        """Alexa asks the user for the reminders permission by voice; its answer comes back
        as a Connections.Response carrying ``token``. Nothing is said by the skill meanwhile."""
        self.retry_unsaved()
        payload: dict[str, object] = {
            "@type": "AskForPermissionsConsentRequest",
            "@version": "2",
            "permissionScopes": [{"permissionScope": SCOPE, "consentLevel": "ACCOUNT"}],
        }
        from ask_sdk_model.interfaces.connections import SendRequestDirective  # noqa: PLC0415

        builder = self.handler_input.response_builder
        builder.add_directive(SendRequestDirective(name="AskFor", payload=payload, token=token))
        builder.set_should_end_session(True)
        return builder.response

    def elicit(self, intent: str, slot: str) -> None:
        """Dialog.ElicitSlot: Alexa hears the answer as ``slot`` of ``intent`` (the slot's own
        samples, "{time}" alone among them, count only while it is asked)."""
        request = self.handler_input.request_envelope.request
        if not isinstance(request, IntentRequest):
            return  # a dialog directive answers an intent request only
        from ask_sdk_model.dialog import ElicitSlotDirective  # noqa: PLC0415

        wanted = Intent(
            name=intent,
            confirmation_status=IntentConfirmationStatus.NONE,
            slots={slot: Slot(name=slot, confirmation_status=SlotConfirmationStatus.NONE)},
        )
        self.handler_input.response_builder.add_directive(
            ElicitSlotDirective(updated_intent=wanted, slot_to_elicit=slot)
        )

    def permission_card(self) -> None:
        """A card in the Alexa app to grant the reminders permission."""
        self.handler_input.response_builder.set_card(AskForPermissionsConsentCard(permissions=[SCOPE]))

    # -- audio ------------------------------------------------------------------------
    @property
    def can_play(self) -> bool:
        """The device has an audio player (devices without one get every routine spoken)."""
        context = self.handler_input.request_envelope.context
        device = context.system.device if context and context.system else None
        interfaces = device.supported_interfaces if device else None
        return bool(interfaces and interfaces.audio_player is not None)

    def tracks(self) -> Tracks | None:
        """The rendered tracks for this locale, if this device can play them."""
        return self.deps.audio.tracks(self.library.locale) if self.can_play else None

    def device_stream(self) -> tuple[Token | None, int, str]:
        """The device's stream as the request's context reports it: our token (or None),
        its offset in ms, and the player's activity (IDLE, PLAYING, STOPPED, ...)."""
        context = self.handler_input.request_envelope.context
        player = context.audio_player if context else None
        if player is None:
            return None, 0, "IDLE"
        activity = str(getattr(player.player_activity, "value", "IDLE"))
        return Token.parse(player.token), whole_ms(player.offset_in_milliseconds), activity

    def our_stream_playing(self) -> bool:
        """A stream of ours is playing on this device (a stopped one does not play on)."""
        token, _, activity = self.device_stream()
        return self.can_play and token is not None and activity in ("PLAYING", "BUFFER_UNDERRUN")

    def play(self, stream: Stream, enqueue_after: str | None = None) -> None:
        """An AudioPlayer.Play: replacing whatever plays, or queued after ``enqueue_after``."""
        from ask_sdk_model.interfaces.audioplayer import AudioItem, PlayBehavior, PlayDirective  # noqa: PLC0415
        from ask_sdk_model.interfaces.audioplayer import Stream as AudioStream  # noqa: PLC0415

        item = AudioItem(
            stream=AudioStream(
                token=stream.token,
                url=self.deps.audio.url(stream.path),
                offset_in_milliseconds=stream.offset,
                expected_previous_token=enqueue_after,
            ),
            metadata=self.screen(Token.parse(stream.token)),
        )
        behavior = PlayBehavior.ENQUEUE if enqueue_after else PlayBehavior.REPLACE_ALL
        self.handler_input.response_builder.add_directive(PlayDirective(behavior, item))

    def screen(self, token: Token | None) -> AudioItemMetadata:
        """What a screen shows while ``token`` plays: the routine, the step, the art and the
        background image (published beside the audio)."""
        from ask_sdk_model.interfaces.audioplayer import AudioItemMetadata  # noqa: PLC0415

        routine = self.library.routines.get(token.routine) if token else None
        track = self.deps.audio.tracks(self.library.locale)
        played = track.of(token) if track is not None and token is not None else None
        if routine is None or played is None or token is None:
            return AudioItemMetadata(title=self.library.say("skill_name"))
        step = played.files[token.file].step
        subtitle = self.library.say(
            "screen_subtitle", step=step + 1, total=len(routine.steps), title=routine.steps[step].title
        )
        return AudioItemMetadata(
            title=routine.name[:1].upper() + routine.name[1:],
            subtitle=subtitle,
            art=self.picture(ART, "screen_art"),
            background_image=self.picture(BACKGROUND, "screen_background"),
        )

    def picture(self, picture: tuple[str, int, int], description: str) -> Image:
        from ask_sdk_model.interfaces.display import Image, ImageInstance  # noqa: PLC0415

        path, width, height = picture
        source = ImageInstance(url=self.deps.audio.url(path), width_pixels=width, height_pixels=height)
        return Image(content_description=self.library.say(description), sources=[source])

    def stop_audio(self) -> None:
        from ask_sdk_model.interfaces.audioplayer import StopDirective  # noqa: PLC0415

        self.handler_input.response_builder.add_directive(StopDirective())

    # -- speech -----------------------------------------------------------------------
    def say(self, key: str, **fields: object) -> Script:
        return say(self.library.say(key, **fields))

    def respond(self, speech: Script, reprompt: Script | None = None, end: bool = False) -> Response:
        """Build the response; mic open with a reprompt unless ``end``. Always sets shouldEndSession."""
        self.retry_unsaved()
        if self.save_failed and not self._session.get("warned_save"):
            speech = join(self.say("save_failed"), speech)
            self._session["warned_save"] = True
        rate = self.library.pace(self.loaded_pace()).rate
        builder = self.handler_input.response_builder
        builder.speak(render(speech, rate))
        if end:
            builder.set_should_end_session(True)
        else:
            builder.ask(render(reprompt or speech, rate))
            builder.set_should_end_session(False)
        return builder.response

    def silent(self) -> Response:
        """No speech, for requests Alexa does not let a skill answer (SessionEnded, events)."""
        builder = self.handler_input.response_builder
        builder.set_should_end_session(True)
        return builder.response

    def directives_only(self) -> Response:
        """The answer to an AudioPlayer or PlaybackController request: directives, if any,
        and nothing else (no speech, no card, no session flag)."""
        self.retry_unsaved()
        return self.handler_input.response_builder.response


def wall_clock() -> float:
    return time.time()


def unchanged(progress: Progress, changes: tuple[Change, ...]) -> bool:
    """``changes`` applied to ``progress`` change nothing in it but the write ids it keeps."""
    return replace(applied(progress, changes), recent_writes=progress.recent_writes) == progress
