//! Route the rows of a .npy file (float32, n x dim, C order) with a saved router and print the
//! chosen model's name for each row.
//!
//!     cargo run --offline --release -p avengers-route-example -- router.avr emb.npy [alpha] [max_rows]
use std::process::ExitCode;

/// A minimal .npy reader: format 1.x, dtype '<f4', C order, 2-D. Returns (data, rows, cols).
fn read_npy(path: &str) -> Result<(Vec<f32>, usize, usize), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    if bytes.len() < 10 || &bytes[..7] != b"\x93NUMPY\x01" {
        return Err(format!("{path}: not a .npy file"));
    }
    let hlen = bytes[8] as usize | (bytes[9] as usize) << 8;
    let header = std::str::from_utf8(bytes.get(10..10 + hlen).ok_or("truncated header")?).map_err(|e| e.to_string())?;
    if !header.contains("'<f4'") || !header.contains("'fortran_order': False") {
        return Err(format!("{path}: not float32 in C order"));
    }
    let shape = header.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).ok_or("no shape")?;
    let dims: Vec<usize> = shape.split(',').filter_map(|t| t.trim().parse().ok()).collect();
    let [rows, cols] = dims[..] else { return Err(format!("{path}: not 2-D")) };
    let body = &bytes[10 + hlen..];
    if body.len() < rows * cols * 4 {
        return Err(format!("{path}: truncated data"));
    }
    let data = body.chunks_exact(4).take(rows * cols).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    Ok((data, rows, cols))
}

fn run(args: &[String]) -> Result<(), String> {
    let router = avengers::Router::load(&args[1]).map_err(|e| e.to_string())?;
    let alpha: f32 = args.get(3).map_or(Ok(0.5), |a| a.parse()).map_err(|_| "bad alpha")?;
    let (data, rows, cols) = read_npy(&args[2])?;
    let n = args.get(4).and_then(|a| a.parse().ok()).map_or(rows, |m: usize| m.min(rows));
    if cols != router.dim() {
        return Err(format!("the .npy has {cols} columns, the router {}", router.dim()));
    }
    let picks = router.route_batch(&data[..n * cols], alpha).map_err(|e| e.to_string())?;
    let names = router.models();
    for (i, m) in picks.iter().enumerate() {
        println!("{i}\t{}", names[*m]);
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: {} router.avr embeddings.npy [alpha] [max_rows]", args[0]);
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
