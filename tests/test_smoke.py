from sim.driver import Conversation


def test_first_launch_plays_disclaimer_then_menu(conv: Conversation) -> None:
    reply = conv.say("open pelvic ease")
    assert "not medical advice" in reply.text
    assert reply.session_open
