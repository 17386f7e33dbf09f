//! ECG recordings as stored: reading one back from its files.

/// Reads a recording from its files: `main` names the file to read (a WFDB record's `.hea`).
pub fn read_files(
    main: &str,
    files: &[(String, Vec<u8>)],
) -> Result<chevet_ecg::Recording, chevet_ecg::EcgError> {
    let bytes = files
        .iter()
        .find(|(n, _)| n == main)
        .map(|(_, b)| b.as_slice())
        .unwrap_or_default();
    let companion = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
    };
    chevet_ecg::read(bytes, Some(main), &companion)
}
