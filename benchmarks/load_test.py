"""Load test of `scenefit serve`: concurrent POST /v1/match on loopback for a bounded time.

Starts the server as a subprocess on a free port (the demo index, built if missing), waits
for /readyz, then runs CONCURRENCY clients for DURATION seconds and reports p50/p95
latency, throughput, errors and the server's memory (RSS) before and after:

    python benchmarks/load_test.py                       # 4 clients, 30 s, distinct photos
    python benchmarks/load_test.py --concurrency 8 --duration 60 --workers 2
    python benchmarks/load_test.py --same-photo          # every request a scene-cache hit

By default each request sends a slightly different photo (one pixel changed), so the
scene-embedding cache cannot answer it: the figures are for real inference. Results go
to stdout and, as JSON, to build/bench/load-test.json.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the workers), in MB."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _machine() -> dict:
    model = "unknown"
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def _photos(path: Path, n: int) -> list[bytes]:
    """``n`` JPEGs of the scene, each with one pixel changed: distinct content hashes."""
    base = Image.open(path).convert("RGB")
    out = []
    for i in range(n):
        im = base.copy()
        im.putpixel((i % im.width, (i // im.width) % im.height), (i % 256, 0, 255 - i % 256))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def _ensure_index(index: Path) -> None:
    if (index / "manifest.json").is_file():
        return
    from scenefit import Engine, EncoderConfig

    print(f"building the demo index in {index} …", file=sys.stderr)
    Engine(index, encoder=EncoderConfig(backend="offline"), log=lambda m: None).ingest(
        ROOT / "examples" / "product-catalog.csv")


async def _client(base: str, photos: list[bytes], deadline: float, k: int, results: list, offset: int,
                  step: int) -> None:
    async with httpx.AsyncClient(timeout=120) as client:
        i = offset
        while time.perf_counter() < deadline:
            data = photos[i % len(photos)]
            i += step
            t0 = time.perf_counter()
            try:
                resp = await client.post(f"{base}/v1/match", files={"image": ("scene.jpg", data, "image/jpeg")},
                                         data={"k": str(k)})
                status = resp.status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            results.append((time.perf_counter() - t0, status))


async def _run(base: str, photos: list[bytes], concurrency: int, duration: float, k: int) -> tuple[list, float]:
    results: list = []
    start = time.perf_counter()
    deadline = start + duration
    await asyncio.gather(*(_client(base, photos, deadline, k, results, c, concurrency) for c in range(concurrency)))
    return results, time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, default=ROOT / ".scenefit" / "demo-index")
    ap.add_argument("--photo", type=Path, default=ROOT / "examples" / "living-room.webp")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of load (after warm-up)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--same-photo", action="store_true", help="send one photo: scene-cache hits after the first")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "bench" / "load-test.json")
    args = ap.parse_args()

    _ensure_index(args.index)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    scenefit = Path(sys.executable).parent / "scenefit"
    server = subprocess.Popen([str(scenefit), "serve", "--index", str(args.index), "--port", str(port),
                               "--workers", str(args.workers)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                print("server did not become ready", file=sys.stderr)
                return 1
            time.sleep(0.5)
        photos = _photos(args.photo, 1 if args.same_photo else 4000)
        rss_before = _rss_mb(server.pid)
        # Warm-up: one request per client, not counted.
        asyncio.run(_run(base, photos[-args.concurrency:], args.concurrency, 0.001, args.k))
        results, elapsed = asyncio.run(_run(base, photos, args.concurrency, args.duration, args.k))
        rss_after = _rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(30)

    ok = sorted(t for t, s in results if s == 200)
    errors: dict[str, int] = {}
    for _, s in results:
        if s != 200:
            errors[str(s)] = errors.get(str(s), 0) + 1
    q = statistics.quantiles(ok, n=20) if len(ok) >= 2 else [float("nan")] * 19
    report = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(),
        "config": {"concurrency": args.concurrency, "duration_s": args.duration, "workers": args.workers,
                   "k": args.k, "distinct_photos": not args.same_photo, "index": str(args.index)},
        "requests": len(results), "ok": len(ok), "errors": errors,
        "throughput_rps": round(len(ok) / elapsed, 2),
        "latency_ms": {"p50": round(statistics.median(ok) * 1000, 1) if ok else None,
                       "p95": round(q[18] * 1000, 1) if ok else None,
                       "max": round(ok[-1] * 1000, 1) if ok else None},
        "server_rss_mb": {"before": round(rss_before, 1), "after": round(rss_after, 1)},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    m = report["machine"]
    print(f"machine      {m['cpu']} ({m['cpus']} CPUs), Python {m['python']}")
    print(f"load         {args.concurrency} clients × {args.duration:g}s, {args.workers} worker(s), "
          f"{'distinct photos (no cache hits)' if not args.same_photo else 'one photo (cache hits)'}")
    print(f"requests     {len(results)} ({len(ok)} ok, errors: {errors or 'none'})")
    print(f"throughput   {report['throughput_rps']} req/s")
    print(f"latency      p50 {report['latency_ms']['p50']} ms, p95 {report['latency_ms']['p95']} ms, "
          f"max {report['latency_ms']['max']} ms")
    print(f"server RSS   {report['server_rss_mb']['before']} MB before, {report['server_rss_mb']['after']} MB after")
    print(f"JSON         {args.out}")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
