//! `siseri demo`: a small but realistic registry — a hospital, a nuclear power plant
//! (INB) with a maintenance contractor, an industrial radiography company and an
//! airline; ~200 workers; three years of monthly results from an accredited
//! laboratory; operational dosimetry at the plant; a physician's estimate and
//! correction; one exceedance of the 20 mSv limit — and one account per role.
//!
//! The data are generated from a fixed seed: two runs give the same registry.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use siseri_domain::Clock;
use siseri_domain::Nomenclature;
use siseri_domain::account::{NewAccount, Role};
use siseri_domain::codes::{
    ActivityCharacter, Classification, ContractType, DosimeterType, Nature, Nuisance,
    OperationalQuantity, OtherExposure, Position, Quantity, ResultStatus, Sex,
};
use siseri_domain::ids::{Nir, Rpps, Siren, Siret};
use siseri_domain::journal::JournalEvent;
use siseri_domain::result::{ReadingKey, ReadingValues, Reference, ResultValues, Sender};
use siseri_domain::worker::{AttachmentTerms, DesignationRole, NewWorker};
use siseri_storage::{NewDesignation, NewEstablishment, Store, WriteBatch, WriteOp};

use crate::CliError;
use crate::cli::DemoArgs;

/// The demo database, unless `--database` names another.
pub const DEFAULT_DATABASE: &str = "sqlite:siseri-demo.db";

/// Runs `siseri demo`.
pub async fn run(database: Option<&str>, args: &DemoArgs, clock: Clock) -> Result<(), CliError> {
    let store = crate::cli::open(database, DEFAULT_DATABASE).await?;
    let logins = if store.account("admin").await?.is_some() {
        eprintln!("Base de démonstration existante réutilisée.");
        accounts_table()
    } else {
        eprintln!("Création de la base de démonstration…");
        let summary = populate(store.as_ref(), clock).await?;
        eprintln!("{summary}");
        // The demo writes results directly: build their monthly sums and alerts as an
        // import would have.
        let done = siseri_import::alerts::recompute(store.as_ref(), "demo", clock.today()).await?;
        eprintln!(
            "Totaux et alertes calculés pour {} travailleurs ({} alertes).",
            done.workers, done.raised
        );
        held_line(store.as_ref(), clock).await?;
        accounts_table()
    };
    if args.no_serve {
        println!("{logins}");
        return Ok(());
    }
    crate::serve::serve(
        &args.listen,
        store,
        clock,
        args.oidc_config.as_deref(),
        &args.web,
        Some(logins),
    )
    .await
}

/// Sends, as the accredited laboratory, a result whose names do not match the demo
/// worker's: the line waits in the reconciliation queue (`IDENTITE_INCOHERENTE`) for an
/// administrator, as a real mistyped name would.
async fn held_line(store: &dyn Store, clock: Clock) -> Result<(), CliError> {
    let internal =
        |m: String| CliError::Internal(format!("ligne en attente de démonstration : {m}"));
    let account = store
        .account("organisme")
        .await?
        .ok_or_else(|| internal("compte organisme absent".into()))?;
    let nir = store
        .account("travailleur")
        .await?
        .and_then(|a| a.spec.nir)
        .ok_or_else(|| internal("travailleur absent".into()))?;
    let worker = store
        .worker(&nir)
        .await?
        .ok_or_else(|| internal("travailleur absent".into()))?;
    let siret = store
        .attachments(&nir)
        .await?
        .into_iter()
        .next()
        .map(|a| a.siret)
        .ok_or_else(|| internal("rattachement absent".into()))?;
    let month = month_start(add_months(clock.today(), -1));
    let end = add_months(month, 1) - Duration::days(1);
    let file = tempfile::NamedTempFile::new().map_err(|e| internal(e.to_string()))?;
    let csv = format!(
        "REFERENCE;NIR;CLE;NOM;PRENOM;DATENAISSANCE;SEXE;SIRET;NATURE;GRANDEUR;POSITION;DATE_DEBUT;DATE_FIN;STATUT;VALEUR;SEUIL;CODE_METROLOGIE\n\
         DEMO-ATTENTE-1;{nir};{key:02};{nom}E;{prenom};{birth};{sex};{siret};EXTERNE;HP10;;{from};{to};MESURE;0,15;0,05;\n",
        nir = nir.as_str(),
        key = nir.key(),
        nom = worker.nom,
        prenom = worker.prenom,
        birth = worker.date_naissance.format("%d/%m/%Y"),
        sex = worker.sexe.code(),
        from = month.format("%d/%m/%Y"),
        to = end.format("%d/%m/%Y"),
    );
    std::fs::write(file.path(), csv).map_err(|e| internal(e.to_string()))?;
    let caller = siseri_server::caller::Caller {
        account,
        session: None,
        mission: None,
    };
    let sender = siseri_server::transmissions::sender_info(store, &caller).await?;
    let request = siseri_import::Request {
        format: siseri_domain::codes::TransmissionFormat::Results,
        json: false,
        encoding: Default::default(),
        dry_run: false,
        received_at: Utc::now(),
        today: clock.today(),
    };
    let report = siseri_import::import(
        store,
        file.path(),
        &request,
        &sender,
        std::sync::Arc::new(siseri_import::Progress::default()),
    )
    .await
    .map_err(|e| internal(e.to_string()))?;
    eprintln!(
        "Une transmission du laboratoire avec une ligne en attente de rapprochement (n° {}).",
        report.transmission.unwrap_or_default()
    );
    Ok(())
}

/// Deterministic pseudo-random numbers (SplitMix64): the demo must not change
/// between runs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// The digit that makes `payload` + digit pass the Luhn check.
fn luhn_digit(payload: &str) -> char {
    for d in b'0'..=b'9' {
        let candidate = format!("{payload}{}", d as char);
        let sum: u32 = candidate
            .bytes()
            .rev()
            .enumerate()
            .map(|(i, b)| {
                let v = u32::from(b - b'0');
                if i % 2 == 1 {
                    if v * 2 > 9 { v * 2 - 9 } else { v * 2 }
                } else {
                    v
                }
            })
            .sum();
        if sum.is_multiple_of(10) {
            return d as char;
        }
    }
    '0'
}

fn siret_of(siren_base8: &str, nic4: &str) -> Result<Siret, CliError> {
    let siren = format!("{siren_base8}{}", luhn_digit(siren_base8));
    let payload = format!("{siren}{nic4}");
    let siret = format!("{payload}{}", luhn_digit(&payload));
    Siret::parse(&siret)
        .map_err(|e| CliError::Internal(format!("SIRET de démonstration {siret} : {e}")))
}

fn rpps_of(base10: &str) -> Result<Rpps, CliError> {
    let s = format!("{base10}{}", luhn_digit(base10));
    Rpps::parse(&s).map_err(|e| CliError::Internal(format!("RPPS de démonstration {s} : {e}")))
}

const SURNAMES: &[&str] = &[
    "MARTIN",
    "BERNARD",
    "THOMAS",
    "PETIT",
    "ROBERT",
    "RICHARD",
    "DURAND",
    "DUBOIS",
    "MOREAU",
    "LAURENT",
    "SIMON",
    "MICHEL",
    "LEFEBVRE",
    "LEROY",
    "ROUX",
    "DAVID",
    "BERTRAND",
    "MOREL",
    "FOURNIER",
    "GIRARD",
    "BONNET",
    "DUPONT",
    "LAMBERT",
    "FONTAINE",
    "ROUSSEAU",
    "VINCENT",
    "MULLER",
    "LEFEVRE",
    "FAURE",
    "ANDRE",
    "MERCIER",
    "BLANC",
    "GUERIN",
    "BOYER",
    "GARNIER",
    "CHEVALIER",
    "FRANCOIS",
    "LEGRAND",
    "GAUTHIER",
    "GARCIA",
    "PERRIN",
    "ROBIN",
    "CLEMENT",
    "MORIN",
    "NICOLAS",
    "HENRY",
    "ROUSSEL",
    "MATHIEU",
    "GAUTIER",
    "MASSON",
    "LE GALL",
    "N'DIAYE",
    "SAINT-JEAN",
    "DA SILVA",
];
const FEMALE: &[&str] = &[
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Sarah",
    "Julie",
    "Claire",
    "Élodie",
    "Nathalie",
    "Sophie",
    "Aurélie",
    "Émilie",
    "Hélène",
    "Anne-Laure",
    "Maëlle",
    "Océane",
    "Zoé",
];
const MALE: &[&str] = &[
    "Thomas",
    "Nicolas",
    "Julien",
    "Maxime",
    "Antoine",
    "Hugo",
    "Lucas",
    "Romain",
    "Jérôme",
    "François",
    "Stéphane",
    "Mathieu",
    "Jean-Pierre",
    "Loïc",
    "Benoît",
    "Karim",
    "Yannick",
    "Cédric",
];
const DEPARTMENTS: &[&str] = &["69", "13", "75", "38", "26", "2A", "2B", "59", "33", "99"];

/// A population of the demo: where it works and how it is exposed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Population {
    Hospital,
    NuclearMedicine,
    Plant,
    Contractor,
    Radiography,
    Aircrew,
}

struct Site {
    siret: Siret,
    name: &'static str,
    company: &'static str,
    inb: bool,
}

struct Sites {
    hospital_north: Siret,
    hospital_south: Siret,
    plant: Siret,
    contractor: Siret,
    radiography: Siret,
    airline: Siret,
    lab: Siren,
}

fn sites() -> Result<(Vec<Site>, Sites), CliError> {
    let s = Sites {
        hospital_north: siret_of("26690001", "0011")?,
        hospital_south: siret_of("26690001", "0029")?,
        plant: siret_of("51234567", "0015")?,
        contractor: siret_of("38765432", "0012")?,
        radiography: siret_of("41234568", "0017")?,
        airline: siret_of("42345678", "0010")?,
        lab: siret_of("30123456", "0018")?.siren(),
    };
    let list = vec![
        Site {
            siret: s.hospital_north.clone(),
            name: "CHU de Valmont — site Nord (radiologie)",
            company: "Centre hospitalier universitaire de Valmont",
            inb: false,
        },
        Site {
            siret: s.hospital_south.clone(),
            name: "CHU de Valmont — site Sud (médecine nucléaire)",
            company: "Centre hospitalier universitaire de Valmont",
            inb: false,
        },
        Site {
            siret: s.plant.clone(),
            name: "Centrale nucléaire de Saint-Aubin-sur-Rhône",
            company: "Énergie Rhône Production",
            inb: true,
        },
        Site {
            siret: s.contractor.clone(),
            name: "Maintenance Nucléaire Services — agence Rhône",
            company: "Maintenance Nucléaire Services",
            inb: false,
        },
        Site {
            siret: s.radiography.clone(),
            name: "Contrôles Industriels du Rhône",
            company: "Contrôles Industriels du Rhône",
            inb: false,
        },
        Site {
            siret: s.airline.clone(),
            name: "Air Valmont — base de Lyon",
            company: "Air Valmont",
            inb: false,
        },
    ];
    Ok((list, s))
}

/// A valid (domain, sector, job) of the nomenclature for `sector`, preferring `job`.
fn triple(sector: &str, job: &str) -> Result<(String, String, String), CliError> {
    let n = Nomenclature::official();
    let mut first = None;
    for (d, s, j) in n.triples() {
        if s == sector {
            if j == job {
                return Ok((d.into(), s.into(), j.into()));
            }
            first.get_or_insert((d.to_string(), s.to_string(), j.to_string()));
        }
    }
    first.ok_or_else(|| CliError::Internal(format!("secteur {sector} absent de la nomenclature")))
}

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn month_end(d: NaiveDate) -> NaiveDate {
    let next = d.checked_add_months(chrono::Months::new(1)).unwrap_or(d);
    month_start(next).pred_opt().unwrap_or(d)
}

fn add_months(d: NaiveDate, n: i32) -> NaiveDate {
    if n >= 0 {
        d.checked_add_months(chrono::Months::new(n as u32))
            .unwrap_or(d)
    } else {
        d.checked_sub_months(chrono::Months::new(n.unsigned_abs()))
            .unwrap_or(d)
    }
}

/// The demo accounts: (login, role, what it shows).
const ACCOUNTS: &[(&str, Role, &str)] = &[
    ("admin", Role::Admin, "gestionnaire du registre"),
    (
        "travailleur",
        Role::Travailleur,
        "radiologue industriel ayant dépassé la limite de 20 mSv",
    ),
    (
        "medecin.designe",
        Role::MedecinDesigne,
        "médecin désigné par ce travailleur",
    ),
    (
        "mdt",
        Role::Mdt,
        "médecin du travail du CHU et de Contrôles Industriels du Rhône",
    ),
    (
        "infirmier",
        Role::ProfessionnelSante,
        "infirmier délégué par le médecin du travail",
    ),
    (
        "crp",
        Role::Crp,
        "conseiller en radioprotection de la centrale",
    ),
    ("employeur", Role::Employeur, "employeur : CHU de Valmont"),
    (
        "organisme",
        Role::Organisme,
        "laboratoire de dosimétrie accrédité",
    ),
    (
        "exploitant",
        Role::ExploitantInb,
        "exploitant de la centrale (INB)",
    ),
    ("inspecteur", Role::AgentControle, "inspecteur du travail"),
    ("ministere", Role::Ministere, "ministère du travail"),
    ("chercheur", Role::Chercheur, "chercheur sous convention"),
];

/// The demo TOTP secret of a login (deterministic, so that a reused demo database
/// prints the same secrets): base32 of the first 20 bytes of SHA-256.
pub fn demo_totp_secret(login: &str) -> String {
    use sha2::Digest;
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = sha2::Sha256::digest(format!("siseri-demo-totp-{login}").as_bytes());
    // 20 bytes = 160 bits = 32 base32 characters, no padding.
    let bits: Vec<u8> = digest
        .iter()
        .take(20)
        .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1))
        .collect();
    bits.chunks(5)
        .map(|c| char::from(ALPHABET[c.iter().fold(0usize, |acc, b| acc * 2 + usize::from(*b))]))
        .collect()
}

/// The demo password of a login: long enough for every role, never for production.
fn demo_password(login: &str) -> String {
    format!("siseri-demo-{login}")
}

fn accounts_table() -> String {
    let mut out = String::from("Comptes de démonstration (identifiant / mot de passe — rôle) :\n");
    for (login, role, what) in ACCOUNTS {
        out.push_str(&format!(
            "  {login:<16} {:<28} {} — {what}\n",
            demo_password(login),
            role.code()
        ));
        if role.requires_second_factor() {
            out.push_str(&format!(
                "  {:<16} second facteur (TOTP), clé : {}\n",
                "",
                demo_totp_secret(login)
            ));
        }
    }
    out.push_str("Ces mots de passe sont publics : n'utilisez jamais la démonstration avec des données réelles.");
    out
}

struct DemoWorker {
    identity: NewWorker,
    population: Population,
    siret: Siret,
    start: NaiveDate,
    end: Option<NaiveDate>,
}

fn make_workers(rng: &mut Rng, s: &Sites, today: NaiveDate) -> Vec<DemoWorker> {
    let plan = [
        (Population::Hospital, 55, &s.hospital_north),
        (Population::NuclearMedicine, 15, &s.hospital_south),
        (Population::Plant, 50, &s.plant),
        (Population::Contractor, 40, &s.contractor),
        (Population::Radiography, 20, &s.radiography),
        (Population::Aircrew, 20, &s.airline),
    ];
    let three_years_ago = month_start(add_months(today, -37));
    let mut out = Vec::new();
    for (population, count, siret) in plan {
        for i in 0..count {
            let female = rng.chance(if population == Population::Hospital {
                65
            } else {
                35
            });
            let birth = NaiveDate::from_ymd_opt(
                rng.range(1962, 2003) as i32,
                rng.range(1, 12) as u32,
                rng.range(1, 28) as u32,
            )
            .unwrap_or(NaiveDate::MIN);
            let dept = rng.pick(DEPARTMENTS);
            let nir = format!(
                "{}{:02}{:02}{}{:03}{:03}",
                if female { 2 } else { 1 },
                birth.year() % 100,
                birth.month(),
                dept,
                rng.range(1, 989),
                rng.range(1, 999)
            );
            let Ok(nir) = Nir::parse(&nir) else { continue };
            let prenom = if female {
                rng.pick(FEMALE)
            } else {
                rng.pick(MALE)
            };
            // Most started before the window; some joined or left during it.
            let start = if i % 7 == 3 {
                add_months(three_years_ago, rng.range(6, 24) as i32)
            } else {
                three_years_ago
            };
            let end =
                (i % 11 == 5).then(|| month_end(add_months(today, -(rng.range(3, 12) as i32))));
            out.push(DemoWorker {
                identity: NewWorker {
                    nir,
                    nom: rng.pick(SURNAMES).to_string(),
                    prenom: prenom.to_string(),
                    date_naissance: birth,
                    sexe: if female { Sex::F } else { Sex::M },
                },
                population,
                siret: siret.clone(),
                start,
                end,
            });
        }
    }
    // The first radiographer is the demo worker; keep him attached throughout.
    if let Some(w) = out
        .iter_mut()
        .find(|w| w.population == Population::Radiography)
    {
        w.end = None;
        w.start = three_years_ago;
    }
    out
}

fn terms_for(w: &DemoWorker) -> Result<AttachmentTerms, CliError> {
    let (sector, job, classement, autre, nuisance) = match w.population {
        Population::Hospital => (
            "101000",
            "MANIP",
            Some(Classification::B),
            None,
            Nuisance::External,
        ),
        Population::NuclearMedicine => (
            "106000",
            "MANIP",
            Some(Classification::B),
            None,
            Nuisance::Both,
        ),
        Population::Plant => (
            "506000",
            "AGTMAIN",
            Some(Classification::A),
            Some(OtherExposure::EmergencyGroup1),
            Nuisance::Both,
        ),
        Population::Contractor => (
            "510000",
            "ECHAFAU",
            Some(Classification::A),
            None,
            Nuisance::Both,
        ),
        Population::Radiography => (
            "301010",
            "OPRADIOMOB",
            Some(Classification::A),
            None,
            Nuisance::External,
        ),
        Population::Aircrew => (
            "401010",
            "HOT",
            None,
            Some(OtherExposure::Cosmic),
            Nuisance::External,
        ),
    };
    let (d, s, j) = triple(sector, job)?;
    Ok(AttachmentTerms {
        date_debut: w.start,
        date_fin: w.end,
        classement,
        autre_exposition: autre,
        caractere_activite: ActivityCharacter::Civil,
        code_domaine: d,
        code_secteur: s,
        code_metier: j,
        nuisance,
        type_contrat: if w.population == Population::Contractor {
            ContractType::FixedTerm
        } else {
            ContractType::Permanent
        },
        quotite_milliemes: if w.population == Population::Hospital
            && w.identity.nir.as_str().ends_with('7')
        {
            800
        } else {
            1000
        },
        groupe: None,
    })
}

fn demo_event(data_kind: &str) -> JournalEvent {
    let mut e = JournalEvent::new(Utc::now(), "demo", "ECRITURE", data_kind);
    e.detail = Some("données de démonstration".into());
    e
}

/// Fills an empty database; returns a one-line summary.
async fn populate(store: &dyn Store, clock: Clock) -> Result<String, CliError> {
    let today = clock.today();
    let now = Utc::now();
    let mut rng = Rng(0x5153_4552_4932_3032);
    let (site_list, s) = sites()?;
    for site in &site_list {
        let new = NewEstablishment {
            siret: site.siret.clone(),
            name: site.name.into(),
            inb: site.inb,
            company_name: site.company.into(),
        };
        store
            .add_establishment(&new, &demo_event("ETABLISSEMENT"))
            .await?;
    }
    // The accredited laboratory is a company of the registry too (its name shows as the
    // sender of results).
    let lab_site = NewEstablishment {
        siret: siret_of("30123456", "0018")?,
        name: "Laboratoire Dosimétrie Rhône-Alpes".into(),
        inb: false,
        company_name: "Dosimétrie Rhône-Alpes SAS".into(),
    };
    store
        .add_establishment(&lab_site, &demo_event("ETABLISSEMENT"))
        .await?;
    let workers = make_workers(&mut rng, &s, today);
    let demo_worker = workers
        .iter()
        .find(|w| w.population == Population::Radiography)
        .map(|w| w.identity.nir.clone())
        .ok_or_else(|| CliError::Internal("aucun travailleur de démonstration".into()))?;

    // Accounts and designations.
    let mdt_rpps = rpps_of("1000000123")?;
    let start = month_start(add_months(today, -37));
    for (login, role, _) in ACCOUNTS {
        let mut a = NewAccount::new(*login, *role);
        a.email = Some(format!("{login}@siseri-demo.example"));
        match role {
            Role::Travailleur => a.nir = Some(demo_worker.clone()),
            Role::Mdt => a.rpps = Some(mdt_rpps.clone()),
            Role::MedecinDesigne => a.rpps = Some(rpps_of("1000000456")?),
            Role::ProfessionnelSante => a.rpps = Some(rpps_of("1000000789")?),
            Role::Crp => a.siren = Some(s.plant.siren()),
            Role::Employeur => a.siren = Some(s.hospital_north.siren()),
            Role::Organisme => {
                a.siren = Some(s.lab.clone());
                a.natures = Nature::ALL
                    .iter()
                    .copied()
                    .filter(|n| n.is_accreditable())
                    .collect();
            }
            Role::ExploitantInb => {
                a.siren = Some(s.plant.siren());
                a.sirets = vec![s.plant.clone()];
            }
            _ => {}
        }
        a.validate()
            .map_err(|e| CliError::Internal(format!("compte {login} : {e}")))?;
        let password = demo_password(login);
        let hash =
            tokio::task::spawn_blocking(move || siseri_server::auth::hash_password(&password))
                .await
                .map_err(|e| CliError::Internal(e.to_string()))?
                .map_err(|e| CliError::Internal(e.to_string()))?;
        store
            .add_account(&a, Some(&hash), &demo_event("COMPTE"))
            .await?;
        if role.requires_second_factor() {
            let secret = demo_totp_secret(login);
            store
                .set_totp(login, &secret, &[], &demo_event("COMPTE"))
                .await?;
        }
    }
    for (login, role, siret) in [
        ("mdt", DesignationRole::Physician, &s.hospital_north),
        ("mdt", DesignationRole::Physician, &s.hospital_south),
        ("mdt", DesignationRole::Physician, &s.radiography),
        ("crp", DesignationRole::Advisor, &s.plant),
    ] {
        let d = NewDesignation {
            login: login.into(),
            role,
            siret: siret.clone(),
            date_debut: start,
            date_fin: None,
        };
        store
            .add_designation(&d, &demo_event("DESIGNATION"))
            .await?;
    }

    // Declarations by the employers.
    let mut declarations = WriteBatch::new("employeur", now);
    for w in &workers {
        declarations
            .ops
            .push(WriteOp::EnsureWorker(w.identity.clone()));
        declarations.ops.push(WriteOp::AddAttachment {
            nir: w.identity.nir.clone(),
            siret: w.siret.clone(),
            terms: terms_for(w)?,
        });
    }
    store.commit(&declarations).await?;

    // The physician has delegated reading and writing to the nurse of his service.
    store
        .add_delegation("mdt", "infirmier", true, &demo_event("DELEGATION"))
        .await?;

    // The demo worker has designated a doctor of his choice.
    store
        .add_grant(
            &demo_worker,
            "medecin.designe",
            &demo_event("MEDECIN_DESIGNE"),
        )
        .await?;

    // Three years of monthly results from the accredited laboratory.
    let lab = Sender::Organisation(s.lab.clone());
    let last_month = month_start(add_months(today, -1));
    let first_month = add_months(last_month, -35);
    let mut results = WriteBatch::new("organisme", now);
    let mut reference_no = 0u32;
    let mut next_ref = || {
        reference_no += 1;
        Reference::parse(&format!("DOSILAB-{reference_no:07}"))
            .map_err(|e| CliError::Internal(e.to_string()))
    };
    for w in &workers {
        let mut month = first_month.max(month_start(w.start));
        let last = w.end.map_or(last_month, |e| month_start(e).min(last_month));
        let is_demo = w.identity.nir == demo_worker;
        while month <= last {
            let end = month_end(month);
            let months_ago = (last_month.year() - month.year()) * 12 + last_month.month() as i32
                - month.month() as i32;
            let (nature, quantity, dose) = match w.population {
                Population::Hospital => (
                    Nature::External,
                    Quantity::Hp10,
                    if rng.chance(75) {
                        0
                    } else {
                        rng.range(50, 300)
                    },
                ),
                Population::NuclearMedicine => {
                    (Nature::External, Quantity::Hp10, rng.range(0, 400))
                }
                Population::Plant => (Nature::External, Quantity::Hp10, rng.range(0, 450)),
                Population::Contractor => (Nature::External, Quantity::Hp10, rng.range(0, 700)),
                Population::Radiography if is_demo && months_ago == 4 => {
                    (Nature::External, Quantity::Hp10, 16_800)
                }
                Population::Radiography => (
                    Nature::External,
                    Quantity::Hp10,
                    if is_demo {
                        rng.range(400, 900)
                    } else {
                        rng.range(100, 1_200)
                    },
                ),
                Population::Aircrew => (Nature::Cosmic, Quantity::E, rng.range(150, 480)),
            };
            let absent =
                months_ago == 0 && w.population == Population::Contractor && rng.chance(10);
            let values = ResultValues {
                date_debut: month,
                date_fin: end,
                statut: if absent {
                    ResultStatus::Absent
                } else if dose < 50 {
                    ResultStatus::BelowThreshold
                } else {
                    ResultStatus::Measured
                },
                dose_usv: if absent || dose < 50 {
                    None
                } else {
                    Some(dose)
                },
                seuil_usv: Some(50),
            };
            results.ops.push(WriteOp::AddResult {
                sender: lab.clone(),
                reference: next_ref()?,
                nir: w.identity.nir.clone(),
                siret: w.siret.clone(),
                nature,
                quantity,
                position: None,
                values,
                justification: None,
            });
            // Nuclear medicine: ring dosimeters on the right hand.
            if w.population == Population::NuclearMedicine {
                let dose = rng.range(800, 9_000);
                results.ops.push(WriteOp::AddResult {
                    sender: lab.clone(),
                    reference: next_ref()?,
                    nir: w.identity.nir.clone(),
                    siret: w.siret.clone(),
                    nature: Nature::External,
                    quantity: Quantity::Hp007Extremity,
                    position: Some(Position::RightHand),
                    values: ResultValues {
                        date_debut: month,
                        date_fin: end,
                        statut: ResultStatus::Measured,
                        dose_usv: Some(dose),
                        seuil_usv: Some(50),
                    },
                    justification: None,
                });
            }
            month = add_months(month, 1);
        }
    }
    // One internal dose (radiotoxicology) for a plant worker.
    if let Some(w) = workers.iter().find(|w| w.population == Population::Plant) {
        let day = add_months(last_month, -8);
        results.ops.push(WriteOp::AddResult {
            sender: lab.clone(),
            reference: next_ref()?,
            nir: w.identity.nir.clone(),
            siret: w.siret.clone(),
            nature: Nature::InternalInVitro,
            quantity: Quantity::E50,
            position: None,
            values: ResultValues {
                date_debut: day,
                date_fin: day + Duration::days(14),
                statut: ResultStatus::Measured,
                dose_usv: Some(320),
                seuil_usv: None,
            },
            justification: None,
        });
    }
    let stored = store.commit(&results).await?;

    // The physician corrects one hospital result and estimates a lost dosimeter's dose.
    let physician = Sender::Physician(mdt_rpps);
    let mut physician_batch = WriteBatch::new("mdt", now);
    if let Some(first_hospital) = workers
        .iter()
        .find(|w| w.population == Population::Hospital)
    {
        if let Some(r) = store
            .results(&first_hospital.identity.nir)
            .await?
            .into_iter()
            .rev()
            .find(|r| {
                r.current()
                    .is_some_and(|v| v.values.statut == ResultStatus::Measured)
            })
        {
            let mut values = r
                .current()
                .map(|v| v.values.clone())
                .unwrap_or_else(|| unreachable_values(last_month));
            values.dose_usv = Some(values.dose_usv.unwrap_or(0) / 2);
            physician_batch.ops.push(WriteOp::AddResultVersion {
                result_id: r.id,
                after_version: 1,
                values,
                justification: Some("Dosimètre resté dans la salle d'examen pendant deux jours : dose réévaluée après enquête.".into()),
            });
        }
        let lost = add_months(last_month, -2);
        physician_batch.ops.push(WriteOp::AddResult {
            sender: physician,
            reference: Reference::parse("MDT-EST-0001").map_err(|e| CliError::Internal(e.to_string()))?,
            nir: first_hospital.identity.nir.clone(),
            siret: first_hospital.siret.clone(),
            nature: Nature::PhysicianEstimate,
            quantity: Quantity::Hp10,
            position: None,
            values: ResultValues { date_debut: lost, date_fin: month_end(lost), statut: ResultStatus::Measured, dose_usv: Some(120), seuil_usv: None },
            justification: Some("Dosimètre perdu : dose estimée à partir du dosimètre opérationnel et des collègues du même poste.".into()),
        });
    }
    store.commit(&physician_batch).await?;

    // Operational dosimetry at the plant: the last 13 weeks, plant and contractor staff.
    let mut readings = WriteBatch::new("exploitant", now);
    let mut reading_count = 0;
    for w in workers.iter().filter(|w| {
        matches!(w.population, Population::Plant | Population::Contractor) && w.end.is_none()
    }) {
        for week in 1..=13 {
            let day = today - Duration::days(7 * week);
            let hour = rng.range(7, 14) as u32;
            let (Some(debut), Some(fin)) = (
                day.and_hms_opt(hour, 0, 0),
                day.and_hms_opt(hour + 3, rng.range(0, 59) as u32, 0),
            ) else {
                continue;
            };
            readings.ops.push(WriteOp::AddReading {
                key: ReadingKey {
                    nir: w.identity.nir.clone(),
                    siret: w.siret.clone(),
                    type_mesure: OperationalQuantity::Hp10Photon,
                    debut_port: debut,
                    fin_port: fin,
                },
                site_inb: s.plant.clone(),
                values: ReadingValues {
                    lieu: [
                        "Bâtiment réacteur 2",
                        "Bâtiment combustible",
                        "Salle des machines",
                    ][week as usize % 3]
                        .into(),
                    zone: ["Verte", "Jaune", "Verte"][week as usize % 3].into(),
                    type_dosimetre: if w.population == Population::Plant {
                        DosimeterType::EpdMk3
                    } else {
                        DosimeterType::Dmc3000
                    },
                    dose_usv: rng.range(0, 90),
                    activite: [
                        "Robinetterie",
                        "Logistique nucléaire",
                        "Contrôle non destructif",
                    ][week as usize % 3]
                        .into(),
                },
            });
            reading_count += 1;
        }
    }
    store.commit(&readings).await?;

    Ok(format!(
        "{} établissements, {} travailleurs, {} résultats, {} mesures opérationnelles.",
        site_list.len(),
        workers.len(),
        stored.ids.len() + physician_batch.ops.len(),
        reading_count
    ))
}

/// Never used in practice (a stored result always has a version); keeps the code total.
fn unreachable_values(month: NaiveDate) -> ResultValues {
    ResultValues {
        date_debut: month,
        date_fin: month_end(month),
        statut: ResultStatus::Measured,
        dose_usv: Some(0),
        seuil_usv: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_identifiers_are_valid() {
        let Ok((list, s)) = sites() else {
            panic!("sites")
        };
        assert_eq!(list.len(), 6);
        assert!(s.plant.siren() != s.contractor.siren());
        assert!(rpps_of("1000000123").is_ok());
    }

    #[test]
    fn the_population_is_about_two_hundred_valid_workers() {
        let Ok((_, s)) = sites() else { panic!("sites") };
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap_or(NaiveDate::MIN);
        let workers = make_workers(&mut Rng(1), &s, today);
        assert!((190..=200).contains(&workers.len()), "{}", workers.len());
        for w in &workers {
            assert!(terms_for(w).is_ok_and(|t| t.validate().is_ok()));
        }
    }

    #[test]
    fn demo_totp_secrets_are_valid_and_stable() {
        let secret = demo_totp_secret("mdt");
        assert_eq!(secret.len(), 32);
        assert_eq!(secret, demo_totp_secret("mdt"));
        assert_ne!(secret, demo_totp_secret("crp"));
        assert!(siseri_server::auth::totp_code(&secret, 59).is_some());
    }

    #[test]
    fn every_demo_sector_exists_in_the_nomenclature() {
        for sector in ["101000", "106000", "506000", "510000", "301010", "401010"] {
            assert!(triple(sector, "").is_ok(), "{sector}");
        }
    }
}
