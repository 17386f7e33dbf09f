//! The reference directories a visit report draws on: practitioners (the public RPPS extract,
//! with their secure messaging addresses from the MSSanté extract) to find a patient's treating
//! physician, and ICD-10 (CIM-10) codes to choose a diagnosis.
//!
//! Parsing is pure ([`PractitionerReader`], [`parse_icd10`]); the imports replace a directory in
//! one transaction, so a failed import leaves the previous one in place.

use std::collections::HashMap;
use std::io::Read;

use crate::address::fold;
use crate::domain::report::icd10_code;
use crate::store::{Actor, Db};

/// One practice site of a health professional, as the directory knows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Practitioner {
    /// "Identification nationale PP": `8` + RPPS, or `0` + ADELI.
    pub national_id: String,
    /// 11 digits, when the professional has an RPPS number.
    pub rpps: Option<String>,
    pub civility: Option<String>,
    pub family_name: String,
    pub given_name: String,
    pub profession: String,
    pub specialty: Option<String>,
    pub site_name: Option<String>,
    pub address_line: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DirectoryError {
    #[error("line {line}: {message}")]
    Line { line: u64, message: String },
    #[error("not a practitioners file: the header has no column {0:?} (expected the RPPS \"PS_LibreAcces_Personne_activite\" extract or the MSSanté extract, pipe-separated)")]
    Header(&'static str),
    #[error("the file is empty")]
    Empty,
    #[error("cannot read the file: {0}")]
    Io(String),
}

/// Which extract a file is, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtractKind {
    /// `PS_LibreAcces_Personne_activite`: one line per professional and activity.
    Rpps,
    /// The MSSanté addresses extract: one line per mailbox.
    Mssante,
}

impl ExtractKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExtractKind::Rpps => "rpps",
            ExtractKind::Mssante => "mssante",
        }
    }
}

/// A mailbox of the MSSanté extract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub national_id: String,
    pub address: String,
}

pub enum Row {
    Practitioner(Box<Practitioner>),
    Mailbox(Mailbox),
}

/// Reads an ANS directory extract: pipe-separated, a header line naming the columns (their order
/// may change between releases), UTF-8 (Latin-1 tolerated), lines possibly ending with `|`.
pub struct PractitionerReader<R: Read> {
    records: csv::ByteRecordsIntoIter<R>,
    kind: ExtractKind,
    columns: HashMap<String, usize>,
    line: u64,
}

fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.trim().to_owned(),
        // Older extracts were Latin-1.
        Err(_) => bytes
            .iter()
            .map(|&b| b as char)
            .collect::<String>()
            .trim()
            .to_owned(),
    }
}

impl<R: Read> PractitionerReader<R> {
    pub fn new(reader: R) -> Result<Self, DirectoryError> {
        let mut records = csv::ReaderBuilder::new()
            .delimiter(b'|')
            .quoting(false)
            .has_headers(false)
            .flexible(true)
            .from_reader(reader)
            .into_byte_records();
        let header = match records.next() {
            None => return Err(DirectoryError::Empty),
            Some(Err(e)) => return Err(DirectoryError::Io(e.to_string())),
            Some(Ok(h)) => h,
        };
        let columns: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(i, name)| (decode(name).trim_start_matches('\u{feff}').to_owned(), i))
            .collect();
        if !columns.contains_key("Identification nationale PP") {
            return Err(DirectoryError::Header("Identification nationale PP"));
        }
        let kind = if columns.contains_key("Adresse BAL") {
            ExtractKind::Mssante
        } else {
            for required in ["Nom d'exercice", "Prénom d'exercice", "Libellé profession"] {
                if !columns.contains_key(required) {
                    return Err(DirectoryError::Header(required));
                }
            }
            ExtractKind::Rpps
        };
        Ok(PractitionerReader {
            records,
            kind,
            columns,
            line: 1,
        })
    }

    pub fn kind(&self) -> ExtractKind {
        self.kind
    }

    fn row(&self, record: &csv::ByteRecord) -> Result<Option<Row>, DirectoryError> {
        let get = |name: &str| -> Option<String> {
            let i = *self.columns.get(name)?;
            let v = decode(record.get(i)?);
            (!v.is_empty()).then_some(v)
        };
        let national_id = get("Identification nationale PP").ok_or(DirectoryError::Line {
            line: self.line,
            message: "no national identifier (Identification nationale PP)".into(),
        })?;
        if national_id.len() > 20 || !national_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(DirectoryError::Line {
                line: self.line,
                message: format!("{national_id:?} is not a national identifier"),
            });
        }
        if self.kind == ExtractKind::Mssante {
            // Personal mailboxes only: an organisation's mailbox is not the physician's.
            if get("Type de BAL").is_some_and(|t| !t.eq_ignore_ascii_case("PER")) {
                return Ok(None);
            }
            let Some(address) = get("Adresse BAL") else {
                return Ok(None);
            };
            if !address.contains('@') || address.len() > 254 {
                return Err(DirectoryError::Line {
                    line: self.line,
                    message: format!("{address:?} is not a mail address"),
                });
            }
            return Ok(Some(Row::Mailbox(Mailbox {
                national_id,
                address,
            })));
        }
        let (Some(family_name), Some(profession)) =
            (get("Nom d'exercice"), get("Libellé profession"))
        else {
            return Err(DirectoryError::Line {
                line: self.line,
                message: "no name or profession".into(),
            });
        };
        let rpps = match (
            get("Type d'identifiant PP").as_deref(),
            get("Identifiant PP"),
        ) {
            (Some("8"), Some(id)) if id.len() == 11 && id.bytes().all(|b| b.is_ascii_digit()) => {
                Some(id)
            }
            _ => national_id
                .strip_prefix('8')
                .filter(|id| id.len() == 11 && id.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_owned),
        };
        let street: Vec<String> = [
            "Numéro Voie (coord. structure)",
            "Indice répétition voie (coord. structure)",
            "Libellé type de voie (coord. structure)",
            "Libellé Voie (coord. structure)",
        ]
        .iter()
        .filter_map(|c| get(c))
        .collect();
        Ok(Some(Row::Practitioner(Box::new(Practitioner {
            national_id,
            rpps,
            civility: get("Libellé civilité d'exercice").or_else(|| get("Libellé civilité")),
            family_name,
            given_name: get("Prénom d'exercice").unwrap_or_default(),
            profession,
            specialty: get("Libellé savoir-faire"),
            site_name: get("Raison sociale site").or_else(|| get("Enseigne commerciale site")),
            address_line: (!street.is_empty()).then(|| street.join(" ")),
            postcode: get("Code postal (coord. structure)"),
            city: get("Libellé commune (coord. structure)")
                .or_else(|| get("Bureau cedex (coord. structure)")),
            phone: get("Téléphone (coord. structure)"),
        }))))
    }
}

impl<R: Read> Iterator for PractitionerReader<R> {
    type Item = Result<Row, DirectoryError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let record = match self.records.next()? {
                Ok(r) => r,
                Err(e) => return Some(Err(DirectoryError::Io(e.to_string()))),
            };
            self.line += 1;
            if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                continue;
            }
            match self.row(&record) {
                Ok(Some(row)) => return Some(Ok(row)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// The search key of a name: folded, words in order (`Lefèvre-Dupré Hélène` → `lefevre dupre helene`).
pub fn name_key(family: &str, given: &str) -> String {
    let folded = fold(&format!("{family} {given}"));
    folded
        .split_ascii_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn city_key(city: &str) -> String {
    fold(city)
        .split_ascii_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DirectoryImport {
    pub kind: &'static str,
    pub rows_read: u64,
    pub rows_kept: u64,
}

const PRACTITIONER_COLUMNS: usize = 15;
const PRACTITIONER_BATCH: usize = 400;

fn insert_practitioners_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO practitioners (national_id, rpps, civility, family_name, given_name, profession, \
         specialty, site_name, address_line, postcode, city, phone, mssante, name_key, city_key) VALUES ",
    );
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..PRACTITIONER_COLUMNS {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * PRACTITIONER_COLUMNS + c + 1));
        }
        sql.push(')');
    }
    sql
}

/// Imports an RPPS extract (replacing the directory, keeping the MSSanté addresses already known)
/// or an MSSanté extract (setting the addresses of the practitioners already imported). The
/// file is parsed on a blocking thread while batches are written.
pub async fn import_practitioners<R: Read + Send + 'static>(
    db: &Db,
    reader: R,
    file: &str,
) -> Result<DirectoryImport, crate::import::ImportError> {
    use crate::import::ImportError;
    let (send, mut batches) = tokio::sync::mpsc::channel::<Result<Vec<Row>, DirectoryError>>(4);
    let (kind_tx, kind_rx) = tokio::sync::oneshot::channel();
    let parser = tokio::task::spawn_blocking(move || {
        let rows = match PractitionerReader::new(reader) {
            Ok(rows) => rows,
            Err(e) => {
                let _ = kind_tx.send(Err(e));
                return;
            }
        };
        let _ = kind_tx.send(Ok(rows.kind()));
        let mut batch = Vec::with_capacity(PRACTITIONER_BATCH);
        for row in rows {
            match row {
                Ok(r) => batch.push(r),
                Err(e) => {
                    let _ = send.blocking_send(Err(e));
                    return;
                }
            }
            if batch.len() == PRACTITIONER_BATCH
                && send.blocking_send(Ok(std::mem::take(&mut batch))).is_err()
            {
                return;
            }
        }
        if !batch.is_empty() {
            let _ = send.blocking_send(Ok(batch));
        }
    });
    let directory = |e: DirectoryError| ImportError::Store(e.to_string());
    let kind = kind_rx
        .await
        .map_err(|_| ImportError::Store("the file reader stopped unexpectedly".into()))?
        .map_err(directory)?;

    let mut tx = db.write(Actor::SYSTEM).await?;
    let (mut read, mut kept) = (0u64, 0u64);
    match kind {
        ExtractKind::Rpps => {
            // The MSSanté addresses survive a new RPPS extract.
            let known: Vec<(String, String)> = sqlx::query_as(
                "SELECT national_id, mssante FROM practitioners WHERE mssante IS NOT NULL",
            )
            .fetch_all(tx.conn())
            .await?;
            let known: HashMap<String, String> = known.into_iter().collect();
            sqlx::query("DELETE FROM practitioners")
                .execute(tx.conn())
                .await?;
            let mut full_sql = None;
            while let Some(batch) = batches.recv().await {
                let batch = batch.map_err(directory)?;
                read += batch.len() as u64;
                let people: Vec<Practitioner> = batch
                    .into_iter()
                    .filter_map(|r| match r {
                        Row::Practitioner(p) => Some(*p),
                        Row::Mailbox(_) => None,
                    })
                    .collect();
                if people.is_empty() {
                    continue;
                }
                let sql = if people.len() == PRACTITIONER_BATCH {
                    full_sql
                        .get_or_insert_with(|| insert_practitioners_sql(PRACTITIONER_BATCH))
                        .clone()
                } else {
                    insert_practitioners_sql(people.len())
                };
                let mut insert = sqlx::query(&sql);
                for p in people {
                    let key = name_key(&p.family_name, &p.given_name);
                    let city = p.city.as_deref().map(city_key).unwrap_or_default();
                    let mssante = known.get(&p.national_id).cloned();
                    insert = insert
                        .bind(p.national_id)
                        .bind(p.rpps)
                        .bind(p.civility)
                        .bind(p.family_name)
                        .bind(p.given_name)
                        .bind(p.profession)
                        .bind(p.specialty)
                        .bind(p.site_name)
                        .bind(p.address_line)
                        .bind(p.postcode)
                        .bind(p.city)
                        .bind(p.phone)
                        .bind(mssante)
                        .bind(key)
                        .bind(city);
                    kept += 1;
                }
                insert.execute(tx.conn()).await?;
            }
        }
        ExtractKind::Mssante => {
            while let Some(batch) = batches.recv().await {
                for row in batch.map_err(directory)? {
                    read += 1;
                    if let Row::Mailbox(m) = row {
                        kept += sqlx::query(
                            "UPDATE practitioners SET mssante = $1 WHERE national_id = $2",
                        )
                        .bind(&m.address)
                        .bind(&m.national_id)
                        .execute(tx.conn())
                        .await?
                        .rows_affected()
                        .min(1);
                    }
                }
            }
        }
    }
    parser
        .await
        .map_err(|_| ImportError::Store("the file reader stopped unexpectedly".into()))?;
    if read == 0 {
        return Err(directory(DirectoryError::Empty));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO practitioner_imports (file, kind, rows_read, rows_kept, imported_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(file)
    .bind(kind.as_str())
    .bind(read as i64)
    .bind(kept as i64)
    .bind(tx.now())
    .fetch_one(tx.conn())
    .await?;
    tx.audit(
        "practitioners.import",
        "practitioner_import",
        id,
        serde_json::json!({"file": file, "kind": kind.as_str(), "rows_read": read, "rows_kept": kept}),
    )
    .await?;
    tx.commit().await?;
    Ok(DirectoryImport {
        kind: kind.as_str(),
        rows_read: read,
        rows_kept: kept,
    })
}

/// A practitioner found by a search, with the store's id.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PractitionerHit {
    pub id: i64,
    pub rpps: Option<String>,
    pub civility: Option<String>,
    pub family_name: String,
    pub given_name: String,
    pub profession: String,
    pub specialty: Option<String>,
    pub site_name: Option<String>,
    pub address_line: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub phone: Option<String>,
    pub mssante: Option<String>,
}

const HIT_COLUMNS: &str = "id, rpps, civility, family_name, given_name, profession, specialty, \
     site_name, address_line, postcode, city, phone, mssante";

/// Practitioners whose name starts with `name` (family name first, or given name first), in
/// `city` when given (a prefix of the commune's name or a postcode); physicians first. An
/// 11-digit `name` is an RPPS number.
pub async fn search_practitioners(
    db: &Db,
    name: &str,
    city: Option<&str>,
    limit: i64,
) -> Result<Vec<PractitionerHit>, sqlx::Error> {
    let digits = name.trim();
    if digits.len() == 11 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return sqlx::query_as(&format!(
            "SELECT {HIT_COLUMNS} FROM practitioners WHERE rpps = $1 ORDER BY id LIMIT $2"
        ))
        .bind(digits)
        .bind(limit)
        .fetch_all(db.pool())
        .await;
    }
    let words: Vec<String> = fold(name)
        .split_ascii_whitespace()
        .take(6)
        .map(str::to_owned)
        .collect();
    search_by_words(db, &words, city, limit).await
}

async fn search_by_words(
    db: &Db,
    words: &[String],
    city: Option<&str>,
    limit: i64,
) -> Result<Vec<PractitionerHit>, sqlx::Error> {
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return Ok(Vec::new());
    };
    // Candidates: names starting with the first word typed (family name first) or the last one
    // (given name first); then every word must start one of the name's words.
    let (city_sql, city_value) = match city.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) if c.bytes().all(|b| b.is_ascii_digit()) => {
            ("AND postcode LIKE $5", format!("{c}%"))
        }
        Some(c) => ("AND city_key LIKE $5", format!("{}%", city_key(c))),
        None => ("AND $5 = $5", String::new()),
    };
    let sql = format!(
        "SELECT {HIT_COLUMNS} FROM practitioners \
         WHERE ((name_key >= $1 AND name_key < $2) OR (name_key >= $3 AND name_key < $4)) {city_sql} \
         ORDER BY CASE WHEN profession = 'Médecin' THEN 0 ELSE 1 END, name_key, id LIMIT $6"
    );
    let hits: Vec<PractitionerHit> = sqlx::query_as(&sql)
        .bind(first)
        .bind(format!("{first}\u{7f}"))
        .bind(last)
        .bind(format!("{last}\u{7f}"))
        .bind(city_value)
        .bind(500i64)
        .fetch_all(db.pool())
        .await?;
    Ok(hits
        .into_iter()
        .filter(|h| {
            let key = name_key(&h.family_name, &h.given_name);
            let name: Vec<&str> = key.split(' ').collect();
            words
                .iter()
                .all(|w| name.iter().any(|n| n.starts_with(w.as_str())))
        })
        .take(limit.max(0) as usize)
        .collect())
}

/// The ICD-10 codes Chevet ships with: the diagnoses most often made on home visits, with French
/// labels (a hand-made starting list; `chevet import icd10` loads the full classification).
const ICD10_STARTER: &str = include_str!("../assets/cim10/cim10-visites.csv");

/// Reads `code;label` or `code|label` lines (a header line is skipped when its first field is not
/// a code). Codes are normalised to `A00.0` form.
pub fn parse_icd10(text: &str) -> Result<Vec<(String, String)>, DirectoryError> {
    let mut codes = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_start_matches('\u{feff}').trim();
        if line.is_empty() {
            continue;
        }
        let mut fields = line.splitn(2, [';', '|', '\t']);
        let code = fields.next().unwrap_or_default().trim().trim_matches('"');
        let label = fields.next().unwrap_or_default().trim().trim_matches('"');
        let Some(code) = icd10_code(code) else {
            if i == 0 {
                continue;
            }
            return Err(DirectoryError::Line {
                line: i as u64 + 1,
                message: format!("{code:?} is not an ICD-10 code"),
            });
        };
        if label.is_empty() {
            return Err(DirectoryError::Line {
                line: i as u64 + 1,
                message: format!("code {code} has no label"),
            });
        }
        codes.push((code, label.to_owned()));
    }
    if codes.is_empty() {
        return Err(DirectoryError::Empty);
    }
    Ok(codes)
}

/// Replaces the ICD-10 list.
pub async fn import_icd10(db: &Db, codes: &[(String, String)]) -> Result<usize, sqlx::Error> {
    let mut tx = db.write(Actor::SYSTEM).await?;
    sqlx::query("DELETE FROM icd10_codes")
        .execute(tx.conn())
        .await?;
    for chunk in codes.chunks(300) {
        let mut sql = String::from("INSERT INTO icd10_codes (code, label, search) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
        }
        let mut insert = sqlx::query(&sql);
        for (code, label) in chunk {
            insert = insert
                .bind(code)
                .bind(label)
                .bind(format!("{} {}", fold(code), fold(label)));
        }
        insert.execute(tx.conn()).await?;
    }
    tx.audit(
        "icd10.import",
        "icd10",
        0,
        serde_json::json!({"codes": codes.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(codes.len())
}

/// Loads the starting ICD-10 list into an empty table (a new hub).
pub async fn ensure_icd10(db: &Db) -> Result<(), sqlx::Error> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM icd10_codes")
        .fetch_one(db.pool())
        .await?;
    if count == 0 {
        let codes = parse_icd10(ICD10_STARTER).expect("the shipped ICD-10 list parses");
        import_icd10(db, &codes).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Icd10 {
    pub code: String,
    pub label: String,
}

/// Codes whose code or label contains every word of `q` (accents and case ignored); codes that
/// start with `q` first.
pub async fn search_icd10(db: &Db, q: &str, limit: i64) -> Result<Vec<Icd10>, sqlx::Error> {
    let words: Vec<String> = fold(q)
        .split_ascii_whitespace()
        .take(6)
        .map(|w| format!("%{w}%"))
        .collect();
    let code_prefix = format!("{}%", q.trim().to_ascii_uppercase());
    let mut sql = String::from("SELECT code, label FROM icd10_codes WHERE 1 = 1");
    for i in 0..words.len() {
        sql.push_str(&format!(" AND search LIKE ${}", i + 1));
    }
    let n = words.len();
    sql.push_str(&format!(
        " ORDER BY CASE WHEN code LIKE ${} THEN 0 ELSE 1 END, code LIMIT ${}",
        n + 1,
        n + 2
    ));
    let mut query = sqlx::query_as(&sql);
    for w in words {
        query = query.bind(w);
    }
    query
        .bind(code_prefix)
        .bind(limit)
        .fetch_all(db.pool())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "../shared/data/directories/PS_LibreAcces_Personne_activite_small.txt";

    #[test]
    fn reads_the_rpps_extract() {
        let file =
            std::fs::File::open(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE))
                .unwrap();
        let reader = PractitionerReader::new(file).unwrap();
        assert_eq!(reader.kind(), ExtractKind::Rpps);
        let rows: Vec<Practitioner> = reader
            .map(|r| match r.unwrap() {
                Row::Practitioner(p) => *p,
                Row::Mailbox(_) => panic!("no mailbox in an RPPS extract"),
            })
            .collect();
        assert_eq!(rows.len(), 22);
        let doctor = rows.iter().find(|p| p.profession == "Médecin").unwrap();
        assert_eq!(doctor.rpps.as_deref(), Some("10106476764"));
        assert_eq!(doctor.family_name, "BENHOUCHAME");
        assert_eq!(doctor.specialty.as_deref(), Some("Gynécologie-obstétrique"));
        let ergo = rows
            .iter()
            .find(|p| p.family_name == "LEBRUN-CARPENTIER")
            .unwrap();
        assert_eq!(ergo.city.as_deref(), Some("Bourg-en-Bresse"));
        assert_eq!(ergo.rpps, None, "an ADELI identifier is not an RPPS number");
    }

    #[test]
    fn reads_an_mssante_extract_and_skips_organisation_mailboxes() {
        let text = "Type de BAL|Adresse BAL|Type identifiant PP|Identifiant PP|Identification nationale PP|\n\
                    PER|jean.martin@medecin.mssante.fr|8|10000000001|810000000001|\n\
                    ORG|secretariat@ch.mssante.fr|8|10000000001|810000000001|\n";
        let reader = PractitionerReader::new(text.as_bytes()).unwrap();
        assert_eq!(reader.kind(), ExtractKind::Mssante);
        let rows: Vec<Row> = reader.map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1);
        assert!(
            matches!(&rows[0], Row::Mailbox(m) if m.address == "jean.martin@medecin.mssante.fr")
        );
    }

    #[test]
    fn a_foreign_file_is_refused_with_the_missing_column() {
        let err = PractitionerReader::new("nom;prenom\nA;B\n".as_bytes())
            .err()
            .unwrap();
        assert_eq!(err, DirectoryError::Header("Identification nationale PP"));
        let bad =
            "Identification nationale PP|Nom d'exercice|Prénom d'exercice|Libellé profession\n\
                   81000|DUPONT|Jean|Médecin\n\
                   8/../|DUPONT|Jean|Médecin\n";
        let rows: Vec<_> = PractitionerReader::new(bad.as_bytes()).unwrap().collect();
        assert!(rows[0].is_ok());
        assert!(matches!(
            &rows[1],
            Err(DirectoryError::Line { line: 3, .. })
        ));
    }

    #[test]
    fn icd10_codes_are_normalised_and_the_shipped_list_parses() {
        assert_eq!(icd10_code("j189").as_deref(), Some("J18.9"));
        assert_eq!(icd10_code("I10").as_deref(), Some("I10"));
        assert_eq!(icd10_code(" S72.00 ").as_deref(), Some("S72.00"));
        assert_eq!(icd10_code("code"), None);
        assert_eq!(icd10_code("12"), None);
        let codes = parse_icd10(ICD10_STARTER).unwrap();
        assert!(codes.len() > 140);
        assert!(codes
            .iter()
            .any(|(c, l)| c == "T83.0" && l.contains("sonde urinaire")));
        assert!(matches!(
            parse_icd10("code;libelle\nI10;\n"),
            Err(DirectoryError::Line { line: 2, .. })
        ));
    }

    #[test]
    fn name_keys_fold_accents_and_hyphens() {
        assert_eq!(name_key("Lefèvre-Dupré", "Hélène"), "lefevre dupre helene");
    }
}
