"""A throwaway PostgreSQL server for the record tests.

``start()`` runs ``initdb`` and ``pg_ctl start`` on a temporary data directory, listening
only on a unix socket in that directory (no TCP port, so nothing clashes with another
server on the machine); PostgreSQL refuses to run as root, so as root the commands run as
the ``postgres`` system user (``runuser -u postgres --``), which Debian's ``postgresql``
package creates. Durability is switched off (``fsync=off``): the data is thrown away.
``stop()`` stops the server and removes the directory.

The server binaries are looked up in ``$IONTO_PG_BINDIR``, ``/usr/lib/postgresql/*/bin``
(Debian, newest version first) and the ``PATH``; ``make pg`` installs Debian's
``postgresql`` package when none is found. ``IONTO_TEST_PG_URL`` points the tests at an
existing server instead (a database the tests may create schemas in).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class Unavailable(RuntimeError):
    """No PostgreSQL server can be started here (the reason says why)."""


def bindir() -> Path | None:
    """The folder with ``initdb`` and ``pg_ctl``, or None."""
    env = os.environ.get("IONTO_PG_BINDIR")
    candidates = [Path(env)] if env else []
    found = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted((Path(p) for p in found), key=lambda p: _version(p), reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if (folder / "pg_ctl").is_file() and (folder / "initdb").is_file():
            return folder
    return None


def _version(path: Path) -> float:
    try:
        return float(path.parent.name)
    except ValueError:
        return 0.0


@dataclass
class Server:
    """A running server: its data directory, socket directory and the ``url`` of the
    ``ionto_test`` database on it."""

    root: Path
    bindir: Path
    as_user: list[str]
    url: str

    @property
    def data(self) -> Path:
        return self.root / "data"

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its files."""
        try:
            subprocess.run(
                [*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m",
                 "fast", "-w", "stop"],
                check=False, capture_output=True, timeout=60,
            )  # fmt: skip
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start(database: str = "ionto_test") -> Server:
    """Start a private server and create ``database`` on it (see the module doc)."""
    folder = bindir()
    if folder is None:
        raise Unavailable(
            "no PostgreSQL server binaries (initdb, pg_ctl) found; `make pg` installs "
            "Debian's postgresql package"
        )
    as_user: list[str] = []
    # /tmp: the postgres user must reach it (a root-only $TMPDIR would not do), and a
    # short path keeps the socket's name under the 107-byte limit
    root = Path(tempfile.mkdtemp(prefix="ionto-pg-", dir="/tmp" if os.geteuid() == 0 else None))
    user = pwd.getpwuid(os.getuid()).pw_name
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise Unavailable("running as root and there is no 'postgres' user") from None
        runuser = shutil.which("runuser")
        if runuser is None:
            shutil.rmtree(root, ignore_errors=True)
            raise Unavailable("running as root and runuser is not installed") from None
        os.chown(root, pw.pw_uid, pw.pw_gid)
        as_user = [runuser, "-u", "postgres", "--"]
        user = "postgres"
    data = root / "data"
    log = root / "server.log"
    server = Server(root, folder, as_user, "")

    def run(*args: str) -> None:
        done = subprocess.run([*as_user, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            server_log = log.read_text()[-1000:] if log.exists() else ""
            raise Unavailable(f"{Path(args[0]).name} failed: {tail} {server_log}".strip())

    options = (
        f"-k {root} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=50"
    )
    try:
        run(str(folder / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E",
            "UTF8", "--no-sync", "--locale=C")  # fmt: skip
        run(str(folder / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w",
            "-t", "60", "start")  # fmt: skip
        run(str(folder / "createdb"), "-h", str(root), "-U", user, database)
    except BaseException:
        server.stop()
        raise
    server.url = f"postgresql+psycopg://{user}@/{database}?host={root}"
    return server
