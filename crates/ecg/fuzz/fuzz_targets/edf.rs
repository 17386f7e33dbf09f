//! Fuzzes the edf reader with arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = chevet_ecg::formats::edf::parse(data);
});
