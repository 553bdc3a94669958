//! Finds libavengers and links it. The directory, in order:
//! 1. `AVENGERS_LIB_DIR`: a directory holding libavengers.a / libavengers.so;
//! 2. the checkout's `lib/` (this crate lives in bindings/rust/avengers-sys), when it holds the
//!    library and `AVENGERS_USE_PKG_CONFIG` is not set;
//! 3. `pkg-config --variable=libdir avengers` (an installed prefix; honours PKG_CONFIG_PATH).
//!
//! How, like zstd-sys and libz-sys: by default the static `libavengers.a` is linked into the final
//! program, with the libraries it needs (cblas from `pkg-config openblas`, zlib, pthread, libm)
//! linked dynamically from the system; so a crate that only depends on `avengers` builds and runs
//! with no rpath and no LD_LIBRARY_PATH. The `dynamic` feature (or `AVENGERS_LINK=dynamic`) links
//! `libavengers.so` instead: this package's own tests and binaries get an rpath to it, and the
//! directory is exported to dependents' build scripts as DEP_AVENGERS_LIB_DIR (cargo applies a
//! build script's link arguments to its own package only); other programs find it through the
//! system loader (an ldconfig'ed prefix), an rpath of their own, or LD_LIBRARY_PATH.
//! `AVENGERS_LINK=static` forces static linking (an error when there is no libavengers.a).
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn pkg_config(args: &[&str]) -> Option<String> {
    let out = Command::new(env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into()))
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn find_dir() -> PathBuf {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let in_tree = manifest.join("../../../lib");
    if let Ok(d) = env::var("AVENGERS_LIB_DIR") {
        return PathBuf::from(d);
    }
    if env::var_os("AVENGERS_USE_PKG_CONFIG").is_none()
        && (in_tree.join("libavengers.so").exists() || in_tree.join("libavengers.a").exists())
    {
        return in_tree.canonicalize().unwrap_or(in_tree);
    }
    if let Some(d) = pkg_config(&["--variable=libdir", "avengers"]).filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    panic!(
        "libavengers not found: run `make` in the libavengers checkout, or set AVENGERS_LIB_DIR to \
         the directory of libavengers.a / libavengers.so, or make `pkg-config avengers` work \
         (PKG_CONFIG_PATH=<prefix>/lib/pkgconfig)"
    );
}

/// The libraries libavengers.a needs, linked dynamically: `pkg-config --libs openblas zlib` when it
/// answers (Debian's openblas lives in a directory of its own), else -lopenblas -lz.
fn link_dependencies() {
    let libs = pkg_config(&["--libs", "openblas", "zlib"]).unwrap_or_else(|| "-lopenblas -lz".into());
    for w in libs.split_whitespace() {
        if let Some(d) = w.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={d}");
        } else if let Some(l) = w.strip_prefix("-l") {
            println!("cargo:rustc-link-lib=dylib={l}");
        }
    }
    println!("cargo:rustc-link-lib=dylib=pthread");
    println!("cargo:rustc-link-lib=dylib=m");
}

fn main() {
    for v in ["AVENGERS_LIB_DIR", "AVENGERS_USE_PKG_CONFIG", "AVENGERS_LINK", "PKG_CONFIG_PATH"] {
        println!("cargo:rerun-if-env-changed={v}");
    }
    let dir = find_dir();
    let link = env::var("AVENGERS_LINK").ok();
    let dynamic = match link.as_deref() {
        Some("dynamic") => true,
        Some("static") => false,
        Some(other) => panic!("AVENGERS_LINK={other}: use static or dynamic"),
        None => env::var_os("CARGO_FEATURE_DYNAMIC").is_some() || !dir.join("libavengers.a").exists(),
    };
    let file = if dynamic { "libavengers.so" } else { "libavengers.a" };
    if !dir.join(file).exists() {
        panic!("{} not found in {} (AVENGERS_LINK, feature `dynamic`)", file, dir.display());
    }
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rerun-if-changed={}", dir.join(file).display());
    if dynamic {
        println!("cargo:rustc-link-lib=dylib=avengers");
        if dir != Path::new("") {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
        }
        println!("cargo:lib_dir={}", dir.display());
    } else {
        println!("cargo:rustc-link-lib=static=avengers");
        link_dependencies();
        println!("cargo:lib_dir=");
    }
}
