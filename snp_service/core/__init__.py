"""Plumbing: what every part of the service stands on, and knows nothing of CPTS, slots or bookings.

Nothing here imports a module of the service outside ``core/``: a rule of the domain has no place here.
"""
