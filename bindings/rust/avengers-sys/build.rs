//! Finds libavengers and links it dynamically. In order:
//! 1. `AVENGERS_LIB_DIR`: a directory holding libavengers.so;
//! 2. the checkout's `lib/` (this crate lives in bindings/rust/avengers-sys), when it holds the
//!    library and `AVENGERS_USE_PKG_CONFIG` is not set;
//! 3. `pkg-config --libs-only-L avengers` (an installed prefix; honours PKG_CONFIG_PATH).
//!
//! The directory is also embedded as an rpath and exported to dependents' build scripts as
//! DEP_AVENGERS_LIB_DIR, so tests and binaries run without LD_LIBRARY_PATH.
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn from_pkg_config() -> Option<PathBuf> {
    let out = Command::new(env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into()))
        .args(["--libs-only-L", "avengers"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let dir = text.split_whitespace().find_map(|w| w.strip_prefix("-L")).map(PathBuf::from);
    // a prefix whose libdir is on the default search path prints no -L at all
    dir.or_else(|| Some(PathBuf::new()))
}

fn main() {
    println!("cargo:rerun-if-env-changed=AVENGERS_LIB_DIR");
    println!("cargo:rerun-if-env-changed=AVENGERS_USE_PKG_CONFIG");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let in_tree = manifest.join("../../../lib");
    let dir = if let Ok(d) = env::var("AVENGERS_LIB_DIR") {
        PathBuf::from(d)
    } else if env::var_os("AVENGERS_USE_PKG_CONFIG").is_none()
        && in_tree.join("libavengers.so").exists()
    {
        in_tree.canonicalize().unwrap_or(in_tree)
    } else if let Some(d) = from_pkg_config() {
        d
    } else {
        panic!(
            "libavengers not found: run `make` in the repository, or set AVENGERS_LIB_DIR to the \
             directory of libavengers.so, or make `pkg-config avengers` work (PKG_CONFIG_PATH)"
        );
    };
    if dir != Path::new("") {
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
        println!("cargo:rerun-if-changed={}", dir.join("libavengers.so").display());
    }
    println!("cargo:rustc-link-lib=dylib=avengers");
    println!("cargo:lib_dir={}", dir.display());
}
