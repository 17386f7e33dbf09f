//! Evaluates the beat detector on the MIT-BIH records of a folder against their reference
//! annotations and prints a markdown table (whole records, 150 ms matching window).
//!
//! `cargo run --release -p chevet-ecg --example detector_table -- /path/to/mitdb [--lead N]`

use chevet_ecg::annotations::{beat_samples, read_annotations};
use chevet_ecg::detect::{detect_beats, detect_in_lead};
use chevet_ecg::score::score;
use chevet_ecg::{read_path, Recording};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(args.first().map(String::as_str).unwrap_or("."));
    // `--lead N`: detect in that lead alone instead of the fused detector (diagnostics).
    let lead: Option<usize> = args
        .iter()
        .position(|a| a == "--lead")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok());
    let mut records: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "hea"))
            .filter(|p| p.with_extension("atr").is_file())
            .collect(),
        Err(e) => {
            eprintln!("cannot list {}: {e}", dir.display());
            std::process::exit(2);
        }
    };
    records.sort();
    println!("| record | reference beats | detected | TP | FP | FN | Se % | +P % | run time |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for hea in records {
        let name = hea
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ecg = match read_path(&hea) {
            Ok(Recording::Signal(ecg)) => ecg,
            Ok(_) => continue,
            Err(e) => {
                eprintln!("{name}: {e}");
                continue;
            }
        };
        let reference = match std::fs::read(hea.with_extension("atr"))
            .map_err(|e| e.to_string())
            .and_then(|b| read_annotations(&b).map_err(|e| e.to_string()))
        {
            Ok(a) => beat_samples(&a),
            Err(e) => {
                eprintln!("{name}: {e}");
                continue;
            }
        };
        let t0 = Instant::now();
        let detected: Vec<u64> = match lead.and_then(|i| ecg.leads.get(i)) {
            Some(l) => detect_in_lead(&l.millivolts(), ecg.sampling_hz),
            None => detect_beats(&ecg).samples,
        }
        .into_iter()
        .map(|s| s as u64)
        .collect();
        let elapsed = t0.elapsed();
        let window = (0.15 * ecg.sampling_hz).round() as u64;
        let s = score(&reference, &detected, window);
        if args.iter().any(|a| a == "--misses") {
            // Diagnostics: times (s) of references with no detection near and vice versa.
            let near = |x: u64, set: &[u64]| set.iter().any(|&y| x.abs_diff(y) <= window);
            let t = |x: u64| format!("{:.1}", x as f64 / ecg.sampling_hz);
            let fns: Vec<String> = reference
                .iter()
                .filter(|&&r| !near(r, &detected))
                .map(|&r| t(r))
                .collect();
            let fps: Vec<String> = detected
                .iter()
                .filter(|&&d| !near(d, &reference))
                .map(|&d| t(d))
                .collect();
            eprintln!("{name} FN at {}", fns.join(" "));
            eprintln!("{name} FP at {}", fps.join(" "));
        }
        tp += s.tp;
        fp += s.fp;
        fn_ += s.fn_;
        println!(
            "| {name} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.0} ms |",
            reference.len(),
            detected.len(),
            s.tp,
            s.fp,
            s.fn_,
            100.0 * s.sensitivity,
            100.0 * s.ppv,
            elapsed.as_secs_f64() * 1000.0
        );
    }
    let pct = |a: usize, b: usize| {
        if b == 0 {
            100.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    println!(
        "| total | {} | {} | {tp} | {fp} | {fn_} | {:.2} | {:.2} | |",
        tp + fn_,
        tp + fp,
        pct(tp, tp + fn_),
        pct(tp, tp + fp)
    );
}
