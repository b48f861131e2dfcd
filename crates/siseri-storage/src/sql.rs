//! The SQL both engines share, written once.
//!
//! The queries are plain SQL that SQLite and PostgreSQL both accept (`$n` parameters,
//! `RETURNING`, `ON CONFLICT`); what differs between the engines (connection, pragmas,
//! DDL) lives in each adapter. `sql_store!` instantiates the implementation for one
//! engine's sqlx types, so that the two adapters cannot drift apart.

/// Columns of a result joined with its versions.
macro_rules! result_select {
    () => {
        "SELECT r.id, r.sender, r.reference, w.nir, e.siret, r.nature, r.grandeur, r.position, \
         v.version, v.date_debut, v.date_fin, v.statut, v.dose_usv, v.seuil_usv, v.author, \
         v.recorded_at, v.justification, v.transmission_id \
         FROM dose_results r JOIN workers w ON w.id = r.worker_id \
         JOIN establishments e ON e.id = r.establishment_id \
         JOIN result_versions v ON v.result_id = r.id "
    };
}
pub(crate) use result_select;

/// Columns of an operational reading joined with its versions.
macro_rules! reading_select {
    () => {
        "SELECT o.id, w.nir, e.siret, s.siret AS site, o.type_mesure, o.debut_port, o.fin_port, \
         v.version, v.lieu, v.zone, v.type_dosimetre, v.dose_usv, v.activite \
         FROM operational_readings o JOIN workers w ON w.id = o.worker_id \
         JOIN establishments e ON e.id = o.establishment_id \
         JOIN establishments s ON s.id = o.site_inb_id \
         JOIN reading_versions v ON v.reading_id = o.id "
    };
}
pub(crate) use reading_select;

/// Columns of a delegation with both logins.
macro_rules! delegation_select {
    () => {
        "SELECT d.id, m.login AS mdt_login, p.login AS professional_login, d.can_write, d.revoked_at \
         FROM delegations d JOIN accounts m ON m.id = d.mdt_id JOIN accounts p ON p.id = d.professional_id "
    };
}
pub(crate) use delegation_select;

/// Implements [`crate::Store`] for `$store` (which has `pool: sqlx::Pool<$db>`).
macro_rules! sql_store {
    ($store:ident, $db:ty, $row:ty) => {
        use chrono::{DateTime, NaiveDateTime, Utc};
        use siseri_domain::account::{Account, NewAccount, Role};
        use siseri_domain::codes::{
            ActivityCharacter, Classification, ContractType, DosimeterType, Nature, Nuisance,
            OperationalQuantity, OtherExposure, Position, Quantity, ResultStatus, Sex,
        };
        use siseri_domain::ids::{Nir, Siren, Siret};
        use siseri_domain::journal::{self, JournalEntry, JournalEvent};
        use siseri_domain::throttle::AccountThrottle;
        use siseri_domain::result::{
            DoseResult, OperationalReading, ReadingKey, ReadingValues, Reference, ResultValues,
            ResultVersion, Sender,
        };
        use siseri_domain::worker::{
            Attachment, AttachmentTerms, AttachmentVersion, Company, Designation, DesignationRole,
            Establishment, Worker,
        };
        use sqlx::Row;
        use $crate::rows;
        use $crate::sql::{delegation_select, reading_select, result_select};
        use $crate::{
            DelegationRow, GrantRow, LoginState, SessionRow, TokenRow,
            BatchOutcome, Engine, NewDesignation, NewEstablishment, StoreError, StoredToken,
            NewTransmission, WriteBatch, WriteOp,
        };

        type Tx<'a> = sqlx::Transaction<'a, $db>;

        /// Rows under which a plain INSERT beats the bulk path (COPY on PostgreSQL).
        const SMALL_WRITE: usize = 200;

        /// Who writes a version, when, and through which transmission.
        struct Stamp<'a> {
            author: &'a str,
            at: DateTime<Utc>,
            transmission_id: Option<i64>,
        }

        impl $store {
            /// Begins a write transaction by locking the journal head: every write is
            /// journaled, and taking the write lock first spares SQLite a failed upgrade.
            async fn begin_write(&self) -> Result<Tx<'static>, StoreError> {
                Self::begin_write_on(&self.pool).await
            }

            /// [`Self::begin_write`] on a pool (for the journal's writer task).
            async fn begin_write_on(pool: &sqlx::Pool<$db>) -> Result<Tx<'static>, StoreError> {
                let mut tx = pool.begin().await?;
                sqlx::query("UPDATE journal_head SET entries = entries WHERE id = 1")
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }

            /// Chains `events` after the head, in the caller's transaction.
            async fn append_in_tx(tx: &mut Tx<'_>, events: &[JournalEvent]) -> Result<i64, StoreError> {
                let row = sqlx::query("SELECT entries, head FROM journal_head WHERE id = 1")
                    .fetch_one(&mut **tx)
                    .await?;
                let mut seq: i64 = row.try_get("entries")?;
                let mut head: String = row.try_get("head")?;
                for event in events {
                    let entry = journal::chain(seq, &head, event.clone());
                    let mut ids = entry.event.worker_ids.clone();
                    ids.sort_unstable();
                    ids.dedup();
                    let workers: Vec<String> = entry.event.worker_ids.iter().map(i64::to_string).collect();
                    sqlx::query(
                        "INSERT INTO journal (seq, at, actor, role, action, data_kind, workers, outcome, \
                         mission, detail, prev_hash, hash) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(entry.seq)
                    .bind(entry.event.at)
                    .bind(&entry.event.actor)
                    .bind(&entry.event.role)
                    .bind(&entry.event.action)
                    .bind(&entry.event.data_kind)
                    .bind(workers.join(","))
                    .bind(&entry.event.outcome)
                    .bind(&entry.event.mission)
                    .bind(&entry.event.detail)
                    .bind(&entry.prev_hash)
                    .bind(&entry.hash)
                    .execute(&mut **tx)
                    .await?;
                    // In bulk (COPY on PostgreSQL): an import touches up to every worker, and
                    // one round trip per worker cost seconds.
                    let rows: Vec<Vec<$crate::import::Cell>> = ids
                        .iter()
                        .map(|id| vec![$crate::import::Cell::Int(*id), $crate::import::Cell::Int(entry.seq)])
                        .collect();
                    // A read names one worker: a bulk COPY's extra round trips would cost more
                    // than they save (and held the head row meanwhile).
                    if rows.len() > SMALL_WRITE {
                        Self::insert_rows(tx, "journal_workers", &["worker_id", "seq"], &rows).await?;
                    } else if !rows.is_empty() {
                        Self::upsert_rows(tx, "journal_workers", &["worker_id", "seq"], &rows, "").await?;
                    }
                    seq = entry.seq;
                    head = entry.hash;
                }
                sqlx::query("UPDATE journal_head SET entries = $1, head = $2 WHERE id = 1")
                    .bind(seq)
                    .bind(&head)
                    .execute(&mut **tx)
                    .await?;
                Ok(seq)
            }

            fn journal_row(row: &$row) -> Result<JournalEntry, StoreError> {
                let workers: String = row.try_get("workers")?;
                let worker_ids = workers
                    .split(',')
                    .filter(|w| !w.is_empty())
                    .map(|w| w.parse::<i64>().map_err(|_| StoreError::Corrupt(format!("journal : travailleurs « {workers} »"))))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(JournalEntry {
                    seq: row.try_get("seq")?,
                    event: JournalEvent {
                        at: row.try_get("at")?,
                        actor: row.try_get("actor")?,
                        role: row.try_get("role")?,
                        action: row.try_get("action")?,
                        data_kind: row.try_get("data_kind")?,
                        worker_ids,
                        outcome: row.try_get("outcome")?,
                        mission: row.try_get("mission")?,
                        detail: row.try_get("detail")?,
                    },
                    prev_hash: row.try_get("prev_hash")?,
                    hash: row.try_get("hash")?,
                })
            }

            /// Revokes a live row (`sql` sets `revoked_at = $2` for id `$1` if not yet
            /// revoked); journals only when something was revoked.
            async fn revoke(&self, sql: &'static str, id: i64, at: DateTime<Utc>, audit: &JournalEvent) -> Result<bool, StoreError> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(sql).bind(id).bind(at).execute(&mut *tx).await?;
                let revoked = done.rows_affected() == 1;
                if revoked {
                    Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                }
                tx.commit().await?;
                Ok(revoked)
            }

            /// The worker a result, attachment or reading belongs to.
            async fn owner(tx: &mut Tx<'_>, sql: &'static str, id: i64) -> Result<i64, StoreError> {
                let row = sqlx::query(sql).bind(id).fetch_optional(&mut **tx).await?;
                match row {
                    Some(r) => Ok(r.try_get("worker_id")?),
                    None => Err(StoreError::NotFound(format!("élément {id}"))),
                }
            }

            fn throttle_row(row: &$row) -> Result<AccountThrottle, StoreError> {
                Ok(AccountThrottle {
                    failures: row.try_get("failures")?,
                    last_failure_at: row.try_get("last_failure_at")?,
                    next_attempt_at: row.try_get("next_attempt_at")?,
                    notified_at: row.try_get("notified_at")?,
                })
            }

            fn delegation_row(row: &$row) -> Result<DelegationRow, StoreError> {
                Ok(DelegationRow {
                    id: row.try_get("id")?,
                    mdt_login: row.try_get("mdt_login")?,
                    professional_login: row.try_get("professional_login")?,
                    can_write: row.try_get("can_write")?,
                    revoked_at: row.try_get("revoked_at")?,
                })
            }

            fn grant_row(row: &$row) -> Result<GrantRow, StoreError> {
                Ok(GrantRow {
                    id: row.try_get("id")?,
                    nir: rows::nir(row.try_get("nir")?)?,
                    doctor_login: row.try_get("login")?,
                    revoked_at: row.try_get("revoked_at")?,
                })
            }

            fn establishment_row(row: &$row) -> Result<Establishment, StoreError> {
                Ok(Establishment {
                    id: row.try_get("id")?,
                    siret: rows::siret(row.try_get("siret")?)?,
                    name: row.try_get("name")?,
                    inb: row.try_get("inb")?,
                })
            }

            fn worker_row(row: &$row) -> Result<Worker, StoreError> {
                Ok(Worker {
                    id: row.try_get("id")?,
                    nir: rows::nir(row.try_get("nir")?)?,
                    nom: row.try_get("nom")?,
                    prenom: row.try_get("prenom")?,
                    date_naissance: row.try_get("date_naissance")?,
                    sexe: rows::code(row.try_get("sexe")?, Sex::parse, "SEXE")?,
                })
            }

            fn designation_row(row: &$row) -> Result<Designation, StoreError> {
                Ok(Designation {
                    id: row.try_get("id")?,
                    login: row.try_get("login")?,
                    role: rows::code(row.try_get("role")?, DesignationRole::parse, "rôle")?,
                    siret: rows::siret(row.try_get("siret")?)?,
                    date_debut: row.try_get("date_debut")?,
                    date_fin: row.try_get("date_fin")?,
                })
            }

            fn account_row(row: &$row, sirets: Vec<Siret>) -> Result<Account, StoreError> {
                let natures: String = row.try_get("natures")?;
                let natures = natures
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| rows::code(s, Nature::parse, "NATURE"))
                    .collect::<Result<Vec<_>, _>>()?;
                let siren: Option<String> = row.try_get("siren")?;
                let rpps: Option<String> = row.try_get("rpps")?;
                let nir: Option<String> = row.try_get("nir")?;
                Ok(Account {
                    id: row.try_get("id")?,
                    spec: NewAccount {
                        login: row.try_get("login")?,
                        role: rows::code(row.try_get("role")?, Role::parse, "rôle")?,
                        siren: siren.as_deref().map(rows::siren).transpose()?,
                        sirets,
                        rpps: rpps.as_deref().map(rows::rpps).transpose()?,
                        nir: nir.as_deref().map(rows::nir).transpose()?,
                        natures,
                        email: row.try_get("email")?,
                        correspondent: row.try_get("correspondent")?,
                    },
                })
            }

            async fn account_sirets(&self, account_id: i64) -> Result<Vec<Siret>, StoreError> {
                let found = sqlx::query(
                    "SELECT siret FROM account_establishments WHERE account_id = $1 ORDER BY siret",
                )
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?;
                found.iter().map(|r| rows::siret(r.try_get("siret")?)).collect()
            }

            fn terms_row(row: &$row) -> Result<AttachmentTerms, StoreError> {
                let quotite: i32 = row.try_get("quotite_milliemes")?;
                Ok(AttachmentTerms {
                    date_debut: row.try_get("date_debut")?,
                    date_fin: row.try_get("date_fin")?,
                    classement: rows::opt_code(row.try_get("classement")?, Classification::parse, "CLASSEMENT")?,
                    autre_exposition: rows::opt_code(row.try_get("autre_exposition")?, OtherExposure::parse, "AUTREEXPOSITION")?,
                    caractere_activite: rows::code(row.try_get("caractere_activite")?, ActivityCharacter::parse, "caractereActivite")?,
                    code_domaine: row.try_get("code_domaine")?,
                    code_secteur: row.try_get("code_secteur")?,
                    code_metier: row.try_get("code_metier")?,
                    nuisance: rows::code(row.try_get("nuisance")?, Nuisance::parse, "codeNuisanceRadiologique")?,
                    type_contrat: rows::code(row.try_get("type_contrat")?, ContractType::parse, "codeTypeContrat")?,
                    quotite_milliemes: u32::try_from(quotite).map_err(|_| StoreError::Corrupt("QUOTITE".into()))?,
                    groupe: row.try_get("groupe")?,
                })
            }

            /// Groups reading rows (ordered by reading id, then version).
            fn readings_rows(found: &[$row]) -> Result<Vec<OperationalReading>, StoreError> {
                let mut out: Vec<OperationalReading> = Vec::new();
                for row in found {
                    let id: i64 = row.try_get("id")?;
                    let values = ReadingValues {
                        lieu: row.try_get("lieu")?,
                        zone: row.try_get("zone")?,
                        type_dosimetre: rows::code(row.try_get("type_dosimetre")?, DosimeterType::parse, "TYPE_DOSIMETRE")?,
                        dose_usv: row.try_get("dose_usv")?,
                        activite: row.try_get("activite")?,
                    };
                    let version = rows::version(row.try_get("version")?)?;
                    match out.last_mut() {
                        Some(last) if last.id == id => last.versions.push((version, values)),
                        _ => {
                            let debut: NaiveDateTime = row.try_get("debut_port")?;
                            let fin: NaiveDateTime = row.try_get("fin_port")?;
                            out.push(OperationalReading {
                                id,
                                key: ReadingKey {
                                    nir: rows::nir(row.try_get("nir")?)?,
                                    siret: rows::siret(row.try_get("siret")?)?,
                                    type_mesure: rows::code(row.try_get("type_mesure")?, OperationalQuantity::parse, "TYPE_MESURE")?,
                                    debut_port: debut,
                                    fin_port: fin,
                                },
                                site_inb: rows::siret(row.try_get("site")?)?,
                                versions: vec![(version, values)],
                            });
                        }
                    }
                }
                Ok(out)
            }

            /// Groups attachment rows (ordered by attachment id, then version).
            fn attachments_rows(found: &[$row]) -> Result<Vec<Attachment>, StoreError> {
                let mut out: Vec<Attachment> = Vec::new();
                for row in found {
                    let id: i64 = row.try_get("id")?;
                    let version = AttachmentVersion {
                        version: rows::version(row.try_get("version")?)?,
                        terms: Self::terms_row(row)?,
                        author: row.try_get("author")?,
                        recorded_at: row.try_get("recorded_at")?,
                    };
                    match out.last_mut() {
                        Some(last) if last.id == id => last.versions.push(version),
                        _ => out.push(Attachment {
                            id,
                            nir: rows::nir(row.try_get("nir")?)?,
                            siret: rows::siret(row.try_get("siret")?)?,
                            versions: vec![version],
                        }),
                    }
                }
                Ok(out)
            }

            /// Groups result rows (ordered by result id, then version).
            fn results_rows(found: &[$row]) -> Result<Vec<DoseResult>, StoreError> {
                let mut out: Vec<DoseResult> = Vec::new();
                for row in found {
                    let id: i64 = row.try_get("id")?;
                    let version = ResultVersion {
                        version: rows::version(row.try_get("version")?)?,
                        values: ResultValues {
                            date_debut: row.try_get("date_debut")?,
                            date_fin: row.try_get("date_fin")?,
                            statut: rows::code(row.try_get("statut")?, ResultStatus::parse, "STATUT")?,
                            dose_usv: row.try_get("dose_usv")?,
                            seuil_usv: row.try_get("seuil_usv")?,
                        },
                        author: row.try_get("author")?,
                        recorded_at: row.try_get("recorded_at")?,
                        justification: row.try_get("justification")?,
                        transmission_id: row.try_get("transmission_id")?,
                    };
                    match out.last_mut() {
                        Some(last) if last.id == id => last.versions.push(version),
                        _ => {
                            let sender: String = row.try_get("sender")?;
                            let reference: String = row.try_get("reference")?;
                            out.push(DoseResult {
                                id,
                                sender: Sender::from_key(&sender)
                                    .ok_or_else(|| StoreError::Corrupt(format!("émetteur « {sender} »")))?,
                                reference: Reference::parse(&reference)
                                    .map_err(|_| StoreError::Corrupt(format!("référence « {reference} »")))?,
                                nir: rows::nir(row.try_get("nir")?)?,
                                siret: rows::siret(row.try_get("siret")?)?,
                                nature: rows::code(row.try_get("nature")?, Nature::parse, "NATURE")?,
                                quantity: rows::code(row.try_get("grandeur")?, Quantity::parse, "GRANDEUR")?,
                                position: rows::opt_code(row.try_get("position")?, Position::parse, "POSITION")?,
                                versions: vec![version],
                            });
                        }
                    }
                }
                Ok(out)
            }

            async fn id_in_tx(tx: &mut Tx<'_>, sql: &'static str, key: &str, what: &str) -> Result<i64, StoreError> {
                let found = sqlx::query(sql).bind(key).fetch_optional(&mut **tx).await?;
                match found {
                    Some(row) => Ok(row.try_get("id")?),
                    None => Err(StoreError::NotFound(format!("{what} {key}"))),
                }
            }

            async fn worker_id(tx: &mut Tx<'_>, nir: &Nir) -> Result<i64, StoreError> {
                Self::id_in_tx(tx, "SELECT id FROM workers WHERE nir = $1", nir.as_str(), "travailleur").await
            }

            async fn establishment_id(tx: &mut Tx<'_>, siret: &Siret) -> Result<i64, StoreError> {
                Self::id_in_tx(tx, "SELECT id FROM establishments WHERE siret = $1", siret.as_str(), "établissement").await
            }

            /// Checks that `after` is the latest version of a row, for an append.
            async fn check_latest(tx: &mut Tx<'_>, sql: &'static str, id: i64, after: u32, what: &str) -> Result<i32, StoreError> {
                let row = sqlx::query(sql).bind(id).fetch_one(&mut **tx).await?;
                let latest: Option<i32> = row.try_get("latest")?;
                match latest {
                    None => Err(StoreError::NotFound(format!("{what} {id}"))),
                    Some(v) if v == rows::version_db(after)? => Ok(v + 1),
                    Some(v) => Err(StoreError::Conflict(format!(
                        "{what} {id} : la version {v} a été écrite entre-temps (attendu {after})"
                    ))),
                }
            }

            async fn insert_attachment_version(
                tx: &mut Tx<'_>, attachment_id: i64, version: i32, t: &AttachmentTerms, stamp: &Stamp<'_>,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO attachment_versions (attachment_id, version, date_debut, date_fin, \
                     classement, autre_exposition, caractere_activite, code_domaine, code_secteur, \
                     code_metier, nuisance, type_contrat, quotite_milliemes, groupe, author, \
                     recorded_at, transmission_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
                )
                .bind(attachment_id)
                .bind(version)
                .bind(t.date_debut)
                .bind(t.date_fin)
                .bind(t.classement.map(|c| c.code()))
                .bind(t.autre_exposition.map(|c| c.code()))
                .bind(t.caractere_activite.code())
                .bind(&t.code_domaine)
                .bind(&t.code_secteur)
                .bind(&t.code_metier)
                .bind(t.nuisance.code())
                .bind(t.type_contrat.code())
                .bind(i32::try_from(t.quotite_milliemes).unwrap_or(i32::MAX))
                .bind(&t.groupe)
                .bind(stamp.author)
                .bind(stamp.at)
                .bind(stamp.transmission_id)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            async fn insert_result_version(
                tx: &mut Tx<'_>, result_id: i64, version: i32, v: &ResultValues,
                justification: Option<&str>, stamp: &Stamp<'_>,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO result_versions (result_id, version, date_debut, date_fin, statut, \
                     dose_usv, seuil_usv, author, recorded_at, justification, transmission_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(result_id)
                .bind(version)
                .bind(v.date_debut)
                .bind(v.date_fin)
                .bind(v.statut.code())
                .bind(v.dose_usv)
                .bind(v.seuil_usv)
                .bind(stamp.author)
                .bind(stamp.at)
                .bind(justification)
                .bind(stamp.transmission_id)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            async fn insert_reading_version(
                tx: &mut Tx<'_>, reading_id: i64, version: i32, v: &ReadingValues, stamp: &Stamp<'_>,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO reading_versions (reading_id, version, lieu, zone, type_dosimetre, \
                     dose_usv, activite, author, recorded_at, transmission_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(reading_id)
                .bind(version)
                .bind(&v.lieu)
                .bind(&v.zone)
                .bind(v.type_dosimetre.code())
                .bind(v.dose_usv)
                .bind(&v.activite)
                .bind(stamp.author)
                .bind(stamp.at)
                .bind(stamp.transmission_id)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            async fn apply(tx: &mut Tx<'_>, op: &WriteOp, stamp: &Stamp<'_>) -> Result<(i64, i64), StoreError> {
                let at = stamp.at;
                match op {
                    WriteOp::EnsureWorker(w) => {
                        sqlx::query(
                            "INSERT INTO workers (nir, nom, prenom, date_naissance, sexe, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (nir) DO NOTHING",
                        )
                        .bind(w.nir.as_str())
                        .bind(&w.nom)
                        .bind(&w.prenom)
                        .bind(w.date_naissance)
                        .bind(w.sexe.code())
                        .bind(at)
                        .execute(&mut **tx)
                        .await?;
                        let id = Self::worker_id(tx, &w.nir).await?;
                        Ok((id, id))
                    }
                    WriteOp::CorrectIdentity { nir, identity, reason } => {
                        let id = Self::worker_id(tx, nir).await?;
                        sqlx::query(
                            "INSERT INTO worker_identity_history (worker_id, nom, prenom, date_naissance, sexe, \
                             replaced_at, replaced_by, reason) \
                             SELECT id, nom, prenom, date_naissance, sexe, $2, $3, $4 FROM workers WHERE id = $1",
                        )
                        .bind(id)
                        .bind(at)
                        .bind(stamp.author)
                        .bind(reason)
                        .execute(&mut **tx)
                        .await?;
                        sqlx::query(
                            "UPDATE workers SET nom = $2, prenom = $3, date_naissance = $4, sexe = $5 WHERE id = $1",
                        )
                        .bind(id)
                        .bind(&identity.nom)
                        .bind(&identity.prenom)
                        .bind(identity.date_naissance)
                        .bind(identity.sexe.code())
                        .execute(&mut **tx)
                        .await?;
                        Ok((id, id))
                    }
                    WriteOp::AddAttachment { nir, siret, terms } => {
                        let worker = Self::worker_id(tx, nir).await?;
                        let est = Self::establishment_id(tx, siret).await?;
                        let row = sqlx::query(
                            "INSERT INTO attachments (worker_id, establishment_id, created_at) \
                             VALUES ($1, $2, $3) RETURNING id",
                        )
                        .bind(worker)
                        .bind(est)
                        .bind(at)
                        .fetch_one(&mut **tx)
                        .await?;
                        let id: i64 = row.try_get("id")?;
                        Self::insert_attachment_version(tx, id, 1, terms, stamp).await?;
                        Ok((id, worker))
                    }
                    WriteOp::AddAttachmentVersion { attachment_id, after_version, terms } => {
                        let next = Self::check_latest(
                            tx,
                            "SELECT MAX(version) AS latest FROM attachment_versions WHERE attachment_id = $1",
                            *attachment_id, *after_version, "rattachement",
                        ).await?;
                        Self::insert_attachment_version(tx, *attachment_id, next, terms, stamp).await?;
                        let worker = Self::owner(tx, "SELECT worker_id FROM attachments WHERE id = $1", *attachment_id).await?;
                        Ok((*attachment_id, worker))
                    }
                    WriteOp::AddResult { sender, reference, nir, siret, nature, quantity, position, values, justification } => {
                        let worker = Self::worker_id(tx, nir).await?;
                        let est = Self::establishment_id(tx, siret).await?;
                        let row = sqlx::query(
                            "INSERT INTO dose_results (sender, reference, worker_id, establishment_id, \
                             nature, grandeur, position, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                        )
                        .bind(sender.key())
                        .bind(reference.as_str())
                        .bind(worker)
                        .bind(est)
                        .bind(nature.code())
                        .bind(quantity.code())
                        .bind(position.map(|p| p.code()))
                        .bind(at)
                        .fetch_one(&mut **tx)
                        .await?;
                        let id: i64 = row.try_get("id")?;
                        Self::insert_result_version(tx, id, 1, values, justification.as_deref(), stamp).await?;
                        Ok((id, worker))
                    }
                    WriteOp::AddResultVersion { result_id, after_version, values, justification } => {
                        let next = Self::check_latest(
                            tx,
                            "SELECT MAX(version) AS latest FROM result_versions WHERE result_id = $1",
                            *result_id, *after_version, "résultat",
                        ).await?;
                        Self::insert_result_version(tx, *result_id, next, values, justification.as_deref(), stamp).await?;
                        let worker = Self::owner(tx, "SELECT worker_id FROM dose_results WHERE id = $1", *result_id).await?;
                        Ok((*result_id, worker))
                    }
                    WriteOp::AddReading { key, site_inb, values } => {
                        let worker = Self::worker_id(tx, &key.nir).await?;
                        let est = Self::establishment_id(tx, &key.siret).await?;
                        let site = Self::establishment_id(tx, site_inb).await?;
                        let row = sqlx::query(
                            "INSERT INTO operational_readings (worker_id, establishment_id, type_mesure, \
                             debut_port, fin_port, site_inb_id, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                        )
                        .bind(worker)
                        .bind(est)
                        .bind(key.type_mesure.code())
                        .bind(key.debut_port)
                        .bind(key.fin_port)
                        .bind(site)
                        .bind(at)
                        .fetch_one(&mut **tx)
                        .await?;
                        let id: i64 = row.try_get("id")?;
                        Self::insert_reading_version(tx, id, 1, values, stamp).await?;
                        Ok((id, worker))
                    }
                    WriteOp::Alert(op) => Self::apply_alert(tx, op, stamp).await,
                    WriteOp::AddReadingVersion { reading_id, after_version, values } => {
                        let next = Self::check_latest(
                            tx,
                            "SELECT MAX(version) AS latest FROM reading_versions WHERE reading_id = $1",
                            *reading_id, *after_version, "mesure opérationnelle",
                        ).await?;
                        Self::insert_reading_version(tx, *reading_id, next, values, stamp).await?;
                        let worker = Self::owner(tx, "SELECT worker_id FROM operational_readings WHERE id = $1", *reading_id).await?;
                        Ok((*reading_id, worker))
                    }
                }
            }
        }

        #[async_trait::async_trait]
        impl $crate::Store for $store {
            fn engine(&self) -> Engine {
                Self::ENGINE
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn add_establishment(&self, e: &NewEstablishment, audit: &JournalEvent) -> Result<Establishment, StoreError> {
                let at = audit.at;
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO companies (siren, name) VALUES ($1, $2) ON CONFLICT (siren) DO NOTHING")
                    .bind(e.siret.siren().as_str())
                    .bind(&e.company_name)
                    .execute(&mut *tx)
                    .await?;
                let row = sqlx::query(
                    "INSERT INTO establishments (siret, siren, name, inb, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id, siret, name, inb",
                )
                .bind(e.siret.as_str())
                .bind(e.siret.siren().as_str())
                .bind(&e.name)
                .bind(e.inb)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                let created = Self::establishment_row(&row)?;
                Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn establishment(&self, siret: &Siret) -> Result<Option<Establishment>, StoreError> {
                let row = sqlx::query("SELECT id, siret, name, inb FROM establishments WHERE siret = $1")
                    .bind(siret.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::establishment_row).transpose()
            }

            async fn establishments(&self) -> Result<Vec<Establishment>, StoreError> {
                let found = sqlx::query("SELECT id, siret, name, inb FROM establishments ORDER BY siret")
                    .fetch_all(&self.pool)
                    .await?;
                found.iter().map(Self::establishment_row).collect()
            }

            async fn company(&self, siren: &Siren) -> Result<Option<Company>, StoreError> {
                let row = sqlx::query("SELECT siren, name FROM companies WHERE siren = $1")
                    .bind(siren.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| Ok(Company { siren: rows::siren(r.try_get("siren")?)?, name: r.try_get("name")? }))
                    .transpose()
            }

            async fn add_account(&self, a: &NewAccount, password_hash: Option<&str>, audit: &JournalEvent) -> Result<Account, StoreError> {
                let at = audit.at;
                let natures: Vec<&str> = a.natures.iter().map(|n| n.code()).collect();
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
                    "INSERT INTO accounts (login, role, siren, rpps, nir, natures, email, correspondent, \
                     password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                )
                .bind(&a.login)
                .bind(a.role.code())
                .bind(a.siren.as_ref().map(|s| s.as_str()))
                .bind(a.rpps.as_ref().map(|s| s.as_str()))
                .bind(a.nir.as_ref().map(|s| s.as_str()))
                .bind(natures.join(","))
                .bind(&a.email)
                .bind(a.correspondent)
                .bind(password_hash)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                let id: i64 = row.try_get("id")?;
                for s in &a.sirets {
                    sqlx::query("INSERT INTO account_establishments (account_id, siret) VALUES ($1, $2)")
                        .bind(id)
                        .bind(s.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                tx.commit().await?;
                Ok(Account { id, spec: a.clone() })
            }

            async fn account(&self, login: &str) -> Result<Option<Account>, StoreError> {
                let row = sqlx::query("SELECT * FROM accounts WHERE login = $1")
                    .bind(login)
                    .fetch_optional(&self.pool)
                    .await?;
                match row {
                    None => Ok(None),
                    Some(row) => {
                        let sirets = self.account_sirets(row.try_get("id")?).await?;
                        Self::account_row(&row, sirets).map(Some)
                    }
                }
            }

            async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
                let found = sqlx::query("SELECT * FROM accounts ORDER BY login").fetch_all(&self.pool).await?;
                let mut out = Vec::with_capacity(found.len());
                for row in &found {
                    let sirets = self.account_sirets(row.try_get("id")?).await?;
                    out.push(Self::account_row(row, sirets)?);
                }
                Ok(out)
            }

            async fn password_hash(&self, login: &str) -> Result<Option<String>, StoreError> {
                let row = sqlx::query("SELECT password_hash FROM accounts WHERE login = $1")
                    .bind(login)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(match row {
                    Some(r) => r.try_get("password_hash")?,
                    None => None,
                })
            }

            async fn add_token(&self, login: &str, token_hash: &str, expires_at: DateTime<Utc>, audit: &JournalEvent) -> Result<i64, StoreError> {
                let at = audit.at;
                let mut tx = self.begin_write().await?;
                let account = Self::id_in_tx(&mut tx, "SELECT id FROM accounts WHERE login = $1", login, "compte").await?;
                let row = sqlx::query(
                    "INSERT INTO api_tokens (account_id, token_hash, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(account)
                .bind(token_hash)
                .bind(at)
                .bind(expires_at)
                .fetch_one(&mut *tx)
                .await?;
                Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                tx.commit().await?;
                Ok(row.try_get("id")?)
            }

            async fn token(&self, token_hash: &str) -> Result<Option<StoredToken>, StoreError> {
                let row = sqlx::query(
                    "SELECT t.id, t.expires_at, t.revoked_at, a.login FROM api_tokens t \
                     JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let login: String = row.try_get("login")?;
                let account = self
                    .account(&login)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("compte {login}")))?;
                Ok(Some(StoredToken {
                    id: row.try_get("id")?,
                    account,
                    expires_at: row.try_get("expires_at")?,
                    revoked_at: row.try_get("revoked_at")?,
                }))
            }

            async fn add_designation(&self, d: &NewDesignation, audit: &JournalEvent) -> Result<Designation, StoreError> {
                let at = audit.at;
                let mut tx = self.begin_write().await?;
                let account = Self::id_in_tx(&mut tx, "SELECT id FROM accounts WHERE login = $1", &d.login, "compte").await?;
                let est = Self::establishment_id(&mut tx, &d.siret).await?;
                let row = sqlx::query(
                    "INSERT INTO designations (account_id, role, establishment_id, date_debut, date_fin, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(account)
                .bind(d.role.code())
                .bind(est)
                .bind(d.date_debut)
                .bind(d.date_fin)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                tx.commit().await?;
                Ok(Designation {
                    id: row.try_get("id")?,
                    login: d.login.clone(),
                    role: d.role,
                    siret: d.siret.clone(),
                    date_debut: d.date_debut,
                    date_fin: d.date_fin,
                })
            }

            async fn designations_of(&self, login: &str) -> Result<Vec<Designation>, StoreError> {
                let found = sqlx::query(
                    "SELECT d.id, a.login, d.role, e.siret, d.date_debut, d.date_fin FROM designations d \
                     JOIN accounts a ON a.id = d.account_id JOIN establishments e ON e.id = d.establishment_id \
                     WHERE a.login = $1 ORDER BY d.id",
                )
                .bind(login)
                .fetch_all(&self.pool)
                .await?;
                found.iter().map(Self::designation_row).collect()
            }

            async fn designations_on(&self, siret: &Siret) -> Result<Vec<Designation>, StoreError> {
                let found = sqlx::query(
                    "SELECT d.id, a.login, d.role, e.siret, d.date_debut, d.date_fin FROM designations d \
                     JOIN accounts a ON a.id = d.account_id JOIN establishments e ON e.id = d.establishment_id \
                     WHERE e.siret = $1 ORDER BY d.id",
                )
                .bind(siret.as_str())
                .fetch_all(&self.pool)
                .await?;
                found.iter().map(Self::designation_row).collect()
            }

            async fn worker(&self, nir: &Nir) -> Result<Option<Worker>, StoreError> {
                let row = sqlx::query("SELECT id, nir, nom, prenom, date_naissance, sexe FROM workers WHERE nir = $1")
                    .bind(nir.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::worker_row).transpose()
            }

            async fn worker_count(&self) -> Result<i64, StoreError> {
                let row = sqlx::query("SELECT COUNT(*) AS n FROM workers").fetch_one(&self.pool).await?;
                Ok(row.try_get("n")?)
            }

            async fn attachments(&self, nir: &Nir) -> Result<Vec<Attachment>, StoreError> {
                let found = sqlx::query(
                    "SELECT a.id, w.nir, e.siret, v.* FROM attachments a \
                     JOIN workers w ON w.id = a.worker_id JOIN establishments e ON e.id = a.establishment_id \
                     JOIN attachment_versions v ON v.attachment_id = a.id \
                     WHERE w.nir = $1 ORDER BY a.id, v.version",
                )
                .bind(nir.as_str())
                .fetch_all(&self.pool)
                .await?;
                Self::attachments_rows(&found)
            }

            async fn workers_of(&self, siret: &Siret) -> Result<Vec<Worker>, StoreError> {
                let found = sqlx::query(
                    "SELECT DISTINCT w.id, w.nir, w.nom, w.prenom, w.date_naissance, w.sexe FROM workers w \
                     JOIN attachments a ON a.worker_id = w.id JOIN establishments e ON e.id = a.establishment_id \
                     WHERE e.siret = $1 ORDER BY w.nir",
                )
                .bind(siret.as_str())
                .fetch_all(&self.pool)
                .await?;
                found.iter().map(Self::worker_row).collect()
            }

            async fn results(&self, nir: &Nir) -> Result<Vec<DoseResult>, StoreError> {
                let found = sqlx::query(concat!(result_select!(), "WHERE w.nir = $1 ORDER BY r.id, v.version"))
                    .bind(nir.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                Self::results_rows(&found)
            }

            async fn result(&self, id: i64) -> Result<Option<DoseResult>, StoreError> {
                let found = sqlx::query(concat!(result_select!(), "WHERE r.id = $1 ORDER BY v.version"))
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(Self::results_rows(&found)?.pop())
            }

            async fn result_by_reference(&self, sender: &Sender, reference: &Reference) -> Result<Option<DoseResult>, StoreError> {
                let found = sqlx::query(concat!(
                    result_select!(),
                    "WHERE r.sender = $1 AND r.reference = $2 ORDER BY v.version"
                ))
                .bind(sender.key())
                .bind(reference.as_str())
                .fetch_all(&self.pool)
                .await?;
                Ok(Self::results_rows(&found)?.pop())
            }

            async fn readings(&self, nir: &Nir) -> Result<Vec<OperationalReading>, StoreError> {
                let found = sqlx::query(concat!(reading_select!(), "WHERE w.nir = $1 ORDER BY o.id, v.version"))
                    .bind(nir.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                Self::readings_rows(&found)
            }

            async fn result_version_count(&self) -> Result<i64, StoreError> {
                let row = sqlx::query("SELECT COUNT(*) AS n FROM result_versions").fetch_one(&self.pool).await?;
                Ok(row.try_get("n")?)
            }

            async fn login_state(&self, login: &str) -> Result<Option<LoginState>, StoreError> {
                let row = sqlx::query("SELECT * FROM accounts WHERE login = $1")
                    .bind(login)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else { return Ok(None) };
                let sirets = self.account_sirets(row.try_get("id")?).await?;
                Ok(Some(LoginState {
                    account: Self::account_row(&row, sirets)?,
                    password_hash: row.try_get("password_hash")?,
                    failed_logins: row.try_get("failed_logins")?,
                    locked_until: row.try_get("locked_until")?,
                    totp_secret: row.try_get("totp_secret")?,
                }))
            }

            async fn login_throttle(&self, login: &str) -> Result<Option<AccountThrottle>, StoreError> {
                let row = sqlx::query(
                    "SELECT t.failures, t.last_failure_at, t.next_attempt_at, t.notified_at \
                     FROM login_throttle t JOIN accounts a ON a.id = t.account_id WHERE a.login = $1",
                )
                .bind(login)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(Self::throttle_row).transpose()
            }

            async fn record_login_failure(&self, login: &str, at: DateTime<Utc>, audit: &JournalEvent) -> Result<Option<(AccountThrottle, bool)>, StoreError> {
                // The journal head's lock (begin_write) serialises concurrent failures.
                let mut tx = self.begin_write().await?;
                let account = sqlx::query("SELECT id FROM accounts WHERE login = $1")
                    .bind(login)
                    .fetch_optional(&mut *tx)
                    .await?;
                let mut outcome = None;
                if let Some(account) = account {
                    let account: i64 = account.try_get("id")?;
                    let previous = sqlx::query(
                        "SELECT failures, last_failure_at, next_attempt_at, notified_at \
                         FROM login_throttle WHERE account_id = $1",
                    )
                    .bind(account)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let previous = previous.as_ref().map(Self::throttle_row).transpose()?;
                    let mut next = AccountThrottle::after_failure(previous.as_ref(), at);
                    let tell = next.owner_to_be_told(at);
                    if tell {
                        next.notified_at = Some(at);
                    }
                    sqlx::query(
                        "INSERT INTO login_throttle (account_id, failures, last_failure_at, next_attempt_at, notified_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id) DO UPDATE SET \
                         failures = excluded.failures, last_failure_at = excluded.last_failure_at, \
                         next_attempt_at = excluded.next_attempt_at, notified_at = excluded.notified_at",
                    )
                    .bind(account)
                    .bind(next.failures)
                    .bind(next.last_failure_at)
                    .bind(next.next_attempt_at)
                    .bind(next.notified_at)
                    .execute(&mut *tx)
                    .await?;
                    outcome = Some((next, tell));
                }
                Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                tx.commit().await?;
                Ok(outcome)
            }

            async fn login_succeeded(&self, login: &str, audit: &JournalEvent) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE login = $1")
                    .bind(login)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM login_throttle WHERE account_id = (SELECT id FROM accounts WHERE login = $1)")
                    .bind(login)
                    .execute(&mut *tx)
                    .await?;
                Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_password(&self, login: &str, password_hash: &str, audit: &JournalEvent) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("UPDATE accounts SET password_hash = $2 WHERE login = $1")
                    .bind(login)
                    .bind(password_hash)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("compte {login}")));
                }
                Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_totp(&self, login: &str, secret: &str, recovery_hashes: &[String], audit: &JournalEvent) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                let account = Self::id_in_tx(&mut tx, "SELECT id FROM accounts WHERE login = $1", login, "compte").await?;
                sqlx::query("UPDATE accounts SET totp_secret = $2, totp_last_step = NULL WHERE id = $1")
                    .bind(account)
                    .bind(secret)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1")
                    .bind(account)
                    .execute(&mut *tx)
                    .await?;
                for h in recovery_hashes {
                    sqlx::query("INSERT INTO recovery_codes (account_id, code_hash) VALUES ($1, $2)")
                        .bind(account)
                        .bind(h)
                        .execute(&mut *tx)
                        .await?;
                }
                Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn accept_totp_step(&self, login: &str, step: i64) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE accounts SET totp_last_step = $2 WHERE login = $1 \
                     AND (totp_last_step IS NULL OR totp_last_step < $2)",
                )
                .bind(login)
                .bind(step)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn use_recovery_code(&self, login: &str, code_hash: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE recovery_codes SET used_at = $3 WHERE code_hash = $2 AND used_at IS NULL \
                     AND account_id = (SELECT id FROM accounts WHERE login = $1)",
                )
                .bind(login)
                .bind(code_hash)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn add_login_device(&self, login: &str, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
                let done = sqlx::query(
                    "INSERT INTO login_devices (token_hash, account_id, created_at) \
                     SELECT $1, id, $3 FROM accounts WHERE login = $2 ON CONFLICT (token_hash) DO NOTHING",
                )
                .bind(token_hash)
                .bind(login)
                .bind(at)
                .execute(&self.pool)
                .await?;
                let _ = done;
                Ok(())
            }

            async fn login_device_known(&self, login: &str, token_hash: &str) -> Result<bool, StoreError> {
                let row = sqlx::query(
                    "SELECT 1 AS known FROM login_devices d JOIN accounts a ON a.id = d.account_id \
                     WHERE d.token_hash = $1 AND a.login = $2",
                )
                .bind(token_hash)
                .bind(login)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.is_some())
            }

            async fn forget_login_device(&self, token_hash: &str) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM login_devices WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn accounts_by_email(&self, email: &str) -> Result<Vec<Account>, StoreError> {
                let found = sqlx::query("SELECT login FROM accounts WHERE LOWER(email) = LOWER($1) ORDER BY login")
                    .bind(email.trim())
                    .fetch_all(&self.pool)
                    .await?;
                let mut out = Vec::with_capacity(found.len());
                for row in &found {
                    let login: String = row.try_get("login")?;
                    if let Some(a) = self.account(&login).await? {
                        out.push(a);
                    }
                }
                Ok(out)
            }

            async fn add_password_reset(&self, login: &str, token_hash: &str, at: DateTime<Utc>, expires_at: DateTime<Utc>, audit: &JournalEvent) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                let account = Self::id_in_tx(&mut tx, "SELECT id FROM accounts WHERE login = $1", login, "compte").await?;
                sqlx::query("INSERT INTO password_resets (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(token_hash)
                    .bind(account)
                    .bind(at)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await?;
                Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn password_reset(&self, token_hash: &str, at: DateTime<Utc>) -> Result<Option<Account>, StoreError> {
                let row = sqlx::query(
                    "SELECT a.login, r.expires_at, r.used_at FROM password_resets r \
                     JOIN accounts a ON a.id = r.account_id WHERE r.token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let expires_at: DateTime<Utc> = row.try_get("expires_at")?;
                let used_at: Option<DateTime<Utc>> = row.try_get("used_at")?;
                if used_at.is_some() || expires_at <= at {
                    return Ok(None);
                }
                let login: String = row.try_get("login")?;
                self.account(&login).await
            }

            async fn use_password_reset(&self, token_hash: &str, at: DateTime<Utc>, password_hash: &str, audit: &JournalEvent) -> Result<bool, StoreError> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query("SELECT account_id, expires_at, used_at FROM password_resets WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(row) = row else { return Ok(false) };
                let account: i64 = row.try_get("account_id")?;
                let expires_at: DateTime<Utc> = row.try_get("expires_at")?;
                let used_at: Option<DateTime<Utc>> = row.try_get("used_at")?;
                if used_at.is_some() || expires_at <= at {
                    return Ok(false);
                }
                // Every link of the account ends with this one: an older mail is no key.
                sqlx::query("UPDATE password_resets SET used_at = $2 WHERE account_id = $1 AND used_at IS NULL")
                    .bind(account)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE accounts SET password_hash = $2 WHERE id = $1")
                    .bind(account)
                    .bind(password_hash)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                    .bind(account)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM login_throttle WHERE account_id = $1")
                    .bind(account)
                    .execute(&mut *tx)
                    .await?;
                Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn create_session(&self, token_hash: &str, login: &str, at: DateTime<Utc>, second_factor: bool, csrf: &str) -> Result<(), StoreError> {
                let done = sqlx::query(
                    "INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, second_factor, csrf) \
                     SELECT $1, id, $3, $3, $4, $5 FROM accounts WHERE login = $2",
                )
                .bind(token_hash)
                .bind(login)
                .bind(at)
                .bind(second_factor)
                .bind(csrf)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("compte {login}")));
                }
                Ok(())
            }

            async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, StoreError> {
                let row = sqlx::query(
                    "SELECT s.created_at, s.last_seen_at, s.second_factor, s.csrf, a.login \
                     FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let login: String = row.try_get("login")?;
                let account = self.account(&login).await?.ok_or_else(|| StoreError::Corrupt(format!("compte {login}")))?;
                Ok(Some(SessionRow {
                    account,
                    created_at: row.try_get("created_at")?,
                    last_seen_at: row.try_get("last_seen_at")?,
                    second_factor: row.try_get("second_factor")?,
                    csrf: row.try_get("csrf")?,
                }))
            }

            async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
                sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
                    .bind(token_hash)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn promote_session(&self, token_hash: &str) -> Result<(), StoreError> {
                sqlx::query("UPDATE sessions SET second_factor = TRUE WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn tokens_of(&self, login: &str) -> Result<Vec<TokenRow>, StoreError> {
                let found = sqlx::query(
                    "SELECT t.id, t.created_at, t.expires_at, t.revoked_at FROM api_tokens t \
                     JOIN accounts a ON a.id = t.account_id WHERE a.login = $1 ORDER BY t.id",
                )
                .bind(login)
                .fetch_all(&self.pool)
                .await?;
                found
                    .iter()
                    .map(|r| {
                        Ok(TokenRow {
                            id: r.try_get("id")?,
                            created_at: r.try_get("created_at")?,
                            expires_at: r.try_get("expires_at")?,
                            revoked_at: r.try_get("revoked_at")?,
                        })
                    })
                    .collect()
            }

            async fn revoke_token(&self, login: &str, id: i64, at: DateTime<Utc>, audit: &JournalEvent) -> Result<bool, StoreError> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $3 WHERE id = $2 AND revoked_at IS NULL \
                     AND account_id = (SELECT id FROM accounts WHERE login = $1)",
                )
                .bind(login)
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                let revoked = done.rows_affected() == 1;
                if revoked {
                    Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                }
                tx.commit().await?;
                Ok(revoked)
            }

            async fn link_identity(&self, issuer: &str, subject: &str, login: &str, audit: &JournalEvent) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                let account = Self::id_in_tx(&mut tx, "SELECT id FROM accounts WHERE login = $1", login, "compte").await?;
                sqlx::query("INSERT INTO federated_identities (issuer, subject, account_id, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(issuer)
                    .bind(subject)
                    .bind(account)
                    .bind(audit.at)
                    .execute(&mut *tx)
                    .await?;
                Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn account_by_identity(&self, issuer: &str, subject: &str) -> Result<Option<Account>, StoreError> {
                let row = sqlx::query(
                    "SELECT a.login FROM federated_identities f JOIN accounts a ON a.id = f.account_id \
                     WHERE f.issuer = $1 AND f.subject = $2",
                )
                .bind(issuer)
                .bind(subject)
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    Some(r) => {
                        let login: String = r.try_get("login")?;
                        self.account(&login).await
                    }
                    None => Ok(None),
                }
            }

            async fn set_enrolment(&self, login: &str, code_hash: &str, expires_at: DateTime<Utc>, audit: &JournalEvent) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("UPDATE accounts SET enrolment_hash = $2, enrolment_expires = $3 WHERE login = $1")
                    .bind(login)
                    .bind(code_hash)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("compte {login}")));
                }
                Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn take_enrolment(&self, code_hash: &str, at: DateTime<Utc>) -> Result<Option<Account>, StoreError> {
                let row = sqlx::query(
                    "UPDATE accounts SET enrolment_hash = NULL, enrolment_expires = NULL \
                     WHERE enrolment_hash = $1 AND enrolment_expires > $2 RETURNING login",
                )
                .bind(code_hash)
                .bind(at)
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    Some(r) => {
                        let login: String = r.try_get("login")?;
                        self.account(&login).await
                    }
                    None => Ok(None),
                }
            }

            async fn add_delegation(&self, mdt_login: &str, professional_login: &str, can_write: bool, audit: &JournalEvent) -> Result<i64, StoreError> {
                let mut tx = self.begin_write().await?;
                let mdt = Self::id_in_tx(&mut tx, "SELECT id FROM accounts WHERE login = $1", mdt_login, "compte").await?;
                let pro = Self::id_in_tx(&mut tx, "SELECT id FROM accounts WHERE login = $1", professional_login, "compte").await?;
                let row = sqlx::query(
                    "INSERT INTO delegations (mdt_id, professional_id, can_write, created_at) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(mdt)
                .bind(pro)
                .bind(can_write)
                .bind(audit.at)
                .fetch_one(&mut *tx)
                .await?;
                Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                tx.commit().await?;
                Ok(row.try_get("id")?)
            }

            async fn revoke_delegation(&self, id: i64, at: DateTime<Utc>, audit: &JournalEvent) -> Result<bool, StoreError> {
                self.revoke("UPDATE delegations SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", id, at, audit).await
            }

            async fn delegations_from(&self, mdt_login: &str) -> Result<Vec<DelegationRow>, StoreError> {
                let found = sqlx::query(concat!(delegation_select!(), "WHERE m.login = $1 ORDER BY d.id"))
                    .bind(mdt_login)
                    .fetch_all(&self.pool)
                    .await?;
                found.iter().map(Self::delegation_row).collect()
            }

            async fn delegations_to(&self, professional_login: &str) -> Result<Vec<DelegationRow>, StoreError> {
                let found = sqlx::query(concat!(delegation_select!(), "WHERE p.login = $1 ORDER BY d.id"))
                    .bind(professional_login)
                    .fetch_all(&self.pool)
                    .await?;
                found.iter().map(Self::delegation_row).collect()
            }

            async fn add_grant(&self, nir: &Nir, doctor_login: &str, audit: &JournalEvent) -> Result<i64, StoreError> {
                let mut tx = self.begin_write().await?;
                let doctor = Self::id_in_tx(&mut tx, "SELECT id FROM accounts WHERE login = $1", doctor_login, "compte").await?;
                let row = sqlx::query("INSERT INTO doctor_grants (nir, doctor_id, created_at) VALUES ($1, $2, $3) RETURNING id")
                    .bind(nir.as_str())
                    .bind(doctor)
                    .bind(audit.at)
                    .fetch_one(&mut *tx)
                    .await?;
                Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                tx.commit().await?;
                Ok(row.try_get("id")?)
            }

            async fn revoke_grant(&self, id: i64, at: DateTime<Utc>, audit: &JournalEvent) -> Result<bool, StoreError> {
                self.revoke("UPDATE doctor_grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", id, at, audit).await
            }

            async fn grants_of(&self, doctor_login: &str) -> Result<Vec<GrantRow>, StoreError> {
                let found = sqlx::query(
                    "SELECT g.id, g.nir, a.login, g.revoked_at FROM doctor_grants g \
                     JOIN accounts a ON a.id = g.doctor_id WHERE a.login = $1 ORDER BY g.id",
                )
                .bind(doctor_login)
                .fetch_all(&self.pool)
                .await?;
                found.iter().map(Self::grant_row).collect()
            }

            async fn grants_on(&self, nir: &Nir) -> Result<Vec<GrantRow>, StoreError> {
                let found = sqlx::query(
                    "SELECT g.id, g.nir, a.login, g.revoked_at FROM doctor_grants g \
                     JOIN accounts a ON a.id = g.doctor_id WHERE g.nir = $1 ORDER BY g.id",
                )
                .bind(nir.as_str())
                .fetch_all(&self.pool)
                .await?;
                found.iter().map(Self::grant_row).collect()
            }

            async fn set_natures(&self, login: &str, natures: &[Nature], audit: &JournalEvent) -> Result<(), StoreError> {
                let codes: Vec<&str> = natures.iter().map(|n| n.code()).collect();
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("UPDATE accounts SET natures = $2 WHERE login = $1 AND role = 'ORGANISME'")
                    .bind(login)
                    .bind(codes.join(","))
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("organisme {login}")));
                }
                Self::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn append_journal(&self, events: &[JournalEvent]) -> Result<(), StoreError> {
                // Through the store's writer: concurrent reads share one transaction.
                let pool = self.pool.clone();
                let write = move || -> $crate::journal_writer::WriteFn {
                    let pool = pool.clone();
                    std::sync::Arc::new(move |events: Vec<JournalEvent>| {
                        let pool = pool.clone();
                        Box::pin(async move {
                            let mut tx = Self::begin_write_on(&pool).await?;
                            Self::append_in_tx(&mut tx, &events).await?;
                            tx.commit().await?;
                            Ok(())
                        })
                    })
                };
                self.journal.append(events.to_vec(), write).await
            }

            async fn journal_page(&self, after_seq: i64, limit: i64) -> Result<Vec<JournalEntry>, StoreError> {
                let found = sqlx::query("SELECT * FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(after_seq)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                found.iter().map(Self::journal_row).collect()
            }

            async fn journal_head(&self) -> Result<(i64, String), StoreError> {
                let row = sqlx::query("SELECT entries, head FROM journal_head WHERE id = 1")
                    .fetch_optional(&self.pool)
                    .await?;
                match row {
                    Some(r) => Ok((r.try_get("entries")?, r.try_get("head")?)),
                    // A removed head row is itself a sign of tampering: report an empty head.
                    None => Ok((-1, String::new())),
                }
            }

            async fn journal_of_worker(&self, worker_id: i64, limit: i64) -> Result<Vec<JournalEntry>, StoreError> {
                let found = sqlx::query(
                    "SELECT j.* FROM journal j JOIN journal_workers w ON w.seq = j.seq \
                     WHERE w.worker_id = $1 ORDER BY j.seq DESC LIMIT $2",
                )
                .bind(worker_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                found.iter().map(Self::journal_row).collect()
            }

            async fn begin_import(
                &self,
                t: Option<&NewTransmission>,
                author: &str,
                at: DateTime<Utc>,
            ) -> Result<Box<dyn $crate::ImportTx>, StoreError> {
                let at_end = Self::ENGINE == Engine::Postgres;
                Ok(Box::new(self.open_import(t, author, at, at_end).await?))
            }

            async fn transmissions(&self, filter: &$crate::TransmissionFilter, limit: i64) -> Result<Vec<$crate::TransmissionRow>, StoreError> {
                const COLS: &str = "SELECT id, format, sender_siren, login, received_at, file_sha256, media, file_bytes, refused, report FROM transmissions ";
                let found = match filter {
                    $crate::TransmissionFilter::All => {
                        sqlx::query(sqlx::AssertSqlSafe(format!("{COLS} ORDER BY id DESC LIMIT $1")))
                            .bind(limit)
                            .fetch_all(&self.pool)
                            .await?
                    }
                    $crate::TransmissionFilter::Organisation(siren) => {
                        sqlx::query(sqlx::AssertSqlSafe(format!("{COLS} WHERE sender_siren = $2 ORDER BY id DESC LIMIT $1")))
                            .bind(limit)
                            .bind(siren.as_str())
                            .fetch_all(&self.pool)
                            .await?
                    }
                    $crate::TransmissionFilter::Login(login) => {
                        sqlx::query(sqlx::AssertSqlSafe(format!("{COLS} WHERE login = $2 ORDER BY id DESC LIMIT $1")))
                            .bind(limit)
                            .bind(login)
                            .fetch_all(&self.pool)
                            .await?
                    }
                };
                found.iter().map(Self::transmission_row).collect()
            }

            async fn transmission_by_file(
                &self,
                owner: &$crate::TransmissionFilter,
                format: siseri_domain::codes::TransmissionFormat,
                sha256: &str,
            ) -> Result<Option<$crate::TransmissionRow>, StoreError> {
                const COLS: &str = "SELECT id, format, sender_siren, login, received_at, file_sha256, media, file_bytes, refused, report \
                     FROM transmissions WHERE file_sha256 = $1 AND format = $2 ";
                let (clause, who) = match owner {
                    $crate::TransmissionFilter::All => ("", None),
                    $crate::TransmissionFilter::Organisation(siren) => ("AND sender_siren = $3 ", Some(siren.as_str().to_owned())),
                    $crate::TransmissionFilter::Login(login) => ("AND login = $3 AND sender_siren IS NULL ", Some(login.clone())),
                };
                let mut q = sqlx::query(sqlx::AssertSqlSafe(format!("{COLS}{clause}ORDER BY id LIMIT 1")))
                    .bind(sha256)
                    .bind(format.code());
                if let Some(who) = who {
                    q = q.bind(who);
                }
                let row = q.fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::transmission_row).transpose()
            }

            async fn transmission(&self, id: i64) -> Result<Option<$crate::TransmissionRow>, StoreError> {
                let row = sqlx::query(
                    "SELECT id, format, sender_siren, login, received_at, file_sha256, media, file_bytes, refused, report \
                     FROM transmissions WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(Self::transmission_row).transpose()
            }

            async fn transmission_lines(&self, id: i64) -> Result<Vec<$crate::LineRow>, StoreError> {
                let found = sqlx::query(
                    "SELECT line, reference, status, codes, messages FROM transmission_lines \
                     WHERE transmission_id = $1 ORDER BY line",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
                found.iter().map(Self::line_row).collect()
            }

            async fn transmission_file_part(&self, id: i64, part: i64) -> Result<Option<Vec<u8>>, StoreError> {
                let row = sqlx::query("SELECT bytes FROM transmission_files WHERE transmission_id = $1 AND part = $2")
                    .bind(id)
                    .bind(part)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|r| r.try_get("bytes")).transpose()?)
            }

            async fn pending_lines(&self, open_only: bool) -> Result<Vec<$crate::PendingRow>, StoreError> {
                let sql = if open_only {
                    format!("{PENDING_SELECT} WHERE p.resolved_at IS NULL ORDER BY p.id")
                } else {
                    format!("{PENDING_SELECT} ORDER BY p.id")
                };
                let found = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
                found.iter().map(Self::pending_row).collect()
            }

            async fn pending_line(&self, id: i64) -> Result<Option<$crate::PendingRow>, StoreError> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("{PENDING_SELECT} WHERE p.id = $1")))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::pending_row).transpose()
            }

            async fn workers_born_on(&self, date: chrono::NaiveDate) -> Result<Vec<Worker>, StoreError> {
                let found = sqlx::query(
                    "SELECT id, nir, nom, prenom, date_naissance, sexe FROM workers WHERE date_naissance = $1 ORDER BY nir",
                )
                .bind(date)
                .fetch_all(&self.pool)
                .await?;
                found.iter().map(Self::worker_row).collect()
            }

            async fn monthly_doses(
                &self,
                nir: &Nir,
            ) -> Result<Vec<(siseri_domain::totals::Month, siseri_domain::totals::Series, i64, i64)>, StoreError> {
                let found = sqlx::query(
                    "SELECT m.mois, m.series, m.dose_usv, m.absences FROM monthly_doses m \
                     JOIN workers w ON w.id = m.worker_id WHERE w.nir = $1 ORDER BY m.mois, m.series",
                )
                .bind(nir.as_str())
                .fetch_all(&self.pool)
                .await?;
                found
                    .iter()
                    .map(|row| {
                        let series: String = row.try_get("series")?;
                        Ok((
                            siseri_domain::totals::Month(row.try_get("mois")?),
                            siseri_domain::totals::Series::parse(&series)
                                .ok_or_else(|| StoreError::Corrupt(format!("série « {series} »")))?,
                            row.try_get("dose_usv")?,
                            row.try_get("absences")?,
                        ))
                    })
                    .collect()
            }

            async fn alerts(&self, worker_id: i64) -> Result<Vec<$crate::AlertRow>, StoreError> {
                self.alerts_of_worker(worker_id).await
            }

            async fn alert(&self, id: i64) -> Result<Option<$crate::AlertRow>, StoreError> {
                self.alert_by_id(id).await
            }

            async fn all_alerts(&self) -> Result<Vec<$crate::AlertRow>, StoreError> {
                self.every_alert().await
            }

            async fn pregnancies(&self, worker_id: i64) -> Result<Vec<$crate::PregnancyRow>, StoreError> {
                self.pregnancies_of_worker(worker_id).await
            }

            async fn pregnancy_worker(&self, id: i64) -> Result<Option<Worker>, StoreError> {
                let row = sqlx::query(
                    "SELECT w.id, w.nir, w.nom, w.prenom, w.date_naissance, w.sexe FROM pregnancies p \
                     JOIN workers w ON w.id = p.worker_id WHERE p.id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(Self::worker_row).transpose()
            }

            async fn worker_ids(&self) -> Result<Vec<i64>, StoreError> {
                let found = sqlx::query("SELECT id FROM workers ORDER BY id").fetch_all(&self.pool).await?;
                found.iter().map(|r| Ok(r.try_get("id")?)).collect()
            }

            async fn worker_by_id(&self, id: i64) -> Result<Option<Worker>, StoreError> {
                let row = sqlx::query("SELECT id, nir, nom, prenom, date_naissance, sexe FROM workers WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::worker_row).transpose()
            }

            async fn commit(&self, batch: &WriteBatch) -> Result<BatchOutcome, StoreError> {
                // Dropping `tx` on any error rolls everything back.
                let mut tx = self.begin_write().await?;
                let mut outcome = BatchOutcome::default();
                let mut touched: Vec<i64> = Vec::new();
                if let Some(t) = &batch.transmission {
                    let row = sqlx::query(
                        "INSERT INTO transmissions (format, sender_siren, login, received_at, file_sha256, report, media) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    )
                    .bind(t.format.code())
                    .bind(t.sender_siren.as_ref().map(|s| s.as_str()))
                    .bind(&t.login)
                    .bind(t.received_at)
                    .bind(&t.file_sha256)
                    .bind(&t.report)
                    .bind(&t.media)
                    .fetch_one(&mut *tx)
                    .await?;
                    outcome.transmission_id = Some(row.try_get("id")?);
                }
                for op in &batch.ops {
                    let stamp = Stamp { author: &batch.author, at: batch.at, transmission_id: outcome.transmission_id };
                    let (id, worker) = Self::apply(&mut tx, op, &stamp).await?;
                    outcome.ids.push(id);
                    touched.push(worker);
                }
                let mut event = batch.event.clone();
                touched.sort_unstable();
                touched.dedup();
                event.worker_ids.extend(touched);
                if let Some(t) = outcome.transmission_id {
                    event.detail.get_or_insert_with(|| format!("transmission {t}"));
                }
                outcome.journal_seq = Self::append_in_tx(&mut tx, std::slice::from_ref(&event)).await?;
                tx.commit().await?;
                Ok(outcome)
            }
        }

    };
}
pub(crate) use sql_store;
