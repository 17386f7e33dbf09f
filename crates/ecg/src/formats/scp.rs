//! SCP-ECG (EN 1064 / ISO 11073-91064): a record of numbered sections (0 pointers,
//! 1 patient and acquisition tags, 2 Huffman tables, 3 lead definitions, 4 QRS locations,
//! 5 reference beats, 6 rhythm).
//!
//! Exists because most European resting ECG carts and many portable recorders write SCP.
//! Hand-written: no maintained Rust crate reads it.
//!
//! Supported: CRC-CCITT check of the record and of every section (mismatches are reported by
//! [`parse_with_report`], not refused); section 1 tags (names, patient id, acquisition
//! date and time, acquiring device); section 2 Huffman tables (the default table 19999 and
//! custom tables, including table switches), or no section 2 (plain 16-bit values);
//! section 3 leads; first and second difference encoding; reference beat subtraction (the
//! decoded section 5 beat is added back around every type-0 QRS of section 4).
//! The Healforce (Prince 180D) dialect is recognised by its 0-based section offsets: its
//! rhythm is not Huffman coded but packs four 10-bit samples in three 16-bit words, with the
//! channels interleaved in one stream and the sample rate written in Hz (see the repository
//! KaibinBao/healforcescpecg); its three channels satisfy I + III = II and are named so.
//! Not supported: bimodal compression (decimated rhythm outside the QRS), rhythm without a
//! section 3, leads recorded at different times (they are kept, each from its own start).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::{field_text, lead_name, Cursor};
use crate::{Ecg, EcgError, Format, Lead};

const F: Format = Format::Scp;

/// What the reader noticed without refusing the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// CRC mismatches ("record", "section 3", ...).
    pub crc_errors: Vec<String>,
    /// The file is in the Healforce dialect.
    pub healforce: bool,
    /// Reference beat subtraction was undone with section 5.
    pub reference_beat_added: bool,
}

pub(crate) fn looks_like(bytes: &[u8]) -> bool {
    // Section 0 header right after the 6-byte record header: id 0, then "SCPECG" reserved
    // bytes (standard) or a pointer table whose first entry is section 0 (Healforce).
    bytes.len() >= 32
        && bytes.get(8..10) == Some(&[0, 0])
        && (bytes.get(16..22) == Some(b"SCPECG") || bytes.get(22..24) == Some(&[0, 0]))
        && bytes.get(14).is_some_and(|&v| (10..=40).contains(&v))
}

/// CRC-CCITT (polynomial 0x1021, initial 0xFFFF), as EN 1064 specifies.
pub fn crc_ccitt(data: &[u8]) -> u16 {
    data.iter().fold(0xFFFF, |crc: u16, &b| {
        (crc << 8) ^ CRC_TABLE[usize::from((crc >> 8) as u8 ^ b)]
    })
}

const CRC_TABLE: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut k = 0;
        while k < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            k += 1;
        }
        t[i] = crc;
        i += 1;
    }
    t
};

struct Section<'a> {
    /// Offset of the section header in the file.
    start: usize,
    /// Data after the 16-byte section header.
    data: &'a [u8],
}

impl Section<'_> {
    fn cursor(&self) -> Cursor<'_> {
        Cursor::new(self.data, self.start + 16, F)
    }
}

pub fn parse(bytes: &[u8]) -> Result<Ecg, EcgError> {
    parse_with_report(bytes).map(|(e, _)| e)
}

pub fn parse_with_report(bytes: &[u8]) -> Result<(Ecg, Report), EcgError> {
    let mut report = Report::default();
    let mut c = Cursor::new(bytes, 0, F);
    let crc = c.u16("record CRC")?;
    let record_len = c.u32("record length")? as usize;
    let record = bytes.get(..record_len.min(bytes.len())).unwrap_or(bytes);
    if record_len != bytes.len() || crc_ccitt(record.get(2..).unwrap_or(&[])) != crc {
        report.crc_errors.push("record".into());
    }

    // Section 0: the pointer table.
    let s0 = read_section(bytes, 6, 0, &mut report)?;
    let mut ptrs = Vec::new();
    let mut pc = s0.cursor();
    while pc.remaining() >= 10 {
        let at = pc.offset();
        let id = pc.u16("section pointer")?;
        let len = pc.u32("section pointer")? as usize;
        let index = pc.u32("section pointer")? as usize;
        ptrs.push((id, len, index, at));
    }
    // Standard indexes are 1-based; the Healforce dialect writes 0-based ones.
    let zero_based = ptrs.iter().any(|&(id, _, index, _)| id == 0 && index == 6);
    report.healforce = zero_based;
    let mut sections: Vec<(u16, Section)> = Vec::new();
    for &(id, len, index, at) in &ptrs {
        if len == 0 || id == 0 {
            continue;
        }
        let start = if zero_based {
            Some(index)
        } else {
            index.checked_sub(1)
        };
        let start = start.filter(|&s| s.checked_add(16).is_some_and(|e| e <= bytes.len())).ok_or_else(|| {
            EcgError::new(
                F,
                format!(
                    "pointer of section {id} gives index {index}, past the end of the file ({} bytes)",
                    bytes.len()
                ),
            )
            .at(format!("section 0 pointer at byte {at}"))
        })?;
        sections.push((
            id,
            read_section(bytes, start, id, &mut report).map_err(|e| {
                let msg = format!(
                    "{} (pointer of section {id} in section 0 at byte {at})",
                    e.message
                );
                EcgError { message: msg, ..e }
            })?,
        ));
    }
    let get = |id: u16| sections.iter().find(|(i, _)| *i == id).map(|(_, s)| s);

    let mut ecg = Ecg {
        format: F,
        sampling_hz: 0.0,
        leads: Vec::new(),
        acquired_at: None,
        device: None,
        subject: None,
    };
    if let Some(s1) = get(1) {
        read_section1(s1, &mut ecg)?;
    }
    let s3 = get(3)
        .ok_or_else(|| EcgError::new(F, "no section 3 (lead definitions)").at("section 0"))?;
    let s6 =
        get(6).ok_or_else(|| EcgError::new(F, "no section 6 (rhythm data)").at("section 0"))?;
    if zero_based {
        healforce_rhythm(s3, s6, &mut ecg)?;
        return Ok((ecg, report));
    }
    let leads = read_section3(s3)?;
    let tables = match get(2) {
        Some(s2) => Some(read_section2(s2)?),
        None => None,
    };
    let mut c6 = s6.cursor();
    let avm = c6.u16("section 6 amplitude multiplier")?;
    let interval = c6.u16("section 6 sample interval")?;
    let diff = c6.u8("section 6 difference flag")?;
    let bimodal = c6.u8("section 6 bimodal flag")?;
    if bimodal != 0 {
        return Err(EcgError::new(F, "bimodal compression is not supported")
            .at(format!("section 6 byte {}", s6.start + 16 + 5)));
    }
    if interval == 0 || avm == 0 {
        return Err(
            EcgError::new(F, "section 6 sample interval or amplitude multiplier is 0")
                .at(format!("section 6 byte {}", s6.start + 16)),
        );
    }
    let mut rhythm = Vec::with_capacity(leads.len());
    let lens: Vec<usize> = (0..leads.len())
        .map(|_| c6.u16("section 6 lead lengths").map(usize::from))
        .collect::<Result<_, _>>()?;
    for (k, (lead, len)) in leads.iter().zip(&lens).enumerate() {
        let at = c6.offset();
        let data = c6.take(*len, &format!("rhythm data of lead {}", k + 1))?;
        let n = lead.end.saturating_sub(lead.start).saturating_add(1);
        let values = decode_lead(data, tables.as_deref(), n, at, k)?;
        rhythm.push(undo_differences(values, diff, at)?);
    }

    if leads
        .first()
        .is_some_and(|_| s3.data.get(1).is_some_and(|f| f & 1 != 0))
    {
        let s4 = get(4).ok_or_else(|| {
            EcgError::new(
                F,
                "reference beat subtraction is used but section 4 is missing",
            )
            .at("section 0")
        })?;
        let s5 = get(5).ok_or_else(|| {
            EcgError::new(
                F,
                "reference beat subtraction is used but section 5 is missing",
            )
            .at("section 0")
        })?;
        add_reference_beats(
            s4,
            s5,
            &leads,
            tables.as_deref(),
            avm,
            interval,
            &mut rhythm,
        )?;
        report.reference_beat_added = true;
    }

    ecg.sampling_hz = 1_000_000.0 / f64::from(interval);
    ecg.leads = leads
        .iter()
        .zip(rhythm)
        .map(|(l, samples)| Lead {
            name: l.name.clone(),
            samples,
            uv_per_unit: f64::from(avm) / 1000.0,
        })
        .collect();
    Ok((ecg, report))
}

fn read_section<'a>(
    bytes: &'a [u8],
    start: usize,
    id: u16,
    report: &mut Report,
) -> Result<Section<'a>, EcgError> {
    let mut c = Cursor::new(bytes.get(start..).unwrap_or(&[]), start, F);
    let what = format!("section {id} header");
    let crc = c.u16(&what)?;
    let found = c.u16(&what)?;
    let len = c.u32(&what)? as usize;
    if found != id {
        return Err(EcgError::new(
            F,
            format!("expected section {id}, found section id {found}"),
        )
        .at(format!("byte {start}")));
    }
    let end = start
        .checked_add(len)
        .filter(|&e| e <= bytes.len() && len >= 16)
        .ok_or_else(|| {
            EcgError::new(
                F,
                format!(
                    "section {id} length {len} runs past the end of the file ({} bytes)",
                    bytes.len()
                ),
            )
            .at(format!("byte {}", start + 4))
        })?;
    let body = bytes.get(start..end).unwrap_or(&[]);
    if crc_ccitt(body.get(2..).unwrap_or(&[])) != crc {
        report.crc_errors.push(format!("section {id}"));
    }
    Ok(Section {
        start,
        data: body.get(16..).unwrap_or(&[]),
    })
}

fn read_section1(s: &Section, ecg: &mut Ecg) -> Result<(), EcgError> {
    let mut c = s.cursor();
    let (mut last, mut first, mut id) = (None, None, None);
    let (mut date, mut time) = (None, None);
    while c.remaining() >= 3 {
        let tag = c.u8("section 1 tag")?;
        let len = usize::from(c.u16("section 1 tag length")?);
        if tag == 255 {
            break;
        }
        let v = c.take(len, &format!("section 1 tag {tag}"))?;
        let text = || Some(field_text(v)).filter(|t| !t.is_empty());
        match tag {
            0 => last = text(),
            1 => first = text(),
            2 => id = text(),
            14 => ecg.device = machine_id(v),
            25 if v.len() >= 4 => {
                let (m, d) = (u32::from(v[2]), u32::from(v[3]));
                let le = i32::from(u16::from_le_bytes([v[0], v[1]]));
                let be = i32::from(u16::from_be_bytes([v[0], v[1]]));
                // Healforce writes the year big-endian.
                let year = if (1900..=2200).contains(&le) { le } else { be };
                date = NaiveDate::from_ymd_opt(year, m, d);
            }
            26 if v.len() >= 3 => {
                time = NaiveTime::from_hms_opt(u32::from(v[0]), u32::from(v[1]), u32::from(v[2]))
            }
            _ => {}
        }
    }
    ecg.acquired_at = date.map(|d| NaiveDateTime::new(d, time.unwrap_or_default()));
    let name = match (first, last) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (f, l) => f.or(l),
    };
    ecg.subject = match (name, id) {
        (Some(n), Some(i)) => Some(format!("{n} ({i})")),
        (n, i) => n.or(i),
    };
    Ok(())
}

/// Tag 14 (acquiring device): model description at bytes 8..14, then after the fixed part
/// NUL-terminated strings; the last one is the manufacturer's trade name.
fn machine_id(v: &[u8]) -> Option<String> {
    let model = field_text(v.get(8..14)?);
    let strings: Vec<String> = v
        .get(36..)
        .unwrap_or(&[])
        .split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).trim().to_string())
        .collect();
    let trade = strings
        .iter()
        .rev()
        .find(|s| !s.is_empty() && *s != "unknown")
        .cloned();
    match (trade, Some(model).filter(|m| !m.is_empty())) {
        (Some(t), Some(m)) if !t.contains(&m) => Some(format!("{t} {m}")),
        (Some(t), _) => Some(t),
        (None, m) => m,
    }
}

struct LeadDef {
    start: usize,
    end: usize,
    name: String,
}

fn read_section3(s: &Section) -> Result<Vec<LeadDef>, EcgError> {
    let mut c = s.cursor();
    let n = c.u8("section 3 lead count")?;
    let _flags = c.u8("section 3 flags")?;
    let mut leads = Vec::with_capacity(usize::from(n));
    for k in 0..n {
        let what = format!("section 3 lead {}", k + 1);
        let start = c.u32(&what)? as usize;
        let end = c.u32(&what)? as usize;
        let id = c.u8(&what)?;
        if end < start {
            return Err(EcgError::new(
                F,
                format!(
                    "lead {} ends (sample {end}) before it starts ({start})",
                    k + 1
                ),
            )
            .at(format!("byte {}", c.offset() - 9)));
        }
        leads.push(LeadDef {
            start,
            end,
            name: scp_lead_name(id),
        });
    }
    Ok(leads)
}

fn scp_lead_name(id: u8) -> String {
    const NAMES: [&str; 75] = [
        "unspecified",
        "I",
        "II",
        "V1",
        "V2",
        "V3",
        "V4",
        "V5",
        "V6",
        "V7",
        "V2R",
        "V3R",
        "V4R",
        "V5R",
        "V6R",
        "V7R",
        "X",
        "Y",
        "Z",
        "CC5",
        "CM5",
        "LA",
        "RA",
        "LL",
        "fI",
        "fE",
        "fC",
        "fA",
        "fM",
        "fF",
        "fH",
        "dI",
        "dII",
        "dV1",
        "dV2",
        "dV3",
        "dV4",
        "dV5",
        "dV6",
        "dV7",
        "dV2R",
        "dV3R",
        "dV4R",
        "dV5R",
        "dV6R",
        "dV7R",
        "dX",
        "dY",
        "dZ",
        "dCC5",
        "dCM5",
        "dLA",
        "dRA",
        "dLL",
        "dfI",
        "dfE",
        "dfC",
        "dfA",
        "dfM",
        "dfF",
        "dfH",
        "III",
        "aVR",
        "aVL",
        "aVF",
        "-aVR",
        "V8",
        "V9",
        "V8R",
        "V9R",
        "D",
        "A",
        "J",
        "Defib",
        "Extern",
    ];
    NAMES
        .get(usize::from(id))
        .map(|n| lead_name(n))
        .unwrap_or_else(|| format!("lead id {id}"))
}

#[derive(Clone, Copy)]
struct Code {
    prefix: u8,
    total: u8,
    switch: u8,
    value: i16,
    code: u32,
}

fn default_table() -> Vec<Code> {
    let mut t = vec![Code {
        prefix: 1,
        total: 1,
        switch: 1,
        value: 0,
        code: 0,
    }];
    for k in 1..=8u8 {
        // k ones then 0 then sign bit: 3 bits for +-1, ... 10 bits for +-8.
        let len = k + 2;
        let ones = ((1u32 << k) - 1) << 2;
        t.push(Code {
            prefix: len,
            total: len,
            switch: 1,
            value: i16::from(k),
            code: ones,
        });
        t.push(Code {
            prefix: len,
            total: len,
            switch: 1,
            value: -i16::from(k),
            code: ones | 1,
        });
    }
    t.push(Code {
        prefix: 10,
        total: 18,
        switch: 1,
        value: 0,
        code: 0b11_1111_1110,
    });
    t.push(Code {
        prefix: 10,
        total: 26,
        switch: 1,
        value: 0,
        code: 0b11_1111_1111,
    });
    t
}

/// Tables of section 2, or `[default]` for table number 19999.
fn read_section2(s: &Section) -> Result<Vec<Vec<Code>>, EcgError> {
    let mut c = s.cursor();
    let n = c.u16("section 2 table count")?;
    if n == 19999 {
        return Ok(vec![default_table()]);
    }
    let mut tables = Vec::new();
    for t in 0..n {
        let at = c.offset();
        let count = usize::from(c.u16("section 2 code count")?);
        if count.saturating_mul(9) > c.remaining() {
            return Err(EcgError::new(
                F,
                format!(
                    "Huffman table {} declares {count} codes, more than fit",
                    t + 1
                ),
            )
            .at(format!("byte {at}")));
        }
        let mut codes = Vec::with_capacity(count);
        for _ in 0..count {
            let prefix = c.u8("Huffman code")?;
            let total = c.u8("Huffman code")?;
            let switch = c.u8("Huffman code")?;
            let value = c.i16("Huffman code")?;
            let raw = c.u32("Huffman code")?;
            if prefix == 0 || prefix > 32 || total < prefix || total - prefix > 32 {
                return Err(EcgError::new(
                    F,
                    format!("Huffman code of {prefix}/{total} bits is invalid"),
                )
                .at(format!("byte {}", c.offset() - 9)));
            }
            // The code is stored least significant bit first.
            let code = raw.reverse_bits() >> (32 - u32::from(prefix));
            codes.push(Code {
                prefix,
                total,
                switch,
                value,
                code,
            });
        }
        tables.push(codes);
    }
    if tables.is_empty() {
        return Err(
            EcgError::new(F, "section 2 has no Huffman table").at(format!("byte {}", s.start + 16))
        );
    }
    Ok(tables)
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Option<u32> {
        let byte = self.data.get(self.pos / 8)?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(b))
    }

    fn bits(&mut self, n: u8) -> Option<u32> {
        (0..n).try_fold(0u32, |acc, _| Some((acc << 1) | self.bit()?))
    }
}

/// Decodes `n` values of one lead (Huffman, or 16-bit values without section 2).
fn decode_lead(
    data: &[u8],
    tables: Option<&[Vec<Code>]>,
    n: usize,
    at: usize,
    k: usize,
) -> Result<Vec<i32>, EcgError> {
    let short = |got: usize| {
        EcgError::new(
            F,
            format!("lead {} data ends after {got} of {n} samples", k + 1),
        )
        .at(format!("byte {}", at + data.len()))
    };
    let Some(tables) = tables else {
        if data.len() / 2 < n {
            return Err(short(data.len() / 2));
        }
        return Ok(data
            .chunks_exact(2)
            .take(n)
            .map(|c| i32::from(i16::from_le_bytes([c[0], c[1]])))
            .collect());
    };
    // Each value takes at least one bit.
    let mut out = Vec::with_capacity(n.min(data.len().saturating_mul(8)));
    let mut bits = Bits { data, pos: 0 };
    // Codes grouped by length: only those of the current length are compared.
    let by_len: Vec<Vec<Vec<Code>>> = tables
        .iter()
        .map(|t| {
            let mut g: Vec<Vec<Code>> = vec![Vec::new(); 33];
            for c in t {
                if let Some(v) = g.get_mut(usize::from(c.prefix)) {
                    v.push(*c);
                }
            }
            g
        })
        .collect();
    let mut table = by_len.first().map(Vec::as_slice).unwrap_or(&[]);
    while out.len() < n {
        let (mut acc, mut len) = (0u32, 0u8);
        let code = loop {
            let Some(b) = bits.bit() else {
                return Err(short(out.len()));
            };
            acc = (acc << 1) | b;
            len += 1;
            if let Some(c) = table
                .get(usize::from(len))
                .and_then(|t| t.iter().find(|c| c.code == acc))
            {
                break *c;
            }
            if len >= 32 {
                return Err(
                    EcgError::new(F, format!("lead {}: no Huffman code matches", k + 1))
                        .at(format!("byte {}", at + bits.pos / 8)),
                );
            }
        };
        if code.switch == 0 {
            table = usize::try_from(code.value)
                .ok()
                .and_then(|t| by_len.get(t.checked_sub(1)?))
                .map(Vec::as_slice)
                .ok_or_else(|| {
                    EcgError::new(
                        F,
                        format!(
                            "lead {}: switch to missing Huffman table {}",
                            k + 1,
                            code.value
                        ),
                    )
                    .at(format!("byte {}", at + bits.pos / 8))
                })?;
            continue;
        }
        let extra = code.total - code.prefix;
        let v = if extra > 0 {
            let raw = bits.bits(extra).ok_or_else(|| short(out.len()))?;
            let shift = 32 - u32::from(extra);
            ((raw << shift) as i32) >> shift
        } else {
            i32::from(code.value)
        };
        out.push(v);
    }
    Ok(out)
}

fn undo_differences(mut v: Vec<i32>, diff: u8, at: usize) -> Result<Vec<i32>, EcgError> {
    match diff {
        0 => {}
        1 => {
            for i in 1..v.len() {
                v[i] = v[i].wrapping_add(v[i - 1]);
            }
        }
        2 => {
            for i in 2..v.len() {
                v[i] = v[i]
                    .wrapping_add(v[i - 1].wrapping_mul(2))
                    .wrapping_sub(v[i - 2]);
            }
        }
        d => {
            return Err(
                EcgError::new(F, format!("difference encoding {d} is unknown (0, 1 or 2)"))
                    .at(format!("byte {at}")),
            )
        }
    }
    Ok(v)
}

/// Undoes reference beat subtraction: adds the section 5 beat back around each type-0 QRS.
fn add_reference_beats(
    s4: &Section,
    s5: &Section,
    leads: &[LeadDef],
    tables: Option<&[Vec<Code>]>,
    avm6: u16,
    interval6: u16,
    rhythm: &mut [Vec<i32>],
) -> Result<(), EcgError> {
    let mut c4 = s4.cursor();
    let beat_len = usize::from(c4.u16("section 4 reference beat length")?);
    let fcm = usize::from(c4.u16("section 4 fiducial")?);
    let n_qrs = usize::from(c4.u16("section 4 QRS count")?);
    let mut qrs = Vec::with_capacity(n_qrs.min(c4.remaining() / 14));
    for _ in 0..n_qrs {
        let t = c4.u16("section 4 QRS")?;
        let sb = c4.u32("section 4 QRS")? as usize;
        let fc = c4.u32("section 4 QRS")? as usize;
        let se = c4.u32("section 4 QRS")? as usize;
        qrs.push((t, sb, fc, se));
    }
    let mut c5 = s5.cursor();
    let avm5 = c5.u16("section 5 amplitude multiplier")?;
    let interval5 = c5.u16("section 5 sample interval")?;
    let diff5 = c5.u8("section 5 difference flag")?;
    let _ = c5.u8("section 5 reserved")?;
    if avm5 != avm6 || interval5 != interval6 {
        return Err(EcgError::new(
            F,
            format!(
                "reference beat ({avm5} nV, {interval5} us) and rhythm ({avm6} nV, {interval6} us) differ: \
                 not supported"
            ),
        )
        .at(format!("section 5 byte {}", s5.start + 16)));
    }
    let lens: Vec<usize> = (0..leads.len())
        .map(|_| c5.u16("section 5 lead lengths").map(usize::from))
        .collect::<Result<_, _>>()?;
    for (k, len) in lens.iter().enumerate() {
        let at = c5.offset();
        let data = c5.take(*len, &format!("reference beat of lead {}", k + 1))?;
        let beat = undo_differences(decode_lead(data, tables, beat_len, at, k)?, diff5, at)?;
        let (Some(lead), Some(r)) = (leads.get(k), rhythm.get_mut(k)) else {
            continue;
        };
        for &(t, sb, fc, se) in &qrs {
            if t != 0 {
                continue;
            }
            for pos in sb..=se {
                // 1-based sample numbers; beat index = pos - fc + fcm.
                let Some(bi) = (pos + fcm).checked_sub(fc).and_then(|b| b.checked_sub(1)) else {
                    continue;
                };
                let Some(ri) = pos.checked_sub(lead.start) else {
                    continue;
                };
                if let (Some(x), Some(b)) = (r.get_mut(ri), beat.get(bi)) {
                    *x = x.wrapping_add(*b);
                }
            }
        }
    }
    Ok(())
}

/// Healforce rhythm: four 10-bit samples (offset binary) in three 16-bit words, the channels
/// interleaved, the sampling rate written in Hz where the standard has microseconds.
fn healforce_rhythm(s3: &Section, s6: &Section, ecg: &mut Ecg) -> Result<(), EcgError> {
    let channels = usize::from(*s3.data.first().ok_or_else(|| {
        EcgError::new(F, "section 3 is empty").at(format!("byte {}", s3.start + 16))
    })?);
    if channels == 0 {
        return Err(
            EcgError::new(F, "section 3 declares no leads").at(format!("byte {}", s3.start + 16))
        );
    }
    let mut c = s6.cursor();
    let avm = c.u16("section 6 amplitude multiplier")?;
    let rate = c.u16("section 6 sample rate")?;
    let _diff = c.u8("section 6 difference flag")?;
    let _bimodal = c.u8("section 6 bimodal flag")?;
    let len = usize::from(c.u16("section 6 data length")?);
    let data = c.take(len, "rhythm data")?;
    if rate == 0 || avm == 0 {
        return Err(EcgError::new(F, "sample rate or amplitude multiplier is 0")
            .at(format!("byte {}", s6.start + 16)));
    }
    let mut flat = Vec::with_capacity(data.len() / 6 * 4);
    for w in data.chunks_exact(6) {
        let w: [u16; 3] = [
            u16::from_le_bytes([w[0], w[1]]),
            u16::from_le_bytes([w[2], w[3]]),
            u16::from_le_bytes([w[4], w[5]]),
        ];
        let fourth = ((w[0] & 0x3C00) >> 2) | ((w[1] & 0x3C00) >> 6) | ((w[2] & 0x3C00) >> 10);
        for v in [w[0], w[1], w[2], fourth] {
            flat.push(i32::from(v & 0x3FF) - 512);
        }
    }
    let per = flat.len() / channels;
    let names: Vec<String> = match channels {
        3 => vec!["I".into(), "II".into(), "III".into()],
        1 => vec!["I".into()],
        n => (1..=n).map(|k| format!("channel {k}")).collect(),
    };
    ecg.leads = names
        .into_iter()
        .enumerate()
        .map(|(k, name)| Lead {
            name,
            samples: flat
                .iter()
                .skip(k)
                .step_by(channels)
                .take(per)
                .copied()
                .collect(),
            uv_per_unit: f64::from(avm) / 1000.0,
        })
        .collect();
    ecg.sampling_hz = f64::from(rate);
    if ecg.device.is_none() {
        ecg.device = Some("Healforce".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_reference() {
        // CRC-CCITT (0xFFFF) of "123456789" is 0x29B1.
        assert_eq!(crc_ccitt(b"123456789"), 0x29B1);
    }

    #[test]
    fn default_huffman() {
        // 0 | 100 (+1) | 101 (-1) | 1111111110 + 8 bits (-3) | pad
        let bits = "0100101111111111011111101";
        let mut bytes = vec![0u8; bits.len().div_ceil(8)];
        for (i, b) in bits.bytes().enumerate() {
            if b == b'1' {
                bytes[i / 8] |= 0x80 >> (i % 8);
            }
        }
        let t = vec![default_table()];
        assert_eq!(
            decode_lead(&bytes, Some(&t), 4, 0, 0).unwrap(),
            vec![0, 1, -1, -3]
        );
        assert_eq!(
            undo_differences(vec![1, 2, 0, 0], 2, 0).unwrap(),
            vec![1, 2, 3, 4]
        );
    }
}
