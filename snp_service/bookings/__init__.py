"""Bookings: a slot booked for a caller during the call, then cancelled, moved or given its outcome; the
patient's minimal data, and its erasure after the retention period.
"""
