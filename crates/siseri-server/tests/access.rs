//! Authentication, the access policy and the journal, end to end over HTTP on each
//! engine: bearer tokens, password + second-factor login, lockout, sessions and
//! anti-forgery, reads that are allowed, refused (exactly like an unknown NIR) or
//! need a mission, and the journal entries each leaves.

#![allow(clippy::unwrap_used)]

mod support;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{Value, json};
use siseri_domain::account::Role;
use siseri_domain::ids::{Nir, Rpps, Siren, Siret};
use siseri_domain::worker::DesignationRole;
use siseri_server::auth;
use siseri_storage::testing::{TestDb, every_engine, sample_terms, sample_worker};
use siseri_storage::{NewDesignation, NewEstablishment, WriteBatch, WriteOp};
use support::web::{self, Env, PASSWORD, csrf_of, day, event, now_code};

const SIRET_A: &str = "73282932000074";
const SIRET_B: &str = "44306184100047";
const NIR: &str = "2951099126111";
const UNKNOWN_NIR: &str = "1850578006084";

type Browser<'a> = web::Browser<'a, (StatusCode, String, String)>;

impl Env {
    async fn designate(&self, login: &str, role: DesignationRole, siret: &str) {
        let d = NewDesignation {
            login: login.into(),
            role,
            siret: Siret::parse(siret).unwrap(),
            date_debut: day(2020, 1, 1),
            date_fin: None,
        };
        self.db.store.add_designation(&d, &event()).await.unwrap();
    }

    async fn get(&self, token: &str, path: &str, mission: Option<&str>) -> (StatusCode, Value) {
        let mut r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(m) = mission {
            r = r.header("X-Mission", m);
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn worker_id(&self) -> i64 {
        self.db
            .store
            .worker(&Nir::parse(NIR).unwrap())
            .await
            .unwrap()
            .unwrap()
            .id
    }
}

/// Two establishments of two companies; a worker attached to A since 2020.
async fn registry(db: TestDb) -> Env {
    let env = Env::start(db).await;
    for (s, name) in [(SIRET_A, "CHU"), (SIRET_B, "Centrale")] {
        let e = NewEstablishment {
            siret: Siret::parse(s).unwrap(),
            name: name.into(),
            inb: s == SIRET_B,
            company_name: name.into(),
        };
        env.db.store.add_establishment(&e, &event()).await.unwrap();
    }
    let mut b = WriteBatch::new("test", Utc::now());
    b.ops = vec![
        WriteOp::EnsureWorker(sample_worker(NIR, "DUPONT")),
        WriteOp::AddAttachment {
            nir: Nir::parse(NIR).unwrap(),
            siret: Siret::parse(SIRET_A).unwrap(),
            terms: sample_terms(day(2020, 1, 1)),
        },
    ];
    env.db.store.commit(&b).await.unwrap();
    env
}

fn rpps(s: &str) -> Option<Rpps> {
    Some(Rpps::parse(s).unwrap())
}

#[tokio::test]
async fn bearer_tokens_authenticate_and_are_revoked_on_the_next_request() {
    let env = registry(siseri_storage::testing::sqlite().await).await;
    env.account("camille", Role::Travailleur, |a| {
        a.nir = Some(Nir::parse(NIR).unwrap())
    })
    .await;
    let token = env.token("camille").await;
    let (s, me) = env.get(&token, "/api/v1/moi", None).await;
    assert_eq!(s, 200);
    assert_eq!(me["role"], "TRAVAILLEUR");
    let r = env
        .http
        .get(format!("{}/api/v1/moi", env.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "NON_AUTHENTIFIE");
    assert_eq!(env.get("siseri_faux", "/api/v1/moi", None).await.0, 401);
    let (_, tokens) = env.get(&token, "/api/v1/moi/jetons", None).await;
    let id = tokens[0]["id"].as_i64().unwrap();
    let r = env
        .http
        .delete(format!("{}/api/v1/moi/jetons/{id}", env.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        env.get(&token, "/api/v1/moi", None).await.0,
        401,
        "revocation takes effect at once"
    );
    // An expired token.
    let (expired, hash) = auth::new_token();
    env.db
        .store
        .add_token(
            "camille",
            &hash,
            Utc::now() - chrono::Duration::seconds(1),
            &event(),
        )
        .await
        .unwrap();
    assert_eq!(env.get(&expired, "/api/v1/moi", None).await.0, 401);
    // Tokens are not minted by tokens.
    assert_eq!(
        env.post(&env.token("camille").await, "/api/v1/moi/jetons", json!({}))
            .await
            .0,
        403
    );
}

#[tokio::test]
async fn reads_follow_the_policy_and_refusals_look_like_unknown_workers() {
    for db in every_engine().await {
        let env = registry(db).await;
        env.account("dr.a", Role::Mdt, |a| a.rpps = rpps("10000000009"))
            .await;
        env.account("dr.b", Role::Mdt, |a| a.rpps = rpps("10100000008"))
            .await;
        env.account("rh.a", Role::Employeur, |a| {
            a.siren = Some(Siren::parse("732829320").unwrap())
        })
        .await;
        env.account("rh.b", Role::Employeur, |a| {
            a.siren = Some(Siren::parse("443061841").unwrap())
        })
        .await;
        env.account("inspecteur", Role::AgentControle, |_| {}).await;
        env.account("camille", Role::Travailleur, |a| {
            a.nir = Some(Nir::parse(NIR).unwrap())
        })
        .await;
        env.designate("dr.a", DesignationRole::Physician, SIRET_A)
            .await;
        env.designate("dr.b", DesignationRole::Physician, SIRET_B)
            .await;
        let path = format!("/api/v1/travailleurs/{NIR}");

        let (s, record) = env.get(&env.token("dr.a").await, &path, None).await;
        assert_eq!(s, 200, "{record}");
        assert_eq!(record["nom"], "DUPONT");
        assert_eq!(record["rattachements"][0]["siret"], SIRET_A);
        assert_eq!(record["rattachements"][0]["quotite"], 0.8);

        let dr_b = env.token("dr.b").await;
        let (hidden_status, hidden) = env.get(&dr_b, &path, None).await;
        let (unknown_status, unknown) = env
            .get(&dr_b, &format!("/api/v1/travailleurs/{UNKNOWN_NIR}"), None)
            .await;
        assert_eq!(
            (hidden_status, unknown_status),
            (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
        );
        assert_eq!(hidden, unknown, "a refusal tells nothing");
        assert_eq!(hidden["code"], "INTROUVABLE");
        assert_eq!(
            env.get(&dr_b, "/api/v1/travailleurs/123", None).await.0,
            400
        );

        let (s, employer_view) = env.get(&env.token("rh.a").await, &path, None).await;
        assert_eq!(s, 200);
        assert_eq!(employer_view["rattachements"].as_array().unwrap().len(), 1);
        assert_eq!(env.get(&env.token("rh.b").await, &path, None).await.0, 404);

        let inspector = env.token("inspecteur").await;
        let (s, body) = env.get(&inspector, &path, None).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("MISSION_REQUISE"))
        );
        assert_eq!(
            env.get(&inspector, &path, Some("MISSION-2026-042")).await.0,
            200
        );

        // The journal: one entry per read and per refusal, with the worker's surrogate id.
        let id = env.worker_id().await;
        let entries = env.db.store.journal_page(0, 1000).await.unwrap();
        let reads: Vec<_> = entries
            .iter()
            .filter(|e| e.event.data_kind == "DOSSIER")
            .collect();
        let find = |actor: &str, action: &str| {
            reads
                .iter()
                .filter(|e| e.event.actor == actor && e.event.action == action)
                .count()
        };
        assert_eq!(find("dr.a", "LECTURE"), 1);
        assert_eq!(
            find("dr.b", "LECTURE_REFUSEE"),
            2,
            "the hidden and the unknown worker (a malformed NIR is no read)"
        );
        assert_eq!(find("inspecteur", "LECTURE_REFUSEE"), 1);
        let mission_read = reads
            .iter()
            .find(|e| e.event.actor == "inspecteur" && e.event.action == "LECTURE")
            .unwrap();
        assert_eq!(
            mission_read.event.mission.as_deref(),
            Some("MISSION-2026-042")
        );
        assert!(
            reads
                .iter()
                .filter(|e| e.event.actor == "dr.a")
                .all(|e| e.event.worker_ids == vec![id])
        );
        assert!(
            entries
                .iter()
                .all(|e| !format!("{:?}", e.event).contains(NIR)),
            "the journal never holds a NIR"
        );

        // The worker sees who read his record, not the refusals.
        let camille = env.token("camille").await;
        let (s, mine) = env.get(&camille, "/api/v1/moi/journal", None).await;
        assert_eq!(s, 200);
        let who: Vec<&str> = mine
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["qui"].as_str().unwrap())
            .collect();
        assert!(
            who.contains(&"dr.a") && who.contains(&"inspecteur") && who.contains(&"rh.a"),
            "{who:?}"
        );
        assert!(!who.contains(&"dr.b") && !who.contains(&"rh.b"));
        assert_eq!(
            env.get(&env.token("dr.a").await, "/api/v1/moi/journal", None)
                .await
                .0,
            403
        );
        assert_eq!(
            siseri_storage::journal::verify(env.db.store.as_ref())
                .await
                .unwrap()
                .map(|n| n > 10),
            Ok(true)
        );
    }
}

#[tokio::test]
async fn designations_delegations_and_designated_doctors_through_the_api() {
    let env = registry(siseri_storage::testing::sqlite().await).await;
    env.account("rh.a", Role::Employeur, |a| {
        a.siren = Some(Siren::parse("732829320").unwrap())
    })
    .await;
    env.account("corresp.a", Role::Employeur, |a| {
        a.siren = Some(Siren::parse("732829320").unwrap());
        a.correspondent = true;
    })
    .await;
    env.account("dr.a", Role::Mdt, |a| a.rpps = rpps("10000000009"))
        .await;
    env.account("infirmier", Role::ProfessionnelSante, |a| {
        a.rpps = rpps("10100000008")
    })
    .await;
    env.account("dr.famille", Role::MedecinDesigne, |_| {})
        .await;
    env.account("camille", Role::Travailleur, |a| {
        a.nir = Some(Nir::parse(NIR).unwrap())
    })
    .await;
    env.account("admin", Role::Admin, |_| {}).await;
    env.account("labo", Role::Organisme, |a| {
        a.siren = Some(Siren::parse("443061841").unwrap())
    })
    .await;
    let path = format!("/api/v1/travailleurs/{NIR}");
    let infirmier = env.token("infirmier").await;
    assert_eq!(env.get(&infirmier, &path, None).await.0, 404);

    let designation =
        json!({"role": "MDT", "login": "dr.a", "siret": SIRET_A, "date_debut": "2020-01-01"});
    assert_eq!(
        env.post(
            &env.token("corresp.a").await,
            "/api/v1/designations",
            designation.clone()
        )
        .await
        .0,
        403
    );
    let other =
        json!({"role": "MDT", "login": "dr.a", "siret": SIRET_B, "date_debut": "2020-01-01"});
    assert_eq!(
        env.post(&env.token("rh.a").await, "/api/v1/designations", other)
            .await
            .0,
        403
    );
    let wrong_role =
        json!({"role": "CRP", "login": "dr.a", "siret": SIRET_A, "date_debut": "2020-01-01"});
    assert_eq!(
        env.post(&env.token("rh.a").await, "/api/v1/designations", wrong_role)
            .await
            .0,
        400
    );
    assert_eq!(
        env.post(
            &env.token("rh.a").await,
            "/api/v1/designations",
            designation
        )
        .await
        .0,
        200
    );

    // Correspondents: appointed by the employer, in its scope, and unable to designate.
    let rh = env.token("rh.a").await;
    let (s, _) = env
        .post(
            &rh,
            "/api/v1/correspondants",
            json!({"login": "corresp.b", "sirets": [SIRET_A]}),
        )
        .await;
    assert_eq!(s, 200);
    let created = env.db.store.account("corresp.b").await.unwrap().unwrap();
    assert!(created.spec.correspondent && created.spec.role == Role::Employeur);
    assert_eq!(
        env.post(
            &rh,
            "/api/v1/correspondants",
            json!({"login": "corresp.c", "sirets": [SIRET_B]})
        )
        .await
        .0,
        400
    );
    assert_eq!(
        env.post(
            &env.token("corresp.a").await,
            "/api/v1/correspondants",
            json!({"login": "corresp.d"})
        )
        .await
        .0,
        403
    );

    let dr = env.token("dr.a").await;
    assert_eq!(env.get(&dr, &path, None).await.0, 200);
    let (s, d) = env
        .post(
            &dr,
            "/api/v1/delegations",
            json!({"login": "infirmier", "ecriture": false}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        env.get(&infirmier, &path, None).await.0,
        200,
        "delegation gives the MDT's reach"
    );
    let id = d["id"].as_i64().unwrap();
    assert_eq!(
        env.post(
            &dr,
            &format!("/api/v1/delegations/{id}/revocation"),
            json!({})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        env.get(&infirmier, &path, None).await.0,
        404,
        "revocation takes effect on the next request"
    );
    assert_eq!(
        env.post(
            &infirmier,
            "/api/v1/delegations",
            json!({"login": "infirmier", "ecriture": true})
        )
        .await
        .0,
        403
    );

    let famille = env.token("dr.famille").await;
    assert_eq!(env.get(&famille, &path, None).await.0, 404);
    let camille = env.token("camille").await;
    let (s, g) = env
        .post(
            &camille,
            "/api/v1/moi/medecin-designe",
            json!({"login": "dr.famille"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(env.get(&famille, &path, None).await.0, 200);
    let gid = g["id"].as_i64().unwrap();
    assert_eq!(
        env.post(
            &camille,
            &format!("/api/v1/medecins-designes/{gid}/revocation"),
            json!({})
        )
        .await
        .0,
        200
    );
    assert_eq!(env.get(&famille, &path, None).await.0, 404);

    let admin = env.token("admin").await;
    let r = env
        .http
        .put(format!("{}/api/v1/admin/organismes/labo/natures", env.base))
        .bearer_auth(&admin)
        .json(&json!({"natures": ["EXTERNE", "radon"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        env.db
            .store
            .account("labo")
            .await
            .unwrap()
            .unwrap()
            .spec
            .natures
            .len(),
        2
    );
    let r = env
        .http
        .put(format!("{}/api/v1/admin/organismes/labo/natures", env.base))
        .bearer_auth(&camille)
        .json(&json!({"natures": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let account = json!({"login": "exploitant.b", "role": "EXPLOITANT_INB", "siren": "443061841", "sirets": [SIRET_B], "rpps": null, "nir": null, "natures": [], "email": null, "correspondent": false, "password": "azerty123456"});
    let (s, e) = env
        .post(&admin, "/api/v1/admin/comptes", account.clone())
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("REQUETE_INVALIDE")),
        "common password refused"
    );
    let mut ok_account = account;
    ok_account["password"] = json!(PASSWORD);
    assert_eq!(
        env.post(&admin, "/api/v1/admin/comptes", ok_account)
            .await
            .0,
        200
    );
    let (s, code) = env
        .post(
            &admin,
            "/api/v1/admin/comptes/camille/code-inscription",
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(code["code"].as_str().unwrap().len() >= 8);

    let kinds: Vec<String> = env
        .db
        .store
        .journal_page(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.data_kind)
        .collect();
    for kind in [
        "DESIGNATION",
        "DELEGATION",
        "MEDECIN_DESIGNE",
        "ACCREDITATION",
        "COMPTE",
        "INSCRIPTION",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} journaled");
    }
}

#[tokio::test]
async fn login_sessions_throttle_and_anti_forgery() {
    let env = registry(siseri_storage::testing::sqlite().await).await;
    env.account("camille", Role::Travailleur, |a| {
        a.nir = Some(Nir::parse(NIR).unwrap())
    })
    .await;
    let mut b = Browser::new(&env);
    let (s, location, _) = b.login("camille", PASSWORD).await;
    assert_eq!((s, location.as_str()), (StatusCode::SEE_OTHER, "/compte"));
    let (s, _, html) = b.get("/compte").await;
    assert_eq!(s, 200);
    assert!(html.contains("camille") && html.contains("Mon compte"));
    let csrf = csrf_of(&html);

    // Forms without the session's token are refused.
    assert_eq!(b.post("/compte/jetons", &[("csrf", "faux")]).await.0, 403);
    let (s, _, html) = b.post("/compte/jetons", &[("csrf", &csrf)]).await;
    assert_eq!(s, 200);
    assert!(html.contains("siseri_"), "the new token is shown once");
    // The API refuses session writes without the anti-forgery header.
    let r = env
        .http
        .post(format!("{}/api/v1/moi/jetons", env.base))
        .header("cookie", b.header())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "CSRF");
    let r = env
        .http
        .post(format!("{}/api/v1/moi/jetons", env.base))
        .header("cookie", b.header())
        .header("x-csrf-token", &csrf)
        .json(&json!({"jours": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A session ends after 30 minutes idle.
    let session = b.cookies["siseri_session"].clone();
    env.db
        .store
        .touch_session(
            &auth::token_hash(&session),
            Utc::now() - chrono::Duration::minutes(31),
        )
        .await
        .unwrap();
    let (s, location, _) = b.get("/compte").await;
    assert_eq!(
        (s, location.as_str()),
        (StatusCode::SEE_OTHER, "/connexion")
    );

    // Five failures slow the account (never lock it): the right password then gets the
    // very answer of a wrong one (authentication.rs follows the delay).
    let mut other = Browser::new(&env);
    for _ in 0..5 {
        let (s, _, html) = other.login("camille", "pas le bon mot de passe").await;
        assert_eq!(s, 401);
        assert!(html.contains("Identifiant ou mot de passe incorrect"));
    }
    let (s, _, html) = other.login("camille", PASSWORD).await;
    assert_eq!(s, 401);
    assert!(html.contains("Identifiant ou mot de passe incorrect"));
    assert!(!html.contains("verrouillé"));
    // An unknown login answers like a wrong password.
    let (s, _, html) = Browser::new(&env).login("personne", PASSWORD).await;
    assert_eq!(s, 401);
    assert!(html.contains("Identifiant ou mot de passe incorrect"));
    let journal = env.db.store.journal_page(0, 1000).await.unwrap();
    assert!(
        journal
            .iter()
            .any(|e| e.event.action == "CONNEXION" && e.event.actor == "camille")
    );
    assert!(
        journal
            .iter()
            .filter(|e| e.event.action == "CONNEXION_REFUSEE")
            .count()
            >= 6
    );
}

#[tokio::test]
async fn second_factor_is_mandatory_single_use_and_recoverable() {
    let env = registry(siseri_storage::testing::sqlite().await).await;
    env.account("dr.a", Role::Mdt, |a| a.rpps = rpps("10000000009"))
        .await;
    env.designate("dr.a", DesignationRole::Physician, SIRET_A)
        .await;

    // First login: the second factor must be set up before anything else.
    let mut b = Browser::new(&env);
    let (_, location, _) = b.login("dr.a", PASSWORD).await;
    assert_eq!(location, "/compte/second-facteur");
    let (s, location, _) = b.get("/compte").await;
    assert_eq!(
        (s, location.as_str()),
        (StatusCode::SEE_OTHER, "/connexion/second-facteur")
    );
    let r = env
        .http
        .get(format!("{}/api/v1/travailleurs/{NIR}", env.base))
        .header("cookie", b.header())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "SECOND_FACTEUR_REQUIS"
    );
    let (_, _, html) = b.get("/compte/second-facteur").await;
    let secret = html
        .split("name=\"secret\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let csrf = csrf_of(&html);
    let (s, _, _) = b
        .post(
            "/compte/second-facteur",
            &[("csrf", &csrf), ("secret", &secret), ("code", "000000")],
        )
        .await;
    assert_eq!(s, 422);
    // Kept: replaying this very code must fail even if the clock moved to the next step.
    let used = now_code(&secret);
    let (s, _, html) = b
        .post(
            "/compte/second-facteur",
            &[("csrf", &csrf), ("secret", &secret), ("code", &used)],
        )
        .await;
    assert_eq!(s, 200);
    let recovery: Vec<String> = html
        .split("<code>")
        .skip(1)
        .map(|p| p.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(recovery.len(), 10);
    assert_eq!(b.get("/compte").await.0, 200);

    // Next login: password, then the code; the code just used cannot be replayed.
    let mut c = Browser::new(&env);
    let (_, location, _) = c.login("dr.a", PASSWORD).await;
    assert_eq!(location, "/connexion/second-facteur");
    let (_, _, html) = c.get("/connexion/second-facteur").await;
    let csrf = csrf_of(&html);
    let (s, _, _) = c
        .post(
            "/connexion/second-facteur",
            &[("csrf", &csrf), ("code", &used)],
        )
        .await;
    assert_eq!(s, 401, "a code is accepted once");
    let (s, location, _) = c
        .post(
            "/connexion/second-facteur",
            &[("csrf", &csrf), ("code", &recovery[0])],
        )
        .await;
    assert_eq!((s, location.as_str()), (StatusCode::SEE_OTHER, "/compte"));
    assert_eq!(c.get("/compte").await.0, 200);
    let r = env
        .http
        .get(format!("{}/api/v1/travailleurs/{NIR}", env.base))
        .header("cookie", c.header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let mut d = Browser::new(&env);
    d.login("dr.a", PASSWORD).await;
    let (_, _, html) = d.get("/connexion/second-facteur").await;
    let (s, _, _) = d
        .post(
            "/connexion/second-facteur",
            &[("csrf", &csrf_of(&html)), ("code", &recovery[0])],
        )
        .await;
    assert_eq!(s, 401, "a recovery code is used once");
}

#[tokio::test]
async fn cross_site_writes_with_the_session_cookie_are_refused() {
    let env = registry(siseri_storage::testing::sqlite().await).await;
    env.account("camille", Role::Travailleur, |a| {
        a.nir = Some(Nir::parse(NIR).unwrap())
    })
    .await;
    let mut b = Browser::new(&env);
    b.login("camille", PASSWORD).await;
    let (_, _, html) = b.get("/compte").await;
    let csrf = csrf_of(&html);
    let url = format!("{}/compte/jetons", env.base);
    let forged = env
        .http
        .post(&url)
        .header("cookie", b.header())
        .header("origin", "https://malveillant.example")
        .form(&[("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let cross = env
        .http
        .post(&url)
        .header("cookie", b.header())
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let same = env
        .http
        .post(&url)
        .header("cookie", b.header())
        .header("origin", env.base.clone())
        .header("sec-fetch-site", "same-origin")
        .form(&[("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 200);
}
