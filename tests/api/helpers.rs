//! Test hubs: each test starts its own hub on a loopback port (port 0) over a fresh store — a
//! SQLite file in a temporary directory, or a freshly created PostgreSQL database — and drives it
//! over HTTP with reqwest. Nothing is shared between tests.

use std::time::Duration;

use chevet::accounts::{create_user, NewDoctor, NewUser};
use chevet::domain::{Role, Skill};
use chevet::http::serve;
use chevet::hub::{Hub, HubConfig};
use chevet::store::{Actor, Db};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Polls `probe` until it answers `Ok`, every 50 ms for at most `within`, and returns that value;
/// otherwise fails with `what` and the last `Err` it answered. The one way tests wait for
/// something the hub does in the background.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match probe().await {
            Ok(v) => return v,
            Err(last) if tokio::time::Instant::now() >= deadline => {
                panic!("{what} did not happen within {within:?}; last seen: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Where the tests create their PostgreSQL databases.
pub fn pg_admin_url() -> String {
    std::env::var("CHEVET_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Runs each listed `async fn name(engine: Engine)` as two tests: `sqlite::name`, `postgres::name`.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Engine::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Engine::Postgres).await
                }
            )*
        }
    };
}

enum Store {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { name: String },
}

pub struct TestApp {
    pub base: String,
    pub db: Db,
    /// The store's URL (for a hub run as a separate process on it).
    pub db_url: String,
    /// When the hub runs as a separate `chevet serve` process (`into_process`).
    process: Option<HubProcess>,
    pub client: reqwest::Client,
    store: Store,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    pub fx: Fixture,
}

/// Ids of the fixture's people and things. Every account's password is `cheval de garde 38`.
#[derive(Debug, Clone, Default)]
pub struct Fixture {
    pub admin: i64,
    pub dispatcher: i64,
    pub dispatcher2: i64,
    pub doctor: i64,
    pub doctor2: i64,
    pub doctor_off: i64,
    pub assistant: i64,
    pub ehpad: i64,
    pub ehpad_other: i64,
    pub nurse: i64,
    pub institution: i64,
    pub institution_other: i64,
    pub patient_home: i64,
    pub resident: i64,
    pub resident_other: i64,
}

pub const PASSWORD: &str = "cheval de garde 38";

pub async fn spawn_app(engine: Engine) -> TestApp {
    spawn_app_with(engine, test_config()).await
}

/// The hub's defaults, except that the nurse link may call loopback (where the tests' other
/// hubs run). Tests of the refusal of private hosts start from `HubConfig::default()`.
pub fn test_config() -> HubConfig {
    let mut config = HubConfig::default();
    config.nursing.outbound.allow_private_hosts = true;
    config
}

pub async fn spawn_app_with(engine: Engine, config: HubConfig) -> TestApp {
    let (url, store) = match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            (
                format!("sqlite://{}", dir.path().join("hub.db").display()),
                Store::Sqlite(dir),
            )
        }
        Engine::Postgres => {
            let name = format!("chevet_test_{}", uniq());
            let admin = pg_admin_url();
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is not reachable at {admin} ({e}).\n\
                     The test suite runs every API test on PostgreSQL too. Run ./scripts/test, which installs \
                     and starts it, or start it yourself (apt-get install postgresql; pg_ctlcluster 15 main start), \
                     or point CHEVET_TEST_PG_URL at a server where this user may create databases."
                )
            });
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create the test database");
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b.to_owned())
                .unwrap_or(admin);
            (format!("{base}/{name}"), Store::Postgres { name })
        }
    };
    let db = Db::connect(&url).await.expect("connect to the test store");
    let db_url = url.clone();
    let fx = fixture(&db).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let hub_db = db.clone();
    let server = tokio::spawn(async move {
        serve(listener, Hub::start(hub_db, config).await, async {
            let _ = stopped.await;
        })
        .await
        .expect("hub runs");
    });
    TestApp {
        base: format!("http://{addr}"),
        db,
        db_url,
        process: None,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        store,
        stop: Some(stop),
        server: Some(server),
        fx,
    }
}

fn uniq() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn user(username: &str, role: Role) -> NewUser {
    NewUser {
        username: username.into(),
        password: PASSWORD.into(),
        display_name: format!("{username} name"),
        role,
        institution_id: None,
        network_id: None,
        doctor: None,
    }
}

fn doctor(username: &str, rpps: &str, skills: Vec<Skill>) -> NewUser {
    NewUser {
        doctor: Some(NewDoctor {
            rpps: rpps.into(),
            phone: None,
            skills,
        }),
        ..user(username, Role::Doctor)
    }
}

/// A small association: staff, three doctors (one off duty), an assistant delegated by `doctor`,
/// two EHPAD with a resident each and a nurse each, a partner nurse, a patient at home.
async fn fixture(db: &Db) -> Fixture {
    use chevet::services::institutions::{create_institution, NewInstitution};
    use chevet::services::patients::{create_patient, NewPatient};
    let mut tx = db.write(Actor::SYSTEM).await.unwrap();
    let inst = |name: &str, finess: &str| NewInstitution {
        name: name.into(),
        finess: finess.into(),
        address_line: "1 rue des Tilleuls".into(),
        postcode: "38000".into(),
        city: "Grenoble".into(),
        lat: 45.18,
        lon: 5.72,
        phone: None,
    };
    let institution = create_institution(&mut tx, &inst("EHPAD Un", "380781237"))
        .await
        .unwrap();
    let institution_other = create_institution(&mut tx, &inst("EHPAD Deux", "380784561"))
        .await
        .unwrap();
    let network: i64 = sqlx::query_scalar(
        "INSERT INTO nurse_networks (name, created_at) VALUES ('Réseau', $1) RETURNING id",
    )
    .bind(tx.now())
    .fetch_one(tx.conn())
    .await
    .unwrap();
    let mut fx = Fixture {
        admin: create_user(&mut tx, &user("admin", Role::Admin))
            .await
            .unwrap(),
        dispatcher: create_user(&mut tx, &user("dispatcher", Role::Dispatcher))
            .await
            .unwrap(),
        dispatcher2: create_user(&mut tx, &user("dispatcher2", Role::Dispatcher))
            .await
            .unwrap(),
        doctor: create_user(&mut tx, &doctor("doctor", "10001234565", vec![Skill::Ecg]))
            .await
            .unwrap(),
        doctor2: create_user(&mut tx, &doctor("doctor2", "10098765430", vec![]))
            .await
            .unwrap(),
        doctor_off: create_user(&mut tx, &doctor("doctoroff", "10022334451", vec![]))
            .await
            .unwrap(),
        assistant: create_user(&mut tx, &user("assistant", Role::Assistant))
            .await
            .unwrap(),
        ehpad: create_user(
            &mut tx,
            &NewUser {
                institution_id: Some(institution),
                ..user("ehpad", Role::EhpadNurse)
            },
        )
        .await
        .unwrap(),
        ehpad_other: create_user(
            &mut tx,
            &NewUser {
                institution_id: Some(institution_other),
                ..user("ehpadother", Role::EhpadNurse)
            },
        )
        .await
        .unwrap(),
        nurse: create_user(
            &mut tx,
            &NewUser {
                network_id: Some(network),
                ..user("nurse", Role::PartnerNurse)
            },
        )
        .await
        .unwrap(),
        institution,
        institution_other,
        ..Fixture::default()
    };
    // Doctors on duty, the assistant delegated by `doctor`.
    for d in [fx.doctor, fx.doctor2] {
        sqlx::query("UPDATE doctors SET status = 'available' WHERE user_id = $1")
            .bind(d)
            .execute(tx.conn())
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO delegations (doctor_id, assistant_id, created_at, accepted_at) VALUES ($1, $2, $3, $3)",
    )
    .bind(fx.doctor)
    .bind(fx.assistant)
    .bind(tx.now())
    .execute(tx.conn())
    .await
    .unwrap();
    let patient: NewPatient = serde_json::from_value(json!({
        "birth_name": "Girard", "first_names": "Jeanne", "birth_date": "1941-03-12", "sex": "F",
        "address": {"line": "12 rue Félix Poulat", "postcode": "38000", "city": "Grenoble", "lat": 45.1887, "lon": 5.7245}
    }))
    .unwrap();
    fx.patient_home = create_patient(&mut tx, &patient, None).await.unwrap();
    let resident: NewPatient =
        serde_json::from_value(json!({"birth_name": "Dumas", "first_names": "Germaine"})).unwrap();
    fx.resident = create_patient(&mut tx, &resident, Some(institution))
        .await
        .unwrap();
    let other: NewPatient =
        serde_json::from_value(json!({"birth_name": "Roche", "first_names": "Marcel"})).unwrap();
    fx.resident_other = create_patient(&mut tx, &other, Some(institution_other))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    fx
}

/// An HTTP answer: status and JSON body (Null when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    pub async fn from_response(resp: reqwest::Response) -> Answer {
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer { status, body }
    }

    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn ok(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {}",
            self.body
        );
        self.body
    }

    /// Asserts a 200 answer listing objects, and returns their ids.
    #[track_caller]
    pub fn ids(self) -> Vec<i64> {
        let body = self.ok(200);
        body.as_array()
            .expect("a list")
            .iter()
            .map(|v| v["id"].as_i64().expect("an id"))
            .collect()
    }

    /// Asserts an error answer of the common shape, with this status and code; returns it.
    #[track_caller]
    pub fn error(self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {}",
            self.body
        );
        let e = &self.body["error"];
        assert_eq!(e["code"], code, "unexpected error: {}", self.body);
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "no message: {}",
            self.body
        );
        assert!(
            e.as_object().unwrap().contains_key("field"),
            "no field key: {}",
            self.body
        );
        e.clone()
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn login(&self, username: &str) -> String {
        self.login_with(username, PASSWORD).await
    }

    pub async fn login_with(&self, username: &str, password: &str) -> String {
        let body = self
            .send(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": username, "password": password})),
            )
            .await;
        body.ok(200)["token"].as_str().expect("a token").to_owned()
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Answer::from_response(req.send().await.expect("the hub answers")).await
    }

    pub async fn get(&self, token: &str, path: &str) -> Answer {
        self.send(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> Answer {
        self.send(Method::PUT, path, Some(token), Some(body)).await
    }

    /// A dispatcher takes a call for the fixture's patient at home; returns the visit.
    pub async fn new_call(&self, token: &str) -> Value {
        self.post(
            token,
            "/api/v1/calls",
            json!({"patient_id": self.fx.patient_home, "motive": "fièvre 39,5", "urgency": 2, "caller_phone": "0600000000"}),
        )
        .await
        .ok(201)
    }

    /// A call, assigned to `doctor`; returns the visit id.
    pub async fn assigned_visit(&self, desk: &str, doctor: i64) -> i64 {
        let id = self.new_call(desk).await["id"].as_i64().unwrap();
        self.post(
            desk,
            &format!("/api/v1/visits/{id}/assign"),
            json!({"doctor_id": doctor}),
        )
        .await
        .ok(200);
        id
    }

    /// Audit rows for an entity, read straight from the store.
    pub async fn audit_actions(&self, entity_type: &str, id: i64) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT action FROM audit_log WHERE entity_type = $1 AND entity_id = $2 ORDER BY id",
        )
        .bind(entity_type)
        .bind(id)
        .fetch_all(self.db.pool())
        .await
        .unwrap()
    }

    /// Stops the hub and starts another on the same store (a restart), with `config`.
    pub async fn restart(&mut self, config: HubConfig) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), h).await;
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        self.base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let hub_db = self.db.clone();
        self.server = Some(tokio::spawn(async move {
            serve(listener, Hub::start(hub_db, config).await, async {
                let _ = stopped.await;
            })
            .await
            .expect("hub runs");
        }));
        self.stop = Some(stop);
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), h).await;
        }
    }
}

/// A hub run as a separate process on a test's store, on a port that stays the same across
/// restarts (partners are told its address).
struct HubProcess {
    child: Option<std::process::Child>,
    port: u16,
    args: Vec<String>,
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl TestApp {
    /// Runs this hub as a separate `chevet serve ARGS` process over its store instead of in
    /// this test process.
    pub async fn into_process(mut self, args: &[&str]) -> TestApp {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), h).await;
        }
        let port = free_port();
        self.base = format!("http://127.0.0.1:{port}");
        self.process = Some(HubProcess {
            child: None,
            port,
            args: args.iter().map(|a| a.to_string()).collect(),
        });
        self.start().await;
        self
    }

    /// Starts the hub process (again), on the same port and store; returns once it answers.
    pub async fn start(&mut self) {
        let p = self.process.as_mut().expect("a hub process");
        assert!(p.child.is_none(), "the hub process already runs");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_chevet"))
            .arg("serve")
            .arg("--db")
            .arg(&self.db_url)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", p.port))
            .args(&p.args)
            .env("CHEVET_LOG", "warn")
            .env_remove("CHEVET_DB")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("chevet serve starts");
        p.child = Some(child);
        for _ in 0..200 {
            if let Ok(r) = self.client.get(self.url("/api/v1/health")).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the hub process does not answer on {}", self.base);
    }

    /// Kills the hub process at once (SIGKILL: a crash, nothing finishes).
    pub fn kill(&mut self) {
        let p = self.process.as_mut().expect("a hub process");
        if let Some(mut c) = p.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(p) = self.process.as_mut() {
            if let Some(mut c) = p.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Store::Postgres { name } = &self.store {
            // Drop the database from another thread: Drop cannot await.
            let name = name.clone();
            let db = self.db.clone();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    db.close().await;
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                        let _ = sqlx::Executor::execute(
                            &mut conn,
                            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                        )
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

/// A server-sent-events client: reads `id`, `event` and `data` fields off the stream.
pub struct EventStream {
    resp: reqwest::Response,
    buf: String,
}

#[derive(Debug, Clone)]
pub struct Sse {
    pub id: i64,
    pub event: String,
    pub data: Value,
}

impl EventStream {
    pub async fn open(app: &TestApp, token: &str, last_event_id: Option<i64>) -> EventStream {
        let mut req = app
            .client
            .get(app.url("/api/v1/events"))
            .bearer_auth(token)
            .timeout(Duration::from_secs(3600));
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = req.send().await.expect("event stream opens");
        assert_eq!(resp.status(), 200);
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        EventStream {
            resp,
            buf: String::new(),
        }
    }

    /// The next event, or None if none comes within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(i) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..i + 2).collect();
                let (mut id, mut event, mut data) = (None, String::new(), String::new());
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                match id {
                    Some(id) => {
                        return Some(Sse {
                            id,
                            event,
                            data: serde_json::from_str(&data).unwrap_or(Value::Null),
                        })
                    }
                    None => continue, // keep-alive comment
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk())
                .await
                .ok()?
                .ok()??;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next event, failing the test if none comes within 10 s.
    pub async fn next(&mut self) -> Sse {
        self.next_within(Duration::from_secs(10))
            .await
            .expect("an event within 10 s")
    }
}

/// Puts `doctor` (the fixture's `doctor` or `doctor2`) on shift for 8 hours, at (lat, lon).
pub async fn on_shift_at(app: &TestApp, desk: &str, doctor: i64, lat: f64, lon: f64) {
    let who = if doctor == app.fx.doctor {
        "doctor"
    } else {
        "doctor2"
    };
    let token = app.login(who).await;
    app.put(
        &token,
        &format!("/api/v1/doctors/{doctor}/position"),
        json!({"lat": lat, "lon": lon}),
    )
    .await
    .ok(200);
    let now = chrono::Utc::now();
    app.post(
        desk,
        "/api/v1/shifts",
        json!({"doctor_id": doctor, "starts_at": (now - chrono::Duration::hours(1)).to_rfc3339(), "ends_at": (now + chrono::Duration::hours(8)).to_rfc3339()}),
    )
    .await
    .ok(201);
}
