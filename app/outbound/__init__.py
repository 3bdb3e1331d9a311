"""Talking to other systems (foundation): connection secrets at rest, the classified failures
of a send, and the one signed-HTTP-post helper used by webhook and chat deliveries and by a
run's completion notice."""
