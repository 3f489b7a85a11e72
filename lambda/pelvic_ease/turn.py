"""One request's view of the conversation: session state, progress, and the reply.

The record is read at most once per session (the first request that needs it) and then
travels in the session attributes. Every change of progress is written at once,
conditionally on the item version; on a conflict the change is merged onto the newer
record and written again, and on a DynamoDB fault the routine goes on from the session.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from .content import Library
from .engine import Engine, Position
from .observability import count, logger
from .progress import CorruptProgress, Progress
from .settings import Settings
from .speech import Script, join, render, say
from .store import DynamoProgressStore, ProgressConflict, StoreError

MENU, ROUTINE, RESUME_OFFER, ANOTHER_OFFER = "menu", "routine", "resume_offer", "another_offer"
PAIN_OFFER = "pain_offer"  # the user said it hurts: waiting for "skip" or "end", never going on alone
SAVE_ATTEMPTS = 5
CONFLICT_BACKOFF_SECONDS = (0.005, 0.03)  # a short random wait before retrying a conflict


@dataclass(frozen=True)
class Deps:
    library: Library
    engine: Engine
    store: DynamoProgressStore
    clock: Callable[[], float]
    settings: Settings


class Turn:
    def __init__(self, handler_input: HandlerInput, deps: Deps) -> None:
        self.handler_input = handler_input
        self.deps = deps
        self.library = deps.library
        self.engine = deps.engine
        envelope = handler_input.request_envelope
        attributes = handler_input.attributes_manager.session_attributes if envelope.session else None
        # With a session this is the SDK's own dict, so what we put in it is sent back.
        self._session: dict[str, Any] = attributes if attributes is not None else {}
        self.save_failed = False
        self.read_failed = False  # the record could not be read this turn: progress() is a blank
        self._saved = False  # save() ran this turn
        self._progress: Progress | None = None  # this turn's record, once read or saved

    # -- state ------------------------------------------------------------------------
    @property
    def now(self) -> int:
        return int(self.deps.clock())

    @property
    def mode(self) -> str:
        mode = self._session.get("mode")
        return mode if mode in (MENU, ROUTINE, RESUME_OFFER, ANOTHER_OFFER, PAIN_OFFER) else MENU

    @mode.setter
    def mode(self, value: str) -> None:
        self._session["mode"] = value

    @property
    def finished(self) -> str | None:
        """The routine completed last in this session ("start over" after the end)."""
        value = self._session.get("finished")
        return value if isinstance(value, str) and value in self.library.routines else None

    @finished.setter
    def finished(self, routine_id: str) -> None:
        self._session["finished"] = routine_id

    def progress(self) -> Progress:
        """The user's record: from the session, else one read of the store, at most once a turn
        (a failed read is not retried within the turn)."""
        if self._progress is None:
            self._progress = self._load_progress()
        return self._progress

    def _load_progress(self) -> Progress:
        cached = self._session.get("progress")
        if cached is not None:
            try:
                return self._checked(Progress.from_dict(cached))
            except CorruptProgress:
                logger.warning("session progress is malformed; reading the store again")
        try:
            record = self.handler_input.attributes_manager.persistent_attributes
            progress = Progress.from_dict(record)
        except (StoreError, CorruptProgress):
            logger.exception("could not read progress; going on without it this turn")
            self.read_failed = True
            return Progress()
        self._session["progress"] = progress.to_dict()
        return self._checked(progress)

    def _checked(self, progress: Progress) -> Progress:
        """Drop a position that no longer names a real step (content changed)."""
        position = progress.position
        if position is not None and not self.engine.is_valid(position):
            logger.warning(
                "stored position names no step; clearing it", extra={"routine": position.routine_id}
            )
            return progress.at(None, progress.updated_at)
        return progress

    def loaded_pace(self) -> str | None:
        """The user's pace if the record is already in the session (no read for it)."""
        cached = self._session.get("progress") or {}
        pace = cached.get("pace") if isinstance(cached, dict) else None
        return pace if isinstance(pace, str) else None

    def save(self, progress: Progress, completed_now: str | None = None, moved: bool = True) -> Progress:
        """Store ``progress`` and return it as stored; keep it in the session either way.

        ``moved``: this turn changed the position (see Progress.merged_onto for conflicts).
        """
        store = self.deps.store
        envelope = self.handler_input.request_envelope
        attributes = progress.to_dict()
        self._saved = True
        for attempt in range(SAVE_ATTEMPTS):
            try:
                store.save_attributes(envelope, attributes)  # bumps attributes["version"]
                self._session["progress"] = attributes
                self._session.pop("unsaved", None)
                self._progress = Progress.from_dict(attributes)
                return self._progress
            except ProgressConflict:
                logger.info("progress changed on another device; merging this turn onto it")
                if attempt:
                    time.sleep(random.uniform(*CONFLICT_BACKOFF_SECONDS))
                try:
                    theirs = Progress.from_dict(store.get_attributes(envelope))
                except (StoreError, CorruptProgress):
                    logger.exception("could not re-read progress after a conflict")
                    break
                progress = progress.merged_onto(theirs, completed_now, moved)
                attributes = progress.to_dict()
            except StoreError:
                logger.exception("could not save progress")
                break
        self.save_failed = True
        count("ProgressSaveFailed")
        self._session["progress"] = progress.to_dict()
        self._progress = progress
        # Remember what is unsaved, so the next turn of this session tries again.
        self._session["unsaved"] = {"completed": completed_now, "moved": moved}
        return progress

    def retry_unsaved(self) -> None:
        """A change an earlier turn could not store is stored now, if this turn stored nothing."""
        pending = self._session.get("unsaved")
        if self._saved or not isinstance(pending, dict):
            return
        try:
            progress = Progress.from_dict(self._session.get("progress"))
        except CorruptProgress:
            self._session.pop("unsaved", None)
            return
        completed = pending.get("completed")
        self.save(
            progress, completed if isinstance(completed, str) else None, bool(pending.get("moved", True))
        )

    # -- speech -----------------------------------------------------------------------
    def say(self, key: str, **fields: object) -> Script:
        return say(self.library.say(key, **fields))

    def routine_fields(self, position: Position) -> dict[str, object]:
        routine = self.engine.routine(position.routine_id)
        return {"routine": routine.name, "step": position.step + 1, "total": len(routine.steps)}

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


def wall_clock() -> float:
    return time.time()
