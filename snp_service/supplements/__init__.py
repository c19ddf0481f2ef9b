"""The majoration SNP: which regulated acts earn it (rules), the ledger that accounts for it, the statements.
"""
