#!/usr/bin/env python3
"""Load for coffer-server on loopback: many devices over many accounts, for a bounded time.

Each simulated device keeps one keep-alive connection and, on average once per --interval seconds
(an open loop: arrivals do not wait for answers), does what a real device does: a no-change sync
(most of the time), a token refresh, or a one-item push followed by a manifest publication. The
server sees only opaque bytes, so the devices send random sealed-box-shaped payloads.

Behind a reverse proxy every device shares the proxy's address; run the server with
`--trusted-proxy 127.0.0.1/32` and each device sends its own X-Forwarded-For, as a proxy would.

Prints requests per second, p50/p99 per route, errors by status (409 on a publication race is
expected and counted apart) and each server's peak memory (with --server-pid, repeatable).

    scripts/loadtest.py --server http://127.0.0.1:8080 --devices 1000 --accounts 100 --duration 300

scripts/load-deployment.sh starts a whole deployment (one SQLite server, or two servers on
PostgreSQL behind HAProxy) and runs this against it.
"""

import argparse
import asyncio
import base64
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections import defaultdict
from urllib.parse import urlparse


def box(size=80):
    return base64.b64encode(b"\x01" + os.urandom(size)).decode()


class Connection:
    """One HTTP/1.1 keep-alive connection, reopened when the server closes it."""

    def __init__(self, host, port, forwarded_for):
        self.host, self.port, self.forwarded_for = host, port, forwarded_for
        self.reader = self.writer = None

    async def request(self, method, path, body=None, token=None):
        for attempt in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            data = json.dumps(body).encode() if body is not None else b""
            head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: application/json"]
            if token:
                head.append(f"Authorization: Bearer {token}")
            if self.forwarded_for:
                head.append(f"X-Forwarded-For: {self.forwarded_for}")
            if body is not None:
                head += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
            try:
                self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
                await self.writer.drain()
                status_line = await self.reader.readline()
                if not status_line:
                    raise ConnectionError("closed")
                status = int(status_line.split()[1])
                length, close = 0, False
                while True:
                    line = await self.reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.decode().partition(":")
                    if name.lower() == "content-length":
                        length = int(value.strip())
                    if name.lower() == "connection" and value.strip().lower() == "close":
                        close = True
                payload = await self.reader.readexactly(length) if length else b""
                if close:
                    self.writer.close()
                    self.writer = None
                return status, payload
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                if self.writer:
                    self.writer.close()
                self.writer = None
                if attempt == 1:
                    raise
        raise ConnectionError("unreachable")


class Stats:
    def __init__(self):
        self.latencies = defaultdict(list)
        self.statuses = defaultdict(lambda: defaultdict(int))

    def record(self, route, status, seconds):
        self.latencies[route].append(seconds)
        self.statuses[route][status] += 1


class Device:
    def __init__(self, account, index, host, port, forwarded):
        self.account = account
        self.id = str(uuid.uuid4())
        address = f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}" if forwarded else None
        self.connection = Connection(host, port, address)
        self.access = self.refresh = None
        self.cursor = 0
        self.items = {}

    async def call(self, stats, route, method, path, body=None, token=None):
        started = time.perf_counter()
        status, payload = await self.connection.request(method, path, body, token)
        stats.record(route, status, time.perf_counter() - started)
        return status, payload

    async def sign_in(self, stats):
        account = self.account
        if not account["registered"]:
            body = {
                "email": account["email"], "accountID": account["id"],
                "kdf": {"memoryKiB": 65536, "iterations": 3, "parallelism": 4},
                "salt": base64.b64encode(os.urandom(16)).decode(), "authKey": account["authKey"],
                "recoveryAuthKey": base64.b64encode(os.urandom(32)).decode(),
                "passwordWrappedKey": box(), "recoveryWrappedKey": box(),
                "device": {"id": self.id, "name": f"load-{self.id[:8]}"},
            }
            status, payload = await self.call(stats, "register", "POST", "/api/v1/register", body)
            account["registered"] = status == 201
        else:
            body = {"email": account["email"], "authKey": account["authKey"],
                    "device": {"id": self.id, "name": f"load-{self.id[:8]}"}}
            status, payload = await self.call(stats, "login", "POST", "/api/v1/login", body)
        if status not in (200, 201):
            raise RuntimeError(f"sign-in failed with {status}: {payload[:200]!r}")
        session = json.loads(payload)
        self.access, self.refresh = session["accessToken"], session["refreshToken"]

    async def sync(self, stats):
        status, payload = await self.call(stats, "sync (pull)", "GET", f"/api/v2/sync?after={self.cursor}",
                                          token=self.access)
        if status == 200:
            page = json.loads(payload)
            self.cursor = page["cursor"]
            manifest = page.get("manifest")
            return manifest["counter"] if manifest else 0
        return None

    async def renew(self, stats):
        status, payload = await self.call(stats, "token refresh", "POST", "/api/v1/token/refresh",
                                          {"refreshToken": self.refresh})
        if status == 200:
            session = json.loads(payload)
            self.access, self.refresh = session["accessToken"], session["refreshToken"]

    async def push(self, stats):
        counter = await self.sync(stats)
        if counter is None:
            return
        item = random.choice(list(self.items)) if self.items and random.random() < 0.5 else str(uuid.uuid4())
        base = self.items.get(item, 0)
        change = {"id": item, "baseRevision": base, "revision": base + 1, "isDeleted": False,
                  "wrappedKey": box(), "content": box(300)}
        status, payload = await self.call(stats, "push", "POST", "/api/v2/sync", {"changes": [change]},
                                          token=self.access)
        if status != 200:
            return
        result = json.loads(payload)
        if not result["accepted"]:
            return
        self.items[item] = base + 1
        sequence = result["accepted"][0]["sequence"]
        update = {"expectedCounter": counter,
                  "manifest": {"counter": counter + 1, "sequence": sequence, "blob": box(59)}}
        await self.call(stats, "manifest publish", "PUT", "/api/v2/manifest", update, token=self.access)


async def run_device(device, stats, deadline, interval):
    while True:
        await asyncio.sleep(random.expovariate(1 / interval))
        if time.monotonic() >= deadline:
            return
        roll = random.random()
        try:
            if roll < 0.80:
                await device.sync(stats)
            elif roll < 0.90:
                await device.renew(stats)
            else:
                await device.push(stats)
        except (ConnectionError, OSError) as error:
            stats.record("connection", f"error: {type(error).__name__}", 0)


async def watch_memory(pid, deadline, peak):
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        peak[0] = max(peak[0], int(line.split()[1]))
        except OSError:
            return
        await asyncio.sleep(1)


def print_server_percentiles(url):
    """The server's own view: p50 and p99 per route from its request-duration histogram (upper
    bounds of the buckets they fall in), free of the load generator's own delays."""
    import urllib.request
    try:
        text = urllib.request.urlopen(f"http://{url.hostname}:{url.port}/metrics", timeout=10).read().decode()
    except OSError:
        return
    buckets = defaultdict(lambda: defaultdict(float))
    for line in text.splitlines():
        if not line.startswith("http_server_request_duration_bucket{"):
            continue
        labels, value = line.rsplit(" ", 1)
        fields = dict(part.split("=", 1) for part in labels[labels.index("{") + 1:-1].split(","))
        route = f'{fields["http_request_method"].strip(chr(34))} {fields["http_route"].strip(chr(34))}'
        bound = fields["le"].strip('"')
        buckets[route][float("inf") if bound == "+Inf" else float(bound)] += float(value)
    print("server-side (histogram bucket bounds):")
    for route, counts in sorted(buckets.items()):
        total = counts[float("inf")]
        if total < 100:
            continue
        def quantile(q):
            return next(bound for bound, count in sorted(counts.items()) if count >= q * total)
        print(f"  {route:<32} {int(total):>8}  p50 <= {quantile(0.5) * 1000:g} ms  p99 <= {quantile(0.99) * 1000:g} ms")


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="http://127.0.0.1:8080")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--duration", type=float, default=300, help="seconds of load (at most 3600)")
    parser.add_argument("--interval", type=float, default=1.0, help="mean seconds between a device's requests")
    parser.add_argument("--forwarded", action="store_true", help="send X-Forwarded-For per device")
    parser.add_argument("--server-pid", type=int, action="append", default=[],
                        help="sample this process's memory (repeat for several servers)")
    parser.add_argument("--metrics", action="append", default=[],
                        help="a server's own URL for its /metrics (repeat; default: --server)")
    args = parser.parse_args()
    url = urlparse(args.server)
    if url.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("loadtest.py only runs against a server on loopback")
    duration = min(args.duration, 3600)
    accounts = [{"email": f"load-{i}-{uuid.uuid4().hex[:6]}@example.org", "id": str(uuid.uuid4()),
                 "authKey": base64.b64encode(os.urandom(32)).decode(), "registered": False}
                for i in range(args.accounts)]
    devices = [Device(accounts[i % len(accounts)], i, url.hostname, url.port or 80, args.forwarded)
               for i in range(args.devices)]
    setup = Stats()
    for device in devices:
        await device.sign_in(setup)
    stats = Stats()
    peaks = {pid: [0] for pid in args.server_pid}
    deadline = time.monotonic() + duration
    started = time.monotonic()
    tasks = [run_device(device, stats, deadline, args.interval) for device in devices]
    for pid, peak in peaks.items():
        tasks.append(watch_memory(pid, deadline, peak))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    total = sum(len(values) for values in stats.latencies.values())
    print(f"{args.devices} devices over {args.accounts} accounts, {elapsed:.0f} s: "
          f"{total} requests, {total / elapsed:.0f} requests/s")
    print(f"{'route':<18} {'count':>8} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    failures = 0
    for route, values in sorted(stats.latencies.items()):
        ordered = sorted(values)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        statuses = dict(stats.statuses[route])
        failures += sum(count for status, count in statuses.items()
                        if not (isinstance(status, int) and (200 <= status < 300 or
                                                             (status == 409 and route == "manifest publish"))))
        print(f"{route:<18} {len(values):>8} {p50:>8.1f} {p99:>8.1f}  {statuses}")
    for pid, peak in peaks.items():
        if peak[0]:
            print(f"server {pid} peak memory: {peak[0] / 1024:.0f} MiB")
    for metrics in args.metrics or [args.server]:
        print(f"{metrics}:")
        print_server_percentiles(urlparse(metrics))
    print(f"errors (beyond expected publication races): {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
