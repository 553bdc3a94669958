//! Raw declarations of the libavengers C API (`include/avengers/avengers.h`), written by hand.
//! Every item mirrors the header one to one; see docs/API.md for the semantics. Use the
//! `avengers` crate for a safe interface.
#![allow(non_camel_case_types)]
#![no_std]

use core::ffi::{c_char, c_int, c_uint, c_void};

pub const AV_VERSION_MAJOR: u32 = 0;
pub const AV_VERSION_MINOR: u32 = 2;
pub const AV_VERSION_PATCH: u32 = 0;

pub const AV_OK: c_int = 0;
pub const AV_EINVAL: c_int = -1;
pub const AV_ENOMEM: c_int = -2;
pub const AV_EIO: c_int = -3;
pub const AV_EFORMAT: c_int = -4;
pub const AV_ECHECKSUM: c_int = -5;
pub const AV_EVERSION: c_int = -6;
pub const AV_EDIM: c_int = -7;
pub const AV_EVECTOR: c_int = -8;
pub const AV_EALPHA: c_int = -9;
pub const AV_EMODEL: c_int = -10;
pub const AV_EVALUE: c_int = -11;
pub const AV_ERANGE: c_int = -12;
pub const AV_EEMPTY: c_int = -13;
pub const AV_ENOMODEL: c_int = -14;
pub const AV_EMISMATCH: c_int = -15;
pub const AV_ELIMIT: c_int = -16;
pub const AV_ENOTSUP: c_int = -17;

pub const AV_MAX_DIM: u32 = 65536;
pub const AV_MAX_CLUSTERS: u32 = 65536;
pub const AV_MAX_MODELS: u32 = 256;
pub const AV_MAX_TOP_P: u32 = 64;
pub const AV_MAX_NAME: u32 = 255;
/// Clusterings in an ensemble router (`av_fit_options.members`; 1 = the paper).
pub const AV_MAX_MEMBERS: u32 = 16;

pub const AV_CENTROIDS_F32: u32 = 0;
pub const AV_CENTROIDS_F16: u32 = 1;
pub const AV_CENTROIDS_INT8: u32 = 2;

/// Opaque router handle.
#[repr(C)]
pub struct av_router {
    _private: [u8; 0],
}

/// Opaque builder handle.
#[repr(C)]
pub struct av_builder {
    _private: [u8; 0],
}

pub type av_progress_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, restart: u32, n_init: u32, iteration: u32, inertia: f64)>;

/// Mirror of `av_fit_options` (fields in header order; the struct only grows at the end).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct av_fit_options {
    pub struct_size: u32,
    pub n_clusters: u32,
    pub top_p: u32,
    pub n_init: u32,
    pub max_iter: u32,
    pub tol: f32,
    pub seed: u64,
    pub centroid_type: u32,
    pub verbose: u32,
    pub embedder_id: *const c_char,
    pub progress: av_progress_fn,
    pub progress_user: *mut c_void,
    /// Cross-validated tuning; NULL = fit exactly these options.
    pub tune: *const av_tune_options,
    // --- appended in 0.2 ---
    /// Beyond the paper: an ensemble of `members` independent clusterings, n_clusters each
    /// (default 1 = the paper; at most `AV_MAX_MEMBERS`, and members * top_p <= `AV_MAX_TOP_P`).
    pub members: u32,
}

/// Mirror of `av_tune_options`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct av_tune_options {
    pub struct_size: u32,
    pub n_clusters: *const u32,
    pub n_n_clusters: usize,
    pub top_p: *const u32,
    pub n_top_p: usize,
    pub kappa: *const f64,
    pub n_kappa: usize,
    pub temperatures: *const f32,
    pub n_temperatures: usize,
    pub n_folds: u32,
    pub n_alphas: u32,
    pub n_init: u32,
    pub guard: u32,
    pub guard_margin: f64,
    pub best_auc: f64,
    pub global_normalisation: u32,
    // --- appended in 0.2 ---
    /// Candidate ensemble sizes (`av_fit_options.members`); NULL = the fit options' value.
    pub members: *const u32,
    pub n_members: usize,
}


pub const AV_VALUES_F32: u32 = 0;
pub const AV_VALUES_F64: u32 = 1;
pub const AV_EVAL_ROUTER: u32 = 0;
pub const AV_EVAL_MODEL: u32 = 1;
pub const AV_WEIGHTING_ROUTER: u32 = 0;
pub const AV_WEIGHTING_HARD: u32 = 1;
pub const AV_WEIGHTING_SOFTMAX: u32 = 2;
pub const AV_NORMALISE_ROUTER: u32 = 0;
pub const AV_NORMALISE_CLUSTER: u32 = 1;
pub const AV_NORMALISE_GLOBAL: u32 = 2;
pub const AV_ROUTE_MAX_COST: u32 = 1 << 0;
pub const AV_ROUTE_MIN_SCORE: u32 = 1 << 1;
pub const AV_ROUTE_GUARD_ON: u32 = 1 << 2;
pub const AV_ROUTE_GUARD_OFF: u32 = 1 << 3;
pub const AV_ROUTE_EXPLORE: u32 = 1 << 4;

/// Opaque evaluation result.
#[repr(C)]
pub struct av_eval_result {
    _private: [u8; 0],
}

/// Mirror of `av_replay`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct av_replay {
    pub struct_size: u32,
    pub value_type: u32,
    pub n: usize,
    pub dim: usize,
    pub row_stride: usize,
    pub embeddings: *const f32,
    pub n_models: usize,
    pub model_names: *const *const c_char,
    pub scores: *const c_void,
    pub costs: *const c_void,
}

/// Mirror of `av_eval_options`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct av_eval_options {
    pub struct_size: u32,
    pub top_p: u32,
    pub alphas: *const f64,
    pub n_alphas: usize,
    pub target_fraction: f64,
}

/// Mirror of `av_eval_point`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct av_eval_point {
    pub struct_size: u32,
    pub alpha: f64,
    pub mean_score: f64,
    pub mean_cost: f64,
    pub total_cost: f64,
    pub n_scored: usize,
    pub n_missing: usize,
}

/// Mirror of `av_eval_metrics`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct av_eval_metrics {
    pub struct_size: u32,
    pub best_model: i32,
    pub best_score: f64,
    pub best_cost: f64,
    pub perf_gain: f64,
    pub cost_save: f64,
    pub cost_save_at_target: f64,
    pub pareto_dist: f64,
    pub auc: f64,
    pub max_cost: f64,
    pub target_fraction: f64,
}

/// Mirror of `av_route_options`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct av_route_options {
    pub struct_size: u32,
    pub alpha: f32,
    pub top_p: u32,
    pub weighting: u32,
    pub temperature: f32,
    pub kappa: f64,
    pub flags: u32,
    pub max_expected_cost: f64,
    pub min_expected_score: f64,
    pub guard_margin: f64,
    pub model_mask: *const u8,
    pub model_mask_len: usize,
    pub embedder_id: *const c_char,
    pub explore_seed: u64,
    pub normalisation: u32,
}

/// Mirror of `av_route_result`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct av_route_result {
    pub struct_size: u32,
    pub model: i32,
    pub n_models: usize,
    pub n_feasible: usize,
    pub ranked: *mut i32,
    pub ranked_scores: *mut f64,
    pub ranked_cap: usize,
    pub n_ranked: usize,
    pub model_scores: *mut f64,
    pub expected_score: *mut f64,
    pub expected_cost: *mut f64,
    pub models_cap: usize,
    pub clusters: *mut u32,
    pub cluster_sims: *mut f32,
    pub cluster_weights: *mut f64,
    pub cluster_support: *mut f64,
    pub clusters_cap: usize,
    pub n_clusters: usize,
    pub best_similarity: f32,
    pub support: f64,
    pub guarded: u32,
}

/// Mirror of `av_estimator_options`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct av_estimator_options {
    pub struct_size: u32,
    pub kappa: f64,
    pub weighting: u32,
    pub temperature: f32,
    pub guard: u32,
    pub guard_margin: f64,
    pub normalisation: u32,
}

/// Mirror of `av_update_options`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct av_update_options {
    pub struct_size: u32,
    pub half_life: f64,
    pub top_p: u32,
    pub weighting: u32,
    pub temperature: f32,
    pub weight: f64,
}

extern "C" {
    pub fn av_strerror(code: c_int) -> *const c_char;
    pub fn av_last_error() -> *const c_char;
    pub fn av_version_number() -> c_uint;
    pub fn av_version_string() -> *const c_char;

    pub fn av_router_load(out: *mut *mut av_router, path: *const c_char) -> c_int;
    pub fn av_router_load_buffer(out: *mut *mut av_router, data: *const c_void, size: usize) -> c_int;
    pub fn av_router_save(r: *const av_router, path: *const c_char) -> c_int;
    pub fn av_router_save_buffer(r: *const av_router, data: *mut *mut c_void, size: *mut usize) -> c_int;
    pub fn av_free(p: *mut c_void);
    pub fn av_router_free(r: *mut av_router);

    pub fn av_router_dim(r: *const av_router) -> usize;
    pub fn av_router_n_clusters(r: *const av_router) -> usize;
    pub fn av_router_n_models(r: *const av_router) -> usize;
    pub fn av_router_top_p(r: *const av_router) -> usize;
    pub fn av_router_model_name(r: *const av_router, model: usize) -> *const c_char;
    pub fn av_router_model_index(r: *const av_router, name: *const c_char) -> i32;
    pub fn av_router_get_centroid(r: *const av_router, cluster: usize, out: *mut f32, dim: usize) -> c_int;
    pub fn av_router_cluster_stats(
        r: *const av_router,
        cluster: usize,
        model: usize,
        count: *mut f64,
        sum_score: *mut f64,
        sum_cost: *mut f64,
    ) -> c_int;
    pub fn av_router_set_top_p(r: *mut av_router, top_p: u32) -> c_int;

    pub fn av_router_meta(r: *const av_router, key: *const c_char) -> *const c_char;
    pub fn av_router_meta_count(r: *const av_router) -> usize;
    pub fn av_router_meta_at(
        r: *const av_router,
        i: usize,
        key: *mut *const c_char,
        value: *mut *const c_char,
    ) -> c_int;
    pub fn av_router_set_meta(r: *mut av_router, key: *const c_char, value: *const c_char) -> c_int;

    pub fn av_router_from_parts(
        out: *mut *mut av_router,
        dim: usize,
        n_clusters: usize,
        n_models: usize,
        model_names: *const *const c_char,
        centroids: *const f32,
        counts: *const f64,
        sum_scores: *const f64,
        sum_costs: *const f64,
        top_p: u32,
    ) -> c_int;

    pub fn av_route(r: *const av_router, embedding: *const f32, dim: usize, alpha: f32) -> i32;
    pub fn av_route_batch(
        r: *const av_router,
        embeddings: *const f32,
        n: usize,
        dim: usize,
        row_stride: usize,
        alpha: f32,
        out_models: *mut i32,
    ) -> c_int;
    pub fn av_profile_update(
        r: *mut av_router,
        embedding: *const f32,
        dim: usize,
        model: i32,
        score: f32,
        cost: f32,
    ) -> c_int;

    pub fn av_fit_options_init(opts: *mut av_fit_options);
    pub fn av_builder_new(
        out: *mut *mut av_builder,
        dim: usize,
        n_models: usize,
        model_names: *const *const c_char,
    ) -> c_int;
    pub fn av_builder_add(
        b: *mut av_builder,
        embedding: *const f32,
        dim: usize,
        scores: *const f32,
        costs: *const f32,
    ) -> c_int;
    pub fn av_builder_n_rows(b: *const av_builder) -> usize;
    pub fn av_builder_fit(b: *mut av_builder, opts: *const av_fit_options, out: *mut *mut av_router) -> c_int;
    pub fn av_builder_free(b: *mut av_builder);
    pub fn av_builder_inertia(b: *const av_builder) -> f64;

    pub fn av_simd_backend() -> *const c_char;
    pub fn av_router_simd_backend(r: *const av_router) -> *const c_char;

    // compact centroids
    pub fn av_router_centroid_type(r: *const av_router) -> c_int;
    pub fn av_router_convert(out: *mut *mut av_router, r: *const av_router, type_: u32) -> c_int;

    // replay evaluation
    pub fn av_replay_init(replay: *mut av_replay);
    pub fn av_eval_options_init(opts: *mut av_eval_options);
    pub fn av_eval_run(
        out: *mut *mut av_eval_result,
        r: *const av_router,
        replay: *const av_replay,
        opts: *const av_eval_options,
    ) -> c_int;
    pub fn av_eval_run_rows(
        out: *mut *mut av_eval_result,
        r: *const av_router,
        replay: *const av_replay,
        rows: *const usize,
        n_rows: usize,
        opts: *const av_eval_options,
    ) -> c_int;
    pub fn av_eval_subset_auc(
        auc: *mut f64,
        r: *const av_router,
        replay: *const av_replay,
        rows: *const usize,
        n_rows: usize,
        opts: *const av_eval_options,
    ) -> c_int;
    pub fn av_eval_result_free(res: *mut av_eval_result);
    pub fn av_eval_n_rows(res: *const av_eval_result) -> usize;
    pub fn av_eval_n_alphas(res: *const av_eval_result) -> usize;
    pub fn av_eval_n_models(res: *const av_eval_result) -> usize;
    pub fn av_eval_model_name(res: *const av_eval_result, model: usize) -> *const c_char;
    pub fn av_eval_alpha(res: *const av_eval_result, i: usize, out: *mut av_eval_point) -> c_int;
    pub fn av_eval_alpha_share(res: *const av_eval_result, i: usize, model: usize, share: *mut f64) -> c_int;
    pub fn av_eval_model(res: *const av_eval_result, model: usize, out: *mut av_eval_point) -> c_int;
    pub fn av_eval_oracle(res: *const av_eval_result, out: *mut av_eval_point) -> c_int;
    pub fn av_eval_metrics_get(res: *const av_eval_result, out: *mut av_eval_metrics) -> c_int;
    pub fn av_eval_frontier_count(res: *const av_eval_result) -> usize;
    pub fn av_eval_frontier_at(res: *const av_eval_result, i: usize, kind: *mut u32, index: *mut usize) -> c_int;

    // beyond the paper
    pub fn av_route_options_init(opts: *mut av_route_options);
    pub fn av_route_result_init(res: *mut av_route_result);
    pub fn av_route_ex(
        r: *const av_router,
        embedding: *const f32,
        dim: usize,
        opts: *const av_route_options,
        res: *mut av_route_result,
    ) -> i32;
    pub fn av_estimator_options_init(opts: *mut av_estimator_options);
    pub fn av_router_set_estimator(r: *mut av_router, opts: *const av_estimator_options) -> c_int;
    pub fn av_router_get_estimator(r: *const av_router, opts: *mut av_estimator_options) -> c_int;
    pub fn av_router_members(r: *const av_router) -> usize;
    pub fn av_tune_options_init(opts: *mut av_tune_options);
    pub fn av_tune_options_default_grid(opts: *mut av_tune_options);
    pub fn av_router_expected_mean(
        r: *const av_router,
        alpha: f32,
        embeddings: *const f32,
        n: usize,
        dim: usize,
        scores: *const f32,
        costs: *const f32,
        mean_score: *mut f64,
        mean_cost: *mut f64,
    ) -> c_int;
    pub fn av_router_alpha_for_budget(
        r: *const av_router,
        budget: f64,
        embeddings: *const f32,
        n: usize,
        dim: usize,
        scores: *const f32,
        costs: *const f32,
        n_grid: u32,
        alpha: *mut f32,
    ) -> c_int;
    pub fn av_router_alpha_for_accuracy(
        r: *const av_router,
        target: f64,
        embeddings: *const f32,
        n: usize,
        dim: usize,
        scores: *const f32,
        costs: *const f32,
        n_grid: u32,
        alpha: *mut f32,
    ) -> c_int;
    pub fn av_update_options_init(opts: *mut av_update_options);
    pub fn av_profile_update_ex(
        r: *mut av_router,
        embedding: *const f32,
        dim: usize,
        model: i32,
        score: f32,
        cost: f32,
        opts: *const av_update_options,
    ) -> c_int;
    pub fn av_router_add_model(
        r: *mut av_router,
        name: *const c_char,
        prior_score: f64,
        prior_cost: f64,
        prior_weight: f64,
    ) -> i32;
    pub fn av_profile_merge(dst: *mut av_router, src: *const av_router) -> c_int;
    pub fn av_router_centroid_hash(r: *const av_router) -> *const c_char;
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn fit_options_layout_matches_the_library() {
        // av_fit_options_init stores the C compiler's sizeof(av_fit_options) in struct_size.
        let mut o = core::mem::MaybeUninit::<av_fit_options>::zeroed();
        unsafe { av_fit_options_init(o.as_mut_ptr()) };
        let o = unsafe { o.assume_init() };
        assert_eq!(o.struct_size as usize, core::mem::size_of::<av_fit_options>());
        assert_eq!((o.n_clusters, o.top_p, o.n_init, o.max_iter, o.seed), (60, 4, 10, 300, 42));
        // the field appended in 0.2 sits where the library writes it: default 1 = the paper
        assert_eq!(o.members, 1);
        assert!(o.tune.is_null());
    }

    #[test]
    fn tune_options_members_fields() {
        let mut t = core::mem::MaybeUninit::<av_tune_options>::zeroed();
        unsafe { av_tune_options_init(t.as_mut_ptr()) };
        let mut t = unsafe { t.assume_init() };
        assert_eq!(t.struct_size as usize, core::mem::size_of::<av_tune_options>());
        assert!(t.members.is_null());
        assert_eq!((t.n_members, t.n_folds, t.n_alphas, t.n_init), (0, 5, 21, 2));
        // the default grid's ensemble sizes are {1, 4} (avengers.h, av_tune_options_default_grid)
        unsafe { av_tune_options_default_grid(&mut t) };
        assert_eq!(t.n_members, 2);
        let sizes = unsafe { core::slice::from_raw_parts(t.members, t.n_members) };
        assert_eq!(sizes, &[1, 4]);
        assert!(sizes.iter().all(|b| (1..=AV_MAX_MEMBERS).contains(b)));
    }

    #[test]
    fn members_of_null_and_of_a_paper_router() {
        assert_eq!(unsafe { av_router_members(core::ptr::null()) }, 0);
        // a router from parts is the paper's single clustering
        let names = [b"a\0".as_ptr() as *const c_char, b"b\0".as_ptr() as *const c_char];
        let (c, n, s, q) = ([1.0f32, 0.0, 0.0, 1.0], [1.0f64; 4], [0.5f64; 4], [0.1f64; 4]);
        let mut r = core::ptr::null_mut();
        let rc = unsafe {
            av_router_from_parts(&mut r, 2, 2, 2, names.as_ptr(), c.as_ptr(), n.as_ptr(), s.as_ptr(), q.as_ptr(), 1)
        };
        assert_eq!(rc, AV_OK);
        assert_eq!(unsafe { (av_router_members(r), av_router_n_clusters(r)) }, (1, 2));
        unsafe { av_router_free(r) };
    }

    /// Every options struct's init function writes the C sizeof into struct_size: the mirrors
    /// must have the same size (a field appended to the header without a mirror fails here).
    #[test]
    fn every_struct_layout_matches_the_library() {
        macro_rules! size_check {
            ($t:ty, $init:ident) => {{
                let mut scratch = [0u64; 512];
                unsafe { $init(scratch.as_mut_ptr() as *mut $t) };
                let first = scratch[0].to_ne_bytes();
                let lib = u32::from_ne_bytes([first[0], first[1], first[2], first[3]]) as usize;
                assert_eq!(lib, core::mem::size_of::<$t>(), stringify!($t));
            }};
        }
        size_check!(av_fit_options, av_fit_options_init);
        size_check!(av_replay, av_replay_init);
        size_check!(av_eval_options, av_eval_options_init);
        size_check!(av_route_options, av_route_options_init);
        size_check!(av_route_result, av_route_result_init);
        size_check!(av_estimator_options, av_estimator_options_init);
        size_check!(av_tune_options, av_tune_options_init);
        size_check!(av_update_options, av_update_options_init);
    }

    #[test]
    fn version_matches() {
        let v = unsafe { av_version_number() };
        assert_eq!(v, AV_VERSION_MAJOR * 10000 + AV_VERSION_MINOR * 100 + AV_VERSION_PATCH);
    }
}
