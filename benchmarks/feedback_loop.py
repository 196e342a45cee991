"""The feedback loop, simulated end to end through the HTTP API (docs/feedback.md).

Simulated shoppers look at labelled rooms' photos on a real ``scenefit serve`` app (uvicorn on
loopback): each match shows ``--shown`` picks; a shopper examines rank r with probability
1/r (position bias), clicks an examined product that is relevant to the room (its label), and
now and then one that is not (noise); some clicks go on to the cart and a purchase, and some
examined misfits are dismissed. Events go to ``POST /v1/feedback``. After each round the
feedback is exported (``engine.feedback.export``, what ``scenefit feedback export`` runs),
fitted (``fit --into fits/feedback-rN``) and served as a new experiment variant beside the
label-free control, and the next round's shoppers see both.

Rooms are split into folds: the shoppers only ever see the other folds' rooms, and each stage
is scored by Recall@10 on the held-out fold's rooms: the label-free start, every feedback
round, and a fit on the hand labels of the same feedback rooms. Finally an A/B phase serves
the held-out rooms to new shoppers, half on label-free and half on the last feedback variant,
and ``experiments report`` compares them.

    python benchmarks/feedback_loop.py --index .scenefit/dev-896 \
        --data ../shared/benchmarks/ikea-dev --json docs/feedback/loop.json

The index must be built from ``--data``'s catalog and carry a label-free adapter (``scenefit
ingest`` then ``scenefit adapt``); it is copied per fold, never changed. A smoke run (what the
tests do): ``--rooms 6 --folds 2 --rounds 1 --sessions 1 --ab-sessions 2``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from scenefit import Engine
from scenefit.feedback import EXPERIMENTS_FILE, Variant
from scenefit.learn import kfold

KEY = "simulator-write-key"


class Shopper:
    """Position-biased clicks on relevant picks, with noise; carts, purchases and dismissals."""

    def __init__(self, rng: random.Random, *, bias: float = 1.0, noise: float = 0.03, cart: float = 0.3,
                 buy: float = 0.4, dismiss: float = 0.1):
        self.rng, self.bias, self.noise, self.cart, self.buy, self.dismiss = rng, bias, noise, cart, buy, dismiss

    def react(self, shown: list[str], relevant: set[str]) -> list[tuple[str, str]]:
        events = []
        for rank, pid in enumerate(shown, start=1):
            if self.rng.random() >= rank ** -self.bias:
                continue  # not examined
            fits = pid in relevant
            if self.rng.random() < (0.95 if fits else self.noise):
                events.append((pid, "click"))
                if fits and self.rng.random() < self.cart:
                    events.append((pid, "add_to_cart"))
                    if self.rng.random() < self.buy:
                        events.append((pid, "purchase"))
            elif not fits and self.rng.random() < self.dismiss:
                events.append((pid, "dismiss"))
        return events


@contextlib.contextmanager
def serving_index(index: Path):
    """``scenefit serve``'s app on a free loopback port; yields an httpx client for it."""
    from scenefit._settings import Settings
    from scenefit.api import Service, serving

    service = Service(index, Settings(api_key=KEY, feedback_per_minute=100_000, scene_cache_size=1024))
    with serving(service, start_timeout_s=60) as port, \
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        deadline = time.monotonic() + 300
        while client.get("/readyz").status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the service did not turn ready")
            time.sleep(0.2)
        yield client


def shop(client: httpx.Client, rooms: list[dict], data: Path, sessions: int, shown: int, shopper: Shopper,
         tag: str) -> dict:
    """Every room seen by ``sessions`` new shoppers; their events sent. Counts per variant."""
    served: dict[str, int] = {}
    for n, room in enumerate(rooms):
        photo = (data / room["scene"]).read_bytes()
        for s in range(sessions):
            resp = client.post("/v1/match", files={"image": ("scene.jpg", photo, "image/jpeg")},
                               data={"k": str(shown), "session_id": f"{tag}-{n}-{s}"})
            resp.raise_for_status()
            result = resp.json()
            served[result["variant"]] = served.get(result["variant"], 0) + 1
            picks = [r["id"] for r in result["recommendations"]]
            for pid, event in shopper.react(picks, set(room["relevant"])):
                client.post("/v1/feedback", json={"match_id": result["match_id"], "product_id": pid,
                                                  "event": event}).raise_for_status()
    return served


def recall(engine: Engine, rooms: list[dict], data: Path, variant: Variant, k: int) -> list[float]:
    """Recall@k per room (relevant products in the index), as ``variant`` ranks."""
    out = []
    for room in rooms:
        relevant = {p for p in room["relevant"] if engine.index.get(p) is not None}
        if not relevant:
            continue
        picks = engine.match((data / room["scene"]).read_bytes(), k=k, variant=variant).recommendations
        out.append(len(relevant & {r.id for r in picks}) / len(relevant))
    return out


def run_fold(args, fold: int, train: list[dict], test: list[dict], work: Path) -> dict:
    index = work / f"fold{fold}"
    shutil.copytree(args.index, index, ignore=shutil.ignore_patterns("feedback*", "fits", EXPERIMENTS_FILE))
    engine = Engine(index, log=lambda m: None)
    control = Variant(name="label-free", share=0.5)
    stages = {"label-free": recall(engine, test, args.data, control, args.k)}
    print(f"fold {fold}: {len(train)} feedback rooms, {len(test)} held out; "
          f"label-free R@{args.k} {np.mean(stages['label-free']):.4f}", flush=True)

    hand = work / f"hand-{fold}.jsonl"
    hand.write_text("".join(json.dumps({**r, "scene": str((args.data / r["scene"]).resolve())}) + "\n" for r in train))
    engine.fit(None, hand, k=args.k, into="fits/hand")
    stages["hand-labelled"] = recall(engine, test, args.data, Variant(name="hand", share=1, fit="fits/hand"), args.k)
    print(f"  hand-labelled fit R@{args.k} {np.mean(stages['hand-labelled']):.4f}", flush=True)

    shopper = Shopper(random.Random(args.seed * 1000 + fold))
    latest: Variant | None = None
    rounds = []
    with serving_index(index) as client:
        for r in range(1, args.rounds + 1):
            variants = [control] + ([latest] if latest else [])
            if latest is None:
                variants = [control.model_copy(update={"share": 1.0})]
            (index / EXPERIMENTS_FILE).write_text(json.dumps({"salt": f"round-{r}", "variants": [
                v.model_dump(exclude_none=True) for v in variants]}))
            served = shop(client, train, args.data, args.sessions, args.shown, shopper, f"f{fold}r{r}")
            exported = engine.feedback.export(work / f"feedback-{fold}" / "labels.jsonl", passed_over=args.passed_over)
            name = f"feedback-r{r}"
            engine.fit(None, exported.labels, k=args.k, into=f"fits/{name}")
            latest = Variant(name=name, share=0.5, fit=f"fits/{name}")
            stages[name] = recall(engine, test, args.data, latest, args.k)
            rounds.append({"round": r, "served": served, "labelled_scenes": exported.scenes,
                           "relevant": exported.relevant, "irrelevant": exported.irrelevant,
                           "passed_over": exported.passed_over, "events": exported.events})
            print(f"  round {r}: served {served}, exported {exported.scenes} scenes, {exported.relevant} relevant, "
                  f"{exported.irrelevant} irrelevant; R@{args.k} {np.mean(stages[name]):.4f}", flush=True)
        # The A/B phase: new shoppers on the held-out rooms, label-free against the last variant.
        (index / EXPERIMENTS_FILE).write_text(json.dumps({"salt": "ab", "variants": [
            control.model_dump(exclude_none=True), latest.model_dump(exclude_none=True)]}))
        time.sleep(1)  # every match of the feedback rounds is now strictly before `start`
        start = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 0.5))
        shop(client, test, args.data, args.ab_sessions, args.shown, shopper, f"f{fold}ab")
        report = client.get(f"/v1/experiments/report?k={args.k}&since={start}",
                            headers={"Authorization": f"Bearer {KEY}"}).json()
    return {"fold": fold, "train_rooms": len(train), "test_rooms": len(test),
            "recall": {name: float(np.mean(v)) for name, v in stages.items()},
            "per_room": {name: v for name, v in stages.items()}, "rounds": rounds, "ab_report": report}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True, help="an index of --data's catalog with a label-free adapter")
    ap.add_argument("--data", type=Path, required=True, help="benchmark folder: catalog.csv, labels.jsonl, scenes/")
    ap.add_argument("--folds", type=int, default=3, help="held-out folds of rooms")
    ap.add_argument("--rounds", type=int, default=3, help="feedback rounds: serve, export, fit")
    ap.add_argument("--sessions", type=int, default=4, help="shoppers per feedback room per round")
    ap.add_argument("--ab-sessions", type=int, default=20, help="shoppers per held-out room in the A/B phase")
    ap.add_argument("--shown", type=int, default=12, help="picks a match shows")
    ap.add_argument("-k", type=int, default=10, help="Recall@k, and the report's top k")
    ap.add_argument("--rooms", type=int, default=0, help="use only this many rooms (0: all)")
    ap.add_argument("--passed-over", action="store_true",
                    help="export picks left alone, after position bias, as irrelevant too (feedback export --passed-over)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()

    rooms = [json.loads(x) for x in (args.data / "labels.jsonl").read_text().splitlines() if x.strip()]
    if args.rooms:
        rooms = random.Random(args.seed).sample(rooms, args.rooms)
    folds = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="scenefit-loop-") as tmp:
        for f, split in enumerate(kfold(len(rooms), args.folds, args.seed)):
            train = [rooms[i] for i in split.train_in_split_order()]
            test = [rooms[i] for i in split.test]
            folds.append(run_fold(args, f, train, test, Path(tmp)))
    stages = list(folds[0]["recall"])
    summary = {}
    for name in stages:
        values = [f["recall"][name] for f in folds]
        pooled = [x for f in folds for x in f["per_room"][name]]
        summary[name] = {"pooled": float(np.mean(pooled)), "folds": values,
                         "min": min(values), "max": max(values)}
    hand = summary["hand-labelled"]["pooled"]
    print(f"\nRecall@{args.k} on held-out rooms (pooled over {len(folds)} folds; per fold):")
    for name, s in summary.items():
        print(f"  {name:14s} {s['pooled']:.4f}  ({', '.join(f'{v:.4f}' for v in s['folds'])})"
              f"  {100 * s['pooled'] / hand:.0f}% of hand-labelled")
    for f in folds:
        for c in f["ab_report"]["comparisons"]:
            print(f"  fold {f['fold']} A/B {c['variant']} vs {c['control']}, {c['metric']}: {100 * c['diff']:+.1f} "
                  f"points [{100 * c['low']:+.1f}, {100 * c['high']:+.1f}], p = {c['p_value']:.3g}: {c['verdict']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "summary": summary,
                                         "folds": folds, "seconds": round(time.perf_counter() - started)}, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
