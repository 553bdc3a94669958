"""Aggregate routing feedback on a Dask cluster and merge it into one router (docs/SCALING.md).

A feedback log is a list of records (embedding, model index, score, cost). Each partition:
  1. loads the base router (its centroids define the clusters),
  2. assigns every record to its nearest cluster (the cluster av_profile_update would use),
  3. sums counts, scores and costs per (cluster, model) in float64,
  4. returns a partial router with those sums (av_router_from_parts, same centroids).
The driver merges the partial routers into the base with av_profile_merge (Router.merge). The
statistics are sums, so the result does not depend on how the log was partitioned; with float32
outcomes whose sums fit in a double's 53 bits (as here) it equals, bit for bit, feeding the whole
log to one router with av_profile_update.

Run on the bundled data:  /usr/bin/python3 examples/dask/feedback_merge.py
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def _avengers():
    # The in-tree binding and library unless the caller installed them.
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    os.environ.setdefault("AVENGERS_LIB", os.path.join(ROOT, "lib", "libavengers.so"))
    import avengers
    return avengers


def partial_profile(base_bytes, records):
    """One partition: a router holding only this partition's sums (same centroids as the base).
    Every model must have at least one record in the partition (a router cannot hold a model
    without any outcome); otherwise sum the arrays of several partitions before building."""
    avengers = _avengers()
    base = avengers.Router.from_bytes(base_bytes)
    k, m = base.n_clusters, base.n_models
    cnt, ss, sc = np.zeros((k, m)), np.zeros((k, m)), np.zeros((k, m))
    for emb, model, score, cost in records:
        j = int(base.route_ex(emb, top_p=1, explain=True).clusters[0])
        cnt[j, model] += 1.0
        ss[j, model] += float(score)
        sc[j, model] += float(cost)
    part = avengers.Router.from_parts(base.centroids(), cnt, ss, sc, base.models, top_p=base.top_p)
    return part.to_bytes()


def merge_partials(base_bytes, partials):
    """The reduce step: base + every partial, in the order given (any order gives the same)."""
    avengers = _avengers()
    merged = avengers.Router.from_bytes(base_bytes)
    for p in partials:
        merged.merge(avengers.Router.from_bytes(p))
    return merged


def aggregate(client, base_bytes, records, npartitions):
    """Shard the log into dask.bag partitions, build the partial profiles on the workers, merge
    them on the driver."""
    import dask.bag as db
    bag = db.from_sequence(records, npartitions=npartitions)
    partials = bag.map_partitions(lambda recs: [partial_profile(base_bytes, list(recs))])
    return merge_partials(base_bytes, partials.compute(scheduler=client.get))


def single_process(base_bytes, records):
    """The reference: the same log fed to one router, one av_profile_update per record."""
    avengers = _avengers()
    r = avengers.Router.from_bytes(base_bytes)
    for emb, model, score, cost in records:
        r.profile_update(emb, model, float(score), float(cost))
    return r


def main():
    import gzip
    import json
    from dask.distributed import Client, LocalCluster
    avengers = _avengers()
    data = os.path.join(ROOT, "examples", "data", "llmrouter9")
    rows = [json.loads(l) for l in gzip.open(os.path.join(data, "data.jsonl.gz"), "rt")]
    emb = np.load(os.path.join(data, "emb_tfidf_svd384.npy"))
    models = sorted(rows[0]["scores"])
    train = [i for i, r in enumerate(rows) if r["split"] == "train"]
    test = [i for i, r in enumerate(rows) if r["split"] != "train"]
    b = avengers.Builder(emb.shape[1], models)
    for i in train:
        b.add(emb[i], [rows[i]["scores"][m] for m in models], [rows[i]["costs"][m] for m in models])
    base = b.fit(n_clusters=60, top_p=4).to_bytes()
    log = [(emb[i], mi, np.float32(rows[i]["scores"][m]), np.float32(rows[i]["costs"][m]))
           for i in test for mi, m in enumerate(models)]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        merged = aggregate(client, base, log, npartitions=8)
    single = single_process(base, log)
    same = merged.to_bytes() == single.to_bytes()
    print(f"{len(log)} feedback records in 8 partitions on 2 worker processes; merged router "
          f"{'equals' if same else 'DIFFERS from'} the single-process one bit for bit")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
