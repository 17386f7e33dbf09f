//! Value types checked at the edge. Each `parse` says what is wrong in words a dispatcher
//! understands; the HTTP layer attaches the field name.

use serde::{Deserialize, Serialize};

/// Why a value is refused, for a client to word it in its reader's language: the message is
/// English for developers and is never parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Missing or empty.
    Required,
    /// Too short, too long or too many (`limits` in characters or items).
    Length,
    /// A number or a date outside `limits` (or outside what is plausible).
    Range,
    /// Not in the expected form: a date, a postcode, a mail address, a phone number, a code.
    Format,
    /// The check digit (NIR, RPPS, FINESS) does not match: a typing error.
    CheckDigit,
    /// Refers to something that does not exist (a patient, a doctor, a sector).
    Unknown,
    /// The doctor is off duty.
    OffDuty,
    /// The visit is assigned to someone else (`subject` names him).
    AlreadyAssigned,
    /// Only the visit's doctor closes it and validates its report.
    DoctorValidates,
    /// The doctor has set off: only the desk cancels.
    DoctorOnTheWay,
    /// The doctor already has a shift at that time.
    ShiftOverlap,
    /// Wrong username or password.
    WrongCredentials,
    /// A password too easy to guess (common, or made of a few characters).
    Weak,
    /// The account logs in with a second factor: send its current code too.
    SecondFactorRequired,
    /// The account must enrol a second factor before anything else.
    SecondFactorEnrolment,
}

/// The bounds a value must keep, as numbers (characters, items, or the value itself).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Limits {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    /// What is wrong, in English.
    pub message: String,
    pub reason: Option<Reason>,
    pub limits: Option<Limits>,
}

impl ValueError {
    pub fn new(reason: Reason, message: impl Into<String>) -> ValueError {
        ValueError {
            message: message.into(),
            reason: Some(reason),
            limits: None,
        }
    }

    /// Refused for no reason a client words specially.
    pub fn other(message: impl Into<String>) -> ValueError {
        ValueError {
            message: message.into(),
            reason: None,
            limits: None,
        }
    }

    /// Outside `min..=max`.
    pub fn range(min: f64, max: f64, message: impl Into<String>) -> ValueError {
        ValueError::new(Reason::Range, message).within(Some(min), Some(max))
    }

    pub fn within(mut self, min: Option<f64>, max: Option<f64>) -> ValueError {
        self.limits = Some(Limits { min, max });
        self
    }
}

fn err<T>(reason: Reason, msg: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError::new(reason, msg))
}

/// A WGS84 position in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Coordinates {
    /// Latitude, -90 to 90.
    pub lat: f64,
    /// Longitude, -180 to 180.
    pub lon: f64,
}

impl Coordinates {
    pub fn parse(lat: f64, lon: f64) -> Result<Self, ValueError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(ValueError::range(
                -90.0,
                90.0,
                format!("latitude {lat} is out of range (-90 to 90)"),
            ));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(ValueError::range(
                -180.0,
                180.0,
                format!("longitude {lon} is out of range (-180 to 180)"),
            ));
        }
        Ok(Coordinates { lat, lon })
    }

    /// As [`Coordinates::parse`], naming the coordinate at fault: `"lat"` or `"lon"`.
    pub fn parse_named(lat: f64, lon: f64) -> Result<Self, (&'static str, ValueError)> {
        let lat_ok = lat.is_finite() && (-90.0..=90.0).contains(&lat);
        Coordinates::parse(lat, lon).map_err(|e| (if lat_ok { "lon" } else { "lat" }, e))
    }
}

/// How soon a doctor must be there: P1 (most urgent) to P3.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(try_from = "i64", into = "i64")]
#[schema(value_type = i64, example = 2)]
pub struct Urgency(u8);

impl Urgency {
    pub const P1: Urgency = Urgency(1);
    pub const P2: Urgency = Urgency(2);
    pub const P3: Urgency = Urgency(3);

    pub fn parse(level: i64) -> Result<Self, ValueError> {
        match level {
            1..=3 => Ok(Urgency(level as u8)),
            _ => Err(ValueError::range(
                1.0,
                3.0,
                format!("urgency {level} is not one of 1 (most urgent), 2 or 3"),
            )),
        }
    }

    pub fn level(self) -> i64 {
        i64::from(self.0)
    }

    /// The longest a patient of this urgency should wait for the doctor, in minutes.
    pub fn target_wait_min(self) -> i64 {
        match self.0 {
            1 => 60,
            2 => 180,
            _ => 360,
        }
    }
}

impl TryFrom<i64> for Urgency {
    type Error = ValueError;
    fn try_from(level: i64) -> Result<Self, ValueError> {
        Urgency::parse(level)
    }
}

impl From<Urgency> for i64 {
    fn from(u: Urgency) -> i64 {
        u.level()
    }
}

/// Luhn check over a string of digits, as used by RPPS and FINESS numbers.
fn luhn_ok(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// A practitioner's RPPS number: 11 digits, the last one a Luhn check digit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rpps(String);

impl Rpps {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let s = s.trim();
        if s.len() != 11 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return err(Reason::Format, "an RPPS number has exactly 11 digits");
        }
        if !luhn_ok(s) {
            return err(
                Reason::CheckDigit,
                "this RPPS number's check digit is wrong (typing error?)",
            );
        }
        Ok(Rpps(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An establishment's FINESS number: 9 characters (digits, with 2A/2B for Corsica), Luhn-checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finess(String);

impl Finess {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let s = s.trim().to_ascii_uppercase();
        let ok_chars = s.len() == 9
            && s.bytes().enumerate().all(|(i, b)| {
                b.is_ascii_digit() || (i == 1 && (b == b'A' || b == b'B') && s.starts_with('2'))
            });
        if !ok_chars {
            return err(
                Reason::Format,
                "a FINESS number has 9 characters (digits; 2A or 2B for Corsica)",
            );
        }
        // Corsica's 2A/2B count as 20 for the check digit.
        let digits = s.replacen("2A", "20", 1).replacen("2B", "20", 1);
        if !luhn_ok(&digits) {
            return err(
                Reason::CheckDigit,
                "this FINESS number's check digit is wrong (typing error?)",
            );
        }
        Ok(Finess(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A birth date, `YYYY-MM-DD`, not in the future and not before 1880.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BirthDate(chrono::NaiveDate);

impl BirthDate {
    pub fn parse(s: &str, today: chrono::NaiveDate) -> Result<Self, ValueError> {
        let date = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
            ValueError::new(
                Reason::Format,
                format!("{s:?} is not a date in the form YYYY-MM-DD"),
            )
        })?;
        if date > today {
            return err(Reason::Range, "a birth date cannot be in the future");
        }
        if date < chrono::NaiveDate::from_ymd_opt(1880, 1, 1).unwrap() {
            return err(Reason::Range, "a birth date before 1880 is not plausible");
        }
        Ok(BirthDate(date))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_outside_wgs84_are_refused() {
        assert!(Coordinates::parse(45.19, 5.72).is_ok());
        assert!(Coordinates::parse(91.0, 5.0)
            .unwrap_err()
            .message
            .contains("latitude"));
        assert!(Coordinates::parse(45.0, -180.5)
            .unwrap_err()
            .message
            .contains("longitude"));
        assert!(Coordinates::parse(f64::NAN, 0.0).is_err());
    }

    #[test]
    fn rpps_and_finess_check_digits() {
        assert!(Rpps::parse("10001234565").is_ok());
        assert!(Rpps::parse("10001234566").is_err());
        assert!(Rpps::parse("1234").is_err());
        assert!(Finess::parse("380000018").is_ok());
        assert!(Finess::parse("380000019").is_err());
        assert!(Finess::parse("2A0000016").is_ok());
    }

    #[test]
    fn urgency_is_one_to_three() {
        assert_eq!(Urgency::parse(1).unwrap(), Urgency::P1);
        assert!(Urgency::parse(0).is_err());
        assert!(Urgency::parse(4).is_err());
        assert_eq!(Urgency::P2.target_wait_min(), 180);
    }

    #[test]
    fn birth_dates_are_plausible() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert!(BirthDate::parse("1938-02-11", today).is_ok());
        assert!(BirthDate::parse("2030-01-01", today).is_err());
        assert!(BirthDate::parse("11/02/1938", today).is_err());
    }
}
