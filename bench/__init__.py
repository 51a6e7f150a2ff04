"""The benchmark (``make bench``): the healer against a fixed-interval poller on the sandbox, in
virtual time; one heal per stack size, a fleet night under API rate limits, the cold start.
Not shipped, not part of ``make test`` (``tests/bench`` runs a toy-sized smoke of it)."""
