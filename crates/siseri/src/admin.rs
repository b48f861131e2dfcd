//! `siseri admin …`: accounts, establishments, designations and API tokens.

use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};
use siseri_domain::Clock;
use siseri_domain::account::{NewAccount, Role};
use siseri_domain::codes::Nature;
use siseri_domain::ids::{Nir, Rpps, Siren, Siret};
use siseri_domain::journal::JournalEvent;
use siseri_domain::worker::DesignationRole;
use siseri_storage::{NewDesignation, NewEstablishment, Store};

use crate::CliError;

/// `siseri admin` subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Comptes.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Établissements.
    #[command(subcommand)]
    Establishment(EstablishmentCommand),
    /// Désigne un médecin du travail (MDT) ou un conseiller en radioprotection (CRP) sur un établissement.
    Designate(DesignateArgs),
    /// Émet un nouveau jeton d'API pour un compte (affiché une seule fois).
    Token(TokenArgs),
    /// Révoque un jeton d'API d'un compte.
    RevokeToken(RevokeTokenArgs),
    /// Délègue l'accès d'un médecin du travail à un professionnel de santé.
    Delegate(DelegateArgs),
    /// Révoque une délégation.
    RevokeDelegation(IdArgs),
    /// Désigne le médecin d'un travailleur (demande du travailleur ou de ses ayants droit).
    Grant(GrantArgs),
    /// Révoque la désignation d'un médecin.
    RevokeGrant(IdArgs),
    /// Fixe les natures pour lesquelles un organisme est accrédité.
    Accredit(AccreditArgs),
    /// Émet un code d'inscription (7 jours, usage unique) pour lier un compte à une identité fédérée.
    Enrol(LoginArgs),
    /// Liste les lignes en attente de rapprochement, avec les travailleurs suggérés.
    Pending(PendingArgs),
    /// Recalcule les totaux mensuels et les alertes de tous les travailleurs depuis leurs résultats.
    Recompute,
    /// Traite une ligne en attente : --attach NIR (rattacher) ou --reject MOTIF (rejeter).
    Resolve(ResolveArgs),
}

/// Options of `admin pending`.
#[derive(Debug, Args)]
pub struct PendingArgs {
    /// Aussi les lignes déjà traitées.
    #[arg(long)]
    pub all: bool,
    /// Sortie JSON (celle de l'API).
    #[arg(long)]
    pub json: bool,
}

/// Options of `admin resolve`.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// Numéro de la ligne en attente.
    pub id: i64,
    /// Rattacher la ligne au travailleur de ce NIR.
    #[arg(long, conflicts_with = "reject", required_unless_present = "reject")]
    pub attach: Option<String>,
    /// Rejeter la ligne pour ce motif (REJET_GESTIONNAIRE).
    #[arg(long)]
    pub reject: Option<String>,
    /// Avec --attach : corriger aussi l'identité du travailleur d'après la ligne (l'ancienne
    /// est conservée dans son historique).
    #[arg(long, requires = "attach")]
    pub correct_identity: bool,
}

/// Options of `admin revoke-token`.
#[derive(Debug, Args)]
pub struct RevokeTokenArgs {
    /// Compte.
    #[arg(long)]
    pub login: String,
    /// Numéro du jeton.
    #[arg(long)]
    pub id: i64,
}

/// Options of `admin delegate`.
#[derive(Debug, Args)]
pub struct DelegateArgs {
    /// Le médecin du travail qui délègue.
    #[arg(long)]
    pub mdt: String,
    /// Le professionnel de santé délégataire.
    #[arg(long)]
    pub to: String,
    /// Lecture et écriture (sinon lecture seule).
    #[arg(long)]
    pub write: bool,
}

/// An id.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// Numéro.
    #[arg(long)]
    pub id: i64,
}

/// Options of `admin grant`.
#[derive(Debug, Args)]
pub struct GrantArgs {
    /// NIR du travailleur (13 caractères).
    #[arg(long)]
    pub nir: String,
    /// Compte MEDECIN_DESIGNE du médecin.
    #[arg(long)]
    pub doctor: String,
}

/// Options of `admin accredit`.
#[derive(Debug, Args)]
pub struct AccreditArgs {
    /// Compte ORGANISME.
    #[arg(long)]
    pub login: String,
    /// Natures, séparées par des virgules (EXTERNE, INTERNE_VIVO, INTERNE_VITRO, RADON, COSMIQUE).
    #[arg(long, value_delimiter = ',')]
    pub natures: Vec<String>,
}

/// A login.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Compte.
    #[arg(long)]
    pub login: String,
}

/// `siseri admin account` subcommands.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Crée un compte.
    Add(Box<AccountAddArgs>),
    /// Liste les comptes.
    List(ListArgs),
}

/// `siseri admin establishment` subcommands.
#[derive(Debug, Subcommand)]
pub enum EstablishmentCommand {
    /// Déclare un établissement (et son entreprise si elle est nouvelle).
    Add(EstablishmentAddArgs),
    /// Liste les établissements.
    List(ListArgs),
}

/// Options of `admin account add`.
#[derive(Debug, Args)]
pub struct AccountAddArgs {
    /// Identifiant de connexion (minuscules, chiffres, . _ - @).
    #[arg(long)]
    pub login: String,
    /// Rôle : TRAVAILLEUR, MEDECIN_DESIGNE, MDT, PROFESSIONNEL_SANTE, CRP, EMPLOYEUR, ORGANISME,
    /// EXPLOITANT_INB, AGENT_CONTROLE, ADMIN, MINISTERE, CHERCHEUR.
    #[arg(long)]
    pub role: String,
    /// SIREN de l'organisation (obligatoire pour EMPLOYEUR, ORGANISME, EXPLOITANT_INB).
    #[arg(long)]
    pub siren: Option<String>,
    /// SIRET des établissements auxquels le compte est limité (répétable).
    #[arg(long = "siret")]
    pub sirets: Vec<String>,
    /// Numéro RPPS (obligatoire pour MDT).
    #[arg(long)]
    pub rpps: Option<String>,
    /// NIR (13 caractères) du travailleur titulaire d'un compte TRAVAILLEUR.
    #[arg(long)]
    pub nir: Option<String>,
    /// Natures pour lesquelles un ORGANISME est accrédité, séparées par des virgules.
    #[arg(long, value_delimiter = ',')]
    pub natures: Vec<String>,
    /// Adresse électronique (notifications).
    #[arg(long)]
    pub email: Option<String>,
    /// Compte correspondant de l'employeur (déclare, ne désigne pas).
    #[arg(long)]
    pub correspondant: bool,
    /// Mot de passe (12 caractères au moins, 15 pour les rôles à second facteur).
    #[arg(long, env = "SISERI_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

/// `--json` for listings.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Sortie JSON (pour les programmes).
    #[arg(long)]
    pub json: bool,
}

/// Options of `admin establishment add`.
#[derive(Debug, Args)]
pub struct EstablishmentAddArgs {
    /// SIRET (14 chiffres).
    #[arg(long)]
    pub siret: String,
    /// Nom de l'établissement.
    #[arg(long)]
    pub name: String,
    /// L'établissement comporte une installation nucléaire de base.
    #[arg(long)]
    pub inb: bool,
    /// Nom de l'entreprise, si elle est nouvelle (par défaut : le nom de l'établissement).
    #[arg(long)]
    pub company_name: Option<String>,
}

/// Options of `admin designate`.
#[derive(Debug, Args)]
pub struct DesignateArgs {
    /// MDT ou CRP.
    #[arg(long)]
    pub role: String,
    /// Compte désigné.
    #[arg(long)]
    pub login: String,
    /// Établissement.
    #[arg(long)]
    pub siret: String,
    /// Premier jour (AAAA-MM-JJ).
    #[arg(long)]
    pub from: String,
    /// Dernier jour (AAAA-MM-JJ), si connu.
    #[arg(long)]
    pub to: Option<String>,
}

/// Options of `admin token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Compte.
    #[arg(long)]
    pub login: String,
    /// Durée de validité en jours (90 au plus).
    #[arg(long, default_value_t = siseri_server::auth::TOKEN_MAX_DAYS)]
    pub days: i64,
}

/// The journal entry of an administrative write made on the command line: the actor
/// is the operating-system account running it.
pub fn cli_event(data_kind: &str, detail: String) -> JournalEvent {
    let user = std::env::var("USER").unwrap_or_else(|_| "inconnu".to_string());
    let mut e = JournalEvent::new(Utc::now(), &format!("cli:{user}"), "ECRITURE", data_kind);
    e.role = Some(Role::Admin.code().to_string());
    e.detail = Some(detail);
    e
}

async fn pending(p: PendingArgs, store: &dyn Store) -> Result<(), CliError> {
    let views = siseri_import::queue::list(store, !p.all).await?;
    let mut event = cli_event(
        "FILE_ATTENTE",
        format!("{} lignes de la file d'attente", views.len()),
    );
    event.action = "LECTURE".into();
    event.worker_ids = siseri_import::queue::shown_workers(&views);
    store.append_journal(&[event]).await?;
    if p.json {
        let text =
            serde_json::to_string_pretty(&views).map_err(|e| CliError::Internal(e.to_string()))?;
        println!("{text}");
        return Ok(());
    }
    if views.is_empty() {
        println!("Aucune ligne en attente.");
    }
    for v in views {
        println!(
            "n° {} — transmission {} ligne {} ({}, {}) : {} [{}]{}",
            v.id,
            v.transmission,
            v.ligne,
            v.format,
            v.login,
            v.codes.join(", "),
            v.conflits.join(", "),
            v.resolution
                .as_deref()
                .map(|r| format!(" — traitée : {r}"))
                .unwrap_or_default()
        );
        for s in v.suggestions {
            println!(
                "    suggestion {} : {} {} {} né(e) le {}",
                s.raison, s.nir, s.nom, s.prenom, s.date_naissance
            );
        }
    }
    Ok(())
}

async fn resolve(r: ResolveArgs, store: &dyn Store, clock: Clock) -> Result<(), CliError> {
    use siseri_import::queue::{Decision, QueueError};
    let decision = match (r.attach, r.reject) {
        (Some(nir), _) => {
            let nir = siseri_domain::Nir::parse(nir.trim())
                .map_err(|_| refused("--attach : NIR de 13 caractères attendu"))?;
            if r.correct_identity {
                Decision::AttachAndCorrect(nir)
            } else {
                Decision::Attach(nir)
            }
        }
        (None, Some(reason)) => Decision::Reject(reason),
        (None, None) => return Err(refused("--attach NIR ou --reject MOTIF attendu")),
    };
    let user = std::env::var("USER").unwrap_or_else(|_| "inconnu".to_string());
    let outcome = siseri_import::queue::resolve(
        store,
        r.id,
        &decision,
        &format!("cli:{user}"),
        clock.today(),
    )
    .await
    .map_err(|e| match e {
        QueueError::Store(s) => CliError::from(s),
        other => refused(other),
    })?;
    println!(
        "Ligne {} : {}{}",
        outcome.line,
        outcome.status,
        if outcome.codes.is_empty() {
            String::new()
        } else {
            format!(" ({})", outcome.codes.join(", "))
        }
    );
    Ok(())
}

fn refused(e: impl std::fmt::Display) -> CliError {
    CliError::Refused(e.to_string())
}

fn iso_date(field: &str, s: &str) -> Result<NaiveDate, CliError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| CliError::Refused(format!("{field} : date attendue au format AAAA-MM-JJ")))
}

/// Runs an admin command.
pub async fn run(cmd: AdminCommand, store: &dyn Store, clock: Clock) -> Result<(), CliError> {
    match cmd {
        AdminCommand::Account(AccountCommand::Add(a)) => account_add(*a, store).await,
        AdminCommand::Account(AccountCommand::List(l)) => account_list(l, store).await,
        AdminCommand::Establishment(EstablishmentCommand::Add(e)) => {
            establishment_add(e, store).await
        }
        AdminCommand::Establishment(EstablishmentCommand::List(l)) => {
            establishment_list(l, store).await
        }
        AdminCommand::Designate(d) => designate(d, store, clock).await,
        AdminCommand::Token(t) => token(t, store).await,
        AdminCommand::RevokeToken(r) => {
            let audit = cli_event(
                "JETON_API",
                format!("révocation du jeton {} de {}", r.id, r.login),
            );
            if store
                .revoke_token(r.login.trim(), r.id, Utc::now(), &audit)
                .await?
            {
                println!("Jeton {} révoqué.", r.id);
                Ok(())
            } else {
                Err(CliError::Refused(format!(
                    "--id : aucun jeton actif n° {} pour {}",
                    r.id, r.login
                )))
            }
        }
        AdminCommand::Delegate(d) => delegate(d, store).await,
        AdminCommand::Pending(p) => pending(p, store).await,
        AdminCommand::Recompute => {
            let user = std::env::var("USER").unwrap_or_else(|_| "inconnu".to_string());
            let done =
                siseri_import::alerts::recompute(store, &format!("cli:{user}"), clock.today())
                    .await?;
            println!(
                "Totaux et alertes recalculés : {} travailleurs, {} alertes levées.",
                done.workers, done.raised
            );
            Ok(())
        }
        AdminCommand::Resolve(r) => resolve(r, store, clock).await,
        AdminCommand::RevokeDelegation(i) => {
            let audit = cli_event(
                "DELEGATION",
                format!("révocation de la délégation {}", i.id),
            );
            if store.revoke_delegation(i.id, Utc::now(), &audit).await? {
                println!("Délégation {} révoquée.", i.id);
                Ok(())
            } else {
                Err(CliError::Refused(format!(
                    "--id : aucune délégation active n° {}",
                    i.id
                )))
            }
        }
        AdminCommand::Grant(g) => grant(g, store).await,
        AdminCommand::RevokeGrant(i) => {
            let audit = cli_event(
                "MEDECIN_DESIGNE",
                format!("révocation de la désignation {}", i.id),
            );
            if store.revoke_grant(i.id, Utc::now(), &audit).await? {
                println!("Désignation {} révoquée.", i.id);
                Ok(())
            } else {
                Err(CliError::Refused(format!(
                    "--id : aucune désignation active n° {}",
                    i.id
                )))
            }
        }
        AdminCommand::Accredit(a) => {
            let natures = a
                .natures
                .iter()
                .filter(|n| !n.trim().is_empty())
                .map(|n| match Nature::parse(n) {
                    Some(n) if n.is_accreditable() => Ok(n),
                    _ => Err(CliError::Refused(format!(
                        "--natures : « {n} » n'est pas une nature accréditable"
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let codes: Vec<&str> = natures.iter().map(|n| n.code()).collect();
            let audit = cli_event(
                "ACCREDITATION",
                format!("{} : {}", a.login, codes.join(",")),
            );
            store.set_natures(a.login.trim(), &natures, &audit).await?;
            println!(
                "Organisme {} accrédité pour : {}.",
                a.login.trim(),
                codes.join(", ")
            );
            Ok(())
        }
        AdminCommand::Enrol(l) => {
            let (codes, hashes) = siseri_server::auth::new_recovery_codes();
            let (Some(code), Some(hash)) = (codes.first(), hashes.first()) else {
                return Err(CliError::Internal("génération du code".into()));
            };
            let expires = Utc::now() + chrono::Duration::days(7);
            let audit = cli_event(
                "INSCRIPTION",
                format!("code d'inscription pour {}", l.login.trim()),
            );
            store
                .set_enrolment(l.login.trim(), hash, expires, &audit)
                .await?;
            println!("{code}");
            eprintln!(
                "Code d'inscription valable 7 jours, une seule fois ; il ne sera plus affiché."
            );
            Ok(())
        }
    }
}

/// Builds and validates an account from the options (no I/O).
pub fn account_from_args(a: &AccountAddArgs) -> Result<NewAccount, CliError> {
    let role = Role::parse(&a.role).ok_or_else(|| {
        let all: Vec<_> = Role::ALL.iter().map(|r| r.code()).collect();
        CliError::Refused(format!(
            "--role : rôle inconnu, valeurs admises {}",
            all.join(", ")
        ))
    })?;
    let mut account = NewAccount::new(a.login.trim(), role);
    account.siren = a
        .siren
        .as_deref()
        .map(Siren::parse)
        .transpose()
        .map_err(refused)?;
    account.sirets = a
        .sirets
        .iter()
        .map(|s| Siret::parse(s.trim()))
        .collect::<Result<_, _>>()
        .map_err(refused)?;
    account.rpps = a
        .rpps
        .as_deref()
        .map(Rpps::parse)
        .transpose()
        .map_err(refused)?;
    account.nir = a
        .nir
        .as_deref()
        .map(|n| Nir::parse(n.trim()))
        .transpose()
        .map_err(refused)?;
    account.natures = a
        .natures
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| n.parse::<Nature>().map_err(refused))
        .collect::<Result<_, _>>()?;
    account.email = a.email.clone();
    account.correspondent = a.correspondant;
    account.validate().map_err(refused)?;
    if let Some(p) = &a.password {
        // The rules of the pages and the API: length by role, common passwords, login.
        siseri_server::auth::check_password(role, &account.login, p)
            .map_err(|e| CliError::Refused(format!("--password : {e}")))?;
    }
    Ok(account)
}

async fn account_add(a: AccountAddArgs, store: &dyn Store) -> Result<(), CliError> {
    let account = account_from_args(&a)?;
    for s in &account.sirets {
        if store.establishment(s).await?.is_none() {
            return Err(CliError::Refused(format!(
                "--siret {s} : établissement inconnu du registre"
            )));
        }
    }
    let hash = match a.password {
        Some(p) => Some(
            tokio::task::spawn_blocking(move || siseri_server::auth::hash_password(&p))
                .await
                .map_err(|e| CliError::Internal(e.to_string()))?
                .map_err(|e| CliError::Internal(e.to_string()))?,
        ),
        None => None,
    };
    let audit = cli_event(
        "COMPTE",
        format!("création du compte {} ({})", account.login, account.role),
    );
    let stored = store.add_account(&account, hash.as_deref(), &audit).await?;
    println!(
        "Compte {} créé (rôle {}).",
        stored.spec.login, stored.spec.role
    );
    Ok(())
}

async fn account_list(l: ListArgs, store: &dyn Store) -> Result<(), CliError> {
    let accounts = store.accounts().await?;
    if l.json {
        let json = serde_json::to_string_pretty(&accounts)
            .map_err(|e| CliError::Internal(e.to_string()))?;
        println!("{json}");
        return Ok(());
    }
    println!(
        "{:<24} {:<20} {:<10} PÉRIMÈTRE",
        "IDENTIFIANT", "RÔLE", "SIREN"
    );
    for a in accounts {
        let s = &a.spec;
        let mut scope: Vec<String> = s.sirets.iter().map(|x| format!("SIRET {x}")).collect();
        scope.extend(s.rpps.iter().map(|r| format!("RPPS {r}")));
        scope.extend(s.nir.iter().map(|_| "NIR renseigné".to_string()));
        if !s.natures.is_empty() {
            scope.push(format!(
                "natures {}",
                s.natures
                    .iter()
                    .map(|n| n.code())
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        if s.correspondent {
            scope.push("correspondant".into());
        }
        let siren = s.siren.as_ref().map(|x| x.to_string()).unwrap_or_default();
        println!(
            "{:<24} {:<20} {:<10} {}",
            s.login,
            s.role.code(),
            siren,
            scope.join(" ; ")
        );
    }
    Ok(())
}

async fn establishment_add(e: EstablishmentAddArgs, store: &dyn Store) -> Result<(), CliError> {
    let siret = Siret::parse(e.siret.trim()).map_err(refused)?;
    let name = e.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(CliError::Refused("--name : 1 à 200 caractères".into()));
    }
    let new = NewEstablishment {
        siret,
        company_name: e.company_name.clone().unwrap_or_else(|| name.clone()),
        name,
        inb: e.inb,
    };
    let audit = cli_event(
        "ETABLISSEMENT",
        format!("création de l'établissement {}", new.siret),
    );
    let created = store.add_establishment(&new, &audit).await?;
    println!(
        "Établissement {} « {} » créé{}.",
        created.siret,
        created.name,
        if created.inb { " (INB)" } else { "" }
    );
    Ok(())
}

async fn establishment_list(l: ListArgs, store: &dyn Store) -> Result<(), CliError> {
    let all = store.establishments().await?;
    if l.json {
        let json =
            serde_json::to_string_pretty(&all).map_err(|e| CliError::Internal(e.to_string()))?;
        println!("{json}");
        return Ok(());
    }
    for e in all {
        println!(
            "{} {}{}",
            e.siret,
            e.name,
            if e.inb { " (INB)" } else { "" }
        );
    }
    Ok(())
}

async fn designate(d: DesignateArgs, store: &dyn Store, _clock: Clock) -> Result<(), CliError> {
    let role = DesignationRole::parse(&d.role)
        .ok_or_else(|| CliError::Refused("--role : MDT ou CRP attendu".into()))?;
    let siret = Siret::parse(d.siret.trim()).map_err(refused)?;
    let from = iso_date("--from", &d.from)?;
    let to = d.to.as_deref().map(|t| iso_date("--to", t)).transpose()?;
    if to.is_some_and(|t| t < from) {
        return Err(CliError::Refused(
            "--to : date postérieure ou égale à --from attendue".into(),
        ));
    }
    let account = store
        .account(d.login.trim())
        .await?
        .ok_or_else(|| CliError::Refused(format!("--login : compte {} inconnu", d.login.trim())))?;
    let expected = match role {
        DesignationRole::Physician => Role::Mdt,
        DesignationRole::Advisor => Role::Crp,
    };
    if account.spec.role != expected {
        return Err(CliError::Refused(format!(
            "--login : le compte {} a le rôle {}, une désignation {} exige le rôle {}",
            account.spec.login,
            account.spec.role,
            role.code(),
            expected
        )));
    }
    if store.establishment(&siret).await?.is_none() {
        return Err(CliError::Refused(format!(
            "--siret {siret} : établissement inconnu du registre"
        )));
    }
    let new = NewDesignation {
        login: account.spec.login.clone(),
        role,
        siret,
        date_debut: from,
        date_fin: to,
    };
    let audit = cli_event(
        "DESIGNATION",
        format!(
            "désignation {} de {} sur {}",
            role.code(),
            new.login,
            new.siret
        ),
    );
    let created = store.add_designation(&new, &audit).await?;
    println!(
        "{} désigné {} sur {} du {}{}.",
        created.login,
        created.role.code(),
        created.siret,
        created.date_debut,
        created
            .date_fin
            .map(|f| format!(" au {f}"))
            .unwrap_or_default()
    );
    Ok(())
}

async fn delegate(d: DelegateArgs, store: &dyn Store) -> Result<(), CliError> {
    let role_of = |a: Option<siseri_domain::Account>| a.map(|a| a.spec.role);
    if role_of(store.account(d.mdt.trim()).await?) != Some(Role::Mdt) {
        return Err(CliError::Refused(format!(
            "--mdt : aucun compte MDT « {} »",
            d.mdt.trim()
        )));
    }
    if role_of(store.account(d.to.trim()).await?) != Some(Role::ProfessionnelSante) {
        return Err(CliError::Refused(format!(
            "--to : aucun compte PROFESSIONNEL_SANTE « {} »",
            d.to.trim()
        )));
    }
    let scope = if d.write {
        "lecture et écriture"
    } else {
        "lecture"
    };
    let audit = cli_event(
        "DELEGATION",
        format!("délégation de {} à {} ({scope})", d.mdt.trim(), d.to.trim()),
    );
    let id = store
        .add_delegation(d.mdt.trim(), d.to.trim(), d.write, &audit)
        .await?;
    println!(
        "Délégation {id} : {} → {} ({scope}).",
        d.mdt.trim(),
        d.to.trim()
    );
    Ok(())
}

async fn grant(g: GrantArgs, store: &dyn Store) -> Result<(), CliError> {
    let nir = Nir::parse(g.nir.trim()).map_err(refused)?;
    match store.account(g.doctor.trim()).await? {
        Some(a) if a.spec.role == Role::MedecinDesigne => {}
        _ => {
            return Err(CliError::Refused(format!(
                "--doctor : aucun compte MEDECIN_DESIGNE « {} »",
                g.doctor.trim()
            )));
        }
    }
    let mut audit = cli_event(
        "MEDECIN_DESIGNE",
        format!("désignation du médecin {}", g.doctor.trim()),
    );
    if let Some(w) = store.worker(&nir).await? {
        audit.worker_ids = vec![w.id];
    }
    let id = store.add_grant(&nir, g.doctor.trim(), &audit).await?;
    println!(
        "Désignation {id} : {} peut consulter le dossier de ce travailleur.",
        g.doctor.trim()
    );
    Ok(())
}

async fn token(t: TokenArgs, store: &dyn Store) -> Result<(), CliError> {
    if !(1..=siseri_server::auth::TOKEN_MAX_DAYS).contains(&t.days) {
        return Err(CliError::Refused(format!(
            "--days : entre 1 et {} jours",
            siseri_server::auth::TOKEN_MAX_DAYS
        )));
    }
    if store.account(t.login.trim()).await?.is_none() {
        return Err(CliError::Refused(format!(
            "--login : compte {} inconnu",
            t.login.trim()
        )));
    }
    let (token, hash) = siseri_server::auth::new_token();
    let now = Utc::now();
    let audit = cli_event("JETON_API", format!("jeton d'API pour {}", t.login.trim()));
    let expires = now + chrono::Duration::days(t.days);
    store
        .add_token(t.login.trim(), &hash, expires, &audit)
        .await?;
    // The token alone on standard output, so that scripts can capture it.
    println!("{token}");
    eprintln!("Jeton valable {} jours ; il ne sera plus affiché.", t.days);
    Ok(())
}
