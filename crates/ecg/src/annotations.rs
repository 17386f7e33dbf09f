//! WFDB annotation files (`.atr` and friends, MIT format): the reference beat positions that
//! PhysioNet databases ship with their records, used to evaluate the beat detector.
//!
//! The MIT format is a sequence of little-endian 16-bit words: the annotation type in the top
//! 6 bits, the time since the previous annotation in the low 10 bits. Types 59–63 are pseudo
//! annotations (SKIP, NUM, SUB, CHN, AUX) that modify the next real annotation; a zero word
//! ends the file.

use crate::{EcgError, Format};

/// One annotation from a WFDB annotation file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// Sample index (time) of the annotation, from the start of the record.
    pub sample: u64,
    /// WFDB annotation code (1 = N, 5 = V, ...; see [`symbol_of`]).
    pub code: u8,
    /// Mnemonic of the code ("N", "V", "+", "~", ...).
    pub symbol: &'static str,
    /// Sub-type, channel and number fields (0 unless the file sets them).
    pub subtype: i16,
    pub chan: u8,
    pub num: i16,
    /// Auxiliary text (rhythm changes such as "(AFIB"), if any.
    pub aux: Option<String>,
}

impl Annotation {
    /// True for the codes WFDB counts as beats (its `isqrs` table): N L R B A a J S V r F e j n
    /// E / f Q ?.
    pub fn is_beat(&self) -> bool {
        is_beat_code(self.code)
    }
}

/// True for the WFDB beat codes.
pub fn is_beat_code(code: u8) -> bool {
    matches!(code, 1..=13 | 25 | 30 | 34 | 35 | 38 | 41)
}

/// The WFDB mnemonic of an annotation code ("" for codes that have none).
pub fn symbol_of(code: u8) -> &'static str {
    const SYMBOLS: [&str; 42] = [
        "", "N", "L", "R", "a", "V", "F", "J", "A", "S", "E", "j", "/", "Q", "~", "", "|", "", "s",
        "T", "*", "D", "\"", "=", "p", "B", "^", "t", "+", "u", "?", "!", "[", "]", "e", "n", "@",
        "x", "f", "(", ")", "r",
    ];
    SYMBOLS.get(code as usize).copied().unwrap_or("")
}

const SKIP: u16 = 59;
const NUM: u16 = 60;
const SUB: u16 = 61;
const CHN: u16 = 62;
const AUX: u16 = 63;

fn err(message: impl Into<String>, at: usize) -> EcgError {
    EcgError::new(Format::Wfdb, message).at(format!("annotation byte {at}"))
}

/// Reads an annotation file in MIT format. A file that ends without its terminating zero word
/// is accepted when it ends on a word boundary; anything cut inside a word, a SKIP or an AUX
/// string is an error.
pub fn read_annotations(bytes: &[u8]) -> Result<Vec<Annotation>, EcgError> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut time: u64 = 0;
    // NUM and CHN persist until changed; like SUB and AUX they follow (and modify) the
    // annotation they belong to, as WFDB's `putann` writes them.
    let mut num: i16 = 0;
    let mut chan: u8 = 0;
    let word_at = |pos: usize| -> Result<u16, EcgError> {
        match bytes.get(pos..pos + 2) {
            Some(b) => Ok(u16::from_le_bytes([b[0], b[1]])),
            None => Err(err("annotation file cut inside a word", pos)),
        }
    };
    while pos < bytes.len() {
        let word = word_at(pos)?;
        let start = pos;
        pos += 2;
        let kind = word >> 10;
        let arg = word & 0x3ff;
        match kind {
            0 if arg == 0 => return Ok(out),
            SKIP => {
                // A 32-bit interval follows, high 16 bits first (PDP-11 order).
                let hi =
                    word_at(pos).map_err(|_| err("annotation file cut inside a SKIP", start))?;
                let lo = word_at(pos + 2)
                    .map_err(|_| err("annotation file cut inside a SKIP", start))?;
                pos += 4;
                let skip = (((hi as u32) << 16) | lo as u32) as i32;
                time = time
                    .checked_add_signed(skip as i64)
                    .ok_or_else(|| err("SKIP before the start of the record", start))?;
            }
            NUM => {
                num = arg as i16;
                if let Some(last) = out.last_mut() {
                    last.num = num;
                }
            }
            SUB => {
                if let Some(last) = out.last_mut() {
                    last.subtype = arg as i16;
                }
            }
            CHN => {
                chan = arg as u8;
                if let Some(last) = out.last_mut() {
                    last.chan = chan;
                }
            }
            AUX => {
                let len = arg as usize;
                let text = bytes
                    .get(pos..pos + len)
                    .ok_or_else(|| err("annotation file cut inside an AUX string", start))?;
                let text = text.split(|&b| b == 0).next().unwrap_or_default();
                if let Some(last) = out.last_mut() {
                    last.aux = Some(String::from_utf8_lossy(text).into_owned());
                }
                pos += len + (len & 1);
            }
            _ => {
                time += arg as u64;
                let code = kind as u8;
                out.push(Annotation {
                    sample: time,
                    code,
                    symbol: symbol_of(code),
                    subtype: 0,
                    chan,
                    num,
                    aux: None,
                });
            }
        }
    }
    Ok(out)
}

/// Sample indices of the beat annotations in `annotations`.
pub fn beat_samples(annotations: &[Annotation]) -> Vec<u64> {
    annotations
        .iter()
        .filter(|a| a.is_beat())
        .map(|a| a.sample)
        .collect()
}
