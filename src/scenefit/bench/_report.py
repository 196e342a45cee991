"""The readable table of a bench run (Markdown, also printed)."""

from __future__ import annotations


def render(r: dict) -> str:
    m = r["machine"]
    lines = [f"# scenefit bench{' (smoke)' if r['smoke'] else ''}", "",
             f"{m['date']} · {m['cpu']} · {m['cpus']} CPUs · {m['memory_gb']} GB · Python {m['python']} · "
             f"torch {m['torch']} ({m['torch_threads']} threads) · faiss {m['faiss']} · scenefit {m['scenefit']}", "",
             f"Vectors sampled around: {r['data']['real']}", "",
             "## Search alone (single query, k=10)", "",
             "| products | index | setting | median ms | p95 ms | recall@10 | build s | bytes/vector |",
             "|---:|---|---|---:|---:|---:|---:|---:|"]
    for row in r.get("search", []):
        if "skipped" in row:
            lines.append(f"| {row['n']:,} | {row['index']} | skipped: {row['skipped']} | | | | | |")
            continue
        lat = row["latency"]
        lines.append(f"| {row['n']:,} | {row['index']} | {row['setting']} | {lat['median_ms']:.3f} | {lat['p95_ms']:.3f} "
                     f"| {row['recall_at_10']:.3f} | {row['build_s']} | {row['bytes_per_vector']:.0f} |")
    mt = r.get("match")
    if mt is None:
        return "\n".join(lines) + "\n"
    adapter = f"adapter: {mt['adapter']}" if mt.get("adapter") else "no adapter"
    lines += ["", f"## match end to end ({mt['products']:,} products, {mt['index']['kind']} index, "
              f"{mt['photos']} scene photos, offline encoder, warm, {mt.get('regions', 'crops')} regions, {adapter})", "",
              "| | median ms | p95 ms |", "|---|---:|---:|",
              f"| **scenefit match, `--runtime {mt.get('runtime', 'onnx')}`** | **{mt['total']['median_ms']:.1f}** | {mt['total']['p95_ms']:.1f} |"]
    for stage, s in mt["stages"].items():
        lines.append(f"| · {stage} | {s['median_ms']:.1f} | {s['p95_ms']:.1f} |")
    if (fl := mt.get("network_floor")) is not None:
        lines += [f"| image network alone on the same pixels (floor) | {fl['median_ms']:.1f} | {fl['p95_ms']:.1f} |",
                  f"| scenefit match vs the floor | {mt['vs_floor']}× | |"]
    lines.append(f"| scenefit match, `--runtime torch` | {mt['torch_total']['median_ms']:.1f} | {mt['torch_total']['p95_ms']:.1f} |")
    lines.append(f"| · encode (torch) | {mt['torch_stages']['encode']['median_ms']:.1f} | {mt['torch_stages']['encode']['p95_ms']:.1f} |")
    lines += [f"| baseline: whole-photo vector, exact flat search | {mt['flat_baseline']['median_ms']:.1f} | {mt['flat_baseline']['p95_ms']:.1f} |",
              f"| baseline: per-product Python scoring loop | {mt['loop_baseline']['median_ms']:.1f} | {mt['loop_baseline']['p95_ms']:.1f} |",
              f"| scenefit vs the loop | {mt['speedup_vs_loop']}× faster | |"]
    if (tp := r.get("throughput")) is not None:
        lines += ["", "## Throughput of `scenefit serve` (loopback, concurrent clients)", "",
                  "| workers | clients | photos | matches/s | p50 ms | p95 ms | scene-cache hits |",
                  "|---:|---:|---|---:|---:|---:|---:|"]
        for row in tp:
            for kind in ("distinct", "repeated"):
                x = row[kind]
                hits = "" if kind == "distinct" else x.get("cache_hit_rate")
                lines.append(f"| {row['workers']} | {row['clients']} | {kind} | {x['matches_per_s']} | {x['median_ms']:.0f} "
                             f"| {x['p95_ms']:.0f} | {hits} |")
    lines += ["", "## Cold start, memory, ingestion", ""]
    if (cs := r.get("cold_start")) is not None:
        lines.append(f"- Cold start (open a {cs['products']:,}-product index in a new process, model excluded): "
                     f"median {cs['median_ms']} ms, p95 {cs['p95_ms']} ms over {cs['runs']} runs.")
    for mem in r.get("memory", []):
        lines.append(f"- Serving process at {mem['products']:,} products, `--runtime {mem['runtime']}` (model loaded, matches run"
                     f"{'' if mem['appearance_space'] else ', text-only catalog'}): peak RSS {mem['peak_rss_mb']:.0f} MB; "
                     f"{mem['bytes_per_product_on_disk']:.0f} bytes/product on disk."
                     + (" Added by each step: " + ", ".join(f"{k} {v} MB" for k, v in added.items()) + "."
                        if (added := mem.get("rss_added_mb")) else ""))
    ing = r.get("ingest")
    if ing is not None:
        for label in ("text_only", "with_local_images"):
            x = ing[label]
            lines.append(f"- Ingestion, {label.replace('_', ' ')}: {x['products_per_s_median']} products/s "
                         f"(median of {x['repeats']} runs of {x['products']}; index build {x['index_build']['median_ms']:.0f} ms).")
        lines.append(f"- Product photos for ingestion: {ing['photos']}.")
    so = r.get("scaleout")
    if so is not None:
        ri, ms = so["ray_ingest"], so["milvus_search"]
        lines += ["", "## Scale-out (same data, this machine)", "",
                  "| | median | p95 | recall@10 | ratio |", "|---|---:|---:|---:|---:|",
                  f"| ingest {ri['products']} products with photos, local runner | {ri['local']['products_per_s_median']} products/s | | | |",
                  f"| ingest, `--runner ray` (local cluster) | {ri['ray']['products_per_s_median']} products/s | | | {ri['ray_vs_local']}× local |",
                  f"| search {ms['products']:,} vectors, FAISS exact | {ms['faiss_flat']['median_ms']:.2f} ms | {ms['faiss_flat']['p95_ms']:.2f} ms "
                  f"| {ms['faiss_flat']['recall_at_10']:.3f} | |",
                  f"| search, Milvus Lite (FLAT) | {ms['milvus_lite_flat']['median_ms']:.2f} ms | {ms['milvus_lite_flat']['p95_ms']:.2f} ms "
                  f"| {ms['milvus_lite_flat']['recall_at_10']:.3f} | {ms['milvus_vs_faiss']}× FAISS |"]
        if (uf := ms.get("milvus_lite_unflushed")) is not None:
            lines.append(f"| search, Milvus Lite before its flush (5 queries) | {uf['median_ms']:.2f} ms | {uf['p95_ms']:.2f} ms | | |")
    return "\n".join(lines) + "\n"
