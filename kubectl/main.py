"""`kubectl` entry point: find the verb, import only its module, turn every failure into one line.

Start-up time is a product feature (bench/kubectl.py holds it to 2x the real kubectl), so this
module imports almost nothing: a verb's module is imported when that verb runs. Global flags
may come before the verb (`kubectl -n x get pods`), as cobra allows.
"""

from __future__ import annotations

import importlib
import os
import sys

from kubectl.flags import GLOBAL_FLAGS

# verb -> module holding `FLAGS[verb]` and a function named like the verb (dashes as underscores)
VERBS: dict[str, str] = {
    "get": "kubectl.cmd_get",
    "describe": "kubectl.describe",
    "apply": "kubectl.cmd_apply",
    "create": "kubectl.cmd_apply",
    "replace": "kubectl.cmd_replace",
    "delete": "kubectl.cmd_delete",
    "run": "kubectl.cmd_run",
    "expose": "kubectl.cmd_run",
    "scale": "kubectl.cmd_modify",
    "autoscale": "kubectl.cmd_autoscale",
    "cordon": "kubectl.cmd_node",
    "uncordon": "kubectl.cmd_node",
    "drain": "kubectl.cmd_node",
    "taint": "kubectl.cmd_taint",
    "top": "kubectl.cmd_top",
    "label": "kubectl.cmd_modify",
    "annotate": "kubectl.cmd_modify",
    "patch": "kubectl.cmd_modify",
    "edit": "kubectl.cmd_edit",
    "logs": "kubectl.cmd_logs",
    "exec": "kubectl.cmd_exec",
    "attach": "kubectl.cmd_exec",
    "port-forward": "kubectl.cmd_portforward",
    "wait": "kubectl.cmd_wait",
    "rolling-update": "kubectl.rolling_update",
    "rollout": "kubectl.cmd_rollout",
    "set": "kubectl.cmd_set",
    "config": "kubectl.cmd_config",
    "version": "kubectl.cmd_info",
    "cluster-info": "kubectl.cmd_info",
    "api-resources": "kubectl.cmd_info",
    "completion": "kubectl.cmd_info",
    "api-versions": "kubectl.cmd_info",
    "auth": "kubectl.cmd_auth",
    "certificate": "kubectl.cmd_certificate",
    "help": "kubectl.cmd_help",
    "options": "kubectl.cmd_help",
}
# (verb, first argument) -> module, for subcommands with flags of their own
SUBVERBS: dict[tuple[str, str], str] = {
    ("create", "deployment"): "kubectl.cmd_create_deployment",
    ("create", "deploy"): "kubectl.cmd_create_deployment",
    ("create", "configmap"): "kubectl.cmd_create_config",
    ("create", "cm"): "kubectl.cmd_create_config",
    ("create", "secret"): "kubectl.cmd_create_config",
    ("create", "serviceaccount"): "kubectl.cmd_create_config",
    ("create", "sa"): "kubectl.cmd_create_config",
    ("create", "job"): "kubectl.cmd_create_job",
    ("create", "cronjob"): "kubectl.cmd_create_job",
    ("create", "cj"): "kubectl.cmd_create_job",
    ("create", "namespace"): "kubectl.cmd_create_policy",
    ("create", "ns"): "kubectl.cmd_create_policy",
    ("create", "quota"): "kubectl.cmd_create_policy",
    ("create", "resourcequota"): "kubectl.cmd_create_policy",
    ("create", "priorityclass"): "kubectl.cmd_create_policy",
    ("create", "pc"): "kubectl.cmd_create_policy",
    ("create", "poddisruptionbudget"): "kubectl.cmd_create_policy",
    ("create", "pdb"): "kubectl.cmd_create_policy",
    ("create", "service"): "kubectl.cmd_create_service",
    ("create", "svc"): "kubectl.cmd_create_service",
    ("create", "ingress"): "kubectl.cmd_create_ingress",
    ("create", "ing"): "kubectl.cmd_create_ingress",
    ("create", "role"): "kubectl.cmd_create_rbac",
    ("create", "clusterrole"): "kubectl.cmd_create_rbac",
    ("create", "rolebinding"): "kubectl.cmd_create_rbac",
    ("create", "clusterrolebinding"): "kubectl.cmd_create_rbac",
    ("create", "token"): "kubectl.cmd_create_token",
}
# a subcommand's alias -> its name, as cobra names it in `See 'kubectl create NAME --help'`
SUBVERB_NAMES = {
    "deploy": "deployment",
    "cm": "configmap",
    "sa": "serviceaccount",
    "cj": "cronjob",
    "ns": "namespace",
    "resourcequota": "quota",
    "pc": "priorityclass",
    "pdb": "poddisruptionbudget",
    "svc": "service",
    "ing": "ingress",
}

USAGE = """kubectl controls the Kubernetes cluster manager (kubelite's kubectl).

Basic Commands:
  create          Create a resource from a file or from stdin
  expose          Expose a replication controller as a new Kubernetes service
  run             Run a particular image on the cluster
  set             Set specific features on objects
  get             Display one or many resources
  edit            Edit a resource on the server
  delete          Delete resources by file names, stdin, resources and names, or by label selector

Deploy Commands:
  rollout         Manage the rollout of a resource
  rolling-update  Perform a rolling update of the given replication controller
  scale           Set a new size for a deployment, replica set, or replication controller
  autoscale       Auto-scale a deployment, replica set, stateful set, or replication controller

Cluster Management Commands:
  certificate     Modify certificate resources
  cluster-info    Display cluster information
  top             Display resource (CPU/memory) usage
  cordon          Mark node as unschedulable
  uncordon        Mark node as schedulable
  drain           Drain node in preparation for maintenance
  taint           Update the taints on one or more nodes

Troubleshooting and Debugging Commands:
  describe        Show details of a specific resource or group of resources
  logs            Print the logs for a container in a pod
  exec            Execute a command in a container
  attach          Attach to a running container
  port-forward    Forward one or more local ports to a pod
  auth            Inspect authorization

Advanced Commands:
  apply           Apply a configuration to a resource by file name or stdin
  patch           Update fields of a resource
  replace         Replace a resource by file name or stdin
  wait            Experimental: Wait for a specific condition on one or many resources

Settings Commands:
  label           Update the labels on a resource
  annotate        Update the annotations on a resource
  completion      Output shell completion code for the specified shell (bash or zsh)

Other Commands:
  api-resources   Print the supported API resources on the server
  api-versions    Print the supported API versions on the server, in the form of "group/version"
  config          Modify kubeconfig files
  version         Print the client and server version information

Usage:
  kubectl [flags] [options]

Use "kubectl <command> --help" for more information about a given command.
Use "kubectl options" for a list of global command-line options (applies to all commands).
"""


def split_verb(argv: list[str]) -> tuple[str | None, list[str]]:
    """The verb and the remaining arguments (global flags may precede the verb)."""
    shorts = {f[2]: n for n, f in GLOBAL_FLAGS.items() if f[2]}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            return None, argv
        if a.startswith("--"):
            name = a[2:].split("=", 1)[0]
            takes = name in GLOBAL_FLAGS and GLOBAL_FLAGS[name][0] != "bool" and "=" not in a
            i += 2 if takes else 1
        elif a.startswith("-") and len(a) > 1:
            name = shorts.get(a[1], "")
            takes = bool(name) and GLOBAL_FLAGS[name][0] != "bool" and len(a) == 2
            i += 2 if takes else 1
        else:
            return a, argv[:i] + argv[i + 1 :]
    return None, argv


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    verb, rest = split_verb(args)
    if verb is None:
        print(USAGE, end="")
        return 0 if not rest or rest[0] in ("-h", "--help") else 1
    module_name = VERBS.get(verb)
    sub, _ = split_verb(rest)
    command = verb
    if (verb, sub or "") in SUBVERBS:
        module_name = SUBVERBS[(verb, sub or "")]
        command = f"{verb} {SUBVERB_NAMES.get(sub or '', sub)}"
        _, after = split_verb(rest)
        kind, _ = split_verb(after)
        if kind in (
            "clusterip",
            "nodeport",
            "loadbalancer",
            "externalname",
            "generic",
            "tls",
            "docker-registry",
        ):
            command += f" {kind}"
    if module_name is None:
        print(
            f'error: unknown command "{verb}" for "kubectl"\n\nDid you mean this?\n\tget\n\n'
            "Run 'kubectl --help' for usage.",
            file=sys.stderr,
        )
        return 1
    return run_verb(verb, module_name, rest, command)


def run_verb(verb: str, module_name: str, rest: list[str], command: str = "") -> int:
    from api.errors import ApiError
    from kubectl.env import CommandError, Env
    from kubectl.errors import api_error_text, connection_text
    from kubectl.flags import UsageError, parse

    module = importlib.import_module(module_name)
    env: Env | None = None
    try:
        parsed = parse(rest, module.FLAGS[verb])
        env = Env(parsed)
        if parsed.flags.get("help"):
            from kubectl.helppage import page

            print(page(getattr(module, "HELP", {}), module.FLAGS, verb, parsed.args), end="")
            return 0
        return int(getattr(module, verb.replace("-", "_"))(env, parsed) or 0)
    except UsageError as e:
        print(f"error: {e}\nSee 'kubectl {command or verb} --help' for usage.", file=sys.stderr)
        return 1
    except CommandError as e:
        if e.message:
            print(e.message, file=sys.stderr)
        return e.code
    except ApiError as e:
        print(api_error_text(e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:
        if type(e).__name__ == "ConnectionFailed":
            print(connection_text(e), file=sys.stderr)
            return 1
        if os.environ.get("KUBECTL_TRACEBACK"):
            raise
        print(f"error: {e}", file=sys.stderr)  # one line, never a traceback
        return 1
    finally:
        if env is not None:
            env.close()
        try:
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            pass


if __name__ == "__main__":
    sys.exit(main())
