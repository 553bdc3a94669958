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
use std::ffi::{c_char, c_void, CStr, CString};
use std::fmt;
use std::path::Path;
use std::ptr::{self, NonNull};

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

    /// An error raised by this crate itself (argument checks before calling C).
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Error { code, message: message.into() }
    }

    /// Build the error for `code` from this thread's `av_last_error()`.
    fn last(code: i32) -> Self {
        let detail = unsafe { cstr(sys::av_last_error()) }.unwrap_or("");
        let message = if detail.is_empty() { strerror(code).to_owned() } else { detail.to_owned() };
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

fn cstring(s: &str, what: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::new(Error::EINVAL, format!("{what} contains a NUL byte")))
}

fn path_cstring(p: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::new(Error::EINVAL, "path contains a NUL byte"))
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
        if counts.len() != k * m || sum_scores.len() != k * m || sum_costs.len() != k * m {
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
    /// The name of model `i` (None when out of range); lives as long as the router.
    pub fn model_name(&self, i: usize) -> Option<&str> {
        unsafe { cstr(sys::av_router_model_name(self.ptr.as_ptr(), i)) }
    }
    /// Every model name, in index order.
    pub fn models(&self) -> Vec<&str> {
        (0..self.n_models()).filter_map(|i| self.model_name(i)).collect()
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
    /// The metadata value for `key`.
    pub fn meta(&self, key: &str) -> Option<&str> {
        let c = CString::new(key).ok()?;
        unsafe { cstr(sys::av_router_meta(self.ptr.as_ptr(), c.as_ptr())) }
    }
    /// Every metadata entry, in stored order.
    pub fn metadata(&self) -> Vec<(&str, &str)> {
        let n = unsafe { sys::av_router_meta_count(self.ptr.as_ptr()) };
        (0..n)
            .filter_map(|i| {
                let (mut k, mut v) = (ptr::null(), ptr::null());
                let rc = unsafe { sys::av_router_meta_at(self.ptr.as_ptr(), i, &mut k, &mut v) };
                if rc < 0 {
                    return None;
                }
                unsafe { Some((cstr(k)?, cstr(v)?)) }
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
        if row_stride < d || rows.len() < (n - 1) * row_stride + d {
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
        let m = i32::try_from(model).map_err(|_| Error::new(Error::EMODEL, "model index out of range"))?;
        check(unsafe {
            sys::av_profile_update(self.ptr.as_ptr(), embedding.as_ptr(), embedding.len(), m, score, cost)
        })
        .map(|_| ())
    }

    /// Route with per-request options (`av_route_ex`); with default options the decision equals
    /// [`Router::route`]. `Error::ENOMODEL` when no model satisfies the mask and limits.
    pub fn route_ex(&self, embedding: &[f32], options: &RouteOptions) -> Result<usize> {
        let mut o: sys::av_route_options = unsafe { init_struct(sys::av_route_options_init) };
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
        let mask: Option<Vec<u8>> = options.allowed.as_ref().map(|a| {
            let mut m = vec![0u8; self.n_models()];
            for &i in a {
                if i < m.len() {
                    m[i] = 1;
                }
            }
            m
        });
        if let Some(m) = &mask {
            o.model_mask = m.as_ptr();
            o.model_mask_len = m.len();
        }
        let id = options.embedder_id.as_deref().map(|e| cstring(e, "embedder_id")).transpose()?;
        if let Some(c) = &id {
            o.embedder_id = c.as_ptr();
        }
        let rc = unsafe { sys::av_route_ex(self.ptr.as_ptr(), embedding.as_ptr(), embedding.len(), &o, ptr::null_mut()) };
        check(rc).map(|m| m as usize)
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
        if scores.len() != n * m || costs.len() != n * m {
            return Err(Error::new(Error::EINVAL, format!("scores and costs need {n} x {m} values")));
        }
        let mut rp: sys::av_replay = unsafe { init_struct(sys::av_replay_init) };
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
        let mut o: sys::av_eval_options = unsafe { init_struct(sys::av_eval_options_init) };
        if let Some(a) = alphas {
            o.alphas = a.as_ptr();
            o.n_alphas = a.len();
        }
        let mut res = ptr::null_mut();
        check(unsafe { sys::av_eval_run(&mut res, self.ptr.as_ptr(), &rp, &o) })?;
        let res = EvalHandle(res);
        Evaluation::read(&res)
    }

    /// The raw handle, for calls this crate does not wrap. It stays owned by `self`.
    pub fn as_ptr(&self) -> *mut sys::av_router {
        self.ptr.as_ptr()
    }
}

/// Fill an options struct with the library's defaults through its `*_init` function. The
/// library may be newer than this crate and its struct larger: init writes into a zeroed scratch
/// buffer, the bytes this crate knows are copied, and struct_size says how many that is.
///
/// # Safety
/// `T` must be one of the `#[repr(C)]` mirrors in avengers-sys whose first field is the u32
/// struct_size and for which all-zero bytes are a valid value, and `f` its init function.
unsafe fn init_struct<T: Copy>(f: unsafe extern "C" fn(*mut T)) -> T {
    let mut scratch = [0u64; STRUCT_SCRATCH_WORDS];
    f(scratch.as_mut_ptr() as *mut T);
    let first = scratch[0].to_ne_bytes();
    let lib_size = u32::from_ne_bytes([first[0], first[1], first[2], first[3]]) as usize;
    let n = lib_size.min(std::mem::size_of::<T>());
    let mut out = std::mem::MaybeUninit::<T>::zeroed();
    ptr::copy_nonoverlapping(scratch.as_ptr() as *const u8, out.as_mut_ptr() as *mut u8, n);
    let mut out = out.assume_init();
    *(&mut out as *mut T as *mut u32) = n as u32;
    out
}

/// 4 KiB: room for any future options struct.
const STRUCT_SCRATCH_WORDS: usize = 512;

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
            .map(|i| unsafe { cstr(sys::av_eval_model_name(r, i)) }.unwrap_or("").to_owned())
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
    embedder_id: Option<CString>,
}

impl Default for FitOptions {
    fn default() -> Self {
        // SAFETY: av_fit_options is such a mirror (see init_struct).
        FitOptions { raw: unsafe { init_struct(sys::av_fit_options_init) }, embedder_id: None }
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
    pub fn embedder_id(mut self, id: &str) -> Self {
        self.embedder_id = CString::new(id).ok();
        self
    }
}

/// Training data for a router (`av_builder`).
pub struct Builder {
    ptr: NonNull<sys::av_builder>,
    n_models: usize,
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
        Ok(Builder { ptr, n_models: models.len() })
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
        if scores.len() != n * m || costs.len() != n * m {
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

    /// Cluster the rows and compute the profiles. The builder stays usable.
    pub fn fit(&mut self, options: &FitOptions) -> Result<Router> {
        let mut raw = options.raw;
        raw.embedder_id = options.embedder_id.as_ref().map_or(ptr::null(), |c| c.as_ptr());
        let mut p = ptr::null_mut();
        let rc = unsafe { sys::av_builder_fit(self.ptr.as_ptr(), &raw, &mut p) };
        Router::from_raw(rc, p)
    }

    /// Inertia of the last successful fit.
    pub fn inertia(&self) -> Option<f64> {
        let v = unsafe { sys::av_builder_inertia(self.ptr.as_ptr()) };
        (v >= 0.0).then_some(v)
    }
}
