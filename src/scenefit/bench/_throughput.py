"""Throughput of `scenefit serve` on one machine: matches per second and their latency, with
concurrent clients, per worker count, on distinct photos (every match computes its scene) and
on repeated photos (the scene cache answers the encode).

The server is a real `scenefit serve` process on loopback; the clients are threads in this
process, each sending its next photo as soon as the previous answer arrives."""

from __future__ import annotations

import io
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from PIL import Image

from ._timing import stats

_START_TIMEOUT_S = 600
_REQUEST_TIMEOUT_S = 120


def distinct_photos(photos: list[Path], n: int) -> list[bytes]:
    """``n`` JPEGs whose bytes differ (a numbered JPEG comment; the pixels are the photos'), so
    no scene cache can answer: each match computes its scene as a new shopper's photo would."""
    images = [Image.open(p).convert("RGB") for p in photos]
    out = []
    for i in range(n):
        buf = io.BytesIO()
        images[i % len(images)].save(buf, "JPEG", quality=90, comment=f"scenefit bench photo {i}")
        out.append(buf.getvalue())
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """`scenefit serve` in a child process on 127.0.0.1, ready (``/readyz``) on entry."""

    def __init__(self, index_dir: Path, workers: int):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-c", "from scenefit.cli import main; main()", "serve", "--index", str(index_dir),
                   "--port", str(self.port), "--workers", str(workers)]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def __enter__(self) -> "_Server":
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"scenefit serve exited: {self.proc.stderr.read()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        self.__exit__()
        raise RuntimeError(f"scenefit serve was not ready within {_START_TIMEOUT_S} s")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def cache_lookups(self) -> dict[str, float]:
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        out = {"hit": 0.0, "miss": 0.0}
        for line in text.splitlines():
            if line.startswith("scenefit_scene_cache_total{"):
                for result in out:
                    if f'result="{result}"' in line:
                        out[result] += float(line.rsplit(" ", 1)[1])
        return out


def _load(url: str, bodies: list[bytes], clients: int) -> dict:
    """Send every body once, ``clients`` at a time; matches/s over the wall time, latency per match."""
    work: queue.Queue = queue.Queue()
    for body in bodies:
        work.put(body)
    latencies: list[float] = []
    failures: list[str] = []  # status codes of refused matches (e.g. 503: the queue was full)
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(timeout=_REQUEST_TIMEOUT_S) as http:
            while True:
                try:
                    body = work.get_nowait()
                except queue.Empty:
                    return
                t0 = time.perf_counter()
                r = http.post(f"{url}/v1/match", files={"image": ("scene.jpg", body, "image/jpeg")})
                elapsed = time.perf_counter() - t0
                with lock:
                    if r.status_code == 200:
                        latencies.append(elapsed)
                    else:
                        failures.append(str(r.status_code))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if not latencies:
        raise RuntimeError(f"no match succeeded (statuses {failures[:5]})")
    return {"matches": len(latencies), "failed": len(failures), "wall_s": round(wall, 2),
            "matches_per_s": round(len(latencies) / wall, 2), **stats(latencies).as_dict()}


def bench_throughput(index_dir: Path, photos: list[Path], workers: list[int], clients: int, requests: int,
                     log=print) -> list[dict]:
    distinct = distinct_photos(photos, requests)
    repeated = [p.read_bytes() for p in photos]
    rows = []
    for w in workers:
        with _Server(index_dir, w) as server:
            _load(server.url, distinct[: 2 * w], w)  # warm-up: every worker's first passes
            row = {"workers": w, "clients": clients, "distinct": _load(server.url, distinct, clients)}
            _load(server.url, repeated * 2, clients)  # fill each worker's scene cache
            before = server.cache_lookups()
            row["repeated"] = _load(server.url, (repeated * (requests // len(repeated) + 1))[:requests], clients)
            after = server.cache_lookups()
            lookups = sum(after.values()) - sum(before.values())
            row["repeated"]["cache_hit_rate"] = round((after["hit"] - before["hit"]) / lookups, 3) if lookups else None
        rows.append(row)
        d, r = row["distinct"], row["repeated"]
        log(f"  --workers {w}, {clients} clients: distinct photos {d['matches_per_s']} matches/s "
            f"(p50 {d['median_ms']:.0f} ms, p95 {d['p95_ms']:.0f}); repeated {r['matches_per_s']} matches/s "
            f"(p95 {r['p95_ms']:.0f} ms, cache hits {r['cache_hit_rate']})")
    return rows


__all__ = ["bench_throughput", "distinct_photos"]
