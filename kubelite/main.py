"""`kubelite` dispatches to the component a subcommand names, importing only that component.

Start-up time matters (the CLI paths are benchmarked), so each subcommand's module is imported
lazily: `kubelite runtime ps` never loads uvicorn, `kubelite kubectl get` never loads SQLAlchemy.
"""

from __future__ import annotations

import sys

# subcommand -> (module, function taking argv) ; the module is imported only when used
COMMANDS: dict[str, tuple[str, str, str]] = {
    "server": ("kubelite.server", "main", "run the API server (and controllers, scheduler)"),
    "agent": ("kubelite.agent", "main", "run a node agent (kubelet + service proxy)"),
    "up": ("kubelite.cluster", "up", "start a server and N agents, each in its own network namespace"),
    "down": ("kubelite.cluster", "down", "stop a cluster started by `up` and remove all it made"),
    "agent-teardown": ("kubelite.agent", "teardown", "remove all an agent made on its node (used by down)"),
    "controller-manager": ("kubelite.controllers", "controller_manager", "run the controller manager alone"),
    "scheduler": ("kubelite.controllers", "scheduler", "run the scheduler alone"),
    "kubeconfig": (
        "kubelite.kubeconfig",
        "main",
        "write a kubeconfig for a user (client cert) or a ServiceAccount",
    ),
    "kubectl": ("kubectl.main", "main", "the kubectl CLI"),
    "runtime": ("runtime.cli", "entry", "the docker-style container runtime CLI"),
}


def usage() -> str:
    lines = ["usage: kubelite COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<20} {help_}" for name, (_, _, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    cmd = COMMANDS.get(args[0])
    if cmd is None:
        print(f"kubelite: unknown command {args[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module_name, func_name, _ = cmd
    try:
        __import__(module_name)  # not importlib.import_module: the `importlib` package is ~0.4 ms of a start
        module = sys.modules[module_name]
    except ModuleNotFoundError as e:
        if e.name and (e.name == module_name or module_name.startswith(e.name + ".")):
            print(f"kubelite {args[0]}: not yet built", file=sys.stderr)
            return 1
        raise
    result = getattr(module, func_name)(args[1:])
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
