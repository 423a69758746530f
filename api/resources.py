"""The table of API resources kubelite serves: one row per resource, the one source of truth.

The API server routes, stores, discovers and documents from it; the client builds paths from
it; kubectl resolves `po`, `rc`, `svc` and `all` with it. Adding a resource means adding a row
here and its validation in the API server, nothing more.

A resource served in more than one version has a row per version, the preferred one first (as
custom resources have): routing, discovery and OpenAPI serve every row, `by_kind` finds each by
its apiVersion, and `lookup` and `by_plural` (so the per-kind strategy and kubectl's names) find
the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Subresource:
    name: str  # "status", "scale", "binding", "log", "exec", "proxy"
    kind: str
    verbs: tuple[str, ...]
    group: str = ""  # for scale: the Scale kind lives in autoscaling/v1
    version: str = "v1"


@dataclass(frozen=True)
class Resource:
    plural: str
    singular: str
    kind: str
    namespaced: bool
    group: str = ""  # "" is the core group
    version: str = "v1"
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[Subresource, ...] = field(default=())
    # the plural whose stored objects this resource serves in a shape of its own (events.k8s.io
    # Events are the core ones, at /registry/events/): "" for a resource with storage of its own
    storage: str = ""
    # the schema type of the served shape when the kind's name is another group's type ("" = kind)
    schema: str = ""

    @property
    def type_name(self) -> str:
        """The kind's type in `apiserver.schema` (the kind, unless another group has its name)."""
        return self.schema or self.kind

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def group_version_path(self) -> str:
        """`/api/v1` for the core group, `/apis/<group>/<version>` otherwise."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def collection_path(self, namespace: str | None = None) -> str:
        base = self.group_version_path
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"

    def object_path(self, name: str, namespace: str | None = None, subresource: str | None = None) -> str:
        p = f"{self.collection_path(namespace)}/{name}"
        return f"{p}/{subresource}" if subresource else p

    def storage_key(self, name: str, namespace: str | None = None) -> str:
        """Key in the store: `/registry/<group/>plural/<ns>/<name>`, cluster-scoped without ns."""
        return f"{self.storage_prefix(namespace)}{name}"

    def storage_prefix(self, namespace: str | None = None) -> str:
        path = self.storage or (f"{self.group}/{self.plural}" if self.group else self.plural)
        if self.namespaced and namespace:
            return f"/registry/{path}/{namespace}/"
        return f"/registry/{path}/"


_STATUS = ("get", "patch", "update")
# an HTTP proxy to a pod, service or node: kube lists the verbs of the methods it relays
_PROXY = ("create", "delete", "get", "patch", "update")

_SELF_SUBJECT_REVIEWS = Resource(
    "selfsubjectreviews",
    "selfsubjectreview",
    "SelfSubjectReview",
    False,
    group="authentication.k8s.io",
    verbs=("create",),
)

_HPAS = Resource(
    "horizontalpodautoscalers",
    "horizontalpodautoscaler",
    "HorizontalPodAutoscaler",
    True,
    group="autoscaling",
    version="v2",
    short_names=("hpa",),
    categories=("all",),
    subresources=(Subresource("status", "HorizontalPodAutoscaler", _STATUS),),
)

RESOURCES: tuple[Resource, ...] = (
    Resource(
        "namespaces",
        "namespace",
        "Namespace",
        False,
        short_names=("ns",),
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        subresources=(
            Subresource("status", "Namespace", _STATUS),
            Subresource("finalize", "Namespace", ("update",)),
        ),
    ),
    Resource(
        "pods",
        "pod",
        "Pod",
        True,
        short_names=("po",),
        categories=("all",),
        subresources=(
            Subresource("status", "Pod", _STATUS),
            Subresource("binding", "Binding", ("create",)),
            Subresource("log", "Pod", ("get",)),
            Subresource("attach", "PodAttachOptions", ("create", "get")),
            Subresource("exec", "PodExecOptions", ("create", "get")),
            Subresource("portforward", "PodPortForwardOptions", ("create", "get")),
            Subresource("proxy", "PodProxyOptions", _PROXY),
            Subresource("eviction", "Eviction", ("create",), group="policy"),
            Subresource("ephemeralcontainers", "Pod", _STATUS),
        ),
    ),
    Resource(
        "replicationcontrollers",
        "replicationcontroller",
        "ReplicationController",
        True,
        short_names=("rc",),
        categories=("all",),
        subresources=(
            Subresource("status", "ReplicationController", _STATUS),
            Subresource("scale", "Scale", _STATUS, group="autoscaling"),
        ),
    ),
    Resource(
        "services",
        "service",
        "Service",
        True,
        short_names=("svc",),
        categories=("all",),
        subresources=(
            Subresource("proxy", "ServiceProxyOptions", _PROXY),
            Subresource("status", "Service", _STATUS),
        ),
    ),
    Resource("endpoints", "endpoints", "Endpoints", True, short_names=("ep",)),
    # stored pod templates: no short name and no categories, as kube
    Resource("podtemplates", "podtemplate", "PodTemplate", True),
    # the control plane's health, computed per request, never stored (apiserver/componentstatuses.py)
    Resource(
        "componentstatuses",
        "componentstatus",
        "ComponentStatus",
        False,
        short_names=("cs",),
        verbs=("get", "list"),
    ),
    Resource(
        "nodes",
        "node",
        "Node",
        False,
        short_names=("no",),
        subresources=(
            Subresource("proxy", "NodeProxyOptions", _PROXY),
            Subresource("status", "Node", _STATUS),
        ),
    ),
    Resource("events", "event", "Event", True, short_names=("ev",)),
    Resource("leases", "lease", "Lease", True, group="coordination.k8s.io"),
    # a namespace's defaults and bounds for containers, pods and claims (the LimitRanger admission)
    Resource("limitranges", "limitrange", "LimitRange", True, short_names=("limits",)),
    # what a namespace may use in all (the quota admission charges creates, a controller recounts)
    Resource(
        "resourcequotas",
        "resourcequota",
        "ResourceQuota",
        True,
        short_names=("quota",),
        subresources=(Subresource("status", "ResourceQuota", _STATUS),),
    ),
    # storage: claims, volumes (v1) and their classes (storage.k8s.io/v1)
    Resource(
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        True,
        short_names=("pvc",),
        subresources=(Subresource("status", "PersistentVolumeClaim", _STATUS),),
    ),
    Resource(
        "persistentvolumes",
        "persistentvolume",
        "PersistentVolume",
        False,
        short_names=("pv",),
        subresources=(Subresource("status", "PersistentVolume", _STATUS),),
    ),
    # configuration and identity (v1)
    Resource("configmaps", "configmap", "ConfigMap", True, short_names=("cm",)),
    Resource("secrets", "secret", "Secret", True),
    Resource(
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        True,
        short_names=("sa",),
        subresources=(Subresource("token", "TokenRequest", ("create",), group="authentication.k8s.io"),),
    ),
    # access control: RBAC objects, and the review questions (created, answered, never stored)
    Resource(
        "clusterrolebindings",
        "clusterrolebinding",
        "ClusterRoleBinding",
        False,
        group="rbac.authorization.k8s.io",
    ),
    Resource("clusterroles", "clusterrole", "ClusterRole", False, group="rbac.authorization.k8s.io"),
    Resource("rolebindings", "rolebinding", "RoleBinding", True, group="rbac.authorization.k8s.io"),
    Resource("roles", "role", "Role", True, group="rbac.authorization.k8s.io"),
    Resource(
        "localsubjectaccessreviews",
        "localsubjectaccessreview",
        "LocalSubjectAccessReview",
        True,
        group="authorization.k8s.io",
        verbs=("create",),
    ),
    Resource(
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        "SelfSubjectAccessReview",
        False,
        group="authorization.k8s.io",
        verbs=("create",),
    ),
    Resource(
        "selfsubjectrulesreviews",
        "selfsubjectrulesreview",
        "SelfSubjectRulesReview",
        False,
        group="authorization.k8s.io",
        verbs=("create",),
    ),
    Resource(
        "subjectaccessreviews",
        "subjectaccessreview",
        "SubjectAccessReview",
        False,
        group="authorization.k8s.io",
        verbs=("create",),
    ),
    _SELF_SUBJECT_REVIEWS,
    Resource(
        "tokenreviews", "tokenreview", "TokenReview", False, group="authentication.k8s.io", verbs=("create",)
    ),
    # SelfSubjectReview again, in v1beta1 (kube-apiserver 1.27-1.32 serve it): kubectl 1.27's
    # `auth whoami` asks v1beta1, then v1alpha1, never v1; a second row, so v1 stays preferred
    replace(_SELF_SUBJECT_REVIEWS, version="v1beta1"),
    # events.k8s.io/v1: the core Events again, in the shape of client-go's events library (the
    # scheduler's); the same stored objects (kube's one event storage, "ev" in both groups), converted
    # on every read and write (apiserver.kinds.events); `ev` and `events` stay the core resource
    Resource(
        "events",
        "event",
        "Event",
        True,
        group="events.k8s.io",
        short_names=("ev",),
        storage="events",
        schema="EventsV1Event",
    ),
    # apps/v1 and batch/v1 workloads (kube-apiserver's discovery: short names, "all", status, scale),
    # alphabetical within a group as kube lists them (the order of `kubectl get all`)
    Resource("controllerrevisions", "controllerrevision", "ControllerRevision", True, group="apps"),
    Resource(
        "daemonsets",
        "daemonset",
        "DaemonSet",
        True,
        group="apps",
        short_names=("ds",),
        categories=("all",),
        subresources=(Subresource("status", "DaemonSet", _STATUS),),
    ),
    Resource(
        "deployments",
        "deployment",
        "Deployment",
        True,
        group="apps",
        short_names=("deploy",),
        categories=("all",),
        subresources=(
            Subresource("status", "Deployment", _STATUS),
            Subresource("scale", "Scale", _STATUS, group="autoscaling"),
        ),
    ),
    Resource(
        "replicasets",
        "replicaset",
        "ReplicaSet",
        True,
        group="apps",
        short_names=("rs",),
        categories=("all",),
        subresources=(
            Subresource("status", "ReplicaSet", _STATUS),
            Subresource("scale", "Scale", _STATUS, group="autoscaling"),
        ),
    ),
    Resource(
        "statefulsets",
        "statefulset",
        "StatefulSet",
        True,
        group="apps",
        short_names=("sts",),
        categories=("all",),
        subresources=(
            Subresource("status", "StatefulSet", _STATUS),
            Subresource("scale", "Scale", _STATUS, group="autoscaling"),
        ),
    ),
    Resource(
        "cronjobs",
        "cronjob",
        "CronJob",
        True,
        group="batch",
        short_names=("cj",),
        categories=("all",),
        subresources=(Subresource("status", "CronJob", _STATUS),),
    ),
    Resource(
        "jobs",
        "job",
        "Job",
        True,
        group="batch",
        categories=("all",),
        subresources=(Subresource("status", "Job", _STATUS),),
    ),
    Resource(
        "storageclasses", "storageclass", "StorageClass", False, group="storage.k8s.io", short_names=("sc",)
    ),
    # storage.k8s.io/v1's CSI objects (apiserver/kinds/csi.py): stored and validated as kube does; no
    # driver runs here (a kubelet registers none), so nothing but a kubelet's empty CSINode is made
    Resource("csidrivers", "csidriver", "CSIDriver", False, group="storage.k8s.io"),
    Resource("csinodes", "csinode", "CSINode", False, group="storage.k8s.io"),
    Resource(
        "volumeattachments",
        "volumeattachment",
        "VolumeAttachment",
        False,
        group="storage.k8s.io",
        subresources=(Subresource("status", "VolumeAttachment", _STATUS),),
    ),
    Resource(
        "csistoragecapacities", "csistoragecapacity", "CSIStorageCapacity", True, group="storage.k8s.io"
    ),
    # certificates.k8s.io/v1: a client asks for a certificate, someone approves, a signer issues it
    Resource(
        "certificatesigningrequests",
        "certificatesigningrequest",
        "CertificateSigningRequest",
        False,
        group="certificates.k8s.io",
        short_names=("csr",),
        subresources=(
            Subresource("status", "CertificateSigningRequest", _STATUS),
            Subresource("approval", "CertificateSigningRequest", _STATUS),
        ),
    ),
    # node.k8s.io/v1: the runtime a pod's runtimeClassName picks (RuntimeClass admission, kubelet)
    Resource("runtimeclasses", "runtimeclass", "RuntimeClass", False, group="node.k8s.io"),
    # scheduling.k8s.io/v1: the priority a pod's priorityClassName gives it (Priority admission)
    Resource(
        "priorityclasses",
        "priorityclass",
        "PriorityClass",
        False,
        group="scheduling.k8s.io",
        short_names=("pc",),
    ),
    # flowcontrol.apiserver.k8s.io/v1: API Priority and Fairness, enforced by the API server's gate
    # (apiserver/flowcontrol): which priority level each request takes, and each level's seats
    Resource(
        "flowschemas",
        "flowschema",
        "FlowSchema",
        False,
        group="flowcontrol.apiserver.k8s.io",
        subresources=(Subresource("status", "FlowSchema", _STATUS),),
    ),
    Resource(
        "prioritylevelconfigurations",
        "prioritylevelconfiguration",
        "PriorityLevelConfiguration",
        False,
        group="flowcontrol.apiserver.k8s.io",
        subresources=(Subresource("status", "PriorityLevelConfiguration", _STATUS),),
    ),
    # policy/v1: how many of its pods' voluntary disruptions (evictions) a budget allows
    Resource(
        "poddisruptionbudgets",
        "poddisruptionbudget",
        "PodDisruptionBudget",
        True,
        group="policy",
        short_names=("pdb",),
        subresources=(Subresource("status", "PodDisruptionBudget", _STATUS),),
    ),
    # service discovery, ingress and network policy (discovery.k8s.io/v1, networking.k8s.io/v1)
    Resource("endpointslices", "endpointslice", "EndpointSlice", True, group="discovery.k8s.io"),
    Resource("ingressclasses", "ingressclass", "IngressClass", False, group="networking.k8s.io"),
    Resource(
        "ingresses",
        "ingress",
        "Ingress",
        True,
        group="networking.k8s.io",
        short_names=("ing",),
        subresources=(Subresource("status", "Ingress", _STATUS),),
    ),
    # no /status (kube 1.28 withdrew the alpha NetworkPolicyStatus) and no categories, as kube
    Resource(
        "networkpolicies",
        "networkpolicy",
        "NetworkPolicy",
        True,
        group="networking.k8s.io",
        short_names=("netpol",),
    ),
    # admissionregistration.k8s.io/v1: the webhooks the API server calls on writes (apiserver/webhooks)
    Resource(
        "mutatingwebhookconfigurations",
        "mutatingwebhookconfiguration",
        "MutatingWebhookConfiguration",
        False,
        group="admissionregistration.k8s.io",
        categories=("api-extensions",),
    ),
    Resource(
        "validatingwebhookconfigurations",
        "validatingwebhookconfiguration",
        "ValidatingWebhookConfiguration",
        False,
        group="admissionregistration.k8s.io",
        categories=("api-extensions",),
    ),
    # the CEL policies the API server evaluates itself on writes (apiserver/policies)
    Resource(
        "validatingadmissionpolicies",
        "validatingadmissionpolicy",
        "ValidatingAdmissionPolicy",
        False,
        group="admissionregistration.k8s.io",
        categories=("api-extensions",),
        subresources=(Subresource("status", "ValidatingAdmissionPolicy", _STATUS),),
    ),
    Resource(
        "validatingadmissionpolicybindings",
        "validatingadmissionpolicybinding",
        "ValidatingAdmissionPolicyBinding",
        False,
        group="admissionregistration.k8s.io",
        categories=("api-extensions",),
    ),
    # apiextensions.k8s.io/v1: the definitions of custom resources (served at run time, see DYNAMIC)
    Resource(
        "customresourcedefinitions",
        "customresourcedefinition",
        "CustomResourceDefinition",
        False,
        group="apiextensions.k8s.io",
        short_names=("crd", "crds"),
        categories=("api-extensions",),
        subresources=(Subresource("status", "CustomResourceDefinition", _STATUS),),
    ),
    # apiregistration.k8s.io/v1: which server serves each group/version, kubelite itself (Local) or an
    # extension API server behind a Service, whose requests kubelite proxies (apiserver/aggregation)
    Resource(
        "apiservices",
        "apiservice",
        "APIService",
        False,
        group="apiregistration.k8s.io",
        categories=("api-extensions",),
        subresources=(Subresource("status", "APIService", _STATUS),),
    ),
    _HPAS,
    # autoscaling/v1 again: the same stored HPAs in v1's shape (api.hpav1), as kube serves both and
    # kubectl 1.27-1.32 `autoscale` creates v1; a second row, so v2 stays preferred
    replace(_HPAS, version="v1", schema="AutoscalingV1HorizontalPodAutoscaler"),
    # metrics.k8s.io/v1beta1: read-only usage aggregated from the kubelets (apiserver/metricsapi.py), never stored
    Resource(
        "nodes",
        "nodemetrics",
        "NodeMetrics",
        False,
        group="metrics.k8s.io",
        version="v1beta1",
        verbs=("get", "list"),
    ),
    Resource(
        "pods",
        "podmetrics",
        "PodMetrics",
        True,
        group="metrics.k8s.io",
        version="v1beta1",
        verbs=("get", "list"),
    ),
)

_BY_NAME: dict[str, Resource] = {}
for _r in RESOURCES:
    for _n in (_r.plural, _r.singular, _r.kind.lower(), *_r.short_names):
        _BY_NAME.setdefault(_n, _r)
    if _r.group:
        _BY_NAME.setdefault(f"{_r.plural}.{_r.group}", _r)

_BY_KIND: dict[tuple[str, str], Resource] = {(r.api_version, r.kind): r for r in RESOURCES}
_BY_PLURAL: dict[tuple[str, str], Resource] = {}
for _r in RESOURCES:
    _BY_PLURAL.setdefault((_r.group, _r.plural), _r)  # the first row, the preferred version


# Resources added at run time (the API server's custom resources, one row per served version):
# consulted after the static table, replaced as a whole by `set_dynamic`; empty in clients.
DYNAMIC: tuple[Resource, ...] = ()
_DYN_NAME: dict[str, Resource] = {}
_DYN_KIND: dict[tuple[str, str], Resource] = {}
_DYN_PLURAL: dict[tuple[str, str], Resource] = {}
_DYN_GV: dict[tuple[str, str, str], Resource] = {}
_DYN_SET: frozenset[Resource] = frozenset()


def set_dynamic(resources: tuple[Resource, ...]) -> None:
    """Replace the run-time rows; the first row of a (group, plural) is its preferred version."""
    global DYNAMIC, _DYN_NAME, _DYN_KIND, _DYN_PLURAL, _DYN_GV, _DYN_SET
    names: dict[str, Resource] = {}
    for r in resources:
        for n in (r.plural, r.singular, r.kind.lower(), *r.short_names, f"{r.plural}.{r.group}"):
            names.setdefault(n, r)
    DYNAMIC = tuple(resources)
    _DYN_NAME = names
    _DYN_KIND = {(r.api_version, r.kind): r for r in resources}
    _DYN_PLURAL = {}
    for r in resources:
        _DYN_PLURAL.setdefault((r.group, r.plural), r)
    _DYN_GV = {(r.group, r.version, r.plural): r for r in resources}
    _DYN_SET = frozenset(resources)


def is_dynamic(r: Resource) -> bool:
    """Whether `r` is a run-time row (a custom resource): its kind name says nothing of its schema."""
    return bool(DYNAMIC) and r in _DYN_SET


def served_resources() -> tuple[Resource, ...]:
    """The static table and the run-time rows, in that order."""
    return RESOURCES + DYNAMIC if DYNAMIC else RESOURCES


def dynamic_in_version(group: str, version: str, plural: str) -> Resource | None:
    return _DYN_GV.get((group, version, plural))


def lookup(name: str) -> Resource | None:
    """Resolve what a user types (`po`, `pods`, `pod`, `Pod`, `leases.coordination.k8s.io`)."""
    return (
        _BY_NAME.get(name) or _BY_NAME.get(name.lower()) or _DYN_NAME.get(name) or _DYN_NAME.get(name.lower())
    )


def by_kind(api_version: str, kind: str) -> Resource | None:
    return _BY_KIND.get((api_version, kind)) or _DYN_KIND.get((api_version, kind))


def by_plural(group: str, plural: str) -> Resource | None:
    return _BY_PLURAL.get((group, plural)) or _DYN_PLURAL.get((group, plural))


def in_category(category: str) -> list[Resource]:
    return [r for r in served_resources() if category in r.categories]
