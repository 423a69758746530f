"""`kubelite kubeconfig`: a kubeconfig for someone other than the admin.

- `--user NAME [--group G ...]`: an x509 client certificate signed by the cluster CA (CN=NAME,
  O=each group), valid `--days`; the API server authenticates it and RBAC decides what it may do
  (bind it with `kubectl create rolebinding ... --user NAME`).
- `--serviceaccount NAMESPACE/NAME`: a token from the TokenRequest API for that ServiceAccount,
  valid `--duration` seconds (kube's bound tokens last at most 48 h; recreate the file to renew).

Reads the server's data dir (the CA key signs user certificates; the admin kubeconfig asks for
tokens) and writes the kubeconfig to `--out` (mode 0600) or stdout.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
from pathlib import Path


def _yaml(server: str, ca_pem: bytes, name: str, user_fields: dict[str, str]) -> str:
    user = "\n".join(f"    {k}: {v}" for k, v in user_fields.items())
    return (
        f"apiVersion: v1\nkind: Config\nclusters:\n- name: kubelite\n  cluster:\n    server: {server}\n"
        f"    certificate-authority-data: {base64.b64encode(ca_pem).decode()}\n"
        f"contexts:\n- name: {name}\n  context:\n    cluster: kubelite\n    user: {name}\n"
        f"current-context: {name}\npreferences: {{}}\nusers:\n- name: {name}\n  user:\n{user}\n"
    )


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="kubelite kubeconfig", description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", required=True, type=Path, help="the server's data dir")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="a user authenticated by a client certificate")
    who.add_argument("--serviceaccount", help="NAMESPACE/NAME of a ServiceAccount (token)")
    p.add_argument("--group", action="append", default=[], help="a group of the user (repeatable)")
    p.add_argument("--days", type=int, default=365, help="certificate validity (default %(default)s)")
    p.add_argument(
        "--duration", type=int, default=3600, help="token validity in seconds (default %(default)s)"
    )
    p.add_argument("--out", type=Path, help="file to write (default: stdout)")
    args = p.parse_args(argv)
    from api.config import from_kubeconfig

    admin = args.data_dir / "kubeconfig.yaml"
    if not admin.exists():
        print(f"kubelite kubeconfig: no {admin}: is --data-dir the server's?", file=sys.stderr)
        return 1
    cfg = from_kubeconfig([admin])
    ca_pem = (args.data_dir / "tls" / "ca.crt").read_bytes()
    if args.user:
        from apiserver.clientcert import issue_client_cert

        cert, key = issue_client_cert(
            args.data_dir / "tls" / "ca.crt",
            args.data_dir / "tls" / "ca.key",
            args.user,
            args.group,
            args.days,
        )
        text = _yaml(
            cfg.server,
            ca_pem,
            args.user,
            {
                "client-certificate-data": base64.b64encode(cert).decode(),
                "client-key-data": base64.b64encode(key).decode(),
            },
        )
    else:
        ns, sep, name = args.serviceaccount.partition("/")
        if not sep or not ns or not name:
            print("kubelite kubeconfig: --serviceaccount takes NAMESPACE/NAME", file=sys.stderr)
            return 2
        from api.client import Client
        from api.errors import ApiError

        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": args.duration},
        }
        try:
            with Client(cfg) as client:
                answer = client.create("serviceaccounts", body, ns, subresource="token", name=name)
        except ApiError as e:
            print(f"kubelite kubeconfig: {e.message}", file=sys.stderr)
            return 1
        text = _yaml(
            cfg.server, ca_pem, f"system:serviceaccount:{ns}:{name}", {"token": answer["status"]["token"]}
        )
    if args.out:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0
