"""Discovery with the extension servers' group/versions merged in (pure).

kube-aggregator answers `/apis` and `/apis/<group>` from the APIServices, and the aggregated
`APIGroupDiscoveryList` from each extension server's discovery, fetched and cached. Here the
documents this server builds from its own table (`apiserver.discovery`) are the start, and every
service-backed APIService of a named group is merged in:

- legacy `/apis` (`merge_group_list`) and `/apis/<group>` (`merge_group`): its group/version is
  listed whether or not the backend is available (kube lists them all; a client then asks
  `/apis/<group>/<version>`, which is relayed, and an unavailable backend answers 503);
- aggregated (`merge_aggregated`): the version with the resources of the backend's
  `APIResourceList` (`to_discovery`, kube's ConvertGroupVersionIntoToDiscovery), freshness Current,
  when the APIService is Available and the list was fetched; otherwise freshness Stale and no
  resources (kube's entry for a backend whose discovery failed, which clients report and skip).

A service-backed group/version replaces the same one served here (metrics.k8s.io/v1beta1 taken
over by metrics-server). Groups served here keep their place; groups only extension servers
serve follow, in kube's order (groupPriorityMinimum, then name); the versions of every group an
extension server adds to are ordered by their APIServices' versionPriority, then kube-aware
version order, the first one preferred.
"""

from __future__ import annotations

import copy
from typing import Any

from apiserver.aggregation.apiservices import APIServiceInfo, sorted_by_group_and_version, version_key

Obj = dict[str, Any]


def _remote(infos: list[APIServiceInfo]) -> list[list[APIServiceInfo]]:
    """The service-backed APIServices of named groups, grouped in kube's order."""
    return sorted_by_group_and_version([i for i in infos if i.service is not None and i.group])


def order_versions(group: str, versions: list[str], infos: list[APIServiceInfo]) -> list[str]:
    """A group's versions by their APIServices' versionPriority (none: last), then kube's order."""
    priority = {i.version: i.version_priority for i in infos if i.group == group}
    unique = list(dict.fromkeys(versions))
    return sorted(unique, key=lambda v: (-priority.get(v, 0), version_key(v)))


def to_discovery(resource_list: Obj, group: str, version: str) -> list[Obj]:
    """An APIResourceList's resources as aggregated discovery lists them (subresources nested)."""

    def kind(r: Obj) -> Obj:
        return {
            "group": r.get("group") or group,
            "version": r.get("version") or version,
            "kind": r.get("kind") or "",
        }

    out: dict[str, Obj] = {}
    listed = [r for r in resource_list.get("resources") or [] if isinstance(r, dict) and r.get("name")]
    for r in listed:
        name = str(r["name"])
        if "/" in name:
            continue
        entry: Obj = {
            "resource": name,
            "responseKind": kind(r),
            "scope": "Namespaced" if r.get("namespaced") else "Cluster",
            "singularResource": r.get("singularName") or "",
            "verbs": list(r.get("verbs") or []),
        }
        for key in ("shortNames", "categories"):
            if r.get(key):
                entry[key] = list(r[key])
        out[name] = entry
    for r in listed:
        parent, _, sub = str(r["name"]).partition("/")
        if sub and parent in out:
            out[parent].setdefault("subresources", []).append(
                {"subresource": sub, "responseKind": kind(r), "verbs": list(r.get("verbs") or [])}
            )
    return list(out.values())


def _version_entry(info: APIServiceInfo, fetched: Obj | None) -> Obj:
    if info.available and fetched is not None:
        resources = to_discovery(fetched, info.group, info.version)
        return {"version": info.version, "resources": resources, "freshness": "Current"}
    return {"version": info.version, "freshness": "Stale"}


def merge_aggregated(local: Obj, infos: list[APIServiceInfo], fetched: dict[str, Obj]) -> Obj:
    """The `/apis` APIGroupDiscoveryList with the extension servers' versions merged in."""
    doc = copy.deepcopy(local)
    items: list[Obj] = doc["items"]
    by_group = {item["metadata"]["name"]: item for item in items}
    for group_infos in _remote(infos):
        group = group_infos[0].group
        item = by_group.get(group)
        if item is None:
            item = by_group[group] = {"metadata": {"name": group, "creationTimestamp": None}, "versions": []}
            items.append(item)
        entries = {v["version"]: v for v in item["versions"]}
        for info in group_infos:
            entries[info.version] = _version_entry(info, fetched.get(info.name))
        item["versions"] = [entries[v] for v in order_versions(group, list(entries), infos)]
    return doc


def _api_group(group: str, versions: list[str]) -> Obj:
    listed = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": listed, "preferredVersion": dict(listed[0])}


def merge_group_list(local: Obj, infos: list[APIServiceInfo]) -> Obj:
    """The legacy `/apis` APIGroupList with the extension servers' group/versions merged in."""
    groups: list[Obj] = [dict(g) for g in local.get("groups") or []]
    index = {g["name"]: i for i, g in enumerate(groups)}
    for group_infos in _remote(infos):
        group = group_infos[0].group
        mine = [v["version"] for v in groups[index[group]]["versions"]] if group in index else []
        merged = _api_group(group, order_versions(group, mine + [i.version for i in group_infos], infos))
        if group in index:
            groups[index[group]] = merged
        else:
            index[group] = len(groups)
            groups.append(merged)
    return {**local, "groups": groups}


def merge_group(local: Obj | None, group: str, infos: list[APIServiceInfo]) -> Obj | None:
    """The legacy `/apis/<group>` APIGroup, extension servers' versions included (None: unknown)."""
    remote = [i.version for i in infos if i.group == group and i.service is not None]
    if not remote:
        return local
    mine = [v["version"] for v in (local or {}).get("versions") or []]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        **_api_group(group, order_versions(group, mine + remote, infos)),
    }
