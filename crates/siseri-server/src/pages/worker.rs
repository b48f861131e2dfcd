//! The worker's own space (role `TRAVAILLEUR`, his NIR on his account): his doses (a chart
//! of the rolling 12-month effective dose against his limit, yearly and career totals,
//! every result with its versions, missing results, alerts), his whole history as CSV,
//! who read his record, and the doctor he designates.
//!
//! The record is read through [`crate::records::read_worker_at`], the function the API
//! uses: it applies the access policy and journals the read.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use siseri_domain::Role;
use siseri_domain::ids::{IdError, Nir, Rpps};
use siseri_domain::limits::{LimitKind, limit_usv};
use siseri_domain::totals::{Month, MonthlySums, Totals};

use super::paging::{ListQuery, Paged, matches};
use super::{Layout, PageError, PageResult, format};
use crate::extract::{PageForm, PagePath, PageQuery};
use crate::login::PageCaller;
use crate::records::{Refusal, read_worker_at};
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/mes-doses", axum::routing::get(my_doses))
        .route("/mes-doses/historique.csv", axum::routing::get(history_csv))
        .route("/mes-doses/consultations", axum::routing::get(reads))
        .route(
            "/mes-doses/medecin",
            axum::routing::get(doctor).post(designate),
        )
        .route(
            "/mes-doses/medecin/{id}/revocation",
            axum::routing::post(revoke),
        )
}

/// The NIR of the connected worker; any other role is refused (this space shows one's
/// own record only).
fn own_nir(caller: &PageCaller) -> Result<Nir, PageError> {
    let spec = &caller.0.account.spec;
    if spec.role != Role::Travailleur {
        return Err(PageError(ApiError::Forbidden(
            "ROLE_NON_AUTORISE",
            "Cet espace est réservé aux travailleurs : chacun y consulte ses propres doses.",
        )));
    }
    spec.nir.clone().ok_or(PageError(ApiError::Forbidden(
        "ROLE_NON_AUTORISE",
        "Votre compte n’est rattaché à aucun NIR : adressez-vous au gestionnaire du registre.",
    )))
}

// ---------------------------------------------------------------------------------------
// The record, as the API serialises it

/// The worker record as `read_worker_at` returns it, read back from its JSON form (the
/// API's own shape, so that the page shows exactly what the API would).
#[derive(Debug, Deserialize)]
struct Record {
    nom: String,
    prenom: String,
    date_naissance: NaiveDate,
    #[serde(default)]
    rattachements: Vec<AttachmentIn>,
    #[serde(default)]
    resultats: Vec<ResultIn>,
    totaux: Option<Totals>,
    #[serde(default)]
    alertes: Vec<AlertIn>,
}

#[derive(Debug, Deserialize)]
struct AttachmentIn {
    date_debut: NaiveDate,
    date_fin: Option<NaiveDate>,
}

#[derive(Debug, Deserialize)]
struct ResultIn {
    id: i64,
    reference: String,
    emetteur: String,
    nature: String,
    grandeur: String,
    position: Option<String>,
    date_debut: NaiveDate,
    date_fin: NaiveDate,
    statut: String,
    dose_usv: Option<i64>,
    seuil_usv: Option<i64>,
    siret: String,
    version: u32,
    annule: bool,
    #[serde(default)]
    versions: Vec<VersionIn>,
}

#[derive(Debug, Deserialize)]
struct VersionIn {
    version: u32,
    statut: String,
    dose_usv: Option<i64>,
    auteur: String,
    date: DateTime<Utc>,
    justification: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AlertIn {
    id: i64,
    limite: String,
    premier_mois: String,
    dernier_mois: String,
    dose_usv: Option<i64>,
    statut: String,
    #[serde(default)]
    etapes: Vec<StepIn>,
}

#[derive(Debug, Deserialize)]
struct StepIn {
    statut: String,
    date: DateTime<Utc>,
    auteur: String,
    texte: String,
}

/// The worker's record with totals at the current month, through the access policy (which
/// journals the read); `None` when the registry holds nothing under his NIR yet.
async fn my_record(
    state: &AppState,
    caller: &PageCaller,
    nir: &Nir,
) -> Result<Option<Record>, PageError> {
    let au = Month::of(state.clock.today());
    let record = match read_worker_at(state.store.as_ref(), state.clock, &caller.0, nir, au).await?
    {
        Ok(r) => r,
        Err(Refusal::NotFound | Refusal::MissionRequired) => return Ok(None),
    };
    let json = serde_json::to_value(&record).map_err(|e| ApiError::Internal(e.to_string()))?;
    let record = serde_json::from_value(json).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Some(record))
}

// ---------------------------------------------------------------------------------------
// French labels of the codes

fn nature_label(code: &str) -> String {
    match code {
        "EXTERNE" => "Exposition externe",
        "INTERNE_VIVO" => "Exposition interne (in vivo)",
        "INTERNE_VITRO" => "Exposition interne (in vitro)",
        "RADON" => "Radon",
        "COSMIQUE" => "Rayonnement cosmique",
        "ESTIMATION_MDT" => "Estimation du médecin du travail",
        other => other,
    }
    .to_string()
}

fn quantity_label(code: &str) -> String {
    match code {
        "HP10" => "Hp(10) corps entier",
        "HP10_NEUTRON" => "Hp(10) neutrons",
        "HP007" => "Hp(0,07) peau",
        "HP3" => "Hp(3) cristallin",
        "HP007_EXTREMITE" => "Hp(0,07) extrémités",
        "E50" => "E(50) dose engagée",
        "E" => "E dose efficace",
        other => other,
    }
    .to_string()
}

fn position_label(code: Option<&str>) -> String {
    match code {
        None => "—",
        Some("OEIL_GAUCHE") => "Œil gauche",
        Some("OEIL_DROIT") => "Œil droit",
        Some("MAIN_GAUCHE") => "Main gauche",
        Some("MAIN_DROITE") => "Main droite",
        Some("POIGNET_GAUCHE") => "Poignet gauche",
        Some("POIGNET_DROIT") => "Poignet droit",
        Some("PIED_GAUCHE") => "Pied gauche",
        Some("PIED_DROIT") => "Pied droit",
        Some(other) => other,
    }
    .to_string()
}

fn status_label(code: &str) -> String {
    match code {
        "MESURE" => "Mesuré",
        "INF_SEUIL" => "Inférieur au seuil",
        "ABSENCE" => "Résultat absent",
        "ANNULE" => "Annulé",
        other => other,
    }
    .to_string()
}

/// What a result's value reads as: a dose, "< seuil", "absence" or "annulé".
fn value_text(statut: &str, dose_usv: Option<i64>) -> String {
    match statut {
        "MESURE" => dose_usv.map_or_else(|| "—".to_string(), format::msv),
        "INF_SEUIL" => "< seuil".to_string(),
        "ABSENCE" => "absence".to_string(),
        "ANNULE" => "annulé".to_string(),
        other => other.to_string(),
    }
}

fn limit_label(code: &str) -> String {
    match code {
        "E" => "Dose efficace sur 12 mois glissants",
        "CRISTALLIN" => "Cristallin sur 12 mois glissants",
        "PEAU" => "Peau sur 12 mois glissants",
        "EXTREMITES" => "Extrémités sur 12 mois glissants",
        "ENFANT_A_NAITRE" => "Enfant à naître (grossesse déclarée)",
        "VIE_ENTIERE" => "Dose efficace sur la vie entière",
        other => other,
    }
    .to_string()
}

fn alert_status_label(code: &str) -> String {
    match code {
        "OUVERTE" => "Ouverte",
        "EN_ANALYSE" => "En analyse par le médecin du travail",
        "CONFIRMEE" => "Confirmée",
        "CORRIGEE" => "Corrigée",
        "ANNULEE" => "Annulée",
        "NOTE" => "Note",
        other => other,
    }
    .to_string()
}

/// A month stored as `AAAA-MM`, written `MM/AAAA`.
fn month_text(label: &str) -> String {
    Month::parse(label).map_or_else(|| label.to_string(), format::month)
}

/// The senders' names: an organisation's company name when the registry knows it, a
/// physician by his RPPS.
async fn sender_names(
    state: &AppState,
    keys: impl Iterator<Item = &str>,
) -> Result<HashMap<String, String>, PageError> {
    let mut out = HashMap::new();
    for key in keys {
        if out.contains_key(key) {
            continue;
        }
        let name = if let Some(siren) = key.strip_prefix("SIREN:") {
            let known = match siren.parse() {
                Ok(s) => state.store.company(&s).await?.map(|c| c.name),
                Err(_) => None,
            };
            known.map_or_else(
                || format!("Organisme (SIREN {siren})"),
                |n| format!("{n} (SIREN {siren})"),
            )
        } else if let Some(rpps) = key.strip_prefix("RPPS:") {
            format!("Médecin du travail (RPPS {rpps})")
        } else {
            key.to_string()
        };
        out.insert(key.to_string(), name);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// The chart

/// One month of the chart (also its table for screen readers).
struct ChartRow {
    month: String,
    rolling: String,
    limit: String,
    over: bool,
}

/// The chart of the rolling 12-month effective dose, drawn as inline SVG.
struct Chart {
    svg: String,
    rows: Vec<ChartRow>,
    first: String,
    last: String,
}

/// Escapes text for SVG/HTML.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A round step for the dose axis (µSv): 1, 2 or 5 times a power of ten mSv.
fn axis_step(max_usv: i64) -> i64 {
    let rough = (max_usv / 5).max(1);
    let mut unit = 1_000; // 1 mSv
    while unit * 10 <= rough {
        unit *= 10;
    }
    [1, 2, 5, 10]
        .iter()
        .map(|k| k * unit)
        .find(|s| *s >= rough)
        .unwrap_or(unit * 10)
}

const CHART_W: f64 = 640.0;
const CHART_H: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// The rolling 12-month effective dose at every month `first ..= last`, from the stored
/// monthly sums (the figures of the record's totals), against the worker's limit of each
/// month (lower while he is under 18).
fn chart(sums: &MonthlySums, birth: NaiveDate, first: Month, last: Month) -> Chart {
    let months: Vec<Month> = first.through(last).collect();
    let points: Vec<(Month, i64, i64)> = months
        .iter()
        .map(|m| (*m, sums.rolling_e(*m), limit_usv(LimitKind::E, birth, *m)))
        .collect();
    let top_value = points
        .iter()
        .map(|(_, v, l)| (*v).max(*l))
        .max()
        .unwrap_or(20_000);
    let step = axis_step(top_value + top_value / 10);
    let y_max = (top_value / step + 1) * step;
    let plot_w = CHART_W - LEFT - RIGHT;
    let plot_h = CHART_H - TOP - BOTTOM;
    let n = points.len().max(2) - 1;
    let x = |i: usize| LEFT + plot_w * i as f64 / n as f64;
    let y = |v: i64| TOP + plot_h * (1.0 - v as f64 / y_max as f64);

    let mut svg = String::new();
    let max = points.iter().max_by_key(|(_, v, _)| *v);
    let over: Vec<&(Month, i64, i64)> = points.iter().filter(|(_, v, l)| v > l).collect();
    let title = "Dose efficace sur 12 mois glissants, mois par mois, comparée à la limite";
    let mut desc = format!("De {} à {}. ", format::month(first), format::month(last));
    if let Some((m, v, _)) = max {
        desc.push_str(&format!(
            "Valeur la plus haute : {} en {}. ",
            format::msv(*v),
            format::month(*m)
        ));
    }
    if let Some((_, _, l)) = points.last() {
        desc.push_str(&format!("Limite actuelle : {}. ", format::msv(*l)));
    }
    if over.is_empty() {
        desc.push_str("La limite n’a jamais été dépassée.");
    } else {
        desc.push_str(&format!(
            "Limite dépassée pendant {} mois, de {} à {}.",
            over.len(),
            over.first().map(|p| format::month(p.0)).unwrap_or_default(),
            over.last().map(|p| format::month(p.0)).unwrap_or_default()
        ));
    }
    svg.push_str(&format!(
        r##"<svg class="siseri-chart" viewBox="0 0 {CHART_W} {CHART_H}" role="img" aria-labelledby="graphique-titre graphique-desc" xmlns="http://www.w3.org/2000/svg"><title id="graphique-titre">{}</title><desc id="graphique-desc">{}</desc>"##,
        escape(title),
        escape(&desc)
    ));
    // Horizontal grid and dose labels.
    let mut v = 0;
    while v <= y_max {
        let yy = y(v);
        svg.push_str(&format!(
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#dddddd" stroke-width="1"/><text x="{:.1}" y="{:.1}" font-size="14" text-anchor="end" fill="#3a3a3a">{}</text>"##,
            CHART_W - RIGHT,
            LEFT - 6.0,
            yy + 5.0,
            escape(&format!("{} mSv", v / 1000))
        ));
        v += step;
    }
    // Years on the time axis (every k-th year when the career is long).
    let years = (last.year() - first.year() + 1).max(1);
    let stride = (years + 7) / 8;
    for (i, m) in months.iter().enumerate() {
        // The first month is labelled unless a January follows too closely to leave room.
        let is_start = (i == 0 && (m.month() <= 9 || months.len() < 4)) || m.month() == 1;
        if is_start && (m.year() - first.year()) % stride == 0 {
            let xx = x(i);
            svg.push_str(&format!(
                r##"<line x1="{xx:.1}" y1="{:.1}" x2="{xx:.1}" y2="{:.1}" stroke="#929292" stroke-width="1"/><text x="{xx:.1}" y="{:.1}" font-size="14" text-anchor="start" fill="#3a3a3a">{}</text>"##,
                CHART_H - BOTTOM,
                CHART_H - BOTTOM + 6.0,
                CHART_H - BOTTOM + 22.0,
                m.year()
            ));
        }
    }
    svg.push_str(&format!(
        r##"<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#3a3a3a" stroke-width="1"/>"##,
        CHART_H - BOTTOM,
        CHART_W - RIGHT,
        CHART_H - BOTTOM
    ));
    // The limit (dashed, so that colour is not the only difference), then the dose.
    let line = |value: &dyn Fn(&(Month, i64, i64)) -> i64| {
        points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(value(p))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let single = points.len() == 1;
    let (limit_line, dose_line) = if single {
        // One month: draw it across the plot.
        let l = points.first().map_or(0, |p| p.2);
        let d = points.first().map_or(0, |p| p.1);
        (
            format!("{LEFT},{:.1} {:.1},{:.1}", y(l), CHART_W - RIGHT, y(l)),
            format!("{LEFT},{:.1} {:.1},{:.1}", y(d), CHART_W - RIGHT, y(d)),
        )
    } else {
        (line(&|p| p.2), line(&|p| p.1))
    };
    svg.push_str(&format!(
        r##"<polyline points="{limit_line}" fill="none" stroke="#ce0500" stroke-width="2" stroke-dasharray="8 5"/><polyline points="{dose_line}" fill="none" stroke="#000091" stroke-width="3" stroke-linejoin="round"/>"##
    ));
    // Months over the limit: a marker on the dose line.
    for (i, p) in points.iter().enumerate() {
        if p.1 > p.2 {
            svg.push_str(&format!(
                r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#ce0500" stroke="#ffffff" stroke-width="1"/>"##,
                x(i),
                y(p.1)
            ));
        }
    }
    svg.push_str("</svg>");
    let rows = points
        .iter()
        .map(|(m, v, l)| ChartRow {
            month: format::month(*m),
            rolling: format::msv(*v),
            limit: format::msv(*l),
            over: v > l,
        })
        .collect();
    Chart {
        svg,
        rows,
        first: format::month(first),
        last: format::month(last),
    }
}

// ---------------------------------------------------------------------------------------
// Mes doses

/// One result in the table.
struct ResultRow {
    reference: String,
    period: String,
    nature: String,
    quantity: String,
    position: String,
    value: String,
    sender: String,
    status: String,
    cancelled: bool,
    version: u32,
    versions: Vec<VersionRow>,
}

/// One version of a result.
struct VersionRow {
    version: u32,
    status: String,
    value: String,
    author: String,
    date: String,
    justification: String,
}

/// A year's total.
struct YearRow {
    year: i32,
    total: String,
    current: bool,
}

/// A missing result: an `ABSENCE` result, or a followed month without any result.
struct MissingRow {
    period: String,
    what: String,
}

/// An alert and its steps.
struct AlertRow {
    id: i64,
    kind: String,
    months: String,
    dose: String,
    status: String,
    steps: Vec<StepRow>,
}

struct StepRow {
    date: String,
    status: String,
    author: String,
    text: String,
}

/// The totals as the page shows them.
struct TotalsView {
    rolling: String,
    limit: String,
    over: bool,
    year: String,
    career: String,
    lens: String,
    skin: String,
    extremities: String,
    complete: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "worker/doses.html")]
struct DosesPage {
    layout: Layout,
    name: String,
    found: bool,
    today: String,
    totals: Option<TotalsView>,
    chart: Option<Chart>,
    years: Vec<YearRow>,
    missing: Vec<MissingRow>,
    missing_window: String,
    alerts: Vec<AlertRow>,
    list: Paged<ResultRow>,
    search: String,
    search_label: &'static str,
}

fn result_row(r: &ResultIn, senders: &HashMap<String, String>) -> ResultRow {
    ResultRow {
        reference: r.reference.clone(),
        period: format!(
            "{} – {}",
            format::date(r.date_debut),
            format::date(r.date_fin)
        ),
        nature: nature_label(&r.nature),
        quantity: quantity_label(&r.grandeur),
        position: position_label(r.position.as_deref()),
        value: value_text(&r.statut, r.dose_usv),
        sender: senders
            .get(&r.emetteur)
            .cloned()
            .unwrap_or_else(|| r.emetteur.clone()),
        status: status_label(&r.statut),
        cancelled: r.annule,
        version: r.version,
        versions: r
            .versions
            .iter()
            .rev()
            .map(|v| VersionRow {
                version: v.version,
                status: status_label(&v.statut),
                value: value_text(&v.statut, v.dose_usv),
                author: v.auteur.clone(),
                date: format::date_time(v.date),
                justification: v.justification.clone().unwrap_or_default(),
            })
            .collect(),
    }
}

/// The missing results: current `ABSENCE` results, and the months of the last 12 whole
/// months during which he was attached somewhere and no result covers.
fn missing(
    record: &Record,
    senders: &HashMap<String, String>,
    current: Month,
) -> (Vec<MissingRow>, String) {
    let mut out: Vec<MissingRow> = record
        .resultats
        .iter()
        .filter(|r| r.statut == "ABSENCE" && !r.annule)
        .map(|r| MissingRow {
            period: format!(
                "{} – {}",
                format::date(r.date_debut),
                format::date(r.date_fin)
            ),
            what: format!(
                "Résultat absent ({}, {}), déclaré par {}",
                nature_label(&r.nature),
                quantity_label(&r.grandeur),
                senders
                    .get(&r.emetteur)
                    .cloned()
                    .unwrap_or_else(|| r.emetteur.clone())
            ),
        })
        .collect();
    let first = current.plus(-12);
    let last = current.plus(-1);
    for m in first.through(last) {
        let (start, end) = (m.first_day(), m.last_day());
        let followed = record
            .rattachements
            .iter()
            .any(|a| a.date_debut <= end && a.date_fin.is_none_or(|f| f >= start));
        let covered = record
            .resultats
            .iter()
            .any(|r| !r.annule && r.date_debut <= end && r.date_fin >= start);
        if followed && !covered {
            out.push(MissingRow {
                period: format::month(m),
                what: "Aucun résultat reçu pour ce mois alors que vous étiez rattaché à un établissement".into(),
            });
        }
    }
    let window = format!("de {} à {}", format::month(first), format::month(last));
    (out, window)
}

async fn my_doses(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(query): PageQuery<ListQuery>,
) -> PageResult {
    let nir = own_nir(&caller)?;
    let layout = Layout::of(&state, &caller, &headers, "/mes-doses").await?;
    let today = state.clock.today();
    let current = Month::of(today);
    let record = my_record(&state, &caller, &nir).await?;
    let Some(record) = record else {
        return Ok(DosesPage {
            layout,
            name: String::new(),
            found: false,
            today: format::date(today),
            totals: None,
            chart: None,
            years: Vec::new(),
            missing: Vec::new(),
            missing_window: String::new(),
            alerts: Vec::new(),
            list: Paged::of(Vec::new(), None, &[]),
            search: query.text(),
            search_label: "Rechercher un résultat",
        }
        .into_response());
    };
    // The record was read (and journaled) above; its monthly sums draw the chart.
    let sums = MonthlySums::from_rows(state.store.monthly_doses(&nir).await?);
    let senders =
        sender_names(&state, record.resultats.iter().map(|r| r.emetteur.as_str())).await?;
    let career_start = [
        sums.first_month(),
        record
            .rattachements
            .iter()
            .map(|a| Month::of(a.date_debut))
            .min(),
    ]
    .into_iter()
    .flatten()
    .min()
    .map(|m| m.min(current));
    let chart = career_start.map(|first| chart(&sums, record.date_naissance, first, current));
    let years = career_start
        .map(|first| {
            (first.year()..=current.year())
                .rev()
                .map(|y| YearRow {
                    year: y,
                    total: format::msv(if y == current.year() {
                        sums.year_e(current)
                    } else {
                        sums.calendar_year_e(y)
                    }),
                    current: y == current.year(),
                })
                .collect()
        })
        .unwrap_or_default();
    let limit = limit_usv(LimitKind::E, record.date_naissance, current);
    let totals = record.totaux.as_ref().map(|t| TotalsView {
        rolling: format::msv(t.e_12_mois_usv),
        limit: format::msv(limit),
        over: t.e_12_mois_usv > limit,
        year: format::msv(t.e_annee_usv),
        career: format::msv(t.e_carriere_usv),
        lens: format::msv(t.cristallin_12_mois_usv),
        skin: format::msv(t.peau_12_mois_usv),
        extremities: format::msv(t.extremites_12_mois_usv),
        complete: t.complet,
    });
    let (missing, missing_window) = missing(&record, &senders, current);
    let alerts = record
        .alertes
        .iter()
        .rev()
        .map(|a| AlertRow {
            id: a.id,
            kind: limit_label(&a.limite),
            months: if a.premier_mois == a.dernier_mois {
                month_text(&a.premier_mois)
            } else {
                format!(
                    "de {} à {}",
                    month_text(&a.premier_mois),
                    month_text(&a.dernier_mois)
                )
            },
            dose: a.dose_usv.map(format::msv).unwrap_or_default(),
            status: alert_status_label(&a.statut),
            steps: a
                .etapes
                .iter()
                .map(|s| StepRow {
                    date: format::date_time(s.date),
                    status: alert_status_label(&s.statut),
                    author: s.auteur.clone(),
                    text: s.texte.clone(),
                })
                .collect(),
        })
        .collect();
    let needle = query.needle();
    let mut results: Vec<&ResultIn> = record.resultats.iter().collect();
    results.sort_by_key(|r| std::cmp::Reverse((r.date_fin, r.id)));
    let rows = results
        .into_iter()
        .map(|r| result_row(r, &senders))
        .filter(|r| {
            matches(
                &needle,
                &[
                    &r.reference,
                    &r.period,
                    &r.nature,
                    &r.quantity,
                    &r.position,
                    &r.value,
                    &r.sender,
                    &r.status,
                ],
            )
        })
        .collect();
    Ok(DosesPage {
        layout,
        name: format!("{} {}", record.prenom, record.nom),
        found: true,
        today: format::date(today),
        totals,
        chart,
        years,
        missing,
        missing_window,
        alerts,
        list: Paged::of(rows, query.page, &[("q", query.text())]),
        search: query.text(),
        search_label: "Rechercher un résultat (nature, période, émetteur…)",
    }
    .into_response())
}

// ---------------------------------------------------------------------------------------
// The CSV history

/// A CSV field, neutralised when a spreadsheet would run it as a formula (a sender's
/// REFERENCE may begin with `-`, an organisation's name with anything), then quoted when it
/// holds the separator, a quote or a line break.
fn csv_field(s: &str) -> String {
    let s = siseri_exchange::cells::neutralise(s);
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

/// µSv written in mSv with three decimals and a decimal comma (exports: `rules.md` §1).
fn csv_msv(usv: i64) -> String {
    let sign = if usv < 0 { "-" } else { "" };
    let a = usv.unsigned_abs();
    format!("{sign}{},{:03}", a / 1000, a % 1000)
}

/// The columns of the history.
const CSV_HEADER: &[&str] = &[
    "Référence",
    "Nature",
    "Grandeur",
    "Position",
    "Date de début",
    "Date de fin",
    "Statut",
    "Dose (µSv)",
    "Dose (mSv)",
    "Seuil (µSv)",
    "Émetteur",
    "SIRET",
    "Version",
];

fn history_lines(record: &Record, senders: &HashMap<String, String>) -> String {
    let mut out = String::from('\u{feff}');
    out.push_str(&CSV_HEADER.join(";"));
    out.push_str("\r\n");
    let mut results: Vec<&ResultIn> = record.resultats.iter().collect();
    results.sort_by_key(|r| (r.date_fin, r.id));
    for r in results {
        let fields = [
            r.reference.clone(),
            nature_label(&r.nature),
            quantity_label(&r.grandeur),
            r.position
                .as_deref()
                .map(|p| position_label(Some(p)))
                .unwrap_or_default(),
            format::date(r.date_debut),
            format::date(r.date_fin),
            status_label(&r.statut),
            r.dose_usv.map(|d| d.to_string()).unwrap_or_default(),
            r.dose_usv.map(csv_msv).unwrap_or_default(),
            r.seuil_usv.map(|d| d.to_string()).unwrap_or_default(),
            senders
                .get(&r.emetteur)
                .cloned()
                .unwrap_or_else(|| r.emetteur.clone()),
            r.siret.clone(),
            r.version.to_string(),
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(";"),
        );
        out.push_str("\r\n");
    }
    out
}

/// His whole history as CSV (read, and journaled, like the record).
async fn history_csv(State(state): State<AppState>, caller: PageCaller) -> PageResult {
    let nir = own_nir(&caller)?;
    let record = my_record(&state, &caller, &nir).await?;
    let (lines, senders) = match &record {
        Some(r) => (
            r,
            sender_names(&state, r.resultats.iter().map(|x| x.emetteur.as_str())).await?,
        ),
        None => {
            let mut empty = String::from('\u{feff}');
            empty.push_str(&CSV_HEADER.join(";"));
            empty.push_str("\r\n");
            return Ok(csv_response(empty));
        }
    };
    Ok(csv_response(history_lines(lines, &senders)))
}

fn csv_response(body: String) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"siseri-historique-doses.csv\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (headers, body).into_response()
}

// ---------------------------------------------------------------------------------------
// Who read my record

struct ReadRow {
    date: String,
    who: String,
    role: String,
    what: String,
    mission: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "worker/consultations.html")]
struct ReadsPage {
    layout: Layout,
    list: Paged<ReadRow>,
    search: String,
    search_label: &'static str,
}

fn data_kind_label(code: &str) -> String {
    match code {
        "DOSSIER" => "Votre dossier (identité, résultats, totaux, alertes)",
        "JOURNAL" => "La liste des consultations de votre dossier",
        "IDENTITE" => "Votre identité et vos rattachements",
        "RECHERCHE" => "Une recherche vous concernant",
        other => other,
    }
    .to_string()
}

/// The reads of his record (refused reads are not shown to him, as on the API).
async fn reads(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(query): PageQuery<ListQuery>,
) -> PageResult {
    let nir = own_nir(&caller)?;
    let layout = Layout::of(&state, &caller, &headers, "/mes-doses/consultations").await?;
    let store = state.store.as_ref();
    let mut rows = Vec::new();
    if let Some(worker) = store.worker(&nir).await? {
        let entries = store.journal_of_worker(worker.id, 10_000).await?;
        let mut event = caller.0.event(Utc::now(), "LECTURE", "JOURNAL");
        event.worker_ids = vec![worker.id];
        store.append_journal(&[event]).await?;
        let needle = query.needle();
        let me = caller.0.login();
        rows = entries
            .into_iter()
            .filter(|e| e.event.action == "LECTURE" && e.event.outcome == "OK")
            .map(|e| {
                let e = e.event;
                ReadRow {
                    date: format::date_time(e.at),
                    who: if e.actor == me {
                        format!("{} (vous-même)", e.actor)
                    } else {
                        e.actor
                    },
                    role: e.role.as_deref().and_then(Role::parse).map_or_else(
                        || e.role.clone().unwrap_or_default(),
                        |r| r.label().to_string(),
                    ),
                    what: data_kind_label(&e.data_kind),
                    mission: e.mission.unwrap_or_default(),
                }
            })
            .filter(|r| matches(&needle, &[&r.date, &r.who, &r.role, &r.what, &r.mission]))
            .collect();
    }
    Ok(ReadsPage {
        layout,
        list: Paged::of(rows, query.page, &[("q", query.text())]),
        search: query.text(),
        search_label: "Rechercher (identifiant, rôle, date…)",
    }
    .into_response())
}

// ---------------------------------------------------------------------------------------
// My designated doctor

struct GrantView {
    id: i64,
    login: String,
    rpps: String,
    active: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "worker/medecin.html")]
struct DoctorPage {
    layout: Layout,
    grants: Vec<GrantView>,
    rpps: String,
    error: Option<String>,
    done: Option<&'static str>,
}

#[derive(Deserialize)]
struct DoneQuery {
    #[serde(default)]
    fait: Option<String>,
}

async fn doctor_page(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    nir: &Nir,
    rpps: String,
    error: Option<String>,
    done: Option<&'static str>,
) -> Result<DoctorPage, PageError> {
    let layout = Layout::of(state, caller, headers, "/mes-doses/medecin").await?;
    let mut grants = Vec::new();
    for g in state.store.grants_on(nir).await? {
        let rpps = state
            .store
            .account(&g.doctor_login)
            .await?
            .and_then(|a| a.spec.rpps)
            .map(|r| r.as_str().to_string())
            .unwrap_or_default();
        grants.push(GrantView {
            id: g.id,
            login: g.doctor_login,
            rpps,
            active: g.revoked_at.is_none(),
        });
    }
    // Current designations first, then the revoked ones, newest first.
    grants.sort_by_key(|g| std::cmp::Reverse((g.active, g.id)));
    Ok(DoctorPage {
        layout,
        grants,
        rpps,
        error,
        done,
    })
}

async fn doctor(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(q): PageQuery<DoneQuery>,
) -> PageResult {
    let nir = own_nir(&caller)?;
    let done = match q.fait.as_deref() {
        Some("designe") => Some(
            "Le médecin est désigné : il peut désormais consulter l’ensemble de votre dossier.",
        ),
        Some("revoque") => {
            Some("La désignation est révoquée : ce médecin ne peut plus consulter votre dossier.")
        }
        _ => None,
    };
    Ok(
        doctor_page(&state, &caller, &headers, &nir, String::new(), None, done)
            .await?
            .into_response(),
    )
}

#[derive(Deserialize)]
struct DesignateForm {
    csrf: String,
    #[serde(default)]
    rpps: String,
}

/// Why an RPPS number typed by the worker cannot designate a doctor, in French.
fn rpps_error(e: &IdError) -> String {
    match e {
        IdError::RppsKey => "Ce numéro RPPS n’est pas valide : sa clé de contrôle ne correspond pas. Vérifiez-le sur la carte ou l’ordonnance du médecin.".into(),
        _ => "Le numéro RPPS comporte exactement 11 chiffres, sans lettre.".into(),
    }
}

/// Designates the doctor whose RPPS number is given (his account must exist, with the
/// role of designated doctor); the API's logic does the write and its journal entry.
async fn designate(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageForm(form): PageForm<DesignateForm>,
) -> PageResult {
    if let Some(refused) = caller.forged(&form.csrf) {
        return Ok(refused);
    }
    let nir = own_nir(&caller)?;
    let typed: String = form.rpps.chars().filter(|c| !c.is_whitespace()).collect();
    match doctor_to_designate(&state, &nir, &typed).await? {
        Ok(login) => {
            let _ = crate::api_people::grant(&state, &caller.0, &nir, &login).await?;
            Ok(Redirect::to("/mes-doses/medecin?fait=designe").into_response())
        }
        Err(message) => {
            let page =
                doctor_page(&state, &caller, &headers, &nir, typed, Some(message), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// The login of the designated doctor whose RPPS number was typed, or why he cannot be
/// designated.
async fn doctor_to_designate(
    state: &AppState,
    nir: &Nir,
    typed: &str,
) -> Result<Result<String, String>, PageError> {
    if typed.is_empty() {
        return Ok(Err(
            "Saisissez le numéro RPPS du médecin que vous désignez (11 chiffres).".into(),
        ));
    }
    let rpps = match Rpps::parse(typed) {
        Ok(r) => r,
        Err(e) => return Ok(Err(rpps_error(&e))),
    };
    let doctor = state
        .store
        .accounts()
        .await?
        .into_iter()
        .find(|a| a.spec.role == Role::MedecinDesigne && a.spec.rpps.as_ref() == Some(&rpps));
    let Some(doctor) = doctor else {
        return Ok(Err("Aucun médecin inscrit à SISERI ne porte ce numéro RPPS. Le médecin doit d’abord disposer d’un compte de médecin désigné auprès du gestionnaire du registre.".into()));
    };
    let already = state
        .store
        .grants_on(nir)
        .await?
        .iter()
        .any(|g| g.revoked_at.is_none() && g.doctor_login == doctor.spec.login);
    if already {
        return Ok(Err(
            "Ce médecin est déjà désigné : il peut déjà consulter votre dossier.".into(),
        ));
    }
    Ok(Ok(doctor.spec.login))
}

#[derive(Deserialize)]
struct RevokeForm {
    csrf: String,
}

/// Revokes one of his designations (the API's handler decides whether it is his).
async fn revoke(
    State(state): State<AppState>,
    caller: PageCaller,
    PagePath(id): PagePath<i64>,
    PageForm(form): PageForm<RevokeForm>,
) -> PageResult {
    if let Some(refused) = caller.forged(&form.csrf) {
        return Ok(refused);
    }
    own_nir(&caller)?;
    let _ = crate::api_people::revoke_doctor(
        State(state.clone()),
        caller.0.clone(),
        crate::extract::ApiPath(id),
    )
    .await?;
    Ok(Redirect::to("/mes-doses/medecin?fait=revoque").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_write_three_decimals() {
        assert_eq!(csv_msv(1250), "1,250");
        assert_eq!(csv_msv(5), "0,005");
        assert_eq!(csv_msv(16_800), "16,800");
        assert_eq!(csv_field("a;b"), "\"a;b\"");
        assert_eq!(csv_field("dit \"x\""), "\"dit \"\"x\"\"\"");
        assert_eq!(csv_field("x\ny"), "\"x\ny\"");
    }

    #[test]
    fn exports_neutralise_formulas() {
        assert_eq!(csv_field("-2024/001"), "'-2024/001");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\";\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\";\"\"y\"\")\""
        );
        assert_eq!(csv_field("\rx"), "\"'\rx\"");
        assert_eq!(csv_field("0,250"), "0,250");
    }

    #[test]
    fn the_dose_axis_has_round_steps() {
        assert_eq!(axis_step(22_000), 5_000);
        assert_eq!(axis_step(6_600), 2_000);
        assert_eq!(axis_step(1_000), 1_000);
        assert_eq!(axis_step(110_000), 50_000);
    }

    #[test]
    fn the_chart_marks_months_over_the_limit() {
        let birth = NaiveDate::from_ymd_opt(1980, 1, 1).unwrap_or(NaiveDate::MIN);
        let m = Month::parse("2024-01").unwrap_or(Month(0));
        let mut sums = MonthlySums::new();
        sums.add(m, siseri_domain::totals::Series::EExternal, 21_000, 0);
        let c = chart(&sums, birth, m.plus(-2), m.plus(2));
        assert_eq!(c.rows.len(), 5);
        assert!(c.rows[2].over && !c.rows[1].over);
        assert!(c.svg.starts_with("<svg") && c.svg.contains("role=\"img\""));
        assert!(
            c.svg.contains("<circle"),
            "a marker where the limit is exceeded"
        );
        assert!(!c.svg.contains("style="));
        // Under 18, the limit is 6 mSv.
        let young = NaiveDate::from_ymd_opt(2010, 1, 1).unwrap_or(NaiveDate::MIN);
        let c = chart(&sums, young, m, m);
        assert_eq!(c.rows[0].limit, format::msv(6_000));
    }
}
