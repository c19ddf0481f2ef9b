"""The national directory (RPPS): the ANS "PS_LibreAcces" extract, loaded by the operator, searched by the service.

- ``extract.py`` reads the file: columns by their header names, lines checked, rows kept by profession
  and département (streamed, one line at a time).
- ``loading.py`` writes a load under a new generation and switches to it in one transaction.
- ``search.py`` reads the current generation: by RPPS, by name, by commune.
"""
