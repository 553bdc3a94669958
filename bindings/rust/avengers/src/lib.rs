//! Safe Rust API for libavengers: cost-aware LLM routing after Avengers-Pro (arXiv 2508.12631).
//!
//! ```no_run
//! let router = avengers::Router::load("router.avr")?;
//! let embedding = vec![0.1f32; router.dim()];
//! let model = router.route(&embedding, 0.7)?;
//! println!("{}", router.model_name(model).unwrap());
//! # Ok::<(), avengers::Error>(())
//! ```
//!
//! Every failing call returns an [`Error`] with the library's code and its detail message
//! (`av_last_error()` of the failing call). Slices are passed to C by pointer: nothing is copied.
//!
//! Arguments are checked before they reach C: a string with an interior NUL (which C would cut
//! there) is `Error::EINVAL`, a model index that does not fit the C call's `int32_t` or is not
//! one of the router's models is `Error::EMODEL`, and size arithmetic that would overflow is
//! `Error::ERANGE`; nothing is truncated with `as`. Whether a name is acceptable (UTF-8 without
//! control characters) is the library's rule, reported as its own error. Names and metadata the
//! library returns that are not UTF-8 read as U+FFFD in [`Router::models`] and
//! [`Router::metadata`] (indices never shift).
use std::ffi::{c_char, c_void, CStr, CString};
use std::fmt;
use std::path::Path;
use std::ptr::{self, NonNull};

/// The common signature of av_router_alpha_for_budget and av_router_alpha_for_accuracy.
type AlphaSearchFn = unsafe extern "C" fn(
    *const sys::av_router,
    f64,
    *const f32,
    usize,
    usize,
    *const f32,
    *const f32,
    u32,
    *mut f32,
) -> std::ffi::c_int;

pub use avengers_sys as sys;

/// A failed libavengers call: the negative `AV_E*` code and the detail message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: i32,
    message: String,
}

impl Error {
    pub const EINVAL: i32 = sys::AV_EINVAL;
    pub const ENOMEM: i32 = sys::AV_ENOMEM;
    pub const EIO: i32 = sys::AV_EIO;
    pub const EFORMAT: i32 = sys::AV_EFORMAT;
    pub const ECHECKSUM: i32 = sys::AV_ECHECKSUM;
    pub const EVERSION: i32 = sys::AV_EVERSION;
    pub const EDIM: i32 = sys::AV_EDIM;
    pub const EVECTOR: i32 = sys::AV_EVECTOR;
    pub const EALPHA: i32 = sys::AV_EALPHA;
    pub const EMODEL: i32 = sys::AV_EMODEL;
    pub const EVALUE: i32 = sys::AV_EVALUE;
    pub const ERANGE: i32 = sys::AV_ERANGE;
    pub const EEMPTY: i32 = sys::AV_EEMPTY;
    pub const ENOMODEL: i32 = sys::AV_ENOMODEL;
    pub const EMISMATCH: i32 = sys::AV_EMISMATCH;
    pub const ELIMIT: i32 = sys::AV_ELIMIT;
    pub const ENOTSUP: i32 = sys::AV_ENOTSUP;
    /// Since 1.2: a callback (tuning progress) cancelled the call.
    pub const ECANCELED: i32 = sys::AV_ECANCELED;

    /// An error raised by this crate itself (argument checks before calling C).
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Error { code, message: message.into() }
    }

    /// Build the error for `code` from this thread's `av_last_error()`.
    fn last(code: i32) -> Self {
        // Lossy: the detail may quote a caller's name that is not UTF-8.
        let detail = unsafe { cstr_lossy(sys::av_last_error()) };
        let message = if detail.is_empty() { strerror(code).to_owned() } else { detail };
        Error { code, message }
    }

    /// The negative `AV_E*` code.
    pub fn code(&self) -> i32 {
        self.code
    }
    /// The detail message (the library's `av_last_error()` text).
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The code's static text (`av_strerror`).
    pub fn text(&self) -> &'static str {
        strerror(self.code)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [code {}]", self.message, self.code)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

fn check(rc: i32) -> Result<i32> {
    if rc < 0 {
        Err(Error::last(rc))
    } else {
        Ok(rc)
    }
}

/// Borrow a C string owned by the library (None for NULL or invalid UTF-8).
unsafe fn cstr<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        None
    } else {
        CStr::from_ptr(p).to_str().ok()
    }
}

/// A C string owned by the library as a String, invalid UTF-8 replaced by U+FFFD ("" for NULL).
unsafe fn cstr_lossy(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// The text used where a name the library returned is not UTF-8.
const REPLACEMENT: &str = "\u{FFFD}";

fn cstring(s: &str, what: &str) -> Result<CString> {
    CString::new(s).map_err(|e| {
        Error::new(Error::EINVAL, format!("{what} contains a NUL byte at offset {} (C would cut it there): {s:?}", e.nul_position()))
    })
}

fn path_cstring(p: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_os_str().as_bytes()).map_err(|e| {
        Error::new(Error::EINVAL, format!("path contains a NUL byte at offset {} (C would cut it there): {p:?}", e.nul_position()))
    })
}

/// `a * b`, or `Error::ERANGE` naming what overflowed.
fn mul(a: usize, b: usize, what: &str) -> Result<usize> {
    a.checked_mul(b).ok_or_else(|| Error::new(Error::ERANGE, format!("{what}: {a} x {b} overflows usize")))
}

/// The static text of a code (`av_strerror`).
pub fn strerror(code: i32) -> &'static str {
    // SAFETY: av_strerror returns a pointer to a static string for every input.
    unsafe { cstr(sys::av_strerror(code)) }.unwrap_or("unknown error")
}

/// Version string of the linked library.
pub fn version() -> &'static str {
    unsafe { cstr(sys::av_version_string()) }.unwrap_or("")
}

/// The SIMD kernel set this process uses ("scalar", "avx2", "avx512", "neon").
pub fn simd_backend() -> &'static str {
    unsafe { cstr(sys::av_simd_backend()) }.unwrap_or("")
}

/// A router (`av_router`): loaded from a file, built from parts, or trained by a [`Builder`].
pub struct Router {
    ptr: NonNull<sys::av_router>,
}

// SAFETY: the C library documents (avengers.h, docs/THREADING.md) that routing and every
// introspection call are safe from any number of threads at once, and that av_profile_update is
// internally synchronised (a mutex for writers, per-cluster seqlocks for readers), so sharing
// `&Router` across threads is sound (Sync). The handle is plain heap memory with no thread
// affinity, so moving it to another thread is sound too (Send). The calls the library marks as
// not thread-safe against concurrent routing (av_router_set_top_p, av_router_set_meta) take
// `&mut self` here, which the borrow checker makes exclusive.
unsafe impl Send for Router {}
unsafe impl Sync for Router {}

impl Drop for Router {
    fn drop(&mut self) {
        unsafe { sys::av_router_free(self.ptr.as_ptr()) }
    }
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("dim", &self.dim())
            .field("n_clusters", &self.n_clusters())
            .field("members", &self.members())
            .field("models", &self.models())
            .field("top_p", &self.top_p())
            .finish()
    }
}

/// One model's statistics in one cluster.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClusterStats {
    pub count: f64,
    pub sum_score: f64,
    pub sum_cost: f64,
}

impl Router {
    fn from_raw(rc: i32, p: *mut sys::av_router) -> Result<Router> {
        check(rc)?;
        NonNull::new(p)
            .map(|ptr| Router { ptr })
            .ok_or_else(|| Error::new(Error::ENOMEM, "library returned no router"))
    }

    /// Load a router file (docs/FORMAT.md).
    pub fn load(path: impl AsRef<Path>) -> Result<Router> {
        let c = path_cstring(path.as_ref())?;
        let mut p = ptr::null_mut();
        let rc = unsafe { sys::av_router_load(&mut p, c.as_ptr()) };
        Router::from_raw(rc, p)
    }

    /// Load a router from the bytes of a router file.
    pub fn load_buffer(data: &[u8]) -> Result<Router> {
        let mut p = ptr::null_mut();
        let rc = unsafe { sys::av_router_load_buffer(&mut p, data.as_ptr() as *const c_void, data.len()) };
        Router::from_raw(rc, p)
    }

    /// A router from parts computed elsewhere. `centroids`: n_clusters x dim (row-major);
    /// `counts`, `sum_scores`, `sum_costs`: n_clusters x n_models (cluster-major).
    pub fn from_parts(
        dim: usize,
        models: &[&str],
        centroids: &[f32],
        counts: &[f64],
        sum_scores: &[f64],
        sum_costs: &[f64],
        top_p: u32,
    ) -> Result<Router> {
        if dim == 0 || centroids.len() % dim != 0 {
            return Err(Error::new(Error::EINVAL, "centroids.len() is not a multiple of dim"));
        }
        let (k, m) = (centroids.len() / dim, models.len());
        let km = mul(k, m, "n_clusters x n_models")?;
        if counts.len() != km || sum_scores.len() != km || sum_costs.len() != km {
            return Err(Error::new(Error::EINVAL, "statistics must hold n_clusters x n_models values"));
        }
        let names = models.iter().map(|s| cstring(s, "model name")).collect::<Result<Vec<_>>>()?;
        let ptrs: Vec<*const c_char> = names.iter().map(|c| c.as_ptr()).collect();
        let mut p = ptr::null_mut();
        let rc = unsafe {
            sys::av_router_from_parts(
                &mut p,
                dim,
                k,
                m,
                ptrs.as_ptr(),
                centroids.as_ptr(),
                counts.as_ptr(),
                sum_scores.as_ptr(),
                sum_costs.as_ptr(),
                top_p,
            )
        };
        Router::from_raw(rc, p)
    }

    /// Write the router file atomically (temporary file, fsync, rename).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let c = path_cstring(path.as_ref())?;
        check(unsafe { sys::av_router_save(self.ptr.as_ptr(), c.as_ptr()) }).map(|_| ())
    }

    /// The bytes of the router file.
    pub fn save_buffer(&self) -> Result<Vec<u8>> {
        let mut data: *mut c_void = ptr::null_mut();
        let mut size = 0usize;
        check(unsafe { sys::av_router_save_buffer(self.ptr.as_ptr(), &mut data, &mut size) })?;
        // SAFETY: on success the library returns a malloc'ed buffer of `size` bytes.
        let v = unsafe { std::slice::from_raw_parts(data as *const u8, size) }.to_vec();
        unsafe { sys::av_free(data) };
        Ok(v)
    }

    pub fn dim(&self) -> usize {
        unsafe { sys::av_router_dim(self.ptr.as_ptr()) }
    }
    /// All clusters, of every member of an ensemble (`members()` times the clusters per member).
    pub fn n_clusters(&self) -> usize {
        unsafe { sys::av_router_n_clusters(self.ptr.as_ptr()) }
    }
    /// Clusterings in the router's ensemble (`av_router_members`): 1 for the paper's router.
    /// Member b owns clusters `b * n_clusters() / members()` up to (not including)
    /// `(b + 1) * n_clusters() / members()`.
    pub fn members(&self) -> usize {
        unsafe { sys::av_router_members(self.ptr.as_ptr()) }
    }
    pub fn n_models(&self) -> usize {
        unsafe { sys::av_router_n_models(self.ptr.as_ptr()) }
    }
    pub fn top_p(&self) -> usize {
        unsafe { sys::av_router_top_p(self.ptr.as_ptr()) }
    }
    /// Set the number of clusters routing sums over (exclusive access: not thread-safe in C).
    pub fn set_top_p(&mut self, top_p: u32) -> Result<()> {
        check(unsafe { sys::av_router_set_top_p(self.ptr.as_ptr(), top_p) }).map(|_| ())
    }
    /// The name of model `i` (None when out of range, or when the name is not UTF-8); lives as
    /// long as the router.
    pub fn model_name(&self, i: usize) -> Option<&str> {
        unsafe { cstr(sys::av_router_model_name(self.ptr.as_ptr(), i)) }
    }
    /// Every model name, in index order (entry i is model i; a name that is not UTF-8 reads as
    /// U+FFFD).
    pub fn models(&self) -> Vec<&str> {
        (0..self.n_models()).map(|i| self.model_name(i).unwrap_or(REPLACEMENT)).collect()
    }
    pub fn model_index(&self, name: &str) -> Result<usize> {
        let c = cstring(name, "model name")?;
        check(unsafe { sys::av_router_model_index(self.ptr.as_ptr(), c.as_ptr()) }).map(|i| i as usize)
    }
    /// Centroid `cluster` as f32 (dequantised for compact routers).
    pub fn centroid(&self, cluster: usize) -> Result<Vec<f32>> {
        let mut v = vec![0f32; self.dim()];
        check(unsafe { sys::av_router_get_centroid(self.ptr.as_ptr(), cluster, v.as_mut_ptr(), v.len()) })?;
        Ok(v)
    }
    pub fn cluster_stats(&self, cluster: usize, model: usize) -> Result<ClusterStats> {
        let mut s = ClusterStats { count: 0.0, sum_score: 0.0, sum_cost: 0.0 };
        check(unsafe {
            sys::av_router_cluster_stats(
                self.ptr.as_ptr(),
                cluster,
                model,
                &mut s.count,
                &mut s.sum_score,
                &mut s.sum_cost,
            )
        })?;
        Ok(s)
    }
    /// The metadata value for `key` (None when absent or not UTF-8; a key with a NUL byte is
    /// never present).
    pub fn meta(&self, key: &str) -> Option<&str> {
        let c = CString::new(key).ok()?;
        unsafe { cstr(sys::av_router_meta(self.ptr.as_ptr(), c.as_ptr())) }
    }
    /// Every metadata entry, in stored order (a key or value that is not UTF-8 reads as U+FFFD).
    pub fn metadata(&self) -> Vec<(&str, &str)> {
        let n = unsafe { sys::av_router_meta_count(self.ptr.as_ptr()) };
        (0..n)
            .filter_map(|i| {
                let (mut k, mut v) = (ptr::null(), ptr::null());
                let rc = unsafe { sys::av_router_meta_at(self.ptr.as_ptr(), i, &mut k, &mut v) };
                if rc < 0 {
                    return None;
                }
                unsafe { Some((cstr(k).unwrap_or(REPLACEMENT), cstr(v).unwrap_or(REPLACEMENT))) }
            })
            .collect()
    }
    /// Store a metadata entry (exclusive access: not thread-safe in C).
    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        let (k, v) = (cstring(key, "key")?, cstring(value, "value")?);
        check(unsafe { sys::av_router_set_meta(self.ptr.as_ptr(), k.as_ptr(), v.as_ptr()) }).map(|_| ())
    }
    pub fn simd_backend(&self) -> &str {
        unsafe { cstr(sys::av_router_simd_backend(self.ptr.as_ptr())) }.unwrap_or("")
    }

    /// The model index for one embedding (`av_route`): the paper's rule with the router's top_p.
    pub fn route(&self, embedding: &[f32], alpha: f32) -> Result<usize> {
        let rc = unsafe { sys::av_route(self.ptr.as_ptr(), embedding.as_ptr(), embedding.len(), alpha) };
        check(rc).map(|m| m as usize)
    }

    /// Route packed rows (`rows.len()` a multiple of `dim()`); one model index per row.
    pub fn route_batch(&self, rows: &[f32], alpha: f32) -> Result<Vec<usize>> {
        let d = self.dim();
        if rows.len() % d != 0 {
            return Err(Error::new(Error::EDIM, format!("rows.len()={} is not a multiple of dim={d}", rows.len())));
        }
        let mut out = vec![0i32; rows.len() / d];
        self.route_batch_strided(rows, d, alpha, &mut out)?;
        Ok(out.into_iter().map(|m| m as usize).collect())
    }

    /// Route `out.len()` rows, row i starting at `rows[i * row_stride]`. On error `out` still
    /// holds every row's result (a negative code for a bad row) and the first bad row's error
    /// is returned.
    pub fn route_batch_strided(&self, rows: &[f32], row_stride: usize, alpha: f32, out: &mut [i32]) -> Result<()> {
        let (n, d) = (out.len(), self.dim());
        if n == 0 {
            return Ok(());
        }
        let need = mul(n - 1, row_stride, "rows x row_stride")?.checked_add(d);
        if row_stride < d || !need.is_some_and(|need| rows.len() >= need) {
            return Err(Error::new(Error::ERANGE, format!("rows too short for {n} rows of stride {row_stride}")));
        }
        let rc = unsafe {
            sys::av_route_batch(self.ptr.as_ptr(), rows.as_ptr(), n, d, row_stride, alpha, out.as_mut_ptr())
        };
        check(rc).map(|_| ())
    }

    /// Feedback: the observed score and cost of sending this query to `model`. Takes `&self`:
    /// the library synchronises updates internally, so this may run while other threads route.
    pub fn profile_update(&self, embedding: &[f32], model: usize, score: f32, cost: f32) -> Result<()> {
        let m = i32::try_from(model)
            .map_err(|_| Error::new(Error::EMODEL, format!("model index {model} does not fit the C API's int32_t")))?;
        check(unsafe {
            sys::av_profile_update(self.ptr.as_ptr(), embedding.as_ptr(), embedding.len(), m, score, cost)
        })
        .map(|_| ())
    }

    /// Route with per-request options (`av_route_ex`) and explain the decision: the chosen model
    /// (`.model`; with default options it equals [`Router::route`]), the ranked fallbacks, every
    /// model's routing score and expected score and cost, the clusters used with their
    /// similarities, weights and support, and whether the guard acted. `Error::ENOMODEL` when no
    /// model satisfies the mask and limits.
    pub fn route_ex(&self, embedding: &[f32], options: &RouteOptions) -> Result<RouteExplanation> {
        let mut o: sys::av_route_options = unsafe { init_struct(sys::av_route_options_init_sized) };
        o.alpha = options.alpha;
        o.top_p = options.top_p;
        if let Some(c) = options.max_expected_cost {
            o.flags |= sys::AV_ROUTE_MAX_COST;
            o.max_expected_cost = c;
        }
        if let Some(sc) = options.min_expected_score {
            o.flags |= sys::AV_ROUTE_MIN_SCORE;
            o.min_expected_score = sc;
        }
        let mask: Option<Vec<u8>> = match options.allowed.as_ref() {
            None => None,
            Some(a) => {
                let mut m = vec![0u8; self.n_models()];
                for &i in a {
                    let n = m.len();
                    let slot = m.get_mut(i).ok_or_else(|| {
                        Error::new(Error::EMODEL, format!("allowed: model index {i} is out of range (the router has {n} models)"))
                    })?;
                    *slot = 1;
                }
                Some(m)
            }
        };
        if let Some(m) = &mask {
            o.model_mask = m.as_ptr();
            o.model_mask_len = m.len();
        }
        let id = options.embedder_id.as_deref().map(|e| cstring(e, "embedder_id")).transpose()?;
        if let Some(c) = &id {
            o.embedder_id = c.as_ptr();
        }
        let m = self.n_models();
        // no decision uses more clusters than AV_MAX_TOP_P per member; grown once if it did
        let mut cap = (self.n_clusters() * self.members().max(1)).min(sys::AV_MAX_TOP_P as usize * self.members().max(1));
        loop {
            let mut e = RouteExplanation::with_capacity(m, cap);
            let mut res: sys::av_route_result = unsafe { init_struct(sys::av_route_result_init_sized) };
            res.ranked = e.ranked_i32.as_mut_ptr();
            res.ranked_scores = e.ranked_scores.as_mut_ptr();
            res.ranked_cap = m;
            res.model_scores = e.model_scores.as_mut_ptr();
            res.expected_score = e.expected_score.as_mut_ptr();
            res.expected_cost = e.expected_cost.as_mut_ptr();
            res.expected_score_se = e.expected_score_se.as_mut_ptr();
            res.models_cap = m;
            res.clusters = e.clusters.as_mut_ptr();
            res.cluster_sims = e.cluster_sims.as_mut_ptr();
            res.cluster_weights = e.cluster_weights.as_mut_ptr();
            res.cluster_support = e.cluster_support.as_mut_ptr();
            res.clusters_cap = cap;
            let rc = unsafe { sys::av_route_ex(self.ptr.as_ptr(), embedding.as_ptr(), embedding.len(), &o, &mut res) };
            let model = check(rc)? as usize;
            if res.n_clusters > cap {
                cap = res.n_clusters;
                continue;
            }
            e.finish(model, &res);
            return Ok(e);
        }
    }

    /// [`Router::profile_update`] with options (`av_profile_update_ex`): decay of all evidence
    /// (`half_life`, in updates), spreading over the nearest clusters, the outcome's weight. With
    /// `UpdateOptions::default()` it is exactly `profile_update`. `&self`: safe while others route.
    pub fn profile_update_ex(&self, embedding: &[f32], model: usize, score: f32, cost: f32, options: &UpdateOptions) -> Result<()> {
        let m = i32::try_from(model)
            .map_err(|_| Error::new(Error::EMODEL, format!("model index {model} does not fit the C API's int32_t")))?;
        let mut o: sys::av_update_options = unsafe { init_struct(sys::av_update_options_init_sized) };
        o.half_life = options.half_life;
        o.top_p = options.top_p;
        o.weighting = match options.weighting {
            Weighting::Hard => sys::AV_WEIGHTING_HARD,
            Weighting::Softmax => sys::AV_WEIGHTING_SOFTMAX,
        };
        o.temperature = options.temperature;
        o.weight = options.weight;
        check(unsafe {
            sys::av_profile_update_ex(self.ptr.as_ptr(), embedding.as_ptr(), embedding.len(), m, score, cost, &o)
        })
        .map(|_| ())
    }

    /// Add `other`'s statistics to this router's (`av_profile_merge`): same centroids and the
    /// same model names in any order, else `Error::EMISMATCH`.
    pub fn merge(&self, other: &Router) -> Result<()> {
        check(unsafe { sys::av_profile_merge(self.ptr.as_ptr(), other.ptr.as_ptr()) }).map(|_| ())
    }

    /// Add a model that starts from a prior in every cluster; returns its index. Takes `&mut
    /// self` so that no `&str` from [`Router::models`] is alive while the name table grows.
    pub fn add_model(&mut self, name: &str, prior_score: f64, prior_cost: f64, prior_weight: f64) -> Result<usize> {
        let c = cstring(name, "model name")?;
        let rc = unsafe { sys::av_router_add_model(self.ptr.as_ptr(), c.as_ptr(), prior_score, prior_cost, prior_weight) };
        check(rc).map(|i| i as usize)
    }

    /// Set a model's price without retraining (`av_router_set_price`, experimental): every cost
    /// the router learned for the model is multiplied by new / old (old: the price set before,
    /// else its mean cost per query); the price is saved with the router. Returns that factor
    /// (NaN when the model had no cost). `&self`: safe while other threads route.
    pub fn set_price(&self, model: usize, price: &Price) -> Result<f64> {
        let m = i32::try_from(model)
            .map_err(|_| Error::new(Error::EMODEL, format!("model index {model} does not fit the C API's int32_t")))?;
        let raw = price.to_raw();
        let mut factor = 0f64;
        check(unsafe { sys::av_router_set_price(self.ptr.as_ptr(), m, &raw, &mut factor) })?;
        Ok(factor)
    }

    /// The model's price: as set, or `None` when none was (its learned mean cost per query is
    /// then [`Router::get_price_or_mean`]'s).
    pub fn get_price(&self, model: usize) -> Result<Option<Price>> {
        let raw = self.price_raw(model)?;
        Ok(match raw.unit {
            sys::AV_PRICE_PER_QUERY => Some(Price::per_query(raw.cost_per_query)),
            sys::AV_PRICE_PER_TOKEN => Some(Price::per_token(raw.input_price, raw.output_price, raw.input_tokens, raw.output_tokens)),
            _ => None,
        })
    }

    /// The model's cost per query: its price's, else its learned mean cost per query.
    pub fn get_price_or_mean(&self, model: usize) -> Result<f64> {
        Ok(self.price_raw(model)?.cost_per_query)
    }

    fn price_raw(&self, model: usize) -> Result<sys::av_price> {
        let m = i32::try_from(model)
            .map_err(|_| Error::new(Error::EMODEL, format!("model index {model} does not fit the C API's int32_t")))?;
        // SAFETY: av_price is such a mirror (see init_struct).
        let mut raw: sys::av_price = unsafe { init_struct(sys::av_price_init_sized) };
        check(unsafe { sys::av_router_get_price(self.ptr.as_ptr(), m, &mut raw) })?;
        Ok(raw)
    }

    /// The hash of the centroids (16 hex digits); routers that can merge share it.
    pub fn centroid_hash(&self) -> Option<&str> {
        unsafe { cstr(sys::av_router_centroid_hash(self.ptr.as_ptr())) }
    }

    /// `sys::AV_CENTROIDS_F32`, `_F16` or `_INT8`.
    pub fn centroid_type(&self) -> Result<u32> {
        check(unsafe { sys::av_router_centroid_type(self.ptr.as_ptr()) }).map(|t| t as u32)
    }

    /// A new router with the centroids re-encoded as `centroid_type`; `self` is unchanged.
    pub fn convert(&self, centroid_type: u32) -> Result<Router> {
        // The C parameter is the enum av_centroid_type (an int).
        if i32::try_from(centroid_type).is_err() {
            return Err(Error::new(Error::EINVAL, format!("centroid_type {centroid_type} does not fit the C enum")));
        }
        let mut p = ptr::null_mut();
        let rc = unsafe { sys::av_router_convert(&mut p, self.ptr.as_ptr(), centroid_type) };
        Router::from_raw(rc, p)
    }

    /// Replay evaluation (`av_eval_run`): `embeddings` packed rows of `dim()`, `scores` and
    /// `costs` row-major `n x models.len()` (NaN = no outcome), columns named by `models` (or
    /// the router's models in order when `None`); `alphas` `None` = 0, 0.05, ..., 1.
    pub fn evaluate(
        &self,
        embeddings: &[f32],
        scores: &[f32],
        costs: &[f32],
        models: Option<&[&str]>,
        alphas: Option<&[f64]>,
    ) -> Result<Evaluation> {
        let d = self.dim();
        if embeddings.len() % d != 0 {
            return Err(Error::new(Error::EDIM, "embeddings.len() is not a multiple of dim"));
        }
        let n = embeddings.len() / d;
        let m = models.map_or(self.n_models(), |m| m.len());
        let nm = mul(n, m, "rows x models")?;
        if scores.len() != nm || costs.len() != nm {
            return Err(Error::new(Error::EINVAL, format!("scores and costs need {n} x {m} values")));
        }
        let mut rp: sys::av_replay = unsafe { init_struct(sys::av_replay_init_sized) };
        rp.value_type = sys::AV_VALUES_F32;
        rp.n = n;
        rp.dim = d;
        rp.row_stride = d;
        rp.embeddings = embeddings.as_ptr();
        rp.n_models = m;
        rp.scores = scores.as_ptr() as *const c_void;
        rp.costs = costs.as_ptr() as *const c_void;
        let names = models
            .unwrap_or(&[])
            .iter()
            .map(|s| cstring(s, "model name"))
            .collect::<Result<Vec<_>>>()?;
        let name_ptrs: Vec<*const c_char> = names.iter().map(|c| c.as_ptr()).collect();
        if models.is_some() {
            rp.model_names = name_ptrs.as_ptr();
        }
        let mut o: sys::av_eval_options = unsafe { init_struct(sys::av_eval_options_init_sized) };
        if let Some(a) = alphas {
            o.alphas = a.as_ptr();
            o.n_alphas = a.len();
        }
        let mut res = ptr::null_mut();
        check(unsafe { sys::av_eval_run(&mut res, self.ptr.as_ptr(), &rp, &o) })?;
        let res = EvalHandle(res);
        Evaluation::read(&res)
    }

    /// Set the router's estimator defaults (`av_router_set_estimator`), used by `route` and
    /// `route_ex` and recorded in the metadata. Exclusive access: not thread-safe in C.
    pub fn set_estimator(&mut self, options: &EstimatorOptions) -> Result<()> {
        let raw = options.to_raw();
        check(unsafe { sys::av_router_set_estimator(self.ptr.as_ptr(), &raw) }).map(|_| ())
    }

    /// The router's estimator defaults (`av_router_get_estimator`).
    pub fn estimator(&self) -> Result<EstimatorOptions> {
        // SAFETY: av_estimator_options is such a mirror (see init_struct).
        let mut raw: sys::av_estimator_options = unsafe { init_struct(sys::av_estimator_options_init_sized) };
        check(unsafe { sys::av_router_get_estimator(self.ptr.as_ptr(), &mut raw) })?;
        EstimatorOptions::from_raw(&raw)
    }

    fn replay_args(&self, replay: Option<&Replay>) -> Result<ReplayArgs> {
        let Some(rp) = replay else {
            return Ok(ReplayArgs { embeddings: ptr::null(), n: 0, scores: ptr::null(), costs: ptr::null() });
        };
        let d = self.dim();
        if rp.embeddings.is_empty() {
            return Err(Error::new(Error::EEMPTY, "the replay set is empty"));
        }
        if d == 0 || rp.embeddings.len() % d != 0 {
            return Err(Error::new(
                Error::EDIM,
                format!("replay embeddings hold {} floats, not a multiple of dim={d}", rp.embeddings.len()),
            ));
        }
        let (n, m) = (rp.embeddings.len() / d, self.n_models());
        for (what, v) in [("scores", rp.scores), ("costs", rp.costs)] {
            if let Some(v) = v {
                if v.len() != mul(n, m, "replay rows x models")? {
                    return Err(Error::new(Error::EINVAL, format!("replay {what} need {n} x {m} values, got {}", v.len())));
                }
            }
        }
        Ok(ReplayArgs {
            embeddings: rp.embeddings.as_ptr(),
            n,
            scores: rp.scores.map_or(ptr::null(), |s| s.as_ptr()),
            costs: rp.costs.map_or(ptr::null(), |c| c.as_ptr()),
        })
    }

    /// The expected mean score and cost per query of routing at `alpha` with the router's
    /// defaults (`av_router_expected_mean`): on a replay set, or with `None` on the training
    /// statistics (each cluster's centroid routed, weighted by its query count).
    ///
    /// Experimental, as the budget calls below: the C interface is declared only under
    /// `AV_STATIC_LINKING_ONLY` and may change in a minor release.
    pub fn expected_mean(&self, alpha: f32, replay: Option<&Replay>) -> Result<ExpectedMean> {
        let a = self.replay_args(replay)?;
        let mut m = ExpectedMean { score: 0.0, cost: 0.0 };
        check(unsafe {
            sys::av_router_expected_mean(
                self.ptr.as_ptr(),
                alpha,
                a.embeddings,
                a.n,
                self.dim(),
                a.scores,
                a.costs,
                &mut m.score,
                &mut m.cost,
            )
        })?;
        Ok(m)
    }

    /// Among the alphas of a grid of `n_grid` points (0 = 101: 0, 0.01, ..., 1) whose expected
    /// mean cost is `<= budget`, the one with the best expected mean score (ties: the cheaper,
    /// then the smaller alpha); `Error::ENOMODEL` when none stays within the budget.
    pub fn alpha_for_budget(&self, budget: f64, replay: Option<&Replay>, n_grid: u32) -> Result<f32> {
        self.alpha_search(sys::av_router_alpha_for_budget, budget, replay, n_grid)
    }

    /// The inverse: the grid alpha with the lowest expected mean cost among those whose expected
    /// mean score is `>= target` (ties: the better score, then the smaller alpha);
    /// `Error::ENOMODEL` when none reaches it.
    pub fn alpha_for_accuracy(&self, target: f64, replay: Option<&Replay>, n_grid: u32) -> Result<f32> {
        self.alpha_search(sys::av_router_alpha_for_accuracy, target, replay, n_grid)
    }

    /// Calibration for a share of calls (`av_router_alpha_for_share`): the smallest grid alpha
    /// at which the `models` (indices) receive at least `share` of the queries of `replay`'s
    /// embeddings (or of the training statistics when `None`); the closest share when no alpha
    /// reaches it. Returns the alpha and the share at it.
    pub fn alpha_for_share(&self, models: &[usize], share: f64, replay: Option<&Replay>, n_grid: u32) -> Result<(f32, f64)> {
        let mut mask = vec![0u8; self.n_models()];
        for &i in models {
            if i >= mask.len() {
                return Err(Error::new(Error::EMODEL, format!("model {i} of {}", mask.len())));
            }
            mask[i] = 1;
        }
        let a = self.replay_args(replay)?;
        let (mut alpha, mut got) = (0f32, 0f64);
        check(unsafe {
            sys::av_router_alpha_for_share(
                self.ptr.as_ptr(),
                mask.as_ptr(),
                mask.len(),
                share,
                a.embeddings,
                a.n,
                self.dim(),
                n_grid,
                &mut alpha,
                &mut got,
            )
        })?;
        Ok((alpha, got))
    }

    /// av_router_alpha_for_budget and av_router_alpha_for_accuracy share their signature: call
    /// either on this router with the replay's arguments.
    fn alpha_search(
        &self,
        search: AlphaSearchFn,
        goal: f64,
        replay: Option<&Replay>,
        n_grid: u32,
    ) -> Result<f32> {
        let a = self.replay_args(replay)?;
        let mut alpha = 0f32;
        check(unsafe {
            search(
                self.ptr.as_ptr(),
                goal,
                a.embeddings,
                a.n,
                self.dim(),
                a.scores,
                a.costs,
                n_grid,
                &mut alpha,
            )
        })?;
        Ok(alpha)
    }

    /// The raw handle, for calls this crate does not wrap. It stays owned by `self`.
    pub fn as_ptr(&self) -> *mut sys::av_router {
        self.ptr.as_ptr()
    }
}

/// Fill an options struct with the library's defaults through its `av_*_init_sized` function,
/// given this crate's `size_of::<T>()` (the kernel's extensible-struct rule, docs/ABI.md): a
/// newer library writes only that many bytes, an older one zeroes the members it does not know
/// (zero is every appended member's default), and struct_size is this crate's size either way.
///
/// # Safety
/// `T` must be one of the `#[repr(C)]` structs of avengers-sys whose first field is the u32
/// struct_size and for which all-zero bytes are a valid value, and `f` its sized init function.
unsafe fn init_struct<T: Copy>(f: unsafe extern "C" fn(*mut T, usize)) -> T {
    let mut out = std::mem::MaybeUninit::<T>::zeroed();
    f(out.as_mut_ptr(), std::mem::size_of::<T>());
    out.assume_init()
}

/// Per-request options of [`Router::route_ex`] (a subset of `av_route_options`).
#[derive(Clone, Debug)]
pub struct RouteOptions {
    /// Performance weight in [0, 1].
    pub alpha: f32,
    /// Clusters used; 0 = the router's top_p.
    pub top_p: u32,
    /// Only models whose expected cost is at most this.
    pub max_expected_cost: Option<f64>,
    /// Only models whose expected score is at least this.
    pub min_expected_score: Option<f64>,
    /// Only these model indices (None: every model).
    pub allowed: Option<Vec<usize>>,
    /// Must equal the router's recorded embedder id, if it has one.
    pub embedder_id: Option<String>,
}

impl RouteOptions {
    pub fn new(alpha: f32) -> Self {
        RouteOptions { alpha, top_p: 0, max_expected_cost: None, min_expected_score: None, allowed: None, embedder_id: None }
    }
}

/// What [`Router::route_ex`] returns (`av_route_result`): the decision and its explanation.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteExplanation {
    /// The chosen model.
    pub model: usize,
    /// Models the decision considered, and those allowed by the mask and limits.
    pub n_models: usize,
    pub n_feasible: usize,
    /// The feasible models, best first (fallbacks after `model`), and their routing scores.
    pub ranked: Vec<usize>,
    pub ranked_scores: Vec<f64>,
    /// Per model (index = model): routing score, expected score and expected cost for this query.
    pub model_scores: Vec<f64>,
    pub expected_score: Vec<f64>,
    pub expected_cost: Vec<f64>,
    /// The clusters used, most similar first: index, cosine similarity, weight, support (the
    /// largest number of outcomes any model has there).
    pub clusters: Vec<u32>,
    pub cluster_sims: Vec<f32>,
    pub cluster_weights: Vec<f64>,
    pub cluster_support: Vec<f64>,
    /// Cosine similarity to the nearest centroid.
    pub best_similarity: f32,
    /// Outcomes of the chosen model in the clusters used.
    pub support: f64,
    /// True when the guard or the safety rule replaced the rule's choice.
    pub guarded: bool,
    /// Per model: the standard error of `expected_score`.
    pub expected_score_se: Vec<f64>,
    /// The best single model for this alpha (None when no model is allowed), whether the
    /// decision differs from it, the rule's choice's estimated utility gain over it and that
    /// gain minus `safety` standard errors of it.
    pub baseline: Option<usize>,
    pub deviated: bool,
    pub gain: f64,
    pub gain_lcb: f64,
    ranked_i32: Vec<i32>,
}

impl RouteExplanation {
    fn with_capacity(models: usize, clusters: usize) -> Self {
        RouteExplanation {
            model: 0,
            n_models: 0,
            n_feasible: 0,
            ranked: Vec::new(),
            ranked_scores: vec![0.0; models],
            model_scores: vec![0.0; models],
            expected_score: vec![0.0; models],
            expected_cost: vec![0.0; models],
            clusters: vec![0; clusters],
            cluster_sims: vec![0.0; clusters],
            cluster_weights: vec![0.0; clusters],
            cluster_support: vec![0.0; clusters],
            best_similarity: 0.0,
            support: 0.0,
            guarded: false,
            expected_score_se: vec![0.0; models],
            baseline: None,
            deviated: false,
            gain: 0.0,
            gain_lcb: 0.0,
            ranked_i32: vec![-1; models],
        }
    }

    fn finish(&mut self, model: usize, res: &sys::av_route_result) {
        self.model = model;
        self.n_models = res.n_models;
        self.n_feasible = res.n_feasible;
        let nr = res.n_ranked.min(self.ranked_i32.len());
        self.ranked = self.ranked_i32[..nr].iter().map(|&i| i as usize).collect();
        self.ranked_scores.truncate(nr);
        let nc = res.n_clusters.min(self.clusters.len());
        self.clusters.truncate(nc);
        self.cluster_sims.truncate(nc);
        self.cluster_weights.truncate(nc);
        self.cluster_support.truncate(nc);
        self.best_similarity = res.best_similarity;
        self.support = res.support;
        self.guarded = res.guarded != 0;
        self.baseline = usize::try_from(res.baseline).ok();
        self.deviated = res.deviated != 0;
        self.gain = res.gain;
        self.gain_lcb = res.gain_lcb;
        self.ranked_i32 = Vec::new();
    }
}

/// Options of [`Router::profile_update_ex`] (`av_update_options`). `Default` is exactly
/// [`Router::profile_update`]: no decay, the nearest cluster only, weight 1.
#[derive(Clone, Debug, PartialEq)]
pub struct UpdateOptions {
    /// > 0: all evidence is scaled by 2^(-1/half_life) before this outcome is added (a half-life
    /// counted in updates); 0 = no decay.
    pub half_life: f64,
    /// Spread the outcome over this many nearest clusters (default 1).
    pub top_p: u32,
    /// With top_p > 1: equal shares (Hard) or softmax over similarity.
    pub weighting: Weighting,
    /// For Softmax; 0 = the router's.
    pub temperature: f32,
    /// Total weight of this outcome (default 1).
    pub weight: f64,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        let o: sys::av_update_options = unsafe { init_struct(sys::av_update_options_init_sized) };
        UpdateOptions {
            half_life: o.half_life,
            top_p: o.top_p,
            weighting: if o.weighting == sys::AV_WEIGHTING_SOFTMAX { Weighting::Softmax } else { Weighting::Hard },
            temperature: o.temperature,
            weight: o.weight,
        }
    }
}

impl UpdateOptions {
    /// Decay: all evidence halves every `half_life` updates.
    pub fn decay(half_life: f64) -> Self {
        UpdateOptions { half_life, ..Self::default() }
    }
}

/// Cluster weighting of the router's estimator (`AV_WEIGHTING_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weighting {
    /// The paper: each of the top-p clusters counts once.
    Hard,
    /// Weights softmax(similarity / temperature) over the top-p clusters.
    Softmax,
}

/// Normalisation of the per-cluster means before they are summed (`AV_NORMALISE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalisation {
    /// The paper: min-max across the models within each cluster.
    Cluster,
    /// One min-max range for every cluster, that of the models' global means.
    Global,
}

/// The router's estimator defaults (`av_estimator_options`), read with [`Router::estimator`] and
/// set with [`Router::set_estimator`]. `Default` is the paper's estimator
/// (`av_estimator_options_init`): kappa 0, hard weighting, temperature 0.05, no guard,
/// per-cluster normalisation. Invalid values (negative or non-finite kappa, temperature <= 0, a
/// non-finite margin) are refused by `set_estimator` with `Error::EINVAL`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EstimatorOptions {
    /// Shrinkage of the cluster means toward the model's global mean (>= 0; 0 is the paper).
    pub kappa: f64,
    pub weighting: Weighting,
    /// Softmax temperature (> 0), used with [`Weighting::Softmax`].
    pub temperature: f32,
    /// The no-worse-than-best-single guard: route like the best single model unless the rule's
    /// choice beats it by `guard_margin`.
    pub guard: bool,
    pub guard_margin: f64,
    pub normalisation: Normalisation,
    /// Safe deviation from the best single model, in standard errors (0: the rule alone, the
    /// paper's; `f64::INFINITY`: the best single model for each alpha).
    pub safety: f64,
}

impl Default for EstimatorOptions {
    fn default() -> Self {
        // SAFETY: av_estimator_options is such a mirror (see init_struct).
        let raw: sys::av_estimator_options = unsafe { init_struct(sys::av_estimator_options_init_sized) };
        EstimatorOptions::from_raw(&raw).expect("av_estimator_options_init gives known values")
    }
}

impl EstimatorOptions {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn kappa(mut self, v: f64) -> Self {
        self.kappa = v;
        self
    }
    /// The paper's hard top-p sum.
    pub fn hard(mut self) -> Self {
        self.weighting = Weighting::Hard;
        self
    }
    /// Softmax weights over the top-p clusters at this temperature.
    pub fn softmax(mut self, temperature: f32) -> Self {
        self.weighting = Weighting::Softmax;
        self.temperature = temperature;
        self
    }
    /// Turn the guard on with this margin.
    pub fn guard(mut self, margin: f64) -> Self {
        self.guard = true;
        self.guard_margin = margin;
        self
    }
    pub fn normalisation(mut self, v: Normalisation) -> Self {
        self.normalisation = v;
        self
    }
    pub fn safety(mut self, v: f64) -> Self {
        self.safety = v;
        self
    }

    fn from_raw(o: &sys::av_estimator_options) -> Result<Self> {
        let weighting = match o.weighting {
            sys::AV_WEIGHTING_HARD => Weighting::Hard,
            sys::AV_WEIGHTING_SOFTMAX => Weighting::Softmax,
            w => return Err(Error::new(Error::ENOTSUP, format!("weighting {w} is unknown to this crate"))),
        };
        let normalisation = match o.normalisation {
            sys::AV_NORMALISE_CLUSTER => Normalisation::Cluster,
            sys::AV_NORMALISE_GLOBAL => Normalisation::Global,
            v => return Err(Error::new(Error::ENOTSUP, format!("normalisation {v} is unknown to this crate"))),
        };
        Ok(EstimatorOptions {
            kappa: o.kappa,
            weighting,
            temperature: o.temperature,
            guard: o.guard != 0,
            guard_margin: o.guard_margin,
            normalisation,
            safety: o.safety,
        })
    }

    /// The C struct (`struct_size` set by `av_estimator_options_init`).
    pub fn to_raw(&self) -> sys::av_estimator_options {
        // SAFETY: av_estimator_options is such a mirror (see init_struct).
        let mut o: sys::av_estimator_options = unsafe { init_struct(sys::av_estimator_options_init_sized) };
        o.kappa = self.kappa;
        o.weighting = match self.weighting {
            Weighting::Hard => sys::AV_WEIGHTING_HARD,
            Weighting::Softmax => sys::AV_WEIGHTING_SOFTMAX,
        };
        o.temperature = self.temperature;
        o.guard = u32::from(self.guard);
        o.guard_margin = self.guard_margin;
        o.normalisation = match self.normalisation {
            Normalisation::Cluster => sys::AV_NORMALISE_CLUSTER,
            Normalisation::Global => sys::AV_NORMALISE_GLOBAL,
        };
        o.safety = self.safety;
        o
    }
}

/// A model's price for [`Router::set_price`] (`av_price`, experimental): per query, or per
/// input and output token with the model's mean token counts per query.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Price {
    PerQuery { cost: f64 },
    PerToken { input_price: f64, output_price: f64, input_tokens: f64, output_tokens: f64 },
}

impl Price {
    pub fn per_query(cost: f64) -> Self {
        Price::PerQuery { cost }
    }
    pub fn per_token(input_price: f64, output_price: f64, input_tokens: f64, output_tokens: f64) -> Self {
        Price::PerToken { input_price, output_price, input_tokens, output_tokens }
    }
    /// The cost of one query at this price.
    pub fn cost_per_query(&self) -> f64 {
        match *self {
            Price::PerQuery { cost } => cost,
            Price::PerToken { input_price, output_price, input_tokens, output_tokens } => {
                input_price * input_tokens + output_price * output_tokens
            }
        }
    }
    fn to_raw(self) -> sys::av_price {
        // SAFETY: av_price is such a mirror (see init_struct).
        let mut raw: sys::av_price = unsafe { init_struct(sys::av_price_init_sized) };
        match self {
            Price::PerQuery { cost } => {
                raw.unit = sys::AV_PRICE_PER_QUERY;
                raw.cost_per_query = cost;
            }
            Price::PerToken { input_price, output_price, input_tokens, output_tokens } => {
                raw.unit = sys::AV_PRICE_PER_TOKEN;
                raw.input_price = input_price;
                raw.output_price = output_price;
                raw.input_tokens = input_tokens;
                raw.output_tokens = output_tokens;
            }
        }
        raw
    }
}

/// Cross-validated tuning (`av_tune_options`), given to [`FitOptions::tune`]: `Builder::fit`
/// then picks n_clusters, top_p, members, kappa and weighting by `n_folds`-fold
/// cross-validation on the builder's rows and records the choice in the metadata (`tuned_*`);
/// [`Builder::best_auc`] gives the winner's cross-validated AUC. The candidate lists are owned
/// here; an empty list means "only the fit options' value" (NULL in C). `Default` is
/// `av_tune_options_init` (no lists, 5 folds, 21 alphas, 2 restarts per fold). Experimental:
/// the C interface is declared only under `AV_STATIC_LINKING_ONLY` and may change in a minor
/// release.
#[derive(Clone, Debug, PartialEq)]
pub struct TuneOptions {
    pub n_clusters: Vec<u32>,
    pub top_p: Vec<u32>,
    pub kappa: Vec<f64>,
    /// Softmax candidates (hard weighting is always a candidate too).
    pub temperatures: Vec<f32>,
    /// Ensemble sizes ([`FitOptions::members`]), each 1..=`sys::AV_MAX_MEMBERS`.
    pub members: Vec<u32>,
    pub n_folds: u32,
    /// Alpha grid points for the AUC.
    pub n_alphas: u32,
    /// k-means restarts inside the folds.
    pub n_init: u32,
    /// Also turn the guard on in the result, with `guard_margin`.
    pub guard: bool,
    pub guard_margin: f64,
    /// Global normalisation as a candidate beside the paper's per-cluster one.
    pub global_normalisation: bool,
}

impl Default for TuneOptions {
    fn default() -> Self {
        // SAFETY: av_tune_options is such a mirror (see init_struct); init leaves the lists NULL.
        let raw: sys::av_tune_options = unsafe { init_struct(sys::av_tune_options_init_sized) };
        // SAFETY: the list pointers come from init (NULL) with their counts.
        unsafe { TuneOptions::from_raw(&raw) }
    }
}

/// Copy a C candidate list (NULL or `n` values) into a Vec.
///
/// # Safety
/// `p` is NULL or points to `n` values.
unsafe fn list<T: Copy>(p: *const T, n: usize) -> Vec<T> {
    if p.is_null() || n == 0 {
        Vec::new()
    } else {
        std::slice::from_raw_parts(p, n).to_vec()
    }
}

/// NULL for an empty list, else its pointer.
fn list_ptr<T>(v: &[T]) -> *const T {
    if v.is_empty() {
        ptr::null()
    } else {
        v.as_ptr()
    }
}

impl TuneOptions {
    pub fn new() -> Self {
        Self::default()
    }
    /// The grid `avengers train --tune` uses (`av_tune_options_default_grid`), copied.
    pub fn default_grid() -> Self {
        // SAFETY: as in Default; the default grid points at static arrays of the stated sizes.
        unsafe {
            let mut raw: sys::av_tune_options = init_struct(sys::av_tune_options_init_sized);
            sys::av_tune_options_default_grid(&mut raw);
            TuneOptions::from_raw(&raw)
        }
    }
    pub fn n_clusters(mut self, v: &[u32]) -> Self {
        self.n_clusters = v.to_vec();
        self
    }
    pub fn top_p(mut self, v: &[u32]) -> Self {
        self.top_p = v.to_vec();
        self
    }
    pub fn kappa(mut self, v: &[f64]) -> Self {
        self.kappa = v.to_vec();
        self
    }
    pub fn temperatures(mut self, v: &[f32]) -> Self {
        self.temperatures = v.to_vec();
        self
    }
    pub fn members(mut self, v: &[u32]) -> Self {
        self.members = v.to_vec();
        self
    }
    pub fn n_folds(mut self, v: u32) -> Self {
        self.n_folds = v;
        self
    }
    pub fn n_alphas(mut self, v: u32) -> Self {
        self.n_alphas = v;
        self
    }
    pub fn n_init(mut self, v: u32) -> Self {
        self.n_init = v;
        self
    }
    /// Turn the guard on in the tuned router, with this margin.
    pub fn guard(mut self, margin: f64) -> Self {
        self.guard = true;
        self.guard_margin = margin;
        self
    }
    pub fn global_normalisation(mut self, on: bool) -> Self {
        self.global_normalisation = on;
        self
    }

    /// # Safety
    /// Every non-NULL list pointer of `t` points to its count of values.
    unsafe fn from_raw(t: &sys::av_tune_options) -> Self {
        TuneOptions {
            n_clusters: list(t.n_clusters, t.n_n_clusters),
            top_p: list(t.top_p, t.n_top_p),
            kappa: list(t.kappa, t.n_kappa),
            temperatures: list(t.temperatures, t.n_temperatures),
            members: list(t.members, t.n_members),
            n_folds: t.n_folds,
            n_alphas: t.n_alphas,
            n_init: t.n_init,
            guard: t.guard != 0,
            guard_margin: t.guard_margin,
            global_normalisation: t.global_normalisation != 0,
        }
    }

    /// The C struct, its list pointers borrowed from `self` (valid while `self` is unchanged).
    pub fn to_raw(&self) -> sys::av_tune_options {
        // SAFETY: av_tune_options is such a mirror (see init_struct).
        let mut t: sys::av_tune_options = unsafe { init_struct(sys::av_tune_options_init_sized) };
        t.n_clusters = list_ptr(&self.n_clusters);
        t.n_n_clusters = self.n_clusters.len();
        t.top_p = list_ptr(&self.top_p);
        t.n_top_p = self.top_p.len();
        t.kappa = list_ptr(&self.kappa);
        t.n_kappa = self.kappa.len();
        t.temperatures = list_ptr(&self.temperatures);
        t.n_temperatures = self.temperatures.len();
        t.members = list_ptr(&self.members);
        t.n_members = self.members.len();
        t.n_folds = self.n_folds;
        t.n_alphas = self.n_alphas;
        t.n_init = self.n_init;
        t.guard = u32::from(self.guard);
        t.guard_margin = self.guard_margin;
        t.global_normalisation = u32::from(self.global_normalisation);
        t
    }
}

/// A replay set for the budget calls: `embeddings` packed rows of the router's dim; `scores`
/// and `costs`, when given, `n x n_models` in the router's model order (a missing value counts
/// as the router's estimate for that query).
#[derive(Clone, Copy, Debug)]
pub struct Replay<'a> {
    pub embeddings: &'a [f32],
    pub scores: Option<&'a [f32]>,
    pub costs: Option<&'a [f32]>,
}

impl<'a> Replay<'a> {
    pub fn new(embeddings: &'a [f32]) -> Self {
        Replay { embeddings, scores: None, costs: None }
    }
    pub fn scores(mut self, s: &'a [f32]) -> Self {
        self.scores = Some(s);
        self
    }
    pub fn costs(mut self, c: &'a [f32]) -> Self {
        self.costs = Some(c);
        self
    }
}

/// [`Router::expected_mean`]: expected mean score and cost per query.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExpectedMean {
    pub score: f64,
    pub cost: f64,
}

/// The pointers and row count of an optional replay set, checked against the router.
struct ReplayArgs {
    embeddings: *const f32,
    n: usize,
    scores: *const f32,
    costs: *const f32,
}

/// One operating point of an evaluation.
pub type Point = sys::av_eval_point;
/// Headline metrics of an evaluation (docs/EVALUATION.md).
pub type Metrics = sys::av_eval_metrics;

/// A point on the Pareto frontier.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FrontierPoint {
    /// The router at this alpha.
    Alpha(f64),
    /// This single model (index).
    Model(usize),
}

struct EvalHandle(*mut sys::av_eval_result);
impl Drop for EvalHandle {
    fn drop(&mut self) {
        unsafe { sys::av_eval_result_free(self.0) }
    }
}

/// The result of [`Router::evaluate`], read out of the C result (which is freed at once).
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub n_rows: usize,
    pub models: Vec<String>,
    /// The router at each alpha.
    pub points: Vec<Point>,
    /// Each single model, in `models` order.
    pub model_points: Vec<Point>,
    pub oracle: Point,
    pub metrics: Metrics,
    pub frontier: Vec<FrontierPoint>,
}

impl Evaluation {
    fn read(h: &EvalHandle) -> Result<Evaluation> {
        let r = h.0;
        let point = |f: &dyn Fn(*mut Point) -> i32| -> Result<Point> {
            let mut p = Point { struct_size: std::mem::size_of::<Point>() as u32, ..Default::default() };
            check(f(&mut p))?;
            Ok(p)
        };
        let n_alphas = unsafe { sys::av_eval_n_alphas(r) };
        let m = unsafe { sys::av_eval_n_models(r) };
        let models = (0..m)
            .map(|i| unsafe { cstr_lossy(sys::av_eval_model_name(r, i)) })
            .collect();
        let points = (0..n_alphas)
            .map(|i| point(&|p| unsafe { sys::av_eval_alpha(r, i, p) }))
            .collect::<Result<Vec<_>>>()?;
        let model_points = (0..m)
            .map(|i| point(&|p| unsafe { sys::av_eval_model(r, i, p) }))
            .collect::<Result<Vec<_>>>()?;
        let oracle = point(&|p| unsafe { sys::av_eval_oracle(r, p) })?;
        let mut metrics = Metrics { struct_size: std::mem::size_of::<Metrics>() as u32, ..Default::default() };
        check(unsafe { sys::av_eval_metrics_get(r, &mut metrics) })?;
        let mut frontier = Vec::new();
        for i in 0..unsafe { sys::av_eval_frontier_count(r) } {
            let (mut kind, mut index) = (0u32, 0usize);
            check(unsafe { sys::av_eval_frontier_at(r, i, &mut kind, &mut index) })?;
            frontier.push(if kind == sys::AV_EVAL_ROUTER {
                FrontierPoint::Alpha(points[index].alpha)
            } else {
                FrontierPoint::Model(index)
            });
        }
        Ok(Evaluation { n_rows: unsafe { sys::av_eval_n_rows(r) }, models, points, model_points, oracle, metrics, frontier })
    }
}

/// Options for [`Builder::fit`], starting from the library's defaults (`av_fit_options_init`).
#[derive(Clone, Debug)]
pub struct FitOptions {
    raw: sys::av_fit_options,
    /// The id as a C string, or the error that [`Builder::fit`] reports (an interior NUL).
    embedder_id: Option<Result<CString>>,
    tune: Option<TuneOptions>,
}

impl Default for FitOptions {
    fn default() -> Self {
        // SAFETY: av_fit_options is such a mirror (see init_struct).
        FitOptions { raw: unsafe { init_struct(sys::av_fit_options_init_sized) }, embedder_id: None, tune: None }
    }
}

impl FitOptions {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn n_clusters(mut self, v: u32) -> Self {
        self.raw.n_clusters = v;
        self
    }
    pub fn top_p(mut self, v: u32) -> Self {
        self.raw.top_p = v;
        self
    }
    pub fn n_init(mut self, v: u32) -> Self {
        self.raw.n_init = v;
        self
    }
    pub fn max_iter(mut self, v: u32) -> Self {
        self.raw.max_iter = v;
        self
    }
    pub fn tol(mut self, v: f32) -> Self {
        self.raw.tol = v;
        self
    }
    pub fn seed(mut self, v: u64) -> Self {
        self.raw.seed = v;
        self
    }
    /// `sys::AV_CENTROIDS_F32`, `_F16` or `_INT8`.
    pub fn centroid_type(mut self, v: u32) -> Self {
        self.raw.centroid_type = v;
        self
    }
    /// Beyond the paper: an ensemble of `v` independent k-means clusterings of `n_clusters`
    /// each (seeds derived from `seed`); a query uses its `top_p` nearest clusters in every
    /// member. 1 (the default; 0 also) is the paper; at most `sys::AV_MAX_MEMBERS`, and
    /// `v * top_p <= sys::AV_MAX_TOP_P` (else `fit` fails with `Error::EINVAL`).
    pub fn members(mut self, v: u32) -> Self {
        self.raw.members = v;
        self
    }
    /// The k-means: `sys::AV_KMEANS_AUTO` (the default: full-batch up to
    /// `sys::AV_KMEANS_AUTO_MAX_ROWS` rows, sampled above), `sys::AV_KMEANS_FULL` or
    /// `sys::AV_KMEANS_SAMPLED` (docs/SCALING.md, "Training on large logs").
    pub fn algorithm(mut self, v: u32) -> Self {
        self.raw.algorithm = v;
        self
    }
    /// Sampled k-means: the expected rows of its sample (0: the library's default).
    pub fn sample_size(mut self, v: u32) -> Self {
        self.raw.sample_size = v;
        self
    }
    /// Sampled k-means: the passes over every row at most (0: the library's default).
    pub fn max_passes(mut self, v: u32) -> Self {
        self.raw.max_passes = v;
        self
    }
    /// An id with an interior NUL byte makes [`Builder::fit`] fail with `Error::EINVAL`.
    pub fn embedder_id(mut self, id: &str) -> Self {
        self.embedder_id = Some(cstring(id, "embedder_id"));
        self
    }
    /// Beyond the paper: choose n_clusters, top_p, members, kappa and weighting by
    /// cross-validation over `t`'s candidate lists (see [`TuneOptions`]); the winner's AUC is
    /// then [`Builder::best_auc`].
    pub fn tune(mut self, t: TuneOptions) -> Self {
        self.tune = Some(t);
        self
    }
}

/// Rows read on demand by a [`Builder`] ([`Builder::add_source`], `av_builder_add_source`):
/// for logs that are not one array in memory (a database cursor, a compressed file).
pub trait RowSource: Send {
    /// Fill the source's rows `[row0, row0 + n)`: `embeddings` is n x dim, `scores` and `costs`
    /// n x n_models, row-major (NaN = no outcome). The same rows must come back bit for bit
    /// every time they are asked for (a fit reads them again on every pass). `Err(code)` stops
    /// the call that asked for them with `Error::ECANCELED`.
    fn read(&mut self, row0: usize, embeddings: &mut [f32], scores: &mut [f32],
            costs: &mut [f32]) -> std::result::Result<(), i32>;
}

/// A source kept by its builder until the builder is freed (the library calls it until then).
struct SourceBox {
    source: Box<dyn RowSource>,
    dim: usize,
    n_models: usize,
}

/// The library's read callback: the source's `read`, a panic caught (it cannot unwind into C)
/// and returned as -1, like an `Err(0)` (0 would mean success to the library).
unsafe extern "C" fn source_read(user: *mut c_void, row0: usize, n: usize, emb: *mut f32,
                                 scores: *mut f32, costs: *mut f32) -> i32 {
    let sb = &mut *(user as *mut SourceBox);
    let (ne, nm) = match (n.checked_mul(sb.dim), n.checked_mul(sb.n_models)) {
        (Some(a), Some(b)) => (a, b),
        _ => return -1,
    };
    // SAFETY: the library hands buffers of n rows of these widths, and never two calls at once
    // (the source does not set AV_ROW_SOURCE_CONCURRENT), so the &mut borrows are exclusive.
    let e = std::slice::from_raw_parts_mut(emb, ne);
    let s = std::slice::from_raw_parts_mut(scores, nm);
    let c = std::slice::from_raw_parts_mut(costs, nm);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sb.source.read(row0, e, s, c)));
    match r {
        Ok(Ok(())) => 0,
        Ok(Err(0)) | Err(_) => -1,
        Ok(Err(code)) => code,
    }
}

/// Training data for a router (`av_builder`).
pub struct Builder {
    ptr: NonNull<sys::av_builder>,
    n_models: usize,
    best_auc: Option<f64>,
    // the row sources the library may call until av_builder_free (dropped after it: Drop frees
    // the builder first, then the fields go)
    sources: Vec<Box<SourceBox>>,
}

// SAFETY: a builder has no thread affinity (Send); it is not Sync because av_builder_add and
// av_builder_fit mutate it without a lock, and those take `&mut self`.
unsafe impl Send for Builder {}

impl Drop for Builder {
    fn drop(&mut self) {
        unsafe { sys::av_builder_free(self.ptr.as_ptr()) }
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder").field("n_models", &self.n_models).field("n_rows", &self.n_rows()).finish()
    }
}

impl Builder {
    pub fn new(dim: usize, models: &[&str]) -> Result<Builder> {
        let names = models.iter().map(|s| cstring(s, "model name")).collect::<Result<Vec<_>>>()?;
        let ptrs: Vec<*const c_char> = names.iter().map(|c| c.as_ptr()).collect();
        let mut p = ptr::null_mut();
        check(unsafe { sys::av_builder_new(&mut p, dim, models.len(), ptrs.as_ptr()) })?;
        let ptr = NonNull::new(p).ok_or_else(|| Error::new(Error::ENOMEM, "library returned no builder"))?;
        Ok(Builder { ptr, n_models: models.len(), best_auc: None, sources: Vec::new() })
    }

    /// Add one row; `scores` and `costs` hold one value per model (NaN = no outcome).
    pub fn add(&mut self, embedding: &[f32], scores: &[f32], costs: &[f32]) -> Result<()> {
        if scores.len() != self.n_models || costs.len() != self.n_models {
            return Err(Error::new(Error::EINVAL, format!("scores and costs need {} values", self.n_models)));
        }
        check(unsafe {
            sys::av_builder_add(self.ptr.as_ptr(), embedding.as_ptr(), embedding.len(), scores.as_ptr(), costs.as_ptr())
        })
        .map(|_| ())
    }

    /// Add packed rows: `embeddings` n x dim, `scores` and `costs` n x n_models (row-major).
    /// On a bad row the rows before it stay added and the error names the row.
    pub fn add_rows(&mut self, dim: usize, embeddings: &[f32], scores: &[f32], costs: &[f32]) -> Result<()> {
        let m = self.n_models;
        if dim == 0 || embeddings.len() % dim != 0 {
            return Err(Error::new(Error::EDIM, "embeddings.len() is not a multiple of dim"));
        }
        let n = embeddings.len() / dim;
        let nm = mul(n, m, "rows x models")?;
        if scores.len() != nm || costs.len() != nm {
            return Err(Error::new(Error::EINVAL, format!("scores and costs need {n} x {m} values")));
        }
        for r in 0..n {
            self.add(&embeddings[r * dim..(r + 1) * dim], &scores[r * m..(r + 1) * m], &costs[r * m..(r + 1) * m])
                .map_err(|e| Error::new(e.code(), format!("row {r}: {}", e.message())))?;
        }
        Ok(())
    }

    pub fn n_rows(&self) -> usize {
        unsafe { sys::av_builder_n_rows(self.ptr.as_ptr()) }
    }

    /// Add `n_rows` rows of dimension `dim` read through `source` (`av_builder_add_source`):
    /// read once now, block by block of `block_rows` rows (0: the library's choice), every row
    /// checked; the builder keeps only each row's inverse norm and a hash per block, and reads
    /// the blocks again when it fits (a block that reads differently is refused with
    /// `Error::EIO`). The source is kept until the builder is dropped. On an error nothing is
    /// added (the source is dropped).
    pub fn add_source(&mut self, n_rows: usize, dim: usize, block_rows: usize,
                      source: Box<dyn RowSource>) -> Result<()> {
        let mut sb = Box::new(SourceBox { source, dim, n_models: self.n_models });
        let mut raw: sys::av_row_source =
            unsafe { init_struct(sys::av_row_source_init_sized) };
        raw.n_rows = n_rows;
        raw.dim = dim;
        raw.block_rows = block_rows;
        raw.read = Some(source_read);
        raw.user = (&mut *sb as *mut SourceBox).cast::<c_void>();
        check(unsafe { sys::av_builder_add_source(self.ptr.as_ptr(), &raw) })?;
        self.sources.push(sb);
        Ok(())
    }

    /// Cluster the rows and compute the profiles (choosing the settings by cross-validation
    /// when the options carry [`TuneOptions`]). The builder stays usable.
    pub fn fit(&mut self, options: &FitOptions) -> Result<Router> {
        let mut raw = options.raw;
        raw.embedder_id = match &options.embedder_id {
            None => ptr::null(),
            Some(Ok(c)) => c.as_ptr(),
            Some(Err(e)) => return Err(e.clone()),
        };
        // Options are inputs only: a local copy, its lists borrowed from `options`.
        // (The C member is a non-const pointer; the library never writes through it.)
        let mut tune = options.tune.as_ref().map(|t| t.to_raw());
        if let Some(t) = tune.as_mut() {
            raw.tune = t;
        }
        let mut p = ptr::null_mut();
        let rc = unsafe { sys::av_builder_fit(self.ptr.as_ptr(), &raw, &mut p) };
        let r = Router::from_raw(rc, p)?;
        // The winner's cross-validated AUC is the router's metadata tuned_cv_auc (%.17g: exact).
        self.best_auc = match tune {
            Some(_) => r.meta("tuned_cv_auc").and_then(|v| v.parse::<f64>().ok()),
            None => None,
        };
        Ok(r)
    }

    /// The winner's mean cross-validated AUC (the router's metadata `tuned_cv_auc`) of the last
    /// successful fit if it was tuned ([`FitOptions::tune`]); None after a plain fit.
    pub fn best_auc(&self) -> Option<f64> {
        self.best_auc
    }

    /// The raw handle, for calls this crate does not wrap. It stays owned by `self`.
    pub fn as_ptr(&self) -> *mut sys::av_builder {
        self.ptr.as_ptr()
    }

    /// Inertia of the last successful fit.
    pub fn inertia(&self) -> Option<f64> {
        let v = unsafe { sys::av_builder_inertia(self.ptr.as_ptr()) };
        (v >= 0.0).then_some(v)
    }
}
