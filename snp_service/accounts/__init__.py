"""Accounts and getting in: users, sign-in and its throttle, known devices, bearer tokens, page sessions,
password set-up links, the password policy.
"""
