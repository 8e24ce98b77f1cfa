#!/usr/bin/env python3
"""Request creation as a client sees it: a running `wujia serve`, driven from outside by wrk.

Starts the release binary on a demo community (SQLite in a temporary directory, or a fresh PostgreSQL database),
logs in as community staff, and posts what a resident's request costs (318 bytes of Chinese, a place or a
household's address) with wrk at each concurrency. Reports the rate, p50/p99, errors, the server's CPU time per
request and its resident memory idle, at peak and after a rest, next to the rate at which the same disk commits
one-row SQLite transactions (group commit must beat one fsync per request).

    cargo build --release
    python3 scripts/bench-outside.py --clients 16,64 --seconds 20
    python3 scripts/bench-outside.py --postgres postgres://user:pass@127.0.0.1:5432/postgres

Needs wrk (Debian: apt-get install wrk). Results go to BENCHMARKS.md by hand, with the command that gave them.
"""

import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

# Three sentences a resident says about a broken street lamp at the east gate: 318 bytes of UTF-8.
DESCRIPTION = (
    "东门的路灯坏了好几天了，晚上进出小区特别黑，老人走路很不方便。"
    "昨天晚上还有一位阿姨在门口台阶上摔了一跤，幸好没有大碍。"
    "我家就住在东门旁边的七号楼，晚上从窗户看出去，门口黑漆漆一片。"
    "麻烦物业尽快派人来修一下，谢谢。"
)
PLACE = "东门"
ADDRESS = "琉璃井路3号院7号楼1单元102"
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read() or b"null")


def psql(url, sql):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Server:
    def __init__(self, binary, data_dir, database_url):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, WUJIA_LOG="warn")
        cmd = [binary, "serve", "--demo", "--data-dir", data_dir, "--listen", f"127.0.0.1:{self.port}"]
        if database_url:
            cmd += ["--database-url", database_url]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.logins = {}
        deadline = time.time() + 600
        for line in self.proc.stdout:
            m = re.match(r"\s+(\S+)\s+(wt-\S+)\s+(\S+)\s", line)
            if m:
                self.logins[m.group(1)] = m.group(2)
            if "listening on" in line:
                break
            if time.time() > deadline:
                raise SystemExit("the server did not start")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        self.pid = self.proc.pid

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def wrk_script(path, token, body):
    lua = f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.body = [==[{json.dumps(body, ensure_ascii=False)}]==]
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %f %f %f %d %d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(lua)


def one_row_commits(directory, seconds=3.0):
    """One-row transactions per second on this disk, SQLite WAL with synchronous=FULL, as the server uses."""
    path = os.path.join(directory, "fsync-probe.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    n, start = 0, time.time()
    while time.time() - start < seconds:
        db.execute("BEGIN")
        db.execute("INSERT INTO t (v) VALUES (?)", (DESCRIPTION,))
        db.execute("COMMIT")
        n += 1
    rate = n / (time.time() - start)
    db.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return rate


def run_wrk(base, script, clients, seconds, pid):
    peak = [proc_rss_mb(pid)]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], proc_rss_mb(pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    cpu0 = proc_cpu_seconds(pid)
    sampler.start()
    out = subprocess.run(
        ["wrk", f"-t{min(clients, 4)}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", script,
         f"{base}/api/v1/requests"],
        capture_output=True, text=True, check=True,
    ).stdout
    stop.set()
    sampler.join()
    cpu = proc_cpu_seconds(pid) - cpu0
    m = re.search(r"RESULT (\d+) (\S+) (\S+) (\S+) (\d+) (\d+)", out)
    if not m:
        raise SystemExit(f"wrk gave no result:\n{out}")
    requests, duration, p50, p99, socket_errors, status_errors = m.groups()
    requests = int(requests)
    return {
        "rate": requests / float(duration),
        "p50_ms": float(p50),
        "p99_ms": float(p99),
        "errors": int(socket_errors) + int(status_errors),
        "cpu_ms_per_request": 1000 * cpu / max(requests, 1),
        "peak_rss_mb": peak[0],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wujia", default="target/release/wujia")
    ap.add_argument("--postgres", help="an admin URL of PostgreSQL: a fresh database is created and dropped")
    ap.add_argument("--clients", default="16,64")
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=1, help="interleaved rounds of every concurrency and body")
    ap.add_argument("--rest", type=int, default=60, help="seconds of rest before the memory is read again")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    clients = [int(c) for c in args.clients.split(",")]
    work = tempfile.mkdtemp(prefix="wujia-bench-outside-")
    database_url, dbname = None, None
    if args.postgres:
        dbname = f"wujia_bench_{os.getpid()}"
        psql(args.postgres, f'CREATE DATABASE "{dbname}"')
        database_url = re.sub(r"/[^/]*$", f"/{dbname}", args.postgres)
    try:
        disk = one_row_commits(work)
        server = Server(args.wujia, os.path.join(work, "data"), database_url)
        try:
            token = http("POST", f"{server.base}/api/v1/sessions", body={
                "username": "zhangli", "password": server.logins["zhangli"]})["token"]
            cats = http("GET", f"{server.base}/api/v1/categories", token)
            leaves = [c for c in cats if c["active"] and c["leaf"]]
            # A broken street lamp is a damaged public facility.
            category = next((c for c in leaves if c["code"] == "property.repair.public"), leaves[0])
            bodies = {
                "place": {"category_id": category["id"], "description": DESCRIPTION, "channel": "phone",
                          "location": PLACE},
                "address": {"category_id": category["id"], "description": DESCRIPTION, "channel": "phone",
                            "location": ADDRESS},
            }
            scripts = {}
            for name, body in bodies.items():
                scripts[name] = os.path.join(work, f"{name}.lua")
                wrk_script(scripts[name], token, body)
            time.sleep(2)
            idle = proc_rss_mb(server.pid)
            backend = "PostgreSQL" if database_url else "SQLite"
            print(f"wujia from outside: {backend}, category {category['name_zh']!r}, description "
                  f"{len(DESCRIPTION.encode())} bytes, {args.seconds} s per run, {args.rounds} round(s)")
            print(f"one-row SQLite transactions on this disk (WAL, synchronous=FULL): {disk:,.0f}/s")
            print(f"idle RSS {idle:.0f} MB")
            print("| body | clients | creations/s | p50 ms | p99 ms | errors | server CPU ms/request | peak RSS MB |")
            print("| --- | --- | --- | --- | --- | --- | --- | --- |")
            for _ in range(args.rounds):
                for n in clients:
                    for name in bodies:
                        r = run_wrk(server.base, scripts[name], n, args.seconds, server.pid)
                        print(f"| {name} | {n} | {r['rate']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                              f"{r['errors']} | {r['cpu_ms_per_request']:.2f} | {r['peak_rss_mb']:.0f} |", flush=True)
            time.sleep(args.rest)
            print(f"RSS after {args.rest} s of rest: {proc_rss_mb(server.pid):.0f} MB (idle was {idle:.0f} MB)")
        finally:
            server.stop()
    finally:
        if dbname:
            psql(args.postgres, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
