"""Build the skill once: content, engine, progress repository and handlers wired together.
This module also owns the container's skill: built on the first event (or before the
SnapStart snapshot) and reused after; the entry point (app.py) and the SnapStart hooks
(snapstart.py) both take it from here."""

from __future__ import annotations

from collections.abc import Callable

from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_model.services import ApiClient

from .alexa_api import TimedApiClient
from .audio import AudioLibrary
from .content import Library
from .handlers import CatchAllExceptionHandler, request_handlers
from .interceptors import LogContextInterceptor, LogOutcomeInterceptor
from .repository import DynamoTable, ProgressRepository, ProgressTable
from .settings import Settings
from .turn import Contents, Deps, wall_clock


def build_skill(
    settings: Settings,
    table: ProgressTable | None = None,
    library: Library | None = None,
    clock: Callable[[], float] = wall_clock,
    audio: AudioLibrary | None = None,
    *,
    api_client: ApiClient | None = None,
) -> CustomSkill:
    """The ready skill. Tests pass their own table (moto-backed or in memory) and clock, and
    may pass one library for every locale; else each locale gets its own content. The audio
    library (the rendered tracks) is read from the manifest when AUDIO_BASE_URL is set.
    ``api_client`` calls the Alexa APIs (reminders, the time zone): ask-sdk's interface, with
    time-outs; tests and the simulator pass one that trusts their local fake's certificate."""
    table = table or DynamoTable(settings.table_name, ttl_days=settings.ttl_days, clock=clock)
    repository = ProgressRepository(table)
    audio = audio or AudioLibrary.load(settings.audio_base_url)
    deps = Deps(
        contents=Contents(library), repository=repository, clock=clock, settings=settings, audio=audio
    )
    builder = CustomSkillBuilder(api_client=api_client or TimedApiClient())
    builder.skill_id = settings.skill_id  # type: ignore[assignment]  # the SDK annotates it as None
    for handler in request_handlers(deps):
        builder.add_request_handler(handler)
    builder.add_exception_handler(CatchAllExceptionHandler(deps))
    builder.add_global_request_interceptor(LogContextInterceptor())
    builder.add_global_response_interceptor(LogOutcomeInterceptor())
    return builder.create()


_container: dict[str, CustomSkill] = {}


def current() -> CustomSkill:
    """The container's skill, built from the environment on first use and reused after."""
    if "skill" not in _container:
        _container["skill"] = build_skill(Settings.from_env())
    return _container["skill"]


def use_skill(custom: CustomSkill | None) -> None:
    """Replace the container's skill (the SnapStart hooks, tests and the simulator inject
    their own store); None: built again from the environment on the next event."""
    _container.pop("skill", None)
    if custom is not None:
        _container["skill"] = custom
