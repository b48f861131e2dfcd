//! The command line: arguments (clap) and dispatch.

use clap::{Args, Parser, Subcommand};
use siseri_domain::Clock;
use siseri_storage::{DatabaseUrl, Store};
use std::sync::Arc;

use crate::CliError;
use crate::admin::AdminCommand;

/// SISERI — registre national des doses des travailleurs exposés aux rayonnements ionisants.
#[derive(Debug, Parser)]
#[command(name = "siseri", version, about, long_about = None)]
pub struct Cli {
    /// Base de données : sqlite:CHEMIN (par défaut sqlite:siseri.db) ou postgres://…
    #[arg(
        long,
        global = true,
        env = "SISERI_DATABASE_URL",
        hide_env_values = true
    )]
    pub database: Option<String>,

    /// La commande.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lance le serveur HTTP (pages, API /api/v1, /healthz).
    Serve(ServeArgs),
    /// Crée (ou réutilise) une base de démonstration réaliste, affiche les comptes, puis sert.
    Demo(DemoArgs),
    /// Administration : comptes, établissements, désignations, jetons d'API.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Journal des accès et des écritures.
    #[command(subcommand)]
    Journal(JournalCommand),
    /// Affiche le dossier d'un travailleur tel que le compte --as peut le voir (journalisé).
    Worker(WorkerArgs),
    /// Envoie un fichier (travailleurs, resultats, dosimetrie-operationnelle) au nom du compte
    /// --as et affiche le rapport d'exécution.
    Import(crate::import::ImportArgs),
    /// Résultats saisis par les médecins (--as) : ajout, nouvelle version.
    #[command(subcommand)]
    Result(crate::physician::ResultCommand),
    /// Grossesses déclarées par les médecins (--as).
    #[command(subcommand)]
    Pregnancy(crate::physician::PregnancyCommand),
    /// Étapes des alertes (--as).
    #[command(subcommand)]
    Alert(crate::physician::AlertCommand),
}

/// Options of `worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// NIR ou NIA du travailleur (13 caractères, sans clé).
    pub nir: String,
    /// Le compte au nom duquel consulter (mêmes droits que sur l'API).
    #[arg(long = "as")]
    pub as_login: String,
    /// Référence de mission (agents de contrôle).
    #[arg(long)]
    pub mission: Option<String>,
    /// Mois des totaux, AAAA-MM (par défaut le mois courant).
    #[arg(long)]
    pub au: Option<String>,
    /// Sortie JSON (celle de l'API).
    #[arg(long)]
    pub json: bool,
}

/// `siseri journal` subcommands.
#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// Vérifie la chaîne d'empreintes du journal (code de sortie 0 si intacte, 1 sinon).
    Verify,
}

/// Options of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Adresse d'écoute.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Fichier JSON des fédérations d'identité OpenID Connect (tableau de {name, label,
    /// issuer_url, client_id, client_secret, redirect_url, scopes}).
    #[arg(long, env = "SISERI_OIDC_CONFIG")]
    pub oidc_config: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub web: WebArgs,
}

/// Options of the HTTP server shared by `serve` and `demo`.
#[derive(Debug, Clone, Args)]
pub struct WebArgs {
    /// Bloc d'adresses d'un mandataire inverse (reverse proxy) dont les en-têtes
    /// X-Forwarded-For et X-Forwarded-Proto sont crus (répétable ; 10.0.0.0/8, ::1/128…).
    #[arg(
        long = "trusted-proxy",
        value_name = "CIDR",
        env = "SISERI_TRUSTED_PROXY",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<siseri_server::client::Cidr>,
    /// Adresse publique du registre, pour les liens des courriels (par défaut : l'adresse
    /// d'écoute, en http).
    #[arg(long, value_name = "URL", env = "SISERI_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// Options of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Adresse d'écoute.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Crée les données puis s'arrête, sans servir.
    #[arg(long)]
    pub no_serve: bool,
    /// Fichier JSON des fédérations d'identité OpenID Connect.
    #[arg(long, env = "SISERI_OIDC_CONFIG")]
    pub oidc_config: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub web: WebArgs,
}

/// Today's date, fixed by `SISERI_TODAY=AAAA-MM-JJ` (a testing aid) or the system's.
pub fn clock() -> Result<Clock, CliError> {
    let value = std::env::var("SISERI_TODAY").ok();
    Clock::from_override(value.as_deref()).map_err(|e| CliError::Refused(e.to_string()))
}

/// Opens the database named on the command line, or `default`.
pub async fn open(database: Option<&str>, default: &str) -> Result<Arc<dyn Store>, CliError> {
    let url = DatabaseUrl::parse(database.unwrap_or(default))?;
    tracing::info!(database = %url, "opening database");
    Ok(siseri_storage::open(&url).await?)
}

/// Runs a parsed command.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let clock = clock()?;
    let db = cli.database.as_deref();
    match cli.command {
        Command::Serve(args) => {
            let store = open(db, DatabaseUrl::DEFAULT).await?;
            crate::serve::serve(
                &args.listen,
                store,
                clock,
                args.oidc_config.as_deref(),
                &args.web,
                None,
            )
            .await
        }
        Command::Demo(args) => crate::demo::run(db, &args, clock).await,
        Command::Admin(cmd) => {
            let store = open(db, DatabaseUrl::DEFAULT).await?;
            crate::admin::run(cmd, store.as_ref(), clock).await
        }
        Command::Worker(args) => {
            let store = open(db, DatabaseUrl::DEFAULT).await?;
            crate::worker::show(store.as_ref(), clock, &args).await
        }
        Command::Import(args) => {
            let store = open(db, DatabaseUrl::DEFAULT).await?;
            crate::import::run(store.as_ref(), clock, &args).await
        }
        Command::Result(cmd) => {
            let store = open(db, DatabaseUrl::DEFAULT).await?;
            crate::physician::result(store.as_ref(), clock, cmd).await
        }
        Command::Pregnancy(cmd) => {
            let store = open(db, DatabaseUrl::DEFAULT).await?;
            crate::physician::pregnancy(store.as_ref(), clock, cmd).await
        }
        Command::Alert(cmd) => {
            let store = open(db, DatabaseUrl::DEFAULT).await?;
            crate::physician::alert(store.as_ref(), clock, cmd).await
        }
        Command::Journal(JournalCommand::Verify) => {
            let store = open(db, DatabaseUrl::DEFAULT).await?;
            match siseri_storage::journal::verify(store.as_ref()).await? {
                Ok(n) => {
                    println!("Journal intègre : {n} entrées.");
                    Ok(())
                }
                Err(b) => Err(CliError::Refused(format!(
                    "journal altéré à partir de l'entrée n° {} : {b}",
                    b.first_broken()
                ))),
            }
        }
    }
}
