"""The `kubelite` launcher (kubelite/launcher.py): `runtime` starts without `site` on the sys.path a
normal start has; every other command starts exactly as pip's console script would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kubelite import launcher
from runtime import preload

PROBE = """
import json, sys

def report(argv):
    first = type(sys.meta_path[0]).__name__
    print(json.dumps({"path": sys.path, "argv": argv, "site": "site" in sys.modules, "finder": first}))
    return 0

def entry(argv):
    return report(argv)

def main():
    return report(sys.argv[1:])
"""


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def probe_launcher(tmp_path: Path) -> Path:
    """A launcher as `make install` writes it, with both entries replaced by a probe beside it."""
    (tmp_path / "probe.py").write_text(PROBE)
    script = tmp_path / "kubelite"
    paths = launcher.current_site_paths()
    script.write_text(launcher.render(sys.executable, paths, "probe:entry", "probe:main"))
    script.chmod(0o755)
    return script


def normal_start_path(tmp_path: Path) -> list[str]:
    """sys.path of a script in the same directory started as pip's console scripts are (with site)."""
    (tmp_path / "plain.py").write_text("import json, sys; print(json.dumps(sys.path))")
    out = run([sys.executable, str(tmp_path / "plain.py")])
    assert out.returncode == 0, out.stderr
    return list(json.loads(out.stdout))


def test_runtime_starts_without_site_on_the_path_a_normal_start_has(tmp_path: Path) -> None:
    preload.build()  # what `make install` writes beside the launcher
    script = probe_launcher(tmp_path)
    out = run([str(script), "runtime", "run", "--rm", "busybox"])
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["argv"] == ["run", "--rm", "busybox"]
    assert seen["site"] is False
    assert seen["finder"] == "BundleFinder"  # the run path's modules from runtime/preload.py's bundle
    assert seen["path"] == normal_start_path(tmp_path)


def test_other_commands_start_through_site_as_before(tmp_path: Path) -> None:
    script = probe_launcher(tmp_path)
    out = run([str(script), "kubectl", "get", "pods"])
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["argv"] == ["kubectl", "get", "pods"]
    assert seen["site"] is True
    assert seen["finder"] != "BundleFinder"
    assert seen["path"] == normal_start_path(tmp_path)


def test_the_installed_launcher_runs_kubelite_and_its_runtime(tmp_path: Path) -> None:
    target = tmp_path / "kubelite"
    launcher.install(str(target))
    assert target.read_text().startswith(f"#!{sys.executable} -S\n")
    assert target.stat().st_mode & 0o111
    out = run([str(target), "--help"])
    assert out.returncode == 0 and "usage: kubelite COMMAND" in out.stdout, out.stderr
    out = run([str(target), "runtime", "--help"])
    assert out.returncode == 0 and "usage: kubelite runtime" in out.stdout, out.stderr
    out = run([str(target), "nonsense"])
    assert out.returncode == 2 and "unknown command 'nonsense'" in out.stderr


def test_site_paths_are_what_site_added_in_its_order() -> None:
    with_site = ["/bin", "/lib/py.zip", "/lib/py", "/venv/site-packages", "/src"]
    without = ["/bin", "/lib/py.zip", "/lib/py"]
    assert launcher.site_paths(with_site, without) == ["/venv/site-packages", "/src"]
    assert launcher.site_paths(without, without) == []


def test_a_bad_command_line_is_a_usage_error(tmp_path: Path) -> None:
    assert launcher.main([]) == 2
    assert launcher.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert not (tmp_path / "a").exists()
