#!/usr/bin/env python
"""Gateway overhead benchmark (not a test): what the internal chat route adds to a provider call.

An upstream that costs almost nothing (Debian's nginx returning fixed OpenAI- and Anthropic-shaped
bodies, config in bench/nginx.conf.template), the service on loopback with one uvicorn worker, and
`wrk` as the load generator (bench/chat.lua). The same chat request is sent

  direct          straight to nginx (OpenAI-shaped /v1/chat/completions)
  passthrough     through bench/passthrough.py, a 20-line FastAPI proxy: the floor for this stack
  byok-openai     through POST /internal/v1/sessions/{id}/chat/completions, an openai-key session
  byok-anthropic  the same for an anthropic-key session (the translation path)

at concurrency 1 and 16, and the script prints p50/p99 latency, requests/s, the p50 each path adds
over direct, and its requests/s as a share of the pass-through floor, with the issue's targets.

    python bench/gateway_overhead.py [--quick] [--db sqlite|postgres] [--json out.json]
    python bench/gateway_overhead.py --transports httpx,aiohttp
        # the floor on httpx's own transport and on httpx-aiohttp's, beside the service

Every run also reports the CPU used by the process under test and by the rest of the machine;
a run disturbed by other work is measured again (--wait-quiet, --retry-noisy).

Only loopback addresses are used; every process and temporary directory is removed at the end,
also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
LOOPBACK = "127.0.0.1"
CHAT_BODY = '{"model":"x","messages":[{"role":"user","content":"hi"}],"max_tokens":16}'
ADMIN_TOKEN = "bench-admin-" + secrets.token_hex(16)
INTERNAL_TOKEN = "bench-internal-" + secrets.token_hex(16)
PG_HOST, PG_PORT = LOOPBACK, 5432

# Targets of issue 3 ("Hot path"), checked for the byok paths.
TARGET_ADDED_P50_MS = 1.0  # at concurrency 1, over direct
TARGET_FLOOR_SHARE = 0.70  # at concurrency 16, of the pass-through floor's requests/s


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why."""


@dataclass
class Result:
    path: str
    concurrency: int
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors: dict[str, int] = field(default_factory=dict)
    added_p50_ms: float | None = None
    #: requests/s as a share of each pass-through floor's at the same concurrency
    floor_share: dict[str, float] = field(default_factory=dict)
    #: CPU used while measured, in % of one core: the server under test (its process group),
    #: wrk, and everything else on the machine (other processes, steal): the run's noise.
    server_cpu: float | None = None
    wrk_cpu: float | None = None
    other_cpu: float | None = None

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


# --------------------------------------------------------------------------- processes


class Processes:
    """Child processes, each in its own session so that it can be ended with its own children."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "wb")
        try:
            proc = subprocess.Popen(
                argv,
                env=env,
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        self.running.append((name, proc))
        return proc

    def pgid(self, name: str) -> int:
        return next(proc.pid for n, proc in self.running if n == name)

    def pgids(self) -> set[int]:
        return {proc.pid for _, proc in self.running}

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, name: str) -> None:
        for entry in list(self.running):
            if entry[0] == name:
                self._end(entry[1])
                self.running.remove(entry)

    def stop_all(self) -> None:
        while self.running:
            _, proc = self.running.pop()
            self._end(proc)

    @staticmethod
    def _end(proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is not None:
            return
        # The child leads its own process group (start_new_session): end it and its workers.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


CLK_TCK = os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds spent by the whole machine so far (user, nice, system, irq, softirq, steal)."""
    with open("/proc/stat") as fh:
        v = [int(x) for x in fh.readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / CLK_TCK


#: The benchmark's own PostgreSQL databases: their server processes count as the benchmark's CPU.
DATABASES: list[str] = []


def group_cpu_s(pgids: set[int], *, databases: bool = False) -> float:
    """CPU seconds used by the live processes of these process groups (and, with ``databases``,
    by the PostgreSQL backends serving the benchmark's databases)."""
    ticks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                data = fh.read()
            fields = data[data.rfind(")") + 2 :].split()
            ours = int(fields[2]) in pgids
            if not ours and databases and DATABASES and data[data.find("(") + 1 :].startswith("postgres"):
                with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                    cmdline = fh.read().decode(errors="replace")
                ours = any(f" {name} " in cmdline for name in DATABASES)
        except OSError:
            continue
        if ours:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def own_cpu_s() -> tuple[float, float]:
    """CPU seconds of this script and of its waited-for children (wrk, once it has ended)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def wait_quiet(pgids: set[int], limit_s: float, threshold: float = 0.10) -> float:
    """Wait (at most ``limit_s``) for a second in which other processes use < ``threshold`` of a core.

    Returns the last second's foreign load, in cores.
    """
    deadline = time.monotonic() + limit_s
    while True:
        busy, ours, (me, _) = machine_busy_s(), group_cpu_s(pgids, databases=True), own_cpu_s()
        time.sleep(1.0)
        ours = group_cpu_s(pgids, databases=True) - ours
        other = (machine_busy_s() - busy) - ours - (own_cpu_s()[0] - me)
        if other < threshold or time.monotonic() >= deadline:
            return other
        print(f"  (machine busy: other processes use {other:.0%} of a core; waiting)", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_http(
    procs: Processes,
    name: str,
    proc: subprocess.Popen[bytes],
    url: str,
    *,
    method: str = "GET",
    timeout: float = 30.0,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{name} exited with {proc.returncode}:\n{procs.log_tail(name)}")
        try:
            response = httpx.request(
                method, url, timeout=1.0, content=CHAT_BODY if method == "POST" else None
            )
            if response.status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise BenchError(f"{name} did not answer {url} within {timeout:.0f}s:\n{procs.log_tail(name)}")


def find_tool(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for d in ("/usr/sbin", "/usr/bin", "/sbin") if (p := Path(d) / name).exists()), None
    )
    if not found:
        raise BenchError(f"`{name}` is not installed (Debian: apt-get install {name})")
    return found


def tool_version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (out.stdout + out.stderr).strip().splitlines()
    return text[0].strip() if text else "?"


# --------------------------------------------------------------------------- nginx


def start_nginx(procs: Processes, nginx: str, work: Path) -> tuple[int, int]:
    prefix = work / "nginx"
    prefix.mkdir()
    openai_port, anthropic_port = free_port(), free_port()
    conf = (BENCH_DIR / "nginx.conf.template").read_text()
    for key, value in {
        "PREFIX": str(prefix),
        "OPENAI_PORT": openai_port,
        "ANTHROPIC_PORT": anthropic_port,
    }.items():
        conf = conf.replace(f"@{key}@", str(value))
    if leftover := re.findall(r"@[A-Z_]+@", conf):
        raise BenchError(f"nginx.conf.template has unknown fields {leftover}")
    (prefix / "nginx.conf").write_text(conf)
    argv = [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]
    check = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=20)
    if check.returncode != 0:
        raise BenchError(f"nginx refuses the config:\n{check.stderr}")
    proc = procs.start("nginx", argv)
    wait_http(procs, "nginx", proc, f"http://{LOOPBACK}:{openai_port}/v1/models")
    wait_http(procs, "nginx", proc, f"http://{LOOPBACK}:{anthropic_port}/v1/models")
    return openai_port, anthropic_port


# --------------------------------------------------------------------------- the service


async def _pg(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="postgres", timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def service_env(
    work: Path, name: str, db: str, pg_name: str | None, openai_port: int, anthropic_port: int
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BYOK_")}
    data_dir = work / f"{name}-data"
    data_dir.mkdir()
    env.update(
        {
            "BYOK_ENV": "development",
            "BYOK_DATA_DIR": str(data_dir),
            "BYOK_ALLOW_PRIVATE_NETWORKS": "true",
            "BYOK_OPENAI_BASE_URL": f"http://{LOOPBACK}:{openai_port}/v1",
            "BYOK_ANTHROPIC_BASE_URL": f"http://{LOOPBACK}:{anthropic_port}",
            "BYOK_ADMIN_TOKEN": ADMIN_TOKEN,
            "BYOK_INTERNAL_TOKEN": INTERNAL_TOKEN,
            "BYOK_MASTER_KEYS": Fernet.generate_key().decode(),
            "BYOK_LOG_LEVEL": "warning",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if db == "postgres":
        env["BYOK_DATABASE_URL"] = f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{pg_name}"
    else:
        env["BYOK_DATABASE_URL"] = f"sqlite+aiosqlite:///{data_dir / 'byok.db'}"
    return env


def start_service(procs: Processes, name: str, env: dict[str, str]) -> str:
    migrate = subprocess.run(
        [sys.executable, "-m", "byok.cli", "migrate"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if migrate.returncode != 0:
        raise BenchError(f"byok migrate failed:\n{migrate.stdout}{migrate.stderr}")
    port = free_port()
    # What `byok serve` runs (uvicorn, one worker), without the access log.
    argv = [sys.executable, "-m", "uvicorn", "byok.main:app", "--host", LOOPBACK, "--port", str(port)]
    argv += ["--workers", "1", "--no-access-log", "--log-level", "warning"]
    proc = procs.start(name, argv, env)
    base = f"http://{LOOPBACK}:{port}"
    wait_http(procs, name, proc, f"{base}/healthz")
    return base


def expect(response: httpx.Response, status: int, what: str) -> dict[str, Any]:
    if response.status_code != status:
        raise BenchError(f"{what}: HTTP {response.status_code} {response.text[:500]}")
    return response.json()  # type: ignore[no-any-return]


def set_up_sessions(base: str) -> tuple[dict[str, str], str | None]:
    """Project, two keys and one session per key through the public API.

    Returns the session ids by provider, or an empty dict and the reason when the sessions
    route is not there yet.
    """
    with httpx.Client(base_url=base, timeout=30.0) as client:
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        project = expect(
            client.post("/v1/projects", json={"name": "bench"}, headers=admin), 201, "create project"
        )
        project_id, api_key = project["data"]["id"], project["data"]["api_key"]
        headers = {"anchor-api-key": api_key}
        for provider in ("openai", "anthropic"):
            body = {"key_slug": f"bench-{provider}", "provider": provider, "api_key": f"sk-bench-{provider}"}
            expect(
                client.post(f"/v1/projects/{project_id}/keys", json=body, headers=headers),
                201,
                f"{provider} key",
            )
        sessions: dict[str, str] = {}
        for provider in ("openai", "anthropic"):
            response = client.post("/v1/sessions", json={"key_slug": f"bench-{provider}"}, headers=headers)
            if response.status_code in (404, 405) and "not_found" in response.text and not sessions:
                return {}, "POST /v1/sessions is not served yet"
            sessions[provider] = expect(response, 200, f"{provider} session")["data"]["id"]
    return sessions, None


def check_chat(url: str, auth: str | None, what: str) -> str | None:
    """One request before the load: None when the reply is a chat.completion, else why not."""
    headers = {"content-type": "application/json"}
    if auth:
        headers["authorization"] = auth
    try:
        response = httpx.post(url, content=CHAT_BODY, headers=headers, timeout=30.0)
    except httpx.HTTPError as exc:
        return f"{what}: {exc!r}"
    if response.status_code != 200:
        return f"{what}: HTTP {response.status_code} {response.text[:300]}"
    try:
        body = response.json()
    except ValueError:
        return f"{what}: not JSON: {response.text[:300]}"
    if body.get("object") != "chat.completion" or not body.get("choices") or "usage" not in body:
        return f"{what}: not a chat.completion: {response.text[:300]}"
    return None


# --------------------------------------------------------------------------- load


def run_wrk(wrk: str, url: str, auth: str | None, concurrency: int, seconds: int) -> dict[str, Any]:
    threads = min(2, concurrency)
    env = {**os.environ, "BENCH_BODY": CHAT_BODY, "BENCH_AUTH": auth or ""}
    argv = [wrk, f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    argv += ["-s", str(BENCH_DIR / "chat.lua"), url]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 60)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))  # type: ignore[no-any-return]
    raise BenchError(f"wrk printed no result (exit {out.returncode}):\n{out.stdout}\n{out.stderr}")


def measure(
    wrk: str,
    name: str,
    url: str,
    auth: str | None,
    concurrency: int,
    warmup: int,
    duration: int,
    *,
    server_pgid: int,
    all_pgids: set[int],
) -> Result:
    if warmup > 0:
        run_wrk(wrk, url, auth, concurrency, warmup)
    busy0, server0, ours0, (me0, kids0) = (
        machine_busy_s(),
        group_cpu_s({server_pgid}),
        group_cpu_s(all_pgids, databases=True),
        own_cpu_s(),
    )
    raw = run_wrk(wrk, url, auth, concurrency, duration)
    busy1, server1, ours1, (me1, kids1) = (
        machine_busy_s(),
        group_cpu_s({server_pgid}),
        group_cpu_s(all_pgids, databases=True),
        own_cpu_s(),
    )
    seconds = raw["duration_us"] / 1e6
    wall = max(seconds, 0.001)
    other = (busy1 - busy0) - (ours1 - ours0) - (kids1 - kids0) - (me1 - me0)
    result = Result(
        path=name,
        concurrency=concurrency,
        requests=raw["requests"],
        duration_s=round(seconds, 3),
        rps=round(raw["requests"] / seconds, 1) if seconds else 0.0,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        mean_ms=round(raw["mean_us"] / 1000, 3),
        max_ms=raw["max_us"] / 1000,
        errors={k: v for k, v in raw["errors"].items() if v},
        server_cpu=round(100 * (server1 - server0) / wall),
        wrk_cpu=round(100 * (kids1 - kids0) / wall),
        other_cpu=round(100 * max(0.0, other) / wall),
    )
    flag = f"  ERRORS {result.errors}" if result.errors else ""
    print(
        f"  {name:<24} c={concurrency:<3} p50 {result.p50_ms:7.3f} ms  p99 {result.p99_ms:7.3f} ms  "
        f"{result.rps:8.1f} req/s  cpu: server {result.server_cpu}% wrk {result.wrk_cpu}% "
        f"other {result.other_cpu}%{flag}",
        flush=True,
    )
    return result


# --------------------------------------------------------------------------- report


def annotate(results: list[Result], floors: list[str]) -> None:
    by = {(r.path, r.concurrency): r for r in results}
    for r in results:
        direct = by.get(("direct", r.concurrency))
        if direct and r.path != "direct":
            r.added_p50_ms = round(r.p50_ms - direct.p50_ms, 3)
        for floor_path in floors:
            floor = by.get((floor_path, r.concurrency))
            if floor and floor.rps and r.path != "direct":
                r.floor_share[floor_path] = round(r.rps / floor.rps, 4)


def targets(results: list[Result], floors: list[str]) -> list[dict[str, Any]]:
    checks = []
    for r in results:
        if not r.path.startswith("byok"):
            continue
        if r.concurrency == 1 and r.added_p50_ms is not None:
            ok = r.added_p50_ms <= TARGET_ADDED_P50_MS and not r.errors
            checks.append(
                {
                    "path": r.path,
                    "target": f"added p50 <= {TARGET_ADDED_P50_MS:g} ms at c=1",
                    "value": f"{r.added_p50_ms:+.3f} ms",
                    "pass": ok,
                }
            )
        for floor_path in floors:
            share = r.floor_share.get(floor_path)
            if r.concurrency != 16 or share is None:
                continue
            checks.append(
                {
                    "path": r.path,
                    "target": f">= {TARGET_FLOOR_SHARE:.0%} of {floor_path} req/s at c=16",
                    "value": f"{share:.0%}",
                    "pass": share >= TARGET_FLOOR_SHARE and not r.errors,
                }
            )
    return checks


NOISY_OTHER_CPU = 15  # % of one core used by other processes during a run


def noisy(r: Result) -> bool:
    return (r.other_cpu or 0) > NOISY_OTHER_CPU


def print_table(results: list[Result], floors: list[str]) -> None:
    head = (
        "path",
        "conc",
        "p50 ms",
        "p99 ms",
        "req/s",
        "+p50 vs direct",
        *(f"rps % of {f.removeprefix('passthrough-')} floor" for f in floors),
        "server cpu",
        "other cpu",
        "errors",
    )
    rows = [
        (
            r.path,
            str(r.concurrency),
            f"{r.p50_ms:.3f}",
            f"{r.p99_ms:.3f}",
            f"{r.rps:.0f}",
            "-" if r.added_p50_ms is None else f"{r.added_p50_ms:+.3f} ms",
            *(f"{r.floor_share[f]:.0%}" if f in r.floor_share else "-" for f in floors),
            f"{r.server_cpu}%",
            f"{r.other_cpu}%" + (" !" if noisy(r) else ""),
            str(r.error_count),
        )
        for r in sorted(results, key=lambda r: r.concurrency)
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("| " + " | ".join(cells) + " |")


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per path and concurrency")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before each run")
    parser.add_argument("--quick", action="store_true", help="3 s runs after a 1 s warm-up")
    parser.add_argument("--concurrency", default="1,16", help="comma-separated connection counts")
    parser.add_argument(
        "--db", choices=("sqlite", "postgres"), default="sqlite", help="the service's database"
    )
    parser.add_argument(
        "--transports",
        default="httpx",
        help="transports of the pass-through proxy, comma-separated (httpx, aiohttp): one floor each",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="before each run, wait up to this long for other processes to leave the CPUs (0: never)",
    )
    parser.add_argument(
        "--retry-noisy",
        type=int,
        default=2,
        metavar="N",
        help="measure a disturbed run again, up to N times, keeping the quietest",
    )
    parser.add_argument("--skip-byok", action="store_true", help="measure only direct and the pass-through")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep-temp", action="store_true", help="keep the temp dir (logs, nginx config)")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 3, 1
    args.concurrency = [int(c) for c in str(args.concurrency).split(",") if c.strip()]
    args.transports = [t.strip() for t in str(args.transports).split(",") if t.strip()]
    for t in args.transports:
        if t not in ("httpx", "aiohttp"):
            parser.error(f"unknown transport {t!r}")
    if args.duration < 1 or args.warmup < 0 or not args.concurrency or min(args.concurrency) < 1:
        parser.error("durations and concurrency must be positive")
    return args


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    nginx, wrk = find_tool("nginx"), find_tool("wrk")
    # Ctrl-C, kill and a closed terminal all end in the same clean-up (even when started with
    # SIGINT ignored, as a shell's background job is).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    work = Path(tempfile.mkdtemp(prefix="byok-bench-"))
    logs = work / "logs"
    logs.mkdir()
    procs = Processes(logs)
    pg_names: list[str] = []
    results: list[Result] = []
    notes: list[str] = []
    floors: list[str] = []
    try:
        print(f"temp dir {work}", flush=True)
        openai_port, anthropic_port = start_nginx(procs, nginx, work)
        direct_url = f"http://{LOOPBACK}:{openai_port}/v1/chat/completions"
        provider_auth = "Bearer sk-bench-openai"
        paths: list[tuple[str, str, str | None, str]] = [("direct", direct_url, provider_auth, "nginx")]

        for transport in args.transports:
            name = f"passthrough-{transport}"
            port = free_port()
            argv_pt = [sys.executable, str(BENCH_DIR / "passthrough.py"), "--port", str(port)]
            argv_pt += ["--upstream", f"http://{LOOPBACK}:{openai_port}/v1", "--transport", transport]
            proc = procs.start(name, argv_pt)
            url = f"http://{LOOPBACK}:{port}/v1/chat/completions"
            wait_http(procs, name, proc, url, method="POST")
            paths.append((name, url, provider_auth, name))
        floors = [f"passthrough-{t}" for t in args.transports]

        if not args.skip_byok:
            service = "byok"
            pg_name = None
            if args.db == "postgres":
                pg_name = "byok_bench_" + secrets.token_hex(4)
                asyncio.run(_pg(f'CREATE DATABASE "{pg_name}"'))
                pg_names.append(pg_name)
                DATABASES.append(pg_name)
            env = service_env(work, service, args.db, pg_name, openai_port, anthropic_port)
            base = start_service(procs, service, env)
            try:
                sessions, why = set_up_sessions(base)
            except BenchError as exc:
                raise BenchError(f"{exc}\nservice log:\n{procs.log_tail(service, 15)}") from None
            if why:
                notes.append(f"{service} paths skipped: {why}")
            internal = f"Bearer {INTERNAL_TOKEN}"
            for provider, session_id in sessions.items():
                url = f"{base}/internal/v1/sessions/{session_id}/chat/completions"
                if problem := check_chat(url, internal, f"{service} {provider}"):
                    notes.append(f"byok-{provider} skipped: {problem}")
                    continue
                paths.append((f"byok-{provider}", url, internal, service))

        for name, url, auth, _ in paths[: 1 + len(args.transports)]:
            if problem := check_chat(url, auth, name):
                raise BenchError(problem)
        for note in notes:
            print(f"NOTE: {note}", flush=True)

        print(
            f"load: wrk, {args.warmup}s warm-up + {args.duration}s per run, concurrency {args.concurrency}",
            flush=True,
        )
        for concurrency in args.concurrency:
            for name, url, auth, server in paths:
                pgids = procs.pgids()
                best: Result | None = None
                for attempt in range(1 + args.retry_noisy):
                    if attempt:
                        print(f"  (run disturbed by other processes; again, {attempt}/{args.retry_noisy})")
                    if args.wait_quiet > 0:
                        wait_quiet(pgids, args.wait_quiet)
                    result = measure(
                        wrk,
                        name,
                        url,
                        auth,
                        concurrency,
                        args.warmup,
                        args.duration,
                        server_pgid=procs.pgid(server),
                        all_pgids=pgids,
                    )
                    if best is None or (result.other_cpu or 0) < (best.other_cpu or 0):
                        best = result
                    if not noisy(result):
                        break
                assert best is not None
                results.append(best)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        procs.stop_all()
        for pg_name in pg_names:
            try:
                asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            except Exception as exc:
                print(f"could not drop database {pg_name}: {exc!r}", file=sys.stderr)
        if args.keep_temp:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    annotate(results, floors)
    checks = targets(results, floors)
    print()
    print(
        f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{tool_version([nginx, '-v'])}, {tool_version([wrk, '-v'])}; db {args.db}; "
        f"{args.duration}s per run after {args.warmup}s warm-up"
    )
    print_table(results, floors)
    print()
    if not checks:
        print("targets: no byok path measured")
    width = max((len(c["path"]) for c in checks), default=0)
    for check in checks:
        verdict = "PASS" if check["pass"] else "MISS"
        print(f"{verdict}  {check['path']:<{width}}  {check['target']}: {check['value']}")
    for note in notes:
        print(f"NOTE: {note}")
    if any(noisy(r) for r in results):
        print(
            f"! other processes used more than {NOISY_OTHER_CPU}% of a core during that run: "
            "its figures are disturbed; run again on a quiet machine"
        )
    if args.json:
        report = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "settings": {
                "duration_s": args.duration,
                "warmup_s": args.warmup,
                "db": args.db,
                "transports": args.transports,
                "wait_quiet_s": args.wait_quiet,
                "floors": floors,
                "body": CHAT_BODY,
            },
            "results": [asdict(r) for r in results],
            "targets": checks,
            "notes": notes,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
