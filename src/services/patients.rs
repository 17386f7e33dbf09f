//! Patients: what a new patient must satisfy (names, birth date, NIR key, address, treating
//! physician), and their creation, audited.

use serde::Deserialize;
use utoipa::ToSchema;

use super::views::{Address, TreatingPhysician};
use crate::domain::{BirthDate, Coordinates, Sex, ValueError};
use crate::error::{Error, FieldResult, Reason, Result};
use crate::store::WriteTx;

/// A new patient. Names as on the identity document; the birth name is the INS one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPatient {
    #[schema(max_length = 100)]
    pub birth_name: String,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub used_name: Option<String>,
    #[schema(max_length = 150)]
    pub first_names: String,
    /// YYYY-MM-DD.
    #[serde(default)]
    #[schema(max_length = 32)]
    pub birth_date: Option<String>,
    #[serde(default)]
    pub sex: Option<Sex>,
    /// INSEE code of the birth commune, 5 characters (99xxx abroad).
    #[serde(default)]
    #[schema(max_length = 10)]
    pub birth_place_code: Option<String>,
    /// NIR (INS matricule), 15 characters with its key.
    #[serde(default)]
    #[schema(max_length = 30)]
    pub nir: Option<String>,
    #[serde(default)]
    pub address: Option<Address>,
    #[serde(default)]
    #[schema(max_length = 30)]
    pub phone: Option<String>,
    #[serde(default)]
    pub treating_physician: Option<TreatingPhysician>,
    /// The EHPAD the patient lives in. An EHPAD nurse's new patients are her institution's.
    #[serde(default)]
    pub institution_id: Option<i64>,
}

/// Checks a NIR: 13 characters (digits, 2A/2B for Corsica) then a 2-digit key = 97 - (n mod 97).
pub fn check_nir(nir: &str) -> Result<String, ValueError> {
    let nir: String = nir
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if nir.len() != 15 || !nir.is_ascii() {
        return Err(ValueError::new(
            Reason::Format,
            "a NIR has 15 characters (13 and a 2-digit key)",
        ));
    }
    let (body, key) = nir.split_at(13);
    let numeric = body.replacen("2A", "19", 1).replacen("2B", "18", 1);
    let (Ok(n), Ok(k)) = (numeric.parse::<u64>(), key.parse::<u64>()) else {
        return Err(ValueError::new(
            Reason::Format,
            "a NIR is made of digits (2A or 2B for Corsica)",
        ));
    };
    if 97 - n % 97 != k {
        return Err(ValueError::new(
            Reason::CheckDigit,
            "this NIR's key is wrong (typing error?)",
        ));
    }
    Ok(nir)
}

pub fn non_empty(field: &str, s: &str, max: usize) -> Result<()> {
    if s.trim().is_empty() || s.chars().count() > max {
        return Err(Error::length(
            field,
            Some(1),
            max,
            format!("{field} must have 1 to {max} characters"),
        ));
    }
    Ok(())
}

/// An optional text of at most `max` characters.
pub fn at_most(field: &str, s: &str, max: usize) -> Result<()> {
    if s.chars().count() > max {
        return Err(Error::too_long(field, max));
    }
    Ok(())
}

/// A phone number as people write it: 3 to 30 of digits, spaces and `+ . - ( )`.
pub fn check_phone(field: &str, s: &str) -> Result<()> {
    let n = s.chars().count();
    let ok = (3..=30).contains(&n)
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_digit() || " +.-()".contains(c));
    if !ok {
        return Err(Error::format(field, "not a phone number"));
    }
    Ok(())
}

/// An INSEE commune code: 5 characters (digits, 2A/2B for Corsica).
pub fn check_birth_place(field: &str, code: &str) -> Result<()> {
    let ok = code.len() == 5 && code.bytes().all(|b| b.is_ascii_alphanumeric());
    if !ok {
        return Err(Error::format(
            field,
            "an INSEE commune code has 5 characters",
        ));
    }
    Ok(())
}

/// Checks an address; `prefix` names it in errors (`address`, `patient.address`).
pub fn check_address(a: &Address, prefix: &str) -> Result<()> {
    non_empty(&format!("{prefix}.line"), &a.line, 200)?;
    non_empty(&format!("{prefix}.city"), &a.city, 100)?;
    if let Some(d) = &a.details {
        at_most(&format!("{prefix}.details"), d, 500)?;
    }
    if let Some(pc) = &a.postcode {
        if pc.len() != 5 || !pc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(
                format!("{prefix}.postcode"),
                "a French postcode has 5 digits",
            )
            .because(Reason::Format));
        }
    }
    match (a.lat, a.lon) {
        (Some(lat), Some(lon)) => {
            Coordinates::parse_named(lat, lon)
                .map_err(|(f, e)| Error::from(e).with_field(format!("{prefix}.{f}")))?;
        }
        (None, None) => {}
        (Some(_), None) => {
            return Err(Error::invalid(
                format!("{prefix}.lon"),
                "give both lat and lon, or neither",
            )
            .because(Reason::Required))
        }
        (None, Some(_)) => {
            return Err(Error::invalid(
                format!("{prefix}.lat"),
                "give both lat and lon, or neither",
            )
            .because(Reason::Required))
        }
    }
    Ok(())
}

/// Checks a treating physician; `prefix` names it in errors (`treating_physician`, or "").
pub fn check_treating_physician(t: &TreatingPhysician, prefix: &str) -> Result<()> {
    let f = |name: &str| {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        }
    };
    non_empty(&f("name"), &t.name, 150)?;
    if let Some(r) = &t.rpps {
        crate::domain::Rpps::parse(r).field(&f("rpps"))?;
    }
    if let Some(m) = &t.mssante {
        if m.parse::<lettre::Address>().is_err() {
            return Err(
                Error::invalid(f("mssante"), "an MSSanté address is an e-mail address")
                    .because(Reason::Format),
            );
        }
    }
    Ok(())
}

impl NewPatient {
    /// Checks the patient; `prefix` is "" or "patient." to name fields in errors.
    pub fn check(&self, prefix: &str) -> Result<()> {
        let f = |name: &str| format!("{prefix}{name}");
        non_empty(&f("birth_name"), &self.birth_name, 100)?;
        non_empty(&f("first_names"), &self.first_names, 150)?;
        if let Some(d) = &self.birth_date {
            BirthDate::parse(d, chrono::Utc::now().date_naive()).field(&f("birth_date"))?;
        }
        if let Some(v) = &self.used_name {
            at_most(&f("used_name"), v, 100)?;
        }
        if let Some(v) = &self.phone {
            check_phone(&f("phone"), v)?;
        }
        if let Some(code) = &self.birth_place_code {
            check_birth_place(&f("birth_place_code"), code)?;
        }
        if let Some(nir) = &self.nir {
            check_nir(nir).field(&f("nir"))?;
        }
        if let Some(a) = &self.address {
            check_address(a, &f("address"))?;
        }
        if let Some(t) = &self.treating_physician {
            check_treating_physician(t, &f("treating_physician"))?;
        }
        Ok(())
    }
}

/// Creates a patient, audited. `institution_id` overrides the input's (an EHPAD nurse's own).
pub async fn create_patient(
    tx: &mut WriteTx,
    p: &NewPatient,
    institution_id: Option<i64>,
) -> Result<i64> {
    let now = tx.now();
    let nir = p.nir.as_deref().map(check_nir).transpose().field("nir")?;
    let a = p.address.as_ref();
    let t = p.treating_physician.as_ref();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO patients (birth_name, used_name, first_names, birth_date, sex, birth_place_code, nir, \
         address_line, postcode, city, lat, lon, phone, treating_physician_name, treating_physician_rpps, \
         treating_physician_mssante, institution_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) RETURNING id",
    )
    .bind(p.birth_name.trim().to_uppercase())
    .bind(p.used_name.as_deref().map(|s| s.trim().to_uppercase()))
    .bind(p.first_names.trim())
    .bind(&p.birth_date)
    .bind(p.sex.unwrap_or(Sex::Unknown))
    .bind(&p.birth_place_code)
    .bind(nir)
    .bind(a.map(|a| a.line.clone()))
    .bind(a.and_then(|a| a.postcode.clone()))
    .bind(a.map(|a| a.city.clone()))
    .bind(a.and_then(|a| a.lat))
    .bind(a.and_then(|a| a.lon))
    .bind(&p.phone)
    .bind(t.map(|t| t.name.clone()))
    .bind(t.and_then(|t| t.rpps.clone()))
    .bind(t.and_then(|t| t.mssante.clone()))
    .bind(institution_id)
    .bind(now)
    .fetch_one(tx.conn())
    .await
    .map_err(|e| match Error::from(e) {
        err if err.code == "unknown_reference" => Error::invalid("institution_id", "no such institution").because(Reason::Unknown),
        err => err,
    })?;
    tx.audit(
        "patient.create",
        "patient",
        id,
        serde_json::json!({"institution_id": institution_id}),
    )
    .await?;
    Ok(id)
}
