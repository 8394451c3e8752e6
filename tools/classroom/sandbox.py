"""Run a plan (tools/classroom/runner.py) in a bubblewrap sandbox, with limits, and read its data.

What the sandbox sees (bubblewrap: Linux namespaces, no daemon, no root needed where user
namespaces are allowed): read-only, the system's /usr (and /bin, /lib*), this Python (its base
install and the virtual environment), the book's `helpers` package, the runner and the plan;
read-write, only a private scratch folder (also its /tmp and $HOME). No network (its own,
empty network namespace), its own PID namespace (every process it started dies with it), its
own IPC and hostname, no capabilities. Limits: CPU seconds and address space per process
(setrlimit), file size, number of processes (setrlimit, and a watchdog that counts the
sandbox's processes and their memory, since root is exempt from RLIMIT_NPROC), wall time
(the grader kills the whole sandbox), and output (only the first OUTPUT_HEAD bytes are kept).
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

RUNNER = Path(__file__).with_name("runner.py")
OUTPUT_HEAD = 64 << 10  # bytes of a submission's printed output kept for the log
MAX_DATA = 512 << 20  # bytes of answers a whole submission may hand out
MAX_PROCS = 64  # processes and threads in one sandbox (one exercise: half)
MEMORY_MB = 4096  # resident memory of one sandbox, all its processes together (one exercise: half)
ADDRESS_SPACE_MB = 8192  # virtual memory per process (torch alone maps about 3.3 GB)
FILE_MB = 256  # largest file the sandbox may write
INSTALL_HINT = (
    "bubblewrap (the `bwrap` command) is needed to grade students' code in a sandbox: run "
    "`make grade-deps` (Debian/Ubuntu: apt-get install bubblewrap), or pass UNSANDBOXED=1 "
    "(--unsandboxed) to run the students' code as your own user, with your files and network."
)


@dataclass
class Limits:
    wall_s: float = 600.0
    memory_mb: int = MEMORY_MB
    procs: int = MAX_PROCS


@dataclass
class Result:
    frames: list[tuple[dict, bytes]] = field(default_factory=list)
    output: bytes = b""
    dropped: int = 0  # bytes of output left out
    returncode: int | None = None
    stopped: str = ""  # why the grader stopped the sandbox ("" when it ended by itself)
    seconds: float = 0.0


def bwrap_problem() -> str:
    """'' when bubblewrap works here, else what is wrong (missing, or user namespaces refused)."""
    exe = shutil.which("bwrap")
    if exe is None:
        return "bubblewrap is not installed. " + INSTALL_HINT
    cmd = [exe, "--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return (
            f"bubblewrap cannot create a sandbox here ({proc.stderr.strip()[:200]}); "
            "it needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
            "or Ubuntu's AppArmor profile for bwrap). " + INSTALL_HINT
        )
    return ""


def _python_paths() -> list[str]:
    import helpers

    paths = {sys.base_prefix, sys.prefix, str(Path(helpers.__file__).resolve().parent)}
    # Both forms: a fresh clone's .venv is a link to a cached environment (tools/venv.py), and
    # the interpreter is started by the link's path.
    return sorted({str(Path(p).resolve()) for p in paths} | {str(Path(p).absolute()) for p in paths})


def command(plan_dir: Path, scratch: Path, fd: int) -> list[str]:
    """The bwrap command line that runs the runner on plan_dir/plan.json."""
    cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    cmd += ["--uid", "1000", "--gid", "1000", "--hostname", "sandbox"]
    cmd += ["--ro-bind", "/usr", "/usr"]
    for link in ("bin", "sbin", "lib", "lib64", "lib32"):
        target = Path("/") / link
        if target.is_symlink():
            cmd += ["--symlink", os.readlink(target), f"/{link}"]
        elif target.is_dir():
            cmd += ["--ro-bind", str(target), f"/{link}"]
    for etc in ("ld.so.cache", "alternatives", "fonts", "localtime", "mime.types"):
        if (Path("/etc") / etc).exists():
            cmd += ["--ro-bind", f"/etc/{etc}", f"/etc/{etc}"]
    (scratch / "tmp").mkdir(parents=True, exist_ok=True)
    cmd += ["--bind", str(scratch), "/scratch", "--bind", str(scratch / "tmp"), "/tmp"]
    for path in _python_paths():  # after /tmp: a checkout or a venv may live under /tmp
        cmd += ["--ro-bind", path, path]
    cmd += ["--ro-bind", str(RUNNER), "/grader/runner.py", "--ro-bind", str(plan_dir), "/input"]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm", "--chdir", "/scratch"]
    cmd += ["--clearenv"]
    for key, value in environment("/scratch", "/tmp").items():
        cmd += ["--setenv", key, value]
    cmd += [str(Path(sys.executable)), "-I", "/grader/runner.py", "/input/plan.json", str(fd)]
    return cmd


def environment(home: str, tmp: str) -> dict[str, str]:
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": tmp,
        "USER": "student",
        "LOGNAME": "student",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/.matplotlib",
        "XDG_CACHE_HOME": f"{home}/.cache",
        "IPYTHONDIR": f"{home}/.ipython",
        "OMP_NUM_THREADS": "1",  # several submissions run at a time
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
    }


def _limits(cpu_s: int, procs: int):
    def apply() -> None:
        os.setpgrp()
        mb = 1 << 20
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_MB * mb, ADDRESS_SPACE_MB * mb))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_MB * mb, FILE_MB * mb))
        resource.setrlimit(resource.RLIMIT_NPROC, (procs, procs))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)

    return apply


def _tree(pid: int) -> list[int]:
    """pid and every process below it (via /proc/<pid>/task/<tid>/children)."""
    found, todo = [], [pid]
    while todo and len(found) < 10_000:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            pass
    return found


def _usage(pids: list[int]) -> tuple[int, int]:
    """(threads, resident MB) of these processes."""
    threads = rss = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("Threads:"):
                        threads += int(line.split()[1])
                    elif line.startswith("VmRSS:"):
                        rss += int(line.split()[1]) // 1024
        except (OSError, ValueError):
            pass
    return threads, rss


def _kill(proc: subprocess.Popen) -> None:
    for pid in reversed(_tree(proc.pid)):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run(plan_dir: Path, scratch: Path, limits: Limits, sandboxed: bool = True) -> Result:
    """Run plan_dir/plan.json; kill everything at the end; return the frames and the output."""
    read_fd, write_fd = os.pipe()
    if sandboxed:
        cmd = command(plan_dir, scratch, write_fd)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        cwd = str(scratch)
    else:  # UNSANDBOXED=1: the same runner and limits, as the teacher's user
        (scratch / "tmp").mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-I", str(RUNNER), str(plan_dir / "plan.json"), str(write_fd)]
        env = environment(str(scratch), str(scratch / "tmp"))
        cwd = str(scratch)
    result = Result()
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=(write_fd,),
        preexec_fn=_limits(int(limits.wall_s) + 5, limits.procs * 4),
    )
    os.close(write_fd)
    data = bytearray()

    def read_data() -> None:
        while chunk := os.read(read_fd, 1 << 20):
            if len(data) < MAX_DATA:
                data.extend(chunk)

    def read_output() -> None:
        assert proc.stdout is not None
        while chunk := proc.stdout.read1(1 << 16):
            keep = max(0, OUTPUT_HEAD - len(result.output))
            result.output += chunk[:keep]
            result.dropped += len(chunk) - min(keep, len(chunk))

    readers = [threading.Thread(target=read_data), threading.Thread(target=read_output)]
    for t in readers:
        t.start()
    while proc.poll() is None:
        elapsed = time.monotonic() - start
        if elapsed > limits.wall_s:
            result.stopped = f"the notebook ran past the {limits.wall_s:g} s limit"
        else:
            threads, rss = _usage(_tree(proc.pid))
            if threads > limits.procs:
                result.stopped = f"it started more than {limits.procs} processes or threads"
            elif rss > limits.memory_mb:
                result.stopped = f"it used more than {limits.memory_mb} MB of memory"
        if result.stopped:
            _kill(proc)
            break
        time.sleep(0.05)
    proc.wait()
    for t in readers:
        t.join(timeout=10)
    os.close(read_fd)
    result.returncode = proc.returncode
    result.seconds = time.monotonic() - start
    if len(data) >= MAX_DATA:
        result.stopped = result.stopped or f"it handed out more than {MAX_DATA >> 20} MB of answers"
    result.frames = _frames(bytes(data))
    return result


def _frames(data: bytes) -> list[tuple[dict, bytes]]:
    import json

    frames, pos = [], 0
    while pos + 8 <= len(data):
        head_len, payload_len = struct.unpack_from("<II", data, pos)
        end = pos + 8 + head_len + payload_len
        if end > len(data):
            break
        head = json.loads(data[pos + 8 : pos + 8 + head_len])
        frames.append((head, data[pos + 8 + head_len : end]))
        pos = end
    return frames
