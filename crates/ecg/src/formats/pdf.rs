//! PDF files printed by devices: kept as documents, no signal is read from them.
//!
//! Exists so that a PDF dropped among ECG files is recognised and attached rather than
//! refused. Only cheap checks: the `%PDF-` magic, an `%%EOF` marker near the end (a file
//! without it is truncated), and a page count from the `/Type /Page` objects when they are
//! not hidden in compressed object streams.

use crate::{EcgError, Format};

const F: Format = Format::Pdf;

/// Checks the file and returns its page count when it can be found cheaply.
pub fn parse(bytes: &[u8]) -> Result<Option<u32>, EcgError> {
    if !bytes.starts_with(b"%PDF-") {
        return Err(EcgError::new(F, "file does not start with %PDF-").at("byte 0"));
    }
    let tail_start = bytes.len().saturating_sub(1024);
    let tail = bytes.get(tail_start..).unwrap_or(&[]);
    if !tail.windows(5).any(|w| w == b"%%EOF") {
        return Err(EcgError::new(
            F,
            "no %%EOF marker in the last 1024 bytes: file is truncated",
        )
        .at(format!("byte {}", bytes.len())));
    }
    Ok(count_pages(bytes))
}

/// Counts `/Type /Page` (not `/Pages`), with or without blanks between the two names.
fn count_pages(bytes: &[u8]) -> Option<u32> {
    let mut pages = 0u32;
    let mut i = 0usize;
    while let Some(rest) = bytes.get(i..) {
        let Some(p) = rest.windows(5).position(|w| w == b"/Type") else {
            break;
        };
        let mut j = i + p + 5;
        while bytes.get(j).is_some_and(|b| b.is_ascii_whitespace()) {
            j += 1;
        }
        if bytes.get(j..j + 5) == Some(b"/Page") {
            let next = bytes.get(j + 5).copied();
            if !next.is_some_and(|b| b.is_ascii_alphanumeric()) {
                pages = pages.saturating_add(1);
            }
        }
        i = j.max(i + p + 1);
    }
    (pages > 0).then_some(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_truncation() {
        let pdf = b"%PDF-1.4\n1 0 obj << /Type /Pages /Count 2 >>\n2 0 obj <</Type/Page>>\n\
                    3 0 obj << /Type /Page /Parent 1 0 R >>\n%%EOF\n";
        assert_eq!(parse(pdf), Ok(Some(2)));
        let e = parse(&pdf[..40]).unwrap_err();
        assert!(e.message.contains("%%EOF"));
        assert_eq!(parse(b"%PDF-1.4\n%%EOF"), Ok(None));
    }
}
