//! Our own extractors: axum's answer a malformed request in English plain text (400, 413,
//! 415, 422), where `api.md` requires a JSON `{"code": "REQUETE_INVALIDE", "message"}`
//! naming the field, and where a page must answer a French page. The API's extractors
//! ([`ApiJson`], [`ApiQuery`], [`ApiPath`]) reject with an [`ApiError`], the pages' ones
//! ([`PageForm`], [`PageQuery`], [`PagePath`]) with a [`PageError`]; the message is the
//! same, built by [`field_message`] from the path of the value that failed.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, RawPathParams, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ApiError;
use crate::pages::PageError;

/// A JSON body (`Content-Type: application/json`), unknown fields refused by the types.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

/// A query string.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

/// The path's parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

/// A page's form (`application/x-www-form-urlencoded`).
#[derive(Debug, Clone, Copy, Default)]
pub struct PageForm<T>(pub T);

/// A page's query string.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageQuery<T>(pub T);

/// A page's path parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct PagePath<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::BadRequest(
                "Content-Type : application/json attendu".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        json_body(&bytes).map(ApiJson)
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        urlencoded(
            parts.uri.query().unwrap_or_default().as_bytes(),
            "paramètres de requête",
        )
        .map(ApiQuery)
    }
}

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        path_params(parts, state).await.map(ApiPath)
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        if !form {
            return Err(PageError(ApiError::BadRequest(
                "Le formulaire n’a pas été transmis : renvoyez-le depuis sa page.".into(),
            )));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| PageError(body_error(e)))?;
        urlencoded(&bytes, "formulaire")
            .map(PageForm)
            .map_err(PageError)
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for PageQuery<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        urlencoded(parts.uri.query().unwrap_or_default().as_bytes(), "adresse")
            .map(PageQuery)
            .map_err(PageError)
    }
}

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PagePath<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        path_params(parts, state)
            .await
            .map(PagePath)
            .map_err(PageError)
    }
}

/// `application/json` or `application/…+json`, as axum's `Json` accepts.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A body that could not be read: over the 1 MiB limit (413), or cut short.
fn body_error(e: BytesRejection) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge
    } else {
        ApiError::BadRequest("corps de requête illisible ou interrompu".into())
    }
}

fn json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest("corps JSON attendu".into()));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = field_path(e.path());
        let inner = e.inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                ApiError::BadRequest(field_message(&path, &inner.to_string()))
            }
            serde_json::error::Category::Eof => ApiError::BadRequest(format!(
                "corps JSON incomplet (ligne {}, colonne {})",
                inner.line(),
                inner.column()
            )),
            _ => ApiError::BadRequest(format!(
                "corps JSON mal formé{} (ligne {}, colonne {})",
                if path.is_empty() {
                    String::new()
                } else {
                    format!(" dans « {path} »")
                },
                inner.line(),
                inner.column()
            )),
        }
    })?;
    de.end().map_err(|e| {
        ApiError::BadRequest(format!(
            "corps JSON mal formé : contenu après la fin de l’objet (ligne {}, colonne {})",
            e.line(),
            e.column()
        ))
    })?;
    Ok(value)
}

/// A query string or a form; `what` names it when no field is at fault.
fn urlencoded<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = field_path(e.path());
        let message = field_message(&path, &e.inner().to_string());
        if message.is_empty() {
            ApiError::BadRequest(format!("{what} : valeur invalide"))
        } else {
            ApiError::BadRequest(message)
        }
    })
}

async fn path_params<T: DeserializeOwned + Send, S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<T, ApiError> {
    match Path::<T>::from_request_parts(parts, state).await {
        Ok(Path(v)) => Ok(v),
        Err(PathRejection::FailedToDeserializePathParams(e)) => {
            use axum::extract::path::ErrorKind;
            // A single parameter deserialised as a primitive, or a tuple's, is known by
            // its position: its name comes from the route.
            let names: Vec<String> = RawPathParams::from_request_parts(parts, state)
                .await
                .map(|p| p.iter().map(|(k, _)| k.to_owned()).collect())
                .unwrap_or_default();
            let name_at = |i: usize| names.get(i).cloned().unwrap_or_else(|| "chemin".into());
            let (key, value, expected) = match e.into_kind() {
                ErrorKind::ParseErrorAtKey {
                    key,
                    value,
                    expected_type,
                } => (key, value, expected_type),
                ErrorKind::ParseErrorAtIndex {
                    index,
                    value,
                    expected_type,
                } => (name_at(index), value, expected_type),
                ErrorKind::ParseError {
                    value,
                    expected_type,
                } => (name_at(0), value, expected_type),
                ErrorKind::InvalidUtf8InPathParam { key } => {
                    return Err(ApiError::BadRequest(format!(
                        "{key} : caractères invalides"
                    )));
                }
                ErrorKind::DeserializeError { key, value, .. } => (key, value, ""),
                other => return Err(ApiError::Internal(format!("chemin : {other}"))),
            };
            Err(ApiError::BadRequest(format!(
                "{key} : {} (reçu « {} »)",
                expected_french(expected).unwrap_or("valeur invalide"),
                shorten(&value)
            )))
        }
        Err(PathRejection::MissingPathParams(e)) => {
            Err(ApiError::Internal(format!("chemin : {e}")))
        }
        Err(e) => Err(ApiError::BadRequest(format!("chemin invalide : {e}"))),
    }
}

/// `a.b[2].c`: where in the input the error is.
fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// The French message of a deserialisation error `serde_message` at `path`, naming the
/// field: serde's own messages are English and name a missing or unknown field only in
/// their text.
pub fn field_message(path: &str, serde_message: &str) -> String {
    let quoted = |prefix: &str| {
        serde_message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(|name| {
                if path.is_empty() {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                }
            })
    };
    if let Some(field) = quoted("missing field `") {
        return format!("{field} : champ obligatoire absent");
    }
    if let Some(field) = quoted("unknown field `") {
        return format!("{field} : champ inconnu");
    }
    let field = if path.is_empty() { "corps" } else { path };
    if let Some(rest) = serde_message.strip_prefix("invalid type: ") {
        let expected = rest.split(", expected ").nth(1).unwrap_or_default();
        let expected = expected.split(" at line ").next().unwrap_or_default();
        return match expected_french(expected) {
            Some(e) => format!("{field} : {e}"),
            None => format!("{field} : type de valeur invalide"),
        };
    }
    if serde_message.starts_with("invalid length") {
        return format!("{field} : nombre d’éléments invalide");
    }
    if serde_message.starts_with("unknown variant") {
        return format!("{field} : valeur inconnue");
    }
    if path.is_empty() {
        // No field to name: the caller says what was at fault.
        return String::new();
    }
    format!("{field} : valeur invalide")
}

/// What serde expected, said in French.
fn expected_french(expected: &str) -> Option<&'static str> {
    let e = expected.trim();
    Some(match e {
        "i8" | "i16" | "i32" | "i64" | "i128" | "u8" | "u16" | "u32" | "u64" | "u128" | "isize"
        | "usize" | "an integer" => "un entier attendu",
        "f32" | "f64" | "a number" => "un nombre attendu",
        "a boolean" | "bool" => "true ou false attendu",
        "a string" | "a borrowed string" | "String" | "&str" | "char" | "a character" => {
            "une chaîne de caractères attendue"
        }
        "a sequence" => "un tableau attendu",
        "a formatted date string" | "NaiveDate" => "une date AAAA-MM-JJ attendue",
        _ if e.starts_with("struct ") || e == "a map" => "un objet attendu",
        _ => return None,
    })
}

/// A value quoted back, cut at 40 characters.
fn shorten(value: &str) -> String {
    let mut out: String = value.chars().take(40).collect();
    if value.chars().count() > 40 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::field_message;

    #[test]
    fn serde_messages_become_french_and_name_the_field() {
        assert_eq!(
            field_message("", "missing field `justification`"),
            "justification : champ obligatoire absent"
        );
        assert_eq!(
            field_message("", "unknown field `justifcation`, expected one of `a`, `b`"),
            "justifcation : champ inconnu"
        );
        assert_eq!(
            field_message(
                "dose_usv",
                "invalid type: string \"x\", expected i64 at line 1 column 16"
            ),
            "dose_usv : un entier attendu"
        );
        assert_eq!(
            field_message("toutes", "provided string was not `true` or `false`"),
            "toutes : valeur invalide"
        );
        assert_eq!(field_message("", "something"), "");
    }
}
