//! Writes the four forms of the sample letter (with the PTB 12-lead ECG) into a folder:
//! `cargo run -p chevet-letter --example preview -- /tmp/letter`.

#[path = "../tests/common/mod.rs"]
mod common;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "letter-preview".into()),
    );
    std::fs::create_dir_all(&out)?;
    let with_pdf = std::env::args().any(|a| a == "--device-pdf");
    let mut ecgs = vec![common::ptb_attachment()];
    if with_pdf {
        ecgs.push(common::pdf_attachment());
    }
    let letter = chevet_letter::Letter::sample(ecgs);
    let forms = chevet_letter::all(&letter)?;
    std::fs::write(out.join("lettre.pdf"), &forms.pdf)?;
    std::fs::write(out.join("bundle.json"), &forms.fhir_json)?;
    std::fs::write(out.join("cda.xml"), &forms.cda_xml)?;
    std::fs::write(out.join("IHE_XDM.ZIP"), &forms.xdm_zip)?;
    println!("wrote {}", out.display());
    Ok(())
}
