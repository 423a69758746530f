"""The installed `kubelite` command: a launcher that starts `kubelite runtime` without `site`.

pip's console script for `kubelite.main:main` runs after the interpreter's `site` processing: the
venv's site-packages are listed and every `.pth` file in them is read and run (setuptools'
`distutils-precedence.pth` imports `_distutils_hack`), ~2-3 ms of a `kubelite runtime run --rm`,
whose whole budget is 100 ms. `make install` replaces that script with this launcher
(`python -m kubelite.launcher PATH`): its interpreter runs with `-S`, and

- `kubelite runtime ...` gets the sys.path a normal start would have, written into the launcher
  when it is installed (site-packages, then the directories their `.pth` files add), and goes
  straight to `runtime.cli.entry` (the runtime CLI imports only the standard library and our
  `runtime` package, plus httpx for pulls, so no `.pth` code is needed), its modules loaded from
  the run path's bundle (runtime/preload.py), which `install` writes too;
- anything else runs `site.main()` first, which is everything a start without `-S` would have done,
  then `kubelite.main`, so the server, agents and kubectl start exactly as before.

A plain `pip install` keeps pip's script: the same commands, without the shortcut.
"""

from __future__ import annotations

import os
import sys

TEMPLATE = """#!{python} -S
# `kubelite`, written by `python -m kubelite.launcher` (make install): see kubelite/launcher.py
import sys
if sys.argv[1:2] == ["runtime"]:
    sys.path += {paths!r}
    from runtime import preload
    preload.install()
    from {runtime_module} import {runtime_func}
    sys.exit({runtime_func}(sys.argv[2:]))
import site
site.main()
from {main_module} import {main_func}
sys.exit({main_func}())
"""


def render(
    python: str,
    paths: list[str],
    runtime_entry: str = "runtime.cli:entry",
    main_entry: str = "kubelite.main:main",
) -> str:
    """The launcher's text: `python` runs it; `paths` are what the runtime shortcut appends to the
    `-S` sys.path; each entry is `module:function` (a function taking argv, resp. none)."""
    runtime_module, _, runtime_func = runtime_entry.partition(":")
    main_module, _, main_func = main_entry.partition(":")
    return TEMPLATE.format(
        python=python,
        paths=paths,
        runtime_module=runtime_module,
        runtime_func=runtime_func,
        main_module=main_module,
        main_func=main_func,
    )


def site_paths(with_site: list[str], without_site: list[str]) -> list[str]:
    """What `site` added to sys.path (in its order): the entries of a normal start's path that a
    `-S` start of the same interpreter lacks."""
    bare = set(without_site)
    return [p for p in with_site if p not in bare]


def current_site_paths() -> list[str]:
    """`site_paths` of this interpreter, each start asked in a fresh process (the caller's own path
    may hold more: a test runner's, a `-m` start's working directory). The first entry of either is
    the script's directory, the launcher's own in its place."""
    import subprocess

    def path(*flags: str) -> list[str]:
        show = "import sys; print('\\n'.join(sys.path[1:]))"
        argv = [sys.executable, *flags, "-c", show]
        return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.splitlines()

    return site_paths(path(), path("-S"))


def install(target: str) -> None:
    """Write the launcher to `target` (replacing pip's console script), atomically, mode 0755, and
    the runtime's bundle of run-path modules (runtime/preload.py)."""
    from runtime import preload

    preload.build()
    text = render(sys.executable, current_site_paths())
    tmp = f"{target}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, target)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m kubelite.launcher PATH (the kubelite command to write)", file=sys.stderr)
        return 2
    install(args[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
