//! Storage errors: precise where the caller can act on them (not found, conflict),
//! opaque otherwise (logged, answered as an internal error at the edge).

/// What went wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A URL whose scheme is neither `sqlite:` nor `postgres://` (password redacted).
    #[error("URL de base de données non reconnue : {0} (attendu sqlite:CHEMIN ou postgres://…)")]
    Url(String),
    /// A referenced row does not exist.
    #[error("introuvable : {0}")]
    NotFound(String),
    /// A uniqueness rule or an optimistic version check failed.
    #[error("conflit : {0}")]
    Conflict(String),
    /// A stored value could not be read back into the domain (should never happen).
    #[error("donnée stockée illisible : {0}")]
    Corrupt(String),
    /// Migrations failed.
    #[error("migration : {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database error.
    #[error("base de données : {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // Unique and check violations are the caller's to handle: say so precisely.
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return StoreError::Conflict(db.message().to_string());
        }
        StoreError::Database(e)
    }
}
