"""ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, GA in Kubernetes 1.30): CEL
validations the API server evaluates itself on writes, no webhook called.

A policy says which requests it can apply to (matchConstraints), what it checks (matchConditions,
variables, validations, auditAnnotations), its parameters' kind and its failure policy; a binding
applies it to the requests its matchResources select, with its parameter objects (paramRef), and
says what a failed validation does (Deny, Warn, Audit). Every client write (create, update,
delete of any resource, custom resources too, of the subresources written as the object itself,
and of pods/binding, pods/eviction and */scale as their Binding, Eviction and Scale) is offered,
after mutation and validation and before the validating webhooks.

The modules, decisions apart from I/O:

- `configs`: the policies and bindings, mirrored from the store (this server's writes at once,
  other servers' by watch) and parsed once; the bound policies a request's shape could match,
  memoized per shape, so a write with no binding costs nothing and one with none matching one
  dict lookup.
- `matching`: pure; resourceRules, excludeResourceRules and resourceNames.
- `evaluate`: pure but for CEL (`apiserver.cel`); one policy for one request and parameter.
- `params`: the parameter objects of a binding, read from the store.
- `dispatch`: the async shell the registry calls: matching, selectors, parameters, actions,
  failure policies, the refusal in kube's words.

What kubelite does not do: kube's authorizer CEL library (expressions reading `authorizer` are
refused when written), Kubernetes CEL library functions cel-python lacks (refused when written,
named), type checking against the matched kinds' schemas (status.typeChecking stays empty), the
cost budget, and an audit log (Audit actions and auditAnnotations go to the server's log).
"""
