"""Who holds a TCP port: the listening socket's owner, read from /proc (Linux).

Used to say what is in the way when the probe server cannot bind. Best effort: on
another system, or for a process of another user whose file descriptors we may not
read, the answer is None and the message simply does not name it.
"""

from __future__ import annotations

from pathlib import Path

_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's `st` column


def port_holder(port: int, proc: Path = Path("/proc")) -> str | None:
    """`PID 123 (python -m http.server 8080)` for the process listening on `port`, or None."""
    inodes = _listening_inodes(port, proc)
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue  # gone, or not ours to read
        for fd in fds:
            try:
                if str(fd.readlink()) in wanted:
                    return f"PID {entry.name} ({_command(entry)})"
            except OSError:
                continue
    return None


def _listening_inodes(port: int, proc: Path) -> set[str]:
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if (
                len(fields) > 9
                and fields[3] == _LISTEN
                and int(fields[1].rsplit(":", 1)[1], 16) == port
            ):
                inodes.add(fields[9])
    return inodes


def _command(entry: Path) -> str:
    try:
        raw = (entry / "cmdline").read_bytes()
    except OSError:
        return "?"
    text = " ".join(raw.replace(b"\0", b" ").decode(errors="replace").split())
    return text[:120] or "?"
