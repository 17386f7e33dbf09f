//! Chevet's desktop shell. It holds no business logic: it starts a hub in process (SQLite in the
//! user's data directory, on 127.0.0.1 with a per-launch secret) and shows the hub's web UI in a
//! window, or shows a remote hub's UI when one is configured.
//!
//! Settings, first from the command line, then the environment, then `settings.json` in the app's
//! config directory (`{"hub_url": "https://hub.example.org/"}`):
//! - `--hub URL` / `CHEVET_HUB_URL`: use this remote hub instead of the embedded one;
//! - `--demo`: run the embedded hub on a fresh demo association (as `chevet demo`);
//! - `--data DIR` / `CHEVET_DATA_DIR`: where the embedded hub keeps its store.

use std::path::{Path, PathBuf};

use chevet::http::serve;
use chevet::hub::{Hub, HubConfig};
use chevet::store::Db;
use tauri::{Manager, WebviewUrl, WebviewWindowBuilder};

#[derive(Debug, Default, serde::Deserialize)]
struct Settings {
    hub_url: Option<String>,
}

#[derive(Debug, Default)]
struct Launch {
    hub_url: Option<String>,
    demo: bool,
    data_dir: Option<PathBuf>,
}

impl Launch {
    fn from_args_and_env(config_dir: Option<&Path>) -> Launch {
        let mut launch = Launch::default();
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--hub" => launch.hub_url = args.next(),
                "--demo" => launch.demo = true,
                "--data" => launch.data_dir = args.next().map(PathBuf::from),
                _ => {}
            }
        }
        launch.hub_url = launch
            .hub_url
            .or_else(|| std::env::var("CHEVET_HUB_URL").ok())
            .or_else(|| {
                let file = config_dir?.join("settings.json");
                let text = std::fs::read_to_string(file).ok()?;
                serde_json::from_str::<Settings>(&text).ok()?.hub_url
            });
        launch.data_dir = launch
            .data_dir
            .or_else(|| std::env::var_os("CHEVET_DATA_DIR").map(PathBuf::from));
        launch
    }
}

/// A remote hub is reached over https: health data does not cross a network in clear. Plain
/// http is accepted on this machine only (a hub on loopback).
fn check_remote(url: &str) -> Result<tauri::Url, String> {
    let parsed: tauri::Url = url
        .parse()
        .map_err(|e| format!("{url} is not a URL: {e}"))?;
    let host = parsed.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        "http" => Err(format!(
            "{url}: a remote hub is reached over https only (health data would cross the network in clear)"
        )),
        other => Err(format!("{url}: {other}: is not a hub address (https://...)")),
    }
}

/// A random secret for this launch (the session-token generator is a fine source).
fn launch_secret() -> String {
    chevet::auth::new_token()
}

/// The built UI: bundled as a resource, or `ui/dist` of the source tree in development.
fn ui_dir(app: &tauri::App) -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("CHEVET_UI_DIR").map(PathBuf::from),
        app.path().resource_dir().ok().map(|d| d.join("ui")),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("index.html").is_file())
}

/// Starts the embedded hub; returns the URL the window opens (which hands it the secret).
fn start_embedded_hub(
    app: &tauri::App,
    launch: &Launch,
) -> Result<String, Box<dyn std::error::Error>> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    let secret = launch_secret();
    let config = HubConfig {
        ui_dir: ui_dir(app),
        launch_secret: Some(secret.clone()),
        ..HubConfig::default()
    };
    let data = match &launch.data_dir {
        Some(d) => d.clone(),
        None => app.path().app_data_dir()?,
    };
    std::fs::create_dir_all(&data)?;
    let url = if launch.demo {
        let path = data.join("demo.db");
        let _ = std::fs::remove_file(&path);
        format!("sqlite://{}", path.display())
    } else {
        format!("sqlite://{}", data.join("chevet.db").display())
    };
    let demo = launch.demo;
    let handle = app.handle().clone();
    tauri::async_runtime::spawn(async move {
        let result = async {
            let db = Db::connect(&url).await?;
            if demo {
                chevet::demo::seed(&db).await?;
            }
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
            handle.manage(HubStop(std::sync::Mutex::new(Some(stop_tx))));
            serve(listener, Hub::start(db.clone(), config).await, async {
                let _ = stop_rx.await;
            })
            .await?;
            db.close().await;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        }
        .await;
        if let Err(e) = result {
            eprintln!("chevet-desktop: the embedded hub stopped: {e}");
            handle.exit(1);
        }
    });
    Ok(format!("http://127.0.0.1:{port}/launch?secret={secret}"))
}

/// Stops the embedded hub when the app exits.
struct HubStop(std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>);

pub fn run() {
    tauri::Builder::default()
        .setup(|app| {
            let launch = Launch::from_args_and_env(app.path().app_config_dir().ok().as_deref());
            let url = match &launch.hub_url {
                Some(remote) => check_remote(remote).inspect_err(|e| eprintln!("chevet: {e}"))?,
                None => start_embedded_hub(app, &launch)?.parse()?,
            };
            WebviewWindowBuilder::new(app, "main", WebviewUrl::External(url))
                .title("Chevet")
                .inner_size(1280.0, 800.0)
                .min_inner_size(380.0, 600.0)
                .build()?;
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("the desktop app starts")
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                if let Some(stop) = app.try_state::<HubStop>() {
                    if let Some(tx) = stop.0.lock().ok().and_then(|mut s| s.take()) {
                        let _ = tx.send(());
                    }
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::check_remote;

    #[test]
    fn a_remote_hub_is_reached_over_https() {
        assert!(check_remote("https://hub.example.org/").is_ok());
        assert!(check_remote("http://127.0.0.1:8480/").is_ok());
        assert!(check_remote("http://localhost:8480/").is_ok());
        assert!(check_remote("http://[::1]:8480/").is_ok());
        assert!(check_remote("http://hub.example.org/").is_err());
        assert!(check_remote("http://192.168.1.20:8480/").is_err());
        assert!(check_remote("file:///etc/passwd").is_err());
        assert!(check_remote("pas une adresse").is_err());
    }
}
