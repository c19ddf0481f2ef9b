"""The CPTS and its members: the record (territory, communes, ACI contract, indicator targets) and the
practitioners (their practice, its place, their SAS participation, the treating-doctor look-up).
"""
