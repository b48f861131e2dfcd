//! Physicians' writes on the command line, with `--as`: the same functions, checks and
//! journal as the API (`siseri_import::physician`).

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use siseri_domain::Clock;
use siseri_domain::codes::{Nature, Position, Quantity, ResultStatus};
use siseri_domain::result::ResultValues;
use siseri_import::physician::{self, NewEntry, NewVersion, WriteError};
use siseri_server::caller::Caller;
use siseri_server::transmissions::sender_info;
use siseri_storage::Store;

use crate::CliError;

/// `siseri result …`.
#[derive(Debug, Subcommand)]
pub enum ResultCommand {
    /// Ajoute une estimation (ESTIMATION_MDT) ou une dose interne au dossier d'un travailleur.
    Add(ResultAddArgs),
    /// Écrit une nouvelle version d'un résultat (correction, complément, ANNULE).
    Version(ResultVersionArgs),
}

/// Options of `result add`.
#[derive(Debug, Args)]
pub struct ResultAddArgs {
    /// Le compte (médecin du travail ou délégué).
    #[arg(long = "as")]
    pub as_login: String,
    /// NIR du travailleur (13 caractères).
    #[arg(long)]
    pub nir: String,
    /// ESTIMATION_MDT, INTERNE_VIVO ou INTERNE_VITRO.
    #[arg(long)]
    pub nature: String,
    /// Grandeur (HP10, HP3, E50, E…).
    #[arg(long)]
    pub grandeur: String,
    /// Position (yeux, extrémités).
    #[arg(long)]
    pub position: Option<String>,
    /// Début, AAAA-MM-JJ.
    #[arg(long)]
    pub from: String,
    /// Fin, AAAA-MM-JJ.
    #[arg(long)]
    pub to: String,
    /// MESURE, INF_SEUIL ou ABSENCE.
    #[arg(long, default_value = "MESURE")]
    pub statut: String,
    /// Dose en µSv (entier).
    #[arg(long)]
    pub dose_usv: Option<i64>,
    /// Justification (obligatoire).
    #[arg(long)]
    pub justification: String,
}

/// Options of `result version`.
#[derive(Debug, Args)]
pub struct ResultVersionArgs {
    /// Le compte.
    #[arg(long = "as")]
    pub as_login: String,
    /// Numéro du résultat.
    #[arg(long)]
    pub id: i64,
    /// MESURE, INF_SEUIL, ABSENCE ou ANNULE.
    #[arg(long)]
    pub statut: String,
    /// Dose en µSv.
    #[arg(long)]
    pub dose_usv: Option<i64>,
    /// Nouveau début, AAAA-MM-JJ.
    #[arg(long)]
    pub from: Option<String>,
    /// Nouvelle fin, AAAA-MM-JJ.
    #[arg(long)]
    pub to: Option<String>,
    /// Justification (obligatoire).
    #[arg(long)]
    pub justification: String,
}

/// `siseri pregnancy …`.
#[derive(Debug, Subcommand)]
pub enum PregnancyCommand {
    /// Déclare une grossesse (limite de l'enfant à naître).
    Declare(PregnancyDeclareArgs),
    /// Déclare la fin d'une grossesse.
    End(PregnancyEndArgs),
}

/// Options of `pregnancy declare`.
#[derive(Debug, Args)]
pub struct PregnancyDeclareArgs {
    /// Le compte.
    #[arg(long = "as")]
    pub as_login: String,
    /// NIR de la travailleuse.
    #[arg(long)]
    pub nir: String,
    /// Date de déclaration, AAAA-MM-JJ.
    #[arg(long)]
    pub date: String,
    /// Justification.
    #[arg(long)]
    pub justification: String,
}

/// Options of `pregnancy end`.
#[derive(Debug, Args)]
pub struct PregnancyEndArgs {
    /// Le compte.
    #[arg(long = "as")]
    pub as_login: String,
    /// Numéro de la grossesse.
    #[arg(long)]
    pub id: i64,
    /// Date de fin, AAAA-MM-JJ.
    #[arg(long)]
    pub date: String,
    /// Justification.
    #[arg(long)]
    pub justification: String,
}

/// `siseri alert …`.
#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Fait avancer une alerte : EN_ANALYSE, puis CONFIRMEE, CORRIGEE ou ANNULEE.
    Step(AlertStepArgs),
}

/// Options of `alert step`.
#[derive(Debug, Args)]
pub struct AlertStepArgs {
    /// Le compte.
    #[arg(long = "as")]
    pub as_login: String,
    /// Numéro de l'alerte.
    #[arg(long)]
    pub id: i64,
    /// Nouveau statut.
    #[arg(long)]
    pub statut: String,
    /// Texte de l'étape.
    #[arg(long)]
    pub texte: String,
}

fn date(field: &str, s: &str) -> Result<NaiveDate, CliError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| CliError::Refused(format!("{field} : date AAAA-MM-JJ attendue")))
}

fn code<T>(field: &str, v: &str, parse: fn(&str) -> Option<T>) -> Result<T, CliError> {
    parse(v.trim())
        .ok_or_else(|| CliError::Refused(format!("{field} : valeur inconnue « {} »", v.trim())))
}

fn refused(e: WriteError) -> CliError {
    match e {
        WriteError::NotFound => CliError::Refused(crate::worker::NOT_FOUND.into()),
        WriteError::Store(s) => CliError::from(s),
        other => CliError::Refused(other.to_string()),
    }
}

async fn sender(store: &dyn Store, login: &str) -> Result<siseri_import::SenderInfo, CliError> {
    let account = store
        .account(login.trim())
        .await?
        .ok_or_else(|| CliError::Refused(format!("--as : compte « {} » inconnu", login.trim())))?;
    let caller = Caller {
        account,
        session: None,
        mission: None,
    };
    Ok(sender_info(store, &caller).await?)
}

/// `siseri result …`.
pub async fn result(store: &dyn Store, clock: Clock, cmd: ResultCommand) -> Result<(), CliError> {
    match cmd {
        ResultCommand::Add(a) => {
            let s = sender(store, &a.as_login).await?;
            let nir = siseri_domain::Nir::parse(a.nir.trim())
                .map_err(|_| CliError::Refused("--nir : 13 caractères attendus".into()))?;
            let entry = NewEntry {
                nature: code("--nature", &a.nature, Nature::parse)?,
                quantity: code("--grandeur", &a.grandeur, Quantity::parse)?,
                position: a
                    .position
                    .as_deref()
                    .map(|p| code("--position", p, Position::parse))
                    .transpose()?,
                values: ResultValues {
                    date_debut: date("--from", &a.from)?,
                    date_fin: date("--to", &a.to)?,
                    statut: code("--statut", &a.statut, ResultStatus::parse)?,
                    dose_usv: a.dose_usv,
                    seuil_usv: None,
                },
                justification: a.justification,
            };
            let (id, reference) = physician::add_result(store, &s, &nir, &entry, clock.today())
                .await
                .map_err(refused)?;
            siseri_server::notifications::sweep_now(
                store,
                &siseri_server::notifications::public_url_of_environment(),
            )
            .await;
            println!("Résultat {id} enregistré (référence {reference}).");
        }
        ResultCommand::Version(v) => {
            let s = sender(store, &v.as_login).await?;
            let version = NewVersion {
                statut: code("--statut", &v.statut, ResultStatus::parse)?,
                dose_usv: v.dose_usv,
                date_debut: v.from.as_deref().map(|d| date("--from", d)).transpose()?,
                date_fin: v.to.as_deref().map(|d| date("--to", d)).transpose()?,
                justification: v.justification,
            };
            let n = physician::add_version(store, &s, v.id, &version, clock.today())
                .await
                .map_err(refused)?;
            siseri_server::notifications::sweep_now(
                store,
                &siseri_server::notifications::public_url_of_environment(),
            )
            .await;
            println!("Résultat {} : version {n} enregistrée.", v.id);
        }
    }
    Ok(())
}

/// `siseri pregnancy …`.
pub async fn pregnancy(
    store: &dyn Store,
    clock: Clock,
    cmd: PregnancyCommand,
) -> Result<(), CliError> {
    match cmd {
        PregnancyCommand::Declare(a) => {
            let s = sender(store, &a.as_login).await?;
            let nir = siseri_domain::Nir::parse(a.nir.trim())
                .map_err(|_| CliError::Refused("--nir : 13 caractères attendus".into()))?;
            let id = physician::declare_pregnancy(
                store,
                &s,
                &nir,
                date("--date", &a.date)?,
                &a.justification,
                clock.today(),
            )
            .await
            .map_err(refused)?;
            siseri_server::notifications::sweep_now(
                store,
                &siseri_server::notifications::public_url_of_environment(),
            )
            .await;
            println!("Grossesse {id} déclarée.");
        }
        PregnancyCommand::End(a) => {
            let s = sender(store, &a.as_login).await?;
            physician::end_pregnancy(
                store,
                &s,
                a.id,
                date("--date", &a.date)?,
                &a.justification,
                clock.today(),
            )
            .await
            .map_err(refused)?;
            siseri_server::notifications::sweep_now(
                store,
                &siseri_server::notifications::public_url_of_environment(),
            )
            .await;
            println!("Fin de la grossesse {} enregistrée.", a.id);
        }
    }
    Ok(())
}

/// `siseri alert step`.
pub async fn alert(store: &dyn Store, clock: Clock, cmd: AlertCommand) -> Result<(), CliError> {
    let AlertCommand::Step(a) = cmd;
    let s = sender(store, &a.as_login).await?;
    let status = physician::alert_step(store, &s, a.id, &a.statut, &a.texte, clock.today())
        .await
        .map_err(refused)?;
    println!("Alerte {} : {status}.", a.id);
    Ok(())
}
