"""Load test of `scenefit serve`: concurrent POST /v1/match on loopback for a bounded time.

Starts the server as a subprocess on a free port (the demo index, built if missing), waits
for /readyz, then runs CONCURRENCY clients for DURATION seconds and reports p50/p95
latency, throughput, errors and the server's memory (RSS) before and after:

    python benchmarks/load_test.py                       # 4 clients, 30 s, distinct photos
    python benchmarks/load_test.py --concurrency 8 --duration 60 --workers 2
    python benchmarks/load_test.py --same-photo          # every request a scene-cache hit
    python benchmarks/load_test.py --soak                # 600 s of mixed traffic, RSS over time

By default each request sends a slightly different photo (one pixel changed), so the
scene-embedding cache cannot answer it: the figures are for real inference. Results go
to stdout and, as JSON, to build/bench/load-test.json.

--soak mixes three kinds of request (--mix): distinct photos (scene-cache misses), one photo
again and again (hits), and PUTs that rewrite a bounded pool of products, so the catalog
stays the same size and memory should level off once the caches are full. It serves a copy
of the index (the writes never touch the original), samples the server's RSS every
--sample-every seconds and reports latency per kind, throughput, errors, the RSS series and
whether RSS stayed flat after the warm-up, in build/bench/soak.json.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
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


# -- soak: mixed traffic for a long, bounded time -------------------------------------------
SOAK_DEFAULT_S = 600
SOAK_MAX_S = 3600  # a soak is still bounded: longer runs are several soaks
KINDS = ("miss", "hit", "write")
#: RSS counts as flat when the growth fitted over the post-warm-up samples stays within this
#: share of the RSS at the end of the warm-up.
FLAT_SHARE = 0.05
_WORDS = (("white", "black", "blue", "green"), ("linen", "velvet", "ceramic", "rattan"),
          ("cushion", "vase", "lamp", "basket"))


def _variant(base: Image.Image, i: int, nonce: int) -> bytes:
    """A JPEG of ``base`` unique to (i, nonce): the per-run nonce keeps a shared Redis cache
    from answering photos an earlier run sent."""
    im = base.copy()
    im.putpixel((i % im.width, (i // im.width) % im.height), (i % 256, nonce % 256, (nonce >> 8) % 256))
    im.putpixel((im.width - 1, 0), ((nonce >> 16) % 256, (i >> 8) % 256, (i >> 16) % 256))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


class _Soak:
    """The run's shared state: the mix, the photos, the write counter and what came back."""

    def __init__(self, base_url: str, key: str, photo: Path, mix: tuple[float, ...], pool: int, k: int):
        self.base_url, self.key, self.mix, self.pool, self.k = base_url, key, mix, pool, k
        self.image = Image.open(photo).convert("RGB")
        self.nonce = secrets.randbits(24)
        self.hit_photo = _variant(self.image, 0, self.nonce)
        self.distinct = 0  # distinct photos are 1, 2, …
        self.writes = 0
        self.results: list[tuple[str, float, float, int | str]] = []  # kind, start_s, seconds, status
        self.samples: list[dict] = []
        self.start = time.perf_counter()

    def product(self) -> tuple[str, dict]:
        """The next PUT: one of ``pool`` ids, with a new description each time, so every write
        embeds and saves a generation while the catalog keeps its size."""
        n, self.writes = self.writes, self.writes + 1
        colour, material, kind = (w[(n // len(w) ** j) % len(w)] for j, w in enumerate(_WORDS))
        return f"soak-{n % self.pool}", {"sku_id": f"SOAK{n % self.pool}", "price": 5 + n % 90,
                                         "description": f"{colour} {material} {kind} no. {n}".upper()}


async def _soak_client(st: _Soak, deadline: float, rng: random.Random) -> None:
    auth = {"Authorization": f"Bearer {st.key}"}
    async with httpx.AsyncClient(base_url=st.base_url, timeout=120) as client:
        while time.perf_counter() < deadline:
            kind = rng.choices(KINDS, weights=st.mix)[0]
            if kind == "write":
                pid, body = st.product()
            elif kind == "hit":
                photo = st.hit_photo
            else:
                st.distinct += 1
                photo = await asyncio.to_thread(_variant, st.image, st.distinct, st.nonce)
            t0 = time.perf_counter()
            try:
                if kind == "write":
                    resp = await client.put(f"/v1/products/{pid}", json=body, headers=auth)
                else:
                    resp = await client.post("/v1/match", files={"image": ("scene.jpg", photo, "image/jpeg")},
                                             data={"k": str(st.k)})
                status = resp.status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            st.results.append((kind, t0 - st.start, time.perf_counter() - t0, status))


async def _sampler(st: _Soak, pid: int, deadline: float, every: float) -> None:
    """RSS read every second, reported every ``every`` seconds as the last reading and the
    window's floor and peak: in-flight requests swing RSS by their buffers, while a leak
    raises the floor."""

    def emit(window: list[float]) -> None:
        st.samples.append({"t_s": round(time.perf_counter() - st.start, 1), "rss_mb": round(window[-1], 1),
                           "min_mb": round(min(window), 1), "max_mb": round(max(window), 1),
                           "requests": len(st.results)})

    emit([_rss_mb(pid)])
    window: list[float] = []
    next_emit = st.start + every
    while (now := time.perf_counter()) < deadline:
        await asyncio.sleep(min(1.0, every, deadline - now))
        window.append(_rss_mb(pid))
        if time.perf_counter() >= min(next_emit, deadline):
            emit(window)
            window, next_emit = [], next_emit + every


async def _soak_run(st: _Soak, pid: int, concurrency: int, duration: float, every: float) -> None:
    st.start = time.perf_counter()
    deadline = st.start + duration
    clients = [_soak_client(st, deadline, random.Random(c)) for c in range(concurrency)]
    await asyncio.gather(_sampler(st, pid, deadline, every), *clients)
    # once every client's last request is back: the idle RSS
    rss = round(_rss_mb(pid), 1)
    st.samples.append({"t_s": round(time.perf_counter() - st.start, 1), "rss_mb": rss, "min_mb": rss, "max_mb": rss,
                       "requests": len(st.results)})


def _latency(seconds: list[float]) -> dict:
    if not seconds:
        return {"p50": None, "p95": None, "max": None}
    ok = sorted(seconds)
    p95 = statistics.quantiles(ok, n=20)[18] if len(ok) >= 2 else ok[0]
    return {"p50": round(statistics.median(ok) * 1000, 1), "p95": round(p95 * 1000, 1), "max": round(ok[-1] * 1000, 1)}


def _flatness(samples: list[dict], warmup_s: float) -> dict:
    """The RSS floor (each window's minimum) at the end of the warm-up against the end, and
    its slope fitted after the warm-up; the peaks beside it."""
    after = [s for s in samples if s["t_s"] >= warmup_s]
    out: dict = {"warmup_s": warmup_s, "criterion": f"floor's fitted growth after warm-up within {FLAT_SHARE:.0%} "
                 "of the floor at the end of the warm-up"}
    if len(after) < 3 or after[-1]["t_s"] - after[0]["t_s"] <= 0:
        return {**out, "flat": None, "note": "too few samples after the warm-up to judge"}
    t = [s["t_s"] for s in after]
    floor = [s["min_mb"] for s in after]
    slope, _ = statistics.linear_regression(t, floor)
    peak_slope, _ = statistics.linear_regression(t, [s["max_mb"] for s in after])
    fitted = slope * (t[-1] - t[0])
    return {**out, "at_warmup_mb": floor[0], "at_end_mb": floor[-1], "growth_mb": round(floor[-1] - floor[0], 1),
            "slope_mb_per_min": round(slope * 60, 2), "fitted_growth_mb": round(fitted, 1),
            "peak_mb": max(s["max_mb"] for s in after), "peak_slope_mb_per_min": round(peak_slope * 60, 2),
            "flat": abs(fitted) <= FLAT_SHARE * floor[0]}


def _scene_cache_counts(base_url: str) -> dict:
    try:
        text = httpx.get(f"{base_url}/metrics", timeout=10).text
    except httpx.HTTPError:
        return {}
    return {m[1]: int(float(m[2])) for m in re.finditer(r'^scenefit_scene_cache_total\{result="(\w+)"\} (\S+)$',
                                                         text, re.M)}


def soak(args) -> int:
    if args.duration > SOAK_MAX_S:
        sys.exit(f"--duration {args.duration:g} is over the soak's cap of {SOAK_MAX_S} s")
    mix = tuple(float(x) for x in args.mix.split(":"))
    if len(mix) != 3 or min(mix) < 0 or sum(mix) <= 0:
        sys.exit(f"--mix takes three non-negative weights miss:hit:write, not {args.mix!r}")
    warmup = args.warmup if args.warmup is not None else min(120.0, max(20.0, args.duration / 10))
    _ensure_index(args.index)
    if json.loads((args.index / "manifest.json").read_text()).get("store") == "postgres":
        sys.exit(f"{args.index} keeps its products in PostgreSQL: the soak writes to a copy of the folder, "
                 "which would share those rows; soak a SQLite-backed index")
    key = secrets.token_urlsafe(24)
    env = {**os.environ, "SCENEFIT_API_KEY": key}
    out = args.out or ROOT / "build" / "bench" / "soak.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="scenefit-soak-") as tmp:
        index = Path(tmp) / "index"
        shutil.copytree(args.index, index, ignore=shutil.ignore_patterns(".write.lock", "reports"))
        server, base = _start_server(index, args.workers, env, out.with_suffix(".server.log"))
        try:
            st = _Soak(base, key, args.photo, mix, args.write_pool, args.k)
            rss_ready = _rss_mb(server.pid)
            asyncio.run(_soak_run(st, server.pid, args.concurrency, args.duration, args.sample_every))
            elapsed = time.perf_counter() - st.start
            cache = _scene_cache_counts(base)
            products = httpx.get(f"{base}/readyz", timeout=10).json().get("products")
        finally:
            server.terminate()
            server.wait(30)

    per_kind, errors = {}, {}
    for kind in KINDS:
        rows = [r for r in st.results if r[0] == kind]
        steady = [r for r in rows if r[1] >= warmup]
        errs: dict[str, int] = {}
        for r in rows:
            if r[3] != 200:
                errs[str(r[3])] = errs.get(str(r[3]), 0) + 1
        ok_steady = [r[2] for r in steady if r[3] == 200]
        per_kind[kind] = {"requests": len(rows), "ok": sum(1 for r in rows if r[3] == 200), "errors": errs,
                          "steady_ok": len(ok_steady), "steady_rps": round(len(ok_steady) / max(elapsed - warmup, 1e-9), 3),
                          "latency_ms": _latency(ok_steady)}
        errors.update({f"{kind}:{s}": n for s, n in errs.items()})
    ok_all = sum(v["ok"] for v in per_kind.values())
    report = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(),
        "config": {"mode": "soak", "concurrency": args.concurrency, "duration_s": args.duration, "warmup_s": warmup,
                   "workers": args.workers, "k": args.k, "mix": dict(zip(KINDS, mix)), "write_pool": args.write_pool,
                   "sample_every_s": args.sample_every, "index": str(args.index),
                   "scene_cache_size": os.environ.get("SCENEFIT_SCENE_CACHE_SIZE", "default"),
                   "redis": bool(os.environ.get("SCENEFIT_REDIS_URL"))},
        "elapsed_s": round(elapsed, 1), "requests": len(st.results), "ok": ok_all, "errors": errors,
        "throughput_rps": round(ok_all / elapsed, 2),
        "per_kind": per_kind,
        "scene_cache": cache, "products_at_end": products,
        "rss_mb": {"ready": round(rss_ready, 1), "series": st.samples, "after_warmup": _flatness(st.samples, warmup)},
    }
    out.write_text(json.dumps(report, indent=2))
    m, flat = report["machine"], report["rss_mb"]["after_warmup"]
    print(f"machine      {m['cpu']} ({m['cpus']} CPUs), Python {m['python']}")
    print(f"soak         {args.concurrency} clients × {elapsed:.0f}s (warm-up {warmup:g}s), {args.workers} worker(s), "
          f"mix miss:hit:write = {args.mix}")
    print(f"requests     {len(st.results)} ({ok_all} ok, errors: {errors or 'none'}), {report['throughput_rps']} req/s")
    for kind, v in per_kind.items():
        lat = v["latency_ms"]
        print(f"  {kind:<6}     {v['requests']:>6} req, {v['steady_rps']:>7} req/s steady, "
              f"p50 {lat['p50']} ms, p95 {lat['p95']} ms, max {lat['max']} ms")
    print(f"scene cache  {cache or 'no metrics'}; products at end {products}")
    if flat.get("flat") is None:
        print(f"server RSS   {rss_ready:.1f} MB ready; {flat['note']}")
    else:
        print(f"server RSS   {rss_ready:.1f} MB ready; floor {flat['at_warmup_mb']} MB after warm-up, "
              f"{flat['at_end_mb']} MB at end, slope {flat['slope_mb_per_min']} MB/min: "
              f"{'flat' if flat['flat'] else 'NOT flat'}; peak {flat['peak_mb']} MB")
    print(f"JSON         {out}")
    return 0 if not errors else 1


def _start_server(index: Path, workers: int, env: dict | None = None, log: Path | None = None
                  ) -> tuple[subprocess.Popen, str]:
    """`scenefit serve` on a free loopback port, once /readyz answers 200; exits if it never does."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    scenefit = Path(sys.executable).parent / "scenefit"
    out = log.open("w") if log else subprocess.DEVNULL
    server = subprocess.Popen([str(scenefit), "serve", "--index", str(index), "--host", "127.0.0.1",
                               "--port", str(port), "--workers", str(workers)],
                              env=env, stdout=out, stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.terminate()
            server.wait(30)
            sys.exit(f"server did not become ready{f' (log: {log})' if log else ''}")
        time.sleep(0.5)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, default=ROOT / ".scenefit" / "demo-index")
    ap.add_argument("--photo", type=Path, default=ROOT / "examples" / "living-room.webp")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--duration", type=float, default=None,
                    help=f"seconds of load (after warm-up); default 30, or {SOAK_DEFAULT_S} with --soak "
                    f"(at most {SOAK_MAX_S})")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--same-photo", action="store_true", help="send one photo: scene-cache hits after the first")
    ap.add_argument("--out", type=Path, default=None,
                    help="JSON report; default build/bench/load-test.json, or build/bench/soak.json with --soak")
    soak_opts = ap.add_argument_group("soak")
    soak_opts.add_argument("--soak", action="store_true", help="mixed traffic (misses, hits, writes) with RSS sampled")
    soak_opts.add_argument("--mix", default="5:3:2", help="weights of distinct photos:same photo:PUTs")
    soak_opts.add_argument("--write-pool", type=int, default=50, help="product ids the PUTs cycle through")
    soak_opts.add_argument("--warmup", type=float, default=None,
                           help="seconds before RSS and latency count as steady; default a tenth of the run, 20 to 120")
    soak_opts.add_argument("--sample-every", type=float, default=10.0, help="seconds between RSS samples")
    args = ap.parse_args()
    if args.soak:
        args.duration = SOAK_DEFAULT_S if args.duration is None else args.duration
        return soak(args)
    args.duration = 30.0 if args.duration is None else args.duration
    args.out = args.out or ROOT / "build" / "bench" / "load-test.json"

    _ensure_index(args.index)
    server, base = _start_server(args.index, args.workers)
    try:
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
    report = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(),
        "config": {"concurrency": args.concurrency, "duration_s": args.duration, "workers": args.workers,
                   "k": args.k, "distinct_photos": not args.same_photo, "index": str(args.index)},
        "requests": len(results), "ok": len(ok), "errors": errors,
        "throughput_rps": round(len(ok) / elapsed, 2),
        "latency_ms": _latency(ok),
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
