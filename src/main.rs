//! The `chevet` binary: see `chevet --help` and `src/cli.rs`.

fn main() -> std::process::ExitCode {
    chevet::hub::bound_allocator();
    match chevet::cli::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chevet: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
