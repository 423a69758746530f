"""hosts / resolv.conf / hostname files for a sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.network import etcfiles, write_etc_files


def test_writes_the_three_files(tmp_path: Path) -> None:
    files = write_etc_files(
        tmp_path / "etc",
        "web-1",
        "10.88.0.5",
        extra_hosts={"db.local": "10.88.0.9"},
        dns_servers=["10.96.0.10"],
        searches=["default.svc.cluster.local", "svc.cluster.local"],
        options=["ndots:5"],
    )
    assert set(files) == {"/etc/hosts", "/etc/resolv.conf", "/etc/hostname"}
    hosts = Path(files["/etc/hosts"]).read_text()
    assert "127.0.0.1\tlocalhost\n" in hosts
    assert "10.88.0.5\tweb-1\n" in hosts and "10.88.0.9\tdb.local\n" in hosts
    assert Path(files["/etc/resolv.conf"]).read_text() == (
        "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local\noptions ndots:5\n"
    )
    assert Path(files["/etc/hostname"]).read_text() == "web-1\n"
    assert oct(Path(files["/etc/hosts"]).stat().st_mode & 0o777) == "0o644"


def test_no_ip_leaves_the_pod_line_out(tmp_path: Path) -> None:
    files = write_etc_files(tmp_path, "solo", "", dns_servers=["10.0.0.10"])
    assert "solo" not in Path(files["/etc/hosts"]).read_text()


def test_without_dns_servers_uses_the_hosts_minus_loopback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_host = tmp_path / "host-resolv.conf"
    fake_host.write_text(
        "# comment\nnameserver 127.0.0.53\nnameserver 10.1.2.3\nnameserver ::1\nsearch example\n"
    )
    monkeypatch.setattr(etcfiles, "HOST_RESOLV_CONF", fake_host)
    files = write_etc_files(tmp_path / "out", "h", "10.88.0.2")
    assert Path(files["/etc/resolv.conf"]).read_text() == "nameserver 10.1.2.3\n"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hostname": "bad_name"}, "invalid hostname"),
        ({"hostname": "-x"}, "invalid hostname"),
        ({"ip": "10.0.0.300"}, "invalid pod address"),
        ({"extra_hosts": {"db": "nope"}}, "invalid address for db"),
        ({"dns_servers": ["x"]}, "invalid DNS server"),
    ],
)
def test_bad_input_raises_and_writes_nothing(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"dir": tmp_path / "etc", "hostname": "ok", "ip": "10.0.0.2", **kwargs}
    with pytest.raises(ValueError, match=message):
        write_etc_files(**args)  # type: ignore[arg-type]
    assert not (tmp_path / "etc").exists()
