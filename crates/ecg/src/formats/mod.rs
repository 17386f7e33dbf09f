//! File formats: recognise what a file is ([`sniff`]) and turn it into Chevet's one
//! representation ([`read`], [`read_path`]).
//!
//! Each submodule reads one format from bytes and never panics: a malformed or truncated
//! file gives an [`EcgError`] naming the place (byte offset, XML element, header line).
//! Every allocation is bounded by the bytes actually present, so a header that declares
//! absurd sizes cannot exhaust memory.

pub mod aecg;
pub mod contec;
pub mod dicom;
pub mod edf;
pub mod pdf;
pub mod scp;
pub mod wfdb;

use std::path::{Component, Path};

use crate::{EcgError, Format, Recording};

/// What a file is, by its content first (magic bytes, structure), by its name second.
pub fn sniff(bytes: &[u8], file_name: Option<&str>) -> Option<Format> {
    if bytes.starts_with(b"%PDF-") {
        return Some(Format::Pdf);
    }
    if bytes.get(128..132) == Some(b"DICM") {
        return Some(Format::Dicom);
    }
    if edf::looks_like(bytes) {
        return Some(Format::Edf);
    }
    if aecg::looks_like(bytes) {
        return Some(Format::Aecg);
    }
    if scp::looks_like(bytes) {
        return Some(Format::Scp);
    }
    if contec::looks_like(bytes) {
        return Some(Format::Contec);
    }
    if wfdb::looks_like(bytes) {
        return Some(Format::Wfdb);
    }
    let ext = file_name
        .and_then(|n| Path::new(n).extension())
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())?;
    match ext.as_str() {
        "hea" => Some(Format::Wfdb),
        "xml" => Some(Format::Aecg),
        "scp" => Some(Format::Scp),
        "dcm" | "dicom" => Some(Format::Dicom),
        "edf" | "rec" => Some(Format::Edf),
        "ecg" => Some(Format::Contec),
        "pdf" => Some(Format::Pdf),
        _ => None,
    }
}

/// Reads one file. `companion(name)` returns another file of the same record: WFDB headers
/// name their signal files (`100.dat`, `s0010_re.xyz`); other formats never call it.
pub fn read(
    bytes: &[u8],
    file_name: Option<&str>,
    companion: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<Recording, EcgError> {
    let format = sniff(bytes, file_name).ok_or_else(|| EcgError {
        format: None,
        message: format!(
            "unrecognised file{}: not WFDB, HL7 aECG, SCP-ECG, DICOM, EDF, Contec or PDF",
            file_name.map(|n| format!(" {n}")).unwrap_or_default()
        ),
        at: Some("byte 0".into()),
    })?;
    Ok(match format {
        Format::Wfdb => Recording::Signal(wfdb::parse(bytes, companion)?),
        Format::Aecg => Recording::Signal(aecg::parse(bytes)?),
        Format::Scp => Recording::Signal(scp::parse(bytes)?),
        Format::Dicom => Recording::Signal(dicom::parse(bytes)?),
        Format::Edf => Recording::Signal(edf::parse(bytes)?),
        Format::Contec => Recording::Signal(contec::parse(bytes)?),
        Format::Pdf => Recording::Document {
            format: Format::Pdf,
            pages: pdf::parse(bytes)?,
        },
    })
}

/// Reads a file from disk. A WFDB record is named by its `.hea` file (a `.dat` whose `.hea`
/// sits beside it works too); its signal files are read from the same folder.
pub fn read_path(path: &Path) -> Result<Recording, EcgError> {
    let io_err = |p: &Path, e: std::io::Error| EcgError {
        format: None,
        message: format!("cannot read {}: {e}", p.display()),
        at: None,
    };
    let mut path = path.to_path_buf();
    if path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("dat"))
    {
        let hea = path.with_extension("hea");
        if hea.is_file() {
            path = hea;
        }
    }
    let bytes = std::fs::read(&path).map_err(|e| io_err(&path, e))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let companion = move |name: &str| -> Option<Vec<u8>> {
        let rel = Path::new(name);
        // Signal files live beside the header: refuse absolute paths and `..`.
        if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return None;
        }
        std::fs::read(dir.join(rel)).ok()
    };
    let name = path.file_name().and_then(|n| n.to_str());
    read(&bytes, name, &companion)
}

/// The standard name of a lead (I, II, III, aVR, aVL, aVF, V1..V6) when `label` is one of
/// them in any case, with an optional `Lead ` prefix; otherwise the label as written.
pub fn lead_name(label: &str) -> String {
    const STANDARD: [&str; 12] = [
        "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
    ];
    let trimmed = label.trim();
    let bare = match trimmed.get(..5) {
        Some(p) if p.eq_ignore_ascii_case("lead ") => trimmed.get(5..).unwrap_or("").trim(),
        _ => trimmed,
    };
    STANDARD
        .iter()
        .find(|s| s.eq_ignore_ascii_case(bare))
        .map(|s| s.to_string())
        .unwrap_or_else(|| trimmed.to_string())
}

/// A little-endian cursor over bytes that reports the absolute offset of what is missing.
#[derive(Clone)]
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Offset of `bytes[0]` in the file, for error messages.
    base: usize,
    format: Format,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8], base: usize, format: Format) -> Self {
        Cursor {
            bytes,
            pos: 0,
            base,
            format,
        }
    }

    pub(crate) fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    pub(crate) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], EcgError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| {
                EcgError::new(
                    self.format,
                    format!(
                        "file ends inside {what}: {n} bytes needed, {} present",
                        self.remaining()
                    ),
                )
                .at(format!("byte {}", self.offset()))
            })?;
        let s = self.bytes.get(self.pos..end).unwrap_or(&[]);
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8, EcgError> {
        Ok(self.take(1, what)?.first().copied().unwrap_or(0))
    }

    pub(crate) fn u16(&mut self, what: &str) -> Result<u16, EcgError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub(crate) fn i16(&mut self, what: &str) -> Result<i16, EcgError> {
        Ok(self.u16(what)? as i16)
    }

    pub(crate) fn u32(&mut self, what: &str) -> Result<u32, EcgError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Text of a fixed-size, NUL- or space-padded field, lossily decoded.
pub(crate) fn field_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(bytes.get(..end).unwrap_or(&[]))
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_names() {
        assert_eq!(lead_name("avr"), "aVR");
        assert_eq!(lead_name(" i "), "I");
        assert_eq!(lead_name("Lead III"), "III");
        assert_eq!(lead_name("v5"), "V5");
        assert_eq!(lead_name("MLII"), "MLII");
        assert_eq!(lead_name("vx"), "vx");
    }
}
