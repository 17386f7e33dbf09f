//! Every sample file in `shared/data/ecg` reads with the right format, leads, rate, length,
//! metadata and sample values. Reference values were computed once with independent readers
//! (named beside each block) and are hard-coded here: these tests never call Python.

use std::path::PathBuf;

use chevet_ecg::{read, read_path, sniff, Ecg, Format, Recording};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/ecg")
        .join(rel)
}

fn signal(rel: &str) -> Ecg {
    match read_path(&data(rel)) {
        Ok(Recording::Signal(e)) => e,
        Ok(other) => panic!("{rel}: not a signal: {other:?}"),
        Err(e) => panic!("{rel}: {e}"),
    }
}

fn names(e: &Ecg) -> Vec<&str> {
    e.leads.iter().map(|l| l.name.as_str()).collect()
}

fn sum(e: &Ecg, lead: &str) -> i64 {
    e.lead(lead)
        .unwrap()
        .samples
        .iter()
        .map(|&v| i64::from(v))
        .sum()
}

fn at(e: &Ecg, i: usize) -> Vec<i32> {
    e.leads.iter().map(|l| l.samples[i]).collect()
}

// ---------------------------------------------------------------- WFDB
// Reference: wfdb-python 4.3.1, `wfdb.rdrecord(rec, physical=False)`, d_signal - baseline.

#[test]
fn wfdb_mitdb() {
    // (record, lead 2 name, sample 0, sample 1000, sample 123456, last sample, sums)
    type Case = (
        &'static str,
        &'static str,
        [i32; 2],
        [i32; 2],
        [i32; 2],
        [i32; 2],
        [i64; 2],
    );
    let cases: [Case; 3] = [
        (
            "100",
            "V5",
            [-29, -13],
            [-79, -54],
            [-95, -86],
            [-256, 0],
            [-39818867, -24834476],
        ),
        (
            "105",
            "V1",
            [-89, 52],
            [-100, 31],
            [-53, 54],
            [256, 0],
            [-29270119, 10519347],
        ),
        (
            "208",
            "V1",
            [-21, 38],
            [-72, 50],
            [5, 23],
            [0, 0],
            [-21504118, 7213225],
        ),
    ];
    for (rec, second, s0, s1000, s123456, last, sums) in cases {
        let e = signal(&format!("wfdb/mitdb/{rec}.hea"));
        assert_eq!(e.format, Format::Wfdb);
        assert_eq!(names(&e), ["MLII", second], "{rec}");
        assert_eq!(e.sampling_hz, 360.0);
        assert_eq!(e.len(), 650_000);
        assert!(e.leads.iter().all(|l| l.samples.len() == 650_000));
        assert!((e.duration_s() - 1805.555).abs() < 0.01);
        assert_eq!(at(&e, 0), s0, "{rec}");
        assert_eq!(at(&e, 1000), s1000, "{rec}");
        assert_eq!(at(&e, 123_456), s123456, "{rec}");
        assert_eq!(at(&e, 649_999), last, "{rec}");
        assert_eq!(sum(&e, "MLII"), sums[0], "{rec}");
        assert_eq!(sum(&e, second), sums[1], "{rec}");
        assert!(e.leads.iter().all(|l| (l.uv_per_unit - 5.0).abs() < 1e-12));
        assert_eq!(e.acquired_at, None);
    }
}

#[test]
fn wfdb_ptb_two_files() {
    let e = signal("wfdb/ptb/s0010_re.hea");
    assert_eq!(
        names(&e),
        [
            "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6", "vx", "vy",
            "vz"
        ]
    );
    assert_eq!(e.sampling_hz, 1000.0);
    assert_eq!(e.len(), 38_400);
    assert!((e.duration_s() - 38.4).abs() < 1e-9);
    assert!(e.leads.iter().all(|l| (l.uv_per_unit - 0.5).abs() < 1e-12));
    assert_eq!(
        at(&e, 0),
        [-489, -458, 31, 474, -260, -214, -88, -241, -112, 212, 393, 390, -3, 120, -18]
    );
    assert_eq!(
        at(&e, 1000),
        [-211, -513, -302, 362, 46, -408, 307, 410, 458, 319, 200, 125, -57, -64, -129]
    );
    assert_eq!(
        at(&e, 38_399),
        [270, 517, 249, -394, 11, 383, -184, 164, 118, -168, -249, -333, 162, 98, 58]
    );
    let sums: Vec<i64> = e
        .leads
        .iter()
        .map(|l| l.samples.iter().map(|&v| i64::from(v)).sum())
        .collect();
    assert_eq!(
        sums,
        [
            -8337, -16369, 6829, 4582, 11687, -16657, -12469, 5636, -14299, -17916, -6668, -17545,
            -13009, 7109, -1992
        ]
    );
}

#[test]
fn wfdb_header_public() {
    let text = std::fs::read_to_string(data("wfdb/mitdb/100.hea")).unwrap();
    let h = chevet_ecg::formats::wfdb::parse_header(&text).unwrap();
    assert_eq!(h.record, "100");
    assert_eq!(h.n_samples, Some(650_000));
    assert_eq!(h.sampling_hz, 360.0);
    assert_eq!(h.signals.len(), 2);
    assert_eq!(h.signals[1].description, "V5");
    assert_eq!(h.comments[0], "unnecessary comment");
}

#[test]
fn sniff_by_content_then_name() {
    let hea = std::fs::read(data("wfdb/mitdb/100.hea")).unwrap();
    assert_eq!(sniff(&hea, None), Some(Format::Wfdb));
    assert_eq!(sniff(b"%PDF-1.4\n", Some("x.bin")), Some(Format::Pdf));
    assert_eq!(sniff(b"\x01\x02", Some("x.EDF")), Some(Format::Edf));
    assert_eq!(sniff(b"\x01\x02", Some("x.bin")), None);
    assert!(read(b"\x01\x02", None, &|_| None).is_err());
}

// ---------------------------------------------------------------- error messages

#[test]
fn error_truncated_dat() {
    let hea = std::fs::read(data("wfdb/mitdb/100.hea")).unwrap();
    let dat = std::fs::read(data("wfdb/mitdb/100.dat")).unwrap();
    let cut = dat[..1000].to_vec();
    let e = read(&hea, Some("100.hea"), &|n| {
        (n == "100.dat").then(|| cut.clone())
    })
    .unwrap_err();
    assert_eq!(e.format, Some(Format::Wfdb));
    assert!(e.message.contains("truncated"), "{e}");
    assert_eq!(e.at.as_deref(), Some("100.dat byte 1000"), "{e}");
    let e = read(&hea, Some("100.hea"), &|_| None).unwrap_err();
    assert!(e.to_string().contains("100.dat not found"), "{e}");
}

#[test]
fn error_bad_header_line() {
    let hea = "# c\n100 2 360 650000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n\n100.dat 212 2x0 11 1024 0 0 0 V5\n";
    let e = read(hea.as_bytes(), Some("100.hea"), &|_| Some(vec![0; 3])).unwrap_err();
    assert_eq!(e.at.as_deref(), Some("header line 5"), "{e}");
    assert!(e.message.contains("gain"), "{e}");
    let e = chevet_ecg::formats::wfdb::parse_header("r 3 360\nr.dat 16\n").unwrap_err();
    assert!(e.message.contains("only 1 signal lines"), "{e}");
    let e = chevet_ecg::formats::wfdb::parse_header("r 1 360\nr.dat 999\n").unwrap_err();
    assert_eq!(e.at.as_deref(), Some("header line 2"), "{e}");
}

// ---------------------------------------------------------------- HL7 aECG
// Reference: Python xml.etree.ElementTree, first sequenceSet of the RHYTHM series, digits.

#[test]
fn aecg_example() {
    let e = signal("aecg/Example aECG.xml");
    assert_eq!(e.format, Format::Aecg);
    assert_eq!(
        names(&e),
        ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6", "III", "aVR", "aVL", "aVF"]
    );
    assert_eq!(e.sampling_hz, 500.0);
    assert_eq!(e.len(), 5000);
    assert!(e
        .leads
        .iter()
        .all(|l| l.samples.len() == 5000 && l.uv_per_unit == 2.5));
    assert!((e.duration_s() - 10.0).abs() < 1e-9);
    let cases: [(&str, [i32; 3], i64); 12] = [
        ("I", [-2, -5, -13], -4921),
        ("II", [-7, -7, -7], -4084),
        ("V1", [43, 25, 11], -2299),
        ("V2", [55, 34, 8], -2648),
        ("V3", [40, 48, 13], -3119),
        ("V4", [28, 39, 6], -2499),
        ("V5", [23, 4, -20], -3009),
        ("V6", [-9, -14, -15], -1762),
        ("III", [-5, -2, 6], 837),
        ("aVR", [4, 6, 10], 4432),
        ("aVL", [1, -1, -9], -2721),
        ("aVF", [-6, -4, 0], -1570),
    ];
    for (name, [a, b, c], s) in cases {
        let l = e.lead(name).unwrap();
        assert_eq!(
            [l.samples[0], l.samples[1000], l.samples[4999]],
            [a, b, c],
            "{name}"
        );
        assert_eq!(sum(&e, name), s, "{name}");
    }
    assert_eq!(e.acquired_at.unwrap().to_string(), "2002-11-22 09:10:00");
    assert_eq!(e.device.as_deref(), Some("Mortara Instrument, Inc. ELI250"));
    assert_eq!(e.subject.as_deref(), Some("Clark (SBJ-123)"));
}

// ---------------------------------------------------------------- SCP-ECG

#[test]
fn scp_example_matches_aecg() {
    let bytes = std::fs::read(data("scp/Example.scp")).unwrap();
    let (s, report) = chevet_ecg::formats::scp::parse_with_report(&bytes).unwrap();
    assert!(report.crc_errors.is_empty(), "{report:?}");
    assert!(!report.healforce);
    assert_eq!(s.format, Format::Scp);
    assert_eq!(
        names(&s),
        ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6", "III", "aVR", "aVL", "aVF"]
    );
    assert_eq!(s.sampling_hz, 500.0);
    assert_eq!(s.len(), 5000);
    assert!(s.leads.iter().all(|l| (l.uv_per_unit - 2.5).abs() < 1e-12));
    assert_eq!(s.acquired_at.unwrap().to_string(), "2002-11-22 09:10:00");
    assert_eq!(s.subject.as_deref(), Some("Clark (SBJ-123)"));
    assert!(
        s.device.as_deref().unwrap().contains("ELI250"),
        "{:?}",
        s.device
    );
    // Same ECG as the aECG example: values agree after unit conversion.
    let a = signal("aecg/Example aECG.xml");
    for l in &s.leads {
        let r = a.lead(&l.name).unwrap();
        assert_eq!(l.samples.len(), r.samples.len());
        let worst = l
            .millivolts()
            .iter()
            .zip(r.millivolts())
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(worst <= 0.0025 + 1e-6, "{}: differs by {worst} mV", l.name);
    }
}

#[test]
fn scp_healforce() {
    let bytes = std::fs::read(data("scp/62.SCP")).unwrap();
    assert_eq!(sniff(&bytes, None), Some(Format::Scp));
    let (e, report) = chevet_ecg::formats::scp::parse_with_report(&bytes).unwrap();
    assert!(report.healforce);
    // Section 3 says 3 channels; they obey Einthoven's law, hence the names.
    assert_eq!(names(&e), ["I", "II", "III"]);
    assert_eq!(e.sampling_hz, 150.0);
    assert_eq!(e.len(), 4500);
    assert!((e.duration_s() - 30.0).abs() < 1e-9);
    assert!((e.leads[0].uv_per_unit - 9.524).abs() < 1e-9);
    assert_eq!(e.acquired_at.unwrap().to_string(), "2019-08-08 00:04:10");
    // Reference: numpy port of healforcescpecg.py (_decompress_healforce_coding), column k.
    let i = &e.leads[0].samples;
    let ii = &e.leads[1].samples;
    let iii = &e.leads[2].samples;
    assert_eq!(&i[200..205], [12, 13, 13, 13, 13]);
    assert_eq!(&ii[200..205], [5, 6, 6, 6, 7]);
    assert_eq!(&iii[200..205], [-4, -5, -5, -5, -5]);
    let mean_err: f64 = (0..4500)
        .map(|k| f64::from((i[k] + iii[k] - ii[k]).abs()))
        .sum::<f64>()
        / 4500.0;
    assert!(mean_err < 3.0, "{mean_err}");
}

#[test]
fn error_scp_bad_section_pointer() {
    let mut bytes = std::fs::read(data("scp/Example.scp")).unwrap();
    // Section 0 data starts at byte 22; entry 6 (section 6) index field at 22 + 6*10 + 6.
    let at = 22 + 6 * 10 + 6;
    bytes[at..at + 4].copy_from_slice(&1_000_000u32.to_le_bytes());
    let e = read(&bytes, Some("x.scp"), &|_| None).unwrap_err();
    assert!(e.message.contains("section 6"), "{e}");
    assert_eq!(
        e.at.as_deref(),
        Some(format!("section 0 pointer at byte {}", 22 + 60).as_str()),
        "{e}"
    );
    // Pointing inside another section.
    bytes[at..at + 4].copy_from_slice(&(329u32 + 16).to_le_bytes());
    let e = read(&bytes, Some("x.scp"), &|_| None).unwrap_err();
    assert!(e.message.contains("expected section 6"), "{e}");
    assert!(e.message.contains("section 0 at byte 82"), "{e}");
}

// ---------------------------------------------------------------- DICOM
// Reference: pydicom 3.0.2, WaveformSequence[0].WaveformData as int16, and waveform_array(0).

#[test]
fn dicom_waveform() {
    let e = signal("dicom/waveform_ecg.dcm");
    assert_eq!(e.format, Format::Dicom);
    assert_eq!(
        names(&e),
        ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    );
    assert_eq!(e.sampling_hz, 1000.0);
    assert_eq!(e.len(), 10_000);
    assert!((e.duration_s() - 10.0).abs() < 1e-9);
    assert!(e.leads.iter().all(|l| (l.uv_per_unit - 1.25).abs() < 1e-12));
    assert_eq!(
        at(&e, 0),
        [80, 90, 10, -85, 35, 50, 40, 15, -10, -20, -55, -40]
    );
    assert_eq!(
        at(&e, 9999),
        [20, 110, 90, -65, -35, 100, 20, -10, -90, -110, -120, -90]
    );
    let sums: Vec<i64> = e
        .leads
        .iter()
        .map(|l| l.samples.iter().map(|&v| i64::from(v)).sum())
        .collect();
    assert_eq!(
        sums,
        [
            741291, 726870, -14421, -731598, 375411, 353730, 286220, 317155, 293860, 304835,
            308945, 307350
        ]
    );
    // waveform_array(0)[5000] in uV
    let uv: Vec<f64> = e
        .leads
        .iter()
        .map(|l| f64::from(l.samples[5000]) * l.uv_per_unit)
        .collect();
    assert_eq!(
        uv,
        [53.75, 68.75, 15.0, -61.25, 18.75, 41.25, 68.75, 31.25, 12.5, -50.0, -87.5, -31.25]
    );
    assert_eq!(e.acquired_at.unwrap().to_string(), "2013-01-25 10:59:19");
    assert_eq!(e.device.as_deref(), Some("Mortara Instrument, Inc. el250"));
    assert_eq!(e.subject.as_deref(), Some("Anonymous (642341)"));
}

// ---------------------------------------------------------------- EDF
// Reference: numpy, int16 records after the 3328-byte header.

#[test]
fn edf_contec_export() {
    let e = signal("other/0000050.ECG.edf");
    assert_eq!(e.format, Format::Edf);
    assert_eq!(
        names(&e),
        ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    );
    assert!((e.sampling_hz - 800.0).abs() < 1e-9);
    assert_eq!(e.len(), 37_855);
    assert!((e.duration_s() - 47.31875).abs() < 1e-6);
    assert!((e.leads[0].uv_per_unit - 2_000_000.0 / 65535.0).abs() < 1e-9);
    assert_eq!(at(&e, 0), [-20, -25, -5, 23, -7, -15, 0, 0, 0, 0, 0, 0]);
    assert_eq!(at(&e, 1000), [-53, -62, -9, 58, -22, -35, 0, 0, 0, 0, 0, 0]);
    assert_eq!(at(&e, 37_854), [-16, -17, -1, 17, -7, -9, 0, 0, 0, 0, 0, 0]);
    assert_eq!(sum(&e, "aVR"), -105350);
    assert_eq!(e.acquired_at.unwrap().to_string(), "2020-11-16 21:44:39");
}

// ---------------------------------------------------------------- Contec
// Reference: numpy port of ecg_contec.py (RigacciOrg/ecg-contec) readline().

#[test]
fn contec_native() {
    let e = signal("other/0000037.ECG");
    assert_eq!(e.format, Format::Contec);
    // V1..V6 hold only "no signal" and are dropped.
    assert_eq!(names(&e), ["I", "II", "III", "aVR", "aVL", "aVF"]);
    assert_eq!(e.sampling_hz, 800.0);
    assert_eq!(e.len(), 8375);
    assert!((e.duration_s() - 10.46875).abs() < 1e-9);
    assert_eq!(e.leads[0].uv_per_unit, 5.0);
    let cases: [(&str, [i32; 3], i64); 6] = [
        ("I", [-21, 82, -53], 280642),
        ("II", [-18, -12, -25], -112313),
        ("III", [3, -94, 28], -392955),
        ("aVR", [19, -35, 39], -82966),
        ("aVL", [-12, 88, -40], 338006),
        ("aVF", [-7, -53, 1], -251089),
    ];
    for (name, [a, b, c], s) in cases {
        let l = e.lead(name).unwrap();
        assert_eq!(
            [l.samples[0], l.samples[1000], l.samples[8374]],
            [a, b, c],
            "{name}"
        );
        assert_eq!(sum(&e, name), s, "{name}");
    }
    assert_eq!(e.acquired_at.unwrap().to_string(), "2020-11-15 12:59:50");
    assert_eq!(e.device.as_deref(), Some("Contec ECG90A"));
    assert_eq!(e.subject.as_deref(), Some("Niccolo"));
}

// ---------------------------------------------------------------- PDF

#[test]
fn pdf_document() {
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Pages /Count 1 >> endobj\n2 0 obj << /Type /Page >> endobj\n%%EOF\n";
    assert_eq!(
        read(pdf, Some("ecg.pdf"), &|_| None),
        Ok(Recording::Document {
            format: Format::Pdf,
            pages: Some(1)
        })
    );
    assert!(read(&pdf[..30], Some("ecg.pdf"), &|_| None).is_err());
}

#[test]
fn every_sample_file_sniffs() {
    let cases = [
        ("wfdb/mitdb/100.hea", Format::Wfdb),
        ("wfdb/ptb/s0010_re.hea", Format::Wfdb),
        ("aecg/Example aECG.xml", Format::Aecg),
        ("scp/Example.scp", Format::Scp),
        ("scp/62.SCP", Format::Scp),
        ("dicom/waveform_ecg.dcm", Format::Dicom),
        ("other/0000050.ECG.edf", Format::Edf),
        ("other/0000037.ECG", Format::Contec),
    ];
    for (f, fmt) in cases {
        let bytes = std::fs::read(data(f)).unwrap();
        assert_eq!(sniff(&bytes, None), Some(fmt), "{f} by content");
    }
}
