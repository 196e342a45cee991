"""Three `scenefit serve` processes behind HAProxy over one index folder, PostgreSQL and Redis.

Concurrent matches and writes go through the load balancer while one serving process is
SIGKILLed and restarted on its port. No acknowledged write may be lost: each is visible
afterwards from every process, the restarted one included; clients see only errors a load
balancer retries or reports for a dead backend (502/503/504, connection errors).

Needs HAProxy (`.ci/run` installs it), PostgreSQL and Redis. Outside CI the test skips,
with the reason, where one is missing; in CI a missing HAProxy fails it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw

from scenefit import SCHEMA_VERSION
from scenefit.index import VectorIndex

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

SCENEFIT = Path(sys.executable).parent / "scenefit"
HAPROXY = shutil.which(os.environ.get("HAPROXY", "haproxy"), path=os.environ.get("PATH", "") + ":/usr/sbin")
KEY = "cluster-write-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
SERVERS = 3
VICTIM = 1  # the process that is killed and restarted
CATALOG = [(colour, kind) for kind in ("vase", "cushion", "lamp", "rug") for colour in ("red", "blue", "green")]
RGB = {"red": (200, 30, 30), "blue": (30, 40, 200), "green": (30, 160, 60)}
#: What a client may see while a backend dies: HAProxy's answers for a backend it could not
#: use, or a connection error. A 4xx, a 500 or a wrong body is never one of them.
RETRYABLE = {502, 503, 504}
K = 5


def _free_ports(n: int) -> list[int]:
    """``n`` distinct free loopback ports (all held open while chosen, so none repeats)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _tail(path: Path, n: int = 2500) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


class Process:
    """A subprocess in its own process group (so SIGKILL reaches all of it), logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as fh:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=fh, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(30)

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down gracefully), SIGKILL if that takes too long."""
        if not self.alive():
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass


def _wait_ready(base: str, proc: Process, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            resp = httpx.get(f"{base}/readyz", timeout=2, headers=AUTH)  # the key shows a load error
            if resp.status_code == 200:
                return
            if resp.status_code == 503 and resp.headers.get("content-type", "").startswith("application/json") \
                    and resp.json().get("status") == "error":
                raise AssertionError(f"{proc.name} failed to load, and stays unready: {resp.text}")
        except httpx.TransportError:
            pass
        if not proc.alive():
            break
        time.sleep(0.2)  # polling a subprocess's readiness: nothing to wait on but the socket
    raise AssertionError(f"{proc.name} did not become ready:\n{_tail(proc.log)}")


def _haproxy_config(lb_port: int, ports: list[int], stats: Path) -> str:
    servers = "\n".join(f"    server s{i} 127.0.0.1:{p} check" for i, p in enumerate(ports))
    # Why each retry setting is safe here: HAProxy replays a request (whatever its method) on
    # conn-failure, empty-response and response-timeout. Match is a read; PUT and :batch are
    # upserts, so a replay after a write that did land only answers "unchanged". DELETE is not
    # replayed: a second attempt after one that landed would answer 404. Requests larger than
    # tune.bufsize are never replayed, so the test's photos stay small; and a request is
    # replayable only if its body was whole when it went out, hence http-buffer-request (without
    # it, a request in flight at the kill reaches the client as a 502, or on a kept-alive client
    # connection as a close without an answer).
    return f"""\
global
    maxconn 256
    stats socket {stats} level user
    log stdout format raw local0

defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout
    option http-buffer-request

frontend scenefit_in
    bind 127.0.0.1:{lb_port}
    default_backend scenefit

backend scenefit
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 400ms fall 2 rise 2
    http-request disable-l7-retry if METH_DELETE
    http-response set-header X-Scenefit-Backend %s
{servers}
"""


def _haproxy_stats(path: Path) -> dict[str, dict]:
    """Per server: status, requests sent, retries and redispatches (the stats socket's CSV)."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(path))
        s.sendall(b"show stat\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    rows = list(csv.reader(io.StringIO(data.decode().lstrip("# "))))
    head = rows[0]
    out = {}
    for row in rows[1:]:
        r = dict(zip(head, row))
        if r.get("pxname") == "scenefit" and r.get("svname", "").startswith("s"):
            out[r["svname"]] = {k: r.get(k) for k in ("status", "stot", "wretr", "wredis", "hrsp_5xx")}
    return out


def _scene_photo(i: int, nonce: int) -> bytes:
    """A small PNG room (under HAProxy's buffer, so it may replay the upload). Distinct per
    ``i`` and per run: the Redis scene cache outlives the test."""
    im = Image.new("RGB", (160, 120), (225, 215, 200))
    d = ImageDraw.Draw(im)
    d.rectangle((10, 70, 90, 110), fill=(120, 80 + i % 3 * 40, 60))
    d.rectangle((100, 20, 150, 60), fill=(40, 60, 160 - i % 4 * 30))
    im.putpixel((i % 160, 0), (i % 256, nonce % 256, (nonce >> 8) % 256))
    im.putpixel((0, 1 + i // 160 % 100), ((nonce >> 16) % 256, 0, 0))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _holds_write_lock(pid: int, lock: Path) -> bool:
    """Whether process ``pid`` holds the index folder's write lock (a flock) right now, from
    the kernel's table of locks; lines with "->" are waiters, not holders."""
    try:
        inode = str(lock.stat().st_ino)
    except FileNotFoundError:
        return False
    for line in Path("/proc/locks").read_text().splitlines():
        f = line.split()
        if len(f) >= 6 and f[1] == "FLOCK" and f[4] == str(pid) and f[5].rsplit(":", 1)[-1] == inode:
            return True
    return False


@dataclass
class Outcome:
    kind: str  # match, put or get
    status: int | str  # HTTP status, or the transport error's name
    end: float  # time.monotonic() when it ended
    backend: str | None
    detail: str = ""


@dataclass
class Load:
    """What the clients did and saw, shared by their threads."""

    known: set[str]
    stop: threading.Event = field(default_factory=threading.Event)
    outcomes: list[Outcome] = field(default_factory=list)
    attempted: dict[str, dict] = field(default_factory=dict)
    acked: dict[str, dict] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    crashed: list[str] = field(default_factory=list)  # a client's own failure, with its traceback

    def client(self, fn, *args) -> threading.Thread:
        def run():
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - reported by the test, not lost in a thread
                import traceback

                self.crashed.append(traceback.format_exc())

        return threading.Thread(target=run, daemon=True)

    def record(self, kind: str, resp: httpx.Response | None, exc: Exception | None, detail: str = "") -> Outcome:
        if resp is not None:
            o = Outcome(kind, resp.status_code, time.monotonic(), resp.headers.get("x-scenefit-backend"),
                        detail or (resp.text[:300] if resp.status_code != 200 else ""))
        else:
            o = Outcome(kind, type(exc).__name__, time.monotonic(), None, str(exc)[:300])
        with self.lock:
            self.outcomes.append(o)
        return o

    def served_by(self, backend: str, since: float) -> int:
        with self.lock:
            return sum(1 for o in self.outcomes if o.backend == backend and o.end >= since and o.status == 200)


def _matcher(lb: str, load: Load, nonce: int, offset: int) -> None:
    with httpx.Client(base_url=lb, timeout=60) as client:
        i = offset
        while not load.stop.is_set():
            # Every third request repeats one photo: scene-cache hits, shared through Redis;
            # the others are new photos, so some model passes are in flight at the kill.
            photo = _scene_photo(0 if i % 3 == 0 else i, nonce)
            i += 2
            try:
                resp = client.post("/v1/match", files={"image": ("room.png", photo, "image/png")}, data={"k": str(K)})
            except httpx.TransportError as exc:
                load.record("match", None, exc)
                continue
            detail = ""
            if resp.status_code == 200:
                body = resp.json()
                with load.lock:
                    known = set(load.known) | set(load.attempted)
                ids = [r["id"] for r in body.get("recommendations", [])]
                if body.get("schema_version") != SCHEMA_VERSION or len(ids) != K or not set(ids) <= known:
                    detail = f"wrong body: {resp.text[:300]}"
            o = load.record("match", resp, None, detail)
            if detail:
                o.status = "wrong-body"


def _writer(lb: str, load: Load, writer: int, max_writes: int) -> None:
    """PUTs of new products, each retried (it is idempotent) until acknowledged; then read
    back through the load balancer, which may send the read to another process."""
    colours, kinds = ["white", "black", "yellow", "grey"], ["ottoman", "mirror", "clock", "basket"]
    with httpx.Client(base_url=lb, timeout=60, headers=AUTH) as client:
        for i in range(max_writes):
            if load.stop.is_set():
                return
            pid = f"w{writer}-{i:03d}"
            body = {"sku_id": f"W{writer}{i}", "description": f"{colours[i % 4].upper()} WOVEN {kinds[writer % 4].upper()} "
                    f"{writer} {i}", "price": i + writer / 10}
            with load.lock:
                load.attempted[pid] = body
            for _ in range(8):
                try:
                    resp = client.put(f"/v1/products/{pid}", json=body)
                    o = load.record("put", resp, None)
                except httpx.TransportError as exc:
                    resp, o = None, load.record("put", None, exc)
                if resp is None or resp.status_code in RETRYABLE:
                    time.sleep(0.2)  # a client's back-off before it retries, not synchronisation
                    continue
                if resp.status_code == 200:
                    got = resp.json()
                    # added, or unchanged when HAProxy replayed a write that had landed
                    if got["added"] + got["unchanged"] != 1:
                        o.status, o.detail = "wrong-body", resp.text[:300]
                        break
                    with load.lock:
                        load.acked[pid] = body
                    try:
                        back = client.get(f"/v1/products/{pid}")
                    except httpx.TransportError as exc:
                        load.record("get", None, exc)
                        break
                    ok = back.status_code == 200 and back.json()["description"] == body["description"]
                    g = load.record("get", back, None)
                    if back.status_code == 200 and not ok:
                        g.status, g.detail = "wrong-body", back.text[:300]
                    elif back.status_code == 404:
                        g.status = "lost-read-your-write"
                break


def _build_index(tmp: Path, env: dict) -> Path:
    rows = []
    for i, (colour, kind) in enumerate(CATALOG):
        image = tmp / "img" / f"{i}.png"
        image.parent.mkdir(parents=True, exist_ok=True)
        im = Image.new("RGB", (96, 96), RGB[colour])
        ImageDraw.Draw(im).ellipse((20, 20, 76, 76), fill=(240, 240, 240) if i % 2 else (20, 20, 20))
        im.save(image)
        rows.append({"id": f"p{i}", "sku_id": f"SKU{i}", "description": f"{colour.upper()} CERAMIC {kind.upper()}",
                     "primary_image": str(image), "price": f"{5 + i}.00"})
    catalog = tmp / "catalog.csv"
    with catalog.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    index = tmp / "index"
    # The offline encoder under ONNX Runtime: real models from wheels, no download, and the
    # export lands in the session's cache, where the serving processes find it.
    run = subprocess.run([str(SCENEFIT), "ingest", str(catalog), "--index", str(index), "--encoder", "offline",
                          "--runtime", "onnx", "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return index


def _visible_writes(base: str, load: Load, nonce: int, context: str) -> set[str]:
    """Read every written product from one process directly: each acknowledged write must be
    there as written (others may or may not have landed), the initial products too, and the
    process's count must be theirs. Returns the written ids it has."""
    landed = set()
    with httpx.Client(base_url=base, timeout=30) as client:
        for pid, body in load.attempted.items():
            resp = client.get(f"/v1/products/{pid}")
            if pid in load.acked:
                assert resp.status_code == 200, f"{base} lost acknowledged write {pid}: {resp.text}\n{context}"
            assert resp.status_code in (200, 404), resp.text
            if resp.status_code == 200:
                got = resp.json()
                assert (got["description"], got["attributes"]["price"]) == (body["description"], body["price"]), got
                landed.add(pid)
        for pid in load.known:
            assert client.get(f"/v1/products/{pid}").status_code == 200, (base, pid)
        match = client.post("/v1/match", files={"image": ("room.png", _scene_photo(0, nonce), "image/png")},
                            data={"k": "100"})
        assert match.status_code == 200, match.text
        count = match.json()["index"]["count"]
        assert count == len(load.known) + len(landed), (base, count, len(landed))
        ids = {r["id"] for r in match.json()["recommendations"]}
        assert ids <= load.known | landed and len(ids) == min(100, count), (base, len(ids), count)
        assert client.get("/readyz").json()["products"] == count
    return landed


@pytest.fixture
def haproxy() -> str:
    if HAPROXY is None:
        why = "haproxy not found (apt-get install haproxy)"
        if os.environ.get("CI"):
            pytest.fail(f"the cluster test cannot run in CI: {why}")
        pytest.skip(why)
    return HAPROXY


def test_cluster_survives_a_killed_process_and_loses_no_write(tmp_path, haproxy, postgres_url, redis_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCENEFIT_") or k == "SCENEFIT_CACHE_DIR"}
    env.update(SCENEFIT_DATABASE_URL=postgres_url, SCENEFIT_REDIS_URL=redis_url, SCENEFIT_API_KEY=KEY)
    index = _build_index(tmp_path, env)
    *ports, lb_port = _free_ports(SERVERS + 1)
    servers = [Process(f"s{i}", [str(SCENEFIT), "serve", "--index", str(index), "--host", "127.0.0.1",
                                 "--port", str(p), "--runtime", "onnx"], env, tmp_path / f"s{i}.log")
               for i, p in enumerate(ports)]
    stats = tmp_path / "haproxy.sock"
    (tmp_path / "haproxy.cfg").write_text(_haproxy_config(lb_port, ports, stats))
    lb = Process("haproxy", [haproxy, "-db", "-f", str(tmp_path / "haproxy.cfg")], env, tmp_path / "haproxy.log")
    direct = [f"http://127.0.0.1:{p}" for p in ports]
    threads: list[threading.Thread] = []
    load = Load(known={f"p{i}" for i in range(len(CATALOG))})
    try:
        for s in servers:
            s.start()
        for s, base in zip(servers, direct):
            _wait_ready(base, s)
        lb.start()
        _wait_ready(f"http://127.0.0.1:{lb_port}", lb, 30)
        base = f"http://127.0.0.1:{lb_port}"
        nonce = int.from_bytes(os.urandom(3), "big")
        threads = [load.client(_matcher, base, load, nonce, c) for c in range(2)]
        threads += [load.client(_writer, base, load, w, 400) for w in range(2)]
        start = time.monotonic()
        for t in threads:
            t.start()

        def until(cond, timeout_s: float, what: str) -> None:
            deadline = time.monotonic() + timeout_s
            while not cond():
                assert time.monotonic() < deadline, f"timed out waiting for {what}"
                assert not load.crashed, load.crashed[0]
                load.stop.wait(0.1)

        victim = servers[VICTIM]
        # Kill only once the load reaches every process and a few writes have landed.
        until(lambda: all(load.served_by(s.name, start) >= 2 for s in servers) and len(load.acked) >= 4,
              60, "load on every process")
        until(lambda: time.monotonic() - start >= 6, 10, "the pre-kill load")
        # Kill it in the middle of a write, while it holds the index's write lock: its rows may
        # be committed without the manifest switched, and HAProxy replays the PUT elsewhere.
        lock, deadline = index / ".write.lock", time.monotonic() + 30
        while not _holds_write_lock(victim.proc.pid, lock):
            assert time.monotonic() < deadline, "the victim never took the write lock"
            time.sleep(0.002)  # sampling the kernel's lock table: there is no event to wait on
        killed_at = time.monotonic()
        victim.kill()
        acked_before_kill = len(load.acked)
        until(lambda: time.monotonic() - killed_at >= 3, 10, "load while a process is down")
        victim.start()  # same port, same folder, same database
        _wait_ready(direct[VICTIM], victim)
        ready_at = time.monotonic()
        # HAProxy's health check brings it back; it must serve through the balancer again.
        until(lambda: load.served_by(victim.name, ready_at) >= 3 and time.monotonic() - ready_at >= 4, 60,
              "the restarted process to serve through HAProxy")
        load.stop.set()
        for t in threads:
            t.join(120)
        assert not any(t.is_alive() for t in threads), "a client did not stop"
        assert not load.crashed, load.crashed[0]
        stopped_at = time.monotonic()
        lb_stats = _haproxy_stats(stats)

        summary = {
            "load_s": round(stopped_at - start, 1), "down_s": round(ready_at - killed_at, 1),
            "requests": {k: sum(1 for o in load.outcomes if o.kind == k) for k in ("match", "put", "get")},
            "acked_writes": len(load.acked), "acked_before_kill": acked_before_kill,
            "non_200": [(o.kind, o.status, round(o.end - killed_at, 2), o.backend) for o in load.outcomes
                        if o.status != 200],
            "haproxy": lb_stats,
        }
        (tmp_path / "summary.json").write_text(json.dumps(summary, indent=2))
        print(json.dumps(summary))
        context = f"{json.dumps(summary)[:3000]}\nhaproxy log:\n{_tail(lb.log)}\nvictim log:\n{_tail(victim.log)}"

        # Clients saw only retryable errors, and only from the kill on.
        bad = [o for o in load.outcomes if o.status != 200 and o.status not in RETRYABLE and not
               (isinstance(o.status, str) and o.status.endswith("Error"))]
        assert bad == [], f"non-retryable answers: {bad[:10]}\n{context}"
        early = [o for o in load.outcomes if o.status != 200 and o.end < killed_at]
        assert early == [], f"errors before the kill: {early[:10]}\n{context}"
        assert summary["requests"]["match"] >= 6 and len(load.acked) >= 10, context
        assert load.served_by(victim.name, ready_at) >= 3
        assert all(s.alive() for s in servers) and lb.alive(), context

        landed = [_visible_writes(url, load, nonce, context) for url in direct]
        assert all(x == landed[0] for x in landed), "the processes disagree on the products"
        # The store of record agrees: PostgreSQL rows at the manifest's generation.
        assert set(VectorIndex.open(index, database_url=postgres_url).ids()) == load.known | landed[0]
    finally:
        load.stop.set()
        for p in [lb, *servers]:
            p.stop()
        for t in threads:
            t.join(30)
        from scenefit.index._records import PostgresStore

        if (index_dir := tmp_path / "index").is_dir() and (index_dir / "manifest.json").is_file():
            PostgresStore(postgres_url, json.loads((index_dir / "manifest.json").read_text())["uid"]).drop_index()
