//! The duty roster (tableau de garde): doctors' shifts, created, changed, removed, copied from
//! one week to the next or imported from a spreadsheet. One doctor's shifts never overlap; a
//! shift may cover one sector, where dispatch then prefers him.

use chrono::{Duration, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::error::{Error, Reason, Result};
use crate::store::{Audience, Db, EventKind, Ts, WriteTx};

/// The longest shift the roster takes.
pub const MAX_SHIFT_HOURS: i64 = 36;

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ShiftView {
    pub id: i64,
    pub doctor_id: i64,
    pub doctor_name: String,
    pub starts_at: Ts,
    pub ends_at: Ts,
    pub sector_id: Option<i64>,
    pub sector_name: Option<String>,
}

const SHIFT_SELECT: &str =
    "SELECT s.id, s.doctor_id, u.display_name AS doctor_name, s.starts_at, s.ends_at, \
    s.sector_id, sc.name AS sector_name \
    FROM shifts s JOIN users u ON u.id = s.doctor_id LEFT JOIN sectors sc ON sc.id = s.sector_id";

/// A shift as planned: who, from when to when, which sector.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShift {
    pub doctor_id: i64,
    pub starts_at: Ts,
    pub ends_at: Ts,
    #[serde(default)]
    pub sector_id: Option<i64>,
}

/// Shifts overlapping `[from, to)` (either bound open), of one doctor or all.
pub async fn list(
    db: &Db,
    from: Option<Ts>,
    to: Option<Ts>,
    doctor: Option<i64>,
) -> Result<Vec<ShiftView>> {
    let sql = format!(
        "{SHIFT_SELECT} WHERE (s.ends_at > $1 OR $1 IS NULL) AND (s.starts_at < $2 OR $2 IS NULL) \
         AND (s.doctor_id = $3 OR $3 IS NULL) ORDER BY s.starts_at, u.display_name, s.id LIMIT 5000"
    );
    Ok(sqlx::query_as(&sql)
        .bind(from)
        .bind(to)
        .bind(doctor)
        .fetch_all(db.pool())
        .await?)
}

async fn view_in(tx: &mut WriteTx, id: i64) -> Result<Option<ShiftView>> {
    let sql = format!("{SHIFT_SELECT} WHERE s.id = $1");
    Ok(sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?)
}

fn staff(who: &Principal) -> Result<()> {
    if who.is_staff() {
        Ok(())
    } else {
        Err(Error::forbidden("only the association's staff plan shifts"))
    }
}

/// Checks a shift's own values (not the store): ends after it starts, at most 36 hours.
fn check_times(s: &NewShift, field: &str) -> Result<()> {
    if s.ends_at <= s.starts_at {
        return Err(
            Error::invalid(format!("{field}ends_at"), "a shift ends after it starts")
                .because(Reason::Range),
        );
    }
    if s.ends_at.0 - s.starts_at.0 > Duration::hours(MAX_SHIFT_HOURS) {
        return Err(Error::invalid(
            format!("{field}ends_at"),
            format!("a shift lasts at most {MAX_SHIFT_HOURS} hours"),
        )
        .because(Reason::Range)
        .within(None, Some(MAX_SHIFT_HOURS as f64)));
    }
    Ok(())
}

/// Checks the doctor and sector exist, and that the doctor has no other shift at that time
/// (`except`: the shift being changed). Locks the doctor's row first, so that two planners
/// adding overlapping shifts of one doctor at once cannot both succeed.
async fn check_in(tx: &mut WriteTx, s: &NewShift, except: Option<i64>, field: &str) -> Result<()> {
    let locked = sqlx::query("UPDATE doctors SET user_id = user_id WHERE user_id = $1")
        .bind(s.doctor_id)
        .execute(tx.conn())
        .await?;
    if locked.rows_affected() == 0 {
        return Err(Error::invalid(
            format!("{field}doctor_id"),
            format!("there is no doctor {}", s.doctor_id),
        )
        .because(Reason::Unknown));
    }
    if let Some(sector) = s.sector_id {
        let known: Option<i64> = sqlx::query_scalar("SELECT id FROM sectors WHERE id = $1")
            .bind(sector)
            .fetch_optional(tx.conn())
            .await?;
        if known.is_none() {
            return Err(
                Error::invalid(format!("{field}sector_id"), "no such sector")
                    .because(Reason::Unknown),
            );
        }
    }
    let clash: Option<(Ts, Ts)> = sqlx::query_as(
        "SELECT starts_at, ends_at FROM shifts WHERE doctor_id = $1 AND starts_at < $2 AND ends_at > $3 \
         AND (id <> $4 OR $4 IS NULL) ORDER BY starts_at LIMIT 1",
    )
    .bind(s.doctor_id)
    .bind(s.ends_at)
    .bind(s.starts_at)
    .bind(except)
    .fetch_optional(tx.conn())
    .await?;
    if let Some((a, b)) = clash {
        let (a, b) = (
            crate::services::calls::paris_text(a),
            crate::services::calls::paris_text(b),
        );
        return Err(
            Error::conflict(format!("this doctor is already on call from {a} to {b}"))
                .with_field(format!("{field}starts_at"))
                .because(Reason::ShiftOverlap)
                .about(format!("{a} → {b}")),
        );
    }
    Ok(())
}

fn changed(tx: &mut WriteTx, doctor: i64, id: i64, removed: bool) {
    tx.publish(
        EventKind::ShiftChanged,
        serde_json::json!({"id": id, "doctor_id": doctor, "removed": removed}),
        Audience {
            doctor_id: Some(doctor),
            ..Default::default()
        },
    );
}

async fn insert(tx: &mut WriteTx, s: &NewShift) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO shifts (doctor_id, starts_at, ends_at, sector_id, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(s.doctor_id)
    .bind(s.starts_at)
    .bind(s.ends_at)
    .bind(s.sector_id)
    .bind(tx.now())
    .fetch_one(tx.conn())
    .await?;
    tx.audit(
        "shift.create",
        "shift",
        id,
        serde_json::json!({"doctor_id": s.doctor_id, "starts_at": s.starts_at, "ends_at": s.ends_at, "sector_id": s.sector_id}),
    )
    .await?;
    changed(tx, s.doctor_id, id, false);
    Ok(id)
}

pub async fn create(db: &Db, who: &Principal, s: NewShift) -> Result<ShiftView> {
    staff(who)?;
    check_times(&s, "")?;
    let mut tx = db.write(who.actor()).await?;
    check_in(&mut tx, &s, None, "").await?;
    let id = insert(&mut tx, &s).await?;
    let view = view_in(&mut tx, id).await?.ok_or_else(Error::internal)?;
    tx.commit().await?;
    Ok(view)
}

/// Replaces a shift's doctor, times and sector.
pub async fn update(db: &Db, who: &Principal, id: i64, s: NewShift) -> Result<ShiftView> {
    staff(who)?;
    check_times(&s, "")?;
    let mut tx = db.write(who.actor()).await?;
    let before = view_in(&mut tx, id)
        .await?
        .ok_or_else(|| Error::not_found(format!("shift {id}")))?;
    check_in(&mut tx, &s, Some(id), "").await?;
    sqlx::query(
        "UPDATE shifts SET doctor_id = $1, starts_at = $2, ends_at = $3, sector_id = $4 WHERE id = $5",
    )
    .bind(s.doctor_id)
    .bind(s.starts_at)
    .bind(s.ends_at)
    .bind(s.sector_id)
    .bind(id)
    .execute(tx.conn())
    .await?;
    tx.audit(
        "shift.update",
        "shift",
        id,
        serde_json::json!({
            "doctor_id": [before.doctor_id, s.doctor_id],
            "starts_at": [before.starts_at, s.starts_at],
            "ends_at": [before.ends_at, s.ends_at],
            "sector_id": [before.sector_id, s.sector_id],
        }),
    )
    .await?;
    changed(&mut tx, s.doctor_id, id, false);
    if before.doctor_id != s.doctor_id {
        changed(&mut tx, before.doctor_id, id, true);
    }
    let view = view_in(&mut tx, id).await?.ok_or_else(Error::internal)?;
    tx.commit().await?;
    Ok(view)
}

pub async fn delete(db: &Db, who: &Principal, id: i64) -> Result<()> {
    staff(who)?;
    let mut tx = db.write(who.actor()).await?;
    let before = view_in(&mut tx, id)
        .await?
        .ok_or_else(|| Error::not_found(format!("shift {id}")))?;
    sqlx::query("DELETE FROM shifts WHERE id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    tx.audit(
        "shift.delete",
        "shift",
        id,
        serde_json::json!({"doctor_id": before.doctor_id, "starts_at": before.starts_at,
            "ends_at": before.ends_at, "sector_id": before.sector_id}),
    )
    .await?;
    changed(&mut tx, before.doctor_id, id, true);
    tx.commit().await?;
    Ok(())
}

/// What copying or importing did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RosterChange {
    /// Shifts written.
    pub created: Vec<ShiftView>,
    /// Shifts not copied because the doctor already has one at that time.
    pub skipped: Vec<ShiftView>,
}

/// Copies the shifts starting in `[from, from + 7 days)` to the week starting at `to` (same
/// weekday and Paris wall-clock time, across a change of summer time), leaving out those that
/// would overlap a shift the doctor already has there.
pub async fn copy_week(db: &Db, who: &Principal, from: Ts, to: Ts) -> Result<RosterChange> {
    staff(who)?;
    let shift = to.0 - from.0;
    if shift.num_days() % 7 != 0 || shift.is_zero() || shift.num_seconds() % 86_400 != 0 {
        return Err(Error::invalid(
            "to",
            "a week is copied onto another week: a whole number of weeks later or earlier, same time of day",
        ));
    }
    let sql = format!(
        "{SHIFT_SELECT} WHERE s.starts_at >= $1 AND s.starts_at < $2 ORDER BY s.starts_at, s.id"
    );
    let week: Vec<ShiftView> = sqlx::query_as(&sql)
        .bind(from)
        .bind(from.plus(Duration::days(7)))
        .fetch_all(db.pool())
        .await?;
    let mut tx = db.write(who.actor()).await?;
    let mut done = RosterChange {
        created: Vec::new(),
        skipped: Vec::new(),
    };
    for s in week {
        let new = NewShift {
            doctor_id: s.doctor_id,
            starts_at: same_paris_time(s.starts_at, shift),
            ends_at: same_paris_time(s.ends_at, shift),
            sector_id: s.sector_id,
        };
        match check_in(&mut tx, &new, None, "").await {
            Ok(()) => {
                let id = insert(&mut tx, &new).await?;
                done.created
                    .push(view_in(&mut tx, id).await?.ok_or_else(Error::internal)?);
            }
            Err(e) if e.reason() == Some(Reason::ShiftOverlap) => done.skipped.push(s),
            Err(e) => return Err(e),
        }
    }
    tx.commit().await?;
    Ok(done)
}

/// `t` moved by `by` (whole days), keeping its Europe/Paris wall-clock time.
fn same_paris_time(t: Ts, by: Duration) -> Ts {
    let local = t.0 + Duration::hours(crate::planning::paris_offset_hours(t.0));
    from_paris(local.naive_utc() + by)
}

/// A Europe/Paris wall-clock time as UTC (in the autumn's repeated hour, the first one).
pub fn from_paris(local: NaiveDateTime) -> Ts {
    let guess = Utc.from_utc_datetime(&local);
    // The offset at the instant the wall-clock time designates: try winter (+1) then summer (+2).
    for h in [2, 1] {
        let utc = guess - Duration::hours(h);
        if crate::planning::paris_offset_hours(utc) == h {
            return Ts(utc);
        }
    }
    Ts(guess - Duration::hours(1))
}

/// One line of a roster spreadsheet, read.
#[derive(Debug)]
struct RosterLine {
    line: usize,
    shift: NewShift,
}

/// Reads a roster CSV: columns `medecin` (login, RPPS or name as the hub knows him), `debut`
/// and `fin` (`JJ/MM/AAAA HH:MM` or `AAAA-MM-JJ HH:MM`, Paris time), optional `secteur` (its
/// name); `;` or `,` separated, a header line first. Nothing is written unless every line is
/// right; each error names its line.
pub async fn import_csv(db: &Db, who: &Principal, text: &str) -> Result<RosterChange> {
    staff(who)?;
    let doctors: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT d.user_id, u.username, d.rpps, u.display_name FROM doctors d JOIN users u ON u.id = d.user_id \
         WHERE u.disabled_at IS NULL",
    )
    .fetch_all(db.pool())
    .await?;
    let sectors: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM sectors")
        .fetch_all(db.pool())
        .await?;
    let lines = parse_roster(text, &doctors, &sectors)?;
    let mut tx = db.write(who.actor()).await?;
    let mut done = RosterChange {
        created: Vec::new(),
        skipped: Vec::new(),
    };
    for l in &lines {
        let field = format!("line {}.", l.line);
        check_in(&mut tx, &l.shift, None, &field).await?;
        let id = insert(&mut tx, &l.shift).await?;
        done.created
            .push(view_in(&mut tx, id).await?.ok_or_else(Error::internal)?);
    }
    tx.commit().await?;
    Ok(done)
}

fn fold(s: &str) -> String {
    deunicode::deunicode(s).trim().to_lowercase()
}

fn parse_roster(
    text: &str,
    doctors: &[(i64, String, String, String)],
    sectors: &[(i64, String)],
) -> Result<Vec<RosterLine>> {
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or("");
    let delimiter = if first.matches(';').count() >= first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Error::invalid("line 1", format!("not a CSV file: {e}")))?
        .iter()
        .map(fold)
        .collect();
    let col = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let (Some(c_doctor), Some(c_start), Some(c_end)) = (
        col(&["medecin", "doctor", "docteur"]),
        col(&["debut", "start", "starts_at"]),
        col(&["fin", "end", "ends_at"]),
    ) else {
        return Err(Error::invalid(
            "line 1",
            "the first line names the columns: medecin;debut;fin (and secteur if any)",
        ));
    };
    let c_sector = col(&["secteur", "sector"]);
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        // Each error names its line and column, why, and the value at fault.
        let at = |col: &str, msg: String, reason: Reason, value: &str| {
            Error::invalid(format!("line {line}.{col}"), msg)
                .because(reason)
                .about(value)
        };
        let record = record.map_err(|e| {
            Error::invalid(format!("line {line}"), format!("unreadable: {e}"))
                .because(Reason::Format)
        })?;
        if record.iter().all(|c| c.is_empty()) {
            continue;
        }
        if out.len() >= 2000 {
            return Err(
                Error::invalid(format!("line {line}"), "at most 2000 shifts per import")
                    .because(Reason::Length)
                    .within(None, Some(2000.0)),
            );
        }
        let get = |c: usize| record.get(c).unwrap_or("");
        let who = fold(get(c_doctor));
        let matches: Vec<i64> = doctors
            .iter()
            .filter(|(_, login, rpps, name)| {
                fold(login) == who
                    || *rpps == who
                    || fold(name) == who
                    || fold(name.trim_start_matches("Dr ")) == who
            })
            .map(|d| d.0)
            .collect();
        let doctor_id = match matches.as_slice() {
            [one] => *one,
            [] => {
                return Err(at(
                    "medecin",
                    format!("no doctor {:?}", get(c_doctor)),
                    Reason::Unknown,
                    get(c_doctor),
                ))
            }
            _ => {
                return Err(at(
                    "medecin",
                    format!(
                        "{:?} names several doctors: give the login or the RPPS",
                        get(c_doctor)
                    ),
                    Reason::Unknown,
                    get(c_doctor),
                ))
            }
        };
        let when = |c: usize, col: &str| {
            parse_paris(get(c)).ok_or_else(|| {
                at(
                    col,
                    format!("not a date and time {:?} (JJ/MM/AAAA HH:MM)", get(c)),
                    Reason::Format,
                    get(c),
                )
            })
        };
        let starts_at = when(c_start, "debut")?;
        let mut ends_at = when(c_end, "fin")?;
        // "20:00 → 08:00" written with the same day: the night shift ends the next morning.
        if ends_at <= starts_at && ends_at.0 + Duration::days(1) > starts_at.0 {
            ends_at = ends_at.plus(Duration::days(1));
        }
        let sector_id = match c_sector.map(get).filter(|s| !s.is_empty()) {
            None => None,
            Some(name) => Some(
                sectors
                    .iter()
                    .find(|(_, n)| fold(n) == fold(name))
                    .map(|s| s.0)
                    .ok_or_else(|| {
                        at(
                            "secteur",
                            format!("no sector {name:?}"),
                            Reason::Unknown,
                            name,
                        )
                    })?,
            ),
        };
        let shift = NewShift {
            doctor_id,
            starts_at,
            ends_at,
            sector_id,
        };
        check_times(&shift, &format!("line {line}."))?;
        if let Some(other) = out.iter().find(|o: &&RosterLine| {
            o.shift.doctor_id == doctor_id
                && o.shift.starts_at < ends_at
                && o.shift.ends_at > starts_at
        }) {
            return Err(at(
                "debut",
                format!("overlaps line {} for the same doctor", other.line),
                Reason::ShiftOverlap,
                &format!("ligne {}", other.line),
            ));
        }
        out.push(RosterLine { line, shift });
    }
    if out.is_empty() {
        return Err(Error::invalid("line 2", "no shift in this file"));
    }
    Ok(out)
}

/// `04/12/2026 20:00`, `04/12/2026 20h00`, `2026-12-04 20:00` or `2026-12-04T20:00`, Paris time.
fn parse_paris(s: &str) -> Option<Ts> {
    let s = s.trim().replace('h', ":").replace('T', " ");
    for f in [
        "%d/%m/%Y %H:%M",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&s, f) {
            return Some(from_paris(t));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Ts {
        Ts(s.parse().unwrap())
    }

    #[test]
    fn paris_wall_clock_times_become_utc_in_winter_and_summer() {
        assert_eq!(
            parse_paris("04/12/2026 20:00"),
            Some(ts("2026-12-04T19:00:00Z"))
        );
        assert_eq!(
            parse_paris("2026-07-14 20h00"),
            Some(ts("2026-07-14T18:00:00Z"))
        );
        assert_eq!(parse_paris("14/07/2026"), None);
    }

    #[test]
    fn a_week_copied_across_the_change_of_time_keeps_its_hours() {
        // Saturday 24 October 2026, 20:00 in Paris (summer) → Saturday 31 October, 20:00 (winter).
        let t = same_paris_time(ts("2026-10-24T18:00:00Z"), Duration::days(7));
        assert_eq!(t, ts("2026-10-31T19:00:00Z"));
    }

    fn doctors() -> Vec<(i64, String, String, String)> {
        vec![
            (
                7,
                "dr02".into(),
                "10000000002".into(),
                "Dr Jean Martin".into(),
            ),
            (
                8,
                "dr03".into(),
                "10000000003".into(),
                "Dr Anne Roux".into(),
            ),
        ]
    }

    #[test]
    fn a_roster_file_reads_doctors_by_login_rpps_or_name() {
        let text = "medecin;debut;fin;secteur\ndr02;04/12/2026 20:00;05/12/2026 08:00;Nord\n\
                    10000000003;04/12/2026 20:00;04/12/2026 08:00;\nJean Martin;05/12/2026 20:00;06/12/2026 08:00;nord\n";
        let lines = parse_roster(text, &doctors(), &[(3, "Nord".into())]).unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].shift.doctor_id, 7);
        assert_eq!(lines[0].shift.sector_id, Some(3));
        // An end before the start on the same day: the next morning.
        assert_eq!(lines[1].shift.ends_at, ts("2026-12-05T07:00:00Z"));
        assert_eq!(lines[2].shift.doctor_id, 7);
    }

    #[test]
    fn a_wrong_line_is_named_and_nothing_is_taken() {
        let text = "medecin,debut,fin\ndr02,04/12/2026 20:00,05/12/2026 08:00\ndr09,04/12/2026 20:00,05/12/2026 08:00\n";
        let e = parse_roster(text, &doctors(), &[]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("line 3.medecin"));
        let text = "medecin;debut;fin\ndr02;04/12/2026 20:00;05/12/2026 08:00\ndr02;05/12/2026 06:00;05/12/2026 12:00\n";
        let e = parse_roster(text, &doctors(), &[]).unwrap_err();
        assert_eq!(e.reason(), Some(Reason::ShiftOverlap));
        let e = parse_roster("nom;jour\nx;y\n", &doctors(), &[]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("line 1"));
    }
}
