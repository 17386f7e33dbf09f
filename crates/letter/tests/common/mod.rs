//! Test data shared by the integration tests, the bench and the preview example: the PTB
//! 12-lead record s0010_re cut to 10 s, read with chevet-ecg's parser.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chevet_ecg::{Ecg, Recording};
use chevet_letter::{EcgAttachment, Letter, OriginalFile};

/// `shared/data` beside the repository.
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

/// The first `seconds` of a recording, standard 12 leads only when it has them.
pub fn cut(mut ecg: Ecg, seconds: f64) -> Ecg {
    let n = (ecg.sampling_hz * seconds).round().max(0.0) as usize;
    const STD: [&str; 12] = [
        "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
    ];
    if STD.iter().all(|s| ecg.lead(s).is_some()) {
        ecg.leads
            .retain(|l| STD.iter().any(|s| s.eq_ignore_ascii_case(&l.name)));
    }
    for l in &mut ecg.leads {
        l.samples.truncate(n);
    }
    ecg
}

/// The PTB record s0010_re (12 leads, 1000 Hz) cut to 10 s, with its original files.
pub fn ptb_attachment() -> EcgAttachment {
    let hea = data("ecg/wfdb/ptb/s0010_re.hea");
    let ecg = match chevet_ecg::read_path(&hea) {
        Ok(Recording::Signal(ecg)) => cut(ecg, 10.0),
        Ok(other) => panic!("s0010_re read as {other:?}"),
        Err(e) => panic!("cannot read s0010_re: {e}"),
    };
    let hr = chevet_ecg::detect::detect_beats(&ecg)
        .heart_rate_bpm
        .map(|h| h as f32);
    let file = |name: &str, media: &str| OriginalFile {
        file_name: name.to_string(),
        media_type: media.to_string(),
        bytes: std::fs::read(data(&format!("ecg/wfdb/ptb/{name}"))).expect("PTB file"),
    };
    EcgAttachment {
        signal: Some(ecg),
        files: vec![
            file("s0010_re.hea", "text/plain"),
            file("s0010_re.dat", "application/octet-stream"),
        ],
        heart_rate_bpm: hr,
    }
}

/// A PDF printed by a device, attached as is (no signal).
pub fn pdf_attachment() -> EcgAttachment {
    EcgAttachment {
        signal: None,
        files: vec![OriginalFile {
            file_name: "ECG_appareil.pdf".into(),
            media_type: "application/pdf".into(),
            bytes: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".to_vec(),
        }],
        heart_rate_bpm: None,
    }
}

/// The sample letter with the PTB ECG.
pub fn sample_with_ecg() -> Letter {
    Letter::sample(vec![ptb_attachment()])
}
