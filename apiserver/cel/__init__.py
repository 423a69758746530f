"""CEL in the API server: one way to compile, check and evaluate expressions, shared by the CRD
validation rules (`apiserver.crd.rules`), the admission webhooks' matchConditions
(`apiserver.webhooks`) and the ValidatingAdmissionPolicies (`apiserver.policies`).

- `expressions`: cel-python behind a lazy import; an expression is compiled once (cached by its
  text) into a program and what it refers to (the functions it calls, the free names it reads,
  the `variables.<name>` it uses), so a write can be refused naming what this server cannot
  evaluate; evaluation errors come back as short texts, not celpy's activation dumps.
- `library`, `kubetypes` and `netobjects`: Kubernetes' CEL libraries (strings, lists, regex, IP/CIDR
  predicates; quantity(), url(), ip() and cidr() objects) with kube's semantics.
- `optsyntax` and `optional`: cel-go's optional types (`x.?f`, `x[?k]`, optional.of, orValue ...),
  their syntax rewritten into calls cel-python parses and their values evaluated as cel-go does.
- `admission`: the variables admission expressions see (object, oldObject, request, params,
  namespaceObject, lazily evaluated `variables`), kube's matchConditions semantics, and the
  write-time checks of admission expressions in kube's field-error words.

Nothing here imports cel-python until an expression is met: a server whose CRDs, webhooks and
policies carry none never loads it.
"""
