"""The daily practice reminder and the user's own days (issue 16), through the real lambda_handler.

The Alexa APIs are a local fake on 127.0.0.1 (sim/alexa_api.py), a real HTTPS server the
envelopes' apiEndpoint points at, so the skill's API client and the SDK's service clients run
as they would against Amazon. Assertions are on what the user hears, the directives and
cards, the session, what is stored, and the requests the fake received.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import pytest
from ask_sdk_core.exceptions import ApiClientException
from ask_sdk_model.services import ApiClientRequest

from pelvic_ease import app
from pelvic_ease.alexa_api import API_SECONDS, DEADLINE_THREAD, AlexaReminders, TimedApiClient, reminder_time
from pelvic_ease.audio import AudioLibrary, Track
from pelvic_ease.content import default_library, load_library
from pelvic_ease.progress import DAY, MAX_ALERT, Change, Progress
from pelvic_ease.reminders import DailyTime
from pelvic_ease.repository import DynamoTable, decode, encode
from pelvic_ease.settings import Settings
from pelvic_ease.skill import build_skill, use_skill
from sim.alexa_api import FakeAlexaApi
from sim.driver import (
    CONSENT_TOKEN,
    DEFAULT_SKILL_ID,
    Clock,
    Conversation,
    LambdaContext,
    Reply,
    exact_model,
    time_value,
)
from sim.player import Player
from tests.conftest import stored_items
from tests.support import FAULTS, TABLE_NAME, FaultyClient, dynamodb_item_size
from tests.test_observability import captured_logs

LIB = load_library()
SCOPE = "alexa::alerts:reminders:skill:readwrite"
REMINDERS = "/v1/alerts/reminders"
Handler = Callable[..., dict[str, Any]]


def talk(skill: Handler, api: FakeAlexaApi, granted: bool = False, locale: str = "en-US") -> Conversation:
    return Conversation(skill, alexa_api=api, reminders_granted=granted, locale=locale)


def stored(dynamodb: Any) -> Progress:
    items = stored_items(dynamodb)
    assert len(items) == 1
    return Progress.from_dict(decode(items[0]))


def routine_to_end(conv: Conversation, utterance: str = "massage my lower back") -> Reply:
    reply = conv.say(utterance)
    for _ in range(40):  # far more turns than any routine has
        if reply.text.endswith((LIB.say("another_offer"), LIB.say("reminder_offer"))):
            return reply
        reply = conv.say("next")
    raise AssertionError(f"the routine did not reach its end: {reply.text}")


def reminder_body(
    clock: Clock, zone: str, hour: int, minute: int = 0, locale: str = "en-US", *, text: str = "reminder_text"
) -> dict[str, Any]:
    """The body the skill must send: every day at hour:minute in ``zone``, from now, saying
    the prompt ``text`` (the daily reminder's, or a check-in's)."""
    started = datetime.fromtimestamp(clock.now, ZoneInfo(zone)).replace(tzinfo=None, microsecond=0)
    requested = datetime.fromtimestamp(clock.now, ZoneInfo("UTC")).replace(tzinfo=None, microsecond=0)
    return {
        "requestTime": requested.isoformat(),
        "trigger": {
            "type": "SCHEDULED_ABSOLUTE",
            "timeZoneId": zone,
            "recurrence": {
                "startDateTime": started.isoformat(),
                "recurrenceRules": [f"FREQ=DAILY;BYHOUR={hour};BYMINUTE={minute};BYSECOND=0"],
            },
        },
        "alertInfo": {
            "spokenInfo": {"content": [{"locale": locale, "text": default_library(locale).say(text)}]}
        },
        "pushNotification": {"status": "ENABLED"},
    }


# -- permission ------------------------------------------------------------------------------------
def test_consent_accepted_creates_a_daily_reminder_at_that_time_in_the_users_time_zone(
    skill: Handler, api: FakeAlexaApi, clock: Clock, dynamodb: Any
) -> None:
    conv = talk(skill, api)
    conv.say("open pelvic ease")
    # GIVEN no permission yet: Alexa is asked to ask for it by voice, and nothing is said or called
    asked = conv.say("remind me every day at 8 pm")
    request = asked.permission_request
    assert request == {
        "type": "Connections.SendRequest",
        "name": "AskFor",
        "payload": {
            "@type": "AskForPermissionsConsentRequest",
            "@version": "2",
            "permissionScopes": [{"permissionScope": SCOPE, "consentLevel": "ACCOUNT"}],
        },
        "token": "daily-reminder:20:00",
    }
    assert asked.ssml == ""
    assert "reprompt" not in asked.response
    assert not asked.session_open
    assert api.calls(prefix=REMINDERS) == []
    # WHEN the user says yes to Alexa's question (a new session, the time in the token)
    done = conv.consent("ACCEPTED")
    # THEN the reminder is created every day at 20:00 in the device's time zone, and said back
    assert done.text == LIB.say("reminder_set", time="8 p.m.")
    assert "every day at 8 p.m." in done.text
    assert not done.session_open  # the answer ends what a one-shot opened
    [created] = api.calls("POST", REMINDERS)
    assert created.authorized
    assert created.body == reminder_body(clock, "America/Los_Angeles", 20)
    assert stored(dynamodb).reminder == next(iter(api.reminders))
    print("create:", json.dumps(created.body))


def test_consent_denied_says_so_sets_nothing_and_the_offer_is_not_made_again(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any
) -> None:
    conv = talk(skill, api)
    conv.say("open pelvic ease")
    conv.say("set a daily reminder")
    conv.say("7 in the morning")
    reply = conv.consent("DENIED")
    assert reply.text == LIB.say("reminder_permission_denied")
    assert api.calls(prefix=REMINDERS) == []
    assert stored(dynamodb).reminder is None
    assert stored(dynamodb).reminder_declined == 1


def test_consent_not_answered_gets_a_short_answer(skill: Handler, api: FakeAlexaApi, dynamodb: Any) -> None:
    conv = talk(skill, api)
    conv.say("ask pelvic ease to remind me every day at 9 pm")
    reply = conv.consent("NOT_ANSWERED")
    assert reply.text == LIB.say("reminder_permission_unanswered")
    assert api.calls(prefix=REMINDERS) == []
    assert stored_items(dynamodb) == [] or stored(dynamodb).reminder_declined == 0


def test_where_voice_consent_is_not_possible_a_card_and_the_alexa_app(
    skill: Handler, api: FakeAlexaApi
) -> None:
    conv = talk(skill, api)
    conv.say("ask pelvic ease to remind me every day at 9 pm")
    reply = conv.consent("NOT_ANSWERED", code="400")
    assert reply.text == LIB.say("reminder_permission_in_app")
    assert reply.card == {"type": "AskForPermissionsConsent", "permissions": [SCOPE]}
    assert api.calls(prefix=REMINDERS) == []


def test_a_permission_already_granted_creates_it_at_once(
    skill: Handler, api: FakeAlexaApi, clock: Clock, dynamodb: Any
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    reply = conv.say("remind me every day at 7 30 am")
    assert reply.permission_request is None
    assert reply.text.startswith(LIB.say("reminder_set", time="7:30 a.m."))
    assert reply.text.endswith(LIB.say("menu"))  # back to the menu, the session open
    assert reply.session_open
    [created] = api.calls("POST", REMINDERS)
    assert created.body == reminder_body(clock, "America/Los_Angeles", 7, 30)
    assert stored(dynamodb).reminder is not None


def test_set_a_daily_reminder_asks_the_time_and_a_part_of_the_day_asks_again(
    skill: Handler, api: FakeAlexaApi
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    asked = conv.say("set a daily reminder")
    assert asked.text == LIB.say("reminder_ask_time")
    assert asked.session_open
    assert api.calls(prefix=REMINDERS) == []  # no default time: the user chooses
    vague = conv.say("in the evening")
    assert vague.text == f"{LIB.say('reminder_which_time', period='evening')} {LIB.say('reminder_ask_time')}"
    done = conv.say("at 6 30 pm")
    assert done.text.startswith(LIB.say("reminder_set", time="6:30 p.m."))
    assert api.calls("POST", REMINDERS)[0].body["trigger"]["recurrence"]["recurrenceRules"] == [
        "FREQ=DAILY;BYHOUR=18;BYMINUTE=30;BYSECOND=0"
    ]


def test_after_in_the_evening_eight_is_8_pm(skill: Handler, api: FakeAlexaApi) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    asked = conv.say("set a daily reminder")
    # the question asks Alexa to hear the answer as the time (a dialog: "{time}" alone is a
    # sample of the slot, heard only while it is asked, never an intent's sample)
    assert asked.elicited == ("SetReminderIntent", "time")
    assert conv.say("in the evening").elicited == ("SetReminderIntent", "time")
    done = conv.say("eight")
    assert done.request["request"]["dialogState"] == "IN_PROGRESS"
    assert done.text.startswith(LIB.say("reminder_set", time="8 p.m."))
    assert api.calls("POST", REMINDERS)[0].body["trigger"]["recurrence"]["recurrenceRules"] == [
        "FREQ=DAILY;BYHOUR=20;BYMINUTE=0;BYSECOND=0"
    ]
    assert done.elicited is None


@pytest.mark.parametrize(("period", "said", "time"), [("in the morning", "seven thirty", "7:30 a.m."),
                                                      ("in the afternoon", "three o'clock", "3 p.m."),
                                                      ("at night", "ten", "10 p.m.")])  # fmt: skip
def test_an_hour_after_a_part_of_the_day_is_in_it(
    skill: Handler, api: FakeAlexaApi, period: str, said: str, time: str
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    conv.say("set a daily reminder")
    conv.say(period)
    assert conv.say(said).text.startswith(LIB.say("reminder_set", time=time))


def test_a_time_said_out_of_the_blue_sets_nothing(skill: Handler, api: FakeAlexaApi) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    assert conv.say("8 pm").request["request"]["intent"]["name"] == "AMAZON.FallbackIntent"  # no bare {time}
    reply = conv.say("at 8 pm")
    assert reply.text.startswith(LIB.say("reminder_time_hint", time="8 p.m."))
    assert api.calls(prefix=REMINDERS) == []


# -- change, cancel, ask ------------------------------------------------------------------------------
def test_change_updates_the_stored_reminder(
    skill: Handler, api: FakeAlexaApi, clock: Clock, dynamodb: Any
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("ask pelvic ease to remind me every day at 8 pm")
    token = stored(dynamodb).reminder
    assert token is not None
    reply = conv.say("ask pelvic ease to change my reminder to 7 in the morning")
    assert reply.text == LIB.say("reminder_changed", time="7 a.m.")
    [changed] = api.calls("PUT")
    assert changed.path == f"{REMINDERS}/{token}"
    assert changed.body == reminder_body(clock, "America/Los_Angeles", 7)
    assert stored(dynamodb).reminder == token
    assert len(api.calls("POST")) == 1
    print("change:", changed.method, changed.path, json.dumps(changed.body))


def test_change_of_a_reminder_deleted_in_the_alexa_app_makes_a_new_one(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("ask pelvic ease to remind me every day at 8 pm")
    old = stored(dynamodb).reminder
    assert old is not None
    api.delete_in_app(old)
    reply = conv.say("ask pelvic ease to move my reminder to 9 pm")
    assert reply.text == LIB.say("reminder_replaced", time="9 p.m.")
    # the list showed it gone: a new one is made, the old one is not updated
    assert [r.method for r in api.calls(prefix=REMINDERS) if r.method != "GET"] == ["POST", "POST"]
    assert stored(dynamodb).reminder not in (None, old)
    assert list(api.reminders) == [stored(dynamodb).reminder]


def test_cancel_deletes_it_and_forgets_its_id(skill: Handler, api: FakeAlexaApi, dynamodb: Any) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("ask pelvic ease to remind me every day at 8 pm")
    token = stored(dynamodb).reminder
    reply = conv.say("ask pelvic ease to cancel my reminder")
    assert reply.text == LIB.say("reminder_cancelled")
    [deleted] = api.calls("DELETE")
    assert (deleted.path, deleted.body) == (f"{REMINDERS}/{token}", None)
    assert api.reminders == {}
    assert stored(dynamodb).reminder is None
    assert conv.say("ask pelvic ease to cancel my reminder").text == LIB.say("reminder_none")
    assert len(api.calls("DELETE")) == 1
    print("cancel:", deleted.method, deleted.path, deleted.body)


def test_do_i_have_a_reminder_reads_its_time_or_says_there_is_none(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any
) -> None:
    conv = talk(skill, api, granted=True)
    assert conv.say("ask pelvic ease do I have a reminder").text == LIB.say("reminder_none")
    assert [(r.method, r.path) for r in api.calls(prefix=REMINDERS)] == [("GET", REMINDERS)]  # asked Alexa
    conv.say("ask pelvic ease to remind me every day at 8 pm")
    assert conv.say("ask pelvic ease when is my reminder").text == LIB.say("reminder_status", time="8 p.m.")
    api.delete_in_app(str(stored(dynamodb).reminder))
    assert conv.say("ask pelvic ease do I have a reminder").text == LIB.say("reminder_gone")
    assert stored(dynamodb).reminder is None


# -- never a second reminder, and cancel leaves none (issue 25) -------------------------------------
@pytest.fixture
def faulty(table: DynamoTable, dynamodb: Any) -> FaultyClient:
    client = FaultyClient(dynamodb)
    table._client = client
    return client


def cancelled_to_none(conv: Conversation, api: FakeAlexaApi, dynamodb: Any) -> None:
    assert conv.say("ask pelvic ease to cancel my reminder").text == LIB.say("reminder_cancelled")
    assert api.reminders == {}
    assert stored(dynamodb).reminder is None


def test_a_create_whose_answer_was_lost_is_found_not_made_again(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any
) -> None:
    conv = talk(skill, api, granted=True)
    api.lose_next(method="POST", on=REMINDERS)  # made, and the answer never came
    reply = conv.say("ask pelvic ease to remind me every day at 8 pm")
    assert reply.text == LIB.say("reminder_set", time="8 p.m.")  # the list found it
    assert list(api.reminders) == [stored(dynamodb).reminder]
    again = conv.say("ask pelvic ease to remind me every day at 8 pm")
    assert again.text == LIB.say("reminder_changed", time="8 p.m.")
    assert len(api.reminders) == 1
    assert api.calls("PUT") == []  # already at 8 p.m.: nothing to move
    cancelled_to_none(conv, api, dynamodb)


def test_a_create_lost_and_unconfirmed_is_found_when_asked_again(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any
) -> None:
    conv = talk(skill, api, granted=True)
    api.lose_next(method="POST", on=REMINDERS)
    api.pass_next(method="GET", on=REMINDERS)  # the list before the create
    api.fail_next(500, method="GET", on=REMINDERS)  # the list after it fails
    reply = conv.say("ask pelvic ease to remind me every day at 8 pm")
    assert reply.text == LIB.say("reminder_unavailable")  # it may or may not be there: nothing is said set
    assert len(api.reminders) == 1
    assert stored_items(dynamodb) == []  # nothing stored
    again = conv.say("ask pelvic ease to remind me every day at 8 pm")  # the user asks again
    assert again.text == LIB.say("reminder_set", time="8 p.m.")
    assert list(api.reminders) == [stored(dynamodb).reminder]  # found: still one
    cancelled_to_none(conv, api, dynamodb)


@pytest.mark.parametrize("checked", [True, False])
def test_a_delete_whose_answer_was_lost_leaves_none(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any, checked: bool
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("ask pelvic ease to remind me every day at 8 pm")
    api.lose_next(method="DELETE", on=REMINDERS)  # deleted, and the answer never came
    if not checked:
        api.pass_next(method="GET", on=REMINDERS)  # the list before the delete
        api.fail_next(500, method="GET", on=REMINDERS)  # the list that would check it fails too
    reply = conv.say("ask pelvic ease to cancel my reminder")
    assert api.reminders == {}
    if checked:
        assert reply.text == LIB.say("reminder_cancelled")  # the list showed it gone
        assert stored(dynamodb).reminder is None
    else:
        assert reply.text == LIB.say("reminder_unavailable")
        cancelled_to_none(conv, api, dynamodb)  # asked again: gone, and forgotten


def test_a_reminder_whose_id_could_not_be_stored_is_neither_doubled_nor_left_behind(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any, faulty: FaultyClient
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    faulty.fail("put_item", FAULTS["internal-error"], times=None)
    reply = conv.say("remind me every day at 8 pm")
    conv.end_session()  # the session's end tries the write once more: it fails too
    faulty.clear()
    assert LIB.say("save_failed") in reply.text
    assert stored(dynamodb).reminder is None
    assert len(api.reminders) == 1
    again = conv.say("ask pelvic ease to remind me every day at 9 pm")  # the record knows no reminder
    assert again.text == LIB.say("reminder_set", time="9 p.m.")
    assert list(api.reminders) == [stored(dynamodb).reminder]  # the one there, moved
    assert api.calls("POST", REMINDERS)[1:] == []
    faulty.fail("put_item", FAULTS["internal-error"], times=1)  # the id forgotten again
    conv.say("ask pelvic ease to cancel my reminder")
    assert api.reminders == {}


def test_a_cancel_with_no_id_stored_removes_the_reminder_the_skill_has(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any, faulty: FaultyClient
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    faulty.fail("put_item", FAULTS["internal-error"], times=None)
    conv.say("remind me every day at 8 pm")
    conv.end_session()
    faulty.clear()
    assert stored(dynamodb).reminder is None
    status = conv.say("ask pelvic ease do I have a reminder")  # Alexa knows: the record learns its id
    assert status.text == LIB.say("reminder_status", time="8 p.m.")
    assert stored(dynamodb).reminder == next(iter(api.reminders))
    assert conv.say("ask pelvic ease to cancel my reminder").text == LIB.say("reminder_cancelled")
    assert api.reminders == {}


def test_a_create_whose_list_after_fails_is_still_a_reminder_set(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any
) -> None:
    conv = talk(skill, api, granted=True)
    api.pass_next(method="GET", on=REMINDERS)
    api.fail_next(500, method="GET", on=REMINDERS)  # the list after the create
    reply = conv.say("ask pelvic ease to remind me every day at 8 pm")
    assert reply.text == LIB.say("reminder_set", time="8 p.m.")  # the create's own answer said so
    assert list(api.reminders) == [stored(dynamodb).reminder]


def test_the_reminder_kept_is_the_records_else_the_oldest(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("ask pelvic ease to remind me every day at 8 pm")
    ours = str(stored(dynamodb).reminder)
    for token, created in (
        ("amzn1.alert.reminder.middle", "2026-01-02"),
        ("amzn1.alert.reminder.old", "2026-01-01"),
    ):
        api.reminders[token] = dict(api.reminders[ours])  # left by an older version of the skill
        api.created[token] = f"{created}T08:00:00.000Z"
    conv.say("ask pelvic ease to remind me every day at 9 pm")
    assert list(api.reminders) == [ours]  # the record's, moved: the others gone
    for token in ("amzn1.alert.reminder.middle", "amzn1.alert.reminder.old", "amzn1.alert.reminder.newest"):
        api.reminders[token] = dict(api.reminders[ours])
    api.created["amzn1.alert.reminder.newest"] = "2026-01-03T08:00:00.000Z"
    api.delete_in_app(ours)  # the record's is gone: of those left, the oldest is kept
    conv.say("ask pelvic ease to remind me every day at 7 pm")
    assert list(api.reminders) == ["amzn1.alert.reminder.old"]
    assert stored(dynamodb).reminder == "amzn1.alert.reminder.old"


def test_with_no_reminder_kept_and_none_possible_cancel_and_ask_say_there_is_none(
    skill: Handler, api: FakeAlexaApi
) -> None:
    for conv in (talk(skill, api), Conversation(skill)):  # no permission; no API in the request
        for asked in ("cancel my reminder", "do I have a reminder"):
            assert conv.say(f"ask pelvic ease to {asked}").text == LIB.say("reminder_none")
    assert api.calls(prefix=REMINDERS) == []


def test_two_consent_answers_at_once_make_one_reminder(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any
) -> None:
    # GIVEN the permission asked for on two devices of one user
    kitchen, bedroom = talk(skill, api), talk(skill, api)
    bedroom.user_id = kitchen.user_id
    for device in (kitchen, bedroom):
        assert device.say("ask pelvic ease to remind me every day at 8 pm").permission_request is not None
    # WHEN both answers arrive at once: both list the reminders before either makes one
    api.hold(2, method="GET", on=REMINDERS)
    replies: list[Reply] = []
    threads = [
        threading.Thread(target=lambda d=d: replies.append(d.consent("ACCEPTED"))) for d in (kitchen, bedroom)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # THEN both are told it is set, two were made and one is left: the one the record keeps
    assert [r.text for r in replies] == [LIB.say("reminder_set", time="8 p.m.")] * 2
    assert len(api.calls("POST", REMINDERS)) == 2
    assert list(api.reminders) == [stored(dynamodb).reminder]
    cancelled_to_none(kitchen, api, dynamodb)


# -- every failure gets a short answer, and nothing else is affected ------------------------------------
@pytest.mark.parametrize(
    ("status", "key"), [(403, "reminder_forbidden"), (429, "reminder_busy"), (500, "reminder_unavailable")]
)
def test_an_api_error_on_set_is_a_short_answer_and_the_routine_goes_on(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any, status: int, key: str
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    conv.say("massage my lower back")
    api.fail_next(status, on=REMINDERS)
    reply = conv.say("remind me every day at 8 pm")
    assert reply.text.startswith(LIB.say(key))
    assert reply.text.endswith(LIB.say("back_to_routine", routine="lower-back release"))
    assert reply.session_open
    assert (reply.card is not None) == (status == 403)
    assert stored(dynamodb).reminder is None
    assert stored(dynamodb).routine == "lower_back"  # the place is untouched
    assert "Step 2 of" in conv.say("next").text


@pytest.mark.parametrize("status", [400, 409])
def test_a_request_the_reminders_api_refuses_is_not_told_as_try_again_later(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any, status: int
) -> None:
    conv = talk(skill, api, granted=True)
    api.fail_next(status, method="POST", on=REMINDERS)
    reply = conv.say("ask pelvic ease to remind me every day at 8 pm")
    assert reply.text == LIB.say("reminder_refused")
    assert "try again" not in reply.text.lower()
    assert api.reminders == {}


def test_the_reminder_speaks_in_the_market_its_words_are_from(skill: Handler, api: FakeAlexaApi) -> None:
    # a device in a market we do not serve hears the en-US content: its reminder says so
    conv = Conversation(
        skill,
        model=exact_model(DEFAULT_SKILL_ID, "en-US"),
        locale="en-NZ",
        alexa_api=api,
        reminders_granted=True,
    )
    conv.say("ask pelvic ease to remind me every day at 8 pm")
    [created] = api.calls("POST", REMINDERS)
    assert created.body["alertInfo"]["spokenInfo"]["content"] == [
        {"locale": "en-US", "text": LIB.say("reminder_text")}
    ]


def test_a_401_asks_for_the_permission(skill: Handler, api: FakeAlexaApi) -> None:
    conv = talk(skill, api, granted=True)
    api.revoke()  # taken back in the Alexa app: the envelope still says granted
    reply = conv.say("ask pelvic ease to remind me every day at 8 pm")
    assert reply.permission_request is not None
    assert reply.permission_request["token"] == "daily-reminder:20:00"
    assert [r.method for r in api.calls(prefix=REMINDERS)] == ["GET"]  # the list was refused
    # the user gives it again by voice: the reminder is made
    again = conv.consent("ACCEPTED")
    assert again.text == LIB.say("reminder_set", time="8 p.m.")
    assert [r.method for r in api.calls("POST", REMINDERS)] == ["POST"]
    assert len(api.reminders) == 1


def test_still_refused_after_a_yes_the_alexa_app_not_a_second_question(
    skill: Handler, api: FakeAlexaApi
) -> None:
    conv = talk(skill, api)
    conv.say("ask pelvic ease to remind me every day at 8 pm")
    api.fail_next(401, on=REMINDERS)
    reply = conv.consent("ACCEPTED")
    assert reply.permission_request is None  # never a loop of questions
    assert reply.text == LIB.say("reminder_no_access")
    assert reply.card == {"type": "AskForPermissionsConsent", "permissions": [SCOPE]}


def test_a_time_out_is_a_short_answer_within_the_turn(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    api.delay_next(1.5, on="/v2/devices/")  # the time zone: answered after the client's 0.5 s
    started = datetime.now().timestamp()
    reply = conv.say("remind me every day at 8 pm")
    assert datetime.now().timestamp() - started < 1.4
    assert reply.text.startswith(LIB.say("reminder_no_zone"))  # never a reminder at a guessed hour
    assert api.calls(prefix=REMINDERS) == []
    api.delay_next(1.5, on=REMINDERS)  # now the create itself is late
    conv.drop_session()
    late = conv.say("ask pelvic ease to remind me every day at 8 pm")
    assert late.text == LIB.say("reminder_unavailable")
    assert stored(dynamodb).reminder is None


def test_cancelling_a_reminder_deleted_in_the_alexa_app_forgets_it(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("ask pelvic ease to remind me every day at 8 pm")
    api.delete_in_app(str(stored(dynamodb).reminder))
    assert conv.say("ask pelvic ease to cancel my reminder").text == LIB.say("reminder_cancelled")
    assert stored(dynamodb).reminder is None
    assert api.calls("DELETE") == []


@pytest.mark.parametrize(("status", "key"), [(429, "reminder_busy"), (500, "reminder_unavailable")])
def test_errors_on_change_cancel_and_ask_keep_the_reminder(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any, status: int, key: str
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("ask pelvic ease to remind me every day at 8 pm")
    token = stored(dynamodb).reminder
    for asked in ("change my reminder to 9 pm", "cancel my reminder", "do I have a reminder"):
        api.fail_next(status, on=REMINDERS)
        assert conv.say(f"ask pelvic ease to {asked}").text == LIB.say(key), asked
        assert stored(dynamodb).reminder == token


def test_no_api_in_the_envelope_means_no_call_and_a_short_answer(skill: Handler, api: FakeAlexaApi) -> None:
    conv = Conversation(skill)  # a device whose request names no API endpoint
    assert conv.say("ask pelvic ease to remind me every day at 8 pm").text == LIB.say("reminder_unavailable")
    assert api.requests == []


# -- the one-time offer ----------------------------------------------------------------------------------
def test_the_offer_comes_after_the_second_finished_routine_and_never_again_after_a_no(
    skill: Handler, api: FakeAlexaApi, clock: Clock, dynamodb: Any
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    first = routine_to_end(conv)
    assert first.text.endswith(LIB.say("another_offer"))  # one finished routine: no offer yet
    conv.say("no")
    clock.advance(days=1)
    conv.say("open pelvic ease")
    second = routine_to_end(conv)
    assert second.text.endswith(LIB.say("reminder_offer"))
    assert second.reprompt.words_only == LIB.say("reminder_offer_reprompt")
    declined = conv.say("no")
    assert declined.text == f"{LIB.say('reminder_declined')} {LIB.say('another_offer')}"
    assert stored(dynamodb).reminder_declined == 1
    conv.say("no")
    clock.advance(days=1)
    conv.say("open pelvic ease")
    assert routine_to_end(conv).text.endswith(LIB.say("another_offer"))
    assert api.calls(prefix=REMINDERS) == []


def test_yes_to_the_offer_asks_the_time_then_sets_it_and_it_is_not_offered_again(
    skill: Handler, api: FakeAlexaApi, clock: Clock, dynamodb: Any
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    routine_to_end(conv)
    conv.say("massage my inner thighs")
    while not conv.replies[-1].text.endswith(LIB.say("reminder_offer")):
        conv.say("next")
    assert conv.say("yes").text == LIB.say("reminder_ask_time")
    done = conv.say("8 pm")
    assert done.text == f"{LIB.say('reminder_set', time='8 p.m.')} {LIB.say('another_offer')}"
    assert stored(dynamodb).reminder is not None
    conv.say("no")
    clock.advance(days=1)
    conv.say("open pelvic ease")
    assert routine_to_end(conv).text.endswith(LIB.say("another_offer"))
    assert len(api.calls("POST", REMINDERS)) == 1


def test_no_offer_where_the_reminders_api_cannot_be_reached(skill: Handler, clock: Clock) -> None:
    conv = Conversation(skill)
    for _ in range(2):
        conv.say("open pelvic ease")
        last = routine_to_end(conv)
        conv.say("no")
        clock.advance(days=1)
    assert last.text.endswith(LIB.say("another_offer"))


# -- the user's own days ------------------------------------------------------------------------------------
@pytest.mark.parametrize("zone", ["Australia/Sydney", "America/Los_Angeles"])
def test_a_streak_across_midnight_is_counted_in_the_users_days(
    skill: Handler, api: FakeAlexaApi, clock: Clock, dynamodb: Any, zone: str
) -> None:
    # GIVEN a device in ``zone``, a routine finished at 23:30 local time ...
    api.time_zone = zone
    clock.now = datetime(2026, 11, 20, 23, 30, tzinfo=ZoneInfo(zone)).timestamp()
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    routine_to_end(conv)
    conv.say("no")
    # ... and another an hour later: the same UTC day, but the next day where the user lives
    clock.advance(hours=1)
    conv.say("open pelvic ease")
    end = routine_to_end(conv)
    assert LIB.say("streak_at_end", streak=2) in end.text
    local = (
        datetime(2026, 11, 20, tzinfo=ZoneInfo(zone)).date().toordinal() - datetime(1970, 1, 1).toordinal()
    )
    assert stored(dynamodb).days == (local, local + 1)
    conv.say("no")
    conv.say("open pelvic ease")
    report = conv.say("what's my streak")
    assert report.text.startswith(
        f"{LIB.say('report', week=2, total=2)} {LIB.say('report_streak', streak=2)}"
    )
    # the time zone is read at most once a session
    sessions = sum(1 for reply in conv.replies if reply.request.get("session", {}).get("new"))
    zone_reads = api.calls("GET", "/v2/devices/")
    assert 1 <= len(zone_reads) <= sessions
    assert all(read.path == f"/v2/devices/{conv.device_id}/settings/System.timeZone" for read in zone_reads)


def test_the_time_zone_is_read_once_a_session_and_a_failure_falls_back(
    skill: Handler, api: FakeAlexaApi, clock: Clock, dynamodb: Any
) -> None:
    api.time_zone = "Australia/Sydney"
    # 23:30 in New York (the en-US fallback) is already the next day in Sydney
    clock.now = datetime(2026, 11, 20, 23, 30, tzinfo=ZoneInfo("America/New_York")).timestamp()
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    api.fail_next(500, on="/v2/devices/")  # the settings API fails: the locale's usual zone is used
    routine_to_end(conv)
    conv.say("how am I doing")
    new_york = datetime(2026, 11, 20).toordinal() - datetime(1970, 1, 1).toordinal()
    assert stored(dynamodb).days == (new_york,)
    assert len(api.calls("GET", "/v2/devices/")) == 1  # the failure is not retried this session


# -- secrets ---------------------------------------------------------------------------------------------
def test_the_access_and_consent_tokens_never_reach_a_log_line(
    skill: Handler, api: FakeAlexaApi, capsys: pytest.CaptureFixture[str]
) -> None:
    with captured_logs() as stream:
        conv = talk(skill, api)
        conv.say("ask pelvic ease to remind me every day at 8 pm")
        conv.consent("ACCEPTED")
        for status in (401, 403, 429, 500):
            api.fail_next(status, on=REMINDERS)
            conv.say("ask pelvic ease to change my reminder to 9 pm")
        api.delay_next(1.0, on=REMINDERS)
        conv.say("ask pelvic ease do I have a reminder")
    text = stream.getvalue() + capsys.readouterr().out
    assert "Alexa API call failed" in text  # the failures were logged ...
    for secret in (api.access_token, CONSENT_TOKEN, "Bearer"):
        assert secret not in text  # ... without the tokens


# -- the pieces -------------------------------------------------------------------------------------------
def test_the_api_client_refuses_plain_http_and_has_a_time_out() -> None:
    client = TimedApiClient()
    assert client.total_seconds == API_SECONDS <= 2.0  # the whole call, by the wall clock
    with pytest.raises(ApiClientException, match="non-HTTPS"):
        client.invoke(
            ApiClientRequest(url="http://127.0.0.1:9/v1/alerts/reminders", method="GET", headers=[])
        )


def test_an_answer_that_trickles_in_is_cut_off_at_the_calls_deadline(api: FakeAlexaApi) -> None:
    # GIVEN an answer sent a byte at a time: every socket read gets a byte well inside any
    # read time-out, and the whole answer would take seconds
    api.grant()
    api.reminders["amzn1.alert.reminder.1"] = {
        "trigger": {"type": "SCHEDULED_ABSOLUTE"},
        "padding": "x" * 100,
    }
    api.trickle_next(0.05)
    client = TimedApiClient(ca_certs=api.ca_path, total_seconds=0.5)
    request = ApiClientRequest(
        url=f"{api.url}{REMINDERS}/amzn1.alert.reminder.1",
        method="GET",
        headers=[("Authorization", f"Bearer {api.access_token}")],
    )
    started = time.monotonic()
    # WHEN it is read, THEN the call ends at its deadline, for the whole call
    with pytest.raises(ApiClientException, match="no answer from the Alexa API"):
        client.invoke(request)
    assert time.monotonic() - started < 0.5 + 0.4
    started = time.monotonic()
    assert client.invoke(request).status_code == 200  # and the next call is whole, and no slower:
    assert time.monotonic() - started < 0.5  # its watchdog ends with it
    assert DEADLINE_THREAD not in [t.name for t in threading.enumerate()]  # none left waiting


def test_a_reminder_read_back_gives_its_time() -> None:
    rule = {"trigger": {"recurrence": {"recurrenceRules": ["FREQ=DAILY;BYHOUR=7;BYMINUTE=5;BYSECOND=0"]}}}
    assert reminder_time(rule) == DailyTime(7, 5)
    assert reminder_time({"trigger": {"scheduledTime": "2026-11-20T19:45:00.000"}}) == DailyTime(19, 45)
    assert reminder_time({"trigger": {"recurrence": {"recurrenceRules": ["FREQ=WEEKLY;BYDAY=MO"]}}}) is None
    assert reminder_time("not a reminder") is None
    assert DailyTime.from_consent_token("daily-reminder:25:00") is None
    assert DailyTime.parse("EV") is None


@pytest.mark.parametrize(
    ("said", "sent"),
    [("8 pm", "20:00"), ("eight p.m.", "20:00"), ("7 30 am", "07:30"), ("noon", "12:00"), ("12 am", "00:00"),
     ("in the evening", "EV"), ("seven", None), ("twenty minutes", None), ("13 00", "13:00"),
     ("half past eight at night", "20:30"), ("quarter to seven am", "06:45"), ("quarter past 12 pm", "12:15"),
     ("quarter to one pm", "12:45"), ("half past eight thirty", None), ("half past 14", None)],
)  # fmt: skip
def test_the_driver_sends_times_as_alexa_does(said: str, sent: str | None) -> None:
    assert time_value(said) == sent


@pytest.mark.parametrize("locale", ["en-GB", "en-AU", "en-IN", "en-CA"])
def test_each_locale_sets_its_reminder_in_its_own_words(
    skill: Handler, api: FakeAlexaApi, clock: Clock, locale: str
) -> None:
    conv = talk(skill, api, granted=True, locale=locale)
    reply = conv.say("ask pelvic ease to remind me every day at 8 pm")
    assert reply.text == default_library(locale).say("reminder_set", time="8 p.m.")
    [created] = api.calls("POST", REMINDERS)
    assert created.body == reminder_body(clock, "America/Los_Angeles", 20, locale=locale)
    assert "practise" in created.body["alertInfo"]["spokenInfo"]["content"][0]["text"]


def test_a_call_is_not_started_without_time_left_in_the_turn(
    skill: Handler, api: FakeAlexaApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    # 3 s left: a call of up to 2 s, the write after it and the reserve to speak do not fit
    monkeypatch.setattr(LambdaContext, "get_remaining_time_in_millis", lambda self: 3_000)
    reply = conv.say("remind me every day at 8 pm")
    assert reply.text.startswith(LIB.say("reminder_no_zone"))
    assert api.requests == []


def test_with_the_time_zone_known_a_call_still_waits_for_time_left_in_the_turn(
    skill: Handler, api: FakeAlexaApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    routine_to_end(conv)  # counting the day read the time zone, kept for the session
    assert len(api.requests) == 1
    monkeypatch.setattr(LambdaContext, "get_remaining_time_in_millis", lambda self: 3_000)
    reply = conv.say("remind me every day at 8 pm")
    assert reply.text == f"{LIB.say('reminder_unavailable')} {LIB.say('another_offer')}"
    assert reply.session_open
    assert len(api.requests) == 1  # no call to the Reminders API was started


def test_a_time_zone_in_the_session_that_is_no_zone_is_not_used(
    skill: Handler, api: FakeAlexaApi, clock: Clock, dynamodb: Any
) -> None:
    # 23:30 in New York (the en-US fallback) is the next day in UTC
    clock.now = datetime(2026, 11, 20, 23, 30, tzinfo=ZoneInfo("America/New_York")).timestamp()
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    conv.session_attributes["zone"] = "Nowhere/Atlantis"  # a session attribute tampered with
    end = routine_to_end(conv)
    assert end.text.endswith(LIB.say("another_offer"))
    new_york = datetime(2026, 11, 20).toordinal() - datetime(1970, 1, 1).toordinal()
    assert stored(dynamodb).days == (new_york,)


def test_a_scope_the_user_denied_is_asked_for_again(
    skill: Handler, api: FakeAlexaApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    conv = talk(skill, api, granted=True)
    original = conv.envelope

    def denied(request: dict[str, Any]) -> dict[str, Any]:
        envelope = original(request)
        envelope["context"]["System"]["user"]["permissions"]["scopes"][SCOPE] = {"status": "DENIED"}
        return envelope

    monkeypatch.setattr(conv, "envelope", denied)
    assert conv.say("ask pelvic ease to remind me every day at 8 pm").permission_request is not None
    assert api.calls(prefix=REMINDERS) == []


def test_a_time_zone_this_runtime_does_not_know_is_not_used(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any
) -> None:
    api.time_zone = "Mars/Olympus_Mons"
    conv = talk(skill, api, granted=True)
    assert conv.say("ask pelvic ease to remind me every day at 8 pm").text == LIB.say("reminder_no_zone")
    assert api.calls(prefix=REMINDERS) == []


def test_an_empty_answer_reaches_the_sdk_as_no_body(api: FakeAlexaApi) -> None:
    api.grant()
    api.reminders["amzn1.alert.reminder.1"] = {"trigger": {"type": "SCHEDULED_ABSOLUTE"}}
    client = TimedApiClient(ca_certs=api.ca_path)
    answer = client.invoke(
        ApiClientRequest(
            url=f"{api.url}{REMINDERS}/amzn1.alert.reminder.1",
            method="DELETE",
            headers=[("Authorization", f"Bearer {api.access_token}")],
        )
    )
    assert (answer.status_code, answer.body) == (200, None)


def test_a_failure_answering_the_permission_is_spoken(
    skill: Handler, api: FakeAlexaApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    conv = talk(skill, api)
    conv.say("ask pelvic ease to remind me every day at 8 pm")
    monkeypatch.setattr(AlexaReminders, "put", lambda *args: 1 / 0)
    reply = conv.consent("ACCEPTED")
    assert reply.text == LIB.say("error")


def test_a_failed_call_names_no_token(api: FakeAlexaApi) -> None:
    api.delay_next(1.0)
    client = TimedApiClient(ca_certs=api.ca_path, total_seconds=0.3)
    request = ApiClientRequest(
        url=f"{api.url}{REMINDERS}", method="GET", headers=[("Authorization", f"Bearer {api.access_token}")]
    )
    with pytest.raises(ApiClientException) as failure:
        client.invoke(request)
    assert "no answer from the Alexa API" in str(failure.value)
    assert api.access_token not in str(failure.value)


def test_a_year_of_practice_with_the_longest_reminder_id_stays_one_write_unit() -> None:
    start = 1_795_000_000
    longest_zone = max(available_timezones(), key=len)
    progress = Progress(
        disclaimer_version=1, pace="slow", reminder="r" * MAX_ALERT, reminder_declined=1, zone=longest_zone
    )
    for day in range(365):
        progress = Change(start + day * DAY, moved=True, completed="daily_massage", day=day).applied_to(
            progress
        )
    item = encode(progress.to_dict()) | {
        "user_id": {"S": "f" * 64},
        "profile": {"S": "person-" + "f" * 64},
        "expires_at": {"N": str(start + 400 * DAY)},
    }
    assert dynamodb_item_size(item) < 1024
    assert Progress.from_dict(decode(item)) == progress
    assert Progress.salvaged({**progress.to_dict(), "reminder": "r" * (MAX_ALERT + 1)})[1] == ["reminder"]


def test_an_unsaved_reminder_change_survives_the_session() -> None:
    for change in (
        Change(1_795_000_000, reminder="amzn1.alert.reminder.1"),
        Change(1_795_000_000, forget_reminder=True, decline_reminder=True),
        Change(1_795_000_000, moved=True, completed="down_training", practised=True, day=20_775),
    ):
        assert Change.from_dict(json.loads(json.dumps(change.to_dict()))) == change


# -- the last known time zone (issue 25) -------------------------------------------------------------
def relaxation(library: AudioLibrary) -> Track:
    tracks = library.tracks("en-US")
    track = tracks.get("down_training", "normal", 10) if tracks is not None else None
    assert track is not None
    return track


def day_number(when: datetime) -> int:
    return when.date().toordinal() - datetime(1970, 1, 1).toordinal()


def test_a_failed_time_zone_read_counts_the_day_in_the_last_known_zone(
    skill: Handler, api: FakeAlexaApi, clock: Clock, dynamodb: Any
) -> None:
    # GIVEN a user in Tokyo who practised at 8 pm (the zone read, and kept in the record)
    tokyo = ZoneInfo("Asia/Tokyo")
    api.time_zone = "Asia/Tokyo"
    clock.now = datetime(2026, 11, 20, 20, 0, tzinfo=tokyo).timestamp()
    conv = talk(skill, api)
    conv.say("open pelvic ease")
    routine_to_end(conv)
    conv.say("no")
    assert stored(dynamodb).zone == "Asia/Tokyo"
    # WHEN they practise at 8 the next morning and the settings API fails (still the 20th in
    # New York, the en-US stand-in)
    clock.now = datetime(2026, 11, 21, 8, 0, tzinfo=tokyo).timestamp()
    conv.say("open pelvic ease")
    api.fail_next(500, on="/v2/devices/")
    end = routine_to_end(conv)
    # THEN the day is theirs: two days, a streak of two
    day = day_number(datetime(2026, 11, 20))
    assert stored(dynamodb).days == (day, day + 1)
    assert LIB.say("streak_at_end", streak=2) in end.text


def test_a_failed_time_zone_read_is_tried_once_more_when_a_reminder_needs_it(
    skill: Handler, api: FakeAlexaApi, dynamodb: Any
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    api.fail_next(500, on="/v2/devices/")
    routine_to_end(conv)  # the day's read fails: the locale's zone stands in
    reply = conv.say("remind me every day at 8 pm")  # later in the session: read again
    assert reply.text.startswith(LIB.say("reminder_set", time="8 p.m."))
    [created] = api.calls("POST", REMINDERS)
    assert created.body["trigger"]["timeZoneId"] == "America/Los_Angeles"
    assert len(api.calls("GET", "/v2/devices/")) == 2


def test_a_time_zone_read_that_fails_again_is_not_tried_a_third_time_in_the_session(
    skill: Handler, api: FakeAlexaApi
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    api.fail_next(500, times=2, on="/v2/devices/")
    routine_to_end(conv)
    assert conv.say("remind me every day at 8 pm").text.startswith(LIB.say("reminder_no_zone"))
    assert conv.say("remind me every day at 8 pm").text.startswith(LIB.say("reminder_no_zone"))
    assert len(api.calls("GET", "/v2/devices/")) == 2  # the day's read, and one more


def test_a_locale_we_do_not_serve_counts_days_in_utc(skill: Handler, clock: Clock, dynamodb: Any) -> None:
    # 23:30 in New York (en-US's stand-in) is already the next day in UTC
    clock.now = datetime(2026, 11, 20, 23, 30, tzinfo=ZoneInfo("America/New_York")).timestamp()
    conv = Conversation(skill, model=exact_model(DEFAULT_SKILL_ID, "en-US"), locale="fr-FR")
    conv.say("open pelvic ease")
    routine_to_end(conv)
    assert stored(dynamodb).days == (day_number(datetime(2026, 11, 21)),)


@pytest.fixture
def played_skill(
    table: DynamoTable, clock: Clock, api: FakeAlexaApi, audio_library: AudioLibrary
) -> Iterator[Handler]:
    """The real handler with the rendered audio and the fake Alexa APIs (time-out 0.5 s)."""
    client = TimedApiClient(ca_certs=api.ca_path, total_seconds=0.5)
    settings = Settings(table_name=TABLE_NAME, skill_id=DEFAULT_SKILL_ID)
    use_skill(build_skill(settings, table=table, clock=clock, api_client=client, audio=audio_library))
    yield app.lambda_handler
    use_skill(None)


def test_a_played_routines_end_short_of_time_is_stored_without_asking_the_time_zone(
    played_skill: Handler,
    *,
    api: FakeAlexaApi,
    clock: Clock,
    dynamodb: Any,
    audio_library: AudioLibrary,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a relaxation played into its last file; the record keeps no time zone yet
    conv = Conversation(played_skill, alexa_api=api, player=Player(clock))
    conv.say("ask pelvic ease for a ten minute relaxation")
    track = relaxation(audio_library)
    conv.wait((track.ms - track.files[-1].ms) / 1000 + 10)
    assert stored(dynamodb).zone is None
    # WHEN its end comes to a turn with 4.5 s left, and a read of the time zone would take 2 s
    api.delay_next(1.0, on="/v2/devices/")
    monkeypatch.setattr(
        LambdaContext,
        "get_remaining_time_in_millis",
        lambda self: 4_500 - 2_000 * len(api.calls("GET", "/v2/devices/")),
    )
    conv.wait(track.ms / 1000)
    # THEN the read is not made (the write after it would not fit): the end is stored
    assert api.calls("GET", "/v2/devices/") == []
    assert stored(dynamodb).completed == {"down_training": 1}


def test_a_players_report_counts_its_day_in_the_records_zone_without_asking(
    played_skill: Handler, api: FakeAlexaApi, clock: Clock, dynamodb: Any, audio_library: AudioLibrary
) -> None:
    api.time_zone = "Asia/Tokyo"
    conv = Conversation(played_skill, alexa_api=api, player=Player(clock))
    conv.say("open pelvic ease")
    routine_to_end(conv)  # the day read the zone: the record keeps it
    conv.say("no")
    assert stored(dynamodb).zone == "Asia/Tokyo"
    reads = len(api.calls("GET", "/v2/devices/"))
    clock.now = datetime(2026, 11, 21, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo")).timestamp()
    conv.say("ask pelvic ease for a ten minute relaxation")
    conv.wait(relaxation(audio_library).ms / 1000 + 30)
    assert len(api.calls("GET", "/v2/devices/")) == reads  # the reports asked nothing
    assert day_number(datetime(2026, 11, 21)) in stored(dynamodb).days


def test_a_kept_time_zone_this_runtime_does_not_know_is_not_used(
    skill: Handler, api: FakeAlexaApi, clock: Clock, dynamodb: Any
) -> None:
    # 23:30 in New York (the en-US fallback) is the next day in UTC
    clock.now = datetime(2026, 11, 20, 23, 30, tzinfo=ZoneInfo("America/New_York")).timestamp()
    conv = talk(skill, api)
    conv.say("open pelvic ease")
    conv.end_session()
    item = stored_items(dynamodb)[0]
    item["zone"] = {"S": "Nowhere/Atlantis"}  # kept by an older runtime, unknown to this one
    dynamodb.put_item(TableName=TABLE_NAME, Item=item)
    conv.say("open pelvic ease")
    api.fail_next(500, on="/v2/devices/")
    end = routine_to_end(conv)
    assert end.text.endswith(LIB.say("another_offer"))
    assert stored(dynamodb).days == (day_number(datetime(2026, 11, 20)),)


def test_the_core_where_no_api_can_be_reached_has_no_reminder_to_cancel_or_read() -> None:
    from pelvic_ease import dialogue  # noqa: PLC0415
    from pelvic_ease.engine import Engine  # noqa: PLC0415

    for said in (dialogue.CANCEL_REMINDER, dialogue.REMINDER_STATUS):
        facts = dialogue.Facts(Progress(), 1_795_000_000)  # the port: NoReminders
        outcome = dialogue.decide(Engine(LIB), dialogue.State(), dialogue.Heard(said), facts)
        assert " ".join(getattr(part, "text", "") for part in outcome.speech).startswith(
            LIB.say("reminder_none")
        )
