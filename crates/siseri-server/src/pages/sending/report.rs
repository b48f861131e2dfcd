//! `GET /transmissions/{id}`: the execution report as a page (summary, then the lines,
//! rejected first, each code explained), or its progress while the import runs. The
//! dry-run report, which has no id, is drawn by the same template.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::IntoResponse;
use serde::Deserialize;
use siseri_domain::codes::TransmissionFormat;
use siseri_exchange::records::LineCode;
use siseri_import::Report;
use siseri_import::report::ReportLine;

use super::super::paging::{Paged, matches};
use super::super::{Layout, PageError, PageResult};
use super::codes::{explanation, format_label_of, status_badge, status_label, status_rank};
use super::{count, received};
use crate::extract::{PagePath, PageQuery};
use crate::login::PageCaller;
use crate::transmissions;
use crate::{ApiError, AppState};

/// How many lines a dry-run report shows (it cannot be paged: it is not kept).
const DRY_RUN_LINES: usize = 500;

/// Seconds between two refreshes of the progress page.
const REFRESH_SECONDS: &str = "3";

/// The estimated number of records of the imports in progress started from the page (the
/// line ends counted while the file was received), for the progress bar.
pub(super) mod estimates {
    use std::sync::{Arc, Mutex};

    use siseri_import::Progress;

    static ESTIMATES: Mutex<Vec<(usize, u64)>> = Mutex::new(Vec::new());

    fn key(p: &Progress) -> usize {
        std::ptr::from_ref(p) as usize
    }

    /// Remembers the estimate of an import (its `Progress` stays alive until removed).
    pub fn set(p: &Arc<Progress>, records: u64) {
        if let Ok(mut l) = ESTIMATES.lock() {
            l.push((key(p), records));
        }
    }

    /// Forgets it once the import is over.
    pub fn remove(p: &Arc<Progress>) {
        if let Ok(mut l) = ESTIMATES.lock() {
            l.retain(|(k, _)| *k != key(p));
        }
    }

    /// The estimate, 0 when unknown (API uploads, JSON bodies).
    pub fn get(p: &Progress) -> u64 {
        ESTIMATES.lock().map_or(0, |l| {
            l.iter().find(|(k, _)| *k == key(p)).map_or(0, |(_, n)| *n)
        })
    }
}

/// The filters of the report's lines.
#[derive(Debug, Default, Deserialize)]
pub struct ReportFilter {
    /// The page, from 1.
    #[serde(default)]
    pub page: Option<usize>,
    /// Searched in the line number, the reference and the messages.
    #[serde(default)]
    pub q: Option<String>,
    /// A line status (`REJETE`, `EN_ATTENTE`, `ACCEPTE`, `DOUBLON`).
    #[serde(default)]
    pub statut: Option<String>,
    /// A code.
    #[serde(default)]
    pub code: Option<String>,
    /// `non`: the progress page does not refresh itself (WCAG 2.2.1: the user may stop it).
    #[serde(default)]
    pub auto: Option<String>,
    /// `1`: the page follows a send of a file already received (exchange.md §6).
    #[serde(default)]
    pub deja: Option<String>,
}

/// A file-level code with its explanation.
pub struct FileNote {
    code: String,
    explanation: String,
    message: String,
}

/// The report's head.
pub struct Summary {
    id: Option<i64>,
    format: String,
    login: String,
    siren: String,
    received: String,
    file_name: String,
    refusal: Option<FileNote>,
    notes: Vec<FileNote>,
    lines: String,
    accepted: String,
    rejected: String,
    on_hold: String,
    duplicates: String,
    warnings: String,
}

/// One code of a line: what it means, the field and the message.
pub struct CodeView {
    code: String,
    explanation: String,
    field: String,
    message: String,
}

/// One reported line.
pub struct LineView {
    line: i64,
    reference: String,
    status: &'static str,
    badge: &'static str,
    codes: Vec<CodeView>,
}

/// An option of a filter.
pub struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "sending/report.html")]
pub struct ReportPage {
    layout: Layout,
    summary: Summary,
    list: Paged<LineView>,
    /// Not kept: a dry run, or a file refused before it was read.
    dry: bool,
    /// A dry run asked for (rather than a send refused at once).
    checked: bool,
    /// Lines of a dry run beyond those shown.
    hidden: String,
    results: bool,
    statuses: Vec<Choice>,
    codes: Vec<Choice>,
    search: String,
    filtered: bool,
    /// The file sent had already been received: this is its first report.
    already: bool,
    /// A dry run of a `travailleurs` file: the identities of workers the sender never had
    /// are checked only when the file is really sent (issue 12).
    identity_note: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "sending/progress.html")]
pub struct ProgressPage {
    layout: Layout,
    id: i64,
    format: String,
    login: String,
    received: String,
    processed: String,
    done: u64,
    estimate: u64,
    estimate_text: String,
    /// Whether the page refreshes itself.
    auto: bool,
}

pub(super) async fn page(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PagePath(id): PagePath<String>,
    PageQuery(filter): PageQuery<ReportFilter>,
) -> PageResult {
    let Ok(id) = id.parse::<i64>() else {
        return Err(PageError(ApiError::NotFound));
    };
    let path = format!("/transmissions/{id}");
    // The estimate first: an import still listed afterwards was listed when it was read.
    let estimate = estimate_of(&state, id);
    if let Some(live) = transmissions::running_for(&state, &caller.0)
        .into_iter()
        .find(|r| r.transmission == Some(id))
    {
        let layout = Layout::of(&state, &caller, &headers, &path).await?;
        let auto = filter.auto.as_deref() != Some("non");
        return Ok(progress(layout, id, &live, estimate, auto).into_response());
    }
    let report = transmissions::read_report(&state, &caller.0, id).await?;
    let layout = Layout::of(&state, &caller, &headers, &path).await?;
    Ok(stored(layout, report, &filter).into_response())
}

/// The progress of an import: a bar, the lines processed, and a refresh every few seconds
/// (the `Refresh` header: no script needed, and no `<meta>` refresh that accessibility
/// checkers flag; a link refreshes at once, another stops the refreshing).
fn progress(
    layout: Layout,
    id: i64,
    live: &Report,
    estimate: u64,
    auto: bool,
) -> axum::response::Response {
    // The estimate counts physical lines: never show fewer than those already processed
    // (0 stays unknown).
    let estimate = if estimate > 0 {
        estimate.max(live.lignes_traitees)
    } else {
        0
    };
    let page = ProgressPage {
        layout,
        id,
        format: format_label_of(&live.format),
        login: live.sender.login.clone(),
        received: received(&live.received_at),
        processed: count(live.lignes_traitees),
        done: live.lignes_traitees,
        estimate,
        estimate_text: count(estimate),
        auto,
    };
    if !auto {
        return page.into_response();
    }
    (
        [(
            HeaderName::from_static("refresh"),
            HeaderValue::from_static(REFRESH_SECONDS),
        )],
        page,
    )
        .into_response()
}

/// The estimate of the import `id` in progress, if it was started from the page.
fn estimate_of(state: &AppState, id: i64) -> u64 {
    state.running.imports.lock().map_or(0, |l| {
        l.iter()
            .find(|(_, p, _)| p.transmission.load(std::sync::atomic::Ordering::Relaxed) == id)
            .map_or(0, |(_, p, _)| estimates::get(p))
    })
}

/// A report that is not kept (a dry run, or a file refused before reading): shown at once,
/// its first lines only.
pub(super) async fn dry(
    state: &AppState,
    caller: &PageCaller,
    headers: &HeaderMap,
    report: Report,
    file_name: Option<String>,
) -> Result<ReportPage, PageError> {
    let layout = Layout::of(state, caller, headers, "/transmissions").await?;
    let mut summary = summary(&report);
    summary.file_name = file_name.unwrap_or_default();
    let results = report.format == TransmissionFormat::Results.code();
    let mut views = ordered(&report, &report.lines);
    let total = views.len();
    views.truncate(DRY_RUN_LINES);
    let shown = views.len();
    Ok(ReportPage {
        layout,
        summary,
        list: Paged {
            rows: views,
            page: 1,
            pages: 1,
            total,
            keep: String::new(),
        },
        dry: true,
        checked: report.dry_run,
        hidden: count((total - shown) as u64),
        results,
        statuses: Vec::new(),
        codes: Vec::new(),
        search: String::new(),
        filtered: false,
        already: false,
        identity_note: report.dry_run && report.format == TransmissionFormat::Workers.code(),
    })
}

fn stored(layout: Layout, report: Report, filter: &ReportFilter) -> ReportPage {
    let statut = filter.statut.clone().unwrap_or_default();
    let code = filter.code.clone().unwrap_or_default();
    let search = filter.q.clone().unwrap_or_default();
    let needle = Some(search.trim().to_lowercase()).filter(|q| !q.is_empty());
    let statuses = ["REJETE", "EN_ATTENTE", "ACCEPTE", "DOUBLON"]
        .iter()
        .map(|s| Choice {
            value: (*s).to_string(),
            label: status_label(s).to_string(),
            selected: statut == *s,
        })
        .collect();
    let codes = codes_of(&report.lines, &code);
    let kept: Vec<ReportLine> = report
        .lines
        .iter()
        .filter(|l| statut.is_empty() || l.status == statut)
        .filter(|l| code.is_empty() || l.codes.contains(&code))
        .filter(|l| {
            let number = l.line.to_string();
            let reference = l.reference.clone().unwrap_or_default();
            let mut fields: Vec<&str> = vec![&number, &reference];
            fields.extend(l.messages.iter().map(String::as_str));
            fields.extend(l.codes.iter().map(String::as_str));
            matches(&needle, &fields)
        })
        .cloned()
        .collect();
    let views = ordered(&report, &kept);
    let keep = [
        ("q", search.clone()),
        ("statut", statut.clone()),
        ("code", code.clone()),
    ];
    ReportPage {
        layout,
        summary: summary(&report),
        list: Paged::of(views, filter.page, &keep),
        dry: false,
        checked: false,
        hidden: String::new(),
        results: report.format == TransmissionFormat::Results.code(),
        statuses,
        codes,
        filtered: !(statut.is_empty() && code.is_empty() && search.is_empty()),
        search,
        already: filter.deja.as_deref() == Some("1"),
        identity_note: false,
    }
}

/// The codes found in the report's lines, in the spec's order, with how many lines carry
/// each.
fn codes_of(lines: &[ReportLine], chosen: &str) -> Vec<Choice> {
    let mut seen: Vec<(String, u64)> = Vec::new();
    for l in lines {
        for c in &l.codes {
            match seen.iter_mut().find(|(s, _)| s == c) {
                Some((_, n)) => *n += 1,
                None => seen.push((c.clone(), 1)),
            }
        }
    }
    seen.sort_by_key(|(c, _)| LineCode::parse(c));
    seen.into_iter()
        .map(|(c, n)| Choice {
            label: format!("{c} ({} ligne(s))", count(n)),
            selected: c == chosen,
            value: c,
        })
        .collect()
}

fn summary(r: &Report) -> Summary {
    let note = |code: &str, message: &str| FileNote {
        code: code.to_string(),
        explanation: explanation(code).unwrap_or_default().to_string(),
        message: message.to_string(),
    };
    let refusal = r.refusal().and_then(|c| {
        r.file_errors
            .iter()
            .find(|e| e.code == c.code())
            .map(|e| note(&e.code, &e.message))
    });
    let notes = r
        .file_errors
        .iter()
        .filter(|e| refusal.as_ref().is_none_or(|f| f.code != e.code))
        .map(|e| note(&e.code, &e.message))
        .collect();
    let t = &r.totals;
    Summary {
        id: r.transmission,
        format: format_label_of(&r.format),
        login: r.sender.login.clone(),
        siren: r.sender.siren.clone().unwrap_or_default(),
        received: received(&r.received_at),
        file_name: String::new(),
        refusal,
        notes,
        lines: count(t.lines),
        accepted: count(t.accepted),
        rejected: count(t.rejected),
        on_hold: count(t.on_hold),
        duplicates: count(t.duplicates),
        warnings: count(t.warnings),
    }
}

/// The lines as the page shows them: rejected first, then held, then accepted with
/// warnings, then duplicates; by line number within each.
fn ordered(report: &Report, lines: &[ReportLine]) -> Vec<LineView> {
    let columns: Vec<&str> = TransmissionFormat::parse(&report.format)
        .map(|f| {
            siseri_import::report::columns(f)
                .iter()
                .map(|c| c.name)
                .collect()
        })
        .unwrap_or_default();
    let mut sorted: Vec<&ReportLine> = lines.iter().collect();
    sorted.sort_by_key(|l| (status_rank(&l.status), l.line));
    sorted
        .into_iter()
        .map(|l| LineView {
            line: l.line,
            reference: l.reference.clone().unwrap_or_default(),
            status: status_label(&l.status),
            badge: status_badge(&l.status),
            codes: l
                .codes
                .iter()
                .zip(l.messages.iter().chain(std::iter::repeat(&String::new())))
                .map(|(c, m)| code_view(&columns, c, m))
                .collect(),
        })
        .collect()
}

/// A code with its explanation; the field is the column a message starts with
/// (« NIR : … »), as the exchange crate writes them.
fn code_view(columns: &[&str], code: &str, message: &str) -> CodeView {
    let (field, text) = match message.split_once(" : ") {
        Some((head, rest)) if columns.iter().any(|c| c.eq_ignore_ascii_case(head.trim())) => {
            (head.trim().to_string(), rest.to_string())
        }
        _ => (String::new(), message.to_string()),
    };
    CodeView {
        code: code.to_string(),
        explanation: explanation(code).unwrap_or_default().to_string(),
        field,
        message: text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use siseri_import::report::{IN_PROGRESS, ReportSender, Totals};

    fn running(processed: u64) -> Report {
        Report {
            transmission: Some(42),
            format: "dosimetrie-operationnelle".into(),
            sender: ReportSender {
                siren: Some("443061841".into()),
                login: "centrale".into(),
            },
            received_at: "2025-03-12T10:15:00+01:00".into(),
            dry_run: false,
            etat: IN_PROGRESS.into(),
            lignes_traitees: processed,
            file_errors: Vec::new(),
            totals: Totals::default(),
            lines: Vec::new(),
            deja_recu: false,
        }
    }

    async fn body(r: axum::response::Response) -> String {
        let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[tokio::test]
    async fn an_import_in_progress_shows_a_bar_and_refreshes_itself() {
        let r = progress(Layout::default(), 42, &running(1200), 250_000, true);
        assert_eq!(r.status(), axum::http::StatusCode::OK);
        assert_eq!(
            r.headers().get("refresh").and_then(|v| v.to_str().ok()),
            Some("3")
        );
        let html = body(r).await;
        assert!(html.contains("<h1>Transmission n° 42 en cours de traitement</h1>"));
        assert!(html.contains("<progress id=\"avancement\" max=\"250000\" value=\"1200\">"));
        assert!(html.contains("<label for=\"avancement\">"));
        assert!(html.contains("traitée(s) sur environ 250"), "{html}");
        assert!(html.contains("Dosimétrie opérationnelle (INB)"));
        assert!(html.contains("12/03/2025 à 10:15"));
        assert!(html.contains("href=\"/transmissions/42\""));
        // Without an estimate (an API upload), the bar is indeterminate.
        let html = body(progress(Layout::default(), 42, &running(7), 0, true)).await;
        assert!(html.contains("<progress id=\"avancement\">"), "{html}");
        assert!(!html.contains("sur environ"));
        assert!(
            html.contains("href=\"/transmissions/42?auto=non\""),
            "a way to stop it"
        );
        // Stopped by the user: no refresh, a way to resume.
        let r = progress(Layout::default(), 42, &running(7), 0, false);
        assert!(r.headers().get("refresh").is_none());
        let html = body(r).await;
        assert!(html.contains("Actualisation automatique arrêtée"), "{html}");
        assert!(html.contains("Reprendre l’actualisation automatique"));
    }

    #[test]
    fn the_field_is_read_from_the_message() {
        let v = code_view(
            &["NIR", "CLE"],
            "NIR_CLE",
            "CLE : la clé du NIR devrait être 43",
        );
        assert_eq!(v.field, "CLE");
        assert_eq!(v.message, "la clé du NIR devrait être 43");
        let v = code_view(
            &["NIR"],
            "NB_COLONNES",
            "12 champs au lieu de 11 : vérifiez",
        );
        assert_eq!(v.field, "");
    }
}
