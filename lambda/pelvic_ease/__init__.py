"""Pelvic Ease: a voice-guided pelvic relaxation and self-massage Alexa skill."""
