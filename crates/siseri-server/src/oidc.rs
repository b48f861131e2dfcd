//! Federated login with OpenID Connect: authorization code flow with PKCE (S256) and
//! a nonce, for the identity federations the registry trusts (FranceConnect+ for
//! workers, Pro Santé Connect for health professionals, …).
//!
//! The flow, for one browser:
//! 1. [`OidcClient::discover`] once per federation at start-up (provider metadata and
//!    signing keys);
//! 2. [`OidcClient::begin`] gives the URL to send the browser to and a [`PendingLogin`]
//!    that the caller keeps **server side, bound to that browser's session**, until
//!    the callback;
//! 3. on the callback, [`OidcClient::finish`] checks `state`, exchanges the code with
//!    the PKCE verifier, verifies the ID token (signature, issuer, audience, nonce,
//!    expiry, access-token hash) and returns the [`FederatedIdentity`].
//!
//! The module knows nothing of accounts: per the access specification, the caller
//! links an account once to the pair (issuer, subject) through an enrolment code and
//! later matches on that pair only, never on a name or an e-mail address.
//!
//! Error messages are in French and never carry a secret, a code or a token.

use std::fmt;
use std::time::Duration;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    DiscoveryError, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpClientError, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, StandardErrorResponse, TokenResponse, reqwest,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Time allowed for each request to the identity provider.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// ID-token signature algorithms accepted: asymmetric only, so that a provider
/// cannot downgrade to an HMAC keyed with the client secret.
const ACCEPTED_ALGS: [CoreJwsSigningAlgorithm; 10] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EcdsaP521Sha512,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// The client as built from discovered metadata: authorization endpoint set, token
/// and userinfo endpoints as announced by the provider.
type DiscoveredClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// One configured identity federation (e.g. FranceConnect+ for workers, Pro Santé
/// Connect for health professionals).
#[derive(Clone, Serialize, Deserialize)]
pub struct OidcConfig {
    /// Short stable identifier (e.g. `franceconnect`), stored in [`PendingLogin::provider`].
    pub name: String,
    /// Label shown on the login page (e.g. « FranceConnect+ »).
    pub label: String,
    /// Issuer identifier, exactly as the provider announces it in its metadata.
    pub issuer_url: String,
    /// Client identifier registered at the provider.
    pub client_id: String,
    /// Client secret (`client_secret_basic`); `None` for a public client.
    pub client_secret: Option<String>,
    /// This server's callback URL, registered at the provider.
    pub redirect_url: String,
    /// Scopes asked besides `openid` (which is always asked), e.g. `email`.
    pub scopes: Vec<String>,
}

impl fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcConfig")
            .field("name", &self.name)
            .field("label", &self.label)
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "…"))
            .field("redirect_url", &self.redirect_url)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// A discovered identity provider: its metadata and signing keys, and the HTTP
/// client used to reach it (redirects are never followed).
pub struct OidcClient {
    config: OidcConfig,
    client: DiscoveredClient,
    http: reqwest::Client,
}

impl fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What must be kept server side, bound to the browser session, between
/// [`OidcClient::begin`] and [`OidcClient::finish`]. Use it once: remove it from the
/// session before calling `finish`. Its fields are secrets: never send them to the
/// browser, never log them.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The `state` sent in the authorization request.
    pub state: String,
    /// The `nonce` sent in the authorization request, expected in the ID token.
    pub nonce: String,
    /// The PKCE code verifier, sent with the code to the token endpoint.
    pub pkce_verifier: String,
    /// [`OidcConfig::name`] of the federation the login was started with.
    pub provider: String,
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// An identity verified by the provider. Accounts are matched on
/// (`issuer`, `subject`) only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederatedIdentity {
    /// The issuer identifier, as verified in the ID token.
    pub issuer: String,
    /// The subject identifier (`sub`), unique and stable for that issuer.
    pub subject: String,
    /// The `email` claim of the ID token, when present.
    pub email: Option<String>,
    /// The `email_verified` claim of the ID token, when present.
    pub email_verified: Option<bool>,
}

/// Why a federated login failed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider's metadata or keys could not be obtained or are invalid.
    #[error("découverte du fournisseur d'identité impossible : {0}")]
    Discovery(String),
    /// The callback does not belong to the login pending in this session.
    #[error("la réponse du fournisseur d'identité ne correspond à aucune connexion en cours")]
    StateMismatch,
    /// The token endpoint refused the code or could not be reached.
    #[error("échange du code d'autorisation refusé : {0}")]
    Exchange(String),
    /// The ID token is missing or failed verification.
    #[error("jeton d'identité refusé : {0}")]
    IdToken(String),
}

impl OidcClient {
    /// Fetches the provider's metadata (`/.well-known/openid-configuration`) and its
    /// signing keys. The keys are not refreshed afterwards: discover again to follow a
    /// key rotation.
    pub async fn discover(config: OidcConfig) -> Result<Self, OidcError> {
        let http = reqwest::ClientBuilder::new()
            // Following redirects would open the client to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|_| OidcError::Discovery("client HTTP impossible à construire".into()))?;
        let issuer = IssuerUrl::new(config.issuer_url.clone())
            .map_err(|_| OidcError::Discovery("adresse de l'émetteur invalide".into()))?;
        let redirect = RedirectUrl::new(config.redirect_url.clone())
            .map_err(|_| OidcError::Discovery("adresse de retour invalide".into()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(discovery_error)?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(config.client_id.clone()),
            config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect);
        Ok(Self {
            config,
            client,
            http,
        })
    }

    /// The configuration this client was discovered with.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// The URL to send the browser to, and what must be kept (server side, bound to the
    /// browser session) until the callback.
    pub fn begin(&self) -> (String, PendingLogin) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self.client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in self.config.scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            provider: self.config.name.clone(),
        };
        (url.to_string(), pending)
    }

    /// Checks `state`, exchanges the code (with the PKCE verifier), verifies the ID
    /// token (signature, issuer, audience, nonce, expiry) and returns the verified
    /// identity.
    pub async fn finish(
        &self,
        pending: PendingLogin,
        code: &str,
        state: &str,
    ) -> Result<FederatedIdentity, OidcError> {
        if pending.provider != self.config.name || !same_secret(&pending.state, state) {
            return Err(OidcError::StateMismatch);
        }
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|_| {
                OidcError::Exchange("le fournisseur n'annonce pas de point de jeton".into())
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(exchange_error)?;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::IdToken("absent de la réponse du fournisseur".into()))?;
        let verifier = self
            .client
            .id_token_verifier()
            .set_allowed_algs(ACCEPTED_ALGS);
        let claims = id_token
            .claims(&verifier, &Nonce::new(pending.nonce))
            .map_err(claims_error)?;
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token
                .signing_alg()
                .map_err(|_| OidcError::IdToken("algorithme de signature inconnu".into()))?;
            let key = id_token
                .signing_key(&verifier)
                .map_err(|_| OidcError::IdToken("clé de signature introuvable".into()))?;
            let actual =
                AccessTokenHash::from_token(response.access_token(), alg, key).map_err(|_| {
                    OidcError::IdToken("empreinte du jeton d'accès incalculable".into())
                })?;
            if actual != *expected {
                return Err(OidcError::IdToken(
                    "empreinte du jeton d'accès incorrecte".into(),
                ));
            }
        }
        Ok(FederatedIdentity {
            issuer: claims.issuer().as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            email_verified: claims.email_verified(),
        })
    }
}

/// Compares two secrets without a timing side channel on their common prefix.
fn same_secret(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

fn discovery_error(err: DiscoveryError<HttpClientError<reqwest::Error>>) -> OidcError {
    OidcError::Discovery(match err {
        DiscoveryError::Request(_) => "fournisseur injoignable".into(),
        DiscoveryError::Response(status, _, _) => {
            format!("réponse HTTP {} du fournisseur", status.as_u16())
        }
        DiscoveryError::Parse(_) => "document de découverte illisible".into(),
        DiscoveryError::UrlParse(_) => "adresse de l'émetteur invalide".into(),
        DiscoveryError::Validation(reason) => format!("document de découverte invalide ({reason})"),
        _ => "erreur inattendue".into(),
    })
}

fn exchange_error(
    err: RequestTokenError<
        HttpClientError<reqwest::Error>,
        StandardErrorResponse<CoreErrorResponseType>,
    >,
) -> OidcError {
    OidcError::Exchange(match err {
        RequestTokenError::ServerResponse(response) => {
            format!("erreur « {} » du fournisseur", response.error().as_ref())
        }
        RequestTokenError::Request(_) => "fournisseur injoignable".into(),
        RequestTokenError::Parse(_, _) => "réponse illisible du fournisseur".into(),
        RequestTokenError::Other(_) => "réponse inattendue du fournisseur".into(),
    })
}

fn claims_error(err: ClaimsVerificationError) -> OidcError {
    OidcError::IdToken(
        match err {
            ClaimsVerificationError::Expired(_) => "expiré",
            ClaimsVerificationError::InvalidAudience(_) => "destinataire incorrect",
            ClaimsVerificationError::InvalidIssuer(_) => "émetteur incorrect",
            ClaimsVerificationError::InvalidNonce(_) => "nonce absent ou incorrect",
            ClaimsVerificationError::InvalidSubject(_) => "sujet incorrect",
            ClaimsVerificationError::SignatureVerification(_) => "signature invalide",
            ClaimsVerificationError::Unsupported(_) => "algorithme non pris en charge",
            _ => "jeton invalide",
        }
        .into(),
    )
}
