//! Command-line tools that work on files alone, without a hub: `chevet ecg info|render` and
//! `chevet letter preview`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chevet_ecg::{Ecg, Recording};
use serde_json::json;

pub enum EcgArgs {
    Info {
        file: PathBuf,
        json: bool,
    },
    Render {
        file: PathBuf,
        out: PathBuf,
        start: f64,
    },
}

fn read(file: &Path) -> anyhow::Result<Recording> {
    chevet_ecg::read_path(file).with_context(|| format!("reading {}", file.display()))
}

fn signal(file: &Path) -> anyhow::Result<Ecg> {
    match read(file)? {
        Recording::Signal(e) => Ok(e),
        Recording::Document { format, .. } => bail!(
            "{} is a {} document, not a signal: it is attached as is",
            file.display(),
            format.as_str()
        ),
    }
}

pub fn ecg(args: EcgArgs) -> anyhow::Result<()> {
    match args {
        EcgArgs::Info { file, json } => info(&file, json),
        EcgArgs::Render { file, out, start } => render(&file, &out, start),
    }
}

fn info(file: &Path, as_json: bool) -> anyhow::Result<()> {
    let recording = read(file)?;
    let (value, text) = match &recording {
        Recording::Document { format, pages } => (
            json!({
                "format": format.as_str(),
                "leads": [],
                "sampling_hz": null,
                "duration_s": null,
                "heart_rate_bpm": null,
                "beats": [],
                "pages": pages,
            }),
            format!(
                "format: {}\npages: {}\n(a document: no signal to read)",
                format.as_str(),
                pages.map_or("?".into(), |p| p.to_string())
            ),
        ),
        Recording::Signal(ecg) => {
            let beats = chevet_ecg::detect::detect_beats(ecg);
            let leads: Vec<&str> = ecg.leads.iter().map(|l| l.name.as_str()).collect();
            let acquired = ecg
                .acquired_at
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string());
            let value = json!({
                "format": ecg.format.as_str(),
                "leads": leads,
                "sampling_hz": ecg.sampling_hz,
                "duration_s": ecg.duration_s(),
                "samples": ecg.len(),
                "heart_rate_bpm": beats.heart_rate_bpm,
                "beats": beats.samples,
                "acquired_at": acquired,
                "device": ecg.device,
            });
            let first: Vec<String> = beats
                .samples
                .iter()
                .take(10)
                .map(|b| b.to_string())
                .collect();
            let text = format!(
                "format: {}\nleads: {} ({})\nsampling rate: {} Hz\nduration: {:.1} s ({} samples)\n\
                 heart rate: {}\nbeats: {}{}\nacquired: {}\ndevice: {}",
                ecg.format.as_str(),
                leads.len(),
                leads.join(", "),
                ecg.sampling_hz,
                ecg.duration_s(),
                ecg.len(),
                beats
                    .heart_rate_bpm
                    .map_or("unknown".into(), |h| format!("{h:.0} bpm")),
                beats.samples.len(),
                if first.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (samples {}{})",
                        first.join(", "),
                        if beats.samples.len() > 10 { ", ..." } else { "" }
                    )
                },
                acquired.as_deref().unwrap_or("unknown"),
                ecg.device.as_deref().unwrap_or("unknown"),
            );
            (value, text)
        }
    };
    if as_json {
        println!("{value}");
    } else {
        println!("{text}");
    }
    Ok(())
}

fn render(file: &Path, out: &Path, start: f64) -> anyhow::Result<()> {
    let ecg = signal(file)?;
    if !start.is_finite() || start < 0.0 || start >= ecg.duration_s() {
        bail!(
            "--start must be within the recording (0 to {:.1} s)",
            ecg.duration_s()
        );
    }
    let beats = chevet_ecg::detect::detect_beats(&ecg);
    let header = chevet_ecg::render::PaperHeader {
        patient: ecg.subject.clone(),
        acquired: ecg
            .acquired_at
            .map(|t| t.format("%d/%m/%Y %H:%M:%S").to_string()),
        device: ecg.device.clone(),
        heart_rate_bpm: beats.heart_rate_bpm,
        note: Some(file_label(file)),
    };
    let options = chevet_ecg::render::RenderOptions {
        start_s: start,
        ..Default::default()
    };
    let ext = out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let bytes = match ext.as_deref() {
        Some("svg") => chevet_ecg::render::svg::svg(&ecg, &header, &options).into_bytes(),
        Some("pdf") => chevet_ecg::render::pdf::pdf(&ecg, &header, &options),
        _ => bail!("--out must end in .pdf or .svg"),
    };
    std::fs::write(out, bytes).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

fn file_label(file: &Path) -> String {
    file.file_name()
        .unwrap_or(file.as_os_str())
        .to_string_lossy()
        .into_owned()
}

/// The original files of a recording: the file itself, and for WFDB the signal files its
/// header names (they sit beside it).
fn originals(file: &Path) -> anyhow::Result<Vec<chevet_letter::OriginalFile>> {
    let mut names = vec![file.to_path_buf()];
    if file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("hea"))
    {
        let text = std::fs::read_to_string(file)?;
        let header = chevet_ecg::formats::wfdb::parse_header(&text)
            .with_context(|| format!("reading {}", file.display()))?;
        let dir = file.parent().unwrap_or(Path::new("."));
        for signal in &header.signals {
            let path = dir.join(&signal.file_name);
            if !names.contains(&path) {
                names.push(path);
            }
        }
    }
    names
        .into_iter()
        .map(|path| {
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let media_type = match chevet_ecg::sniff(&bytes, path.to_str()) {
                Some(chevet_ecg::Format::Aecg) => "application/xml",
                Some(chevet_ecg::Format::Dicom) => "application/dicom",
                Some(chevet_ecg::Format::Pdf) => "application/pdf",
                _ => "application/octet-stream",
            };
            Ok(chevet_letter::OriginalFile {
                file_name: file_label(&path),
                media_type: media_type.into(),
                bytes,
            })
        })
        .collect()
}

pub fn letter_preview(ecgs: &[PathBuf], out: &Path) -> anyhow::Result<()> {
    let mut attachments = Vec::new();
    for file in ecgs {
        let recording = read(file)?;
        let (signal, rate) = match recording {
            Recording::Signal(e) => {
                let rate = chevet_ecg::detect::detect_beats(&e).heart_rate_bpm;
                (Some(e), rate.map(|r| r as f32))
            }
            Recording::Document { .. } => (None, None),
        };
        attachments.push(chevet_letter::EcgAttachment {
            signal,
            files: originals(file)?,
            heart_rate_bpm: rate,
        });
    }
    let letter = chevet_letter::Letter::sample(attachments);
    let started = std::time::Instant::now();
    let forms = chevet_letter::all(&letter).context("making the letter")?;
    let took = started.elapsed();
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let write = |name: &str, bytes: &[u8]| -> anyhow::Result<()> {
        let path = out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
        Ok(())
    };
    write("lettre.pdf", &forms.pdf)?;
    write("lettre.fhir.json", forms.fhir_json.as_bytes())?;
    write("lettre.cda.xml", forms.cda_xml.as_bytes())?;
    write("IHE_XDM.ZIP", &forms.xdm_zip)?;
    eprintln!("made in {:.1} ms", took.as_secs_f64() * 1000.0);
    Ok(())
}
