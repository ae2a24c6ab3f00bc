"""The chaos suite: real misbehaving processes against a real exporter.

``runner-watchdog chaos`` builds a lab in a temporary directory (a config
with short allowances, a fake runner root, ``runner-watchdog serve`` on a
loopback port, evidence beside them), runs the chosen scenarios in it and
reports, for each, what it did, what it expected, what it saw and how long
detection took. One module per scenario; ``suite`` runs them.
"""
