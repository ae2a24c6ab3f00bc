"""promtool unit tests generated from the burn-rate formulas.

For every alert and tier: it fires when the formula says once the error
ratio burns just above the tier's threshold, stays silent just below it,
and resets after recovery within its short window; no traffic stays silent;
an event-count budget lets N events pass and fires on N + 1.
"""
