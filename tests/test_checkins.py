"""Check-in reminders through the day (issue 28), through the real lambda_handler.

The Alexa APIs are the local fake on 127.0.0.1 (sim/alexa_api.py) over HTTPS, as in
tests/test_reminders.py: assertions are on what the user hears, the permission request, what
is stored, and the requests the fake received (their bodies printed, to be quoted).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pelvic_ease.content import default_library, load_library
from pelvic_ease.dialogue import spoken_times
from pelvic_ease.markets import LOCALES
from pelvic_ease.reminders import DailyTime
from sim.alexa_api import FakeAlexaApi
from sim.driver import Clock, Conversation, Resolved
from tests.conftest import stored_items
from tests.support import TABLE_NAME
from tests.test_reminders import REMINDERS, SCOPE, Handler, reminder_body, stored, talk

LIB = load_library()
DEFAULTS = (DailyTime(10, 30), DailyTime(14, 0), DailyTime(18, 0))


def checkin_body(
    clock: Clock, zone: str, hour: int, minute: int = 0, locale: str = "en-US"
) -> dict[str, Any]:
    """The body the skill must send for one check-in: every day at hour:minute in ``zone``."""
    return reminder_body(clock, zone, hour, minute, locale, text="checkin_reminder_text")


def times_of(api: FakeAlexaApi) -> list[str]:
    """The times of the reminders the fake holds, in the day's order."""
    return sorted(r["trigger"]["recurrence"]["recurrenceRules"][0] for r in api.reminders.values())


def rule(hour: int, minute: int = 0) -> str:
    return f"FREQ=DAILY;BYHOUR={hour};BYMINUTE={minute};BYSECOND=0"


def said(*times: DailyTime) -> str:
    return spoken_times(LIB, times)


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Kolkata"])
def test_three_a_day_offered_consent_asked_and_given_then_created_in_the_users_zone(
    api: FakeAlexaApi, clock: Clock, dynamodb: Any, skill: Handler, zone: str
) -> None:
    api.time_zone = zone
    conv = talk(skill, api)
    conv.say("open pelvic ease")
    # GIVEN no times said: the usual three are offered, and nothing is called yet
    offer = conv.say("remind me to check in three times a day")
    assert offer.text == LIB.say("checkins_offer", times=said(*DEFAULTS))
    assert offer.text.endswith("at 10:30 a.m., 2 p.m., and 6 p.m.? Shall I set that up?")
    assert offer.session_open
    assert api.calls(prefix=REMINDERS) == []
    # WHEN yes: without the permission, Alexa is asked to ask for it (the times in the token)
    asked = conv.say("yes")
    assert asked.permission_request is not None
    assert asked.permission_request["token"] == "check-ins:10:30,14:00,18:00"
    assert asked.permission_request["payload"]["permissionScopes"] == [
        {"permissionScope": SCOPE, "consentLevel": "ACCOUNT"}
    ]
    assert api.calls(prefix=REMINDERS) == []
    # THEN the user's yes to Alexa makes one reminder at each time, in the device's zone
    done = conv.consent("ACCEPTED")
    assert done.text == LIB.say("checkins_set", times=said(*DEFAULTS))
    created = api.calls("POST", REMINDERS)
    assert [c.body for c in created] == [
        checkin_body(clock, zone, 10, 30),
        checkin_body(clock, zone, 14),
        checkin_body(clock, zone, 18),
    ]
    assert set(stored(dynamodb).checkins) == set(api.reminders)
    assert stored(dynamodb).reminder is None  # the daily reminder is another thing
    for body in (c.body for c in created):
        print(f"create ({zone}):", json.dumps(body))


def test_times_said_are_set_at_once_and_asking_again_never_doubles_them(
    api: FakeAlexaApi, clock: Clock, dynamodb: Any, skill: Handler
) -> None:
    conv = talk(skill, api, granted=True)
    first = conv.say("ask pelvic ease to remind me to check in at 10 am and 3 pm")
    assert first.text == LIB.say("checkins_set", times=said(DailyTime(10, 0), DailyTime(15, 0)))
    assert times_of(api) == [rule(10), rule(15)]
    again = conv.say("ask pelvic ease to remind me to check in at 10 am and 3 pm")
    assert again.text == first.text
    assert len(api.calls("POST", REMINDERS)) == 2  # listed first: both there, nothing made
    assert api.calls("PUT") == []
    # a third time, and one moved: the one at 10 moves to 9, one is made at 8 p.m.
    moved = conv.say("ask pelvic ease to remind me to check in at 9 am and 3 pm and 8 pm")
    assert moved.text == LIB.say(
        "checkins_set", times=said(DailyTime(9, 0), DailyTime(15, 0), DailyTime(20, 0))
    )
    assert times_of(api) == [rule(15), rule(20), rule(9)]
    assert len(api.calls("PUT")) == 1
    assert api.calls("PUT")[0].body == checkin_body(clock, "America/Los_Angeles", 9)
    assert set(stored(dynamodb).checkins) == set(api.reminders)


def test_what_reminders_do_i_have_lists_the_daily_one_and_the_checkins(
    api: FakeAlexaApi, dynamodb: Any, skill: Handler
) -> None:
    conv = talk(skill, api, granted=True)
    none = conv.say("ask pelvic ease what reminders do I have")
    assert none.text == LIB.say("reminder_none")
    conv.say("ask pelvic ease to remind me to check in at 11 am and 4 pm")
    conv.say("ask pelvic ease to remind me every day at 8 pm")  # the check-ins are not the daily one
    assert len(api.reminders) == 3
    api.clear()
    listed = conv.say("ask pelvic ease what reminders do I have")
    assert listed.text == " ".join(
        [
            LIB.say("reminder_status", time="8 p.m."),
            LIB.say("checkins_status", times=said(DailyTime(11, 0), DailyTime(16, 0))),
        ]
    )
    assert [(r.method, r.path) for r in api.calls()] == [("GET", REMINDERS)]  # one list for both
    assert stored(dynamodb).reminder is not None
    assert len(stored(dynamodb).checkins) == 2


def test_cancel_my_checkins_removes_them_all_and_the_daily_reminder_stays(
    api: FakeAlexaApi, dynamodb: Any, skill: Handler
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("ask pelvic ease to remind me every day at 8 pm")
    daily = stored(dynamodb).reminder
    conv.say("ask pelvic ease to remind me to check in three times a day")
    conv.say("yes")
    assert len(api.reminders) == 4
    cancelled = conv.say("ask pelvic ease to cancel my check ins")
    assert cancelled.text == LIB.say("checkins_cancelled")
    assert list(api.reminders) == [daily]  # only the check-ins went
    assert len(api.calls("DELETE")) == 3
    assert stored(dynamodb).checkins == ()
    assert stored(dynamodb).reminder == daily
    assert conv.say("ask pelvic ease to stop the check in reminders").text == LIB.say("checkins_none")
    assert list(api.reminders) == [daily]
    # and the other way round: cancelling the daily reminder leaves the check-ins
    conv.say("ask pelvic ease to remind me to check in at 10 am")
    assert conv.say("ask pelvic ease to cancel my reminder").text == LIB.say("reminder_cancelled")
    assert list(api.reminders) == list(stored(dynamodb).checkins)
    assert stored(dynamodb).reminder is None


def test_a_create_whose_answer_was_lost_is_found_not_made_again(
    api: FakeAlexaApi, dynamodb: Any, skill: Handler
) -> None:
    conv = talk(skill, api, granted=True)
    api.lose_next(method="POST", on=REMINDERS)  # made, and the answer never came
    reply = conv.say("ask pelvic ease to remind me to check in at 10 am and 3 pm")
    assert reply.text == LIB.say("checkins_set", times=said(DailyTime(10, 0), DailyTime(15, 0)))
    assert times_of(api) == [rule(10), rule(15)]  # the list after the creates found it
    assert set(stored(dynamodb).checkins) == set(api.reminders)
    conv.say("ask pelvic ease to remind me to check in at 10 am and 3 pm")
    assert len(api.reminders) == 2


def test_checkins_whose_ids_were_not_stored_are_known_by_their_words(
    api: FakeAlexaApi, dynamodb: Any, skill: Handler
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("ask pelvic ease to remind me to check in at 10 am and 3 pm")
    conv.say("ask pelvic ease to remind me every day at 8 pm")
    dynamodb.delete_item(TableName=TABLE_NAME, Key=stored_key(dynamodb))  # the record lost
    listed = conv.say("ask pelvic ease what reminders do I have")
    assert listed.text.endswith(LIB.say("checkins_status", times=said(DailyTime(10, 0), DailyTime(15, 0))))
    assert listed.text.startswith(LIB.say("reminder_status", time="8 p.m."))
    assert len(stored(dynamodb).checkins) == 2
    assert conv.say("ask pelvic ease to cancel my check ins").text == LIB.say("checkins_cancelled")
    assert len(api.reminders) == 1


def stored_key(dynamodb: Any) -> dict[str, Any]:
    [item] = stored_items(dynamodb)
    key = dynamodb.describe_table(TableName=TABLE_NAME)["Table"]["KeySchema"]
    return {k["AttributeName"]: item[k["AttributeName"]] for k in key}


@pytest.mark.parametrize(
    "utterance", ["remind me to check in eleven times a day", "remind me to check in zero times a day"]
)
def test_too_many_a_day_is_said_and_three_are_offered(
    api: FakeAlexaApi, skill: Handler, utterance: str
) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    reply = conv.say(utterance)
    assert reply.text == f"{LIB.say('checkins_at_most')} {LIB.say('checkins_offer', times=said(*DEFAULTS))}"
    assert reply.session_open
    assert api.calls(prefix=REMINDERS) == []
    assert conv.say("no").text.startswith(LIB.say("checkins_not_now"))
    assert api.reminders == {}


def test_a_time_said_wrong_is_said_and_the_usual_times_are_offered(api: FakeAlexaApi, skill: Handler) -> None:
    conv = talk(skill, api, granted=True)
    conv.say("open pelvic ease")
    slots = {
        "count": {"name": "count", "confirmationStatus": "NONE"},
        "time": {"name": "time", "value": "10:00", "confirmationStatus": "NONE", "source": "USER"},
        "second": {"name": "second", "value": "XXXX-WE", "confirmationStatus": "NONE", "source": "USER"},
        "third": {"name": "third", "confirmationStatus": "NONE"},
    }
    reply = conv.intent_request(Resolved("SetCheckInsIntent", slots))
    offered = (DailyTime(11, 0), DailyTime(16, 0))  # two said: the usual two
    assert (
        reply.text == f"{LIB.say('checkins_time_unclear')} {LIB.say('checkins_offer', times=said(*offered))}"
    )
    assert api.calls(prefix=REMINDERS) == []
    done = conv.say("yes")
    assert done.text.startswith(LIB.say("checkins_set", times=said(*offered)))
    assert times_of(api) == [rule(11), rule(16)]


def test_a_part_of_the_day_is_its_usual_time(api: FakeAlexaApi, skill: Handler) -> None:
    conv = talk(skill, api, granted=True)
    reply = conv.say("ask pelvic ease to remind me to check in in the morning and in the evening")
    assert reply.text == LIB.say("checkins_set", times=said(DailyTime(10, 30), DailyTime(18, 0)))


def test_consent_denied_sets_nothing(api: FakeAlexaApi, dynamodb: Any, skill: Handler) -> None:
    conv = talk(skill, api)
    conv.say("ask pelvic ease to remind me to check in at 10 am and 3 pm")
    assert conv.replies[-1].permission_request is not None
    assert conv.consent("DENIED").text == LIB.say("reminder_permission_denied")
    assert api.calls(prefix=REMINDERS) == []


def test_an_api_error_is_a_short_answer_and_nothing_is_stored(
    api: FakeAlexaApi, dynamodb: Any, skill: Handler
) -> None:
    conv = talk(skill, api, granted=True)
    api.fail_next(429, on=REMINDERS)
    reply = conv.say("ask pelvic ease to remind me to check in at 10 am")
    assert reply.text == LIB.say("reminder_busy")
    assert stored_items(dynamodb) == [] or stored(dynamodb).checkins == ()


@pytest.mark.parametrize("locale", LOCALES)
def test_each_markets_checkin_says_a_checkin_in_one_sentence_and_how_to_open_one(
    api: FakeAlexaApi, clock: Clock, skill: Handler, locale: str
) -> None:
    text = default_library(locale).say("checkin_reminder_text")
    check_in, how = text.split(". ", 1)
    assert "pelvic floor" in check_in
    assert "." not in check_in  # a check-in in one sentence
    assert how.endswith("Alexa, ask Pelvic Ease for a check-in.")
    assert len(text) <= 200  # short: Alexa says it twice, and shows it in the Alexa app
    conv = Conversation(skill, alexa_api=api, reminders_granted=True, locale=locale)
    conv.say("ask pelvic ease to remind me to check in at 10 am")
    [created] = api.calls("POST", REMINDERS)
    assert created.body == checkin_body(clock, "America/Los_Angeles", 10, locale=locale)
