//! `siseri import --as LOGIN --format F [--dry-run] [--report json|csv] [--encodage E] FILE`:
//! the same import as the API, with the same report, printed on standard output. Exit 0 when
//! the file was read (whatever its lines' outcomes), 1 when it was refused as a whole.

use std::io::Write;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use siseri_domain::Clock;
use siseri_domain::codes::TransmissionFormat;
use siseri_import::{CsvEncoding, ImportError, Progress, Request};
use siseri_server::caller::Caller;
use siseri_server::transmissions::{sender_info, write_csv_report};
use siseri_storage::Store;

use crate::CliError;

/// The report's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportForm {
    /// The JSON report of the API.
    Json,
    /// The file with STATUT_LIGNE;CODE_ERREUR;MESSAGE appended.
    Csv,
}

/// Options of `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Le compte émetteur (mêmes droits que sur l'API).
    #[arg(long = "as")]
    pub as_login: String,
    /// travailleurs, resultats ou dosimetrie-operationnelle.
    #[arg(long)]
    pub format: String,
    /// Valide sans rien enregistrer.
    #[arg(long)]
    pub dry_run: bool,
    /// Forme du rapport affiché.
    #[arg(long, value_enum, default_value = "json")]
    pub report: ReportForm,
    /// Enregistrements JSON (tableau d'objets) plutôt que CSV (sinon : selon l'extension .json).
    #[arg(long)]
    pub json: bool,
    /// Lecture du fichier CSV : utf-8 ou windows-1252 (sinon UTF-8, ou Windows-1252 quand le
    /// fichier n'est pas en UTF-8).
    #[arg(long)]
    pub encodage: Option<String>,
    /// Le fichier.
    pub file: std::path::PathBuf,
}

/// Runs the import.
pub async fn run(store: &dyn Store, clock: Clock, args: &ImportArgs) -> Result<(), CliError> {
    let format = TransmissionFormat::parse(args.format.trim()).ok_or_else(|| {
        CliError::Refused(
            "--format : travailleurs, resultats ou dosimetrie-operationnelle attendu".into(),
        )
    })?;
    let account = store.account(args.as_login.trim()).await?.ok_or_else(|| {
        CliError::Refused(format!(
            "--as : compte « {} » inconnu",
            args.as_login.trim()
        ))
    })?;
    if !args.file.is_file() {
        return Err(CliError::Refused(format!(
            "{} : fichier introuvable",
            args.file.display()
        )));
    }
    let caller = Caller {
        account,
        session: None,
        mission: None,
    };
    let sender = sender_info(store, &caller).await?;
    let json = args.json
        || args
            .file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let encoding = match args.encodage.as_deref() {
        None => CsvEncoding::Auto,
        Some(e) => CsvEncoding::parse(e).ok_or_else(|| {
            CliError::Refused("--encodage : utf-8 ou windows-1252 attendu".into())
        })?,
    };
    if json && encoding == CsvEncoding::Windows1252 {
        return Err(CliError::Refused(
            "--encodage : un fichier JSON est toujours en UTF-8".into(),
        ));
    }
    let request = Request {
        format,
        json,
        encoding,
        dry_run: args.dry_run,
        received_at: chrono::Utc::now(),
        today: clock.today(),
    };
    let report = siseri_import::import(
        store,
        &args.file,
        &request,
        &sender,
        Arc::new(Progress::default()),
    )
    .await
    .map_err(|e| match e {
        ImportError::Forbidden(m) => CliError::Refused(format!("FORMAT_NON_AUTORISE : {m}")),
        ImportError::Store(s) => CliError::from(s),
        ImportError::Io(e) => CliError::Refused(format!("{} : {e}", args.file.display())),
    })?;
    if report.transmission.is_some() {
        siseri_server::notifications::sweep_now(
            store,
            &siseri_server::notifications::public_url_of_environment(),
        )
        .await;
    }
    let mut out = std::io::stdout().lock();
    let written = match args.report {
        ReportForm::Json => serde_json::to_string_pretty(&report)
            .map_err(|e| CliError::Internal(e.to_string()))
            .and_then(|t| writeln!(out, "{t}").map_err(|e| CliError::Internal(e.to_string()))),
        ReportForm::Csv => write_csv(store, &args.file, &request, &report, &mut out).await,
    };
    written?;
    match report.refusal() {
        Some(code) => Err(CliError::Refused(format!("fichier refusé : {code}"))),
        None => Ok(()),
    }
}

async fn write_csv(
    store: &dyn Store,
    file: &std::path::Path,
    request: &Request,
    report: &siseri_import::Report,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let io = |e: std::io::Error| CliError::Internal(e.to_string());
    // A stored transmission's report comes from what the registry kept; a dry run's from the
    // file itself.
    let stored = match report.transmission {
        Some(id) => store.transmission(id).await?,
        None => None,
    };
    if let Some(row) = stored {
        let path = write_csv_report(store, &row)
            .await
            .map_err(|e| CliError::Internal(e.to_string()))?;
        let mut f = std::fs::File::open(&*path).map_err(io)?;
        std::io::copy(&mut f, out).map_err(io)?;
        return Ok(());
    }
    let input = std::io::BufReader::new(std::fs::File::open(file).map_err(io)?);
    siseri_import::report::write_csv(
        request.format,
        request.json,
        input,
        report,
        &report.lines,
        out,
    )
    .map_err(io)?;
    Ok(())
}
