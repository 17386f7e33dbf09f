//! Time of `chevet_letter::pdf` (and of the other forms) for the sample letter with a 10 s
//! 12-lead ECG (PTB s0010_re cut to 10 s): median and p95 of 50 runs after 3 warm-up runs.
//! `cargo bench -p chevet-letter`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

fn stats(name: &str, mut f: impl FnMut() -> usize) {
    for _ in 0..3 {
        std::hint::black_box(f());
    }
    let mut times: Vec<Duration> = (0..50)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let size = f();
    println!(
        "{name:<28} median {:>7.2} ms   p95 {:>7.2} ms   max {:>7.2} ms   ({size} bytes)",
        ms(times[times.len() / 2]),
        ms(times[(times.len() * 95).div_ceil(100) - 1]),
        ms(times[times.len() - 1]),
    );
}

fn main() {
    let letter = common::sample_with_ecg();
    let ecg = letter.ecgs[0].signal.as_ref().expect("a signal");
    println!(
        "sample letter + ECG: {} leads x {} samples at {} Hz ({} s); 50 runs each",
        ecg.leads.len(),
        ecg.len(),
        ecg.sampling_hz,
        ecg.duration_s()
    );
    stats("pdf (letter + ECG pages)", || {
        chevet_letter::pdf(&letter).map(|p| p.len()).unwrap_or(0)
    });
    let pdf = chevet_letter::pdf(&letter).expect("pdf");
    stats("fhir_json", || {
        chevet_letter::fhir_json(&letter, &pdf)
            .map(|s| s.len())
            .unwrap_or(0)
    });
    stats("cda", || {
        chevet_letter::cda(&letter, &pdf)
            .map(|s| s.len())
            .unwrap_or(0)
    });
    let cda = chevet_letter::cda(&letter, &pdf).expect("cda");
    stats("xdm", || {
        chevet_letter::xdm(&letter, &cda)
            .map(|z| z.len())
            .unwrap_or(0)
    });
    stats("all four forms", || {
        chevet_letter::all(&letter)
            .map(|f| f.pdf.len())
            .unwrap_or(0)
    });
}
