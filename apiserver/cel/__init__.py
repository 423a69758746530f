"""CEL in the API server: one way to compile, check and evaluate expressions, shared by what
carries them (the CRD validation rules, `apiserver.crd.rules`, first).

- `expressions`: cel-python behind a lazy import; an expression is compiled once (cached by its
  text) into a program and what it refers to (the functions it calls, the free names it reads,
  the `variables.<name>` it uses), so a write can be refused naming what this server cannot
  evaluate; evaluation errors come back as short texts, not celpy's activation dumps.

Nothing here imports cel-python until an expression is met: a server whose objects carry none
never loads it.
"""
