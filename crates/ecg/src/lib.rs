//! Electrocardiograms, independent of the hub: read what bedside devices and archives write
//! into one [`Ecg`], find the beats, draw the paper layout.
//!
//! This crate knows nothing of HTTP, SQL or files on disk beyond [`read_path`]: every parser
//! takes bytes and returns either an [`Ecg`] or an [`EcgError`] saying what is wrong and
//! where. No parser panics on any input (each has a fuzz target under `fuzz/`).

pub mod annotations;
pub mod detect;
pub mod render;
pub mod score;

pub mod formats;
pub use formats::{read, read_path, sniff};

use chrono::NaiveDateTime;
use serde::Serialize;

/// The file formats Chevet reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// PhysioNet WFDB record: a `.hea` header and one or more `.dat` signal files.
    Wfdb,
    /// HL7 v3 annotated ECG (FDA aECG, PORT_MT020001) XML.
    Aecg,
    /// SCP-ECG (EN 1064 / ISO 11073-91064).
    Scp,
    /// DICOM waveform (12-lead ECG or general ECG waveform storage).
    Dicom,
    /// European Data Format (EDF / EDF+).
    Edf,
    /// Contec ECG90A native `.ECG` file.
    Contec,
    /// A PDF printed by a device: kept as is, no signal.
    Pdf,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Wfdb => "wfdb",
            Format::Aecg => "aecg",
            Format::Scp => "scp",
            Format::Dicom => "dicom",
            Format::Edf => "edf",
            Format::Contec => "contec",
            Format::Pdf => "pdf",
        }
    }
}

/// One lead of a recording. Samples are raw integer units; `uv_per_unit` converts them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lead {
    /// Standard name where one applies: I, II, III, aVR, aVL, aVF, V1..V6; otherwise the
    /// file's own label (MLII, V5, vx, ...).
    pub name: String,
    /// Raw sample values, baseline already removed (0 = 0 mV).
    pub samples: Vec<i32>,
    /// Microvolts per raw unit (the inverse of the gain).
    pub uv_per_unit: f64,
}

impl Lead {
    /// Sample `i` in millivolts.
    pub fn mv(&self, i: usize) -> f32 {
        (self.samples[i] as f64 * self.uv_per_unit / 1000.0) as f32
    }

    /// The whole lead in millivolts.
    pub fn millivolts(&self) -> Vec<f32> {
        let k = self.uv_per_unit / 1000.0;
        self.samples
            .iter()
            .map(|&s| (s as f64 * k) as f32)
            .collect()
    }
}

/// A recording in Chevet's one representation, whatever file it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ecg {
    pub format: Format,
    /// Samples per second, the same for every lead.
    pub sampling_hz: f64,
    pub leads: Vec<Lead>,
    /// Acquisition time as the device wrote it (devices write local time, without offset).
    pub acquired_at: Option<NaiveDateTime>,
    /// Device maker and model as the file names them.
    pub device: Option<String>,
    /// Who the file says was recorded, as written (name, identifier); shown for checking,
    /// never trusted to pick the patient.
    pub subject: Option<String>,
}

impl Ecg {
    /// Length of the longest lead, in samples.
    pub fn len(&self) -> usize {
        self.leads
            .iter()
            .map(|l| l.samples.len())
            .max()
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn duration_s(&self) -> f64 {
        self.len() as f64 / self.sampling_hz
    }

    /// The lead with this name (case-insensitive), if any.
    pub fn lead(&self, name: &str) -> Option<&Lead> {
        self.leads
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name))
    }
}

/// What a file turned out to be: a signal, or a document kept as is.
#[derive(Debug, Clone, PartialEq)]
pub enum Recording {
    Signal(Ecg),
    /// A PDF (or another printed form) that Chevet attaches without reading a signal from it.
    Document {
        format: Format,
        pages: Option<u32>,
    },
}

/// Why a file could not be read: which format was being read, what is wrong, and where
/// (a byte offset, an XML path, a header line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}{}", format.map(|f| format!("{}: ", f.as_str())).unwrap_or_default(), at.as_ref().map(|a| format!(" (at {a})")).unwrap_or_default())]
pub struct EcgError {
    pub format: Option<Format>,
    pub message: String,
    pub at: Option<String>,
}

impl EcgError {
    pub fn new(format: Format, message: impl Into<String>) -> Self {
        EcgError {
            format: Some(format),
            message: message.into(),
            at: None,
        }
    }

    pub fn at(mut self, at: impl Into<String>) -> Self {
        self.at = Some(at.into());
        self
    }
}
