//! The `chevet` command: run a hub, run the demo, manage accounts.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};

use crate::accounts::{create_user, NewDoctor, NewUser};
use crate::domain::{Role, Skill};
use crate::http::serve;
use crate::hub::{Hub, HubConfig};
use crate::store::{default_sqlite_url, Actor, Db};

#[derive(Parser)]
#[command(
    name = "chevet",
    version,
    about = "Chevet: coordinates home visits of on-call doctors"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The link to partner nurse networks and, for a hub hosting one, to its clients.
#[derive(clap::Args)]
struct LinkArgs {
    /// This hub's URL as partner networks reach it (for their callbacks). Default: the address
    /// it listens on.
    #[arg(long, env = "CHEVET_PUBLIC_URL")]
    public_url: Option<String>,
    /// Let the nurse link call loopback and private addresses (a network on the association's
    /// own LAN); plain http only on loopback. Off: https to public hosts only.
    #[arg(long, env = "CHEVET_ALLOW_PRIVATE_HOSTS")]
    allow_private_hosts: bool,
    /// How long one request to another hub may take, in milliseconds.
    #[arg(long, default_value_t = 10_000, hide = true)]
    link_timeout_ms: u64,
    /// First retry delay of the link's outboxes, in milliseconds (doubles at each failure).
    #[arg(long, default_value_t = 2_000, hide = true)]
    link_retry_ms: u64,
    /// Longest retry delay, in milliseconds.
    #[arg(long, default_value_t = 300_000, hide = true)]
    link_retry_max_ms: u64,
    /// How long a network may stay unreachable during the hold before the next is tried (s).
    #[arg(long, default_value_t = 120, hide = true)]
    link_answer_timeout_s: u64,
    /// How long a confirmed request may wait for a nurse before the next network (s).
    #[arg(long, default_value_t = 900, hide = true)]
    link_accept_timeout_s: u64,
    /// How often a network is polled when no callback came (ms).
    #[arg(long, default_value_t = 60_000, hide = true)]
    link_poll_ms: u64,
    /// How long a network holds a request for its client to confirm (s).
    #[arg(long, default_value_t = 300, hide = true)]
    hold_ttl_s: u64,
    /// How long an outbox claim lasts: a hub that died mid-request is retried after it (s).
    #[arg(long, default_value_t = 60, hide = true)]
    link_claim_s: u64,
}

impl LinkArgs {
    fn config(self) -> anyhow::Result<crate::nursing::NursingConfig> {
        use std::time::Duration;
        if let Some(u) = &self.public_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                bail!("--public-url must be an http:// or https:// URL");
            }
        }
        Ok(crate::nursing::NursingConfig {
            public_url: self.public_url,
            outbound: crate::nursing::outbound::Outbound {
                allow_private_hosts: self.allow_private_hosts,
            },
            request_timeout: Duration::from_millis(self.link_timeout_ms.max(1)),
            timings: crate::nursing::link::Timings {
                retry_base: Duration::from_millis(self.link_retry_ms.max(1)),
                retry_max: Duration::from_millis(
                    self.link_retry_max_ms.max(self.link_retry_ms).max(1),
                ),
                answer_timeout: Duration::from_secs(self.link_answer_timeout_s),
                accept_timeout: Duration::from_secs(self.link_accept_timeout_s),
                poll_interval: Duration::from_millis(self.link_poll_ms.max(50)),
            },
            hold_ttl: Duration::from_secs(self.hold_ttl_s.max(1)),
            claim: Duration::from_secs(self.link_claim_s.max(1)),
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the hub: API, live events and the web UI.
    Serve {
        #[command(flatten)]
        db: DbArg,
        /// Address to listen on.
        #[arg(long, env = "CHEVET_LISTEN", default_value = "127.0.0.1:8480")]
        listen: SocketAddr,
        /// The built UI folder (default: `ui/dist` when present).
        #[arg(long, env = "CHEVET_UI_DIR")]
        ui_dir: Option<PathBuf>,
        /// The longest a login lasts, in hours, used or not (26: a 24 h garde and its handover).
        #[arg(long, default_value_t = 26)]
        session_hours: i64,
        /// A session unused for this many hours ends.
        #[arg(long, default_value_t = 8)]
        session_idle_hours: i64,
        /// Admins must log in with a second factor (TOTP); an admin without one enrols at the
        /// next login before doing anything else.
        #[arg(long, env = "CHEVET_REQUIRE_ADMIN_TOTP")]
        require_admin_totp: bool,
        /// A doctor's position fix older than this many minutes is shown as old and weighed as
        /// uncertain by dispatch.
        #[arg(long, default_value_t = 5)]
        position_stale_minutes: i64,
        /// How long the event log keeps a change, in days (its payloads name patients).
        #[arg(long, default_value_t = 30)]
        event_retention_days: i64,
        /// A remote geocoder for address search (addok or api-adresse.data.gouv.fr base URL),
        /// asked first with a short timeout; the local index answers when it fails.
        #[arg(long, env = "CHEVET_GEOCODER_URL")]
        geocoder_url: Option<String>,
        /// The secure messaging (MSSanté) relay letters are sent through: smtp://host:port,
        /// smtp://host:587?tls=required (STARTTLS) or smtps://user:password@host:465.
        #[arg(long, env = "CHEVET_SMTP_URL")]
        smtp_url: Option<String>,
        #[command(flatten)]
        link: LinkArgs,
        /// Serve over TLS with this certificate chain (PEM); with --tls-key.
        #[arg(long, env = "CHEVET_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, env = "CHEVET_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// A reverse proxy in front terminates TLS: listening beyond loopback without
        /// --tls-cert is then allowed (cookies are still marked Secure).
        #[arg(long, env = "CHEVET_BEHIND_PROXY")]
        behind_proxy: bool,
        /// Web Push: the association's VAPID private key (PEM, from `chevet push keygen`); a
        /// visit then rings the doctor's phone even with the app closed. With --vapid-subject.
        #[arg(long, env = "CHEVET_VAPID_KEY", requires = "vapid_subject")]
        vapid_key: Option<PathBuf>,
        /// Who push services may contact about this hub's pushes: mailto:... or https://...
        #[arg(long, env = "CHEVET_VAPID_SUBJECT", requires = "vapid_key")]
        vapid_subject: Option<String>,
    },
    /// Run a hub on a fresh temporary store filled with a demo association (Grenoble).
    Demo {
        #[arg(long, default_value = "127.0.0.1:8480")]
        listen: SocketAddr,
        #[arg(long, env = "CHEVET_UI_DIR")]
        ui_dir: Option<PathBuf>,
        /// An SMTP server to send the demo's letters to (e.g. a test server on loopback).
        #[arg(long, env = "CHEVET_SMTP_URL")]
        smtp_url: Option<String>,
        #[command(flatten)]
        link: LinkArgs,
    },
    /// Replay a dispatch benchmark instance through the dispatch engine, online, and write a plan.
    Simulate {
        /// An instance file of shared/bench/dispatch (SPEC.md).
        #[arg(long)]
        instance: PathBuf,
        /// Where to write the plan (JSON).
        #[arg(long)]
        out: PathBuf,
        /// replan (the engine) or greedy (nearest available doctor, for comparison).
        #[arg(long, default_value = "replan")]
        policy: String,
    },
    /// Import outside data into the store.
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Read and draw electrocardiograms (WFDB, HL7 aECG, SCP-ECG, DICOM, EDF, Contec, PDF).
    Ecg {
        #[command(subcommand)]
        command: EcgCommand,
    },
    /// Letters to treating physicians.
    Letter {
        #[command(subcommand)]
        command: LetterCommand,
    },
    /// Web Push.
    Push {
        #[command(subcommand)]
        command: PushCommand,
    },
}

#[derive(Subcommand)]
enum PushCommand {
    /// Print a new VAPID private key (PEM): keep it in a file readable by the hub only, and
    /// give it to `serve --vapid-key`. Its public key is printed on standard error.
    Keygen,
}

#[derive(Subcommand)]
enum EcgCommand {
    /// Format, leads, sampling rate, duration, heart rate and detected beats of a recording
    /// (a WFDB record is named by its .hea file).
    Info {
        file: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Draw a recording on standard ECG paper (25 mm/s, 10 mm/mV) as PDF or SVG.
    Render {
        file: PathBuf,
        /// OUT.pdf or OUT.svg.
        #[arg(long)]
        out: PathBuf,
        /// Where the 10-second page starts, in seconds.
        #[arg(long, default_value_t = 0.0)]
        start: f64,
    },
}

#[derive(Subcommand)]
enum LetterCommand {
    /// Write the four forms of a sample letter (PDF, FHIR R4 Bundle, CDA R2, IHE_XDM.ZIP) with
    /// these ECGs attached.
    Preview {
        /// ECG files (repeat the option for several).
        #[arg(long)]
        ecg: Vec<PathBuf>,
        /// The folder to write into (created if needed).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args)]
struct DbArg {
    /// Database URL: sqlite://PATH (default: chevet.db in the user's data directory) or postgres://...
    #[arg(long = "db", env = "CHEVET_DB")]
    url: Option<String>,
}

impl DbArg {
    fn url(&self) -> String {
        self.url.clone().unwrap_or_else(default_sqlite_url)
    }
}

#[derive(Subcommand)]
enum ImportCommand {
    /// The association's sectors, from a GeoJSON FeatureCollection (one sector per feature,
    /// named by its `nom` or `name` property; a sector of the same name is replaced).
    Sectors {
        #[command(flatten)]
        db: DbArg,
        file: PathBuf,
        /// Import only the features with these names (comma-separated), e.g. the communes covered.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Addresses, from Base Adresse Nationale files (`adresses-XX.csv` of adresse.data.gouv.fr,
    /// uncompressed). Each file replaces the addresses of the départements it covers.
    Addresses {
        #[command(flatten)]
        db: DbArg,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The practitioners directory, from the RPPS extract `PS_LibreAcces_Personne_activite`
    /// (replaces the directory) or the MSSanté addresses extract (adds the addresses), both
    /// pipe-separated as the Annuaire Santé publishes them.
    Practitioners {
        #[command(flatten)]
        db: DbArg,
        file: PathBuf,
    },
    /// The ICD-10 (CIM-10) list diagnoses are chosen from: `code;label` lines (or `|`, tab).
    /// Replaces the list shipped with Chevet.
    Icd10 {
        #[command(flatten)]
        db: DbArg,
        file: PathBuf,
    },
    /// The road network, from an OpenStreetMap extract (.osm.pbf): drivable ways, one-way
    /// streets, speeds by road class, prepared for fast queries (contraction hierarchy) and
    /// stored for every hub of the association. Replaces the previous one.
    Roads {
        #[command(flatten)]
        db: DbArg,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. The password is read from standard input (one line).
    Add {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// admin, dispatcher, doctor, assistant, ehpad_nurse or partner_nurse.
        #[arg(long)]
        role: Role,
        /// For a doctor: his RPPS number.
        #[arg(long)]
        rpps: Option<String>,
        /// For a doctor: skills, comma-separated (ecg, pediatric, geriatric).
        #[arg(long, value_delimiter = ',')]
        skills: Vec<Skill>,
        /// For an EHPAD nurse: the institution's id.
        #[arg(long)]
        institution: Option<i64>,
        /// For a partner nurse: the network's id.
        #[arg(long)]
        network: Option<i64>,
    },
}

impl clap::ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        Role::ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

impl clap::ValueEnum for Skill {
    fn value_variants<'a>() -> &'a [Self] {
        Skill::ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CHEVET_LOG")
                .unwrap_or_else(|_| "chevet=info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    rt.block_on(async move {
        match cli.command {
            Command::Serve { db, listen, ui_dir, session_hours, session_idle_hours, require_admin_totp, position_stale_minutes, event_retention_days, geocoder_url, smtp_url, link, tls_cert, tls_key, behind_proxy, vapid_key, vapid_subject } => {
                let tls = match (tls_cert, tls_key) {
                    (Some(cert), Some(key)) => Some(crate::http::tls::server_config(&cert, &key).map_err(|e| anyhow::anyhow!("TLS: {e}"))?),
                    _ => None,
                };
                if tls.is_none() && !behind_proxy && !listen.ip().is_loopback() {
                    bail!(
                        "{listen} is reachable from the network, and health data would travel in clear: \
                         give --tls-cert and --tls-key, or --behind-proxy when a reverse proxy in front serves TLS"
                    );
                }
                if session_hours < 1 || session_idle_hours < 1 || session_idle_hours > session_hours {
                    bail!("--session-hours and --session-idle-hours must be at least 1, the idle timeout no longer than the session");
                }
                if event_retention_days < 1 {
                    bail!("--event-retention-days must be at least 1");
                }
                if geocoder_url.as_ref().is_some_and(|u| !(u.starts_with("http://") || u.starts_with("https://"))) {
                    bail!("--geocoder-url must be an http:// or https:// URL");
                }
                if let Some(relay) = &smtp_url {
                    crate::letters::check_relay(relay).map_err(|e| anyhow::anyhow!("--smtp-url: {e}"))?;
                }
                let push = match (vapid_key, vapid_subject) {
                    (Some(file), Some(subject)) => {
                        let pem = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
                        Some(crate::services::push::Vapid::from_pem(&pem, &subject).map_err(|e| anyhow::anyhow!("--vapid-key {}: {e}", file.display()))?)
                    }
                    _ => None,
                };
                let url = db.url();
                let store = Db::connect(&url).await.with_context(|| format!("opening the store {}", redact(&url)))?;
                let config = HubConfig {
                    push,
                    sessions: crate::services::sessions::SessionPolicy {
                        idle: chrono::Duration::hours(session_idle_hours),
                        max: chrono::Duration::hours(session_hours),
                    },
                    admin_totp_required: require_admin_totp,
                    position_stale_after: chrono::Duration::minutes(position_stale_minutes.max(1)),
                    ui_dir: ui_dir.or_else(default_ui_dir),
                    geocoder_url,
                    mail: crate::letters::MailConfig { relay_url: smtp_url, ..Default::default() },
                    nursing: link.config()?,
                    event_retention: chrono::Duration::days(event_retention_days),
                    secure: tls.is_some() || behind_proxy,
                    behind_proxy,
                    ..HubConfig::default()
                };
                run_hub(store, bind(listen).await?, config, None, tls).await
            }
            Command::Demo { listen, ui_dir, smtp_url, link } => {
                let dir = tempfile_dir()?;
                let url = format!("sqlite://{}", dir.join("demo.db").display());
                let store = Db::connect(&url).await.context("opening the demo store")?;
                let summary = crate::demo::seed(&store).await?;
                let listener = bind(listen).await?;
                let served_at = format!("http://{}", listener.local_addr()?);
                crate::demo::link_to_itself(&store, &served_at).await?;
                let config = HubConfig {
                    ui_dir: ui_dir.or_else(default_ui_dir),
                    mail: crate::letters::MailConfig { relay_url: smtp_url, ..Default::default() },
                    // The demo books nurses with the network it hosts itself, on loopback.
                    nursing: crate::nursing::NursingConfig {
                        outbound: crate::nursing::outbound::Outbound { allow_private_hosts: true },
                        ..link.config()?
                    },
                    ..HubConfig::default()
                };
                let banner = format!(
                    "Demo association: {} doctors, {} EHPAD, {} visits (store {}).\nAccounts (password \"{}\"):\n{}",
                    summary.doctors,
                    summary.institutions,
                    summary.visits,
                    dir.display(),
                    crate::demo::PASSWORD,
                    crate::demo::ACCOUNTS
                        .iter()
                        .map(|(u, who)| format!("  {u:<11} {who}"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
                let result = run_hub(store, listener, config, Some(banner), None).await;
                let _ = std::fs::remove_dir_all(&dir);
                result
            }
            Command::Simulate { instance, out, policy } => {
                let policy: crate::dispatch::bench::Policy = policy.parse()?;
                let text = std::fs::read_to_string(&instance).with_context(|| format!("reading {}", instance.display()))?;
                let inst: crate::dispatch::bench::Instance =
                    serde_json::from_str(&text).with_context(|| format!("{} is not a dispatch instance", instance.display()))?;
                let plan = crate::dispatch::bench::simulate(&inst, policy)?;
                std::fs::write(&out, serde_json::to_string(&plan)?).with_context(|| format!("writing {}", out.display()))?;
                eprintln!(
                    "{}: {} visits, {} unserved, {} s",
                    inst.name,
                    plan.visits.len(),
                    plan.unserved.len(),
                    plan.meta["solve_s"]
                );
                Ok(())
            }
            Command::Import { what: ImportCommand::Sectors { db, file, only } } => {
                let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
                let store = Db::connect(&db.url()).await.context("opening the store")?;
                let keep = |name: &str| only.iter().any(|o| o == name);
                let filter: Option<&dyn Fn(&str) -> bool> = if only.is_empty() { None } else { Some(&keep) };
                let n = crate::import::import_sectors(&store, &text, filter)
                    .await
                    .with_context(|| format!("importing {}", file.display()))?;
                println!("imported {n} sectors");
                Ok(())
            }
            Command::Import { what: ImportCommand::Addresses { db, files } } => {
                let store = Db::connect(&db.url()).await.context("opening the store")?;
                for file in files {
                    let done = import_address_file(&store, &file)
                        .await
                        .with_context(|| format!("importing {}", file.display()))?;
                    if done.replaced > 0 {
                        eprintln!("replaced {} earlier addresses of département {}", done.replaced, done.departments.join(", "));
                    }
                    println!("{} addresses imported from {}", done.addresses, file.display());
                }
                Ok(())
            }
            Command::Import { what: ImportCommand::Roads { db, file } } => {
                let started = std::time::Instant::now();
                eprintln!("reading and contracting {} ...", file.display());
                let store = Db::connect(&db.url()).await.context("opening the store")?;
                let (nodes, edges) = crate::import::import_roads(&store, &file)
                    .await
                    .with_context(|| format!("importing {}", file.display()))?;
                println!(
                    "imported the road network of {}: {nodes} nodes, {edges} edges with shortcuts ({:.1} s)",
                    file.display(),
                    started.elapsed().as_secs_f64()
                );
                Ok(())
            }
            Command::Import { what: ImportCommand::Practitioners { db, file } } => {
                let store = Db::connect(&db.url()).await.context("opening the store")?;
                let f = std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
                let bar = progress_bar(f.metadata().map(|m| m.len()).unwrap_or(0), &file);
                let name = file_name(&file);
                let done = crate::directory::import_practitioners(&store, bar.wrap_read(f), &name).await;
                bar.finish_and_clear();
                let done = done.with_context(|| format!("importing {}", file.display()))?;
                match done.kind {
                    "mssante" => println!("{} MSSanté addresses read, {} practitioners given one", done.rows_read, done.rows_kept),
                    _ => println!("{} practitioners imported from {}", done.rows_kept, file.display()),
                }
                Ok(())
            }
            Command::Import { what: ImportCommand::Icd10 { db, file } } => {
                let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                let text = String::from_utf8(bytes)
                    .unwrap_or_else(|e| e.into_bytes().iter().map(|&b| b as char).collect());
                let codes = crate::directory::parse_icd10(&text).with_context(|| format!("reading {}", file.display()))?;
                let store = Db::connect(&db.url()).await.context("opening the store")?;
                let n = crate::directory::import_icd10(&store, &codes).await?;
                println!("{n} ICD-10 codes imported");
                Ok(())
            }
            Command::Ecg { command } => crate::tools::ecg(command_args(command)),
            Command::Letter { command: LetterCommand::Preview { ecg, out } } => crate::tools::letter_preview(&ecg, &out),
            Command::Push { command: PushCommand::Keygen } => {
                let pem = crate::services::push::Vapid::generate_pem();
                let key = crate::services::push::Vapid::from_pem(&pem, "mailto:x@x").map_err(|e| anyhow::anyhow!(e))?;
                eprintln!("public key (applicationServerKey): {}", key.public_key());
                print!("{pem}");
                Ok(())
            }
            Command::User { command: UserCommand::Add { db, username, name, role, rpps, skills, institution, network } } => {
                let password = read_password()?;
                let new = NewUser {
                    username,
                    password,
                    display_name: name,
                    role,
                    institution_id: institution,
                    network_id: network,
                    doctor: rpps.map(|rpps| NewDoctor { rpps, phone: None, skills }),
                };
                new.check().map_err(|e| anyhow::anyhow!("{}{}", e.field.map(|f| format!("{f}: ")).unwrap_or_default(), e.message))?;
                let store = Db::connect(&db.url()).await.context("opening the store")?;
                let mut tx = store.write(Actor::SYSTEM).await?;
                let id = create_user(&mut tx, &new)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}{}", e.field.map(|f| format!("{f}: ")).unwrap_or_default(), e.message))?;
                tx.commit().await?;
                println!("created account {} (id {id}, role {})", new.username, new.role);
                Ok(())
            }
        }
    })
}

async fn bind(listen: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))
}

async fn run_hub(
    store: Db,
    listener: tokio::net::TcpListener,
    config: HubConfig,
    banner: Option<String>,
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let ui = if config.ui_dir.is_some() {
        ""
    } else {
        " (UI not built: see README)"
    };
    // The first line on stdout is the URL, for scripts and tests to read.
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("Chevet hub listening on {scheme}://{addr}/{ui}");
    if let Some(b) = banner {
        println!("{b}");
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let hub = Hub::start(store.clone(), config).await;
    match tls {
        Some(tls) => {
            let listener = crate::http::tls::TlsListener::new(listener, tls)?;
            serve(listener, hub, shutdown_signal()).await?
        }
        None => serve(listener, hub, shutdown_signal()).await?,
    }
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// `ui/dist` next to the current directory or the executable's workspace, if built.
fn default_ui_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::current_dir().ok().map(|d| d.join("ui/dist")),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ui/dist")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("index.html").is_file())
}

fn command_args(c: EcgCommand) -> crate::tools::EcgArgs {
    match c {
        EcgCommand::Info { file, json } => crate::tools::EcgArgs::Info { file, json },
        EcgCommand::Render { file, out, start } => {
            crate::tools::EcgArgs::Render { file, out, start }
        }
    }
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
        .into_owned()
}

/// A progress bar over a file's bytes, on stderr when it is a terminal.
fn progress_bar(len: u64, path: &std::path::Path) -> indicatif::ProgressBar {
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(len)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes}, {eta} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(file_name(path));
    bar
}

/// Imports one BAN file, with a progress bar on stderr when it is a terminal.
async fn import_address_file(
    store: &Db,
    path: &std::path::Path,
) -> anyhow::Result<crate::import::AddressImport> {
    let file = std::fs::File::open(path)?;
    let bar = progress_bar(file.metadata().map(|m| m.len()).unwrap_or(0), path);
    let result =
        crate::import::import_addresses(store, bar.wrap_read(file), &file_name(path)).await;
    bar.finish_and_clear();
    Ok(result?)
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("chevet-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let _ = std::fs::remove_file(dir.join("demo.db"));
    Ok(dir)
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        eprint!("Password (at least 8 characters; it is echoed): ");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("no password given on standard input");
    }
    Ok(password)
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}
