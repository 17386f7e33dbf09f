//! The `chevet` binary: see `chevet --help` and `src/cli.rs`.

fn main() -> std::process::ExitCode {
    // A password check takes a 19 MiB buffer. glibc would serve the next such buffer from its
    // heap once one was freed (its threshold for mapping big blocks rises) and keep it there,
    // per thread: a login flood would leave the hub hundreds of MiB bigger. Big blocks are
    // always mapped, and given back when freed.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    }
    match chevet::cli::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chevet: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
