//! The call centre's figures for a period (a day, a week, a month): calls and visits per hour
//! and per day, waits per priority (time to assign, time to arrive: median and 90th
//! percentile), outcomes, and the same per sector and per doctor. Read from the calls and the
//! visits' history; Paris days and hours.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::{Any, Executor};
use utoipa::ToSchema;

use crate::domain::{CallOutcome, Coverage, VisitStatus};
use crate::store::Ts;

/// The longest period the figures are computed for, in days.
pub const MAX_DAYS: i64 = 93;

#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub from: Ts,
    pub to: Ts,
    pub calls: usize,
    /// Calls that opened a home visit.
    pub visits: usize,
    /// Per hour of the day (Paris), 0 to 23, over the whole period.
    pub by_hour: Vec<Count>,
    /// Per Paris day of the period, oldest first.
    pub by_day: Vec<DayCount>,
    /// Per priority (1 to 3).
    pub waits: Vec<Waits>,
    pub outcomes: Vec<OutcomeCount>,
    /// How the visits ended (closed, cancelled, sent to the 15, still open).
    pub visit_statuses: Vec<StatusCount>,
    pub sectors: Vec<Group>,
    pub doctors: Vec<Group>,
}

#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct Count {
    pub hour: u32,
    pub calls: usize,
    pub visits: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayCount {
    /// YYYY-MM-DD, Paris.
    pub day: String,
    pub calls: usize,
    pub visits: usize,
}

/// Minutes from the call: to the first assignment, to the doctor's arrival.
#[derive(Debug, Serialize, ToSchema)]
pub struct Waits {
    pub urgency: i64,
    pub visits: usize,
    pub assign_p50_min: Option<f64>,
    pub assign_p90_min: Option<f64>,
    pub arrive_p50_min: Option<f64>,
    pub arrive_p90_min: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeCount {
    pub outcome: CallOutcome,
    pub calls: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusCount {
    pub status: VisitStatus,
    pub visits: usize,
}

/// A sector's or a doctor's share.
#[derive(Debug, Serialize, ToSchema)]
pub struct Group {
    /// The sector's or the doctor's id; None for calls out of the sectors or of unknown place.
    pub id: Option<i64>,
    pub name: String,
    pub calls: usize,
    pub visits: usize,
    pub arrive_p50_min: Option<f64>,
    pub arrive_p90_min: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    received_at: Ts,
    outcome: CallOutcome,
    urgency: Option<i64>,
    coverage: Coverage,
    sector_id: Option<i64>,
    sector_name: Option<String>,
    visit_id: Option<i64>,
    visit_status: Option<VisitStatus>,
    doctor_id: Option<i64>,
    doctor_name: Option<String>,
    first_assigned_at: Option<Ts>,
    on_site_at: Option<Ts>,
}

/// The value under which `q` of the sorted `xs` lie (nearest rank).
pub fn percentile(xs: &mut [f64], q: f64) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let rank = ((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
    Some((xs[rank - 1] * 10.0).round() / 10.0)
}

fn minutes(from: Ts, to: Option<Ts>) -> Option<f64> {
    to.map(|t| (t.0 - from.0).num_seconds() as f64 / 60.0)
        .filter(|m| *m >= 0.0)
}

#[derive(Default)]
struct Acc {
    name: String,
    calls: usize,
    visits: usize,
    arrive: Vec<f64>,
}

impl Acc {
    fn group(mut self, id: Option<i64>) -> Group {
        Group {
            id,
            name: self.name,
            calls: self.calls,
            visits: self.visits,
            arrive_p50_min: percentile(&mut self.arrive, 0.5),
            arrive_p90_min: percentile(&mut self.arrive, 0.9),
        }
    }
}

/// The figures of calls received in `[from, to)`.
pub async fn compute<'c, E>(e: E, from: Ts, to: Ts) -> Result<Stats, sqlx::Error>
where
    E: Executor<'c, Database = Any>,
{
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.received_at, c.outcome, c.urgency, c.coverage, c.sector_id, s.name AS sector_name, \
         v.id AS visit_id, v.status AS visit_status, v.doctor_id, u.display_name AS doctor_name, \
         (SELECT MIN(t.at) FROM visit_transitions t WHERE t.visit_id = v.id AND t.to_status = 'assigned') \
           AS first_assigned_at, v.on_site_at \
         FROM calls c LEFT JOIN visits v ON v.call_id = c.id LEFT JOIN sectors s ON s.id = c.sector_id \
         LEFT JOIN users u ON u.id = v.doctor_id \
         WHERE c.received_at >= $1 AND c.received_at < $2 ORDER BY c.received_at",
    )
    .bind(from)
    .bind(to)
    .fetch_all(e)
    .await?;
    Ok(aggregate(from, to, &rows))
}

fn paris_day_hour(t: Ts) -> (String, u32) {
    let local = t.0 + chrono::Duration::hours(crate::planning::paris_offset_hours(t.0));
    (
        local.format("%Y-%m-%d").to_string(),
        chrono::Timelike::hour(&local),
    )
}

fn aggregate(from: Ts, to: Ts, rows: &[Row]) -> Stats {
    let mut by_hour: Vec<Count> = (0..24)
        .map(|hour| Count {
            hour,
            ..Count::default()
        })
        .collect();
    // Every Paris day of the period, even those without a call.
    let mut by_day: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut d = from;
    while d < to {
        by_day.insert(paris_day_hour(d).0, (0, 0));
        d = d.plus(chrono::Duration::hours(24));
    }
    let last = to.plus(chrono::Duration::seconds(-1));
    by_day.entry(paris_day_hour(last).0).or_default();
    let mut waits: BTreeMap<i64, (usize, Vec<f64>, Vec<f64>)> = BTreeMap::new();
    let mut outcomes: BTreeMap<&'static str, (CallOutcome, usize)> = BTreeMap::new();
    let mut statuses: BTreeMap<&'static str, (VisitStatus, usize)> = BTreeMap::new();
    let mut sectors: BTreeMap<Option<i64>, Acc> = BTreeMap::new();
    let mut doctors: BTreeMap<i64, Acc> = BTreeMap::new();
    let mut visits = 0;
    for r in rows {
        let is_visit = r.visit_id.is_some();
        let (day, hour) = paris_day_hour(r.received_at);
        let slot = &mut by_hour[hour as usize];
        slot.calls += 1;
        let today = by_day.entry(day).or_default();
        today.0 += 1;
        outcomes
            .entry(r.outcome.as_str())
            .or_insert((r.outcome, 0))
            .1 += 1;
        let assign = minutes(r.received_at, r.first_assigned_at);
        let arrive = minutes(r.received_at, r.on_site_at);
        let sector = sectors.entry(r.sector_id).or_insert_with(|| Acc {
            name: match (&r.sector_name, r.coverage) {
                (Some(n), _) => n.clone(),
                (None, Coverage::OutOfSector) => "Hors secteur".into(),
                _ => "Sans position".into(),
            },
            ..Acc::default()
        });
        // Calls out of the sectors and calls without a place fall in different rows.
        sector.calls += 1;
        if is_visit {
            visits += 1;
            slot.visits += 1;
            today.1 += 1;
            sector.visits += 1;
            sector.arrive.extend(arrive);
            if let Some(status) = r.visit_status {
                statuses.entry(status.as_str()).or_insert((status, 0)).1 += 1;
            }
            let w = waits.entry(r.urgency.unwrap_or(3)).or_default();
            w.0 += 1;
            w.1.extend(assign);
            w.2.extend(arrive);
            if let Some(doctor) = r.doctor_id {
                let acc = doctors.entry(doctor).or_insert_with(|| Acc {
                    name: r.doctor_name.clone().unwrap_or_default(),
                    ..Acc::default()
                });
                acc.calls += 1;
                acc.visits += 1;
                acc.arrive.extend(arrive);
            }
        }
    }
    // "Out of sector" and "unknown" share the None key: split them by name.
    let mut sector_groups: Vec<Group> = sectors.into_iter().map(|(id, a)| a.group(id)).collect();
    sector_groups.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.name.cmp(&b.name)));
    let mut doctor_groups: Vec<Group> = doctors
        .into_iter()
        .map(|(id, a)| a.group(Some(id)))
        .collect();
    doctor_groups.sort_by(|a, b| b.visits.cmp(&a.visits).then(a.name.cmp(&b.name)));
    Stats {
        from,
        to,
        calls: rows.len(),
        visits,
        by_hour,
        by_day: by_day
            .into_iter()
            .map(|(day, (calls, visits))| DayCount { day, calls, visits })
            .collect(),
        waits: (1..=3)
            .map(|u| {
                let (n, mut assign, mut arrive) = waits.remove(&u).unwrap_or_default();
                Waits {
                    urgency: u,
                    visits: n,
                    assign_p50_min: percentile(&mut assign, 0.5),
                    assign_p90_min: percentile(&mut assign, 0.9),
                    arrive_p50_min: percentile(&mut arrive, 0.5),
                    arrive_p90_min: percentile(&mut arrive, 0.9),
                }
            })
            .collect(),
        outcomes: CallOutcome::ALL
            .iter()
            .map(|o| OutcomeCount {
                outcome: *o,
                calls: outcomes.get(o.as_str()).map(|x| x.1).unwrap_or(0),
            })
            .collect(),
        visit_statuses: statuses
            .into_values()
            .map(|(status, visits)| StatusCount { status, visits })
            .collect(),
        sectors: sector_groups,
        doctors: doctor_groups,
    }
}

/// The figures as CSV (`;`-separated, UTF-8 with a BOM): one line per figure,
/// `tableau;clé;mesure;valeur`.
pub fn to_csv(s: &Stats) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(["tableau", "clé", "mesure", "valeur"])?;
    let num = |x: Option<f64>| {
        x.map(|v| format!("{v:.1}").replace('.', ","))
            .unwrap_or_default()
    };
    let mut put = |t: &str, k: &str, m: &str, v: String| w.write_record([t, k, m, v.as_str()]);
    put(
        "période",
        "du",
        "heure de Paris",
        super::calls::paris_text(s.from),
    )?;
    put(
        "période",
        "au",
        "heure de Paris",
        super::calls::paris_text(s.to),
    )?;
    put("total", "", "appels", s.calls.to_string())?;
    put("total", "", "visites", s.visits.to_string())?;
    for h in &s.by_hour {
        let k = format!("{:02}h", h.hour);
        put("par heure", &k, "appels", h.calls.to_string())?;
        put("par heure", &k, "visites", h.visits.to_string())?;
    }
    for d in &s.by_day {
        put("par jour", &d.day, "appels", d.calls.to_string())?;
        put("par jour", &d.day, "visites", d.visits.to_string())?;
    }
    for x in &s.waits {
        let k = format!("P{}", x.urgency);
        put("délais (min)", &k, "visites", x.visits.to_string())?;
        put(
            "délais (min)",
            &k,
            "attribution médiane",
            num(x.assign_p50_min),
        )?;
        put(
            "délais (min)",
            &k,
            "attribution 90e centile",
            num(x.assign_p90_min),
        )?;
        put("délais (min)", &k, "arrivée médiane", num(x.arrive_p50_min))?;
        put(
            "délais (min)",
            &k,
            "arrivée 90e centile",
            num(x.arrive_p90_min),
        )?;
    }
    for o in &s.outcomes {
        put(
            "issues",
            super::calls::outcome_label(o.outcome),
            "appels",
            o.calls.to_string(),
        )?;
    }
    for (table, groups) in [("par secteur", &s.sectors), ("par médecin", &s.doctors)] {
        for g in groups.iter() {
            let name = super::calls::cell(&g.name);
            put(table, &name, "appels", g.calls.to_string())?;
            put(table, &name, "visites", g.visits.to_string())?;
            put(table, &name, "arrivée médiane (min)", num(g.arrive_p50_min))?;
        }
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Ts {
        Ts(s.parse().unwrap())
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut xs = vec![10.0, 1.0, 3.0, 2.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
        assert_eq!(percentile(&mut xs, 0.5), Some(5.0));
        assert_eq!(percentile(&mut xs, 0.9), Some(9.0));
        assert_eq!(percentile(&mut [], 0.5), None);
        assert_eq!(percentile(&mut [7.25], 0.9), Some(7.3));
    }

    fn row(at: &str, outcome: CallOutcome, assigned: Option<&str>, on_site: Option<&str>) -> Row {
        Row {
            received_at: ts(at),
            outcome,
            urgency: Some(2),
            coverage: Coverage::Covered,
            sector_id: Some(1),
            sector_name: Some("Grenoble".into()),
            visit_id: (outcome == CallOutcome::HomeVisit).then_some(1),
            visit_status: (outcome == CallOutcome::HomeVisit).then_some(VisitStatus::Closed),
            doctor_id: assigned.map(|_| 9),
            doctor_name: assigned.map(|_| "Dr Roux".into()),
            first_assigned_at: assigned.map(ts),
            on_site_at: on_site.map(ts),
        }
    }

    #[test]
    fn a_day_is_counted_in_paris_hours_with_its_waits() {
        let rows = [
            // 19:30 UTC is 20:30 in Paris in December.
            row(
                "2026-12-04T19:30:00Z",
                CallOutcome::HomeVisit,
                Some("2026-12-04T19:40:00Z"),
                Some("2026-12-04T20:10:00Z"),
            ),
            row(
                "2026-12-04T19:50:00Z",
                CallOutcome::HomeVisit,
                Some("2026-12-04T19:55:00Z"),
                Some("2026-12-04T20:50:00Z"),
            ),
            row("2026-12-04T23:10:00Z", CallOutcome::Advice, None, None),
        ];
        let s = aggregate(
            ts("2026-12-03T23:00:00Z"),
            ts("2026-12-04T23:00:00Z"),
            &rows,
        );
        assert_eq!((s.calls, s.visits), (3, 2));
        assert_eq!(s.by_hour[20].calls, 2);
        assert_eq!(s.by_hour[0].calls, 1, "00:10 in Paris");
        // One Paris day asked; the advice at 00:10 on the 5th is outside it but still dated.
        assert_eq!(
            s.by_day.iter().map(|d| d.day.as_str()).collect::<Vec<_>>(),
            ["2026-12-04", "2026-12-05"]
        );
        let p2 = &s.waits[1];
        assert_eq!(p2.visits, 2);
        assert_eq!(p2.assign_p50_min, Some(5.0));
        assert_eq!(p2.arrive_p90_min, Some(60.0));
        assert_eq!(
            s.outcomes
                .iter()
                .find(|o| o.outcome == CallOutcome::Advice)
                .unwrap()
                .calls,
            1
        );
        assert_eq!(s.doctors[0].visits, 2);
        assert_eq!(s.sectors[0].name, "Grenoble");
    }
}
