"""Slot requests ("demandes de créneau"): when nothing fits, a request goes to the nearby practitioners who take
requests, and the first to accept creates their slot and the patient's booking.

sending.py (create: recipients, SMS), answering.py (accept, cancel, seen, expiry), reading.py (state, listings).
"""
