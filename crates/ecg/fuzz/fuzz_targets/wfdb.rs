//! Fuzzes the WFDB reader: the input is split at the first NUL byte into a header and the
//! content of every signal file it names.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (header, signal) = match data.iter().position(|&b| b == 0) {
        Some(p) => (&data[..p], &data[p + 1..]),
        None => (data, &[][..]),
    };
    let _ = chevet_ecg::formats::wfdb::parse(header, &|_| Some(signal.to_vec()));
});
