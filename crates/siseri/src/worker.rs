//! `siseri worker NIR --as LOGIN`: a worker's record as that account may see it,
//! through the same access policy and journal as the API. A worker the account may
//! not see is reported exactly as an unknown NIR (same message, same exit status).

use siseri_domain::Clock;
use siseri_domain::ids::Nir;
use siseri_server::caller::Caller;
use siseri_server::records::{Refusal, read_worker_at};
use siseri_storage::Store;

use crate::CliError;
use crate::cli::WorkerArgs;

/// The one message for an unknown NIR and a worker the account may not see.
pub const NOT_FOUND: &str =
    "travailleur introuvable (NIR inconnu du registre, ou dossier non accessible à ce compte)";

/// Shows the record.
pub async fn show(store: &dyn Store, clock: Clock, args: &WorkerArgs) -> Result<(), CliError> {
    let nir = Nir::parse(args.nir.trim()).map_err(|_| {
        CliError::Refused("NIR : 13 caractères attendus (NIR ou NIA sans clé)".into())
    })?;
    let account = store.account(args.as_login.trim()).await?.ok_or_else(|| {
        CliError::Refused(format!(
            "--as : compte « {} » inconnu",
            args.as_login.trim()
        ))
    })?;
    let mission = args
        .mission
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_string);
    let caller = Caller {
        account,
        session: None,
        mission,
    };
    let au = match args.au.as_deref().map(str::trim) {
        None | Some("") => siseri_domain::totals::Month::of(clock.today()),
        Some(m) => siseri_domain::totals::Month::parse(m)
            .ok_or_else(|| CliError::Refused("--au : mois AAAA-MM attendu".into()))?,
    };
    match read_worker_at(store, clock, &caller, &nir, au).await? {
        Ok(record) => {
            let json = serde_json::to_value(&record).map_err(|e| CliError::Internal(e.to_string()))?;
            if args.json {
                let text = serde_json::to_string_pretty(&json).map_err(|e| CliError::Internal(e.to_string()))?;
                println!("{text}");
            } else {
                let field = |k: &str| json[k].as_str().unwrap_or_default().to_string();
                println!("{} {} — né(e) le {} — sexe {}", field("nom"), field("prenom"), field("date_naissance"), field("sexe"));
                for a in json["rattachements"].as_array().into_iter().flatten() {
                    println!(
                        "  rattachement {} du {} au {} ({})",
                        a["siret"].as_str().unwrap_or_default(),
                        a["date_debut"].as_str().unwrap_or_default(),
                        a["date_fin"].as_str().unwrap_or("en cours"),
                        a["classement"].as_str().or(a["autre_exposition"].as_str()).unwrap_or_default()
                    );
                }
            }
            Ok(())
        }
        Err(Refusal::NotFound) => Err(CliError::Refused(NOT_FOUND.into())),
        Err(Refusal::MissionRequired) => Err(CliError::Refused(
            "mission requise : indiquez la référence de votre mission (--mission) avant toute consultation".into(),
        )),
    }
}
