//! The address index: Base Adresse Nationale (BAN) files read, and search as a dispatcher types.
//!
//! Pure: no HTTP, no SQL. `import.rs` stores what [`BanReader`] reads; the hub builds an
//! [`AddressIndex`] from the store and answers [`AddressIndex::search`] from memory.
//!
//! How search works. A département holds ~600,000 addresses but only ~20,000 streets, so the
//! index searches streets and then picks the house number inside the street found:
//! - Text is folded to lowercase ASCII words (accents stripped, `œ` → `oe`, punctuation as spaces)
//!   and common abbreviations are expanded (`r` → `rue`, `bd` → `boulevard`, `st` → `saint`), the
//!   same way for the addresses and the query. A leading house number (`12`, `12bis`, `12 ter`)
//!   is split off the query.
//! - Each street is a small bag of words: its name and commune (the words it should be found by),
//!   plus its postcode and former commune (words it may also be found by). The distinct words form
//!   a sorted vocabulary, with for each word the streets holding it (postings) and a weight (rarer
//!   words say more: `grenoble` outweighs `rue`).
//! - Each query word is matched against the vocabulary: exactly; by prefix (the last word while it
//!   is typed, or a cut-short word such as `alp`); or, when neither matches, within a small edit
//!   distance (one typo up to 7 letters, two from 8), found through a trigram index over the
//!   vocabulary (a few tens of thousands of words, not addresses) and checked with `strsim`.
//! - Streets collect the weights of the query words they hold; the best few hundred are then
//!   scored precisely: how much of the query they cover, how much of their own name and commune
//!   the query covers, a touch of commune size, and whether the house number exists.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};

use serde::{Deserialize, Serialize};

/// One address, as read from a BAN file or from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    /// The BAN identifier (`38185_1234_00012`), when the file has one.
    pub ban_id: Option<String>,
    pub housenumber: u32,
    /// Repetition index, lowercase: `""`, `bis`, `ter`, `a`, ...
    pub rep: String,
    pub street: String,
    /// Five digits, or empty when BAN has none.
    pub postcode: String,
    /// INSEE code of the commune (`38185`, `2A004`).
    pub citycode: String,
    pub city: String,
    /// The former commune, for a commune nouvelle (`nom_ancienne_commune`).
    pub old_city: Option<String>,
    pub lat: f64,
    pub lon: f64,
}

impl Address {
    /// The département the address is in, from its INSEE code: `38`, `2A`, `971`.
    pub fn department(&self) -> &str {
        department_of(&self.citycode)
    }
}

/// The département of an INSEE commune code: three characters overseas (`97x`), else two.
pub fn department_of(citycode: &str) -> &str {
    let n = if citycode.starts_with("97") || citycode.starts_with("98") {
        3
    } else {
        2
    };
    citycode.get(..n).unwrap_or(citycode)
}

/// One answer of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Hit {
    /// What to show: `12 Rue des Alpes 38000 Grenoble`.
    pub label: String,
    /// `12`, `12bis`; null when the hit is a whole street (no number asked for).
    pub housenumber: Option<String>,
    pub street: String,
    pub postcode: String,
    /// INSEE code of the commune.
    pub citycode: String,
    pub city: String,
    pub lat: f64,
    pub lon: f64,
    /// 0 to 1, higher is better.
    pub score: f64,
}

// ---------------------------------------------------------------------------------------------
// Reading BAN files

/// Why a BAN file cannot be read. Row errors name the line (1 is the header) and the column.
#[derive(Debug, thiserror::Error)]
pub enum BanError {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is gzip-compressed: uncompress it first (gunzip adresses-XX.csv.gz)")]
    Compressed,
    #[error("line 1: not a BAN address file (fields separated by ';'): no column {0}")]
    MissingColumn(&'static str),
    #[error("the file holds no address")]
    Empty,
    #[error("line {line}, column {column}: {message}")]
    Row {
        line: u64,
        column: String,
        message: String,
    },
}

/// Where the columns used are, found by header name.
struct Columns {
    id: Option<usize>,
    numero: usize,
    rep: Option<usize>,
    nom_voie: usize,
    code_postal: Option<usize>,
    code_insee: usize,
    nom_commune: usize,
    ancienne: Option<usize>,
    lon: usize,
    lat: usize,
}

/// Reads a BAN address file (`adresses-XX.csv` of adresse.data.gouv.fr: `;`-separated UTF-8 with
/// a header line), one [`Address`] per row. Columns are found by name; `id`, `rep`, `code_postal`
/// and `nom_ancienne_commune` may be absent. The first bad row ends the reading with an error.
pub struct BanReader<R: Read> {
    csv: csv::Reader<BufReader<R>>,
    headers: Vec<String>,
    cols: Columns,
    record: csv::ByteRecord,
    failed: bool,
}

impl<R: Read> BanReader<R> {
    pub fn new(reader: R) -> Result<BanReader<R>, BanError> {
        let mut buf = BufReader::with_capacity(1 << 16, reader);
        if buf.fill_buf()?.starts_with(&[0x1f, 0x8b]) {
            return Err(BanError::Compressed);
        }
        let mut csv = csv::ReaderBuilder::new().delimiter(b';').from_reader(buf);
        let headers: Vec<String> = csv
            .byte_headers()
            .map_err(|e| csv_error(e, &[]))?
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_owned())
            .collect();
        let find = |name: &str| headers.iter().position(|h| h == name);
        let need = |name: &'static str| find(name).ok_or(BanError::MissingColumn(name));
        let cols = Columns {
            id: find("id"),
            numero: need("numero")?,
            rep: find("rep"),
            nom_voie: need("nom_voie")?,
            code_postal: find("code_postal"),
            code_insee: need("code_insee")?,
            nom_commune: need("nom_commune")?,
            ancienne: find("nom_ancienne_commune"),
            lon: need("lon")?,
            lat: need("lat")?,
        };
        Ok(BanReader {
            csv,
            headers,
            cols,
            record: csv::ByteRecord::new(),
            failed: false,
        })
    }

    fn row(&self) -> Result<Address, BanError> {
        let rec = &self.record;
        let line = rec.position().map_or(0, |p| p.line());
        let bad = |col: usize, message: String| BanError::Row {
            line,
            column: self.headers[col].clone(),
            message,
        };
        let text = |col: usize| -> Result<&str, BanError> {
            let raw = rec.get(col).unwrap_or_default();
            std::str::from_utf8(raw).map(str::trim).map_err(|_| {
                bad(
                    col,
                    "not UTF-8 text (BAN files are UTF-8: was the file re-encoded?)".into(),
                )
            })
        };
        let required = |col: usize| -> Result<&str, BanError> {
            let v = text(col)?;
            if v.is_empty() {
                Err(bad(col, "empty".into()))
            } else {
                Ok(v)
            }
        };
        let coordinate = |col: usize, max: f64| -> Result<f64, BanError> {
            let v = required(col)?;
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && x.abs() <= max)
                .ok_or_else(|| bad(col, format!("{v:?} is not a coordinate in degrees")))
        };
        let c = &self.cols;
        let numero = required(c.numero)?;
        let housenumber = numero
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= 999_999 && numero.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| bad(c.numero, format!("{numero:?} is not a house number")))?;
        let rep = match c.rep {
            Some(col) => {
                let v = text(col)?;
                if v.len() > 12 || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(bad(
                        col,
                        format!("{v:?} is not a repetition index (bis, ter, a...)"),
                    ));
                }
                v.to_ascii_lowercase()
            }
            None => String::new(),
        };
        let citycode = required(c.code_insee)?;
        if citycode.len() != 5 || !citycode.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad(
                c.code_insee,
                format!("{citycode:?} is not an INSEE commune code"),
            ));
        }
        let postcode = match c.code_postal {
            Some(col) => {
                let v = text(col)?;
                if !(v.is_empty() || (v.len() == 5 && v.bytes().all(|b| b.is_ascii_digit()))) {
                    return Err(bad(col, format!("{v:?} is not a postcode")));
                }
                v
            }
            None => "",
        };
        let old_city = match c.ancienne {
            Some(col) => Some(text(col)?)
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
            None => None,
        };
        let ban_id = match c.id {
            Some(col) => Some(text(col)?)
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
            None => None,
        };
        Ok(Address {
            ban_id,
            housenumber,
            rep,
            street: required(c.nom_voie)?.to_owned(),
            postcode: postcode.to_owned(),
            citycode: citycode.to_owned(),
            city: required(c.nom_commune)?.to_owned(),
            old_city,
            lat: coordinate(c.lat, 90.0)?,
            lon: coordinate(c.lon, 180.0)?,
        })
    }
}

impl<R: Read> Iterator for BanReader<R> {
    type Item = Result<Address, BanError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let result = match self.csv.read_byte_record(&mut self.record) {
            Ok(false) => return None,
            Ok(true) => self.row(),
            Err(e) => Err(csv_error(e, &self.headers)),
        };
        self.failed = result.is_err();
        Some(result)
    }
}

fn csv_error(e: csv::Error, headers: &[String]) -> BanError {
    let line = e.position().map_or(0, |p| p.line());
    match e.into_kind() {
        csv::ErrorKind::Io(io) => BanError::Io(io),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            let column = if len < expected_len {
                headers.get(len as usize).cloned().unwrap_or_default()
            } else {
                format!("after {}", headers.last().cloned().unwrap_or_default())
            };
            BanError::Row {
                line,
                column,
                message: format!("{len} fields where the header has {expected_len}"),
            }
        }
        other => BanError::Row {
            line,
            column: "-".into(),
            message: format!("{other:?}"),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Text normalisation

/// Abbreviations of street types, titles and saints, as written on envelopes, with the word they
/// stand for. Applied to addresses and queries alike.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("all", "allee"),
    ("av", "avenue"),
    ("ave", "avenue"),
    ("bd", "boulevard"),
    ("bld", "boulevard"),
    ("blvd", "boulevard"),
    ("boul", "boulevard"),
    ("bvd", "boulevard"),
    ("cdt", "commandant"),
    ("ch", "chemin"),
    ("chem", "chemin"),
    ("crs", "cours"),
    ("dr", "docteur"),
    ("fbg", "faubourg"),
    ("fg", "faubourg"),
    ("gal", "general"),
    ("ham", "hameau"),
    ("imp", "impasse"),
    ("mte", "montee"),
    ("pdt", "president"),
    ("pl", "place"),
    ("prom", "promenade"),
    ("r", "rue"),
    ("res", "residence"),
    ("rte", "route"),
    ("sq", "square"),
    ("st", "saint"),
    ("ste", "sainte"),
];

/// The word an abbreviation stands for, or the word itself.
fn expand(word: &str) -> &str {
    ABBREVIATIONS
        .binary_search_by(|(a, _)| (*a).cmp(word))
        .map_or(word, |i| ABBREVIATIONS[i].1)
}

/// Lowercase ASCII with accents stripped (`Saint-Égrève` → `saint egreve`, `Cœur` → `coeur`);
/// every character other than a letter or digit becomes a space.
pub fn fold(text: &str) -> String {
    let ascii = if text.is_ascii() {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(deunicode::deunicode(text))
    };
    ascii
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect()
}

/// The words of `text`, folded and with abbreviations expanded: `Bd St-Égrève` → `boulevard saint egreve`.
pub fn normalize(text: &str) -> Vec<String> {
    fold(text)
        .split_ascii_whitespace()
        .map(|w| expand(w).to_owned())
        .collect()
}

const REPS: &[&str] = &["bis", "ter", "quater", "quinquies"];

/// A query taken apart: house number, words, and whether the last word may still be being typed.
#[derive(Debug, PartialEq)]
struct Query {
    number: Option<(u32, String)>,
    /// (expanded word, word as typed)
    words: Vec<(String, String)>,
    last_is_prefix: bool,
}

/// A leading `12`, `12bis`, `12b`; `None` for anything else (a postcode has five digits).
fn house_number(word: &str) -> Option<(u32, String)> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 4 {
        return None;
    }
    let (n, rest) = word.split_at(digits);
    let single_letter = rest.len() == 1 && rest.bytes().all(|b| b.is_ascii_lowercase());
    if rest.is_empty() || single_letter || REPS.contains(&rest) {
        Some((n.parse().ok()?, rest.to_owned()))
    } else {
        None
    }
}

fn parse_query(text: &str) -> Query {
    let folded = fold(text);
    let mut raw: Vec<&str> = folded.split_ascii_whitespace().collect();
    let mut number = None;
    if let Some(n) = raw.first().and_then(|w| house_number(w)) {
        raw.remove(0);
        number = Some(n);
        if let Some((_, rep)) = &mut number {
            if rep.is_empty() && raw.first().is_some_and(|w| REPS.contains(w)) {
                *rep = raw.remove(0).to_owned();
            }
        }
    }
    Query {
        number,
        words: raw
            .into_iter()
            .map(|w| (expand(w).to_owned(), w.to_owned()))
            .collect(),
        last_is_prefix: text.chars().last().is_some_and(char::is_alphanumeric),
    }
}

// ---------------------------------------------------------------------------------------------
// The index

/// A street of a commune, with its house numbers (a range of `AddressIndex::numbers`) and its words
/// (a range of `AddressIndex::street_words`: the first `cover` ones name the street and commune).
#[derive(Debug)]
struct Street {
    name: Box<str>,
    postcode: Box<str>,
    citycode: Box<str>,
    city: Box<str>,
    numbers: (u32, u32),
    words: (u32, u32),
    cover: u32,
    /// 0 to 1: the size of its commune, for ties.
    importance: f32,
}

#[derive(Debug, Clone, Copy)]
struct Number {
    number: u32,
    /// Index into `AddressIndex::reps`; 0 is no repetition.
    rep: u16,
    lat: f64,
    lon: f64,
}

/// Searchable addresses, in memory. Build it with [`IndexBuilder`]; cheap to search from many
/// threads (`&self`).
#[derive(Debug, Default)]
pub struct AddressIndex {
    streets: Vec<Street>,
    numbers: Vec<Number>,
    reps: Vec<Box<str>>,
    /// The vocabulary, sorted, so that the words sharing a prefix are one id range.
    words: Vec<Box<str>>,
    idf: Vec<f32>,
    /// `postings[postings_at[w]..postings_at[w + 1]]`: the streets holding word `w`.
    postings_at: Vec<u32>,
    postings: Vec<u32>,
    street_words: Vec<u32>,
    /// Padded trigram (three bytes packed) → range of `trigram_words`: the words holding it.
    trigrams: HashMap<u32, (u32, u32)>,
    trigram_words: Vec<u32>,
    /// Words held by more streets than this are too common to pick candidates with.
    common_df: u32,
}

/// Collects addresses (deduplicating streets as they come) and builds the [`AddressIndex`].
#[derive(Default)]
pub struct IndexBuilder {
    keys: HashMap<String, u32>,
    key: String,
    streets: Vec<[Box<str>; 5]>,
    numbers: Vec<(u32, Number)>,
    rep_ids: HashMap<String, u16>,
    reps: Vec<Box<str>>,
}

impl IndexBuilder {
    pub fn new() -> IndexBuilder {
        IndexBuilder::default()
    }

    /// How many addresses were added.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    pub fn add(&mut self, a: &Address) {
        let old_city = a.old_city.as_deref().unwrap_or_default();
        self.key.clear();
        let _ = write!(
            self.key,
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            a.street, a.postcode, a.citycode, a.city, old_city
        );
        let street = match self.keys.get(&self.key) {
            Some(&id) => id,
            None => {
                let id = self.streets.len() as u32;
                self.keys.insert(self.key.clone(), id);
                self.streets.push([
                    a.street.as_str().into(),
                    a.postcode.as_str().into(),
                    a.citycode.as_str().into(),
                    a.city.as_str().into(),
                    old_city.into(),
                ]);
                id
            }
        };
        if self.reps.is_empty() {
            self.reps.push("".into());
            self.rep_ids.insert(String::new(), 0);
        }
        let rep = match self.rep_ids.get(&a.rep) {
            Some(&r) => r,
            None if self.reps.len() < u16::MAX as usize => {
                let r = self.reps.len() as u16;
                self.reps.push(a.rep.as_str().into());
                self.rep_ids.insert(a.rep.clone(), r);
                r
            }
            None => 0,
        };
        self.numbers.push((
            street,
            Number {
                number: a.housenumber,
                rep,
                lat: a.lat,
                lon: a.lon,
            },
        ));
    }

    pub fn build(mut self) -> AddressIndex {
        // House numbers grouped by street, in order; repeated addresses (same street, number and
        // repetition) are kept once.
        self.numbers.sort_unstable_by(|a, b| {
            (a.0, a.1.number, &self.reps[a.1.rep as usize]).cmp(&(
                b.0,
                b.1.number,
                &self.reps[b.1.rep as usize],
            ))
        });
        self.numbers
            .dedup_by(|a, b| a.0 == b.0 && a.1.number == b.1.number && a.1.rep == b.1.rep);
        let mut ranges = vec![(0u32, 0u32); self.streets.len()];
        let mut i = 0;
        while i < self.numbers.len() {
            let s = self.numbers[i].0;
            let start = i;
            while i < self.numbers.len() && self.numbers[i].0 == s {
                i += 1;
            }
            ranges[s as usize] = (start as u32, i as u32);
        }
        let numbers: Vec<Number> = self.numbers.iter().map(|(_, n)| *n).collect();

        // Words of each street: name and commune first (cover), then postcode and former commune.
        let street_words: Vec<(Vec<String>, usize)> = self
            .streets
            .iter()
            .map(|[name, postcode, _, city, old_city]| {
                let mut words = normalize(name);
                words.extend(normalize(city));
                dedup_keep_order(&mut words);
                let cover = words.len();
                let mut extra = Vec::new();
                if !postcode.is_empty() {
                    extra.push(postcode.to_string());
                }
                if !old_city.is_empty() {
                    extra.extend(normalize(old_city));
                }
                for w in extra {
                    if !words.contains(&w) {
                        words.push(w);
                    }
                }
                (words, cover)
            })
            .collect();
        let mut vocabulary: Vec<&str> = street_words
            .iter()
            .flat_map(|(w, _)| w.iter().map(String::as_str))
            .collect();
        vocabulary.sort_unstable();
        vocabulary.dedup();
        let ids: HashMap<&str, u32> = vocabulary
            .iter()
            .enumerate()
            .map(|(i, w)| (*w, i as u32))
            .collect();

        let mut df = vec![0u32; vocabulary.len()];
        let mut flat = Vec::new();
        let mut word_ranges = Vec::with_capacity(street_words.len());
        for (words, _) in &street_words {
            let start = flat.len() as u32;
            for w in words {
                let id = ids[w.as_str()];
                df[id as usize] += 1;
                flat.push(id);
            }
            word_ranges.push((start, flat.len() as u32));
        }
        let mut postings_at = Vec::with_capacity(df.len() + 1);
        let mut total = 0u32;
        for d in &df {
            postings_at.push(total);
            total += d;
        }
        postings_at.push(total);
        let mut postings = vec![0u32; total as usize];
        let mut fill = postings_at.clone();
        for (s, &(a, b)) in word_ranges.iter().enumerate() {
            for &w in &flat[a as usize..b as usize] {
                postings[fill[w as usize] as usize] = s as u32;
                fill[w as usize] += 1;
            }
        }
        let n = self.streets.len().max(1) as f32;
        let idf = df.iter().map(|&d| (1.0 + n / d as f32).ln()).collect();

        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for (id, w) in vocabulary.iter().enumerate() {
            let mut grams: Vec<u32> = trigrams(w, true).collect();
            grams.sort_unstable();
            grams.dedup();
            pairs.extend(grams.into_iter().map(|g| (g, id as u32)));
        }
        pairs.sort_unstable();
        let mut trigram_index = HashMap::new();
        let mut i = 0;
        while i < pairs.len() {
            let g = pairs[i].0;
            let start = i;
            while i < pairs.len() && pairs[i].0 == g {
                i += 1;
            }
            trigram_index.insert(g, (start as u32, i as u32));
        }

        // Commune size, for ties: the log of its number of addresses, relative to the largest.
        let mut per_city: HashMap<&str, u32> = HashMap::new();
        for (s, &(a, b)) in ranges.iter().enumerate() {
            *per_city.entry(&self.streets[s][2]).or_default() += b - a;
        }
        let largest = per_city.values().copied().max().unwrap_or(1) as f32;
        let streets = self
            .streets
            .iter()
            .enumerate()
            .map(|(s, [name, postcode, citycode, city, _])| Street {
                importance: (1.0 + per_city[&**citycode] as f32).ln() / (1.0 + largest).ln(),
                name: name.clone(),
                postcode: postcode.clone(),
                citycode: citycode.clone(),
                city: city.clone(),
                numbers: ranges[s],
                words: word_ranges[s],
                cover: street_words[s].1 as u32,
            })
            .collect::<Vec<_>>();
        let words = vocabulary.iter().map(|w| Box::<str>::from(*w)).collect();
        AddressIndex {
            common_df: (streets.len() as u32 / 5).max(200),
            streets,
            numbers,
            reps: std::mem::take(&mut self.reps),
            words,
            idf,
            postings_at,
            postings,
            street_words: flat,
            trigrams: trigram_index,
            trigram_words: pairs.into_iter().map(|(_, w)| w).collect(),
        }
    }
}

fn dedup_keep_order(words: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    words.retain(|w| seen.insert(w.clone()));
}

/// Trigrams of ` word ` (padded with a space both sides, or only in front for a prefix), packed.
fn trigrams(word: &str, whole: bool) -> impl Iterator<Item = u32> + '_ {
    let b = word.as_bytes();
    let len = b.len() + if whole { 2 } else { 1 };
    let at = move |i: usize| -> u32 {
        if i == 0 || i > b.len() {
            b' ' as u32
        } else {
            b[i - 1] as u32
        }
    };
    (0..len.saturating_sub(2)).map(move |i| (at(i) << 16) | (at(i + 1) << 8) | at(i + 2))
}

/// How a query word matches the vocabulary.
#[derive(Debug)]
struct WordMatch {
    exact: Option<u32>,
    /// Words `lo..hi` start with the typed word; similarity `base + span * typed / word length`.
    prefix: Option<(u32, u32, f32, f32)>,
    typed_len: usize,
    /// Words within a small edit distance, with their similarity.
    fuzzy: Vec<(u32, f32)>,
    weight: f32,
}

impl WordMatch {
    fn sim(&self, w: u32, index: &AddressIndex) -> f32 {
        if self.exact == Some(w) {
            return 1.0;
        }
        let mut best = 0.0f32;
        if let Some((lo, hi, base, span)) = self.prefix {
            if (lo..hi).contains(&w) {
                best = base + span * self.typed_len as f32 / index.words[w as usize].len() as f32;
            }
        }
        for &(f, s) in &self.fuzzy {
            if f == w && s > best {
                best = s;
            }
        }
        best
    }

    /// Every matched word with its similarity.
    fn for_each(&self, index: &AddressIndex, mut f: impl FnMut(u32, f32)) {
        if let Some(w) = self.exact {
            f(w, 1.0);
        }
        if let Some((lo, hi, _, _)) = self.prefix {
            for w in lo..hi {
                if Some(w) != self.exact {
                    f(w, self.sim(w, index));
                }
            }
        }
        for &(w, s) in &self.fuzzy {
            f(w, s);
        }
    }
}

/// Streets scored precisely after the first pass.
const CANDIDATES: usize = 200;

impl AddressIndex {
    /// How many addresses (house numbers) the index holds.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// How many streets (a street name in a commune) the index holds.
    pub fn streets(&self) -> usize {
        self.streets.len()
    }

    /// An estimate of the memory the index holds, in bytes.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let strs = |v: &[Box<str>]| {
            v.iter()
                .map(|s| s.len() + size_of::<Box<str>>())
                .sum::<usize>()
        };
        self.streets
            .iter()
            .map(|s| {
                size_of::<Street>()
                    + s.name.len()
                    + s.postcode.len()
                    + s.citycode.len()
                    + s.city.len()
            })
            .sum::<usize>()
            + self.numbers.capacity() * size_of::<Number>()
            + strs(&self.reps)
            + strs(&self.words)
            + (self.idf.len()
                + self.postings_at.len()
                + self.postings.len()
                + self.street_words.len())
                * 4
            + self.trigrams.capacity() * (size_of::<(u32, (u32, u32))>() + 1)
            + self.trigram_words.len() * 4
    }

    fn word_id(&self, w: &str) -> Option<u32> {
        self.words
            .binary_search_by(|x| (**x).cmp(w))
            .ok()
            .map(|i| i as u32)
    }

    /// The ids of the words starting with `p`, as a range (words are sorted).
    fn prefix_range(&self, p: &str) -> (u32, u32) {
        let lo = self.words.partition_point(|w| &**w < p);
        let hi = lo + self.words[lo..].partition_point(|w| w.starts_with(p));
        (lo as u32, hi as u32)
    }

    fn postings(&self, w: u32) -> &[u32] {
        let (a, b) = (
            self.postings_at[w as usize] as usize,
            self.postings_at[w as usize + 1] as usize,
        );
        &self.postings[a..b]
    }

    fn df(&self, w: u32) -> u32 {
        self.postings_at[w as usize + 1] - self.postings_at[w as usize]
    }

    /// Words within `max` edits of `typed` (or of its first letters when `prefix`), via the
    /// trigrams they share.
    fn fuzzy(&self, typed: &str, prefix: bool) -> Vec<(u32, f32)> {
        let len = typed.len();
        if len < 4 {
            return Vec::new();
        }
        let max = if len >= 8 { 2 } else { 1 };
        let grams: Vec<u32> = trigrams(typed, !prefix).collect();
        // One edit spoils at most four trigrams (a transposition); ask for the rest.
        let need = grams.len().saturating_sub(4 * max).max(1);
        let mut shared: HashMap<u32, usize> = HashMap::new();
        for g in &grams {
            if let Some(&(a, b)) = self.trigrams.get(g) {
                for &w in &self.trigram_words[a as usize..b as usize] {
                    *shared.entry(w).or_default() += 1;
                }
            }
        }
        let mut out = Vec::new();
        for (w, n) in shared {
            if n < need {
                continue;
            }
            let word = &*self.words[w as usize];
            let d = if prefix {
                // The typed letters against the word's first letters (one more or one fewer).
                (len.saturating_sub(max)..=len + max)
                    .filter_map(|l| word.get(..l))
                    .map(|p| strsim::osa_distance(typed, p))
                    .min()
                    .unwrap_or(usize::MAX)
            } else if word.len().abs_diff(len) > max {
                continue;
            } else {
                strsim::osa_distance(typed, word)
            };
            if d > 0 && d <= max {
                let base = if prefix { 0.8 } else { 0.9 };
                out.push((w, base - 0.5 * d as f32 / len as f32));
            }
        }
        out
    }

    fn match_word(&self, word: &str, typed: &str, typing: bool) -> WordMatch {
        let exact = self.word_id(word);
        let mut m = WordMatch {
            exact,
            prefix: None,
            typed_len: typed.len(),
            fuzzy: Vec::new(),
            weight: 0.0,
        };
        // The word being typed, or a word cut short mid-query (`alp` for `alpes`).
        if typing || (exact.is_none() && typed.len() >= 3) {
            let (lo, hi) = self.prefix_range(typed);
            if hi > lo {
                let (base, span) = if typing { (0.85, 0.15) } else { (0.7, 0.2) };
                m.prefix = Some((lo, hi, base, span));
            }
        }
        if exact.is_none() && m.prefix.is_none() {
            m.fuzzy = self.fuzzy(typed, false);
            if typing {
                let more = self.fuzzy(typed, true);
                for (w, s) in more {
                    if !m.fuzzy.iter().any(|(f, _)| *f == w) {
                        m.fuzzy.push((w, s));
                    }
                }
            }
        }
        // A word weighs as much as the most common word it matches (a short prefix says little);
        // a word matching nothing weighs as much as the rarest word.
        let mut weight = f32::INFINITY;
        m.for_each(self, |w, _| weight = weight.min(self.idf[w as usize]));
        m.weight = if weight.is_finite() {
            weight
        } else {
            (1.0 + self.streets.len() as f32).ln()
        };
        m
    }

    /// The streets holding the most query weight, best first (at most [`CANDIDATES`]).
    fn candidates(&self, matches: &[WordMatch]) -> Vec<u32> {
        let n = self.streets.len();
        let mut total = vec![0f32; n];
        let mut best = vec![0f32; n];
        let mut touched = Vec::new();
        let mut this_word = Vec::new();
        // Common words (`rue`, `de`) pick candidates only when nothing else does.
        for with_common in [false, true] {
            for m in matches {
                m.for_each(self, |w, sim| {
                    if !with_common && self.df(w) > self.common_df {
                        return;
                    }
                    let v = m.weight * sim;
                    for &s in self.postings(w) {
                        let b = &mut best[s as usize];
                        if *b == 0.0 {
                            this_word.push(s);
                        }
                        if v > *b {
                            *b = v;
                        }
                    }
                });
                for s in this_word.drain(..) {
                    let s = s as usize;
                    if total[s] == 0.0 {
                        touched.push(s as u32);
                    }
                    total[s] += best[s];
                    best[s] = 0.0;
                }
            }
            if !touched.is_empty() {
                break;
            }
        }
        let mut scored: Vec<(f32, u32)> = touched
            .into_iter()
            .map(|s| {
                (
                    total[s as usize] + 0.01 * self.streets[s as usize].importance,
                    s,
                )
            })
            .collect();
        let by_score = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if scored.len() > CANDIDATES {
            scored.select_nth_unstable_by(CANDIDATES, by_score);
            scored.truncate(CANDIDATES);
        }
        scored.into_iter().map(|(_, s)| s).collect()
    }

    /// How well street `s` answers the query, 0 to 1, before the house number.
    fn score(&self, s: u32, matches: &[WordMatch], total_weight: f32) -> f32 {
        let street = &self.streets[s as usize];
        let words = &self.street_words[street.words.0 as usize..street.words.1 as usize];
        // How much of the query the street holds...
        let found: f32 = matches
            .iter()
            .map(|m| m.weight * words.iter().map(|&w| m.sim(w, self)).fold(0.0, f32::max))
            .sum();
        // ...and how much of the street's name and commune the query holds.
        let (mut held, mut all) = (0.0, 0.0);
        for &w in &words[..street.cover as usize] {
            let idf = self.idf[w as usize];
            all += idf;
            held += idf * matches.iter().map(|m| m.sim(w, self)).fold(0.0, f32::max);
        }
        0.7 * found / total_weight + 0.25 * held / all.max(f32::EPSILON) + 0.05 * street.importance
    }

    /// The house number to answer in street `s` for `wanted`, and how well it fits (1: exactly).
    fn pick_number(&self, s: u32, wanted: &(u32, String)) -> (usize, f32) {
        let (a, b) = self.streets[s as usize].numbers;
        let nums = &self.numbers[a as usize..b as usize];
        let (n, rep) = wanted;
        let i = nums.partition_point(|x| x.number < *n);
        let same: Vec<usize> = (i..nums.len())
            .take_while(|&j| nums[j].number == *n)
            .collect();
        if !same.is_empty() {
            let rep_of = |j: usize| &*self.reps[nums[j].rep as usize];
            if let Some(&j) = same.iter().find(|&&j| rep_of(j) == rep) {
                return (a as usize + j, 1.0);
            }
            // `12b` for `12bis`, and back.
            if let Some(&j) = same.iter().find(|&&j| {
                let r = rep_of(j);
                !r.is_empty() && !rep.is_empty() && r.as_bytes()[0] == rep.as_bytes()[0]
            }) {
                return (a as usize + j, 0.98);
            }
            return (a as usize + same[0], 0.95);
        }
        // No such number: the nearest one in the street.
        let mut j = [i.wrapping_sub(1), i]
            .into_iter()
            .filter(|&j| j < nums.len())
            .min_by_key(|&j| nums[j].number.abs_diff(*n))
            .unwrap_or(0);
        // The plain number rather than its `bis`.
        while j > 0 && nums[j - 1].number == nums[j].number {
            j -= 1;
        }
        (a as usize + j, 0.85)
    }

    fn hit(&self, s: u32, number: Option<usize>, score: f32) -> Hit {
        let street = &self.streets[s as usize];
        let (a, b) = street.numbers;
        let at = number.unwrap_or((a + b) as usize / 2);
        let n = self.numbers[at];
        let housenumber = number.map(|_| format!("{}{}", n.number, self.reps[n.rep as usize]));
        let mut label = String::new();
        for part in [
            housenumber.as_deref().unwrap_or_default(),
            &street.name,
            &street.postcode,
            &street.city,
        ] {
            if !part.is_empty() {
                if !label.is_empty() {
                    label.push(' ');
                }
                label.push_str(part);
            }
        }
        Hit {
            label,
            housenumber,
            street: street.name.to_string(),
            postcode: street.postcode.to_string(),
            citycode: street.citycode.to_string(),
            city: street.city.to_string(),
            lat: n.lat,
            lon: n.lon,
            score: (score.clamp(0.0, 1.0) as f64 * 1000.0).round() / 1000.0,
        }
    }

    /// The addresses best matching `query`, best first: at most `limit`, one per street. With a
    /// house number in the query, each hit is that number in its street (or the nearest one, with
    /// a lower score); without, each hit is a street as a whole.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        let q = parse_query(query);
        if q.words.is_empty() || self.streets.is_empty() || limit == 0 {
            return Vec::new();
        }
        let last = q.words.len() - 1;
        let matches: Vec<WordMatch> = q
            .words
            .iter()
            .enumerate()
            .map(|(i, (word, typed))| self.match_word(word, typed, q.last_is_prefix && i == last))
            .collect();
        let total_weight: f32 = matches.iter().map(|m| m.weight).sum();
        let mut ranked: Vec<(f32, u32, Option<usize>)> = self
            .candidates(&matches)
            .into_iter()
            .map(|s| {
                let score = self.score(s, &matches, total_weight);
                match &q.number {
                    Some(wanted) => {
                        let (at, fit) = self.pick_number(s, wanted);
                        (score * fit, s, Some(at))
                    }
                    None => (score, s, None),
                }
            })
            .collect();
        ranked.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked
            .into_iter()
            .take(limit)
            .map(|(score, s, at)| self.hit(s, at, score))
            .collect()
    }
}

impl FromIterator<Address> for AddressIndex {
    fn from_iter<I: IntoIterator<Item = Address>>(iter: I) -> Self {
        let mut b = IndexBuilder::new();
        for a in iter {
            b.add(&a);
        }
        b.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-made rows in the BAN format (the official header; identifiers and parcels made up).
    const SAMPLE: &str = "\
id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;source_position;source_nom_voie;certification_commune;cad_parcelles
38185_0045_00012;38185_0045;12;;Rue des Alpes;38000;38185;Grenoble;;;914450.96;6458035.27;5.7189;45.1849;entrée;;;GRENOBLE;RUE DES ALPES;commune;commune;1;38185000AB0012
38185_0045_00012_bis;38185_0045;12;bis;Rue des Alpes;38000;38185;Grenoble;;;914454.89;6458039.72;5.719;45.185;entrée;;;GRENOBLE;RUE DES ALPES;commune;commune;1;38185000AB0012
38185_0045_00014;38185_0045;14;;Rue des Alpes;38000;38185;Grenoble;;;914460.39;6458045.28;5.7191;45.1851;entrée;;;GRENOBLE;RUE DES ALPES;commune;commune;1;38185000AB0014
38185_1740_00003;38185_1740;3;;Place Grenette;38000;38185;Grenoble;;;915202.82;6458048.51;5.7279;45.1908;entrée;;;GRENOBLE;PLACE GRENETTE;commune;commune;1;38185000AB0003
38185_1620_00005;38185_1620;5;;Boulevard Gambetta;38000;38185;Grenoble;;;914934.27;6457680.78;5.7218;45.1862;entrée;;;GRENOBLE;BOULEVARD GAMBETTA;commune;commune;1;38185000AB0005
38185_1205_00021;38185_1205;21;;Avenue Félix Viallet;38000;38185;Grenoble;;;914219.87;6458090.14;5.7155;45.1898;entrée;;;GRENOBLE;AVENUE FELIX VIALLET;commune;commune;1;38185000AB0021
38382_0270_00008;38382_0270;8;;Rue de la République;38120;38382;Saint-Égrève;;;911301.98;6463038.10;5.6829;45.2331;entrée;;;ST EGREVE;RUE DE LA REPUBLIQUE;commune;commune;1;38382000AB0008
38185_3390_00008;38185_3390;8;;Rue de la République;38000;38185;Grenoble;;;915110.86;6457991.30;5.7262;45.1895;entrée;;;GRENOBLE;RUE DE LA REPUBLIQUE;commune;commune;1;38185000AB0008
38382_0105_00002;38382_0105;2;;Chemin du Muret;38120;38382;Saint-Égrève;;;911055.60;6463575.12;5.679;45.238;entrée;;;ST EGREVE;CHEMIN DU MURET;commune;commune;1;38382000AB0002
38151_0400_00007;38151_0400;7;;Impasse des Lilas;38130;38151;Échirolles;;;914572.00;6453500.40;5.72;45.145;entrée;;;ECHIROLLES;IMPASSE DES LILAS;commune;commune;1;38151000AB0007
38151_0020_00001;38151_0020;1;;Rue des Alpes;38130;38151;Échirolles;;;914650.60;6453611.60;5.721;45.146;entrée;;;ECHIROLLES;RUE DES ALPES;commune;commune;1;38151000AB0001
";

    /// A valid row, to spoil one field at a time.
    const GOOD: &str = "38185_0001_00001;38185_0001;1;;Rue A;38000;38185;Grenoble;;;913000.10;6458000.20;5.0;45.0;entrée;;;GRENOBLE;RUE A;commune;commune;1;38185000AB0001";

    fn header() -> &'static str {
        SAMPLE.lines().next().unwrap()
    }

    fn read(text: &[u8]) -> Result<Vec<Address>, BanError> {
        BanReader::new(text)?.collect()
    }

    fn index() -> AddressIndex {
        BanReader::new(SAMPLE.as_bytes())
            .unwrap()
            .collect::<Result<AddressIndex, _>>()
            .unwrap()
    }

    fn first(index: &AddressIndex, q: &str) -> Hit {
        index
            .search(q, 5)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no hit for {q:?}"))
    }

    #[test]
    fn ban_rows_are_read_by_column_name() {
        let rows = read(SAMPLE.as_bytes()).unwrap();
        assert_eq!(rows.len(), 11);
        let a = &rows[1];
        assert_eq!(a.housenumber, 12);
        assert_eq!(a.rep, "bis");
        assert_eq!(a.street, "Rue des Alpes");
        assert_eq!(
            (a.postcode.as_str(), a.citycode.as_str()),
            ("38000", "38185")
        );
        assert_eq!(a.city, "Grenoble");
        assert_eq!((a.lat, a.lon), (45.1850, 5.7190));
        assert_eq!(a.ban_id.as_deref(), Some("38185_0045_00012_bis"));
        assert_eq!(a.old_city, None);
        assert_eq!(a.department(), "38");
        assert_eq!(department_of("97411"), "974");
        assert_eq!(department_of("2A004"), "2A");
    }

    #[test]
    fn optional_columns_may_be_missing_and_in_any_order() {
        let text = "lat;lon;nom_commune;code_insee;nom_voie;numero\n45.1;5.7;Grenoble;38185;Rue Abbé Grégoire;4\n";
        let rows = read(text.as_bytes()).unwrap();
        assert_eq!(rows[0].street, "Rue Abbé Grégoire");
        assert_eq!((rows[0].rep.as_str(), rows[0].postcode.as_str()), ("", ""));
        assert_eq!(rows[0].ban_id, None);
        // A UTF-8 byte order mark is no part of the first column's name.
        assert_eq!(read(format!("\u{feff}{text}").as_bytes()).unwrap().len(), 1);
    }

    #[test]
    fn bad_rows_name_their_line_and_column() {
        let err = |bad: &str| -> String {
            let text = format!("{}\n{GOOD}\n{bad}\n{GOOD}\n", header());
            read(text.as_bytes()).unwrap_err().to_string()
        };
        let cases = [
            (";1;;Rue A;", ";x1;;Rue A;", "numero"),
            (";Rue A;38000;", ";;38000;", "nom_voie"),
            (";38000;38185;", ";380;38185;", "code_postal"),
            (";38185;Grenoble;", ";38 85;Grenoble;", "code_insee"),
            (";Grenoble;;;", ";;;;", "nom_commune"),
            (";5.0;45.0;", ";5.0;95.0;", "lat"),
            (";5.0;45.0;", ";five;45.0;", "lon"),
            (";1;;Rue A;", ";1;b-2;Rue A;", "rep"),
        ];
        for (good, bad, column) in cases {
            assert_eq!(GOOD.matches(good).count(), 1, "{good}");
            let e = err(&GOOD.replacen(good, bad, 1));
            assert!(e.starts_with(&format!("line 3, column {column}:")), "{e}");
        }
        let short = GOOD.rsplitn(3, ';').nth(2).unwrap();
        assert_eq!(
            err(short),
            "line 3, column certification_commune: 21 fields where the header has 23"
        );
        let mut latin1 =
            format!("{}\n{}\n", header(), GOOD.replacen("Rue A", "Rue @", 1)).into_bytes();
        let at = latin1.iter().position(|&b| b == b'@').unwrap();
        latin1[at] = 0xe9; // é in Latin-1
        let e = read(&latin1).unwrap_err().to_string();
        assert!(e.starts_with("line 2, column nom_voie: not UTF-8"), "{e}");
        assert!(read(b"a;b\n1;2\n")
            .unwrap_err()
            .to_string()
            .contains("no column numero"));
        assert!(matches!(
            read(&[0x1f, 0x8b, 8, 0]),
            Err(BanError::Compressed)
        ));
    }

    #[test]
    fn text_is_folded_and_abbreviations_expanded() {
        assert_eq!(fold("Saint-Égrève"), "saint egreve");
        assert_eq!(
            normalize("Rue du Sacré-Cœur"),
            ["rue", "du", "sacre", "coeur"]
        );
        assert_eq!(normalize("Bd St-Égrève"), ["boulevard", "saint", "egreve"]);
        assert_eq!(
            normalize("12 r. de l'Église"),
            ["12", "rue", "de", "l", "eglise"]
        );
        assert_eq!(
            normalize("av ch imp pl ste"),
            ["avenue", "chemin", "impasse", "place", "sainte"]
        );
        assert!(
            ABBREVIATIONS.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted for binary search"
        );
    }

    #[test]
    fn house_numbers_are_split_off() {
        let q = parse_query("12bis rue des Alpes");
        assert_eq!(q.number, Some((12, "bis".into())));
        assert_eq!(q.words[0], ("rue".into(), "rue".into()));
        assert_eq!(
            parse_query("12 ter r des alpes").number,
            Some((12, "ter".into()))
        );
        assert_eq!(parse_query("12b rue").number, Some((12, "b".into())));
        assert_eq!(parse_query("38000 grenoble").number, None);
        assert_eq!(parse_query("rue du 8 mai 1945").number, None);
        assert!(parse_query("12 rue des alp").last_is_prefix);
        assert!(!parse_query("12 rue des alpes ").last_is_prefix);
    }

    #[test]
    fn exact_addresses_are_found_with_their_number() {
        let idx = index();
        assert_eq!((idx.len(), idx.streets()), (11, 9));
        let h = first(&idx, "12 Rue des Alpes 38000 Grenoble");
        assert_eq!(h.label, "12 Rue des Alpes 38000 Grenoble");
        assert_eq!(h.housenumber.as_deref(), Some("12"));
        assert_eq!(
            (h.lat, h.lon, h.citycode.as_str()),
            (45.1849, 5.7189, "38185")
        );
        assert!(h.score > 0.9, "{h:?}");
        // The same street in another commune comes after.
        let hits = idx.search("1 rue des alpes echirolles", 5);
        assert_eq!(hits[0].city, "Échirolles");
        assert_eq!(hits[0].housenumber.as_deref(), Some("1"));
    }

    #[test]
    fn repetition_indexes_are_matched() {
        let idx = index();
        for q in [
            "12bis rue des alpes grenoble",
            "12 bis rue des alpes grenoble",
            "12b rue des alpes grenoble",
        ] {
            assert_eq!(first(&idx, q).housenumber.as_deref(), Some("12bis"), "{q}");
        }
        // A number that does not exist: the nearest one, scored lower.
        let h = first(&idx, "13 rue des alpes grenoble");
        assert_eq!(h.housenumber.as_deref(), Some("12"));
        assert!(h.score < first(&idx, "12 rue des alpes grenoble").score);
    }

    #[test]
    fn typos_accents_abbreviations_and_typing_are_tolerated() {
        let idx = index();
        let alpes = "12 Rue des Alpes 38000 Grenoble";
        let republique = "8 Rue de la République 38120 Saint-Égrève";
        let cases = [
            ("12 rue des alpes grenolbe", alpes),
            ("12 rue des alpse grenoble", alpes),
            ("12 r des alpes grenoble", alpes),
            ("12 rue des alp grenob", alpes),
            ("12 rue des alpes gre", alpes),
            ("8 rue de la republique saint egreve", republique),
            ("8 rue de la République St-Égrève", republique),
            ("8 RUE DE LA REPUBLIQUE ST EGREVE", republique),
            (
                "8 rue de la republique 38000",
                "8 Rue de la République 38000 Grenoble",
            ),
            ("5 bd gambetta", "5 Boulevard Gambetta 38000 Grenoble"),
            (
                "21 av felix viallet",
                "21 Avenue Félix Viallet 38000 Grenoble",
            ),
            (
                "21 avenue felix vialet grenoble",
                "21 Avenue Félix Viallet 38000 Grenoble",
            ),
            ("3 pl grenette", "3 Place Grenette 38000 Grenoble"),
            (
                "2 ch du muret st egr",
                "2 Chemin du Muret 38120 Saint-Égrève",
            ),
            (
                "7 imp des lilas echirolles",
                "7 Impasse des Lilas 38130 Échirolles",
            ),
            (
                "7 impasse des lilas Échirolles",
                "7 Impasse des Lilas 38130 Échirolles",
            ),
        ];
        for (q, label) in cases {
            assert_eq!(first(&idx, q).label, label, "{q}");
        }
    }

    #[test]
    fn streets_are_found_without_a_number() {
        let idx = index();
        let h = first(&idx, "place grenette");
        assert_eq!(h.label, "Place Grenette 38000 Grenoble");
        assert_eq!(h.housenumber, None);
        assert!(idx.search("zzzz qqqq", 5).is_empty());
        assert!(idx.search("", 5).is_empty());
        assert!(idx.search("12", 5).is_empty());
        assert!(AddressIndex::default()
            .search("rue des alpes", 5)
            .is_empty());
        assert_eq!(idx.search("rue", 3).len(), 3);
    }

    #[test]
    fn repeated_addresses_are_kept_once() {
        let rows = SAMPLE.split_once('\n').unwrap().1;
        let idx: AddressIndex = read(format!("{SAMPLE}{rows}").as_bytes())
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(idx.len(), 11);
        assert!(idx.heap_bytes() > 0);
    }
}
