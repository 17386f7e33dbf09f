//! Letters to treating physicians: gathering a validated visit's content from the store into a
//! [`chevet_letter::Letter`], making its four forms, and the outbox that delivers them over
//! secure health messaging (SMTP to the association's MSSanté relay).
//!
//! Delivery is at least once with a stable `Message-ID`, so a receiver drops a duplicate that a
//! lost acknowledgement forced us to send again. A letter is claimed (`sending`, with a claim
//! that expires) before it is sent, so two hubs on one PostgreSQL never send it both; a hub that
//! dies mid-send leaves a claim that expires and the letter is retried.

use std::time::Duration;

use chevet_letter as cl;
use chrono::{DateTime, NaiveDate, Utc};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::domain::report::{Observations, OrientationKind};
use crate::domain::retry::backoff;
use crate::domain::Sex;
use crate::error::{Error, Reason, Result};
use crate::services::views::TreatingPhysician;
use crate::store::{Actor, Db, Ts};

/// Where letters go: the SMTP relay of the association's secure messaging operator.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://host:port` (plain, for a relay on loopback), `smtp://host:587?tls=required`
    /// (STARTTLS) or `smtps://user:password@host:465`.
    pub relay_url: Option<String>,
    /// First retry delay; each next one doubles, up to an hour.
    pub retry_base: Duration,
    /// After this many attempts a letter is `failed` (the doctor may retry it).
    pub max_attempts: i64,
    /// How long a claim on a letter being sent lasts.
    pub claim: Duration,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            relay_url: None,
            retry_base: Duration::from_secs(30),
            max_attempts: 12,
            claim: Duration::from_secs(120),
        }
    }
}

/// "Dr Claire Martin" → given "Claire", family "Martin".
fn split_name(display: &str) -> cl::PersonName {
    let cleaned = display
        .trim()
        .trim_start_matches("Dr.")
        .trim_start_matches("Dr ")
        .trim();
    match cleaned.rsplit_once(' ') {
        Some((given, family)) => cl::PersonName::new(given, family),
        None => cl::PersonName::new("", cleaned),
    }
}

fn address(
    line: Option<String>,
    postcode: Option<String>,
    city: Option<String>,
) -> Option<cl::Address> {
    let city = city.filter(|c| !c.trim().is_empty())?;
    Some(cl::Address {
        lines: line.into_iter().filter(|l| !l.trim().is_empty()).collect(),
        postal_code: postcode.unwrap_or_default(),
        city,
        country: None,
    })
}

#[derive(sqlx::FromRow)]
struct PatientRow {
    birth_name: String,
    used_name: Option<String>,
    first_names: String,
    birth_date: Option<String>,
    sex: Sex,
    nir: Option<String>,
    address_line: Option<String>,
    postcode: Option<String>,
    city: Option<String>,
    treating_physician_name: Option<String>,
    treating_physician_rpps: Option<String>,
    treating_physician_mssante: Option<String>,
}

#[derive(sqlx::FromRow)]
struct VisitFacts {
    patient_id: i64,
    doctor_id: Option<i64>,
    assigned_at: Option<Ts>,
    en_route_at: Option<Ts>,
    on_site_at: Option<Ts>,
    closed_at: Option<Ts>,
    caller_name: Option<String>,
    source: String,
    address_line: String,
    postcode: Option<String>,
    city: String,
}

/// An ECG of a visit, read back from its stored original files.
pub struct StoredEcg {
    pub id: i64,
    pub recording: chevet_ecg::Recording,
    pub heart_rate_bpm: Option<f64>,
    pub files: Vec<cl::OriginalFile>,
}

/// The ECGs of a visit that were not removed, read from their original files.
pub async fn visit_ecgs(db: &Db, visit_id: i64) -> Result<Vec<StoredEcg>> {
    let rows: Vec<(i64, String, String, Option<f64>)> = sqlx::query_as(
        "SELECT id, file_name, media_type, heart_rate_bpm FROM ecg_recordings \
         WHERE visit_id = $1 AND removed_at IS NULL ORDER BY id",
    )
    .bind(visit_id)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for (id, main, media_type, hr) in rows {
        let files: Vec<(String, Vec<u8>)> = sqlx::query_as(
            "SELECT name, data FROM ecg_files WHERE recording_id = $1 ORDER BY name",
        )
        .bind(id)
        .fetch_all(db.pool())
        .await?;
        let recording = crate::services::ecgs::read_files(&main, &files).map_err(|e| {
            tracing::error!(recording = id, "a stored ECG no longer reads: {e}");
            Error::internal()
        })?;
        // The main file first, then its companions.
        let mut originals: Vec<cl::OriginalFile> = files
            .into_iter()
            .map(|(name, bytes)| cl::OriginalFile {
                media_type: if name == main {
                    media_type.clone()
                } else {
                    "application/octet-stream".into()
                },
                file_name: name,
                bytes,
            })
            .collect();
        originals.sort_by_key(|f| f.file_name != main);
        out.push(StoredEcg {
            id,
            recording,
            heart_rate_bpm: hr,
            files: originals,
        });
    }
    Ok(out)
}

fn text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn observations(o: &Observations) -> cl::Observations {
    let v = &o.vitals;
    cl::Observations {
        motive: o.motive.trim().to_owned(),
        history: text(&o.history),
        examination: text(&o.examination),
        vitals: cl::Vitals {
            systolic_mmhg: v.systolic_mmhg,
            diastolic_mmhg: v.diastolic_mmhg,
            heart_rate_bpm: v.heart_rate_bpm,
            spo2_percent: v.spo2_pct,
            temperature_c: v.temperature_c,
            respiratory_rate_per_min: v.respiratory_rate,
            glycaemia_g_per_l: v.glycaemia_g_l,
            pain_score: v.pain,
        },
        ecg_interpretation: text(&o.ecg_interpretation),
        diagnoses: o
            .diagnoses
            .iter()
            .map(|d| cl::Diagnosis {
                icd10: d.code.clone(),
                label: d.label.clone(),
            })
            .collect(),
        treatment: text(&o.treatment),
        prescriptions: o.prescriptions.iter().filter_map(|p| text(p)).collect(),
        orientation: match o.orientation.as_ref().map(|x| (x.kind, x.details.clone())) {
            Some((OrientationKind::Hospital, details)) => cl::Orientation::Hospital {
                facility: details.unwrap_or_else(|| "Service des urgences".into()),
                transport: None,
            },
            Some((OrientationKind::Samu15, details)) => cl::Orientation::Samu {
                destination: details,
            },
            _ => cl::Orientation::Home,
        },
        advice: text(&o.advice),
        follow_up: text(&o.follow_up),
    }
}

/// Everything about a letter but its forms.
pub struct Draft {
    pub letter: Option<cl::Letter>,
    pub recipient: Option<TreatingPhysician>,
    pub message_id: String,
}

/// Gathers the letter of visit `visit_id` as validated now, for `recipient` (the patient's
/// treating physician when None). `letter` is None when nobody can receive it yet (no treating
/// physician, or one without a secure messaging address). A `preview` needs neither: it is
/// addressed to a placeholder and sent from one.
pub async fn gather(
    db: &Db,
    visit_id: i64,
    observations_now: &Observations,
    drafted_by: Option<&str>,
    recipient: Option<&TreatingPhysician>,
    now: DateTime<Utc>,
    preview: bool,
) -> Result<Draft> {
    let v: VisitFacts = sqlx::query_as(
        "SELECT v.patient_id, v.doctor_id, v.assigned_at, v.en_route_at, v.on_site_at, v.closed_at, \
         c.caller_name, c.source, c.address_line, c.postcode, c.city \
         FROM visits v JOIN calls c ON c.id = v.call_id WHERE v.id = $1",
    )
    .bind(visit_id)
    .fetch_one(db.pool())
    .await?;
    let p: PatientRow = sqlx::query_as(
        "SELECT birth_name, used_name, first_names, birth_date, sex, nir, address_line, postcode, city, \
         treating_physician_name, treating_physician_rpps, treating_physician_mssante FROM patients WHERE id = $1",
    )
    .bind(v.patient_id)
    .fetch_one(db.pool())
    .await?;
    let recipient = recipient.cloned().or_else(|| {
        p.treating_physician_name
            .clone()
            .map(|name| TreatingPhysician {
                name,
                rpps: p.treating_physician_rpps.clone(),
                mssante: p.treating_physician_mssante.clone(),
            })
    });
    let doctor_id = v
        .doctor_id
        .ok_or_else(|| Error::conflict("this visit has no doctor").with_field("status"))?;
    let (doctor_name, rpps, doctor_mss, doctor_phone): (String, String, Option<String>, Option<String>) =
        sqlx::query_as(
            "SELECT u.display_name, d.rpps, d.mssante, d.phone FROM doctors d JOIN users u ON u.id = d.user_id WHERE d.user_id = $1",
        )
        .bind(doctor_id)
        .fetch_one(db.pool())
        .await?;
    #[allow(clippy::type_complexity)]
    let assoc: Option<(
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    )> = sqlx::query_as(
        "SELECT name, address_line, postcode, city, phone, mssante FROM association WHERE id = 1",
    )
    .fetch_optional(db.pool())
    .await?;
    let (assoc_name, a_line, a_pc, a_city, a_phone, assoc_mss) = assoc.unwrap_or_else(|| {
        (
            "Association de médecins de garde".into(),
            None,
            None,
            None,
            None,
            None,
        )
    });

    let document_id = uuid::Uuid::new_v4().to_string();
    let sender = doctor_mss.clone().or(assoc_mss.clone());
    let domain = sender
        .as_deref()
        .and_then(|s| s.rsplit_once('@'))
        .map(|(_, d)| d.to_owned())
        .unwrap_or_else(|| "chevet.invalid".into());
    let message_id = format!("<{document_id}@{domain}>");
    // A preview without a reachable treating physician is addressed to a placeholder.
    let recipient = match recipient {
        Some(r) if r.mssante.as_deref().is_some_and(|m| m.contains('@')) => Some(r),
        _ if preview => Some(TreatingPhysician {
            name: "Médecin traitant".into(),
            rpps: None,
            mssante: Some("medecin.traitant@exemple.mssante.fr".into()),
        }),
        other => {
            return Ok(Draft {
                letter: None,
                recipient: other,
                message_id,
            })
        }
    };
    let r = recipient.clone().unwrap_or(TreatingPhysician {
        name: String::new(),
        rpps: None,
        mssante: None,
    });
    let to = r.mssante.clone().unwrap_or_default();
    // A preview shows the letter before the association's mailbox is set up.
    let sender = sender.or_else(|| preview.then(|| "expediteur@exemple.mssante.fr".to_owned()));
    let Some(from) = sender else {
        return Err(Error::invalid(
            "association.mssante",
            "no secure messaging mailbox to send from: an administrator sets the association's MSSanté address",
        ).because(Reason::Required));
    };
    let birth_date = p
        .birth_date
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| {
            Error::invalid(
                "patient.birth_date",
                "the letter needs the patient's birth date: add it to the patient",
            )
            .because(Reason::Required)
        })?;
    let family = p.used_name.clone().unwrap_or_else(|| p.birth_name.clone());
    let ecgs = visit_ecgs(db, visit_id).await?;
    let start = v
        .on_site_at
        .or(v.en_route_at)
        .or(v.assigned_at)
        .map(|t| t.0)
        .unwrap_or(now);
    let letter = cl::Letter {
        document: cl::DocumentInfo {
            id: document_id.clone(),
            set_id: document_id.clone(),
            version: 1,
            created_at: now,
        },
        time_zone: cl::TimeZone::France,
        association: cl::Association {
            name: assoc_name,
            address: address(a_line, a_pc, a_city).unwrap_or_default(),
            phone: a_phone,
            oid_root: None,
            structure_id: None,
        },
        author: cl::Doctor {
            name: split_name(&doctor_name),
            rpps,
            mssante: from.clone(),
            phone: doctor_phone,
        },
        drafted_by: drafted_by.map(split_name),
        recipient: cl::Recipient {
            name: split_name(&r.name),
            rpps: r.rpps.clone(),
            mssante: to,
            address: None,
        },
        patient: cl::Patient {
            name: cl::PersonName::new(&p.first_names, &family),
            birth_family: p.used_name.as_ref().map(|_| p.birth_name.clone()),
            birth_date,
            sex: match p.sex {
                Sex::Female => cl::Sex::Female,
                Sex::Male => cl::Sex::Male,
                Sex::Unknown => cl::Sex::Unknown,
            },
            address: address(p.address_line, p.postcode, p.city),
            // A NIR typed at the call centre is not a qualified INS (no INSi check yet).
            ins: p.nir.map(|nir| cl::Ins {
                nir,
                qualified: false,
            }),
            local_id: format!("P{}", v.patient_id),
        },
        visit: cl::Visit {
            start,
            end: Some(v.closed_at.map(|t| t.0).unwrap_or(now)).filter(|e| *e >= start),
            address: address(Some(v.address_line), v.postcode, Some(v.city)).unwrap_or_default(),
            called_by: v.caller_name.or(match v.source.as_str() {
                "samu_15" => Some("le 15 (SAMU)".into()),
                "institution" => Some("l'établissement".into()),
                "patient" => Some("le patient".into()),
                _ => None,
            }),
        },
        observations: observations(observations_now),
        ecgs: ecgs
            .into_iter()
            .map(|e| cl::EcgAttachment {
                signal: match e.recording {
                    chevet_ecg::Recording::Signal(ecg) => Some(ecg),
                    chevet_ecg::Recording::Document { .. } => None,
                },
                files: e.files,
                heart_rate_bpm: e.heart_rate_bpm.map(|h| h as f32),
            })
            .collect(),
    };
    letter
        .validate()
        .map_err(|e| Error::invalid("letter", e.to_string()))?;
    Ok(Draft {
        letter: Some(letter),
        recipient,
        message_id,
    })
}

// ---- Delivery ------------------------------------------------------------------------------

macro_rules! text_header {
    ($ty:ident, $name:literal) => {
        #[derive(Debug, Clone)]
        struct $ty(String);
        impl Header for $ty {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($name)
            }
            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok($ty(s.to_owned()))
            }
            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}
// MSSanté client rules (Référentiel socle MSSanté #2, ECO.2.4): the CDA document's code, and
// whether the CDA identifies the patient with a qualified INS (O/N).
text_header!(XMssCodeCda, "X-MSS-CODECDA");
text_header!(XMssIns, "X-MSS-INS");

#[derive(sqlx::FromRow)]
struct Outgoing {
    visit_id: i64,
    doctor_id: Option<i64>,
    doctor_name: String,
    /// The doctor's own MSSanté mailbox, else the association's.
    sender: Option<String>,
    message_id: String,
    recipient_mssante: Option<String>,
    attempts: i64,
    pdf: Option<Vec<u8>>,
    xdm: Option<Vec<u8>>,
    cda: Option<String>,
    created_at: Ts,
}

/// Why an attempt failed, and whether trying again may help.
struct SendError {
    message: String,
    permanent: bool,
}

/// Builds the mail of a letter: a short body without medical content, the PDF and the XDM.
fn build_mail(l: &Outgoing, from: &str, sender_name: &str) -> Result<Message, SendError> {
    let bad = |m: String| SendError {
        message: m,
        permanent: true,
    };
    let to: Mailbox = l
        .recipient_mssante
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|e| bad(format!("the recipient's address is not valid: {e}")))?;
    let from: Mailbox = format!("{sender_name} <{from}>")
        .parse()
        .or_else(|_| from.parse())
        .map_err(|e| bad(format!("the sender's address is not valid: {e}")))?;
    let (Some(pdf), Some(xdm), Some(cda)) = (&l.pdf, &l.xdm, &l.cda) else {
        return Err(bad("the letter has not been made yet".into()));
    };
    // The CDA names the patient by INS only for a qualified identity (chevet-letter's rule).
    let qualified_ins = cda.contains(&format!("root=\"{}\"", cl::OID_INS_NIR));
    let date = l.created_at.0.with_timezone(&chrono_tz_paris());
    let body = format!(
        "Cher Confrère,\n\nVeuillez trouver ci-joint le compte rendu de la visite à domicile du {} réalisée \
         auprès de votre patient(e), avec l'ECG le cas échéant.\n\nLe document est joint en PDF et au format \
         structuré (IHE_XDM.ZIP, CDA R2).\n\nConfraternellement,\n{sender_name}\n",
        date.format("%d/%m/%Y")
    );
    Message::builder()
        .message_id(Some(l.message_id.clone()))
        .from(from)
        .to(to)
        .subject(format!(
            "Compte rendu de visite à domicile du {}",
            date.format("%d/%m/%Y")
        ))
        .date(l.created_at.0.into())
        .header(XMssCodeCda(cl::cda_code().code.to_owned()))
        .header(XMssIns(if qualified_ins { "O" } else { "N" }.to_owned()))
        .multipart(
            MultiPart::mixed()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(body),
                )
                .singlepart(
                    Attachment::new(format!("compte-rendu-visite-{}.pdf", l.visit_id)).body(
                        pdf.clone(),
                        ContentType::parse("application/pdf").expect("valid"),
                    ),
                )
                .singlepart(Attachment::new("IHE_XDM.ZIP".to_owned()).body(
                    xdm.clone(),
                    ContentType::parse("application/zip").expect("valid"),
                )),
        )
        .map_err(|e| bad(format!("the mail cannot be built: {e}")))
}

/// Europe/Paris as a fixed offset for the mail's date line (the letter itself knows DST).
fn chrono_tz_paris() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt((crate::planning::paris_offset_hours(Utc::now()) * 3600) as i32)
        .unwrap_or(chrono::FixedOffset::east_opt(3600).expect("valid offset"))
}

/// Checks a relay URL: letters carry health data, so off loopback the relay must be reached
/// over TLS (`smtps://`, or `smtp://...?tls=required` for STARTTLS).
pub fn check_relay(relay: &str) -> Result<(), String> {
    let url = url::Url::parse(relay)
        .map_err(|_| "not a URL (smtp://host:port, smtps://host:465)".to_owned())?;
    // smtp is not a scheme the URL standard knows: its host is plain text, an address or a name.
    let host = match url.host_str() {
        Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']'),
        _ => return Err("a relay URL needs a host".into()),
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let starttls = url
        .query_pairs()
        .any(|(k, v)| k == "tls" && v == "required");
    match url.scheme() {
        "smtps" => Ok(()),
        "smtp" if starttls || loopback => Ok(()),
        "smtp" => Err(format!(
            "{} is not on loopback: use smtps:// or add ?tls=required (STARTTLS), letters carry health data",
            url.host_str().unwrap_or_default()
        )),
        other => Err(format!("unknown scheme {other}: use smtp:// or smtps://")),
    }
}

async fn send(relay: &str, mail: Message) -> Result<(), SendError> {
    if let Err(why) = check_relay(relay) {
        return Err(SendError {
            message: format!("the relay address is refused: {why}"),
            permanent: true,
        });
    }
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(relay)
        .map_err(|e| SendError {
            message: format!("the relay address is not valid: {e}"),
            permanent: true,
        })?
        .timeout(Some(Duration::from_secs(30)))
        .build();
    match transport.send(mail).await {
        Ok(_) => Ok(()),
        Err(e) => Err(SendError {
            permanent: e.is_permanent(),
            message: if e.is_permanent() {
                format!("the relay refused the letter: {e}")
            } else {
                format!("the relay could not be reached or deferred the letter: {e}")
            },
        }),
    }
}

/// The longest wait between two attempts at a letter.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);

/// Claims and sends every letter that is due; returns when none is.
pub async fn deliver_due(db: &Db, config: &MailConfig) -> Result<(), sqlx::Error> {
    loop {
        let now = Ts::now();
        let due: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM letters WHERE (status = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= $1)) \
             OR (status = 'sending' AND claimed_until < $1) ORDER BY id LIMIT 1",
        )
        .bind(now)
        .fetch_optional(db.pool())
        .await?;
        let Some(id) = due else { return Ok(()) };
        let claimed = sqlx::query(
            "UPDATE letters SET status = 'sending', claimed_until = $1, attempts = attempts + 1 \
             WHERE id = $2 AND ((status = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= $3)) \
             OR (status = 'sending' AND claimed_until < $3))",
        )
        .bind(now.plus(chrono::Duration::from_std(config.claim).unwrap_or_default()))
        .bind(id)
        .bind(now)
        .execute(db.pool())
        .await?
        .rows_affected();
        if claimed == 0 {
            continue; // another hub took it
        }
        let letter: Outgoing = sqlx::query_as(
            "SELECT l.visit_id, v.doctor_id, u.display_name AS doctor_name, \
             COALESCE(d.mssante, (SELECT mssante FROM association WHERE id = 1)) AS sender, \
             l.message_id, l.recipient_mssante, l.attempts, l.pdf, l.xdm, l.cda, l.created_at \
             FROM letters l JOIN visits v ON v.id = l.visit_id JOIN doctors d ON d.user_id = v.doctor_id \
             JOIN users u ON u.id = d.user_id WHERE l.id = $1",
        )
        .bind(id)
        .fetch_one(db.pool())
        .await?;
        let result = match &config.relay_url {
            None => Err(SendError {
                message: "no secure messaging relay is configured on this hub (CHEVET_SMTP_URL)"
                    .into(),
                permanent: false,
            }),
            Some(relay) => match &letter.sender {
                None => Err(SendError {
                    message: "no sender mailbox: set the association's MSSanté address".into(),
                    permanent: false,
                }),
                Some(from) => match build_mail(&letter, from, &letter.doctor_name) {
                    Ok(mail) => send(relay, mail).await,
                    Err(e) => Err(e),
                },
            },
        };
        let mut tx = db.write(Actor::SYSTEM).await?;
        let now = tx.now();
        let (status, next, error) = match &result {
            Ok(()) => ("sent", None, None),
            Err(e) if e.permanent || letter.attempts >= config.max_attempts => {
                ("failed", None, Some(e.message.clone()))
            }
            Err(e) => (
                "queued",
                Some(
                    now.plus(
                        chrono::Duration::from_std(backoff(
                            config.retry_base,
                            MAX_RETRY_DELAY,
                            letter.attempts,
                        ))
                        .unwrap_or_default(),
                    ),
                ),
                Some(e.message.clone()),
            ),
        };
        sqlx::query(
            "UPDATE letters SET status = $1, next_attempt_at = $2, last_error = $3, claimed_until = NULL, \
             sent_at = CASE WHEN $1 = 'sent' THEN $4 ELSE sent_at END WHERE id = $5 AND status = 'sending'",
        )
        .bind(status)
        .bind(next)
        .bind(&error)
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
        tx.audit(
            &format!(
                "letter.{}",
                if status == "sent" {
                    "sent"
                } else {
                    "attempt_failed"
                }
            ),
            "letter",
            id,
            serde_json::json!({"attempt": letter.attempts, "status": status, "error": error}),
        )
        .await?;
        tx.publish(
            crate::store::EventKind::LetterUpdated,
            serde_json::json!({"visit_id": letter.visit_id, "letter_id": id, "status": status}),
            crate::store::Audience {
                doctor_id: letter.doctor_id,
                ..Default::default()
            },
        );
        tx.commit().await?;
        if let Err(e) = &result {
            // No patient data: the letter id and the relay's answer only.
            tracing::warn!(
                letter = id,
                attempt = letter.attempts,
                "letter not delivered: {}",
                e.message
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_leave_loopback_only_over_tls() {
        for ok in [
            "smtp://127.0.0.1:2525",
            "smtp://localhost:25",
            "smtps://user:pw@mss.example.fr:465",
            "smtp://mss.example.fr:587?tls=required",
        ] {
            assert!(check_relay(ok).is_ok(), "{ok}");
        }
        for bad in [
            "smtp://mss.example.fr:25",
            "smtp://10.0.0.2:25?tls=opportunistic",
            "http://mss.example.fr",
            "nothing",
        ] {
            assert!(check_relay(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let c = MailConfig {
            retry_base: Duration::from_secs(30),
            ..Default::default()
        };
        let backoff = |n| backoff(c.retry_base, MAX_RETRY_DELAY, n);
        assert_eq!(backoff(1), Duration::from_secs(30));
        assert_eq!(backoff(2), Duration::from_secs(60));
        assert_eq!(backoff(3), Duration::from_secs(120));
        assert_eq!(backoff(20), Duration::from_secs(3600));
    }

    #[test]
    fn doctor_names_split_into_given_and_family() {
        assert_eq!(
            split_name("Dr Claire Martin"),
            cl::PersonName::new("Claire", "Martin")
        );
        assert_eq!(split_name("Martin"), cl::PersonName::new("", "Martin"));
    }
}
