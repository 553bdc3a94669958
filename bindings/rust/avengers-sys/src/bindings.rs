// Generated from include/avengers/avengers.h (with AV_STATIC_LINKING_ONLY) by
// Debian's bindgen; do not edit. Regenerate: `make bindings` (tools/gen_bindings.py).
// bindgen 0.60.1

pub const AV_VERSION_MAJOR: u32 = 1;
pub const AV_VERSION_MINOR: u32 = 4;
pub const AV_VERSION_PATCH: u32 = 1;
pub const AV_VERSION_NUMBER: u32 = 10401;
pub const AV_VERSION_STRING: &[u8; 6usize] = b"1.4.1\0";
pub const AV_MAX_DIM: u32 = 65536;
pub const AV_MAX_CLUSTERS: u32 = 65536;
pub const AV_MAX_MODELS: u32 = 256;
pub const AV_MAX_TOP_P: u32 = 64;
pub const AV_MAX_NAME: u32 = 255;
pub const AV_MAX_MEMBERS: u32 = 16;
pub const AV_KMEANS_AUTO: u32 = 0;
pub const AV_KMEANS_FULL: u32 = 1;
pub const AV_KMEANS_SAMPLED: u32 = 2;
pub const AV_KMEANS_AUTO_MAX_ROWS: u32 = 50000;
pub const AV_KMEANS_DEFAULT_PASSES: u32 = 20;
pub const AV_KMEANS_SAMPLE_MAX_INIT: u32 = 3;
pub const AV_WEIGHTING_ROUTER: u32 = 0;
pub const AV_WEIGHTING_HARD: u32 = 1;
pub const AV_WEIGHTING_SOFTMAX: u32 = 2;
pub const AV_NORMALISE_ROUTER: u32 = 0;
pub const AV_NORMALISE_CLUSTER: u32 = 1;
pub const AV_NORMALISE_GLOBAL: u32 = 2;
pub const AV_ROUTE_MAX_COST: u32 = 1;
pub const AV_ROUTE_MIN_SCORE: u32 = 2;
pub const AV_ROUTE_GUARD_ON: u32 = 4;
pub const AV_ROUTE_GUARD_OFF: u32 = 8;
pub const AV_ROUTE_EXPLORE: u32 = 16;
pub const AV_ROUTE_SAFETY: u32 = 32;
pub const AV_TUNE_STAGE_FIT: u32 = 0;
pub const AV_TUNE_STAGE_SCORED: u32 = 1;
pub const AV_TUNE_STAGE_FINAL: u32 = 2;
pub const AV_TUNE_AUC: u32 = 0;
pub const AV_TUNE_ACCURACY: u32 = 1;
pub const AV_TUNE_COSTSAVE: u32 = 2;
pub const AV_TUNE_HALVING_AUTO_ROWS: u32 = 40000;
pub const AV_TUNE_MAX_ETA: u32 = 16;
pub const AV_TUNE_HALVING_MIN_ROWS: u32 = 4000;
pub const AV_TUNE_SHARED_AUTO_ROWS: u32 = 40000;
pub const AV_PRICE_NONE: u32 = 0;
pub const AV_PRICE_PER_QUERY: u32 = 1;
pub const AV_PRICE_PER_TOKEN: u32 = 2;
pub const AV_KMEANS_FIXED_ONE: f64 = 4294967296.0;
pub const AV_KMEANS_MAX_ROWS: u32 = 268435456;
pub const AV_KMEANS_MAX_CENTRE_SQNORM: f64 = 1.01;
pub const AV_FIT_STAGE_SAMPLE: u32 = 0;
pub const AV_FIT_STAGE_PASS: u32 = 1;
pub const AV_FIT_STAGE_STATS: u32 = 2;
pub const AV_ROW_SOURCE_CONCURRENT: u32 = 1;
pub const AV_ROW_SOURCE_BLOCK_BYTES: u32 = 4194304;
pub type __uint8_t = core::ffi::c_uchar;
pub type __int32_t = core::ffi::c_int;
pub type __uint32_t = core::ffi::c_uint;
pub type __int64_t = core::ffi::c_long;
pub type __uint64_t = core::ffi::c_ulong;
pub const AV_OK: av_error = 0;
pub const AV_EINVAL: av_error = -1;
pub const AV_ENOMEM: av_error = -2;
pub const AV_EIO: av_error = -3;
pub const AV_EFORMAT: av_error = -4;
pub const AV_ECHECKSUM: av_error = -5;
pub const AV_EVERSION: av_error = -6;
pub const AV_EDIM: av_error = -7;
pub const AV_EVECTOR: av_error = -8;
pub const AV_EALPHA: av_error = -9;
pub const AV_EMODEL: av_error = -10;
pub const AV_EVALUE: av_error = -11;
pub const AV_ERANGE: av_error = -12;
pub const AV_EEMPTY: av_error = -13;
pub const AV_ENOMODEL: av_error = -14;
pub const AV_EMISMATCH: av_error = -15;
pub const AV_ELIMIT: av_error = -16;
pub const AV_ENOTSUP: av_error = -17;
pub const AV_ECANCELED: av_error = -18;
pub const AV_ERRNO_LAST_: av_error = -18;
pub type av_error = core::ffi::c_int;
extern "C" {
    pub fn av_strerror(code: core::ffi::c_int) -> *const core::ffi::c_char;
}
extern "C" {
    pub fn av_last_error() -> *const core::ffi::c_char;
}
extern "C" {
    pub fn av_version_number() -> core::ffi::c_uint;
}
extern "C" {
    pub fn av_version_string() -> *const core::ffi::c_char;
}
#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct av_router {
    _unused: [u8; 0],
}
#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct av_builder {
    _unused: [u8; 0],
}
extern "C" {
    pub fn av_router_load(
        out: *mut *mut av_router,
        path: *const core::ffi::c_char,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_router_load_buffer(
        out: *mut *mut av_router,
        data: *const core::ffi::c_void,
        size: usize,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_router_save(r: *const av_router, path: *const core::ffi::c_char) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_router_save_buffer(
        r: *const av_router,
        data: *mut *mut core::ffi::c_void,
        size: *mut usize,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_free(p: *mut core::ffi::c_void);
}
extern "C" {
    pub fn av_router_free(r: *mut av_router);
}
extern "C" {
    pub fn av_router_dim(r: *const av_router) -> usize;
}
extern "C" {
    pub fn av_router_n_clusters(r: *const av_router) -> usize;
}
extern "C" {
    pub fn av_router_n_models(r: *const av_router) -> usize;
}
extern "C" {
    pub fn av_router_top_p(r: *const av_router) -> usize;
}
extern "C" {
    pub fn av_router_model_name(r: *const av_router, model: usize) -> *const core::ffi::c_char;
}
extern "C" {
    pub fn av_router_model_index(r: *const av_router, name: *const core::ffi::c_char) -> i32;
}
extern "C" {
    pub fn av_router_get_centroid(
        r: *const av_router,
        cluster: usize,
        out: *mut f32,
        dim: usize,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_router_cluster_stats(
        r: *const av_router,
        cluster: usize,
        model: usize,
        count: *mut f64,
        sum_score: *mut f64,
        sum_cost: *mut f64,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_router_set_top_p(r: *mut av_router, top_p: u32) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_router_meta(
        r: *const av_router,
        key: *const core::ffi::c_char,
    ) -> *const core::ffi::c_char;
}
extern "C" {
    pub fn av_router_meta_count(r: *const av_router) -> usize;
}
extern "C" {
    pub fn av_router_meta_at(
        r: *const av_router,
        i: usize,
        key: *mut *const core::ffi::c_char,
        value: *mut *const core::ffi::c_char,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_router_set_meta(
        r: *mut av_router,
        key: *const core::ffi::c_char,
        value: *const core::ffi::c_char,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_router_from_parts(
        out: *mut *mut av_router,
        dim: usize,
        n_clusters: usize,
        n_models: usize,
        model_names: *const *const core::ffi::c_char,
        centroids: *const f32,
        counts: *const f64,
        sum_scores: *const f64,
        sum_costs: *const f64,
        top_p: u32,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_route(r: *const av_router, embedding: *const f32, dim: usize, alpha: f32) -> i32;
}
extern "C" {
    pub fn av_route_batch(
        r: *const av_router,
        embeddings: *const f32,
        n: usize,
        dim: usize,
        row_stride: usize,
        alpha: f32,
        out_models: *mut i32,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_profile_update(
        r: *mut av_router,
        embedding: *const f32,
        dim: usize,
        model: i32,
        score: f32,
        cost: f32,
    ) -> core::ffi::c_int;
}
pub const AV_CENTROIDS_F32: av_centroid_type = 0;
pub const AV_CENTROIDS_F16: av_centroid_type = 1;
pub const AV_CENTROIDS_INT8: av_centroid_type = 2;
pub type av_centroid_type = core::ffi::c_uint;
#[repr(C)]
#[derive(Debug, Copy, Clone)]
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
    pub embedder_id: *const core::ffi::c_char,
    pub progress: ::core::option::Option<
        unsafe extern "C" fn(
            user: *mut core::ffi::c_void,
            restart: u32,
            n_init: u32,
            iteration: u32,
            inertia: f64,
        ),
    >,
    pub progress_user: *mut core::ffi::c_void,
    pub tune: *mut av_tune_options,
    pub members: u32,
    pub reserved0: u32,
    pub algorithm: u32,
    pub sample_size: u32,
    pub max_passes: u32,
    pub reserved1: u32,
    pub pass_progress: ::core::option::Option<
        unsafe extern "C" fn(user: *mut core::ffi::c_void, p: *const av_fit_progress),
    >,
}
#[test]
fn bindgen_test_layout_av_fit_options() {
    assert_eq!(
        ::core::mem::size_of::<av_fit_options>(),
        104usize,
        concat!("Size of: ", stringify!(av_fit_options))
    );
    assert_eq!(
        ::core::mem::align_of::<av_fit_options>(),
        8usize,
        concat!("Alignment of ", stringify!(av_fit_options))
    );
    fn test_field_struct_size() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).struct_size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(struct_size)
            )
        );
    }
    test_field_struct_size();
    fn test_field_n_clusters() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_clusters) as usize - ptr as usize
            },
            4usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(n_clusters)
            )
        );
    }
    test_field_n_clusters();
    fn test_field_top_p() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).top_p) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(top_p)
            )
        );
    }
    test_field_top_p();
    fn test_field_n_init() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_init) as usize - ptr as usize
            },
            12usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(n_init)
            )
        );
    }
    test_field_n_init();
    fn test_field_max_iter() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).max_iter) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(max_iter)
            )
        );
    }
    test_field_max_iter();
    fn test_field_tol() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).tol) as usize - ptr as usize
            },
            20usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(tol)
            )
        );
    }
    test_field_tol();
    fn test_field_seed() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).seed) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(seed)
            )
        );
    }
    test_field_seed();
    fn test_field_centroid_type() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).centroid_type) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(centroid_type)
            )
        );
    }
    test_field_centroid_type();
    fn test_field_verbose() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).verbose) as usize - ptr as usize
            },
            36usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(verbose)
            )
        );
    }
    test_field_verbose();
    fn test_field_embedder_id() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).embedder_id) as usize - ptr as usize
            },
            40usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(embedder_id)
            )
        );
    }
    test_field_embedder_id();
    fn test_field_progress() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).progress) as usize - ptr as usize
            },
            48usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(progress)
            )
        );
    }
    test_field_progress();
    fn test_field_progress_user() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).progress_user) as usize - ptr as usize
            },
            56usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(progress_user)
            )
        );
    }
    test_field_progress_user();
    fn test_field_tune() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).tune) as usize - ptr as usize
            },
            64usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(tune)
            )
        );
    }
    test_field_tune();
    fn test_field_members() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).members) as usize - ptr as usize
            },
            72usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(members)
            )
        );
    }
    test_field_members();
    fn test_field_reserved0() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).reserved0) as usize - ptr as usize
            },
            76usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(reserved0)
            )
        );
    }
    test_field_reserved0();
    fn test_field_algorithm() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).algorithm) as usize - ptr as usize
            },
            80usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(algorithm)
            )
        );
    }
    test_field_algorithm();
    fn test_field_sample_size() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).sample_size) as usize - ptr as usize
            },
            84usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(sample_size)
            )
        );
    }
    test_field_sample_size();
    fn test_field_max_passes() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).max_passes) as usize - ptr as usize
            },
            88usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(max_passes)
            )
        );
    }
    test_field_max_passes();
    fn test_field_reserved1() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).reserved1) as usize - ptr as usize
            },
            92usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(reserved1)
            )
        );
    }
    test_field_reserved1();
    fn test_field_pass_progress() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).pass_progress) as usize - ptr as usize
            },
            96usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_options),
                "::",
                stringify!(pass_progress)
            )
        );
    }
    test_field_pass_progress();
}
impl Default for av_fit_options {
    fn default() -> Self {
        let mut s = ::core::mem::MaybeUninit::<Self>::uninit();
        unsafe {
            ::core::ptr::write_bytes(s.as_mut_ptr(), 0, 1);
            s.assume_init()
        }
    }
}
extern "C" {
    pub fn av_fit_options_init_sized(opts: *mut av_fit_options, size: usize);
}
extern "C" {
    pub fn av_builder_new(
        out: *mut *mut av_builder,
        dim: usize,
        n_models: usize,
        model_names: *const *const core::ffi::c_char,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_builder_add(
        b: *mut av_builder,
        embedding: *const f32,
        dim: usize,
        scores: *const f32,
        costs: *const f32,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_builder_n_rows(b: *const av_builder) -> usize;
}
extern "C" {
    pub fn av_builder_fit(
        b: *mut av_builder,
        opts: *const av_fit_options,
        out: *mut *mut av_router,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_builder_free(b: *mut av_builder);
}
extern "C" {
    pub fn av_builder_inertia(b: *const av_builder) -> f64;
}
extern "C" {
    pub fn av_simd_backend() -> *const core::ffi::c_char;
}
extern "C" {
    pub fn av_router_simd_backend(r: *const av_router) -> *const core::ffi::c_char;
}
extern "C" {
    pub fn av_router_centroid_type(r: *const av_router) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_router_convert(
        out: *mut *mut av_router,
        r: *const av_router,
        type_: av_centroid_type,
    ) -> core::ffi::c_int;
}
pub const AV_VALUES_F32: av_value_type = 0;
pub const AV_VALUES_F64: av_value_type = 1;
pub type av_value_type = core::ffi::c_uint;
#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct av_replay {
    pub struct_size: u32,
    pub value_type: u32,
    pub n: usize,
    pub dim: usize,
    pub row_stride: usize,
    pub embeddings: *const f32,
    pub n_models: usize,
    pub model_names: *const *const core::ffi::c_char,
    pub scores: *const core::ffi::c_void,
    pub costs: *const core::ffi::c_void,
}
#[test]
fn bindgen_test_layout_av_replay() {
    assert_eq!(
        ::core::mem::size_of::<av_replay>(),
        72usize,
        concat!("Size of: ", stringify!(av_replay))
    );
    assert_eq!(
        ::core::mem::align_of::<av_replay>(),
        8usize,
        concat!("Alignment of ", stringify!(av_replay))
    );
    fn test_field_struct_size() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_replay>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).struct_size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(av_replay),
                "::",
                stringify!(struct_size)
            )
        );
    }
    test_field_struct_size();
    fn test_field_value_type() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_replay>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).value_type) as usize - ptr as usize
            },
            4usize,
            concat!(
                "Offset of field: ",
                stringify!(av_replay),
                "::",
                stringify!(value_type)
            )
        );
    }
    test_field_value_type();
    fn test_field_n() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_replay>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(av_replay),
                "::",
                stringify!(n)
            )
        );
    }
    test_field_n();
    fn test_field_dim() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_replay>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).dim) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(av_replay),
                "::",
                stringify!(dim)
            )
        );
    }
    test_field_dim();
    fn test_field_row_stride() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_replay>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).row_stride) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(av_replay),
                "::",
                stringify!(row_stride)
            )
        );
    }
    test_field_row_stride();
    fn test_field_embeddings() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_replay>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).embeddings) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(av_replay),
                "::",
                stringify!(embeddings)
            )
        );
    }
    test_field_embeddings();
    fn test_field_n_models() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_replay>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_models) as usize - ptr as usize
            },
            40usize,
            concat!(
                "Offset of field: ",
                stringify!(av_replay),
                "::",
                stringify!(n_models)
            )
        );
    }
    test_field_n_models();
    fn test_field_model_names() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_replay>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).model_names) as usize - ptr as usize
            },
            48usize,
            concat!(
                "Offset of field: ",
                stringify!(av_replay),
                "::",
                stringify!(model_names)
            )
        );
    }
    test_field_model_names();
    fn test_field_scores() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_replay>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).scores) as usize - ptr as usize
            },
            56usize,
            concat!(
                "Offset of field: ",
                stringify!(av_replay),
                "::",
                stringify!(scores)
            )
        );
    }
    test_field_scores();
    fn test_field_costs() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_replay>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).costs) as usize - ptr as usize
            },
            64usize,
            concat!(
                "Offset of field: ",
                stringify!(av_replay),
                "::",
                stringify!(costs)
            )
        );
    }
    test_field_costs();
}
impl Default for av_replay {
    fn default() -> Self {
        let mut s = ::core::mem::MaybeUninit::<Self>::uninit();
        unsafe {
            ::core::ptr::write_bytes(s.as_mut_ptr(), 0, 1);
            s.assume_init()
        }
    }
}
extern "C" {
    pub fn av_replay_init_sized(replay: *mut av_replay, size: usize);
}
#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct av_eval_options {
    pub struct_size: u32,
    pub top_p: u32,
    pub alphas: *const f64,
    pub n_alphas: usize,
    pub target_fraction: f64,
}
#[test]
fn bindgen_test_layout_av_eval_options() {
    assert_eq!(
        ::core::mem::size_of::<av_eval_options>(),
        32usize,
        concat!("Size of: ", stringify!(av_eval_options))
    );
    assert_eq!(
        ::core::mem::align_of::<av_eval_options>(),
        8usize,
        concat!("Alignment of ", stringify!(av_eval_options))
    );
    fn test_field_struct_size() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).struct_size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_options),
                "::",
                stringify!(struct_size)
            )
        );
    }
    test_field_struct_size();
    fn test_field_top_p() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).top_p) as usize - ptr as usize
            },
            4usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_options),
                "::",
                stringify!(top_p)
            )
        );
    }
    test_field_top_p();
    fn test_field_alphas() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).alphas) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_options),
                "::",
                stringify!(alphas)
            )
        );
    }
    test_field_alphas();
    fn test_field_n_alphas() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_alphas) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_options),
                "::",
                stringify!(n_alphas)
            )
        );
    }
    test_field_n_alphas();
    fn test_field_target_fraction() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).target_fraction) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_options),
                "::",
                stringify!(target_fraction)
            )
        );
    }
    test_field_target_fraction();
}
impl Default for av_eval_options {
    fn default() -> Self {
        let mut s = ::core::mem::MaybeUninit::<Self>::uninit();
        unsafe {
            ::core::ptr::write_bytes(s.as_mut_ptr(), 0, 1);
            s.assume_init()
        }
    }
}
extern "C" {
    pub fn av_eval_options_init_sized(opts: *mut av_eval_options, size: usize);
}
#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct av_eval_result {
    _unused: [u8; 0],
}
#[repr(C)]
#[derive(Debug, Default, Copy, Clone)]
pub struct av_eval_point {
    pub struct_size: u32,
    pub alpha: f64,
    pub mean_score: f64,
    pub mean_cost: f64,
    pub total_cost: f64,
    pub n_scored: usize,
    pub n_missing: usize,
}
#[test]
fn bindgen_test_layout_av_eval_point() {
    assert_eq!(
        ::core::mem::size_of::<av_eval_point>(),
        56usize,
        concat!("Size of: ", stringify!(av_eval_point))
    );
    assert_eq!(
        ::core::mem::align_of::<av_eval_point>(),
        8usize,
        concat!("Alignment of ", stringify!(av_eval_point))
    );
    fn test_field_struct_size() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_point>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).struct_size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_point),
                "::",
                stringify!(struct_size)
            )
        );
    }
    test_field_struct_size();
    fn test_field_alpha() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_point>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).alpha) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_point),
                "::",
                stringify!(alpha)
            )
        );
    }
    test_field_alpha();
    fn test_field_mean_score() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_point>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).mean_score) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_point),
                "::",
                stringify!(mean_score)
            )
        );
    }
    test_field_mean_score();
    fn test_field_mean_cost() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_point>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).mean_cost) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_point),
                "::",
                stringify!(mean_cost)
            )
        );
    }
    test_field_mean_cost();
    fn test_field_total_cost() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_point>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).total_cost) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_point),
                "::",
                stringify!(total_cost)
            )
        );
    }
    test_field_total_cost();
    fn test_field_n_scored() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_point>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_scored) as usize - ptr as usize
            },
            40usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_point),
                "::",
                stringify!(n_scored)
            )
        );
    }
    test_field_n_scored();
    fn test_field_n_missing() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_point>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_missing) as usize - ptr as usize
            },
            48usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_point),
                "::",
                stringify!(n_missing)
            )
        );
    }
    test_field_n_missing();
}
#[repr(C)]
#[derive(Debug, Default, Copy, Clone)]
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
#[test]
fn bindgen_test_layout_av_eval_metrics() {
    assert_eq!(
        ::core::mem::size_of::<av_eval_metrics>(),
        80usize,
        concat!("Size of: ", stringify!(av_eval_metrics))
    );
    assert_eq!(
        ::core::mem::align_of::<av_eval_metrics>(),
        8usize,
        concat!("Alignment of ", stringify!(av_eval_metrics))
    );
    fn test_field_struct_size() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_metrics>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).struct_size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_metrics),
                "::",
                stringify!(struct_size)
            )
        );
    }
    test_field_struct_size();
    fn test_field_best_model() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_metrics>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).best_model) as usize - ptr as usize
            },
            4usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_metrics),
                "::",
                stringify!(best_model)
            )
        );
    }
    test_field_best_model();
    fn test_field_best_score() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_metrics>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).best_score) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_metrics),
                "::",
                stringify!(best_score)
            )
        );
    }
    test_field_best_score();
    fn test_field_best_cost() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_metrics>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).best_cost) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_metrics),
                "::",
                stringify!(best_cost)
            )
        );
    }
    test_field_best_cost();
    fn test_field_perf_gain() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_metrics>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).perf_gain) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_metrics),
                "::",
                stringify!(perf_gain)
            )
        );
    }
    test_field_perf_gain();
    fn test_field_cost_save() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_metrics>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).cost_save) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_metrics),
                "::",
                stringify!(cost_save)
            )
        );
    }
    test_field_cost_save();
    fn test_field_cost_save_at_target() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_metrics>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).cost_save_at_target) as usize - ptr as usize
            },
            40usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_metrics),
                "::",
                stringify!(cost_save_at_target)
            )
        );
    }
    test_field_cost_save_at_target();
    fn test_field_pareto_dist() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_metrics>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).pareto_dist) as usize - ptr as usize
            },
            48usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_metrics),
                "::",
                stringify!(pareto_dist)
            )
        );
    }
    test_field_pareto_dist();
    fn test_field_auc() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_metrics>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).auc) as usize - ptr as usize
            },
            56usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_metrics),
                "::",
                stringify!(auc)
            )
        );
    }
    test_field_auc();
    fn test_field_max_cost() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_metrics>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).max_cost) as usize - ptr as usize
            },
            64usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_metrics),
                "::",
                stringify!(max_cost)
            )
        );
    }
    test_field_max_cost();
    fn test_field_target_fraction() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_eval_metrics>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).target_fraction) as usize - ptr as usize
            },
            72usize,
            concat!(
                "Offset of field: ",
                stringify!(av_eval_metrics),
                "::",
                stringify!(target_fraction)
            )
        );
    }
    test_field_target_fraction();
}
extern "C" {
    pub fn av_eval_run(
        out: *mut *mut av_eval_result,
        r: *const av_router,
        replay: *const av_replay,
        opts: *const av_eval_options,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_eval_run_rows(
        out: *mut *mut av_eval_result,
        r: *const av_router,
        replay: *const av_replay,
        rows: *const usize,
        n_rows: usize,
        opts: *const av_eval_options,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_eval_subset_auc(
        auc: *mut f64,
        r: *const av_router,
        replay: *const av_replay,
        rows: *const usize,
        n_rows: usize,
        opts: *const av_eval_options,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_eval_result_free(res: *mut av_eval_result);
}
extern "C" {
    pub fn av_eval_n_rows(res: *const av_eval_result) -> usize;
}
extern "C" {
    pub fn av_eval_n_alphas(res: *const av_eval_result) -> usize;
}
extern "C" {
    pub fn av_eval_n_models(res: *const av_eval_result) -> usize;
}
extern "C" {
    pub fn av_eval_model_name(res: *const av_eval_result, model: usize)
        -> *const core::ffi::c_char;
}
extern "C" {
    pub fn av_eval_alpha(
        res: *const av_eval_result,
        i: usize,
        out: *mut av_eval_point,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_eval_alpha_share(
        res: *const av_eval_result,
        i: usize,
        model: usize,
        share: *mut f64,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_eval_model(
        res: *const av_eval_result,
        model: usize,
        out: *mut av_eval_point,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_eval_oracle(res: *const av_eval_result, out: *mut av_eval_point) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_eval_metrics_get(
        res: *const av_eval_result,
        out: *mut av_eval_metrics,
    ) -> core::ffi::c_int;
}
pub const AV_EVAL_ROUTER: av_eval_point_kind = 0;
pub const AV_EVAL_MODEL: av_eval_point_kind = 1;
pub type av_eval_point_kind = core::ffi::c_uint;
extern "C" {
    pub fn av_eval_frontier_count(res: *const av_eval_result) -> usize;
}
extern "C" {
    pub fn av_eval_frontier_at(
        res: *const av_eval_result,
        i: usize,
        kind: *mut u32,
        index: *mut usize,
    ) -> core::ffi::c_int;
}
#[repr(C)]
#[derive(Debug, Copy, Clone)]
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
    pub embedder_id: *const core::ffi::c_char,
    pub explore_seed: u64,
    pub normalisation: u32,
    pub safety: f64,
}
#[test]
fn bindgen_test_layout_av_route_options() {
    assert_eq!(
        ::core::mem::size_of::<av_route_options>(),
        112usize,
        concat!("Size of: ", stringify!(av_route_options))
    );
    assert_eq!(
        ::core::mem::align_of::<av_route_options>(),
        8usize,
        concat!("Alignment of ", stringify!(av_route_options))
    );
    fn test_field_struct_size() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).struct_size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_options),
                "::",
                stringify!(struct_size)
            )
        );
    }
    test_field_struct_size();
    fn test_field_alpha() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).alpha) as usize - ptr as usize
            },
            4usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_options),
                "::",
                stringify!(alpha)
            )
        );
    }
    test_field_alpha();
    fn test_field_top_p() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).top_p) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_options),
                "::",
                stringify!(top_p)
            )
        );
    }
    test_field_top_p();
    fn test_field_weighting() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).weighting) as usize - ptr as usize
            },
            12usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_options),
                "::",
                stringify!(weighting)
            )
        );
    }
    test_field_weighting();
    fn test_field_temperature() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).temperature) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_options),
                "::",
                stringify!(temperature)
            )
        );
    }
    test_field_temperature();
    fn test_field_kappa() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).kappa) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_options),
                "::",
                stringify!(kappa)
            )
        );
    }
    test_field_kappa();
    fn test_field_flags() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).flags) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_options),
                "::",
                stringify!(flags)
            )
        );
    }
    test_field_flags();
    fn test_field_max_expected_cost() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).max_expected_cost) as usize - ptr as usize
            },
            40usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_options),
                "::",
                stringify!(max_expected_cost)
            )
        );
    }
    test_field_max_expected_cost();
    fn test_field_min_expected_score() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).min_expected_score) as usize - ptr as usize
            },
            48usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_options),
                "::",
                stringify!(min_expected_score)
            )
        );
    }
    test_field_min_expected_score();
    fn test_field_guard_margin() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).guard_margin) as usize - ptr as usize
            },
            56usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_options),
                "::",
                stringify!(guard_margin)
            )
        );
    }
    test_field_guard_margin();
    fn test_field_model_mask() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).model_mask) as usize - ptr as usize
            },
            64usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_options),
                "::",
                stringify!(model_mask)
            )
        );
    }
    test_field_model_mask();
    fn test_field_model_mask_len() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).model_mask_len) as usize - ptr as usize
            },
            72usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_options),
                "::",
                stringify!(model_mask_len)
            )
        );
    }
    test_field_model_mask_len();
    fn test_field_embedder_id() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).embedder_id) as usize - ptr as usize
            },
            80usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_options),
                "::",
                stringify!(embedder_id)
            )
        );
    }
    test_field_embedder_id();
    fn test_field_explore_seed() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).explore_seed) as usize - ptr as usize
            },
            88usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_options),
                "::",
                stringify!(explore_seed)
            )
        );
    }
    test_field_explore_seed();
    fn test_field_normalisation() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).normalisation) as usize - ptr as usize
            },
            96usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_options),
                "::",
                stringify!(normalisation)
            )
        );
    }
    test_field_normalisation();
    fn test_field_safety() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).safety) as usize - ptr as usize
            },
            104usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_options),
                "::",
                stringify!(safety)
            )
        );
    }
    test_field_safety();
}
impl Default for av_route_options {
    fn default() -> Self {
        let mut s = ::core::mem::MaybeUninit::<Self>::uninit();
        unsafe {
            ::core::ptr::write_bytes(s.as_mut_ptr(), 0, 1);
            s.assume_init()
        }
    }
}
extern "C" {
    pub fn av_route_options_init_sized(opts: *mut av_route_options, size: usize);
}
#[repr(C)]
#[derive(Debug, Copy, Clone)]
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
    pub expected_score_se: *mut f64,
    pub baseline: i32,
    pub deviated: u32,
    pub gain: f64,
    pub gain_lcb: f64,
}
#[test]
fn bindgen_test_layout_av_route_result() {
    assert_eq!(
        ::core::mem::size_of::<av_route_result>(),
        192usize,
        concat!("Size of: ", stringify!(av_route_result))
    );
    assert_eq!(
        ::core::mem::align_of::<av_route_result>(),
        8usize,
        concat!("Alignment of ", stringify!(av_route_result))
    );
    fn test_field_struct_size() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).struct_size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(struct_size)
            )
        );
    }
    test_field_struct_size();
    fn test_field_model() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).model) as usize - ptr as usize
            },
            4usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(model)
            )
        );
    }
    test_field_model();
    fn test_field_n_models() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_models) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(n_models)
            )
        );
    }
    test_field_n_models();
    fn test_field_n_feasible() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_feasible) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(n_feasible)
            )
        );
    }
    test_field_n_feasible();
    fn test_field_ranked() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).ranked) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(ranked)
            )
        );
    }
    test_field_ranked();
    fn test_field_ranked_scores() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).ranked_scores) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(ranked_scores)
            )
        );
    }
    test_field_ranked_scores();
    fn test_field_ranked_cap() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).ranked_cap) as usize - ptr as usize
            },
            40usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(ranked_cap)
            )
        );
    }
    test_field_ranked_cap();
    fn test_field_n_ranked() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_ranked) as usize - ptr as usize
            },
            48usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(n_ranked)
            )
        );
    }
    test_field_n_ranked();
    fn test_field_model_scores() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).model_scores) as usize - ptr as usize
            },
            56usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(model_scores)
            )
        );
    }
    test_field_model_scores();
    fn test_field_expected_score() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).expected_score) as usize - ptr as usize
            },
            64usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(expected_score)
            )
        );
    }
    test_field_expected_score();
    fn test_field_expected_cost() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).expected_cost) as usize - ptr as usize
            },
            72usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(expected_cost)
            )
        );
    }
    test_field_expected_cost();
    fn test_field_models_cap() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).models_cap) as usize - ptr as usize
            },
            80usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(models_cap)
            )
        );
    }
    test_field_models_cap();
    fn test_field_clusters() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).clusters) as usize - ptr as usize
            },
            88usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(clusters)
            )
        );
    }
    test_field_clusters();
    fn test_field_cluster_sims() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).cluster_sims) as usize - ptr as usize
            },
            96usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(cluster_sims)
            )
        );
    }
    test_field_cluster_sims();
    fn test_field_cluster_weights() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).cluster_weights) as usize - ptr as usize
            },
            104usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(cluster_weights)
            )
        );
    }
    test_field_cluster_weights();
    fn test_field_cluster_support() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).cluster_support) as usize - ptr as usize
            },
            112usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(cluster_support)
            )
        );
    }
    test_field_cluster_support();
    fn test_field_clusters_cap() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).clusters_cap) as usize - ptr as usize
            },
            120usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(clusters_cap)
            )
        );
    }
    test_field_clusters_cap();
    fn test_field_n_clusters() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_clusters) as usize - ptr as usize
            },
            128usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(n_clusters)
            )
        );
    }
    test_field_n_clusters();
    fn test_field_best_similarity() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).best_similarity) as usize - ptr as usize
            },
            136usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(best_similarity)
            )
        );
    }
    test_field_best_similarity();
    fn test_field_support() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).support) as usize - ptr as usize
            },
            144usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(support)
            )
        );
    }
    test_field_support();
    fn test_field_guarded() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).guarded) as usize - ptr as usize
            },
            152usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(guarded)
            )
        );
    }
    test_field_guarded();
    fn test_field_expected_score_se() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).expected_score_se) as usize - ptr as usize
            },
            160usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(expected_score_se)
            )
        );
    }
    test_field_expected_score_se();
    fn test_field_baseline() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).baseline) as usize - ptr as usize
            },
            168usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(baseline)
            )
        );
    }
    test_field_baseline();
    fn test_field_deviated() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).deviated) as usize - ptr as usize
            },
            172usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(deviated)
            )
        );
    }
    test_field_deviated();
    fn test_field_gain() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).gain) as usize - ptr as usize
            },
            176usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(gain)
            )
        );
    }
    test_field_gain();
    fn test_field_gain_lcb() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_route_result>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).gain_lcb) as usize - ptr as usize
            },
            184usize,
            concat!(
                "Offset of field: ",
                stringify!(av_route_result),
                "::",
                stringify!(gain_lcb)
            )
        );
    }
    test_field_gain_lcb();
}
impl Default for av_route_result {
    fn default() -> Self {
        let mut s = ::core::mem::MaybeUninit::<Self>::uninit();
        unsafe {
            ::core::ptr::write_bytes(s.as_mut_ptr(), 0, 1);
            s.assume_init()
        }
    }
}
extern "C" {
    pub fn av_route_result_init_sized(res: *mut av_route_result, size: usize);
}
extern "C" {
    pub fn av_route_ex(
        r: *const av_router,
        embedding: *const f32,
        dim: usize,
        opts: *const av_route_options,
        res: *mut av_route_result,
    ) -> i32;
}
#[repr(C)]
#[derive(Debug, Default, Copy, Clone)]
pub struct av_estimator_options {
    pub struct_size: u32,
    pub kappa: f64,
    pub weighting: u32,
    pub temperature: f32,
    pub guard: u32,
    pub guard_margin: f64,
    pub normalisation: u32,
    pub safety: f64,
}
#[test]
fn bindgen_test_layout_av_estimator_options() {
    assert_eq!(
        ::core::mem::size_of::<av_estimator_options>(),
        56usize,
        concat!("Size of: ", stringify!(av_estimator_options))
    );
    assert_eq!(
        ::core::mem::align_of::<av_estimator_options>(),
        8usize,
        concat!("Alignment of ", stringify!(av_estimator_options))
    );
    fn test_field_struct_size() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_estimator_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).struct_size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(av_estimator_options),
                "::",
                stringify!(struct_size)
            )
        );
    }
    test_field_struct_size();
    fn test_field_kappa() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_estimator_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).kappa) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(av_estimator_options),
                "::",
                stringify!(kappa)
            )
        );
    }
    test_field_kappa();
    fn test_field_weighting() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_estimator_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).weighting) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(av_estimator_options),
                "::",
                stringify!(weighting)
            )
        );
    }
    test_field_weighting();
    fn test_field_temperature() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_estimator_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).temperature) as usize - ptr as usize
            },
            20usize,
            concat!(
                "Offset of field: ",
                stringify!(av_estimator_options),
                "::",
                stringify!(temperature)
            )
        );
    }
    test_field_temperature();
    fn test_field_guard() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_estimator_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).guard) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(av_estimator_options),
                "::",
                stringify!(guard)
            )
        );
    }
    test_field_guard();
    fn test_field_guard_margin() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_estimator_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).guard_margin) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(av_estimator_options),
                "::",
                stringify!(guard_margin)
            )
        );
    }
    test_field_guard_margin();
    fn test_field_normalisation() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_estimator_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).normalisation) as usize - ptr as usize
            },
            40usize,
            concat!(
                "Offset of field: ",
                stringify!(av_estimator_options),
                "::",
                stringify!(normalisation)
            )
        );
    }
    test_field_normalisation();
    fn test_field_safety() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_estimator_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).safety) as usize - ptr as usize
            },
            48usize,
            concat!(
                "Offset of field: ",
                stringify!(av_estimator_options),
                "::",
                stringify!(safety)
            )
        );
    }
    test_field_safety();
}
extern "C" {
    pub fn av_estimator_options_init_sized(opts: *mut av_estimator_options, size: usize);
}
extern "C" {
    pub fn av_router_set_estimator(
        r: *mut av_router,
        opts: *const av_estimator_options,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_router_get_estimator(
        r: *const av_router,
        opts: *mut av_estimator_options,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_router_members(r: *const av_router) -> usize;
}
#[repr(C)]
#[derive(Debug, Default, Copy, Clone)]
pub struct av_update_options {
    pub struct_size: u32,
    pub half_life: f64,
    pub top_p: u32,
    pub weighting: u32,
    pub temperature: f32,
    pub weight: f64,
}
#[test]
fn bindgen_test_layout_av_update_options() {
    assert_eq!(
        ::core::mem::size_of::<av_update_options>(),
        40usize,
        concat!("Size of: ", stringify!(av_update_options))
    );
    assert_eq!(
        ::core::mem::align_of::<av_update_options>(),
        8usize,
        concat!("Alignment of ", stringify!(av_update_options))
    );
    fn test_field_struct_size() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_update_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).struct_size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(av_update_options),
                "::",
                stringify!(struct_size)
            )
        );
    }
    test_field_struct_size();
    fn test_field_half_life() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_update_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).half_life) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(av_update_options),
                "::",
                stringify!(half_life)
            )
        );
    }
    test_field_half_life();
    fn test_field_top_p() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_update_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).top_p) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(av_update_options),
                "::",
                stringify!(top_p)
            )
        );
    }
    test_field_top_p();
    fn test_field_weighting() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_update_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).weighting) as usize - ptr as usize
            },
            20usize,
            concat!(
                "Offset of field: ",
                stringify!(av_update_options),
                "::",
                stringify!(weighting)
            )
        );
    }
    test_field_weighting();
    fn test_field_temperature() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_update_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).temperature) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(av_update_options),
                "::",
                stringify!(temperature)
            )
        );
    }
    test_field_temperature();
    fn test_field_weight() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_update_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).weight) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(av_update_options),
                "::",
                stringify!(weight)
            )
        );
    }
    test_field_weight();
}
extern "C" {
    pub fn av_update_options_init_sized(opts: *mut av_update_options, size: usize);
}
extern "C" {
    pub fn av_profile_update_ex(
        r: *mut av_router,
        embedding: *const f32,
        dim: usize,
        model: i32,
        score: f32,
        cost: f32,
        opts: *const av_update_options,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_router_add_model(
        r: *mut av_router,
        name: *const core::ffi::c_char,
        prior_score: f64,
        prior_cost: f64,
        prior_weight: f64,
    ) -> i32;
}
extern "C" {
    pub fn av_profile_merge(dst: *mut av_router, src: *const av_router) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_router_centroid_hash(r: *const av_router) -> *const core::ffi::c_char;
}
#[repr(C)]
#[derive(Debug, Default, Copy, Clone)]
pub struct av_tune_progress {
    pub struct_size: u32,
    pub stage: u32,
    pub fold: u32,
    pub n_folds: u32,
    pub n_clusters: u32,
    pub fits_done: usize,
    pub n_fits: usize,
    pub scores_done: usize,
    pub n_scores: usize,
    pub n_candidates: usize,
    pub rung: u32,
    pub n_rungs: u32,
    pub rung_rows: usize,
    pub rung_candidates: usize,
    pub seconds_elapsed: f64,
    pub seconds_left: f64,
}
#[test]
fn bindgen_test_layout_av_tune_progress() {
    assert_eq!(
        ::core::mem::size_of::<av_tune_progress>(),
        104usize,
        concat!("Size of: ", stringify!(av_tune_progress))
    );
    assert_eq!(
        ::core::mem::align_of::<av_tune_progress>(),
        8usize,
        concat!("Alignment of ", stringify!(av_tune_progress))
    );
    fn test_field_struct_size() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).struct_size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_progress),
                "::",
                stringify!(struct_size)
            )
        );
    }
    test_field_struct_size();
    fn test_field_stage() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).stage) as usize - ptr as usize
            },
            4usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_progress),
                "::",
                stringify!(stage)
            )
        );
    }
    test_field_stage();
    fn test_field_fold() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).fold) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_progress),
                "::",
                stringify!(fold)
            )
        );
    }
    test_field_fold();
    fn test_field_n_folds() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_folds) as usize - ptr as usize
            },
            12usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_progress),
                "::",
                stringify!(n_folds)
            )
        );
    }
    test_field_n_folds();
    fn test_field_n_clusters() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_clusters) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_progress),
                "::",
                stringify!(n_clusters)
            )
        );
    }
    test_field_n_clusters();
    fn test_field_fits_done() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).fits_done) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_progress),
                "::",
                stringify!(fits_done)
            )
        );
    }
    test_field_fits_done();
    fn test_field_n_fits() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_fits) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_progress),
                "::",
                stringify!(n_fits)
            )
        );
    }
    test_field_n_fits();
    fn test_field_scores_done() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).scores_done) as usize - ptr as usize
            },
            40usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_progress),
                "::",
                stringify!(scores_done)
            )
        );
    }
    test_field_scores_done();
    fn test_field_n_scores() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_scores) as usize - ptr as usize
            },
            48usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_progress),
                "::",
                stringify!(n_scores)
            )
        );
    }
    test_field_n_scores();
    fn test_field_n_candidates() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_candidates) as usize - ptr as usize
            },
            56usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_progress),
                "::",
                stringify!(n_candidates)
            )
        );
    }
    test_field_n_candidates();
    fn test_field_rung() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).rung) as usize - ptr as usize
            },
            64usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_progress),
                "::",
                stringify!(rung)
            )
        );
    }
    test_field_rung();
    fn test_field_n_rungs() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_rungs) as usize - ptr as usize
            },
            68usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_progress),
                "::",
                stringify!(n_rungs)
            )
        );
    }
    test_field_n_rungs();
    fn test_field_rung_rows() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).rung_rows) as usize - ptr as usize
            },
            72usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_progress),
                "::",
                stringify!(rung_rows)
            )
        );
    }
    test_field_rung_rows();
    fn test_field_rung_candidates() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).rung_candidates) as usize - ptr as usize
            },
            80usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_progress),
                "::",
                stringify!(rung_candidates)
            )
        );
    }
    test_field_rung_candidates();
    fn test_field_seconds_elapsed() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).seconds_elapsed) as usize - ptr as usize
            },
            88usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_progress),
                "::",
                stringify!(seconds_elapsed)
            )
        );
    }
    test_field_seconds_elapsed();
    fn test_field_seconds_left() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).seconds_left) as usize - ptr as usize
            },
            96usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_progress),
                "::",
                stringify!(seconds_left)
            )
        );
    }
    test_field_seconds_left();
}
#[repr(C)]
#[derive(Debug, Copy, Clone)]
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
    pub unused0: f64,
    pub global_normalisation: u32,
    pub members: *const u32,
    pub n_members: usize,
    pub safety: *const f64,
    pub n_safety: usize,
    pub objective: u32,
    pub reserved0: u32,
    pub target_fraction: f64,
    pub progress: ::core::option::Option<
        unsafe extern "C" fn(
            user: *mut core::ffi::c_void,
            p: *const av_tune_progress,
        ) -> core::ffi::c_int,
    >,
    pub progress_user: *mut core::ffi::c_void,
    pub halving: u32,
    pub reserved1: u32,
    pub halving_min_rows: usize,
    pub shared_clustering: u32,
    pub reserved2: u32,
}
#[test]
fn bindgen_test_layout_av_tune_options() {
    assert_eq!(
        ::core::mem::size_of::<av_tune_options>(),
        200usize,
        concat!("Size of: ", stringify!(av_tune_options))
    );
    assert_eq!(
        ::core::mem::align_of::<av_tune_options>(),
        8usize,
        concat!("Alignment of ", stringify!(av_tune_options))
    );
    fn test_field_struct_size() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).struct_size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(struct_size)
            )
        );
    }
    test_field_struct_size();
    fn test_field_n_clusters() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_clusters) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(n_clusters)
            )
        );
    }
    test_field_n_clusters();
    fn test_field_n_n_clusters() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_n_clusters) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(n_n_clusters)
            )
        );
    }
    test_field_n_n_clusters();
    fn test_field_top_p() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).top_p) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(top_p)
            )
        );
    }
    test_field_top_p();
    fn test_field_n_top_p() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_top_p) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(n_top_p)
            )
        );
    }
    test_field_n_top_p();
    fn test_field_kappa() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).kappa) as usize - ptr as usize
            },
            40usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(kappa)
            )
        );
    }
    test_field_kappa();
    fn test_field_n_kappa() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_kappa) as usize - ptr as usize
            },
            48usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(n_kappa)
            )
        );
    }
    test_field_n_kappa();
    fn test_field_temperatures() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).temperatures) as usize - ptr as usize
            },
            56usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(temperatures)
            )
        );
    }
    test_field_temperatures();
    fn test_field_n_temperatures() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_temperatures) as usize - ptr as usize
            },
            64usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(n_temperatures)
            )
        );
    }
    test_field_n_temperatures();
    fn test_field_n_folds() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_folds) as usize - ptr as usize
            },
            72usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(n_folds)
            )
        );
    }
    test_field_n_folds();
    fn test_field_n_alphas() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_alphas) as usize - ptr as usize
            },
            76usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(n_alphas)
            )
        );
    }
    test_field_n_alphas();
    fn test_field_n_init() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_init) as usize - ptr as usize
            },
            80usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(n_init)
            )
        );
    }
    test_field_n_init();
    fn test_field_guard() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).guard) as usize - ptr as usize
            },
            84usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(guard)
            )
        );
    }
    test_field_guard();
    fn test_field_guard_margin() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).guard_margin) as usize - ptr as usize
            },
            88usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(guard_margin)
            )
        );
    }
    test_field_guard_margin();
    fn test_field_unused0() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).unused0) as usize - ptr as usize
            },
            96usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(unused0)
            )
        );
    }
    test_field_unused0();
    fn test_field_global_normalisation() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).global_normalisation) as usize - ptr as usize
            },
            104usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(global_normalisation)
            )
        );
    }
    test_field_global_normalisation();
    fn test_field_members() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).members) as usize - ptr as usize
            },
            112usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(members)
            )
        );
    }
    test_field_members();
    fn test_field_n_members() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_members) as usize - ptr as usize
            },
            120usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(n_members)
            )
        );
    }
    test_field_n_members();
    fn test_field_safety() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).safety) as usize - ptr as usize
            },
            128usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(safety)
            )
        );
    }
    test_field_safety();
    fn test_field_n_safety() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_safety) as usize - ptr as usize
            },
            136usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(n_safety)
            )
        );
    }
    test_field_n_safety();
    fn test_field_objective() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).objective) as usize - ptr as usize
            },
            144usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(objective)
            )
        );
    }
    test_field_objective();
    fn test_field_reserved0() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).reserved0) as usize - ptr as usize
            },
            148usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(reserved0)
            )
        );
    }
    test_field_reserved0();
    fn test_field_target_fraction() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).target_fraction) as usize - ptr as usize
            },
            152usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(target_fraction)
            )
        );
    }
    test_field_target_fraction();
    fn test_field_progress() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).progress) as usize - ptr as usize
            },
            160usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(progress)
            )
        );
    }
    test_field_progress();
    fn test_field_progress_user() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).progress_user) as usize - ptr as usize
            },
            168usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(progress_user)
            )
        );
    }
    test_field_progress_user();
    fn test_field_halving() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).halving) as usize - ptr as usize
            },
            176usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(halving)
            )
        );
    }
    test_field_halving();
    fn test_field_reserved1() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).reserved1) as usize - ptr as usize
            },
            180usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(reserved1)
            )
        );
    }
    test_field_reserved1();
    fn test_field_halving_min_rows() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).halving_min_rows) as usize - ptr as usize
            },
            184usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(halving_min_rows)
            )
        );
    }
    test_field_halving_min_rows();
    fn test_field_shared_clustering() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).shared_clustering) as usize - ptr as usize
            },
            192usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(shared_clustering)
            )
        );
    }
    test_field_shared_clustering();
    fn test_field_reserved2() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_tune_options>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).reserved2) as usize - ptr as usize
            },
            196usize,
            concat!(
                "Offset of field: ",
                stringify!(av_tune_options),
                "::",
                stringify!(reserved2)
            )
        );
    }
    test_field_reserved2();
}
impl Default for av_tune_options {
    fn default() -> Self {
        let mut s = ::core::mem::MaybeUninit::<Self>::uninit();
        unsafe {
            ::core::ptr::write_bytes(s.as_mut_ptr(), 0, 1);
            s.assume_init()
        }
    }
}
extern "C" {
    pub fn av_tune_options_init_sized(opts: *mut av_tune_options, size: usize);
}
extern "C" {
    pub fn av_tune_options_default_grid(opts: *mut av_tune_options);
}
extern "C" {
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
    ) -> core::ffi::c_int;
}
extern "C" {
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
    ) -> core::ffi::c_int;
}
extern "C" {
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
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_router_alpha_for_share(
        r: *const av_router,
        models: *const u8,
        n_models: usize,
        share: f64,
        embeddings: *const f32,
        n: usize,
        dim: usize,
        n_grid: u32,
        alpha: *mut f32,
        achieved: *mut f64,
    ) -> core::ffi::c_int;
}
#[repr(C)]
#[derive(Debug, Default, Copy, Clone)]
pub struct av_price {
    pub struct_size: u32,
    pub unit: u32,
    pub cost_per_query: f64,
    pub input_price: f64,
    pub output_price: f64,
    pub input_tokens: f64,
    pub output_tokens: f64,
}
#[test]
fn bindgen_test_layout_av_price() {
    assert_eq!(
        ::core::mem::size_of::<av_price>(),
        48usize,
        concat!("Size of: ", stringify!(av_price))
    );
    assert_eq!(
        ::core::mem::align_of::<av_price>(),
        8usize,
        concat!("Alignment of ", stringify!(av_price))
    );
    fn test_field_struct_size() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_price>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).struct_size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(av_price),
                "::",
                stringify!(struct_size)
            )
        );
    }
    test_field_struct_size();
    fn test_field_unit() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_price>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).unit) as usize - ptr as usize
            },
            4usize,
            concat!(
                "Offset of field: ",
                stringify!(av_price),
                "::",
                stringify!(unit)
            )
        );
    }
    test_field_unit();
    fn test_field_cost_per_query() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_price>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).cost_per_query) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(av_price),
                "::",
                stringify!(cost_per_query)
            )
        );
    }
    test_field_cost_per_query();
    fn test_field_input_price() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_price>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).input_price) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(av_price),
                "::",
                stringify!(input_price)
            )
        );
    }
    test_field_input_price();
    fn test_field_output_price() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_price>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).output_price) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(av_price),
                "::",
                stringify!(output_price)
            )
        );
    }
    test_field_output_price();
    fn test_field_input_tokens() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_price>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).input_tokens) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(av_price),
                "::",
                stringify!(input_tokens)
            )
        );
    }
    test_field_input_tokens();
    fn test_field_output_tokens() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_price>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).output_tokens) as usize - ptr as usize
            },
            40usize,
            concat!(
                "Offset of field: ",
                stringify!(av_price),
                "::",
                stringify!(output_tokens)
            )
        );
    }
    test_field_output_tokens();
}
extern "C" {
    pub fn av_price_init_sized(price: *mut av_price, size: usize);
}
extern "C" {
    pub fn av_router_set_price(
        r: *mut av_router,
        model: i32,
        price: *const av_price,
        factor: *mut f64,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_router_get_price(
        r: *const av_router,
        model: i32,
        price: *mut av_price,
    ) -> core::ffi::c_int;
}
#[repr(C)]
#[derive(Debug, Default, Copy, Clone)]
pub struct av_fit_progress {
    pub struct_size: u32,
    pub stage: u32,
    pub member: u32,
    pub members: u32,
    pub pass: u32,
    pub max_passes: u32,
    pub n_rows: usize,
    pub sample_rows: usize,
    pub inertia: f64,
    pub shift: f64,
    pub shift_tol: f64,
    pub elapsed: f64,
    pub eta: f64,
    pub rows_searched: usize,
}
#[test]
fn bindgen_test_layout_av_fit_progress() {
    assert_eq!(
        ::core::mem::size_of::<av_fit_progress>(),
        88usize,
        concat!("Size of: ", stringify!(av_fit_progress))
    );
    assert_eq!(
        ::core::mem::align_of::<av_fit_progress>(),
        8usize,
        concat!("Alignment of ", stringify!(av_fit_progress))
    );
    fn test_field_struct_size() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).struct_size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_progress),
                "::",
                stringify!(struct_size)
            )
        );
    }
    test_field_struct_size();
    fn test_field_stage() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).stage) as usize - ptr as usize
            },
            4usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_progress),
                "::",
                stringify!(stage)
            )
        );
    }
    test_field_stage();
    fn test_field_member() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).member) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_progress),
                "::",
                stringify!(member)
            )
        );
    }
    test_field_member();
    fn test_field_members() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).members) as usize - ptr as usize
            },
            12usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_progress),
                "::",
                stringify!(members)
            )
        );
    }
    test_field_members();
    fn test_field_pass() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).pass) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_progress),
                "::",
                stringify!(pass)
            )
        );
    }
    test_field_pass();
    fn test_field_max_passes() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).max_passes) as usize - ptr as usize
            },
            20usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_progress),
                "::",
                stringify!(max_passes)
            )
        );
    }
    test_field_max_passes();
    fn test_field_n_rows() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_rows) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_progress),
                "::",
                stringify!(n_rows)
            )
        );
    }
    test_field_n_rows();
    fn test_field_sample_rows() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).sample_rows) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_progress),
                "::",
                stringify!(sample_rows)
            )
        );
    }
    test_field_sample_rows();
    fn test_field_inertia() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).inertia) as usize - ptr as usize
            },
            40usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_progress),
                "::",
                stringify!(inertia)
            )
        );
    }
    test_field_inertia();
    fn test_field_shift() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).shift) as usize - ptr as usize
            },
            48usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_progress),
                "::",
                stringify!(shift)
            )
        );
    }
    test_field_shift();
    fn test_field_shift_tol() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).shift_tol) as usize - ptr as usize
            },
            56usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_progress),
                "::",
                stringify!(shift_tol)
            )
        );
    }
    test_field_shift_tol();
    fn test_field_elapsed() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).elapsed) as usize - ptr as usize
            },
            64usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_progress),
                "::",
                stringify!(elapsed)
            )
        );
    }
    test_field_elapsed();
    fn test_field_eta() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).eta) as usize - ptr as usize
            },
            72usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_progress),
                "::",
                stringify!(eta)
            )
        );
    }
    test_field_eta();
    fn test_field_rows_searched() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_fit_progress>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).rows_searched) as usize - ptr as usize
            },
            80usize,
            concat!(
                "Offset of field: ",
                stringify!(av_fit_progress),
                "::",
                stringify!(rows_searched)
            )
        );
    }
    test_field_rows_searched();
}
extern "C" {
    pub fn av_kmeans_plan(
        opts: *const av_fit_options,
        n_total: usize,
        algorithm: *mut u32,
        sample_size: *mut usize,
        max_passes: *mut u32,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_kmeans_member_seed(seed: u64, member: u32) -> u64;
}
extern "C" {
    pub fn av_kmeans_sample_mask(
        seed: u64,
        n_total: usize,
        sample_size: usize,
        row0: usize,
        n: usize,
        mask: *mut u8,
        n_selected: *mut usize,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_kmeans_fit_sample(
        rows: *const f32,
        n: usize,
        dim: usize,
        opts: *const av_fit_options,
        centroids: *mut f32,
        inertia: *mut f64,
        shift_tol: *mut f64,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_kmeans_block_step(
        centroids: *const f32,
        k: usize,
        dim: usize,
        rows: *const f32,
        n: usize,
        sums: *mut i64,
        counts: *mut i64,
        inertia: *mut i64,
        labels: *mut i32,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_kmeans_finish_step(
        centroids: *mut f32,
        k: usize,
        dim: usize,
        sums: *const i64,
        counts: *const i64,
        shift: *mut f64,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_kmeans_converged(
        shift: f64,
        shift_tol: f64,
        prev_inertia: i64,
        inertia: i64,
        tol: f32,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_kmeans_parallel_cost(
        centres: *const f32,
        n_centres: usize,
        dim: usize,
        rows: *const f32,
        n: usize,
        cost: *mut i64,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_kmeans_parallel_pick(
        centres: *const f32,
        n_centres: usize,
        dim: usize,
        rows: *const f32,
        n: usize,
        row0: usize,
        seed: u64,
        round: u32,
        l: f64,
        phi: i64,
        picked: *mut u8,
        n_picked: *mut usize,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_kmeans_parallel_reduce(
        centres: *const f32,
        n_centres: usize,
        dim: usize,
        weights: *const f64,
        opts: *const av_fit_options,
        centroids: *mut f32,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_kmeans_normalize(
        rows: *const f32,
        n: usize,
        dim: usize,
        out: *mut f32,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_kmeans_stats_block(
        centroids: *const f32,
        k: usize,
        dim: usize,
        rows: *const f32,
        n: usize,
        scores: *const f32,
        costs: *const f32,
        n_models: usize,
        counts: *mut f64,
        sum_scores: *mut f64,
        sum_costs: *mut f64,
        inertia: *mut i64,
    ) -> core::ffi::c_int;
}
extern "C" {
    pub fn av_builder_add_borrowed(
        b: *mut av_builder,
        embeddings: *const f32,
        n: usize,
        dim: usize,
        scores: *const f32,
        costs: *const f32,
    ) -> core::ffi::c_int;
}
#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct av_row_source {
    pub struct_size: u32,
    pub flags: u32,
    pub n_rows: usize,
    pub dim: usize,
    pub read: ::core::option::Option<
        unsafe extern "C" fn(
            user: *mut core::ffi::c_void,
            row0: usize,
            n: usize,
            embeddings: *mut f32,
            scores: *mut f32,
            costs: *mut f32,
        ) -> core::ffi::c_int,
    >,
    pub user: *mut core::ffi::c_void,
    pub block_rows: usize,
}
#[test]
fn bindgen_test_layout_av_row_source() {
    assert_eq!(
        ::core::mem::size_of::<av_row_source>(),
        48usize,
        concat!("Size of: ", stringify!(av_row_source))
    );
    assert_eq!(
        ::core::mem::align_of::<av_row_source>(),
        8usize,
        concat!("Alignment of ", stringify!(av_row_source))
    );
    fn test_field_struct_size() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_row_source>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).struct_size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(av_row_source),
                "::",
                stringify!(struct_size)
            )
        );
    }
    test_field_struct_size();
    fn test_field_flags() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_row_source>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).flags) as usize - ptr as usize
            },
            4usize,
            concat!(
                "Offset of field: ",
                stringify!(av_row_source),
                "::",
                stringify!(flags)
            )
        );
    }
    test_field_flags();
    fn test_field_n_rows() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_row_source>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).n_rows) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(av_row_source),
                "::",
                stringify!(n_rows)
            )
        );
    }
    test_field_n_rows();
    fn test_field_dim() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_row_source>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).dim) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(av_row_source),
                "::",
                stringify!(dim)
            )
        );
    }
    test_field_dim();
    fn test_field_read() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_row_source>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).read) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(av_row_source),
                "::",
                stringify!(read)
            )
        );
    }
    test_field_read();
    fn test_field_user() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_row_source>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).user) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(av_row_source),
                "::",
                stringify!(user)
            )
        );
    }
    test_field_user();
    fn test_field_block_rows() {
        assert_eq!(
            unsafe {
                let uninit = ::core::mem::MaybeUninit::<av_row_source>::uninit();
                let ptr = uninit.as_ptr();
                ::core::ptr::addr_of!((*ptr).block_rows) as usize - ptr as usize
            },
            40usize,
            concat!(
                "Offset of field: ",
                stringify!(av_row_source),
                "::",
                stringify!(block_rows)
            )
        );
    }
    test_field_block_rows();
}
impl Default for av_row_source {
    fn default() -> Self {
        let mut s = ::core::mem::MaybeUninit::<Self>::uninit();
        unsafe {
            ::core::ptr::write_bytes(s.as_mut_ptr(), 0, 1);
            s.assume_init()
        }
    }
}
extern "C" {
    pub fn av_row_source_init_sized(src: *mut av_row_source, size: usize);
}
extern "C" {
    pub fn av_builder_add_source(b: *mut av_builder, src: *const av_row_source)
        -> core::ffi::c_int;
}
extern "C" {
    pub fn av_router_load_mapped(
        out: *mut *mut av_router,
        path: *const core::ffi::c_char,
    ) -> core::ffi::c_int;
}
