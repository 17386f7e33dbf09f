//! No input makes a parser panic: every sample file truncated at ~200 evenly spaced lengths
//! and at every length below 600 bytes, and thousands of deterministic byte mutations
//! (xorshift), all return `Ok` or `Err`. Inputs found by the fuzzers are kept at the end.

use std::path::PathBuf;

use chevet_ecg::read;

fn data(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/ecg")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// (file, name given to `read`, mutations)
const FILES: [(&str, &str, usize); 7] = [
    ("scp/Example.scp", "Example.scp", 200),
    ("scp/62.SCP", "62.SCP", 1000),
    ("dicom/waveform_ecg.dcm", "waveform_ecg.dcm", 50),
    ("other/0000050.ECG.edf", "0000050.ECG.edf", 20),
    ("other/0000037.ECG", "0000037.ECG", 200),
    ("aecg/Example aECG.xml", "Example aECG.xml", 20),
    ("wfdb/ptb/s0010_re.hea", "s0010_re.hea", 1000),
];

fn lengths(n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n.min(600)).collect();
    v.extend((0..=200).map(|k| n * k / 200));
    v.sort_unstable();
    v.dedup();
    v
}

fn mutate(bytes: &[u8], rng: &mut XorShift) -> Vec<u8> {
    let mut m = bytes.to_vec();
    let n = 1 + (rng.next() % 4) as usize;
    for _ in 0..n {
        let i = (rng.next() % m.len().max(1) as u64) as usize;
        let Some(b) = m.get_mut(i) else { break };
        *b = match rng.next() % 4 {
            0 => rng.next() as u8,
            1 => *b ^ (1 << (rng.next() % 8)),
            2 => 0xFF,
            _ => 0,
        };
    }
    m
}

#[test]
fn truncations_and_mutations_never_panic() {
    let start = std::time::Instant::now();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for (file, name, mutations) in FILES {
        let bytes = data(file);
        let t = std::time::Instant::now();
        // Signal files cut short: the full ones are decoded in tests/formats.rs.
        let dat = data("wfdb/ptb/s0010_re.dat")[..30_000].to_vec();
        let xyz = data("wfdb/ptb/s0010_re.xyz")[..30_000].to_vec();
        let companion = |n: &str| -> Option<Vec<u8>> {
            match n {
                "s0010_re.dat" => Some(dat.clone()),
                "s0010_re.xyz" => Some(xyz.clone()),
                _ => None,
            }
        };
        for (k, len) in lengths(bytes.len()).into_iter().enumerate() {
            // Alternately with and without a file name (content sniffing alone).
            let name = (k % 2 == 0).then_some(name);
            let _ = read(&bytes[..len], name, &companion);
        }
        for _ in 0..mutations {
            let _ = read(&mutate(&bytes, &mut rng), Some(name), &companion);
        }
        eprintln!("{file}: {:?}", t.elapsed());
    }
    eprintln!("no_panic: {:?}", start.elapsed());
}

/// WFDB signal files: the header is fixed, the `.dat` is cut or mutated.
#[test]
fn wfdb_signal_files_never_panic() {
    let hea = data("wfdb/mitdb/100.hea");
    let dat = data("wfdb/mitdb/100.dat");
    let small_hea = b"100 2 360 5000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n100.dat 212 200 11 1024 1011 20052 0 V5\n";
    for len in lengths(dat.len()) {
        let cut = &dat[..len];
        assert!(read(&hea, Some("100.hea"), &|_| Some(cut.to_vec())).is_err() || len == dat.len());
    }
    let mut rng = XorShift(42);
    let head = &dat[..15_000];
    for fmt in [
        "8", "16", "24", "32", "61", "80", "160", "212", "310", "311", "16+7", "212+3000",
    ] {
        let h = String::from_utf8_lossy(small_hea).replace(" 212 ", &format!(" {fmt} "));
        for _ in 0..100 {
            let m = mutate(head, &mut rng);
            let cut = (rng.next() % m.len() as u64) as usize;
            let _ = read(h.as_bytes(), Some("100.hea"), &|_| Some(m[..cut].to_vec()));
        }
        let mh = mutate(h.as_bytes(), &mut rng);
        let _ = read(&mh, Some("100.hea"), &|_| Some(head.to_vec()));
    }
}

/// Headers that declare absurd sizes must not allocate them.
#[test]
fn absurd_declared_sizes() {
    let hea = b"r 2 360 1000000000000\nr.dat 16 200 16 0 0 0 0 I\nr.dat 16 200 16 0 0 0 0 II\n";
    let e = read(hea, Some("r.hea"), &|_| Some(vec![0; 64])).unwrap_err();
    assert!(e.message.contains("truncated"), "{e}");
    let hea = b"r 99999999999 360\n";
    assert!(read(hea, Some("r.hea"), &|_| None).is_err());
    let mut edf = data("other/0000050.ECG.edf");
    edf.truncate(5000);
    edf[236..244].copy_from_slice(b"99999999");
    assert!(read(&edf, None, &|_| None).is_err());
}

/// Inputs that crashed a fuzzer once (see fuzz/README.md).
#[test]
fn fuzz_regressions() {
    // dicom: an element header declaring 3.7 GB made dicom-rs allocate it (fixed by the
    // length walk in formats/dicom.rs).
    // dicom: the same behind a stray item delimiter at the top level, where the length
    // walk used to stop.
    let cases: &[&[u8]] = &[
        include_bytes!("fuzz_regressions/dicom-oom-1.dcm"),
        include_bytes!("fuzz_regressions/dicom-oom-2.dcm"),
        // a sequence delimiter declaring 0xFF000000 bytes
        include_bytes!("fuzz_regressions/dicom-oom-3.dcm"),
    ];
    for c in cases {
        let r = read(c, None, &|_| None);
        assert!(r.is_err(), "{r:?}");
    }
    // dicom: a corrupted VR (byte 4380 of the sample, "US" -> "\xD5S") kept dicom-rs busy
    // for a minute in a debug build; the length walk now refuses unknown VRs.
    let mut dcm = data("dicom/waveform_ecg.dcm");
    dcm[4380] = 0xD5;
    let t = std::time::Instant::now();
    let e = read(&dcm, None, &|_| None).unwrap_err();
    assert!(e.message.contains("invalid VR"), "{e}");
    assert_eq!(e.at.as_deref(), Some("byte 4380"), "{e}");
    assert!(t.elapsed().as_secs() < 2);
}
