//! The employers' self-service SQL, written once for both engines (see `sql.rs`).

/// Implements [`crate::Employers`] for `$store` (which has `pool: sqlx::Pool<_>` and the
/// `begin_write` / `append_in_tx` helpers of `sql_store!`), whose rows are `$row`.
/// Expanded in a module of its own, a child of the adapter's.
macro_rules! sql_employers {
    ($store:ident, $row:ty) => {
        mod employers_sql {
            use std::collections::BTreeMap;

            use chrono::{DateTime, NaiveDate, Utc};
            use siseri_domain::account::{Account, NewAccount};
            use siseri_domain::journal::JournalEvent;
            use sqlx::Row;

            use super::$store;
            use $crate::registrations::{
                Employers, NewRegistration, RegisteredEstablishment, RegistrationRow,
                RegistrationStatus,
            };
            use $crate::{StoreError, rows};

            /// The columns of a registration.
            const COLUMNS: &str = "id, siren, company_name, rep_nom, rep_prenom, rep_email, \
                 rep_telephone, login, status, created_at, decided_at, decided_by, reason";

            /// A registration row, its establishments still to add.
            fn registration_row(row: &$row) -> Result<RegistrationRow, StoreError> {
                let status: String = row.try_get("status")?;
                let siren: String = row.try_get("siren")?;
                Ok(RegistrationRow {
                    id: row.try_get("id")?,
                    request: NewRegistration {
                        siren: rows::siren(&siren)?,
                        company_name: row.try_get("company_name")?,
                        establishments: Vec::new(),
                        rep_nom: row.try_get("rep_nom")?,
                        rep_prenom: row.try_get("rep_prenom")?,
                        rep_email: row.try_get("rep_email")?,
                        rep_telephone: row.try_get("rep_telephone")?,
                        login: row.try_get("login")?,
                    },
                    status: rows::code(&status, RegistrationStatus::parse, "statut d'inscription")?,
                    created_at: row.try_get("created_at")?,
                    decided_at: row.try_get("decided_at")?,
                    decided_by: row.try_get("decided_by")?,
                    reason: row.try_get("reason")?,
                })
            }

            impl $store {
                /// Registrations matching `filter` (a WHERE clause on `r`, binding `$1` to
                /// `key`), with their establishments.
                async fn registrations_where(
                    &self,
                    filter: &'static str,
                    key: i64,
                ) -> Result<Vec<RegistrationRow>, StoreError> {
                    let sql = format!(
                        "SELECT {COLUMNS} FROM registrations r WHERE {filter} ORDER BY id"
                    );
                    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(key)
                        .fetch_all(&self.pool)
                        .await?;
                    let mut by_id = BTreeMap::new();
                    for row in &found {
                        let r = registration_row(row)?;
                        by_id.insert(r.id, r);
                    }
                    let sql = format!(
                        "SELECT e.registration_id, e.siret, e.name, e.inb \
                         FROM registration_establishments e JOIN registrations r ON r.id = e.registration_id \
                         WHERE {filter} ORDER BY e.registration_id, e.position"
                    );
                    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(key)
                        .fetch_all(&self.pool)
                        .await?;
                    for row in &found {
                        let id: i64 = row.try_get("registration_id")?;
                        let siret: String = row.try_get("siret")?;
                        if let Some(r) = by_id.get_mut(&id) {
                            r.request.establishments.push(RegisteredEstablishment {
                                siret: rows::siret(&siret)?,
                                name: row.try_get("name")?,
                                inb: row.try_get("inb")?,
                            });
                        }
                    }
                    Ok(by_id.into_values().collect())
                }

                /// Why a registration could not be decided: unknown, or decided already.
                async fn undecidable(&self, id: i64) -> StoreError {
                    match self.registrations_where("r.id = $1", id).await {
                        Ok(found) if found.is_empty() => {
                            StoreError::NotFound(format!("demande d'inscription {id}"))
                        }
                        Ok(_) => StoreError::Conflict(format!(
                            "la demande d'inscription {id} a déjà été traitée"
                        )),
                        Err(e) => e,
                    }
                }
            }

            #[async_trait::async_trait]
            impl Employers for $store {
                fn as_employers(&self) -> &dyn Employers {
                    self
                }

                async fn add_registration(
                    &self,
                    r: &NewRegistration,
                    audit: &JournalEvent,
                ) -> Result<i64, StoreError> {
                    let mut tx = self.begin_write().await?;
                    let row = sqlx::query(
                        "INSERT INTO registrations (siren, company_name, rep_nom, rep_prenom, rep_email, \
                         rep_telephone, login, status, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    )
                    .bind(r.siren.as_str())
                    .bind(&r.company_name)
                    .bind(&r.rep_nom)
                    .bind(&r.rep_prenom)
                    .bind(&r.rep_email)
                    .bind(&r.rep_telephone)
                    .bind(&r.login)
                    .bind(RegistrationStatus::Pending.code())
                    .bind(audit.at)
                    .fetch_one(&mut *tx)
                    .await?;
                    let id: i64 = row.try_get("id")?;
                    for (position, e) in (1_i64..).zip(&r.establishments) {
                        sqlx::query(
                            "INSERT INTO registration_establishments (registration_id, position, siret, name, inb) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(id)
                        .bind(position)
                        .bind(e.siret.as_str())
                        .bind(&e.name)
                        .bind(e.inb)
                        .execute(&mut *tx)
                        .await?;
                    }
                    $store::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                    tx.commit().await?;
                    Ok(id)
                }

                async fn registrations(
                    &self,
                    pending_only: bool,
                ) -> Result<Vec<RegistrationRow>, StoreError> {
                    self.registrations_where("($1 = 0 OR r.status = 'EN_ATTENTE')", i64::from(pending_only))
                        .await
                }

                async fn registration(&self, id: i64) -> Result<Option<RegistrationRow>, StoreError> {
                    Ok(self.registrations_where("r.id = $1", id).await?.into_iter().next())
                }

                async fn accept_registration(
                    &self,
                    id: i64,
                    account: &NewAccount,
                    enrolment_hash: &str,
                    enrolment_expires: DateTime<Utc>,
                    decided_by: &str,
                    audit: &[JournalEvent],
                ) -> Result<Account, StoreError> {
                    let Some(registration) = self.registration(id).await? else {
                        return Err(StoreError::NotFound(format!("demande d'inscription {id}")));
                    };
                    let r = &registration.request;
                    let at = audit.first().map_or_else(Utc::now, |e| e.at);
                    let mut tx = self.begin_write().await?;
                    // First the decision, conditional on the request being still pending:
                    // of two administrators validating at once, one only goes on.
                    let decided = sqlx::query(
                        "UPDATE registrations SET status = $2, decided_at = $3, decided_by = $4 \
                         WHERE id = $1 AND status = $5",
                    )
                    .bind(id)
                    .bind(RegistrationStatus::Accepted.code())
                    .bind(at)
                    .bind(decided_by)
                    .bind(RegistrationStatus::Pending.code())
                    .execute(&mut *tx)
                    .await?;
                    if decided.rows_affected() == 0 {
                        drop(tx);
                        return Err(self.undecidable(id).await);
                    }
                    sqlx::query("INSERT INTO companies (siren, name) VALUES ($1, $2) ON CONFLICT (siren) DO NOTHING")
                        .bind(r.siren.as_str())
                        .bind(&r.company_name)
                        .execute(&mut *tx)
                        .await?;
                    for e in &r.establishments {
                        sqlx::query(
                            "INSERT INTO establishments (siret, siren, name, inb, created_at) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(e.siret.as_str())
                        .bind(e.siret.siren().as_str())
                        .bind(&e.name)
                        .bind(e.inb)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    let natures: Vec<&str> = account.natures.iter().map(|n| n.code()).collect();
                    let row = sqlx::query(
                        "INSERT INTO accounts (login, role, siren, rpps, nir, natures, email, correspondent, \
                         created_at, enrolment_hash, enrolment_expires) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                    )
                    .bind(&account.login)
                    .bind(account.role.code())
                    .bind(account.siren.as_ref().map(|s| s.as_str()))
                    .bind(account.rpps.as_ref().map(|s| s.as_str()))
                    .bind(account.nir.as_ref().map(|s| s.as_str()))
                    .bind(natures.join(","))
                    .bind(&account.email)
                    .bind(account.correspondent)
                    .bind(at)
                    .bind(enrolment_hash)
                    .bind(enrolment_expires)
                    .fetch_one(&mut *tx)
                    .await?;
                    let account_id: i64 = row.try_get("id")?;
                    for s in &account.sirets {
                        sqlx::query("INSERT INTO account_establishments (account_id, siret) VALUES ($1, $2)")
                            .bind(account_id)
                            .bind(s.as_str())
                            .execute(&mut *tx)
                            .await?;
                    }
                    sqlx::query("UPDATE registrations SET account_id = $2 WHERE id = $1")
                        .bind(id)
                        .bind(account_id)
                        .execute(&mut *tx)
                        .await?;
                    $store::append_in_tx(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(Account { id: account_id, spec: account.clone() })
                }

                async fn refuse_registration(
                    &self,
                    id: i64,
                    reason: &str,
                    decided_by: &str,
                    audit: &JournalEvent,
                ) -> Result<bool, StoreError> {
                    let mut tx = self.begin_write().await?;
                    let done = sqlx::query(
                        "UPDATE registrations SET status = $2, decided_at = $3, decided_by = $4, reason = $5 \
                         WHERE id = $1 AND status = $6",
                    )
                    .bind(id)
                    .bind(RegistrationStatus::Refused.code())
                    .bind(audit.at)
                    .bind(decided_by)
                    .bind(reason)
                    .bind(RegistrationStatus::Pending.code())
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Ok(false);
                    }
                    $store::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn end_designation(
                    &self,
                    id: i64,
                    date_fin: NaiveDate,
                    audit: &JournalEvent,
                ) -> Result<bool, StoreError> {
                    let mut tx = self.begin_write().await?;
                    let done = sqlx::query("UPDATE designations SET date_fin = $2 WHERE id = $1")
                        .bind(id)
                        .bind(date_fin)
                        .execute(&mut *tx)
                        .await?;
                    if done.rows_affected() == 0 {
                        return Ok(false);
                    }
                    $store::append_in_tx(&mut tx, std::slice::from_ref(audit)).await?;
                    tx.commit().await?;
                    Ok(true)
                }
            }
        }
    };
}
pub(crate) use sql_employers;
