"""Render the routines to audio for AudioPlayer: script → speech clips → stitched PCM → MP3."""
