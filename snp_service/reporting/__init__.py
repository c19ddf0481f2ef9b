"""What coordinators read: fill-rate reports and their files and charts, seasons and their comparison, ACI
indicators, the dashboard, and the history import of past seasons that feeds them.
"""
