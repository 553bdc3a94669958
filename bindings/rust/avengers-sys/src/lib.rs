//! Raw declarations of the libavengers C API (`include/avengers/avengers.h`), written by hand.
//! Every item mirrors the header one to one; see docs/API.md for the semantics. Use the
//! `avengers` crate for a safe interface.
#![allow(non_camel_case_types)]
#![no_std]

use core::ffi::{c_char, c_int, c_uint, c_void};

pub const AV_VERSION_MAJOR: u32 = 0;
pub const AV_VERSION_MINOR: u32 = 1;
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
    }

    #[test]
    fn version_matches() {
        let v = unsafe { av_version_number() };
        assert_eq!(v, AV_VERSION_MAJOR * 10000 + AV_VERSION_MINOR * 100 + AV_VERSION_PATCH);
    }
}
