//! Raw declarations of the libavengers C API (`include/avengers/avengers.h`), generated from the
//! header by Debian's `bindgen` into `bindings.rs` (with `AV_STATIC_LINKING_ONLY`, so the
//! experimental tuning and budget interfaces are declared too; allowlisted to `av_*`/`AV_*`).
//! Do not edit `bindings.rs`: regenerate it with `make bindings` (tools/gen_bindings.py);
//! `make check-rust` fails when it no longer matches the header. See docs/API.md for the
//! semantics, and use the `avengers` crate for a safe interface.
//!
//! Extensible structs (first field `struct_size`) are initialised with `av_*_init_sized(p,
//! size_of::<T>())`, the function the header's `av_*_init` macros call. The exported 0.x
//! functions `av_*_init` are not declared here: they write the 0.1.0 layout, so members appended
//! since would be ignored.
#![allow(non_camel_case_types, non_upper_case_globals, non_snake_case)]
#![no_std]

include!("bindings.rs");

/// The progress callback of `av_fit_options`.
pub type av_progress_fn = Option<
    unsafe extern "C" fn(user: *mut core::ffi::c_void, restart: u32, n_init: u32, iteration: u32, inertia: f64),
>;

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use core::ffi::c_char;
    use core::mem::{size_of, MaybeUninit};

    #[test]
    fn fit_options_defaults_through_the_sized_init() {
        let mut o = MaybeUninit::<av_fit_options>::zeroed();
        unsafe { av_fit_options_init_sized(o.as_mut_ptr(), size_of::<av_fit_options>()) };
        let o = unsafe { o.assume_init() };
        assert_eq!(o.struct_size as usize, size_of::<av_fit_options>());
        assert_eq!((o.n_clusters, o.top_p, o.n_init, o.max_iter, o.seed), (60, 4, 10, 300, 42));
        // the member appended in 0.2 is written too (the 0.x av_fit_options_init would not)
        assert_eq!(o.members, 1);
        assert!(o.tune.is_null());
        let _: av_progress_fn = o.progress;
    }

    #[test]
    fn tune_options_members_fields() {
        let mut t = MaybeUninit::<av_tune_options>::zeroed();
        unsafe { av_tune_options_init_sized(t.as_mut_ptr(), size_of::<av_tune_options>()) };
        let mut t = unsafe { t.assume_init() };
        assert_eq!(t.struct_size as usize, size_of::<av_tune_options>());
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

    /// The sized init writes exactly the caller's size: struct_size is ours and not one byte
    /// past the struct is touched (the guard after it stays intact).
    #[test]
    fn sized_init_keeps_to_the_callers_size() {
        macro_rules! sized_check {
            ($t:ty, $init:ident) => {{
                let n = size_of::<$t>();
                let mut scratch = [0xA5u8; 4096];
                unsafe { $init(scratch.as_mut_ptr() as *mut $t, n) };
                let size = u32::from_ne_bytes([scratch[0], scratch[1], scratch[2], scratch[3]]);
                assert_eq!(size as usize, n, stringify!($t));
                assert!(scratch[n..].iter().all(|&b| b == 0xA5), "{} wrote past its size", stringify!($init));
            }};
        }
        sized_check!(av_fit_options, av_fit_options_init_sized);
        sized_check!(av_replay, av_replay_init_sized);
        sized_check!(av_eval_options, av_eval_options_init_sized);
        sized_check!(av_route_options, av_route_options_init_sized);
        sized_check!(av_route_result, av_route_result_init_sized);
        sized_check!(av_estimator_options, av_estimator_options_init_sized);
        sized_check!(av_tune_options, av_tune_options_init_sized);
        sized_check!(av_update_options, av_update_options_init_sized);
    }

    #[test]
    fn version_matches() {
        let v = unsafe { av_version_number() };
        assert_eq!(v, AV_VERSION_MAJOR * 10000 + AV_VERSION_MINOR * 100 + AV_VERSION_PATCH);
        assert_eq!(v, AV_VERSION_NUMBER);
    }
}
