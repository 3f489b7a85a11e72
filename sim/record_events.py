"""Record the request envelopes in events/ from a real conversation with the skill.

    python -m sim.record_events

Each file is what Alexa would send at that point of the conversation, session attributes
included, so it feeds `sam local invoke -e events/NAME.json` and the tests alike.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent.parent / "events"
USER = "amzn1.ask.account.RECORDED0000000000000000000000000000000000000000"
# (file name, what happens) in conversation order; "/" lines are device actions.
SCRIPT: list[tuple[str | None, str]] = [
    ("launch", "open pelvic ease"),
    ("list_routines", "what can you do"),
    ("read_disclaimer", "read the disclaimer"),
    ("start_routine_no_match", "massage my elbow"),
    ("start_routine_missing_slot", "start a routine"),
    ("start_routine", "massage my inner thighs"),
    ("next", "next"),
    ("previous", "go back"),
    ("repeat", "repeat"),
    ("help", "help"),
    ("start_over", "start over"),
    ("change_pace", "slower"),
    ("repeat_slowly", "say that again slowly"),
    ("pain", "it hurts"),
    ("skip_step", "skip"),
    ("how_long", "how much is left"),
    ("question", "what is the psoas"),
    ("why", "why bother"),
    ("whats_next", "what's next"),
    ("thanks", "thank you"),
    ("volume", "louder"),
    ("music", "can you play music"),
    ("no_ball", "I don't have a ball"),
    ("other_side", "do the other side"),
    ("fell_asleep", "I fell asleep"),
    ("less_talking", "less talking"),
    ("safety_question", "is this safe if I'm pregnant"),
    ("why_no_kegels", "why no kegels"),
    ("last_step", "last step"),
    ("progress_report", "how am I doing"),
    ("start_plan", "start the plan"),
    ("today", "what should I do today"),
    ("plan_status", "how is my plan going"),
    ("week_summary", "how did I do this week"),
    ("pause_plan", "pause the plan"),
    ("start_routine_with_length", "a ten minute relaxation"),
    ("fallback", "purple monkey dishwasher"),
    ("unknown_intent", "/intent AMAZON.SomeFutureIntent"),
    ("navigate_home", "/intent AMAZON.NavigateHomeIntent"),
    ("choose_by_length", "I only have five minutes"),
    ("yes", "yes"),
    ("no", "no"),
    ("one_shot_resume", "ask pelvic ease to resume"),
    ("pause", "pause"),
    ("launch_returning", "open pelvic ease"),
    ("resume_builtin", "/intent AMAZON.ResumeIntent"),
    ("session_ended_timeout", "/end EXCEEDED_MAX_REPROMPTS"),
    (None, "open pelvic ease"),
    ("stop", "stop"),
    (None, "open pelvic ease"),
    ("cancel", "/intent AMAZON.CancelIntent"),
    (None, "open pelvic ease"),
    ("session_ended_user", "/end USER_INITIATED"),
    (None, "open pelvic ease"),
    ("session_ended_error", "/end ERROR"),
    (None, "open pelvic ease"),
    ("wait", "hold on"),
    (None, "open pelvic ease"),
    ("done", "I'm done"),
    (None, "ask pelvic ease to resume"),
    ("symptom", "I feel dizzy"),
    (None, "open pelvic ease"),
    ("later", "start again tomorrow"),
    ("skill_disabled", "/disable"),
]


# On a device with an audio player: a routine that plays straight through. Lines starting
# "/wait" let the player play on; "/button X", "/fail" are the device's own doing.
AUDIO_SCRIPT: list[tuple[str | None, str]] = [
    (None, "open pelvic ease"),
    ("play_style", "play it straight through"),
    ("background_sound", "without background sound"),
    (None, "open pelvic ease"),
    ("start_played_routine", "a ten minute relaxation"),
    (None, "/wait 200"),
    ("pause_playback", "alexa pause"),
    ("resume_playback", "alexa resume"),
    ("next_playback", "alexa next"),
    ("previous_playback", "alexa previous"),
    ("start_over_playback", "alexa start over"),
    ("loop_on", "alexa loop on"),
    ("loop_off", "alexa loop off"),
    ("shuffle_on", "alexa shuffle on"),
    ("shuffle_off", "alexa shuffle off"),
    (None, "/button Pause"),
    (None, "/button Play"),
    (None, "/button Next"),
    (None, "/button Previous"),
    (None, "/wait 900"),
    (None, "ask pelvic ease for a ten minute relaxation"),
    (None, "/fail"),
]
# The first request of each of these types in that conversation, kept as an event file.
AUDIO_EVENTS = {
    "AudioPlayer.PlaybackStarted": "playback_started",
    "AudioPlayer.PlaybackNearlyFinished": "playback_nearly_finished",
    "AudioPlayer.PlaybackStopped": "playback_stopped",
    "AudioPlayer.PlaybackFinished": "playback_finished",
    "AudioPlayer.PlaybackFailed": "playback_failed",
    "PlaybackController.PauseCommandIssued": "controller_pause",
    "PlaybackController.PlayCommandIssued": "controller_play",
    "PlaybackController.NextCommandIssued": "controller_next",
    "PlaybackController.PreviousCommandIssued": "controller_previous",
}

# Per locale beside en-US: a launch and a start-routine envelope (file name: NAME_LOCALE).
LOCALE_SCRIPT: list[tuple[str, str]] = [("launch", "open pelvic ease"), ("start_routine", "massage my hips")]


def write(name: str, request: dict[str, object]) -> None:
    path = EVENTS / f"{name}.json"
    path.write_text(json.dumps(request, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(EVENTS.parent)}")


def record_played(handler: Any, clock: Any) -> None:
    from .driver import Conversation  # noqa: PLC0415
    from .player import Player  # noqa: PLC0415

    player = Player(clock)
    conv = Conversation(handler, user_id=USER + "AUDIO", player=player, clock=clock)
    conv.device_id = "amzn1.ask.device.RECORDED"
    for name, action in AUDIO_SCRIPT:
        if action.startswith("/wait "):
            conv.wait(float(action.split()[1]))
        elif action.startswith("/button "):
            player.button(action.split()[1])
        elif action == "/fail":
            player.fail()
        else:
            reply = conv.say(action)
            if name:
                write(name, reply.request)
    seen: set[str] = set()
    for reply in conv.replies:
        kind = reply.request["request"]["type"]
        if kind in AUDIO_EVENTS and kind not in seen:
            seen.add(kind)
            write(AUDIO_EVENTS[kind], reply.request)
    write(
        "exception_encountered",
        conv.envelope(
            {
                "type": "System.ExceptionEncountered",
                "error": {"type": "INVALID_RESPONSE", "message": "recorded: a directive was refused"},
                "cause": {"requestId": "amzn1.echo-api.request.0"},
            }
        ),
    )


def main() -> int:
    from .driver import LOCALES, Conversation  # noqa: PLC0415
    from .local_skill import local_skill  # noqa: PLC0415

    with local_skill(audio=True) as skill:
        record_played(skill.handler, skill.clock)
        conv = Conversation(skill.handler, user_id=USER, clock=skill.clock)
        conv.device_id = "amzn1.ask.device.RECORDED"
        for name, action in SCRIPT:
            if action.startswith("/intent "):
                reply = conv.intent(action.split()[1])
            elif action.startswith("/end "):
                reply = conv.end_session(action.split()[1])
            elif action == "/disable":
                reply = conv.disable_skill()
            else:
                reply = conv.say(action)
            if name:
                path = EVENTS / f"{name}.json"
                path.write_text(json.dumps(reply.request, indent=2) + "\n", encoding="utf-8")
                print(f"wrote {path.relative_to(EVENTS.parent)}")
        for locale in LOCALES:
            if locale == "en-US":
                continue
            conv = Conversation(
                skill.handler, user_id=USER + locale.replace("-", ""), locale=locale, clock=skill.clock
            )
            conv.device_id = "amzn1.ask.device.RECORDED"
            for name, utterance in LOCALE_SCRIPT:
                path = EVENTS / f"{name}_{locale}.json"
                path.write_text(json.dumps(conv.say(utterance).request, indent=2) + "\n", encoding="utf-8")
                print(f"wrote {path.relative_to(EVENTS.parent)}")
    return 0


if __name__ == "__main__":
    from .local_skill import quiet_environment

    quiet_environment()
    sys.exit(main())
