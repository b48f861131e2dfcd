//! `siseri`: the registry's one binary.

mod admin;
mod cli;
mod demo;
mod import;
mod physician;
mod serve;
mod worker;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// mimalloc rather than glibc's malloc: an import allocates and frees small strings and
/// rows by the million, and glibc's allocator took about a third of its CPU
/// (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Why a command did not do its work; every variant exits with status 1 (`api.md`).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The input or the request is refused (invalid value, unknown login, conflict…).
    #[error("{0}")]
    Refused(String),
    /// Something failed inside (database unreachable…).
    #[error("erreur interne : {0}")]
    Internal(String),
}

impl From<siseri_storage::StoreError> for CliError {
    fn from(e: siseri_storage::StoreError) -> Self {
        use siseri_storage::StoreError as E;
        match e {
            E::NotFound(m) => CliError::Refused(format!("introuvable : {m}")),
            E::Conflict(m) => CliError::Refused(format!("conflit : {m}")),
            E::Url(_) => CliError::Refused(e.to_string()),
            other => CliError::Internal(other.to_string()),
        }
    }
}

fn main() -> ExitCode {
    // clap exits with status 2 on usage errors, and 0 for --help.
    let cli = Cli::parse();
    init_logs(&cli.command);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("siseri : démarrage impossible : {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("siseri : {e}");
            ExitCode::from(1)
        }
    }
}

/// Logs go to standard error (standard output is for results); the server logs at
/// `info`, one-shot commands only at `warn`, unless `RUST_LOG` says otherwise.
fn init_logs(command: &Command) {
    let default = match command {
        Command::Serve(_) | Command::Demo(_) => "info",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let json = std::env::var("SISERI_LOG_FORMAT").is_ok_and(|v| v == "json");
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
