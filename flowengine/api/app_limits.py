"""Limits every request is held to."""

#: the largest request body accepted (a bundle of big scenarios, a prompt WAV)
MAX_BODY = 8 * 1024 * 1024
