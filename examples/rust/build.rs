// Embed the rpath of the libavengers that avengers-sys linked (cargo applies link arguments only
// to the package whose build script prints them).
fn main() {
    if let Ok(dir) = std::env::var("DEP_AVENGERS_LIB_DIR") {
        if !dir.is_empty() {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        }
    }
}
