//! The demo association: SOS Médecins-style doctors around Grenoble, its sectors, three EHPAD
//! with residents, a partner nurse network, and calls in every state.
//!
//! Accounts, institutions and patients are created with the same functions the API uses; the
//! calls and their transitions go through the real API handlers, in process, so the demo's audit
//! trail and events are what real use produces.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::accounts::{create_user, NewDoctor, NewUser};
use crate::domain::{DoctorStatus, Role, Sex, Skill};
use crate::error::Error;
use crate::http;
use crate::hub::{Hub, HubConfig};
use crate::services::doctors::update_status;
use crate::services::institutions::{create_institution, NewInstitution};
use crate::services::patients::{create_patient, NewPatient};
use crate::services::views::{Address, TreatingPhysician};
use crate::store::{Actor, Db, Ts};

/// The demo accounts, all with the password `demo`.
pub const ACCOUNTS: &[(&str, &str)] = &[
    ("admin", "administratrice de l'association"),
    ("dispatcher", "standardiste"),
    ("doctor", "médecin de garde (Dr Claire Martin)"),
    ("assistant", "assistante du Dr Martin (délégation)"),
    ("ehpad", "infirmière de l'EHPAD Les Edelweiss"),
    (
        "nurse",
        "infirmière du réseau SOS Infirmiers Grenoble Alpes",
    ),
    ("nurse2", "infirmier du même réseau"),
];

pub const PASSWORD: &str = "demo";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo seeding failed at {step}: {message}")]
    Step { step: String, message: String },
}

const DEMO_ADDRESSES: &str = include_str!("../tests/fixtures/adresses-test.csv");

fn fail(step: &str, e: impl std::fmt::Display) -> DemoError {
    DemoError::Step {
        step: step.to_owned(),
        message: e.to_string(),
    }
}

impl From<Error> for DemoError {
    fn from(e: Error) -> Self {
        fail("store", e.message)
    }
}

impl From<sqlx::Error> for DemoError {
    fn from(e: sqlx::Error) -> Self {
        fail("store", e)
    }
}

/// Sectors as rough polygons over the Grenoble conurbation (lon, lat).
const SECTORS: &[(&str, [f64; 4])] = &[
    // name, [min_lon, min_lat, max_lon, max_lat]
    ("Grenoble centre", [5.690, 45.163, 5.755, 45.205]),
    ("Sud — Échirolles, Eybens", [5.690, 45.120, 5.770, 45.163]),
    (
        "Est — Saint-Martin-d'Hères, Gières",
        [5.755, 45.163, 5.830, 45.205],
    ),
    (
        "Nord-Est — Meylan, Montbonnot",
        [5.755, 45.205, 5.840, 45.250],
    ),
    (
        "Ouest — Fontaine, Seyssinet, Sassenage",
        [5.620, 45.150, 5.690, 45.215],
    ),
    ("Nord-Ouest — Saint-Égrève", [5.650, 45.205, 5.755, 45.250]),
];

const DOCTOR_NAMES: &[&str] = &[
    "Claire Martin",
    "Julien Bernard",
    "Sophie Dubois",
    "Thomas Robert",
    "Camille Richard",
    "Nicolas Petit",
    "Émilie Durand",
    "Antoine Leroy",
    "Marion Moreau",
    "Hugo Simon",
    "Léa Laurent",
    "Maxime Lefèvre",
    "Chloé Michel",
    "Romain Garcia",
    "Pauline David",
    "Alexandre Bertrand",
    "Manon Roux",
    "Guillaume Vincent",
    "Inès Fournier",
    "Baptiste Morel",
];

/// Appends the Luhn check digit to `body` (RPPS and FINESS numbers end with one).
fn with_luhn(body: &str) -> String {
    (0..10)
        .map(|k| format!("{body}{k}"))
        .find(|s| {
            let sum: u32 = s
                .bytes()
                .rev()
                .enumerate()
                .map(|(i, c)| {
                    let d = u32::from(c - b'0');
                    if i % 2 == 1 {
                        let x = d * 2;
                        if x > 9 {
                            x - 9
                        } else {
                            x
                        }
                    } else {
                        d
                    }
                })
                .sum();
            sum % 10 == 0
        })
        .unwrap_or_default()
}

struct Home {
    last: &'static str,
    first: &'static str,
    born: &'static str,
    sex: Sex,
    line: &'static str,
    postcode: &'static str,
    city: &'static str,
    lat: f64,
    lon: f64,
}

const HOMES: &[Home] = &[
    Home {
        last: "Girard",
        first: "Jeanne",
        born: "1941-03-12",
        sex: Sex::Female,
        line: "12 rue Félix Poulat",
        postcode: "38000",
        city: "Grenoble",
        lat: 45.1887,
        lon: 5.7245,
    },
    Home {
        last: "Bonnet",
        first: "Louis",
        born: "1958-07-30",
        sex: Sex::Male,
        line: "3 place Grenette",
        postcode: "38000",
        city: "Grenoble",
        lat: 45.1908,
        lon: 5.7279,
    },
    Home {
        last: "Lambert",
        first: "Nathan",
        born: "2021-05-02",
        sex: Sex::Male,
        line: "45 avenue Alsace-Lorraine",
        postcode: "38000",
        city: "Grenoble",
        lat: 45.1883,
        lon: 5.7189,
    },
    Home {
        last: "Fontaine",
        first: "Marie Thérèse",
        born: "1936-11-08",
        sex: Sex::Female,
        line: "8 rue Anatole France",
        postcode: "38130",
        city: "Échirolles",
        lat: 45.1467,
        lon: 5.7212,
    },
    Home {
        last: "Rousseau",
        first: "Pierre",
        born: "1949-01-21",
        sex: Sex::Male,
        line: "27 avenue Gabriel Péri",
        postcode: "38400",
        city: "Saint-Martin-d'Hères",
        lat: 45.1720,
        lon: 5.7650,
    },
    Home {
        last: "Mercier",
        first: "Lucie",
        born: "1987-09-14",
        sex: Sex::Female,
        line: "5 chemin du Vieux Chêne",
        postcode: "38240",
        city: "Meylan",
        lat: 45.2170,
        lon: 5.7810,
    },
    Home {
        last: "Blanc",
        first: "André",
        born: "1944-06-03",
        sex: Sex::Male,
        line: "14 rue de la Liberté",
        postcode: "38600",
        city: "Fontaine",
        lat: 45.1925,
        lon: 5.6860,
    },
    Home {
        last: "Guerin",
        first: "Yvette",
        born: "1932-02-27",
        sex: Sex::Female,
        line: "2 rue des Bonnais",
        postcode: "38120",
        city: "Saint-Égrève",
        lat: 45.2330,
        lon: 5.6820,
    },
    Home {
        last: "Muller",
        first: "Zoé",
        born: "2019-12-19",
        sex: Sex::Female,
        line: "60 cours Jean Jaurès",
        postcode: "38000",
        city: "Grenoble",
        lat: 45.1800,
        lon: 5.7170,
    },
    Home {
        last: "Faure",
        first: "Henri",
        born: "1939-08-11",
        sex: Sex::Male,
        line: "19 avenue de la République",
        postcode: "38170",
        city: "Seyssinet-Pariset",
        lat: 45.1790,
        lon: 5.6920,
    },
    Home {
        last: "Andre",
        first: "Sylvie",
        born: "1962-04-25",
        sex: Sex::Female,
        line: "7 rue Paul Héroult",
        postcode: "38320",
        city: "Eybens",
        lat: 45.1490,
        lon: 5.7500,
    },
    Home {
        last: "Chevalier",
        first: "Gérard",
        born: "1952-10-05",
        sex: Sex::Male,
        line: "33 boulevard Gambetta",
        postcode: "38000",
        city: "Grenoble",
        lat: 45.1862,
        lon: 5.7226,
    },
    Home {
        last: "Perrin",
        first: "Odette",
        born: "1929-05-17",
        sex: Sex::Female,
        line: "11 rue Jean Macé",
        postcode: "38610",
        city: "Gières",
        lat: 45.1810,
        lon: 5.7900,
    },
    Home {
        last: "Masson",
        first: "Kylian",
        born: "2015-03-09",
        sex: Sex::Male,
        line: "21 rue Ampère",
        postcode: "38000",
        city: "Grenoble",
        lat: 45.1930,
        lon: 5.7120,
    },
];

struct Ehpad {
    name: &'static str,
    finess: &'static str,
    line: &'static str,
    postcode: &'static str,
    city: &'static str,
    lat: f64,
    lon: f64,
    residents: &'static [(&'static str, &'static str, &'static str, Sex)],
}

const EHPADS: &[Ehpad] = &[
    Ehpad {
        name: "EHPAD Les Edelweiss",
        finess: "38078123",
        line: "4 rue Irvoy",
        postcode: "38000",
        city: "Grenoble",
        lat: 45.1780,
        lon: 5.7080,
        residents: &[
            ("Dumas", "Germaine", "1930-04-02", Sex::Female),
            ("Roche", "Marcel", "1934-09-16", Sex::Male),
            ("Vidal", "Simone", "1928-12-24", Sex::Female),
            ("Brun", "Raymond", "1937-06-07", Sex::Male),
            ("Giraud", "Paulette", "1931-01-30", Sex::Female),
        ],
    },
    Ehpad {
        name: "Résidence Belledonne",
        finess: "38078456",
        line: "18 chemin de la Carronnerie",
        postcode: "38240",
        city: "Meylan",
        lat: 45.2120,
        lon: 5.7890,
        residents: &[
            ("Arnaud", "Lucien", "1933-03-03", Sex::Male),
            ("Picard", "Madeleine", "1926-07-19", Sex::Female),
            ("Colin", "Roger", "1938-10-10", Sex::Male),
            ("Lucas", "Denise", "1935-02-14", Sex::Female),
        ],
    },
    Ehpad {
        name: "EHPAD Le Vercors",
        finess: "38078789",
        line: "9 avenue du 8 Mai 1945",
        postcode: "38130",
        city: "Échirolles",
        lat: 45.1430,
        lon: 5.7160,
        residents: &[
            ("Renaud", "Fernand", "1929-11-11", Sex::Male),
            ("Caron", "Jacqueline", "1936-05-28", Sex::Female),
            ("Meunier", "Georges", "1932-08-08", Sex::Male),
        ],
    },
];

/// What the demo contains, for the command line to print.
pub struct DemoSummary {
    pub doctors: usize,
    pub institutions: usize,
    pub visits: usize,
}

/// Fills an empty store with the demo association.
pub async fn seed(db: &Db) -> Result<DemoSummary, DemoError> {
    let mut rng = StdRng::seed_from_u64(38);
    let mut tx = db.write(Actor::SYSTEM).await?;
    let now = tx.now();
    sqlx::query(
        "INSERT INTO association (id, name, created_at, address_line, postcode, city, phone, mssante) \
         VALUES (1, $1, $2, '4 rue Lesdiguières', '38000', 'Grenoble', '04 76 00 00 00', $3)",
    )
    .bind("SOS Médecins Grenoble (démo)")
    .bind(now)
    .bind("sos-medecins-grenoble@demo.mssante.fr")
        .execute(tx.conn())
        .await?;
    for (name, [x0, y0, x1, y1]) in SECTORS {
        let ring = json!([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]);
        let boundary = json!({"type": "Polygon", "coordinates": [ring]});
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sectors (name, boundary, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name)
        .bind(boundary.to_string())
        .bind(now)
        .fetch_one(tx.conn())
        .await?;
        tx.audit("sector.create", "sector", id, json!({"name": name}))
            .await?;
    }

    let user = |username: &str, name: &str, role: Role| NewUser {
        username: username.into(),
        password: PASSWORD.into(),
        display_name: name.into(),
        role,
        institution_id: None,
        network_id: None,
        doctor: None,
    };
    create_user(&mut tx, &user("admin", "Isabelle Fabre", Role::Admin)).await?;
    let desks = [
        create_user(
            &mut tx,
            &user("dispatcher", "Karim Haddad", Role::Dispatcher),
        )
        .await?,
        create_user(
            &mut tx,
            &user("dispatcher2", "Nadia Benali", Role::Dispatcher),
        )
        .await?,
    ];
    let assistant = create_user(
        &mut tx,
        &user("assistant", "Aurélie Roussel", Role::Assistant),
    )
    .await?;

    let mut institutions = Vec::new();
    for e in EHPADS {
        let new = NewInstitution {
            name: e.name.into(),
            finess: with_luhn(e.finess),
            address_line: e.line.into(),
            postcode: e.postcode.into(),
            city: e.city.into(),
            lat: e.lat,
            lon: e.lon,
            phone: Some("04 76 00 00 00".into()),
        };
        let id = create_institution(&mut tx, &new).await?;
        institutions.push(id);
    }
    let network: i64 = sqlx::query_scalar(
        "INSERT INTO nurse_networks (name, phone, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind("SOS Infirmiers Grenoble Alpes")
    .bind("04 76 00 00 00")
    .bind(now)
    .fetch_one(tx.conn())
    .await?;
    tx.audit(
        "nurse_network.create",
        "nurse_network",
        network,
        json!({"name": "SOS Infirmiers Grenoble Alpes"}),
    )
    .await?;
    create_user(
        &mut tx,
        &NewUser {
            institution_id: Some(institutions[0]),
            ..user("ehpad", "Céline Marchand", Role::EhpadNurse)
        },
    )
    .await?;
    create_user(
        &mut tx,
        &NewUser {
            institution_id: Some(institutions[1]),
            ..user("ehpad2", "Olivier Barbier", Role::EhpadNurse)
        },
    )
    .await?;
    // Two nurses of the network, on duty around Grenoble; Karim does not do infusions.
    for (username, name, acts) in [
        (
            "nurse",
            "Hélène Jacquet",
            crate::domain::nursing::ACTS.len(),
        ),
        ("nurse2", "Karim Benali", 4),
    ] {
        let id = create_user(
            &mut tx,
            &NewUser {
                network_id: Some(network),
                ..user(username, name, Role::PartnerNurse)
            },
        )
        .await?;
        let acts: Vec<&str> = crate::domain::nursing::ACTS[..acts]
            .iter()
            .map(|(c, _)| *c)
            .collect();
        let area = json!({"lat": 45.1885, "lon": 5.7245, "radius_km": 25.0});
        sqlx::query(
            "INSERT INTO nurse_coverage (user_id, acts, area, on_duty_since, updated_at) VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(id)
        .bind(json!(acts).to_string())
        .bind(area.to_string())
        .bind(now)
        .execute(tx.conn())
        .await?;
        tx.audit(
            "nurse_coverage.update",
            "user",
            id,
            json!({"acts": acts, "area": area, "on_duty": true}),
        )
        .await?;
    }

    // Twenty doctors on shift, spread over the area; a few off duty.
    let mut doctors = Vec::new();
    for (i, name) in DOCTOR_NAMES.iter().enumerate() {
        let username = if i == 0 {
            "doctor".to_owned()
        } else {
            format!("dr{:02}", i + 1)
        };
        let mut skills = Vec::new();
        if i % 3 != 2 {
            skills.push(Skill::Ecg);
        }
        if i % 4 == 1 {
            skills.push(Skill::Pediatric);
        }
        if i % 5 == 0 {
            skills.push(Skill::Geriatric);
        }
        let id = create_user(
            &mut tx,
            &NewUser {
                doctor: Some(NewDoctor {
                    rpps: with_luhn(&format!("100{:07}", 1_234_500 + i * 37)),
                    phone: Some(format!("06 12 34 {:02} {:02}", 10 + i, 20 + i)),
                    skills,
                }),
                ..user(&username, &format!("Dr {name}"), Role::Doctor)
            },
        )
        .await?;
        let on_duty = i < 17;
        let status = match (on_duty, i % 6) {
            (false, _) => DoctorStatus::OffDuty,
            (true, 4) => DoctorStatus::AtCentre,
            _ => DoctorStatus::Available,
        };
        update_status(&mut tx, id, status).await?;
        let (lat, lon) = (rng.gen_range(45.130..45.240), rng.gen_range(5.650..5.820));
        let minutes_ago = rng.gen_range(0..12);
        sqlx::query("UPDATE doctors SET lat = $1, lon = $2, position_at = $3 WHERE user_id = $4")
            .bind(lat)
            .bind(lon)
            .bind(now.plus(chrono::Duration::minutes(-minutes_ago)))
            .bind(id)
            .execute(tx.conn())
            .await?;
        if on_duty {
            let starts = now.plus(chrono::Duration::hours(-2));
            let ends = now.plus(chrono::Duration::hours(if i % 2 == 0 { 10 } else { 6 }));
            let shift: i64 = sqlx::query_scalar(
                "INSERT INTO shifts (doctor_id, starts_at, ends_at, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(id)
            .bind(starts)
            .bind(ends)
            .bind(now)
            .fetch_one(tx.conn())
            .await?;
            tx.audit("shift.create", "shift", shift, json!({"doctor_id": id}))
                .await?;
        }
        doctors.push(id);
    }
    let delegation: i64 = sqlx::query_scalar(
        "INSERT INTO delegations (doctor_id, assistant_id, created_at, accepted_at) VALUES ($1, $2, $3, $3) RETURNING id",
    )
    .bind(doctors[0])
    .bind(assistant)
    .bind(now)
    .fetch_one(tx.conn())
    .await?;
    tx.audit(
        "delegation.grant",
        "delegation",
        delegation,
        json!({"doctor_id": doctors[0], "assistant_id": assistant}),
    )
    .await?;

    // Patients at home and EHPAD residents.
    let mut homes = Vec::new();
    for (i, h) in HOMES.iter().enumerate() {
        let p = NewPatient {
            address: Some(Address {
                line: h.line.into(),
                postcode: Some(h.postcode.into()),
                city: h.city.into(),
                details: None,
                lat: Some(h.lat),
                lon: Some(h.lon),
            }),
            phone: Some(format!("04 76 {:02} {:02} {:02}", 40 + i, 11 + i, 50 + i)),
            treating_physician: Some(TreatingPhysician {
                name: ["Dr Anne Perret", "Dr Marc Tissot", "Dr Hélène Coste"][i % 3].into(),
                rpps: Some(with_luhn(&format!("100{:07}", 7_654_300 + i % 3))),
                mssante: Some(
                    [
                        "anne.perret@medecin.mssante.fr",
                        "marc.tissot@medecin.mssante.fr",
                        "helene.coste@medecin.mssante.fr",
                    ][i % 3]
                        .into(),
                ),
            }),
            ..patient(h.last, h.first, h.born, h.sex)
        };
        homes.push(create_patient(&mut tx, &p, None).await?);
    }
    let mut residents = Vec::new();
    for (e, inst) in EHPADS.iter().zip(&institutions) {
        for (last, first, born, sex) in e.residents {
            let p = NewPatient {
                treating_physician: Some(TreatingPhysician {
                    name: "Dr Bruno Vial".into(),
                    rpps: Some(with_luhn("1007654399")),
                    mssante: Some("bruno.vial@medecin.mssante.fr".into()),
                }),
                ..patient(last, first, born, *sex)
            };
            residents.push((*inst, create_patient(&mut tx, &p, Some(*inst)).await?));
        }
    }
    tx.commit().await?;

    // Calls in every state, through the real API.
    let api = Api::new(db.clone());
    let desk = api.login("dispatcher").await?;
    let ehpad = api.login("ehpad").await?;
    struct Script {
        patient: usize,
        motive: &'static str,
        urgency: i64,
        waited_min: i64,
        steps: &'static [&'static str],
        doctor: usize,
    }
    let scripts = [
        Script {
            patient: 0,
            motive: "Douleur thoracique atypique, pas de sueurs, TA 15/9",
            urgency: 1,
            waited_min: 6,
            steps: &[],
            doctor: 0,
        },
        Script {
            patient: 1,
            motive: "Lombalgie aiguë après effort, ne peut plus se lever",
            urgency: 3,
            waited_min: 48,
            steps: &[],
            doctor: 0,
        },
        Script {
            patient: 2,
            motive: "Fièvre 39,5 °C depuis 24 h chez un enfant de 5 ans",
            urgency: 2,
            waited_min: 22,
            steps: &[],
            doctor: 0,
        },
        Script {
            patient: 3,
            motive: "Chute sans perte de connaissance, douleur de hanche",
            urgency: 2,
            waited_min: 35,
            steps: &[],
            doctor: 0,
        },
        Script {
            patient: 4,
            motive: "Dyspnée chez un patient BPCO connu",
            urgency: 1,
            waited_min: 15,
            steps: &["assign"],
            doctor: 0,
        },
        Script {
            patient: 5,
            motive: "Colique néphrétique probable",
            urgency: 2,
            waited_min: 40,
            steps: &["assign"],
            doctor: 0,
        },
        Script {
            patient: 6,
            motive: "Sonde urinaire arrachée, globe vésical",
            urgency: 2,
            waited_min: 55,
            steps: &["assign", "en-route"],
            doctor: 1,
        },
        Script {
            patient: 7,
            motive: "Confusion depuis ce matin, fébrile",
            urgency: 2,
            waited_min: 70,
            steps: &["assign", "en-route"],
            doctor: 2,
        },
        Script {
            patient: 8,
            motive: "Otalgie et fièvre chez une enfant de 6 ans",
            urgency: 3,
            waited_min: 80,
            steps: &["assign", "en-route", "on-site"],
            doctor: 3,
        },
        Script {
            patient: 9,
            motive: "Palpitations, malaise",
            urgency: 1,
            waited_min: 40,
            steps: &["assign", "en-route", "on-site"],
            doctor: 0,
        },
        Script {
            patient: 10,
            motive: "Gastro-entérite, vomissements",
            urgency: 3,
            waited_min: 200,
            steps: &["assign", "en-route", "on-site", "close"],
            doctor: 4,
        },
        Script {
            patient: 11,
            motive: "Certificat de décès",
            urgency: 3,
            waited_min: 240,
            steps: &["assign", "en-route", "on-site", "close"],
            doctor: 5,
        },
        Script {
            patient: 12,
            motive: "Douleur abdominale",
            urgency: 2,
            waited_min: 180,
            steps: &["assign", "en-route", "on-site", "close"],
            doctor: 8,
        },
        Script {
            patient: 13,
            motive: "Crise d'asthme",
            urgency: 2,
            waited_min: 150,
            steps: &["assign", "en-route", "on-site", "close"],
            doctor: 6,
        },
        Script {
            patient: 3,
            motive: "Rappel : famille a trouvé un médecin",
            urgency: 3,
            waited_min: 120,
            steps: &["cancel"],
            doctor: 0,
        },
        Script {
            patient: 1,
            motive: "Douleur thoracique avec sueurs et irradiation au bras gauche",
            urgency: 1,
            waited_min: 90,
            steps: &["redirect-15"],
            doctor: 0,
        },
    ];
    let mut visits = 0;
    for s in &scripts {
        let visit = api
            .post(&desk, "/api/v1/calls", json!({
                "source": "patient", "patient_id": homes[s.patient], "motive": s.motive, "urgency": s.urgency,
                "caller_name": "appelant", "caller_phone": "06 00 00 00 00",
            }))
            .await?;
        let id = visit["id"].as_i64().unwrap_or_default();
        backdate(db, id, s.waited_min).await?;
        let doctor_token = api.login(&usernames(s.doctor)).await?;
        for step in s.steps {
            let (token, body) = match *step {
                "assign" => (&desk, json!({"doctor_id": doctors[s.doctor]})),
                "cancel" | "redirect-15" => (&desk, json!({"reason": "démo"})),
                _ => (&doctor_token, json!({})),
            };
            api.post(token, &format!("/api/v1/visits/{id}/{step}"), body)
                .await?;
        }
        visits += 1;
    }
    // Two requests from the EHPAD: one waiting, one assigned.
    for (k, (_, resident)) in residents
        .iter()
        .filter(|(i, _)| *i == institutions[0])
        .take(2)
        .enumerate()
    {
        let motive = [
            "Désaturation à 89 % en air ambiant, toux grasse",
            "Escarre sacrée qui s'aggrave, fébricule",
        ][k];
        let visit = api
            .post(
                &ehpad,
                "/api/v1/calls",
                json!({
                    "patient_id": resident, "urgency": 2,
                    "motive": motive,
                    "notes": "Résultats biologiques du jour transmis par le laboratoire",
                }),
            )
            .await?;
        let id = visit["id"].as_i64().unwrap_or_default();
        backdate(db, id, 30 + 20 * k as i64).await?;
        if k == 1 {
            api.post(
                &desk,
                &format!("/api/v1/visits/{id}/assign"),
                json!({"doctor_id": doctors[7]}),
            )
            .await?;
        }
        visits += 1;
    }
    past_day(db, &mut rng, &desks, &homes, &doctors).await?;
    // A few Grenoble-area addresses for the intake's address search (a hand-made BAN-format file,
    // shared with the tests; a real hub imports the BAN files of its départements).
    crate::import::import_addresses(
        db,
        std::io::Cursor::new(DEMO_ADDRESSES.as_bytes()),
        "adresses-demo.csv",
    )
    .await
    .map_err(|e| fail("addresses", e))?;
    Ok(DemoSummary {
        doctors: doctors.len(),
        institutions: institutions.len(),
        visits,
    })
}

/// The last 24 hours of the association, for the journal and the statistics: about 90 calls,
/// more in the evening, each with its outcome; the home visits closed, with their steps at
/// plausible times (written straight into the store: they happened before the demo started).
async fn past_day(
    db: &Db,
    rng: &mut StdRng,
    desks: &[i64],
    homes: &[i64],
    doctors: &[i64],
) -> Result<(), DemoError> {
    // Relative call volume per Paris hour (SOS Médecins: a morning bump, the evening peak).
    const PROFILE: [u32; 24] = [
        2, 1, 1, 1, 1, 1, 2, 3, 5, 5, 4, 4, 4, 3, 3, 4, 5, 6, 8, 9, 8, 6, 4, 3,
    ];
    const MOTIVES: &[(&str, i64)] = &[
        ("Fièvre et toux depuis 3 jours", 3),
        ("Gastro-entérite, vomissements", 3),
        ("Douleur abdominale", 2),
        ("Lombalgie aiguë", 3),
        ("Crise d'asthme", 2),
        ("Malaise chez une personne âgée", 2),
        ("Otalgie chez un enfant", 3),
        ("Dyspnée", 1),
        ("Chute à domicile", 2),
        ("Colique néphrétique", 2),
    ];
    let sectors = crate::services::coverage::Sectors::default()
        .map(db)
        .await?;
    let now = Ts::now();
    let mut tx = db.write(crate::store::Actor::SYSTEM).await?;
    let mut n = 0;
    for hours_ago in (1..=24).rev() {
        let start = now.plus(chrono::Duration::hours(-hours_ago));
        let hour = crate::planning::paris_hour(start).floor() as usize % 24;
        for _ in 0..PROFILE[hour] + rng.gen_range(0..2) {
            let at = start.plus(chrono::Duration::seconds(rng.gen_range(0..3600)));
            let desk = desks[rng.gen_range(0..desks.len())];
            let home = rng.gen_range(0..homes.len().min(HOMES.len()));
            let h = &HOMES[home];
            let (motive, urgency) = MOTIVES[rng.gen_range(0..MOTIVES.len())];
            let roll = rng.gen_range(0..100);
            let outcome = match roll {
                0..=69 => "home_visit",
                70..=79 => "advice",
                80..=87 => "teleconsultation",
                88..=92 => "centre",
                93..=96 => "samu_15",
                _ => "hung_up",
            };
            // Waits grow with the evening's load and with a lower priority.
            let load = f64::from(PROFILE[hour]) / 9.0;
            let assign = rng.gen_range(1.0..6.0) + load * [2.0, 8.0, 15.0][urgency as usize - 1];
            let travel = rng.gen_range(12.0..30.0) + load * [5.0, 25.0, 50.0][urgency as usize - 1];
            let on_site_for = rng.gen_range(15.0..35.0);
            let assigned = at.plus(chrono::Duration::seconds((assign * 60.0) as i64));
            let en_route = assigned.plus(chrono::Duration::seconds(rng.gen_range(30..300)));
            let on_site = at.plus(chrono::Duration::seconds(((assign + travel) * 60.0) as i64));
            let closed = on_site.plus(chrono::Duration::seconds((on_site_for * 60.0) as i64));
            // A visit not over yet would be on the board: that one is not part of the past.
            if outcome == "home_visit" && closed > now {
                continue;
            }
            let sector = sectors.locate(h.lat, h.lon).map(|s| s.id);
            let coverage = if sector.is_some() {
                "covered"
            } else {
                "out_of_sector"
            };
            // No home visit out of the sectors: the fallback is what happened.
            let outcome = if sector.is_none() && outcome == "home_visit" {
                "teleconsultation"
            } else {
                outcome
            };
            let hung_up = outcome == "hung_up";
            let call: i64 = sqlx::query_scalar(
                "INSERT INTO calls (received_at, received_by, source, caller_phone, patient_id, address_line, postcode, \
                 city, lat, lon, motive, urgency, outcome, outcome_by, outcome_at, coverage, sector_id) \
                 VALUES ($1, $2, 'patient', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $2, $13, $14, $15) RETURNING id",
            )
            .bind(at)
            .bind(desk)
            .bind(format!("06 {:02} {:02} {:02} {:02}", rng.gen_range(10..99), rng.gen_range(10..99), rng.gen_range(10..99), rng.gen_range(10..99)))
            .bind((!hung_up).then_some(homes[home]))
            .bind((!hung_up).then_some(h.line))
            .bind((!hung_up).then_some(h.postcode))
            .bind((!hung_up).then_some(h.city))
            .bind((!hung_up).then_some(h.lat))
            .bind((!hung_up).then_some(h.lon))
            .bind((!hung_up).then_some(motive))
            .bind((!hung_up).then_some(urgency))
            .bind(outcome)
            .bind(at.plus(chrono::Duration::minutes(rng.gen_range(1..4))))
            .bind(if hung_up { "unknown" } else { coverage })
            .bind(if hung_up { None } else { sector })
            .fetch_one(tx.conn())
            .await?;
            n += 1;
            if outcome != "home_visit" {
                continue;
            }
            let doctor = doctors[rng.gen_range(0..doctors.len().min(17))];
            let visit: i64 = sqlx::query_scalar(
                "INSERT INTO visits (call_id, patient_id, status, urgency, doctor_id, assigned_at, en_route_at, on_site_at, \
                 closed_at, seen_at, seen_by, created_at, updated_at) \
                 VALUES ($1, $2, 'closed', $3, $4, $5, $6, $7, $8, $6, $4, $9, $8) RETURNING id",
            )
            .bind(call)
            .bind(homes[home])
            .bind(urgency)
            .bind(doctor)
            .bind(assigned)
            .bind(en_route)
            .bind(on_site)
            .bind(closed)
            .bind(at)
            .fetch_one(tx.conn())
            .await?;
            let steps = [
                (None, "received", at, desk),
                (Some("received"), "assigned", assigned, desk),
                (Some("assigned"), "en_route", en_route, doctor),
                (Some("en_route"), "on_site", on_site, doctor),
                (Some("on_site"), "closed", closed, doctor),
            ];
            for (from, to, when, actor) in steps {
                sqlx::query(
                    "INSERT INTO visit_transitions (visit_id, from_status, to_status, doctor_id, at, actor_id) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(visit)
                .bind(from)
                .bind(to)
                .bind((to != "received").then_some(doctor))
                .bind(when)
                .bind(actor)
                .execute(tx.conn())
                .await?;
            }
        }
    }
    tx.audit("demo.past_day", "call", 0, json!({"calls": n}))
        .await?;
    tx.commit().await?;
    Ok(())
}

fn patient(last: &str, first: &str, born: &str, sex: Sex) -> NewPatient {
    NewPatient {
        birth_name: last.to_uppercase(),
        used_name: None,
        first_names: first.into(),
        birth_date: Some(born.into()),
        sex: Some(sex),
        birth_place_code: None,
        nir: None,
        address: None,
        phone: None,
        treating_physician: None,
        institution_id: None,
    }
}

fn usernames(i: usize) -> String {
    if i == 0 {
        "doctor".into()
    } else {
        format!("dr{:02}", i + 1)
    }
}

/// Moves a demo call's reception back in time, so that the queue shows realistic waits.
async fn backdate(db: &Db, visit_id: i64, minutes: i64) -> Result<(), DemoError> {
    let at = Ts::now().plus(chrono::Duration::minutes(-minutes));
    sqlx::query(
        "UPDATE calls SET received_at = $1 WHERE id = (SELECT call_id FROM visits WHERE id = $2)",
    )
    .bind(at)
    .bind(visit_id)
    .execute(db.pool())
    .await?;
    sqlx::query("UPDATE visits SET created_at = $1 WHERE id = $2")
        .bind(at)
        .bind(visit_id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The API, called in process.
struct Api {
    app: axum::Router,
}

impl Api {
    fn new(db: Db) -> Api {
        // The demo books nurses with the network it hosts itself, on loopback.
        let mut config = HubConfig::default();
        config.nursing.outbound.allow_private_hosts = true;
        let state = Hub::new(db, config);
        Api {
            app: http::app(state),
        }
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> Result<Value, DemoError> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = req
            .body(Body::from(body.to_string()))
            .map_err(|e| fail(path, e))?;
        let resp = self
            .app
            .clone()
            .oneshot(req)
            .await
            .map_err(|e| fail(path, e))?;
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .map_err(|e| fail(path, e))?;
        if !status.is_success() {
            return Err(fail(
                path,
                format!("{status}: {}", String::from_utf8_lossy(&bytes)),
            ));
        }
        if status == StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| fail(path, e))
    }

    async fn login(&self, username: &str) -> Result<String, DemoError> {
        let v = self
            .request(
                Method::POST,
                "/api/v1/auth/login",
                None,
                json!({"username": username, "password": PASSWORD}),
            )
            .await?;
        Ok(v["token"].as_str().unwrap_or_default().to_owned())
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> Result<Value, DemoError> {
        self.request(Method::POST, path, Some(token), body).await
    }
}

/// Makes the demo association a client of the demo nurse network hosted on the same hub, and
/// registers that network as a partner at `served_at` (this hub): bookings go out over HTTP and
/// come back in, exactly as between two hubs.
pub async fn link_to_itself(db: &Db, served_at: &str) -> Result<(), DemoError> {
    let api = Api::new(db.clone());
    let admin = api.login("admin").await?;
    let network: i64 = sqlx::query_scalar("SELECT MIN(id) FROM nurse_networks")
        .fetch_one(db.pool())
        .await?;
    let client = api
        .post(
            &admin,
            "/api/v1/partner-clients",
            json!({"name": "SOS Médecins Grenoble (démo)", "network_id": network}),
        )
        .await?;
    let acts: Vec<&str> = crate::domain::nursing::ACTS
        .iter()
        .map(|(c, _)| *c)
        .collect();
    api.post(
        &admin,
        "/api/v1/partner-networks",
        json!({
            "name": "SOS Infirmiers Grenoble Alpes",
            "base_url": format!("{}/api/partner/v1", served_at.trim_end_matches('/')),
            "api_key": client["api_key"],
            "acts": acts,
            "area": {"lat": 45.1885, "lon": 5.7245, "radius_km": 30.0},
            "priority": 10,
        }),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_identifiers_pass_their_own_checks() {
        for e in EHPADS {
            assert!(crate::domain::Finess::parse(&with_luhn(e.finess)).is_ok());
        }
        for i in 0..DOCTOR_NAMES.len() {
            assert!(crate::domain::Rpps::parse(&with_luhn(&format!(
                "100{:07}",
                1_234_500 + i * 37
            )))
            .is_ok());
        }
    }
}
