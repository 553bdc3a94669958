// Embed the rpath of the libavengers that avengers-sys linked, so this crate's tests run as they
// are (cargo only applies a build script's link arguments to its own package).
fn main() {
    if let Ok(dir) = std::env::var("DEP_AVENGERS_LIB_DIR") {
        if !dir.is_empty() {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
    }
}
