"""The practice space ("Entraînement") and the help that teaches the real screens.

Isolation by construction: a trainee's requests are bound to their own practice database (``space``), a SQLite
file built from their real area; the real console, grid, templates and scripts then run unchanged on it, and no
real read path can see practice rows because none are in the real database. ``scenarios`` holds the scripted
callers, ``runs`` the scorecards (the one thing written to the real database), ``tour`` the first-sign-in tour.
"""
