//! The safe API against hand-computed routers, the llm9 fixture (tests/data/llm9), errors, Drop,
//! persistence, concurrent routing with feedback from several threads, and the estimator, tuning
//! and budget calls against the raw avengers-sys calls.
use avengers::{
    sys, Builder, Error, EstimatorOptions, ExpectedMean, FitOptions, Normalisation, Price, Replay, Router, RowSource,
    TuneOptions, Weighting,
};
use std::sync::Arc;

fn tiny_router(top_p: u32) -> Router {
    // the router of tests/unit/test_core.c: three clusters on the unit axes, two models
    Router::from_parts(
        2,
        &["small", "large"],
        &[1.0, 0.0, 0.0, 1.0, -1.0, 0.0],
        &[10.0, 10.0, 10.0, 10.0, 10.0, 0.0],
        &[2.0, 9.0, 8.0, 9.0, 5.0, 0.0],
        &[1.0, 10.0, 1.0, 10.0, 1.0, 0.0],
        top_p,
    )
    .unwrap()
}

struct Fixture {
    emb: Vec<f32>,
    scores: Vec<f32>,
    costs: Vec<f32>,
    split: Vec<u8>,
    models: Vec<String>,
    n: usize,
    d: usize,
}

fn npy(name: &str) -> (Vec<u8>, Vec<usize>) {
    let path = format!("{}/../../../tests/data/llm9/{name}", env!("CARGO_MANIFEST_DIR"));
    let b = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let hlen = b[8] as usize | (b[9] as usize) << 8;
    let h = std::str::from_utf8(&b[10..10 + hlen]).unwrap();
    let shape = h.split("'shape': (").nth(1).unwrap().split(')').next().unwrap();
    let dims = shape.split(',').filter_map(|t| t.trim().parse().ok()).collect();
    (b[10 + hlen..].to_vec(), dims)
}

fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

fn fixture() -> Fixture {
    let (e, dims) = npy("emb.npy");
    let models = std::fs::read_to_string(format!("{}/../../../tests/data/llm9/models.txt", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    Fixture {
        emb: f32s(&e),
        scores: f32s(&npy("scores.npy").0),
        costs: f32s(&npy("costs.npy").0),
        split: npy("split.npy").0,
        models,
        n: dims[0],
        d: dims[1],
    }
}

/// A builder holding the fixture's training rows.
fn builder(fx: &Fixture) -> Builder {
    let names: Vec<&str> = fx.models.iter().map(|s| s.as_str()).collect();
    let m = names.len();
    let mut b = Builder::new(fx.d, &names).unwrap();
    for i in (0..fx.n).filter(|&i| fx.split[i] == 1) {
        b.add(&fx.emb[i * fx.d..(i + 1) * fx.d], &fx.scores[i * m..(i + 1) * m], &fx.costs[i * m..(i + 1) * m])
            .unwrap();
    }
    assert_eq!(b.n_rows(), 1123);
    b
}

fn fit(fx: &Fixture, k: u32, seed: u64) -> Router {
    let mut b = builder(fx);
    let r = b.fit(&FitOptions::new().n_clusters(k).n_init(2).seed(seed)).unwrap();
    assert!(b.inertia().unwrap() > 0.0);
    r
}

#[test]
fn route_hand_computed() {
    let r = tiny_router(1);
    assert_eq!(r.route(&[3.0, 0.5], 1.0), Ok(1));
    assert_eq!(r.route(&[3.0, 0.5], 0.0), Ok(0));
    assert_eq!(r.route(&[3.0, 0.5], 0.5), Ok(0)); // tie -> cheaper
    assert_eq!(r.route(&[0.1, 2.0], 0.6), Ok(1));
    assert_eq!(r.route(&[0.1, 2.0], 0.4), Ok(0));
    assert_eq!(r.route(&[-1.0, 0.2], 1.0), Ok(1)); // global mean stands in
    assert_eq!((r.dim(), r.n_clusters(), r.n_models(), r.top_p()), (2, 3, 2, 1));
    assert_eq!(r.models(), vec!["small", "large"]);
    assert_eq!(r.model_index("large"), Ok(1));
    let s = r.cluster_stats(1, 0).unwrap();
    assert_eq!((s.count, s.sum_score, s.sum_cost), (10.0, 8.0, 1.0));
    assert_eq!(r.centroid(2).unwrap(), vec![-1.0, 0.0]);
    let r2 = tiny_router(2);
    assert_eq!(r2.route(&[1.0, 0.9], 0.51), Ok(1));
    assert_eq!(r2.route(&[1.0, 0.9], 0.49), Ok(0));
    // batch: packed and strided rows
    assert_eq!(r.route_batch(&[3.0, 0.5, 0.1, 2.0, -1.0, 0.2], 1.0).unwrap(), vec![1, 1, 1]);
    let mut out = [9i32; 3];
    r.route_batch_strided(&[3.0, 0.5, 99.0, 0.1, 2.0, 99.0, -1.0, 0.2], 3, 0.0, &mut out).unwrap();
    assert_eq!(out, [0, 0, 0]);
}

#[test]
fn errors_carry_code_and_detail() {
    let mut r = tiny_router(1);
    let e = r.route(&[1.0, 0.0, 0.0], 0.5).unwrap_err();
    assert_eq!(e.code(), Error::EDIM);
    assert!(e.message().contains('3'), "{e}");
    assert_eq!(r.route(&[0.0, 0.0], 0.5).unwrap_err().code(), Error::EVECTOR);
    assert_eq!(r.route(&[f32::NAN, 1.0], 0.5).unwrap_err().code(), Error::EVECTOR);
    assert_eq!(r.route(&[1.0, 0.0], 1.5).unwrap_err().code(), Error::EALPHA);
    assert_eq!(r.route(&[1.0, 0.0], f32::NAN).unwrap_err().code(), Error::EALPHA);
    assert_eq!(r.profile_update(&[1.0, 0.0], 2, 1.0, 1.0).unwrap_err().code(), Error::EMODEL);
    assert_eq!(r.profile_update(&[1.0, 0.0], 0, 1.0, -1.0).unwrap_err().code(), Error::EVALUE);
    assert_eq!(r.model_index("nope").unwrap_err().code(), Error::EMODEL);
    assert_eq!(r.centroid(3).unwrap_err().code(), Error::ERANGE);
    assert_eq!(r.set_top_p(0).unwrap_err().code(), Error::EINVAL);
    assert_eq!(r.route_batch(&[1.0, 0.0, 1.0], 0.5).unwrap_err().code(), Error::EDIM);
    let mut out = [0i32; 2];
    assert_eq!(r.route_batch_strided(&[1.0, 0.0, 0.0], 2, 0.5, &mut out).unwrap_err().code(), Error::ERANGE);
    // a bad row inside a batch: reported in place, the others still route
    let e = r.route_batch_strided(&[1.0, 0.0, 0.0, 0.0], 2, 0.5, &mut out).unwrap_err();
    assert_eq!(e.code(), Error::EVECTOR);
    assert!(out[0] >= 0 && out[1] == Error::EVECTOR);
    let e = Router::load("/nonexistent/x.avr").unwrap_err();
    assert_eq!(e.code(), Error::EIO);
    assert!(e.to_string().contains("/nonexistent/x.avr"));
    assert!(Router::load_buffer(b"junk").is_err());
    assert_eq!(
        Router::from_parts(2, &["a", "a"], &[1.0, 0.0, 0.0, 1.0], &[1.0; 4], &[1.0; 4], &[1.0; 4], 1)
            .unwrap_err()
            .code(),
        Error::EINVAL
    );
    assert_eq!(Builder::new(0, &["a"]).unwrap_err().code(), Error::ELIMIT);
    assert_eq!(avengers::strerror(Error::EDIM), "embedding dimension does not match the router");
    assert_eq!(r.model_index("a\0b").unwrap_err().code(), Error::EINVAL);
}

#[test]
fn add_rows_equals_add() {
    let fx = fixture();
    let names: Vec<&str> = fx.models.iter().map(|s| s.as_str()).collect();
    let m = names.len();
    let n = 200;
    let mut a = Builder::new(fx.d, &names).unwrap();
    a.add_rows(fx.d, &fx.emb[..n * fx.d], &fx.scores[..n * m], &fx.costs[..n * m]).unwrap();
    let mut b = Builder::new(fx.d, &names).unwrap();
    for i in 0..n {
        b.add(&fx.emb[i * fx.d..(i + 1) * fx.d], &fx.scores[i * m..(i + 1) * m], &fx.costs[i * m..(i + 1) * m]).unwrap();
    }
    assert_eq!((a.n_rows(), b.n_rows()), (n, n));
    let o = FitOptions::new().n_clusters(5).top_p(2).n_init(1).seed(1);
    let (ra, rb) = (a.fit(&o).unwrap(), b.fit(&o).unwrap());
    for j in 0..5 {
        assert_eq!(ra.centroid(j).unwrap(), rb.centroid(j).unwrap());
    }
    let mut bad = fx.emb[..3 * fx.d].to_vec();
    bad[fx.d..2 * fx.d].iter_mut().for_each(|x| *x = 0.0);
    let e = a.add_rows(fx.d, &bad, &fx.scores[..3 * m], &fx.costs[..3 * m]).unwrap_err();
    assert_eq!(e.code(), Error::EVECTOR);
    assert!(e.message().starts_with("row 1:"), "{e}");
    assert_eq!(a.n_rows(), n + 1);
}

#[test]
fn send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<Router>();
    assert_send::<Builder>();
}

#[test]
fn fixture_batch_equals_single_and_roundtrip() {
    let fx = fixture();
    let r = fit(&fx, 20, 7);
    assert_eq!(r.meta("seed"), Some("7"));
    for alpha in [0.0f32, 0.3, 0.7, 1.0] {
        let batch = r.route_batch(&fx.emb, alpha).unwrap();
        assert_eq!(batch.len(), fx.n);
        for (i, &m) in batch.iter().enumerate() {
            assert_eq!(r.route(&fx.emb[i * fx.d..(i + 1) * fx.d], alpha).unwrap(), m);
        }
    }
    // identical decisions and statistics after save/load, file and buffer
    let bytes = r.save_buffer().unwrap();
    let r2 = Router::load_buffer(&bytes).unwrap();
    let path = std::env::temp_dir().join(format!("avengers-rust-{}.avr", std::process::id()));
    r.save(&path).unwrap();
    let r3 = Router::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(std::fs::read(&path).ok(), None);
    let want = r.route_batch(&fx.emb, 0.6).unwrap();
    assert_eq!(r2.route_batch(&fx.emb, 0.6).unwrap(), want);
    assert_eq!(r3.route_batch(&fx.emb, 0.6).unwrap(), want);
    assert_eq!(r3.cluster_stats(4, 2).unwrap(), r.cluster_stats(4, 2).unwrap());
    assert_eq!(r3.metadata(), r.metadata());
    // seeds: same seed same router, another seed another one
    let same = fit(&fx, 20, 7);
    let other = fit(&fx, 20, 8);
    assert_eq!(same.centroid(3).unwrap(), r.centroid(3).unwrap());
    assert!((0..20).any(|j| other.centroid(j).unwrap() != r.centroid(j).unwrap()));
}

#[test]
fn threads_route_while_updating() {
    let fx = Arc::new(fixture());
    let r = Arc::new(fit(&fx, 10, 3));
    let before: f64 = (0..10).map(|j| r.cluster_stats(j, 2).unwrap().count).sum();
    let mut handles = Vec::new();
    for t in 0..3 {
        let (r, fx) = (Arc::clone(&r), Arc::clone(&fx));
        handles.push(std::thread::spawn(move || {
            for i in (t..fx.n).step_by(3) {
                let m = r.route(&fx.emb[i * fx.d..(i + 1) * fx.d], 0.5).unwrap();
                assert!(m < r.n_models());
            }
        }));
    }
    {
        let (r, fx) = (Arc::clone(&r), Arc::clone(&fx));
        handles.push(std::thread::spawn(move || {
            for i in 0..200 {
                r.profile_update(&fx.emb[i * fx.d..(i + 1) * fx.d], 2, 1.0, 0.001).unwrap();
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    let after: f64 = (0..10).map(|j| r.cluster_stats(j, 2).unwrap().count).sum();
    assert_eq!(after - before, 200.0);
}

#[test]
fn metadata_and_top_p_need_exclusive_access() {
    let mut r = tiny_router(1);
    // the library may add entries of its own; ours must appear once, with the last value
    assert_eq!(r.meta("embedder_id"), None);
    let n = r.metadata().len();
    r.set_meta("embedder_id", "glove-100").unwrap();
    r.set_meta("embedder_id", "tfidf").unwrap();
    assert_eq!(r.meta("embedder_id"), Some("tfidf"));
    assert_eq!(r.metadata().len(), n + 1);
    assert!(r.metadata().contains(&("embedder_id", "tfidf")));
    r.set_top_p(3).unwrap();
    assert_eq!(r.top_p(), 3);
    assert_eq!(r.simd_backend(), avengers::simd_backend());
    assert_eq!(avengers::version(), "1.4.1");
}

#[test]
fn route_ex_merge_add_model_convert() {
    let fx = fixture();
    let r = fit(&fx, 12, 11);
    let row = |i: usize| &fx.emb[i * fx.d..(i + 1) * fx.d];
    for i in (0..fx.n).step_by(41) {
        for a in [0.0f32, 0.5, 1.0] {
            assert_eq!(r.route_ex(row(i), &avengers::RouteOptions::new(a)).unwrap().model, r.route(row(i), a).unwrap());
        }
    }
    let mut only4 = avengers::RouteOptions::new(0.5);
    only4.allowed = Some(vec![4]);
    assert_eq!(r.route_ex(row(0), &only4).unwrap().model, 4);
    only4.allowed = Some(vec![]);
    assert_eq!(r.route_ex(row(0), &only4).unwrap_err().code(), Error::ENOMODEL);
    // merging a twin doubles every statistic exactly; other centroids are refused
    let twin = Router::load_buffer(&r.save_buffer().unwrap()).unwrap();
    let before = r.cluster_stats(5, 3).unwrap();
    r.merge(&twin).unwrap();
    let after = r.cluster_stats(5, 3).unwrap();
    assert_eq!((after.count, after.sum_score, after.sum_cost), (2.0 * before.count, 2.0 * before.sum_score, 2.0 * before.sum_cost));
    let other = fit(&fx, 12, 12);
    assert_eq!(r.merge(&other).unwrap_err().code(), Error::EMISMATCH);
    assert_ne!(r.centroid_hash(), other.centroid_hash());
    assert_eq!(r.centroid_hash().map(|h| h.len()), Some(16));
    assert_eq!(r.meta("centroid_hash"), None); // derived, not metadata
    let mut r = r;
    assert_eq!(r.add_model("newcomer", 0.8, 0.001, 4.0).unwrap(), 9);
    assert_eq!(r.models().last(), Some(&"newcomer"));
    let s = r.cluster_stats(0, 9).unwrap();
    assert_eq!(s.count, 4.0);
    assert!((s.sum_score - 3.2).abs() < 1e-12);
    // compact centroids route (nearly) as float32
    assert_eq!(other.centroid_type().unwrap(), avengers::sys::AV_CENTROIDS_F32);
    let f16 = other.convert(avengers::sys::AV_CENTROIDS_F16).unwrap();
    assert_eq!(f16.centroid_type().unwrap(), avengers::sys::AV_CENTROIDS_F16);
    let (a, b) = (other.route_batch(&fx.emb, 0.5).unwrap(), f16.route_batch(&fx.emb, 0.5).unwrap());
    let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
    assert!(same * 100 >= fx.n * 99, "{same} of {}", fx.n);
    assert_eq!(f16.convert(avengers::sys::AV_CENTROIDS_INT8).unwrap_err().code(), Error::ENOTSUP);
}

#[test]
fn evaluate_matches_direct_computation() {
    let fx = fixture();
    let r = fit(&fx, 12, 11);
    let m = fx.models.len();
    let test: Vec<usize> = (0..fx.n).filter(|&i| fx.split[i] == 0).collect();
    let emb: Vec<f32> = test.iter().flat_map(|&i| fx.emb[i * fx.d..(i + 1) * fx.d].iter().copied()).collect();
    let sc: Vec<f32> = test.iter().flat_map(|&i| fx.scores[i * m..(i + 1) * m].iter().copied()).collect();
    let co: Vec<f32> = test.iter().flat_map(|&i| fx.costs[i * m..(i + 1) * m].iter().copied()).collect();
    let names: Vec<&str> = fx.models.iter().map(|s| s.as_str()).collect();
    let alphas = [0.0, 0.5, 1.0];
    let ev = r.evaluate(&emb, &sc, &co, Some(&names), Some(&alphas)).unwrap();
    assert_eq!(ev.n_rows, test.len());
    assert_eq!(ev.points.len(), 3);
    for (p, &a) in ev.points.iter().zip(&alphas) {
        let picks = r.route_batch(&emb, a as f32).unwrap();
        let mean: f64 = picks.iter().enumerate().map(|(k, &j)| sc[k * m + j] as f64).sum::<f64>() / test.len() as f64;
        assert!((p.mean_score - mean).abs() < 1e-9, "alpha {a}: {} vs {mean}", p.mean_score);
        assert_eq!(p.n_scored, test.len());
    }
    for (i, p) in ev.model_points.iter().enumerate() {
        let mean: f64 = (0..test.len()).map(|k| sc[k * m + i] as f64).sum::<f64>() / test.len() as f64;
        assert!((p.mean_score - mean).abs() < 1e-9);
    }
    assert!(ev.oracle.mean_score >= ev.model_points.iter().map(|p| p.mean_score).fold(0.0, f64::max));
    assert!(!ev.frontier.is_empty());
    assert_eq!(r.evaluate(&emb, &sc[1..], &co, Some(&names), None).unwrap_err().code(), Error::EINVAL);
}

/// The ensemble rule recomputed in f64 from the router's centroids and statistics (an independent
/// implementation of docs/API.md and avengers.h, not a call into the library): per member the
/// top_p most similar of its own clusters (ties: lower index), the paper's per-cluster min-max
/// normalised means (a model without outcomes in a cluster takes its global mean), summed over
/// every member's clusters, argmax with the paper's tie rule (higher sum, lower global mean cost,
/// lower index). Returns the decision and whether the row sits within float noise of a top-p
/// boundary or a score tie, where the library's float32 kernels may legitimately differ.
struct Reference {
    centroids: Vec<Vec<f64>>,
    pn: Vec<Vec<f64>>,
    qn: Vec<Vec<f64>>,
    g_cost: Vec<f64>,
    members: usize,
    top_p: usize,
}

impl Reference {
    fn new(r: &Router) -> Reference {
        let (k, m) = (r.n_clusters(), r.n_models());
        let stats: Vec<Vec<avengers::ClusterStats>> =
            (0..k).map(|j| (0..m).map(|i| r.cluster_stats(j, i).unwrap()).collect()).collect();
        let total = |f: &dyn Fn(&avengers::ClusterStats) -> f64, i: usize| -> f64 { stats.iter().map(|row| f(&row[i])).sum() };
        let g_n: Vec<f64> = (0..m).map(|i| total(&|s| s.count, i)).collect();
        let g_score: Vec<f64> = (0..m).map(|i| total(&|s| s.sum_score, i) / g_n[i]).collect();
        let g_cost: Vec<f64> = (0..m).map(|i| total(&|s| s.sum_cost, i) / g_n[i]).collect();
        let minmax = |v: Vec<f64>| -> Vec<f64> {
            let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            v.iter().map(|x| if hi > lo { (x - lo) / (hi - lo) } else { 0.0 }).collect()
        };
        let mut pn = Vec::new();
        let mut qn = Vec::new();
        for row in &stats {
            let p = (0..m).map(|i| if row[i].count > 0.0 { row[i].sum_score / row[i].count } else { g_score[i] }).collect();
            let q = (0..m).map(|i| if row[i].count > 0.0 { row[i].sum_cost / row[i].count } else { g_cost[i] }).collect();
            pn.push(minmax(p));
            qn.push(minmax(q).iter().map(|x| 1.0 - x).collect());
        }
        let centroids = (0..k).map(|j| r.centroid(j).unwrap().iter().map(|&x| x as f64).collect()).collect();
        Reference { centroids, pn, qn, g_cost, members: r.members(), top_p: r.top_p() }
    }

    /// Similarity of the L2-normalised query to centroid j.
    fn sims(&self, e: &[f32], j: usize) -> f64 {
        let norm = e.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>().sqrt();
        self.centroids[j].iter().zip(e).map(|(c, &x)| c * x as f64 / norm).sum()
    }

    fn route(&self, e: &[f32], alpha: f32) -> (usize, bool) {
        let k = self.centroids.len();
        let kb = k / self.members;
        let sims: Vec<f64> = (0..k).map(|j| self.sims(e, j)).collect();
        let (a, m) = (alpha as f64, self.g_cost.len());
        let mut tot = vec![0.0f64; m];
        let mut ambiguous = false;
        for b in 0..self.members {
            let mut order: Vec<usize> = (b * kb..(b + 1) * kb).collect();
            order.sort_by(|&x, &y| sims[y].partial_cmp(&sims[x]).unwrap().then(x.cmp(&y)));
            if order.len() > self.top_p && sims[order[self.top_p - 1]] - sims[order[self.top_p]] < 1e-5 {
                ambiguous = true;
            }
            for &j in &order[..self.top_p] {
                for (t, (p, q)) in tot.iter_mut().zip(self.pn[j].iter().zip(&self.qn[j])) {
                    *t += a * p + (1.0 - a) * q;
                }
            }
        }
        let mut best = 0;
        for i in 1..m {
            let better = tot[i] > tot[best] || (tot[i] == tot[best] && self.g_cost[i] < self.g_cost[best]);
            if better {
                best = i;
            }
        }
        if (0..m).any(|i| i != best && (tot[best] - tot[i]).abs() < 1e-9) {
            ambiguous = true;
        }
        (best, ambiguous)
    }
}

#[test]
fn ensemble_fit_members_and_decisions() {
    let fx = fixture();
    let names: Vec<&str> = fx.models.iter().map(|s| s.as_str()).collect();
    let m = names.len();
    let mut b = Builder::new(fx.d, &names).unwrap();
    for i in (0..fx.n).filter(|&i| fx.split[i] == 1) {
        b.add(&fx.emb[i * fx.d..(i + 1) * fx.d], &fx.scores[i * m..(i + 1) * m], &fx.costs[i * m..(i + 1) * m])
            .unwrap();
    }
    let (k, members) = (8u32, 3u32);
    let opts = FitOptions::new().n_clusters(k).top_p(2).n_init(1).seed(5).members(members);
    let r = b.fit(&opts).unwrap();
    assert_eq!(r.members(), members as usize);
    assert_eq!(r.n_clusters(), (members * k) as usize);
    assert_eq!(r.top_p(), 2);
    assert!(format!("{r:?}").contains("members: 3"));
    // the paper's router is a one-member ensemble
    let paper = b.fit(&FitOptions::new().n_clusters(k).top_p(2).n_init(1).seed(5)).unwrap();
    assert_eq!((paper.members(), paper.n_clusters()), (1, k as usize));
    // every member's statistics count every training row once
    let rows: f64 = (0..fx.n).filter(|&i| fx.split[i] == 1).count() as f64;
    for mb in 0..members as usize {
        let lo = mb * k as usize;
        let n: f64 = (lo..lo + k as usize).map(|j| r.cluster_stats(j, 0).unwrap().count).sum();
        assert_eq!(n, rows, "member {mb}");
    }
    // decisions equal the independent f64 implementation of the ensemble rule on every row
    // away from a float32 tie
    let reference = Reference::new(&r);
    let mut differ_from_paper = 0;
    for alpha in [0.0f32, 0.35, 0.7, 1.0] {
        let batch = r.route_batch(&fx.emb, alpha).unwrap();
        let single = paper.route_batch(&fx.emb, alpha).unwrap();
        let mut ambiguous = 0;
        for i in 0..fx.n {
            let e = &fx.emb[i * fx.d..(i + 1) * fx.d];
            assert_eq!(r.route(e, alpha).unwrap(), batch[i]);
            let (want, amb) = reference.route(e, alpha);
            if amb {
                ambiguous += 1;
            } else {
                assert_eq!(batch[i], want, "row {i} alpha {alpha}");
            }
            differ_from_paper += (batch[i] != single[i]) as usize;
        }
        assert!(ambiguous * 20 < fx.n, "{ambiguous} ambiguous rows at alpha {alpha}");
    }
    assert!(differ_from_paper > 0, "the ensemble decides exactly as one clustering: proves little");
    // members survive a save/load round trip, decisions too
    let r2 = Router::load_buffer(&r.save_buffer().unwrap()).unwrap();
    assert_eq!((r2.members(), r2.n_clusters()), (members as usize, (members * k) as usize));
    assert_eq!(r2.route_batch(&fx.emb, 0.6).unwrap(), r.route_batch(&fx.emb, 0.6).unwrap());
    // feedback: one outcome in the nearest cluster of every member
    let e = &fx.emb[..fx.d];
    let count = |r: &Router, j: usize| r.cluster_stats(j, 3).unwrap().count;
    let before: Vec<f64> = (0..r.n_clusters()).map(|j| count(&r, j)).collect();
    r.profile_update(e, 3, 1.0, 0.01).unwrap();
    for mb in 0..members as usize {
        let lo = mb * k as usize;
        let nearest = (lo..lo + k as usize)
            .max_by(|&x, &y| {
                let (sx, sy) = (reference.sims(e, x), reference.sims(e, y));
                sx.partial_cmp(&sy).unwrap().then(y.cmp(&x))
            })
            .unwrap();
        for (j, was) in before.iter().enumerate().skip(lo).take(k as usize) {
            let want = was + if j == nearest { 1.0 } else { 0.0 };
            assert_eq!(count(&r, j), want, "member {mb} cluster {j}");
        }
    }
    // limits: more than AV_MAX_MEMBERS, or members * top_p over AV_MAX_TOP_P
    let too_many = FitOptions::new().n_clusters(2).top_p(1).n_init(1).members(avengers::sys::AV_MAX_MEMBERS + 1);
    assert_eq!(b.fit(&too_many).unwrap_err().code(), Error::EINVAL);
    // 0 (a struct from before the field) means the paper's single clustering
    assert_eq!(b.fit(&opts.clone().members(0)).unwrap().members(), 1);
    let wide = FitOptions::new().n_clusters(40).top_p(33).n_init(1).members(2);
    assert_eq!(b.fit(&wide).unwrap_err().code(), Error::EINVAL);
}

// ---- Beyond the paper: estimator defaults, cross-validated tuning, budgets --------------------

/// The fixture's held-out rows, packed: embeddings, scores, costs, row count.
fn heldout(fx: &Fixture) -> (Vec<f32>, Vec<f32>, Vec<f32>, usize) {
    let m = fx.models.len();
    let (mut e, mut s, mut c) = (Vec::new(), Vec::new(), Vec::new());
    let rows: Vec<usize> = (0..fx.n).filter(|&i| fx.split[i] == 0).collect();
    for &i in &rows {
        e.extend_from_slice(&fx.emb[i * fx.d..(i + 1) * fx.d]);
        s.extend_from_slice(&fx.scores[i * m..(i + 1) * m]);
        c.extend_from_slice(&fx.costs[i * m..(i + 1) * m]);
    }
    (e, s, c, rows.len())
}

fn raw_estimator(r: &Router) -> sys::av_estimator_options {
    let mut o = std::mem::MaybeUninit::<sys::av_estimator_options>::zeroed();
    unsafe { sys::av_estimator_options_init_sized(o.as_mut_ptr(), std::mem::size_of::<sys::av_estimator_options>()) };
    let mut o = unsafe { o.assume_init() };
    assert_eq!(unsafe { sys::av_router_get_estimator(r.as_ptr(), &mut o) }, 0);
    o
}

fn same_raw(a: &sys::av_estimator_options, b: &sys::av_estimator_options) -> bool {
    a.kappa == b.kappa
        && a.weighting == b.weighting
        && a.temperature == b.temperature
        && a.guard == b.guard
        && a.guard_margin == b.guard_margin
        && a.normalisation == b.normalisation
}

#[test]
fn estimator_matches_c() {
    let fx = fixture();
    let mut r = fit(&fx, 12, 3);
    // the defaults are the C defaults (the paper's estimator), and what a new router reports
    let d = EstimatorOptions::default();
    assert_eq!(
        d,
        EstimatorOptions {
            kappa: 0.0,
            weighting: Weighting::Hard,
            temperature: 0.05,
            guard: false,
            guard_margin: 0.0,
            normalisation: Normalisation::Cluster,
            safety: 0.0
        }
    );
    assert_eq!(r.estimator().unwrap(), d);
    let bytes = r.save_buffer().unwrap();
    let twin = Router::load_buffer(&bytes).unwrap();
    let paper = Router::load_buffer(&bytes).unwrap();
    let e = EstimatorOptions::new().kappa(4.0).softmax(0.1).guard(0.02).normalisation(Normalisation::Global);
    r.set_estimator(&e).unwrap();
    // the same settings on the twin through the raw C call
    let mut c = raw_estimator(&twin);
    c.kappa = 4.0;
    c.weighting = sys::AV_WEIGHTING_SOFTMAX;
    c.temperature = 0.1;
    c.guard = 1;
    c.guard_margin = 0.02;
    c.normalisation = sys::AV_NORMALISE_GLOBAL;
    assert_eq!(unsafe { sys::av_router_set_estimator(twin.as_ptr(), &c) }, 0);
    assert!(same_raw(&raw_estimator(&r), &c));
    assert_eq!(r.estimator().unwrap(), e);
    assert_eq!(twin.estimator().unwrap(), e);
    // typed settings of the file, not metadata strings
    assert_eq!((r.meta("kappa"), r.meta("weighting"), r.meta("normalisation")), (None, None, None));
    // same settings, same decisions; different from the paper's rule somewhere
    let got = r.route_batch(&fx.emb, 0.6).unwrap();
    assert_eq!(got, twin.route_batch(&fx.emb, 0.6).unwrap());
    assert_ne!(got, paper.route_batch(&fx.emb, 0.6).unwrap());
    // kept through a save/load round trip
    assert_eq!(Router::load_buffer(&r.save_buffer().unwrap()).unwrap().estimator().unwrap(), e);
    // bad values: Error::EINVAL, and the settings stay as they were
    let err = r.set_estimator(&EstimatorOptions::new().kappa(-1.0)).unwrap_err();
    assert_eq!(err.code(), Error::EINVAL);
    assert!(err.message().contains("kappa"), "{err}");
    for bad in [
        EstimatorOptions::new().kappa(f64::NAN),
        EstimatorOptions::new().softmax(0.0),
        EstimatorOptions::new().softmax(f32::INFINITY),
        EstimatorOptions::new().guard(f64::INFINITY),
    ] {
        assert_eq!(r.set_estimator(&bad).map_err(|e| e.code()), Err(Error::EINVAL), "{bad:?}");
    }
    assert_eq!(r.estimator().unwrap(), e);
    // back to the paper's defaults: the untouched router's decisions
    r.set_estimator(&EstimatorOptions::default()).unwrap();
    assert_eq!(r.route_batch(&fx.emb, 0.6).unwrap(), paper.route_batch(&fx.emb, 0.6).unwrap());
}

#[test]
fn budgets_match_c() {
    let fx = fixture();
    let r = fit(&fx, 12, 3);
    let (m, d) = (fx.models.len(), fx.d);
    let (e, s, c, n) = heldout(&fx);
    let raw_mean = |alpha: f32, emb: *const f32, rows: usize, sc: *const f32, co: *const f32| {
        let (mut ms, mut mc) = (0f64, 0f64);
        let rc = unsafe { sys::av_router_expected_mean(r.as_ptr(), alpha, emb, rows, d, sc, co, &mut ms, &mut mc) };
        assert_eq!(rc, 0);
        ExpectedMean { score: ms, cost: mc }
    };
    let null = std::ptr::null::<f32>();
    let full = Replay::new(&e).scores(&s).costs(&c);
    let costs_only = Replay::new(&e).costs(&c);
    for alpha in [0.0f32, 0.3, 0.75, 1.0] {
        assert_eq!(r.expected_mean(alpha, None).unwrap(), raw_mean(alpha, null, 0, null, null));
        assert_eq!(r.expected_mean(alpha, Some(&full)).unwrap(), raw_mean(alpha, e.as_ptr(), n, s.as_ptr(), c.as_ptr()));
        assert_eq!(r.expected_mean(alpha, Some(&costs_only)).unwrap(), raw_mean(alpha, e.as_ptr(), n, null, c.as_ptr()));
    }
    // with every replay value present, the mean is that of the decisions
    let picks = r.route_batch(&e, 0.4).unwrap();
    let (ss, sc): (f64, f64) =
        picks.iter().enumerate().fold((0.0, 0.0), |(a, b), (k, &p)| (a + s[k * m + p] as f64, b + c[k * m + p] as f64));
    let at = r.expected_mean(0.4, Some(&full)).unwrap();
    assert!((at.score - ss / n as f64).abs() < 1e-9 && (at.cost - sc / n as f64).abs() < 1e-9, "{at:?}");
    // alpha for a budget / an accuracy: the C calls, and the rule evaluated on the grid
    let (lo, hi) = (r.expected_mean(0.0, None).unwrap(), r.expected_mean(1.0, None).unwrap());
    let grid = 21u32;
    let raw_search = |budget: bool, target: f64, rp: Option<(&[f32], &[f32], &[f32])>, g: u32| {
        let mut a = -1f32;
        let (emb, rows, sp, cp) = rp.map_or((null, 0, null, null), |(x, y, z)| (x.as_ptr(), x.len() / d, y.as_ptr(), z.as_ptr()));
        let rc = unsafe {
            if budget {
                sys::av_router_alpha_for_budget(r.as_ptr(), target, emb, rows, d, sp, cp, g, &mut a)
            } else {
                sys::av_router_alpha_for_accuracy(r.as_ptr(), target, emb, rows, d, sp, cp, g, &mut a)
            }
        };
        assert_eq!(rc, 0);
        a
    };
    for frac in [0.25, 0.5, 0.9] {
        let budget = lo.cost + frac * (hi.cost - lo.cost);
        let a = r.alpha_for_budget(budget, None, grid).unwrap();
        assert_eq!(a, raw_search(true, budget, None, grid));
        // independent: the best score within the budget (ties: the cheaper, the smaller alpha)
        let mut want: Option<(f32, ExpectedMean)> = None;
        for g in 0..grid {
            let x = (g as f64 / (grid - 1) as f64) as f32;
            let em = r.expected_mean(x, None).unwrap();
            let better = want.map_or(true, |(_, b)| em.score > b.score || (em.score == b.score && em.cost < b.cost));
            if em.cost <= budget && better {
                want = Some((x, em));
            }
        }
        assert_eq!(Some(a), want.map(|w| w.0));
        let target = lo.score + frac * (hi.score - lo.score);
        let a = r.alpha_for_accuracy(target, None, grid).unwrap();
        assert_eq!(a, raw_search(false, target, None, grid));
        assert!(r.expected_mean(a, None).unwrap().score >= target);
        // on the replay set, default grid (0 = 101 points)
        let rp = Some((&e[..], &s[..], &c[..]));
        assert_eq!(r.alpha_for_budget(budget, Some(&full), 0).unwrap(), raw_search(true, budget, rp, 0));
        assert_eq!(r.alpha_for_accuracy(target, Some(&full), 0).unwrap(), raw_search(false, target, rp, 0));
    }
    // a share of calls: the share reported is the routed share, counted here from route_batch
    let emb_only = Replay::new(&e);
    for share in [0.1, 0.3] {
        let (a, got) = r.alpha_for_share(&[0], share, Some(&emb_only), 21).unwrap();
        let to0 = r.route_batch(&e, a).unwrap().iter().filter(|&&p| p == 0).count();
        assert!((got - to0 as f64 / n as f64).abs() < 1e-12, "{got} vs {to0}/{n}");
        assert!(r.alpha_for_share(&[0], share, None, 21).is_ok());
    }
    assert_eq!(r.alpha_for_share(&[99], 0.5, None, 0).map_err(|e| e.code()), Err(Error::EMODEL));
    // errors (docs/API.md): nothing within a zero budget, an unreachable accuracy, bad arguments
    let code = |x: avengers::Result<f32>| x.map_err(|e| e.code());
    assert_eq!(code(r.alpha_for_budget(0.0, None, 0)), Err(Error::ENOMODEL));
    assert_eq!(code(r.alpha_for_budget(0.0, Some(&full), 0)), Err(Error::ENOMODEL));
    assert_eq!(code(r.alpha_for_accuracy(2.0, None, 0)), Err(Error::ENOMODEL));
    assert_eq!(code(r.alpha_for_budget(f64::NAN, None, 0)), Err(Error::EINVAL));
    assert_eq!(code(r.alpha_for_budget(1.0, None, 1)), Err(Error::EINVAL)); // a grid needs 2 points
    let mcode = |x: avengers::Result<ExpectedMean>| x.map_err(|e| e.code());
    assert_eq!(mcode(r.expected_mean(1.5, None)), Err(Error::EALPHA));
    assert_eq!(mcode(r.expected_mean(0.5, Some(&Replay::new(&[])))), Err(Error::EEMPTY));
    assert_eq!(mcode(r.expected_mean(0.5, Some(&Replay::new(&vec![1.0; d + 1])))), Err(Error::EDIM));
    assert_eq!(mcode(r.expected_mean(0.5, Some(&Replay::new(&e).scores(&s[..3])))), Err(Error::EINVAL));
    assert_eq!(mcode(r.expected_mean(0.5, Some(&Replay::new(&vec![0.0; d])))), Err(Error::EVECTOR));
}

#[test]
fn tune_matches_c() {
    let fx = fixture();
    let mut b = builder(&fx);
    // defaults and the default grid are the C ones
    let mut g = std::mem::MaybeUninit::<sys::av_tune_options>::zeroed();
    unsafe { sys::av_tune_options_init_sized(g.as_mut_ptr(), std::mem::size_of::<sys::av_tune_options>()) };
    let mut g = unsafe { g.assume_init() };
    let t0 = TuneOptions::default();
    assert!(t0.n_clusters.is_empty() && t0.kappa.is_empty() && t0.members.is_empty());
    assert_eq!((t0.n_folds, t0.n_alphas, t0.n_init), (g.n_folds, g.n_alphas, g.n_init));
    unsafe { sys::av_tune_options_default_grid(&mut g) };
    let dg = TuneOptions::default_grid();
    let slice = |p: *const u32, k: usize| unsafe { std::slice::from_raw_parts(p, k) }.to_vec();
    assert_eq!(dg.n_clusters, slice(g.n_clusters, g.n_n_clusters));
    assert_eq!(dg.top_p, slice(g.top_p, g.n_top_p));
    assert_eq!(dg.members, slice(g.members, g.n_members));
    assert_eq!(dg.kappa, unsafe { std::slice::from_raw_parts(g.kappa, g.n_kappa) }.to_vec());
    assert!(dg.temperatures.is_empty() && g.temperatures.is_null());
    assert_eq!(dg.global_normalisation, g.global_normalisation == 1);
    // a small run: two k candidates, two kappas, 3 folds, one restart
    let t = TuneOptions::new().n_clusters(&[8, 16]).kappa(&[0.0, 4.0]).n_folds(3).n_init(1);
    let r = b.fit(&FitOptions::new().n_init(1).seed(5).tune(t)).unwrap();
    let auc = b.best_auc().expect("a tuned fit reports its AUC");
    // the same through the C API
    let (ks, kappas) = ([8u32, 16], [0.0f64, 4.0]);
    let mut ct = std::mem::MaybeUninit::<sys::av_tune_options>::zeroed();
    unsafe { sys::av_tune_options_init_sized(ct.as_mut_ptr(), std::mem::size_of::<sys::av_tune_options>()) };
    let mut ct = unsafe { ct.assume_init() };
    ct.n_clusters = ks.as_ptr();
    ct.n_n_clusters = 2;
    ct.kappa = kappas.as_ptr();
    ct.n_kappa = 2;
    ct.n_folds = 3;
    ct.n_init = 1;
    let mut fo = std::mem::MaybeUninit::<sys::av_fit_options>::zeroed();
    unsafe { sys::av_fit_options_init_sized(fo.as_mut_ptr(), std::mem::size_of::<sys::av_fit_options>()) };
    let mut fo = unsafe { fo.assume_init() };
    fo.n_init = 1;
    fo.seed = 5;
    fo.tune = &mut ct;
    let mut p = std::ptr::null_mut();
    assert_eq!(unsafe { sys::av_builder_fit(b.as_ptr(), &fo, &mut p) }, 0);
    assert!(auc > 0.0 && auc <= 1.0);
    // options are inputs only: the AUC is the router's metadata, the struct is not written
    assert_eq!(ct.unused0, 0.0);
    let c_auc = unsafe { std::ffi::CStr::from_ptr(sys::av_router_meta(p, b"tuned_cv_auc\0".as_ptr() as *const std::ffi::c_char)) };
    assert_eq!(c_auc.to_str().unwrap().parse::<f64>().unwrap(), auc);
    // metadata equal key by key, apart from the creation time
    let cmeta: Vec<(String, String)> = (0..unsafe { sys::av_router_meta_count(p) })
        .map(|i| {
            let (mut k, mut v) = (std::ptr::null(), std::ptr::null());
            assert_eq!(unsafe { sys::av_router_meta_at(p, i, &mut k, &mut v) }, 0);
            let s = |q| unsafe { std::ffi::CStr::from_ptr(q) }.to_str().unwrap().to_owned();
            (s(k), s(v))
        })
        .filter(|(k, _)| k != "created")
        .collect();
    let mine: Vec<(String, String)> =
        r.metadata().into_iter().filter(|(k, _)| *k != "created").map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    assert_eq!(mine, cmeta);
    assert_eq!((r.meta("tuned_folds"), r.meta("tuned_candidates")), (Some("3"), Some("4")));
    assert_eq!(r.meta("tuned_cv_auc").unwrap().parse::<f64>().unwrap(), auc);
    assert_eq!(r.n_clusters().to_string(), r.meta("tuned_n_clusters").unwrap());
    unsafe { sys::av_router_free(p) };
    // bad lists: Error::EINVAL, and the last tuned AUC stays; a plain fit clears it
    for bad in [
        TuneOptions::new().kappa(&[-1.0]),
        TuneOptions::new().n_folds(1),
        TuneOptions::new().members(&[sys::AV_MAX_MEMBERS + 1]),
        TuneOptions::new().temperatures(&[0.0]),
    ] {
        let e = b.fit(&FitOptions::new().n_init(1).tune(bad.clone())).unwrap_err();
        assert_eq!(e.code(), Error::EINVAL, "{bad:?}");
    }
    assert_eq!(b.best_auc(), Some(auc));
    b.fit(&FitOptions::new().n_clusters(8).n_init(1)).unwrap();
    assert_eq!(b.best_auc(), None);
}

/// route_ex explains its decision; every figure computed by hand from tiny_router's statistics.
#[test]
fn route_ex_explanation_by_hand() {
    let r = tiny_router(1);
    let q = [1.0f32, 0.1];
    let e = r.route_ex(&q, &avengers::RouteOptions::new(0.7)).unwrap();
    // cluster 0 is nearest (cos 1/sqrt(1.01)); its means: small p 0.2 q 0.1, large p 0.9 q 1.0;
    // min-max normalised small (0, 0), large (1, 1): x = 0.7 p~ + 0.3 (1 - q~)
    assert_eq!(e.model, 1);
    assert_eq!((e.n_models, e.n_feasible), (2, 2));
    assert_eq!(e.ranked, vec![1, 0]);
    assert_eq!(e.clusters, vec![0]);
    assert!((e.cluster_sims[0] - 1.0 / 1.01f32.sqrt()).abs() < 1e-6);
    assert!((e.best_similarity - 1.0 / 1.01f32.sqrt()).abs() < 1e-6);
    // alpha is a float32: 0.7f32 as f64 differs from 0.7 by 1.2e-8
    let close = |a: &[f64], b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
    assert!(close(&e.model_scores, &[0.3, 0.7]), "{:?}", e.model_scores);
    assert!(close(&e.ranked_scores, &[0.7, 0.3]));
    assert!(close(&e.expected_score, &[0.2, 0.9]), "{:?}", e.expected_score);
    assert!(close(&e.expected_cost, &[0.1, 1.0]), "{:?}", e.expected_cost);
    assert!(close(&e.cluster_weights, &[1.0]) && close(&e.cluster_support, &[10.0]));
    assert_eq!(e.support, 10.0);
    assert!(!e.guarded);
    // the baseline agrees (global means: small 0.5 at 0.1, large 0.9 at 1.0); the errors of
    // cluster 0's means are p (1 - p) / n, p the Beta posterior mean (10/12 for large)
    assert!(!e.deviated && e.gain == 0.0 && e.baseline == Some(1));
    assert_eq!(e.expected_score_se.len(), 2);
    assert!((e.expected_score_se[1] - ((10.0f64 / 12.0) * (2.0 / 12.0) / 10.0).sqrt()).abs() < 1e-12);
    // a mask keeps only the cheap model: it is chosen and the only one ranked
    let only0 = avengers::RouteOptions { allowed: Some(vec![0]), ..avengers::RouteOptions::new(0.7) };
    let e0 = r.route_ex(&q, &only0).unwrap();
    assert_eq!((e0.model, e0.n_feasible, e0.ranked.clone()), (0, 1, vec![0]));
    // with top_p 2 both clusters 0 and 1 are used, most similar first
    let e2 = r.route_ex(&q, &avengers::RouteOptions { top_p: 2, ..avengers::RouteOptions::new(0.7) }).unwrap();
    assert_eq!(e2.clusters, vec![0, 1]);
}

/// profile_update_ex: default options are profile_update; a half-life of one update halves all
/// evidence before the outcome is added (figures by hand from tiny_router).
#[test]
fn profile_update_ex_and_decay() {
    let (a, b) = (tiny_router(1), tiny_router(1));
    a.profile_update(&[1.0, 0.0], 0, 1.0, 1.0).unwrap();
    b.profile_update_ex(&[1.0, 0.0], 0, 1.0, 1.0, &avengers::UpdateOptions::default()).unwrap();
    for j in 0..3 {
        for i in 0..2 {
            let (x, y) = (a.cluster_stats(j, i).unwrap(), b.cluster_stats(j, i).unwrap());
            assert_eq!((x.count, x.sum_score, x.sum_cost), (y.count, y.sum_score, y.sum_cost));
        }
    }
    let r = tiny_router(1);
    r.profile_update_ex(&[1.0, 0.0], 0, 1.0, 1.0, &avengers::UpdateOptions::decay(1.0)).unwrap();
    let s = r.cluster_stats(0, 0).unwrap();
    assert_eq!((s.count, s.sum_score, s.sum_cost), (6.0, 2.0, 1.5)); // 10/2 + 1, 2/2 + 1, 1/2 + 1
    let t = r.cluster_stats(1, 1).unwrap();
    assert_eq!((t.count, t.sum_score, t.sum_cost), (5.0, 4.5, 5.0)); // halved, nothing added
    let e = r.profile_update_ex(&[1.0, 0.0], 7, 1.0, 1.0, &avengers::UpdateOptions::default()).unwrap_err();
    assert_eq!(e.code(), Error::EMODEL);
}

#[test]
fn prices_rescale_costs_and_persist() {
    let r = tiny_router(1);
    let q0 = [1.0f32, 0.0];
    assert_eq!(r.route(&q0, 0.2).unwrap(), 0);
    assert_eq!(r.get_price(1).unwrap(), None);
    assert_eq!(r.get_price_or_mean(1).unwrap(), 1.0);
    // "large" 10x cheaper: its cost sums x 0.1, the better model wins below alpha 1
    assert_eq!(r.set_price(1, &Price::per_query(0.1)).unwrap(), 0.1);
    assert_eq!(r.cluster_stats(0, 1).unwrap().sum_cost, 10.0 * 0.1);
    assert_eq!(r.route(&q0, 0.2).unwrap(), 1);
    let p = Price::per_token(1e-3, 2e-3, 100.0, 50.0);
    let f = r.set_price(1, &p).unwrap();
    assert!((f - p.cost_per_query() / 0.1).abs() < 1e-12);
    let l = Router::load_buffer(&r.save_buffer().unwrap()).unwrap();
    assert_eq!(l.get_price(1).unwrap(), Some(p));
    assert_eq!(r.set_price(7, &p).map_err(|e| e.code()), Err(Error::EMODEL));
    assert_eq!(r.set_price(0, &Price::per_query(f64::NAN)).map_err(|e| e.code()), Err(Error::EVALUE));
    // a cancelled tuning has its own code and text
    assert_eq!(Error::ECANCELED, -18);
    assert_eq!(Error::new(Error::ECANCELED, "x").text(), "cancelled by the caller's callback");
}

/// Rows of the fixture's training split read through a row source.
struct FixtureSource {
    emb: Vec<f32>,
    scores: Vec<f32>,
    costs: Vec<f32>,
    d: usize,
    m: usize,
    calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    fail_at: usize, // the call (1-based) that returns Err(fail_code); 0: never
    fail_code: i32,
    panic_at: usize,
}

impl RowSource for FixtureSource {
    fn read(&mut self, row0: usize, e: &mut [f32], s: &mut [f32], c: &mut [f32])
            -> Result<(), i32> {
        let call = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if call == self.panic_at {
            panic!("a source that panics");
        }
        if call == self.fail_at {
            return Err(self.fail_code);
        }
        let n = e.len() / self.d;
        e.copy_from_slice(&self.emb[row0 * self.d..(row0 + n) * self.d]);
        s.copy_from_slice(&self.scores[row0 * self.m..(row0 + n) * self.m]);
        c.copy_from_slice(&self.costs[row0 * self.m..(row0 + n) * self.m]);
        Ok(())
    }
}

fn fixture_source(fx: &Fixture) -> (FixtureSource, usize) {
    let m = fx.models.len();
    let rows: Vec<usize> = (0..fx.n).filter(|&i| fx.split[i] == 1).collect();
    let pick = |v: &Vec<f32>, w: usize| -> Vec<f32> {
        rows.iter().flat_map(|&i| v[i * w..(i + 1) * w].iter().copied()).collect()
    };
    let src = FixtureSource {
        emb: pick(&fx.emb, fx.d), scores: pick(&fx.scores, m), costs: pick(&fx.costs, m),
        d: fx.d, m, calls: Default::default(), fail_at: 0, fail_code: 0, panic_at: 0,
    };
    (src, rows.len())
}

#[test]
fn row_source_gives_the_router_of_the_same_rows() {
    let fx = fixture();
    let names: Vec<&str> = fx.models.iter().map(|s| s.as_str()).collect();
    for alg in [sys::AV_KMEANS_FULL, sys::AV_KMEANS_SAMPLED] {
        let opts = FitOptions::new().n_clusters(12).n_init(2).seed(3).algorithm(alg).sample_size(400);
        let mut copied = builder(&fx);
        let want = copied.fit(&opts).unwrap();
        let (src, n) = fixture_source(&fx);
        let calls = src.calls.clone();
        let mut b = Builder::new(fx.d, &names).unwrap();
        b.add_source(n, fx.d, 100, Box::new(src)).unwrap();
        assert_eq!(b.n_rows(), n);
        let after_add = calls.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(after_add, (n + 99) / 100); // every block once, when added
        let got = b.fit(&opts).unwrap();
        assert!(calls.load(std::sync::atomic::Ordering::SeqCst) > after_add); // read again
        for j in 0..12 {
            assert_eq!(got.centroid(j).unwrap(), want.centroid(j).unwrap());
            for i in 0..names.len() {
                assert_eq!(got.cluster_stats(j, i).unwrap(), want.cluster_stats(j, i).unwrap());
            }
        }
    }
}

#[test]
fn row_source_errors_and_panics_cancel() {
    let fx = fixture();
    let names: Vec<&str> = fx.models.iter().map(|s| s.as_str()).collect();
    for (fail_at, code, panic_at) in [(3usize, 7i32, 0usize), (2, 0, 0), (0, 0, 4)] {
        let (mut src, n) = fixture_source(&fx);
        src.fail_at = fail_at;
        src.fail_code = code;
        src.panic_at = panic_at;
        let mut b = Builder::new(fx.d, &names).unwrap();
        let e = b.add_source(n, fx.d, 100, Box::new(src)).unwrap_err();
        assert_eq!(e.code(), Error::ECANCELED);
        assert_eq!(b.n_rows(), 0); // nothing added
    }
    // a wrong dimension is the library's error, before any read
    let (src, n) = fixture_source(&fx);
    let calls = src.calls.clone();
    let mut b = Builder::new(fx.d, &names).unwrap();
    assert_eq!(b.add_source(n, fx.d + 1, 100, Box::new(src)).unwrap_err().code(), Error::EDIM);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0);
}
