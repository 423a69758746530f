"""`build` (Dockerfile subset, RUN in real containers, step cache) and `commit`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.build import BuildError, json_or_shell, key_values, parse_dockerfile, substitute
from tests.runtime.containers.conftest import Cli

DOCKERFILE = """\
# build args before FROM, continuations, exec and shell forms
ARG GREETING=hi
FROM busybox
ARG GREETING
ENV APP_HOME=/app \\
    MODE=prod
WORKDIR $APP_HOME
COPY msg.txt /app/
COPY sub /app/sub
RUN echo "$GREETING from run" > run.txt && echo 'appuser:x:1500:1500::/app:/bin/sh' >> /etc/passwd \\
    && rm /etc/group && chown 1500 /app
USER appuser
EXPOSE 9000
LABEL org.example=yes
CMD ["sh", "-c", "cat msg.txt run.txt sub/a; id -u; pwd; echo $MODE; ls /etc/group 2>&1; true"]
"""


@pytest.fixture
def context(tmp_path: Path) -> Path:
    ctx = tmp_path / "ctx"
    (ctx / "sub").mkdir(parents=True)
    (ctx / "msg.txt").write_text("hello-file\n")
    (ctx / "sub" / "a").write_text("sub-a\n")
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    return ctx


def test_build_with_run_and_cache(cli: Cli, context: Path) -> None:
    cli.image_root = cli.root  # a private image store: this test adds images
    cli.ok("build-base")
    out = cli.ok("build", "-t", "myapp:1", "--build-arg", "GREETING=yo", str(context))
    assert "STEP 8/12: RUN" in out and "Using cache" not in out
    lines = cli.ok("run", "--rm", "myapp:1").splitlines()
    assert lines[:4] == ["hello-file", "yo from run", "sub-a", "1500"]
    assert lines[4:6] == ["/app", "prod"] and "No such file" in lines[6]  # the RUN's rm is a whiteout
    config = json.loads(cli.ok("inspect", "myapp:1"))[0]["Config"]
    assert config["ExposedPorts"] == {"9000/tcp": {}} and config["Labels"] == {"org.example": "yes"}
    assert config["User"] == "appuser" and "MODE=prod" in config["Env"]
    again = cli.ok("build", "-t", "myapp:2", "--build-arg", "GREETING=yo", str(context))
    assert again.count("Using cache") == 3  # COPY, COPY, RUN
    (context / "sub" / "a").write_text("changed\n")
    third = cli.ok("build", "-t", "myapp:3", "--build-arg", "GREETING=yo", str(context))
    assert third.count("Using cache") == 1  # only the first COPY: its files did not change
    assert cli.ok("ps", "-aq") == ""  # RUN containers are gone


def test_build_failures_are_clear(cli: Cli, tmp_path: Path) -> None:
    ctx = tmp_path / "bad"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN exit 3\n")
    res = cli("build", "-t", "bad:1", str(ctx))
    assert res.returncode == 125 and "exited with code 3" in res.stderr
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY missing.txt /x\n")
    res = cli("build", str(ctx))
    assert res.returncode == 125 and "missing.txt: not found" in res.stderr
    assert cli.ok("ps", "-aq") == ""


def test_commit_makes_an_image_of_the_changes(cli: Cli) -> None:
    cli.image_root = cli.root
    cli.ok("build-base")
    cli.ok("run", "--name", "src", "busybox", "sh", "-c", "echo committed > /data.txt; rm /etc/passwd")
    image_id = cli.ok("commit", "src", "snap:1").strip()
    assert image_id.startswith("sha256:")
    out = cli.ok("run", "--rm", "snap:1", "sh", "-c", "cat /data.txt; ls /etc/passwd 2>&1; true")
    assert out.splitlines()[0] == "committed" and "No such file" in out


def test_dockerfile_parsing() -> None:
    ins = parse_dockerfile('FROM a\n# c\nRUN x \\\n  y\ncmd ["a"]\n')
    assert [(i.op, i.args) for i in ins] == [("FROM", "a"), ("RUN", "x  y"), ("CMD", '["a"]')]
    with pytest.raises(BuildError, match="line 2: unknown instruction BOGUS"):
        parse_dockerfile("FROM a\nBOGUS x\n")
    with pytest.raises(BuildError, match="FROM"):
        parse_dockerfile("RUN x\n")
    assert json_or_shell('["a", "b"]') == ["a", "b"] and json_or_shell("a b") == ["/bin/sh", "-c", "a b"]
    assert substitute("$A/${B}/$C", {"A": "1", "B": "2"}) == "1/2/"
    assert key_values('A=1 B="two words"') == {"A": "1", "B": "two words"} and key_values("K v w") == {
        "K": "v w"
    }
