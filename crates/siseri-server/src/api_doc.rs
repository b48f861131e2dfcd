//! Completes the OpenAPI document with the answers every operation of a kind can give,
//! rather than by hand on each handler (where they were forgotten): 401 and 403 on every
//! authenticated operation (no or bad credentials; a session without its second factor
//! or without its anti-forgery token), 400 on every operation with parameters or a body
//! (our extractors' `REQUETE_INVALIDE`), 413 on every body (the 1 MiB limit), 404 on
//! every operation with a path parameter, and a French description on every answer.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

/// Adds the answers that an operation's kind implies, where they are not documented.
pub(crate) fn complete(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            complete_operation(op);
        }
    }
}

fn complete_operation(op: &mut Operation) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let params = op.parameters.as_deref().unwrap_or_default();
    let with_params = !params.is_empty();
    let with_path = params.iter().any(|p| match p {
        RefOr::T(p) => p.parameter_in == ParameterIn::Path,
        RefOr::Ref(_) => false,
    });
    let with_body = op.request_body.is_some();
    let responses = &mut op.responses.responses;
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(error_response(description)));
    };
    if with_params || with_body {
        add(
            "400",
            "REQUETE_INVALIDE : paramètre, corps ou Content-Type mal formé (le message nomme le champ)",
        );
    }
    if secured {
        add(
            "401",
            "NON_AUTHENTIFIE : jeton absent, inconnu, expiré ou révoqué",
        );
        add(
            "403",
            "Refusé : rôle non autorisé, second facteur non validé ou jeton anti-falsification absent (session)",
        );
    }
    if with_path {
        add("404", "INTROUVABLE : inconnu ou non visible");
    }
    if with_body {
        add("413", "REQUETE_TROP_GRANDE : corps de plus de 1 Mio");
    }
    for (status, response) in responses.iter_mut() {
        if let RefOr::T(r) = response
            && r.description.is_empty()
        {
            r.description = default_description(status).to_owned();
        }
    }
}

/// An `ErrorBody` answer.
fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

fn default_description(status: &str) -> &'static str {
    match status {
        "200" => "Fait",
        "400" => "REQUETE_INVALIDE",
        "401" => "NON_AUTHENTIFIE",
        "403" => "Refusé",
        "404" => "INTROUVABLE : inconnu ou non visible",
        "409" => "Conflit",
        "413" => "Trop grand",
        "422" => "Non traitable",
        _ => "Réponse",
    }
}
