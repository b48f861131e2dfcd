//! The conformance suite: every check runs identically on SQLite and PostgreSQL.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use siseri_domain::account::{NewAccount, Role};
use siseri_domain::codes::{
    ActivityCharacter, Classification, ContractType, DosimeterType, Nature, Nuisance,
    OperationalQuantity, Position, Quantity, ResultStatus, Sex, TransmissionFormat,
};
use siseri_domain::ids::{Nir, Rpps, Siren, Siret};
use siseri_domain::journal::JournalEvent;
use siseri_domain::result::{ReadingKey, ReadingValues, Reference, ResultValues, Sender};
use siseri_domain::worker::{AttachmentTerms, DesignationRole, NewWorker};

use super::TestDb;
use crate::{NewDesignation, NewEstablishment, NewTransmission, StoreError, WriteBatch, WriteOp};

// Identifiers valid under their checks (see the domain's tests).
const SIRET_A: &str = "73282932000074";
const SIRET_B: &str = "44306184100047";
const NIR_1: &str = "2951099126111";
const NIR_2: &str = "1850578006084";

fn siret(s: &str) -> Siret {
    Siret::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn nir(s: &str) -> Nir {
    Nir::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_else(|| panic!("date"))
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 30, 12, 0, 0)
        .single()
        .unwrap_or_else(|| panic!("instant"))
}

fn audit() -> JournalEvent {
    JournalEvent::new(now(), "admin", "ECRITURE", "TEST")
}

fn ok<T>(r: Result<T, StoreError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

async fn establishment(db: &TestDb, s: &str, inb: bool) {
    let e = NewEstablishment {
        siret: siret(s),
        name: format!("Établissement {s}"),
        inb,
        company_name: format!("Entreprise {}", &s[..9]),
    };
    ok(db.store.add_establishment(&e, &audit()).await);
}

fn worker(n: &str, nom: &str) -> NewWorker {
    NewWorker {
        nir: nir(n),
        nom: nom.to_string(),
        prenom: "Camille".to_string(),
        date_naissance: date(1995, 10, 3),
        sexe: Sex::F,
    }
}

fn terms(from: NaiveDate) -> AttachmentTerms {
    AttachmentTerms {
        date_debut: from,
        date_fin: None,
        classement: Some(Classification::A),
        autre_exposition: None,
        caractere_activite: ActivityCharacter::Civil,
        code_domaine: "500000".into(),
        code_secteur: "506000".into(),
        code_metier: "MANIP".into(),
        nuisance: Nuisance::Both,
        type_contrat: ContractType::Permanent,
        quotite_milliemes: 800,
        groupe: Some("Équipe de nuit".into()),
    }
}

fn lab() -> Sender {
    Sender::Organisation(Siren::parse("732829320").unwrap_or_else(|e| panic!("{e}")))
}

fn reference(s: &str) -> Reference {
    Reference::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn measured(month: u32, usv: i64) -> ResultValues {
    ResultValues {
        date_debut: date(2025, month, 1),
        date_fin: date(2025, month, 28),
        statut: ResultStatus::Measured,
        dose_usv: Some(usv),
        seuil_usv: Some(50),
    }
}

fn add_result(n: &str, reference_: &str, values: ResultValues) -> WriteOp {
    WriteOp::AddResult {
        sender: lab(),
        reference: reference(reference_),
        nir: nir(n),
        siret: siret(SIRET_A),
        nature: Nature::External,
        quantity: Quantity::Hp10,
        position: None,
        values,
        justification: None,
    }
}

async fn commit(db: &TestDb, ops: Vec<WriteOp>) -> Result<crate::BatchOutcome, StoreError> {
    let mut b = WriteBatch::new("labo", now());
    b.ops = ops;
    db.store.commit(&b).await
}

/// A worker with one result of 250 µSv, returning the result id.
async fn worker_with_result(db: &TestDb) -> i64 {
    establishment(db, SIRET_A, false).await;
    let out = ok(commit(
        db,
        vec![
            WriteOp::EnsureWorker(worker(NIR_1, "DUPONT")),
            add_result(NIR_1, "R-1", measured(1, 250)),
        ],
    )
    .await);
    out.ids[1]
}

/// Establishments, their companies, listing and uniqueness.
pub async fn establishments_and_companies(db: &TestDb) {
    establishment(db, SIRET_B, true).await;
    establishment(db, SIRET_A, false).await;
    let all = ok(db.store.establishments().await);
    // Ordered by SIRET.
    assert_eq!(
        all.iter().map(|e| e.siret.as_str()).collect::<Vec<_>>(),
        [SIRET_B, SIRET_A]
    );
    let b = ok(db.store.establishment(&siret(SIRET_B)).await).unwrap_or_else(|| panic!("missing"));
    assert!(b.inb);
    assert_eq!(b.name, format!("Établissement {SIRET_B}"));
    let company =
        ok(db.store.company(&siret(SIRET_A).siren()).await).unwrap_or_else(|| panic!("company"));
    assert_eq!(company.name, "Entreprise 732829320");
    assert!(ok(db.store.establishment(&siret("55208131766522")).await).is_none());
    let again = NewEstablishment {
        siret: siret(SIRET_A),
        name: "x".into(),
        inb: false,
        company_name: "y".into(),
    };
    assert!(matches!(
        db.store.add_establishment(&again, &audit()).await,
        Err(StoreError::Conflict(_))
    ));
}

/// Accounts with every scope field come back as stored.
pub async fn accounts_round_trip(db: &TestDb) {
    establishment(db, SIRET_A, false).await;
    let mut body = NewAccount::new("labo.a", Role::Organisme);
    body.siren = Some(siret(SIRET_A).siren());
    body.sirets = vec![siret(SIRET_A)];
    body.natures = vec![Nature::External, Nature::Radon];
    body.email = Some("labo@example.fr".into());
    let stored = ok(db
        .store
        .add_account(&body, Some("$argon2id$v=19$x"), &audit())
        .await);
    assert_eq!(stored.spec, body);
    let mut mdt = NewAccount::new("dr.b", Role::Mdt);
    mdt.rpps = Some(Rpps::parse("10000000009").unwrap_or_else(|e| panic!("{e}")));
    ok(db.store.add_account(&mdt, None, &audit()).await);
    let mut w = NewAccount::new("camille", Role::Travailleur);
    w.nir = Some(nir(NIR_1));
    ok(db.store.add_account(&w, None, &audit()).await);

    assert_eq!(
        ok(db.store.account("labo.a").await).map(|a| a.spec),
        Some(body)
    );
    let logins: Vec<_> = ok(db.store.accounts().await)
        .into_iter()
        .map(|a| a.spec.login)
        .collect();
    assert_eq!(logins, ["camille", "dr.b", "labo.a"]);
    assert_eq!(
        ok(db.store.password_hash("labo.a").await).as_deref(),
        Some("$argon2id$v=19$x")
    );
    assert_eq!(ok(db.store.password_hash("dr.b").await), None);
    assert!(ok(db.store.account("nobody").await).is_none());
    let dup = NewAccount::new("dr.b", Role::Admin);
    assert!(matches!(
        db.store.add_account(&dup, None, &audit()).await,
        Err(StoreError::Conflict(_))
    ));
}

/// Tokens are found by hash only.
pub async fn tokens_by_hash(db: &TestDb) {
    ok(db
        .store
        .add_account(&NewAccount::new("admin", Role::Admin), None, &audit())
        .await);
    let expires = now() + chrono::Duration::days(90);
    ok(db.store.add_token("admin", "ab12", expires, &audit()).await);
    let t = ok(db.store.token("ab12").await).unwrap_or_else(|| panic!("token"));
    assert_eq!(t.account.spec.login, "admin");
    assert_eq!(t.expires_at, expires);
    assert_eq!(t.revoked_at, None);
    assert!(ok(db.store.token("AB12").await).is_none());
    assert!(matches!(
        db.store.add_token("ghost", "cd", expires, &audit()).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        db.store.add_token("admin", "ab12", expires, &audit()).await,
        Err(StoreError::Conflict(_))
    ));
}

/// Designations keep their periods and are found from both sides.
pub async fn designations_with_periods(db: &TestDb) {
    establishment(db, SIRET_A, false).await;
    establishment(db, SIRET_B, true).await;
    let mut crp = NewAccount::new("crp.a", Role::Crp);
    crp.email = Some("crp@example.fr".into());
    ok(db.store.add_account(&crp, None, &audit()).await);
    let d = NewDesignation {
        login: "crp.a".into(),
        role: DesignationRole::Advisor,
        siret: siret(SIRET_A),
        date_debut: date(2024, 1, 1),
        date_fin: Some(date(2025, 12, 31)),
    };
    ok(db.store.add_designation(&d, &audit()).await);
    let d2 = NewDesignation {
        siret: siret(SIRET_B),
        date_fin: None,
        ..d.clone()
    };
    ok(db.store.add_designation(&d2, &audit()).await);
    let of = ok(db.store.designations_of("crp.a").await);
    assert_eq!(of.len(), 2);
    assert_eq!(of[0].date_fin, Some(date(2025, 12, 31)));
    assert_eq!(of[1].date_fin, None);
    assert_eq!(of[0].role, DesignationRole::Advisor);
    let on = ok(db.store.designations_on(&siret(SIRET_B)).await);
    assert_eq!(on.len(), 1);
    assert_eq!(on[0].login, "crp.a");
    let ghost = NewDesignation {
        login: "ghost".into(),
        ..d
    };
    assert!(matches!(
        db.store.add_designation(&ghost, &audit()).await,
        Err(StoreError::NotFound(_))
    ));
}

/// `EnsureWorker` creates a worker once and never changes a known identity.
pub async fn workers_are_created_once(db: &TestDb) {
    let out = ok(commit(db, vec![WriteOp::EnsureWorker(worker(NIR_1, "DUPONT"))]).await);
    let again = ok(commit(db, vec![WriteOp::EnsureWorker(worker(NIR_1, "DURAND"))]).await);
    assert_eq!(out.ids, again.ids);
    let w = ok(db.store.worker(&nir(NIR_1)).await).unwrap_or_else(|| panic!("worker"));
    assert_eq!(w.nom, "DUPONT");
    assert_eq!(w.date_naissance, date(1995, 10, 3));
    assert_eq!(w.sexe, Sex::F);
    assert_eq!(ok(db.store.worker_count().await), 1);
    assert!(ok(db.store.worker(&nir(NIR_2)).await).is_none());
}

/// A corrected identity replaces the current one and keeps the old one in its history,
/// which cannot be changed.
pub async fn identity_corrections_keep_history(db: &TestDb) {
    ok(commit(db, vec![WriteOp::EnsureWorker(worker(NIR_1, "DUPONT"))]).await);
    let corrected = worker(NIR_1, "DUPOND");
    ok(commit(
        db,
        vec![WriteOp::CorrectIdentity {
            nir: nir(NIR_1),
            identity: corrected,
            reason: "erreur de saisie".into(),
        }],
    )
    .await);
    let w = ok(db.store.worker(&nir(NIR_1)).await).unwrap_or_else(|| panic!("worker"));
    assert_eq!(w.nom, "DUPOND");
    assert_eq!(db.count_raw("worker_identity_history").await, 1);
    match db
        .execute_raw("UPDATE worker_identity_history SET nom = 'X'")
        .await
    {
        Err(e) => assert!(e.to_string().contains("append-only"), "{e}"),
        Ok(n) => panic!("history changed ({n} rows)"),
    }
}

/// An attachment update is a new version; the first stays as it was.
pub async fn attachments_keep_every_version(db: &TestDb) {
    establishment(db, SIRET_A, false).await;
    let out = ok(commit(
        db,
        vec![
            WriteOp::EnsureWorker(worker(NIR_1, "DUPONT")),
            WriteOp::AddAttachment {
                nir: nir(NIR_1),
                siret: siret(SIRET_A),
                terms: terms(date(2024, 1, 1)),
            },
        ],
    )
    .await);
    let id = out.ids[1];
    let mut ended = terms(date(2024, 1, 1));
    ended.date_fin = Some(date(2025, 3, 31));
    ended.classement = None;
    ended.autre_exposition = Some(siseri_domain::codes::OtherExposure::EmergencyGroup2);
    ok(commit(
        db,
        vec![WriteOp::AddAttachmentVersion {
            attachment_id: id,
            after_version: 1,
            terms: ended.clone(),
        }],
    )
    .await);
    let all = ok(db.store.attachments(&nir(NIR_1)).await);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].siret, siret(SIRET_A));
    let versions: Vec<_> = all[0]
        .versions
        .iter()
        .map(|v| (v.version, v.terms.clone()))
        .collect();
    assert_eq!(versions, vec![(1, terms(date(2024, 1, 1))), (2, ended)]);
    let workers = ok(db.store.workers_of(&siret(SIRET_A)).await);
    assert_eq!(workers.len(), 1);
}

/// Corrections and cancellations append versions; earlier ones read back unchanged.
pub async fn results_keep_every_version(db: &TestDb) {
    let id = worker_with_result(db).await;
    let mut corrected = measured(1, 180);
    corrected.date_fin = date(2025, 2, 3);
    let mut b = WriteBatch::new("dr.b", now() + chrono::Duration::days(1));
    b.ops = vec![WriteOp::AddResultVersion {
        result_id: id,
        after_version: 1,
        values: corrected.clone(),
        justification: Some("Dosimètre porté hors période".into()),
    }];
    ok(db.store.commit(&b).await);
    let cancelled = ResultValues {
        statut: ResultStatus::Cancelled,
        dose_usv: None,
        ..corrected.clone()
    };
    ok(commit(
        db,
        vec![WriteOp::AddResultVersion {
            result_id: id,
            after_version: 2,
            values: cancelled.clone(),
            justification: None,
        }],
    )
    .await);

    let r = ok(db.store.result(id).await).unwrap_or_else(|| panic!("result"));
    assert_eq!(r.versions.len(), 3);
    assert_eq!(r.versions[0].values, measured(1, 250));
    assert_eq!(r.versions[0].author, "labo");
    assert_eq!(r.versions[1].values, corrected);
    assert_eq!(r.versions[1].author, "dr.b");
    assert_eq!(
        r.versions[1].justification.as_deref(),
        Some("Dosimètre porté hors période")
    );
    assert_eq!(r.versions[2].values, cancelled);
    assert!(r.is_cancelled());
    assert_eq!(r.sender, lab());
    let by_ref = ok(db
        .store
        .result_by_reference(&lab(), &reference("R-1"))
        .await)
    .unwrap_or_else(|| panic!("by reference"));
    assert_eq!(by_ref, r);
    assert_eq!(ok(db.store.results(&nir(NIR_1)).await), vec![r]);
    assert!(
        ok(db
            .store
            .result_by_reference(&lab(), &reference("R-2"))
            .await)
        .is_none()
    );
    assert_eq!(ok(db.store.result_version_count().await), 3);
}

/// Even a statement that bypasses the interface cannot change or remove a version.
pub async fn versions_cannot_be_overwritten_even_directly(db: &TestDb) {
    let id = worker_with_result(db).await;
    for sql in [
        format!("UPDATE result_versions SET dose_usv = 0 WHERE result_id = {id}"),
        format!("DELETE FROM result_versions WHERE result_id = {id}"),
        "UPDATE attachment_versions SET quotite_milliemes = 100".to_string(),
        "DELETE FROM reading_versions".to_string(),
    ] {
        // Tables may be empty (no row to refuse): only a refusal or no effect is allowed.
        match db.execute_raw(&sql).await {
            Err(e) => assert!(e.to_string().contains("append-only"), "{sql}: {e}"),
            Ok(n) => assert_eq!(n, 0, "{sql} changed {n} rows"),
        }
    }
    assert!(
        db.execute_raw(&format!(
            "UPDATE result_versions SET dose_usv = 0 WHERE result_id = {id}"
        ))
        .await
        .is_err()
    );
    let r = ok(db.store.result(id).await).unwrap_or_else(|| panic!("result"));
    assert_eq!(r.versions[0].values.dose_usv, Some(250));
}

/// A version written from a stale read is refused, and nothing of its batch is kept.
pub async fn stale_versions_are_refused(db: &TestDb) {
    let id = worker_with_result(db).await;
    ok(commit(
        db,
        vec![WriteOp::AddResultVersion {
            result_id: id,
            after_version: 1,
            values: measured(1, 300),
            justification: None,
        }],
    )
    .await);
    let stale = commit(
        db,
        vec![
            WriteOp::EnsureWorker(worker(NIR_2, "MARTIN")),
            WriteOp::AddResultVersion {
                result_id: id,
                after_version: 1,
                values: measured(1, 400),
                justification: None,
            },
        ],
    )
    .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert!(ok(db.store.worker(&nir(NIR_2)).await).is_none());
    let unknown = commit(
        db,
        vec![WriteOp::AddResultVersion {
            result_id: id + 1000,
            after_version: 1,
            values: measured(1, 1),
            justification: None,
        }],
    )
    .await;
    assert!(matches!(unknown, Err(StoreError::NotFound(_))));
    assert_eq!(
        ok(db.store.result(id).await).map(|r| r.versions.len()),
        Some(2)
    );
}

fn reading_key(start_hour: u32) -> ReadingKey {
    let at = |h: u32| -> NaiveDateTime {
        date(2025, 5, 12)
            .and_hms_opt(h, 30, 0)
            .unwrap_or_else(|| panic!("time"))
    };
    ReadingKey {
        nir: nir(NIR_1),
        siret: siret(SIRET_A),
        type_mesure: OperationalQuantity::Hp10Photon,
        debut_port: at(start_hour),
        fin_port: at(start_hour + 2),
    }
}

fn reading_values(usv: i64) -> ReadingValues {
    ReadingValues {
        lieu: "Bâtiment réacteur".into(),
        zone: "Verte".into(),
        type_dosimetre: DosimeterType::EpdMk3,
        dose_usv: usv,
        activite: "Robinetterie".into(),
    }
}

/// Operational readings and their corrections.
pub async fn readings_and_corrections(db: &TestDb) {
    establishment(db, SIRET_A, false).await;
    establishment(db, SIRET_B, true).await;
    let out = ok(commit(
        db,
        vec![
            WriteOp::EnsureWorker(worker(NIR_1, "DUPONT")),
            WriteOp::AddReading {
                key: reading_key(8),
                site_inb: siret(SIRET_B),
                values: reading_values(12),
            },
            WriteOp::AddReading {
                key: reading_key(14),
                site_inb: siret(SIRET_B),
                values: reading_values(3),
            },
        ],
    )
    .await);
    ok(commit(
        db,
        vec![WriteOp::AddReadingVersion {
            reading_id: out.ids[1],
            after_version: 1,
            values: reading_values(21),
        }],
    )
    .await);
    let readings = ok(db.store.readings(&nir(NIR_1)).await);
    assert_eq!(readings.len(), 2);
    assert_eq!(readings[0].key, reading_key(8));
    assert_eq!(readings[0].site_inb, siret(SIRET_B));
    assert_eq!(
        readings[0].versions,
        vec![(1, reading_values(12)), (2, reading_values(21))]
    );
    assert_eq!(readings[1].versions.len(), 1);
    let same_key = commit(
        db,
        vec![WriteOp::AddReading {
            key: reading_key(8),
            site_inb: siret(SIRET_B),
            values: reading_values(1),
        }],
    )
    .await;
    assert!(matches!(same_key, Err(StoreError::Conflict(_))));
}

/// A batch that fails midway (here: its last operation names an unknown establishment)
/// leaves nothing behind — not its transmission, not its first operations.
pub async fn batch_is_all_or_nothing(db: &TestDb) {
    establishment(db, SIRET_A, false).await;
    let mut b = WriteBatch::new("labo", now());
    b.transmission = Some(NewTransmission {
        format: TransmissionFormat::Results,
        sender_siren: Some(siret(SIRET_A).siren()),
        login: "labo".into(),
        received_at: now(),
        file_sha256: "00".repeat(32),
        report: "{}".into(),
        media: "csv".into(),
    });
    let nirs = [NIR_1, NIR_2];
    for (i, n) in nirs.iter().enumerate() {
        b.ops.push(WriteOp::EnsureWorker(worker(n, "DUPONT")));
        b.ops.push(add_result(
            n,
            &format!("T-{i}"),
            measured(1 + i as u32, 100),
        ));
    }
    let mut failing = add_result(NIR_1, "T-last", measured(3, 1));
    if let WriteOp::AddResult { siret: s, .. } = &mut failing {
        *s = siret(SIRET_B); // valid but unknown to the registry
    }
    b.ops.push(failing);
    assert!(matches!(
        db.store.commit(&b).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(ok(db.store.worker_count().await), 0);
    assert_eq!(db.count_raw("transmissions").await, 0);
    assert_eq!(db.count_raw("dose_results").await, 0);
    assert_eq!(db.count_raw("result_versions").await, 0);

    // The same batch without the failing line goes through whole.
    b.ops.pop();
    let out = ok(db.store.commit(&b).await);
    assert!(out.transmission_id.is_some());
    assert_eq!(out.ids.len(), 4);
    assert_eq!(ok(db.store.worker_count().await), 2);
    let r = ok(db.store.results(&nir(NIR_2)).await);
    assert_eq!(r[0].versions[0].transmission_id, out.transmission_id);
}

/// A transmission is found by its file's SHA-256, for its own organisation (or its own
/// login, without one) and format only, the earliest first (exchange.md §6: a file sent again).
pub async fn transmissions_are_found_by_their_file(db: &TestDb) {
    establishment(db, SIRET_A, false).await;
    let sha = "ab".repeat(32);
    let head = |siren: Option<Siren>, login: &str, format| NewTransmission {
        format,
        sender_siren: siren,
        login: login.into(),
        received_at: now(),
        file_sha256: sha.clone(),
        report: "{}".into(),
        media: "csv".into(),
    };
    let mut ids = Vec::new();
    for t in [
        head(
            Some(siret(SIRET_A).siren()),
            "labo",
            TransmissionFormat::Results,
        ),
        head(
            Some(siret(SIRET_A).siren()),
            "labo.bis",
            TransmissionFormat::Results,
        ),
        head(None, "seul", TransmissionFormat::Workers),
    ] {
        let mut b = WriteBatch::new(t.login.clone(), now());
        b.transmission = Some(t);
        ids.push(ok(db.store.commit(&b).await).transmission_id);
    }
    let found = |owner: crate::TransmissionFilter, format, sha: String| {
        let store = db.store.clone();
        async move { ok(store.transmission_by_file(&owner, format, &sha).await).map(|t| t.id) }
    };
    let org = crate::TransmissionFilter::Organisation(siret(SIRET_A).siren());
    assert_eq!(
        found(org.clone(), TransmissionFormat::Results, sha.clone()).await,
        ids[0]
    );
    assert_eq!(
        found(org.clone(), TransmissionFormat::Workers, sha.clone()).await,
        None
    );
    assert_eq!(
        found(org, TransmissionFormat::Results, "cd".repeat(32)).await,
        None
    );
    let other = crate::TransmissionFilter::Organisation(siret(SIRET_B).siren());
    assert_eq!(
        found(other, TransmissionFormat::Results, sha.clone()).await,
        None
    );
    let alone = crate::TransmissionFilter::Login("seul".into());
    assert_eq!(
        found(alone, TransmissionFormat::Workers, sha.clone()).await,
        ids[2]
    );
    let someone = crate::TransmissionFilter::Login("labo".into());
    assert_eq!(found(someone, TransmissionFormat::Results, sha).await, None);
}

/// A reference already used by the same sender refuses the whole batch.
pub async fn duplicate_reference_rolls_back_the_batch(db: &TestDb) {
    worker_with_result(db).await;
    let again = commit(
        db,
        vec![
            WriteOp::EnsureWorker(worker(NIR_2, "MARTIN")),
            add_result(NIR_2, "R-1", measured(2, 5)),
        ],
    )
    .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert!(ok(db.store.worker(&nir(NIR_2)).await).is_none());
    // Another sender may use the same reference.
    let mut other = add_result(NIR_1, "R-1", measured(2, 5));
    if let WriteOp::AddResult {
        sender,
        nature,
        quantity,
        position,
        ..
    } = &mut other
    {
        *sender = Sender::Physician(Rpps::parse("10000000009").unwrap_or_else(|e| panic!("{e}")));
        *nature = Nature::PhysicianEstimate;
        *quantity = Quantity::Hp007Extremity;
        *position = Some(Position::LeftHand);
    }
    ok(commit(db, vec![other]).await);
    let results = ok(db.store.results(&nir(NIR_1)).await);
    assert_eq!(results.len(), 2);
    assert_eq!(results[1].position, Some(Position::LeftHand));
}

/// Dates, local date-times and UTC instants (to the microsecond) survive a round trip.
pub async fn dates_and_instants_round_trip(db: &TestDb) {
    establishment(db, SIRET_A, false).await;
    let at = Utc
        .with_ymd_and_hms(2024, 2, 29, 23, 59, 59)
        .single()
        .unwrap_or_else(|| panic!("instant"))
        + chrono::Duration::microseconds(123_456);
    let mut b = WriteBatch::new("labo", at);
    b.ops = vec![
        WriteOp::EnsureWorker(worker(NIR_1, "DUPONT")),
        add_result(NIR_1, "D-1", measured(12, 0)),
    ];
    ok(db.store.commit(&b).await);
    let r = ok(db.store.results(&nir(NIR_1)).await);
    assert_eq!(r[0].versions[0].recorded_at, at);
    assert_eq!(r[0].versions[0].values.date_fin, date(2025, 12, 28));
}

/// Every write leaves exactly one journal entry, in the same transaction; a failed
/// batch leaves none; reads are appended; the chain verifies and names workers by id.
pub async fn writes_and_reads_are_journaled(db: &TestDb) {
    establishment(db, SIRET_A, false).await;
    let (count, _) = ok(db.store.journal_head().await);
    assert_eq!(count, 1, "the establishment's creation is journaled");
    let mut b = WriteBatch::new("labo", now());
    b.event.data_kind = "RESULTATS".into();
    b.ops = vec![
        WriteOp::EnsureWorker(worker(NIR_1, "DUPONT")),
        add_result(NIR_1, "J-1", measured(1, 10)),
    ];
    let out = ok(db.store.commit(&b).await);
    assert_eq!(out.journal_seq, 2);
    let worker_id = out.ids[0];
    // A failing batch journals nothing.
    let failing = commit(db, vec![add_result(NIR_2, "J-2", measured(1, 10))]).await;
    assert!(failing.is_err());
    let mut read = JournalEvent::new(now(), "dr.b", "LECTURE", "RESULTATS_EXTERNES");
    read.role = Some("MDT".into());
    read.worker_ids = vec![worker_id];
    let mut refused = JournalEvent::new(now(), "rh", "LECTURE_REFUSEE", "IDENTITE");
    refused.outcome = "REFUSE".into();
    ok(db.store.append_journal(&[read.clone(), refused]).await);

    let entries = ok(db.store.journal_page(0, 100).await);
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(entries[1].event.worker_ids, vec![worker_id]);
    assert_eq!(entries[1].event.data_kind, "RESULTATS");
    assert_eq!(entries[2].event, read.normalised());
    assert!(entries.iter().all(|e| {
        !e.event
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains(NIR_1)
    }));
    assert_eq!(ok(crate::journal::verify(db.store.as_ref()).await), Ok(4));
    let mine = ok(db.store.journal_of_worker(worker_id, 10).await);
    assert_eq!(
        mine.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [3, 2],
        "newest first"
    );
    let page = ok(db.store.journal_page(2, 1).await);
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].seq, 3);
}

async fn drop_journal_triggers(db: &TestDb) {
    let sql = match db.url.engine() {
        crate::Engine::Sqlite => "DROP TRIGGER journal_no_update; DROP TRIGGER journal_no_delete;",
        crate::Engine::Postgres => "DROP TRIGGER journal_append_only ON journal;",
    };
    db.execute_raw(sql).await.unwrap_or_else(|e| panic!("{e}"));
}

async fn five_entries(db: &TestDb) {
    for i in 0..5 {
        let mut e = JournalEvent::new(now(), "admin", "LECTURE", "IDENTITE");
        e.worker_ids = vec![i];
        ok(db.store.append_journal(&[e]).await);
    }
    assert_eq!(ok(crate::journal::verify(db.store.as_ref()).await), Ok(5));
}

async fn first_broken(db: &TestDb) -> i64 {
    match ok(crate::journal::verify(db.store.as_ref()).await) {
        Ok(n) => panic!("tampering not detected ({n} entries)"),
        Err(b) => b.first_broken(),
    }
}

/// The journal refuses changes; with its triggers dropped (someone with database
/// access), an altered, a removed and truncated entries are each detected.
pub async fn journal_tampering_is_detected(db: &TestDb) {
    five_entries(db).await;
    assert!(
        db.execute_raw("UPDATE journal SET actor = 'x' WHERE seq = 2")
            .await
            .is_err()
    );
    assert!(
        db.execute_raw("DELETE FROM journal WHERE seq = 5")
            .await
            .is_err()
    );
    drop_journal_triggers(db).await;

    db.execute_raw("UPDATE journal SET actor = 'intrus' WHERE seq = 2")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first_broken(db).await, 2);
    db.execute_raw("UPDATE journal SET actor = 'admin' WHERE seq = 2")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok(crate::journal::verify(db.store.as_ref()).await), Ok(5));

    db.execute_raw("DELETE FROM journal_workers WHERE seq = 5; DELETE FROM journal WHERE seq = 5;")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first_broken(db).await, 5, "truncation");
    db.execute_raw("DELETE FROM journal_workers WHERE seq = 3; DELETE FROM journal WHERE seq = 3;")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first_broken(db).await, 3, "removal");
}

/// Rewriting the count and head to hide a truncation is detected too (the head no
/// longer matches), and so is a forged head.
pub async fn journal_head_tampering_is_detected(db: &TestDb) {
    five_entries(db).await;
    drop_journal_triggers(db).await;
    db.execute_raw("UPDATE journal_head SET head = 'ff' WHERE id = 1")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first_broken(db).await, 5);
    db.execute_raw("DELETE FROM journal_workers WHERE seq = 5; DELETE FROM journal WHERE seq = 5; UPDATE journal_head SET entries = 4 WHERE id = 1;")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first_broken(db).await, 4);
}

/// Second-factor replay protection, recovery codes, sessions.
pub async fn logins_sessions_and_second_factor(db: &TestDb) {
    ok(db
        .store
        .add_account(
            &NewAccount::new("admin", Role::Admin),
            Some("$argon2id$x"),
            &audit(),
        )
        .await);
    let state = ok(db.store.login_state("admin").await).unwrap_or_else(|| panic!("state"));
    assert_eq!(state.password_hash.as_deref(), Some("$argon2id$x"));
    ok(db.store.login_succeeded("admin", &audit()).await);
    let state = ok(db.store.login_state("admin").await).unwrap_or_else(|| panic!("state"));
    assert_eq!(state.totp_secret, None);

    ok(db
        .store
        .set_totp(
            "admin",
            "JBSWY3DPEHPK3PXP",
            &["h1".into(), "h2".into()],
            &audit(),
        )
        .await);
    assert!(ok(db.store.accept_totp_step("admin", 100).await));
    assert!(
        !ok(db.store.accept_totp_step("admin", 100).await),
        "a step is used once"
    );
    assert!(!ok(db.store.accept_totp_step("admin", 99).await));
    assert!(ok(db.store.accept_totp_step("admin", 101).await));
    assert!(ok(db.store.use_recovery_code("admin", "h1", now()).await));
    assert!(
        !ok(db.store.use_recovery_code("admin", "h1", now()).await),
        "a code is used once"
    );
    assert!(!ok(db.store.use_recovery_code("admin", "zz", now()).await));
    ok(db
        .store
        .set_password("admin", "$argon2id$y", &audit())
        .await);
    assert_eq!(
        ok(db.store.password_hash("admin").await).as_deref(),
        Some("$argon2id$y")
    );

    ok(db
        .store
        .create_session("s1", "admin", now(), false, "csrf1")
        .await);
    let s = ok(db.store.session("s1").await).unwrap_or_else(|| panic!("session"));
    assert_eq!(
        (
            s.account.spec.login.as_str(),
            s.second_factor,
            s.csrf.as_str()
        ),
        ("admin", false, "csrf1")
    );
    ok(db.store.promote_session("s1").await);
    let later = now() + chrono::Duration::minutes(5);
    ok(db.store.touch_session("s1", later).await);
    let s = ok(db.store.session("s1").await).unwrap_or_else(|| panic!("session"));
    assert!(s.second_factor);
    assert_eq!(s.last_seen_at, later);
    ok(db.store.delete_session("s1").await);
    assert!(ok(db.store.session("s1").await).is_none());
    assert!(matches!(
        db.store
            .create_session("s2", "ghost", now(), false, "x")
            .await,
        Err(StoreError::NotFound(_))
    ));
}

/// Tokens are listed and revoked by their owner only; federated identities link once;
/// enrolment codes work once; delegations, grants and accreditations are kept.
/// The per-account login throttle (shared by every server process) and forgotten-password
/// links: single use, expiry, and what using one does.
pub async fn login_throttle_and_password_resets(db: &TestDb) {
    let mut doctor = NewAccount::new("dr.x", Role::Mdt);
    doctor.rpps = Some(Rpps::parse("10000000009").unwrap_or_else(|e| panic!("{e}")));
    doctor.email = Some("Dr.X@Example.org".into());
    ok(db
        .store
        .add_account(&doctor, Some("$argon2id$x"), &audit())
        .await);
    let minute = |m: i64| now() + chrono::Duration::minutes(m);
    assert_eq!(ok(db.store.login_throttle("dr.x").await), None);
    for m in 0..4 {
        let (t, tell) = ok(db
            .store
            .record_login_failure("dr.x", minute(m), &audit())
            .await)
        .unwrap_or_else(|| panic!("known account"));
        assert_eq!((t.failures, t.next_attempt_at, tell), (m + 1, None, false));
    }
    let (t, tell) = ok(db
        .store
        .record_login_failure("dr.x", minute(4), &audit())
        .await)
    .unwrap_or_else(|| panic!("known account"));
    assert_eq!(
        (t.failures, t.next_attempt_at, tell),
        (5, Some(minute(5)), true)
    );
    let stored = ok(db.store.login_throttle("dr.x").await).unwrap_or_else(|| panic!("stored"));
    assert_eq!(stored, t);
    assert_eq!(stored.notified_at, Some(minute(4)));
    // The owner is told once, not at every further failure.
    let (t, tell) = ok(db
        .store
        .record_login_failure("dr.x", minute(5), &audit())
        .await)
    .unwrap_or_else(|| panic!("known account"));
    assert_eq!(
        (t.failures, t.next_attempt_at, tell),
        (6, Some(minute(7)), false)
    );
    // Unknown logins are journaled, and counted nowhere.
    let before = ok(db.store.journal_page(0, 1000).await).len();
    assert_eq!(
        ok(db
            .store
            .record_login_failure("ghost", minute(5), &audit())
            .await),
        None
    );
    assert_eq!(ok(db.store.journal_page(0, 1000).await).len(), before + 1);
    ok(db.store.login_succeeded("dr.x", &audit()).await);
    assert_eq!(ok(db.store.login_throttle("dr.x").await), None);

    // Devices where an account logged in.
    assert!(!ok(db.store.login_device_known("dr.x", "d1").await));
    ok(db.store.add_login_device("dr.x", "d1", minute(6)).await);
    ok(db.store.add_login_device("dr.x", "d1", minute(7)).await);
    ok(db.store.add_login_device("ghost", "d2", minute(7)).await);
    assert!(ok(db.store.login_device_known("dr.x", "d1").await));
    assert!(!ok(db.store.login_device_known("ghost", "d2").await));
    assert!(
        !ok(db.store.login_device_known("admin", "d1").await),
        "another account's"
    );
    ok(db.store.forget_login_device("d1").await);
    assert!(!ok(db.store.login_device_known("dr.x", "d1").await));

    // Links, found by e-mail without case.
    let found = ok(db.store.accounts_by_email("dr.x@example.ORG").await);
    assert_eq!(
        found
            .iter()
            .map(|a| a.spec.login.as_str())
            .collect::<Vec<_>>(),
        ["dr.x"]
    );
    assert!(ok(db.store.accounts_by_email("nobody@example.org").await).is_empty());
    ok(db
        .store
        .add_password_reset("dr.x", "old", minute(0), minute(30), &audit())
        .await);
    ok(db
        .store
        .add_password_reset("dr.x", "new", minute(1), minute(31), &audit())
        .await);
    ok(db
        .store
        .create_session("s1", "dr.x", minute(2), true, "c")
        .await);
    ok(db
        .store
        .record_login_failure("dr.x", minute(2), &audit())
        .await);
    assert_eq!(
        ok(db.store.password_reset("unknown", minute(2)).await),
        None
    );
    assert_eq!(
        ok(db.store.password_reset("old", minute(30)).await),
        None,
        "expired"
    );
    assert!(!ok(db
        .store
        .use_password_reset("old", minute(30), "$argon2id$late", &audit())
        .await));
    let account = ok(db.store.password_reset("new", minute(2)).await);
    assert_eq!(account.map(|a| a.spec.login), Some("dr.x".to_string()));
    let before = ok(db.store.journal_page(0, 1000).await).len();
    assert!(ok(db
        .store
        .use_password_reset("new", minute(3), "$argon2id$y", &audit())
        .await));
    assert_eq!(ok(db.store.journal_page(0, 1000).await).len(), before + 1);
    assert_eq!(
        ok(db.store.password_hash("dr.x").await).as_deref(),
        Some("$argon2id$y")
    );
    assert_eq!(ok(db.store.session("s1").await), None, "sessions ended");
    assert_eq!(ok(db.store.login_throttle("dr.x").await), None);
    // Single use, and the older link died with it.
    assert!(!ok(db
        .store
        .use_password_reset("new", minute(4), "$argon2id$z", &audit())
        .await));
    assert_eq!(ok(db.store.password_reset("old", minute(4)).await), None);
    assert_eq!(
        ok(db.store.password_hash("dr.x").await).as_deref(),
        Some("$argon2id$y")
    );
}

pub async fn tokens_identities_delegations_and_grants(db: &TestDb) {
    let mut mdt = NewAccount::new("dr.b", Role::Mdt);
    mdt.rpps = Some(Rpps::parse("10000000009").unwrap_or_else(|e| panic!("{e}")));
    ok(db.store.add_account(&mdt, None, &audit()).await);
    ok(db
        .store
        .add_account(
            &NewAccount::new("infirmier", Role::ProfessionnelSante),
            None,
            &audit(),
        )
        .await);
    ok(db
        .store
        .add_account(
            &NewAccount::new("camille", Role::Travailleur),
            None,
            &audit(),
        )
        .await);
    let mut labo = NewAccount::new("labo", Role::Organisme);
    labo.siren = Some(Siren::parse("732829320").unwrap_or_else(|e| panic!("{e}")));
    ok(db.store.add_account(&labo, None, &audit()).await);

    let expires = now() + chrono::Duration::days(30);
    let id = ok(db.store.add_token("dr.b", "t1", expires, &audit()).await);
    assert!(
        !ok(db.store.revoke_token("camille", id, now(), &audit()).await),
        "only its owner revokes it"
    );
    assert!(ok(db.store.revoke_token("dr.b", id, now(), &audit()).await));
    assert!(!ok(db
        .store
        .revoke_token("dr.b", id, now(), &audit())
        .await));
    let tokens = ok(db.store.tokens_of("dr.b").await);
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].revoked_at, Some(now()));
    assert!(
        ok(db.store.token("t1").await)
            .and_then(|t| t.revoked_at)
            .is_some()
    );

    ok(db
        .store
        .link_identity("https://idp.example", "sub-1", "camille", &audit())
        .await);
    assert_eq!(
        ok(db
            .store
            .account_by_identity("https://idp.example", "sub-1")
            .await)
        .map(|a| a.spec.login),
        Some("camille".into())
    );
    assert!(
        ok(db
            .store
            .account_by_identity("https://idp.example", "sub-2")
            .await)
        .is_none()
    );
    assert!(matches!(
        db.store
            .link_identity("https://idp.example", "sub-1", "dr.b", &audit())
            .await,
        Err(StoreError::Conflict(_))
    ));
    ok(db
        .store
        .set_enrolment(
            "camille",
            "code-h",
            now() + chrono::Duration::days(1),
            &audit(),
        )
        .await);
    assert!(
        ok(db
            .store
            .take_enrolment("code-h", now() + chrono::Duration::days(2))
            .await)
        .is_none(),
        "expired"
    );
    ok(db
        .store
        .set_enrolment(
            "camille",
            "code-h",
            now() + chrono::Duration::days(1),
            &audit(),
        )
        .await);
    assert_eq!(
        ok(db.store.take_enrolment("code-h", now()).await).map(|a| a.spec.login),
        Some("camille".into())
    );
    assert!(
        ok(db.store.take_enrolment("code-h", now()).await).is_none(),
        "used once"
    );

    let d = ok(db
        .store
        .add_delegation("dr.b", "infirmier", true, &audit())
        .await);
    let to = ok(db.store.delegations_to("infirmier").await);
    assert_eq!(to.len(), 1);
    assert_eq!(
        (to[0].mdt_login.as_str(), to[0].can_write, to[0].revoked_at),
        ("dr.b", true, None)
    );
    assert_eq!(ok(db.store.delegations_from("dr.b").await), to);
    assert!(ok(db.store.revoke_delegation(d, now(), &audit()).await));
    assert!(!ok(db.store.revoke_delegation(d, now(), &audit()).await));
    assert!(
        ok(db.store.delegations_to("infirmier").await)[0]
            .revoked_at
            .is_some()
    );

    let g = ok(db.store.add_grant(&nir(NIR_1), "dr.b", &audit()).await);
    assert_eq!(ok(db.store.grants_of("dr.b").await)[0].nir, nir(NIR_1));
    assert_eq!(
        ok(db.store.grants_on(&nir(NIR_1)).await)[0].doctor_login,
        "dr.b"
    );
    assert!(ok(db.store.revoke_grant(g, now(), &audit()).await));
    assert!(
        ok(db.store.grants_on(&nir(NIR_1)).await)[0]
            .revoked_at
            .is_some()
    );

    ok(db
        .store
        .set_natures("labo", &[Nature::Cosmic], &audit())
        .await);
    assert_eq!(
        ok(db.store.account("labo").await).map(|a| a.spec.natures),
        Some(vec![Nature::Cosmic])
    );
    assert!(matches!(
        db.store
            .set_natures("dr.b", &[Nature::Cosmic], &audit())
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        ok(crate::journal::verify(db.store.as_ref()).await).map(|n| n > 10),
        Ok(true)
    );
}

fn registration(siret_: &str, login: &str) -> crate::NewRegistration {
    crate::NewRegistration {
        siren: siret(siret_).siren(),
        company_name: format!("Entreprise {}", &siret_[..9]),
        establishments: vec![crate::RegisteredEstablishment {
            siret: siret(siret_),
            name: format!("Établissement {siret_}"),
            inb: true,
        }],
        rep_nom: "Durand".into(),
        rep_prenom: "Élise".into(),
        rep_email: "elise.durand@example.fr".into(),
        rep_telephone: "01 23 45 67 89".into(),
        login: login.into(),
    }
}

fn employer_account(siret_: &str, login: &str) -> NewAccount {
    let mut a = NewAccount::new(login, Role::Employeur);
    a.siren = Some(siret(siret_).siren());
    a.email = Some("elise.durand@example.fr".into());
    a
}

/// Registrations: kept pending, accepted once in one transaction (establishments, account
/// and enrolment code, all journaled) or refused with a reason; a registration that can no
/// longer be accepted stores nothing.
pub async fn registrations_are_decided_once(db: &TestDb) {
    use crate::RegistrationStatus;
    let (before, _) = ok(db.store.journal_head().await);
    let first = ok(db
        .store
        .add_registration(&registration(SIRET_A, "chu.valmont"), &audit())
        .await);
    let second = ok(db
        .store
        .add_registration(&registration(SIRET_B, "centrale"), &audit())
        .await);
    let pending = ok(db.store.registrations(true).await);
    assert_eq!(
        pending.iter().map(|r| r.id).collect::<Vec<_>>(),
        [first, second]
    );
    assert_eq!(pending[0].request, registration(SIRET_A, "chu.valmont"));
    assert_eq!(pending[0].status, RegistrationStatus::Pending);
    assert_eq!(pending[0].created_at, now());
    assert_eq!(pending[0].decided_at, None);

    let expires = now() + chrono::Duration::days(7);
    let account = ok(db
        .store
        .accept_registration(
            first,
            &employer_account(SIRET_A, "chu.valmont"),
            "empreinte-du-code",
            expires,
            "admin",
            &[audit(), audit()],
        )
        .await);
    assert_eq!(account.spec.login, "chu.valmont");
    let e = ok(db.store.establishment(&siret(SIRET_A)).await);
    assert!(e.is_some_and(|e| e.inb && e.name == format!("Établissement {SIRET_A}")));
    let stored = ok(db.store.account("chu.valmont").await);
    assert_eq!(stored.map(|a| a.spec), Some(account.spec.clone()));
    let taken = ok(db.store.take_enrolment("empreinte-du-code", now()).await);
    assert_eq!(taken.map(|a| a.id), Some(account.id));
    let decided = ok(db.store.registration(first).await);
    let decided = decided.unwrap_or_else(|| panic!("registration"));
    assert_eq!(decided.status, RegistrationStatus::Accepted);
    assert_eq!(decided.decided_by.as_deref(), Some("admin"));
    assert_eq!(decided.decided_at, Some(now()));

    // Decided once: neither accepted again nor refused.
    assert!(matches!(
        db.store
            .accept_registration(
                first,
                &employer_account(SIRET_A, "autre"),
                "x",
                expires,
                "admin",
                &[audit()]
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(!ok(db
        .store
        .refuse_registration(first, "doublon", "admin", &audit())
        .await));

    // A request whose SIRET now exists stores nothing, and stays pending.
    let third = ok(db
        .store
        .add_registration(&registration(SIRET_A, "chu.bis"), &audit())
        .await);
    assert!(matches!(
        db.store
            .accept_registration(
                third,
                &employer_account(SIRET_A, "chu.bis"),
                "y",
                expires,
                "admin",
                &[audit()]
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(ok(db.store.account("chu.bis").await), None);
    let third_row = ok(db.store.registration(third).await);
    assert_eq!(
        third_row.map(|r| r.status),
        Some(RegistrationStatus::Pending)
    );

    assert!(ok(db
        .store
        .refuse_registration(
            second,
            "SIREN sans rapport avec le demandeur",
            "admin",
            &audit()
        )
        .await));
    let refused = ok(db.store.registration(second).await);
    let refused = refused.unwrap_or_else(|| panic!("registration"));
    assert_eq!(refused.status, RegistrationStatus::Refused);
    assert_eq!(
        refused.reason.as_deref(),
        Some("SIREN sans rapport avec le demandeur")
    );
    assert_eq!(ok(db.store.establishment(&siret(SIRET_B)).await), None);
    let pending = ok(db.store.registrations(true).await);
    assert_eq!(pending.iter().map(|r| r.id).collect::<Vec<_>>(), [third]);
    assert_eq!(ok(db.store.registrations(false).await).len(), 3);

    assert_eq!(ok(db.store.registration(999_999).await), None);
    assert!(matches!(
        db.store
            .accept_registration(
                999_999,
                &employer_account(SIRET_B, "nul"),
                "z",
                expires,
                "admin",
                &[audit()]
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    // Three requests, one acceptance (two entries), one refusal; nothing for the failures.
    let (after, _) = ok(db.store.journal_head().await);
    assert_eq!(after - before, 6);
}

/// A designation is ended by setting its last day, journaled.
pub async fn designations_can_be_ended(db: &TestDb) {
    establishment(db, SIRET_A, false).await;
    ok(db
        .store
        .add_account(&NewAccount::new("crp.b", Role::Crp), None, &audit())
        .await);
    let d = ok(db
        .store
        .add_designation(
            &NewDesignation {
                login: "crp.b".into(),
                role: DesignationRole::Advisor,
                siret: siret(SIRET_A),
                date_debut: date(2024, 1, 1),
                date_fin: None,
            },
            &audit(),
        )
        .await);
    let (before, _) = ok(db.store.journal_head().await);
    assert!(ok(db
        .store
        .end_designation(d.id, date(2025, 6, 30), &audit())
        .await));
    let on = ok(db.store.designations_on(&siret(SIRET_A)).await);
    assert_eq!(on[0].date_fin, Some(date(2025, 6, 30)));
    assert!(!ok(db
        .store
        .end_designation(999_999, date(2025, 6, 30), &audit())
        .await));
    let (after, _) = ok(db.store.journal_head().await);
    assert_eq!(after - before, 1);
}

/// An import reserves ids before it writes the rows (the next chunk is checked while the
/// previous one is written): reservations never overlap, even before anything is written,
/// and rows written under reserved ids are found under them.
pub async fn import_ids_are_reserved_ahead_of_writes(db: &TestDb) {
    establishment(db, SIRET_A, false).await;
    ok(commit(db, vec![WriteOp::EnsureWorker(worker(NIR_1, "DUPONT"))]).await);
    let est = ok(db.store.establishment(&siret(SIRET_A)).await).unwrap_or_else(|| panic!("est"));
    let mut tx = ok(db.store.begin_import(None, "labo", now()).await);
    let first = ok(tx.reserve_result_ids(3).await);
    let second = ok(tx.reserve_result_ids(2).await);
    assert_eq!((first.len(), second.len()), (3, 2));
    assert!(
        first.iter().all(|a| second.iter().all(|b| a < b)),
        "{first:?} {second:?}"
    );
    let workers_first = ok(tx.reserve_worker_ids(1).await);
    let workers_second = ok(tx.reserve_worker_ids(1).await);
    assert!(workers_first[0] < workers_second[0]);
    assert!(ok(tx.reserve_result_ids(0).await).is_empty());

    let new_id = workers_second[0];
    ok(tx.add_workers(&[(new_id, worker(NIR_2, "MARTIN"))]).await);
    let row = |id: i64, reference_: &str, worker_id: i64| {
        (
            id,
            crate::NewResultRow {
                worker_id,
                establishment_id: est.id,
                sender: lab().key(),
                reference: reference(reference_),
                nature: Nature::External,
                quantity: Quantity::Hp10,
                position: None,
                values: measured(1, 100),
            },
        )
    };
    // Written in the other order than reserved: the ids stay the reserved ones.
    ok(tx
        .add_results(&[row(second[0], "R-2", new_id), row(first[2], "R-1", new_id)])
        .await);
    let found = ok(tx.workers(&[nir(NIR_2)]).await);
    assert_eq!(found.first().map(|w| w.id), Some(new_id));
    let results = ok(tx
        .results(&lab().key(), &[reference("R-1"), reference("R-2")])
        .await);
    let mut ids: Vec<(String, i64)> = results
        .iter()
        .map(|r| (r.reference.as_str().to_owned(), r.id))
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![("R-1".into(), first[2]), ("R-2".into(), second[0])]
    );
    // Later reservations stay above every id reserved or written.
    let third = ok(tx.reserve_result_ids(1).await);
    assert!(third[0] > second[1], "{third:?} after {second:?}");
    let third_worker = ok(tx.reserve_worker_ids(1).await);
    assert!(third_worker[0] > new_id);
}
