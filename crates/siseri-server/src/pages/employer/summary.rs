//! The employer's yearly summary (R4451-72): per establishment, the workers followed by
//! category and by class of calendar-year effective dose, computed as `rules.md` §6 says,
//! with its small-cell rule (every count from 1 to 10 masked, then the secondary
//! suppression). No name, no individual dose.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use chrono::Datelike;
use serde::Deserialize;
use siseri_domain::account::Role;
use siseri_domain::codes::{Classification, ResultStatus};
use siseri_domain::ids::{Nir, Siret};
use siseri_domain::result::DoseResult;
use siseri_domain::totals::contribution;
use siseri_domain::worker::Attachment;

use super::super::{Layout, PageResult, format};
use super::{only, shown};
use crate::AppState;
use crate::extract::PageQuery;
use crate::login::PageCaller;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/employeur/bilan", axum::routing::get(summary))
}

/// The dose classes of `rules.md` §6, upper bounds included (µSv).
const CLASSES: [(&str, i64); 7] = [
    ("0", 0),
    ("]0 ; 1]", 1_000),
    ("]1 ; 5]", 5_000),
    ("]5 ; 10]", 10_000),
    ("]10 ; 15]", 15_000),
    ("]15 ; 20]", 20_000),
    ("> 20", i64::MAX),
];

/// Columns of a row: followed, A, B, other, then the seven classes.
const COLUMNS: usize = 4 + CLASSES.len();
/// Counts up to this are masked (0 is shown: it identifies nobody).
const SMALL: i64 = 10;

/// The class of a calendar-year dose.
fn class_of(usv: i64) -> usize {
    CLASSES
        .iter()
        .position(|(_, upper)| usv <= *upper)
        .unwrap_or(CLASSES.len() - 1)
}

/// What a worker contributes to a row: his category and his dose there.
#[derive(Debug, Clone, Copy, Default)]
struct Part {
    /// 1: A, 2: B, 3: other.
    category: usize,
    dose_usv: i64,
    /// The DATE_FIN of the latest result counted, which decides the category.
    latest: Option<chrono::NaiveDate>,
}

/// A cell of a table: row, column.
type Cell = (usize, usize);

/// A table of counts, rows by columns, with the masked cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    /// The counts.
    pub cells: Vec<[i64; COLUMNS]>,
    /// Which are masked.
    pub masked: Vec<[bool; COLUMNS]>,
}

impl Grid {
    fn new(cells: Vec<[i64; COLUMNS]>) -> Self {
        let masked = cells
            .iter()
            .map(|row| row.map(|n| (1..=SMALL).contains(&n)))
            .collect();
        Grid { cells, masked }
    }

    /// Secondary suppression (`rules.md` §6). The constraints: in each row, followed =
    /// A plus B plus other, and followed = the sum of the classes; in each column, the last
    /// row (the total) = the sum of the others. While a constraint has exactly one masked cell,
    /// its smallest unmasked cell that is not its total is masked too (ties: the first).
    fn suppress(&mut self) {
        let rows = self.cells.len();
        let mut constraints: Vec<(Vec<Cell>, Cell)> = Vec::new();
        for r in 0..rows {
            constraints.push(((0..4).map(|c| (r, c)).collect(), (r, 0)));
            let mut classes = vec![(r, 0)];
            classes.extend((4..COLUMNS).map(|c| (r, c)));
            constraints.push((classes, (r, 0)));
        }
        if rows > 1 {
            for c in 0..COLUMNS {
                constraints.push(((0..rows).map(|r| (r, c)).collect(), (rows - 1, c)));
            }
        }
        loop {
            let mut changed = false;
            for (cells, total) in &constraints {
                let masked = cells.iter().filter(|(r, c)| self.masked[*r][*c]).count();
                if masked != 1 {
                    continue;
                }
                let candidate = cells
                    .iter()
                    .filter(|(r, c)| (*r, *c) != *total && !self.masked[*r][*c])
                    .min_by_key(|(r, c)| self.cells[*r][*c]);
                if let Some((r, c)) = candidate {
                    self.masked[*r][*c] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }
}

/// The parts of each worker in each establishment of `sirets` for year `year`.
fn parts(results: &[DoseResult], attachments: &[Attachment], year: i32) -> BTreeMap<Siret, Part> {
    let mut out: BTreeMap<Siret, Part> = BTreeMap::new();
    for r in results {
        let Some(v) = r.current() else { continue };
        let values = &v.values;
        if values.date_fin.year() != year
            || matches!(
                values.statut,
                ResultStatus::Absent | ResultStatus::Cancelled
            )
        {
            continue;
        }
        let dose: i64 = contribution(r.nature, r.quantity, r.position, values)
            .map(|c| {
                c.doses
                    .iter()
                    .filter(|(s, _)| s.is_effective())
                    .map(|(_, d)| d)
                    .sum()
            })
            .unwrap_or(0);
        let part = out.entry(r.siret.clone()).or_default();
        part.dose_usv += dose;
        if part.latest.is_none_or(|d| d <= values.date_fin) {
            part.latest = Some(values.date_fin);
            let terms = attachments
                .iter()
                .filter(|a| a.siret == r.siret)
                .filter_map(|a| a.current())
                .find(|t| t.covers(values.date_fin));
            part.category = match terms.and_then(|t| t.classement) {
                Some(Classification::A) => 1,
                Some(Classification::B) => 2,
                None => 3,
            };
        }
    }
    out
}

/// One row of the page.
pub struct RowView {
    label: String,
    cells: Vec<String>,
    total: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "employer/bilan.html")]
struct SummaryPage {
    layout: Layout,
    year: i32,
    years: Vec<i32>,
    headers: Vec<&'static str>,
    rows: Vec<RowView>,
    any_masked: bool,
}

#[derive(Debug, Default, Deserialize)]
struct YearQuery {
    #[serde(default)]
    annee: Option<String>,
}

async fn summary(
    State(state): State<AppState>,
    caller: PageCaller,
    headers: HeaderMap,
    PageQuery(query): PageQuery<YearQuery>,
) -> PageResult {
    only(&caller, Role::Employeur)?;
    let layout = Layout::of(&state, &caller, &headers, "/employeur/bilan").await?;
    let this_year = state.clock.today().year();
    let years: Vec<i32> = (this_year - 9..=this_year).rev().collect();
    let year = query
        .annee
        .as_deref()
        .and_then(|y| y.trim().parse().ok())
        .filter(|y| years.contains(y))
        .unwrap_or(this_year);
    let establishments = shown(&state, &caller, &headers).await?;
    // Each worker once, whatever the number of establishments he is attached to.
    let mut workers: BTreeMap<Nir, ()> = BTreeMap::new();
    for e in &establishments {
        for w in state.store.workers_of(&e.siret).await? {
            workers.insert(w.nir, ());
        }
    }
    let mut cells = vec![[0_i64; COLUMNS]; establishments.len() + 1];
    let total = establishments.len();
    for nir in workers.keys() {
        let results = state.store.results(nir).await?;
        let attachments = state.store.attachments(nir).await?;
        let parts = parts(&results, &attachments, year);
        let mut whole = Part::default();
        let mut counted = false;
        for (i, e) in establishments.iter().enumerate() {
            if let Some(p) = parts.get(&e.siret) {
                add(&mut cells[i], p);
                whole.dose_usv += p.dose_usv;
                if whole
                    .latest
                    .is_none_or(|d| p.latest.is_some_and(|l| d <= l))
                {
                    whole.latest = p.latest;
                    whole.category = p.category;
                }
                counted = true;
            }
        }
        if counted {
            add(&mut cells[total], &whole);
        }
    }
    let mut grid = Grid::new(cells);
    grid.suppress();
    let mut rows = Vec::new();
    for (i, (counts, masked)) in grid.cells.iter().zip(&grid.masked).enumerate() {
        let label = establishments.get(i).map_or_else(
            || "Ensemble de mes établissements".to_string(),
            |e| format!("{} ({})", e.name, e.siret),
        );
        rows.push(RowView {
            label,
            cells: counts
                .iter()
                .zip(masked)
                .map(|(n, m)| {
                    if *m {
                        "secret".to_string()
                    } else {
                        format::integer(*n)
                    }
                })
                .collect(),
            total: i == total,
        });
    }
    let mut header: Vec<&'static str> = vec![
        "Travailleurs suivis",
        "Catégorie A",
        "Catégorie B",
        "Autres",
    ];
    header.extend(CLASSES.iter().map(|(label, _)| *label));
    Ok(SummaryPage {
        layout,
        year,
        years,
        headers: header,
        any_masked: grid.masked.iter().flatten().any(|m| *m),
        rows,
    }
    .into_response())
}

/// Counts a worker's part in a row.
fn add(row: &mut [i64; COLUMNS], p: &Part) {
    row[0] += 1;
    row[p.category.clamp(1, 3)] += 1;
    row[4 + class_of(p.dose_usv)] += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_include_their_upper_bound() {
        assert_eq!(class_of(0), 0);
        assert_eq!(class_of(1), 1);
        assert_eq!(class_of(1_000), 1);
        assert_eq!(class_of(1_001), 2);
        assert_eq!(class_of(20_000), 5);
        assert_eq!(class_of(20_001), 6);
    }

    #[test]
    fn small_cells_are_masked_with_their_complement() {
        // 40 followed: 25 A, 12 B, 3 others; classes 30, 7, 3, 0…
        let row = [40, 25, 12, 3, 30, 7, 3, 0, 0, 0, 0];
        let mut g = Grid::new(vec![row]);
        assert!(g.masked[0][3] && !g.masked[0][1]);
        g.suppress();
        // A + B + other: "3" alone would be recomputed, so "12" goes too; classes: two are
        // masked already (7 and 3), nothing more.
        assert!(g.masked[0][2] && g.masked[0][3] && !g.masked[0][1] && !g.masked[0][0]);
        assert!(g.masked[0][5] && g.masked[0][6] && !g.masked[0][4]);
        // Zeros are shown.
        assert!(!g.masked[0][7]);
    }

    #[test]
    fn a_masked_cell_alone_in_its_column_takes_another_with_it() {
        let a = [20, 20, 0, 0, 12, 8, 0, 0, 0, 0, 0];
        let b = [30, 25, 5, 0, 30, 0, 0, 0, 0, 0, 0];
        let total = [50, 45, 5, 0, 42, 8, 0, 0, 0, 0, 0];
        let mut g = Grid::new(vec![a, b, total]);
        g.suppress();
        // B's 5 B-workers are masked, so is the total's 5 (same column, then same row).
        assert!(g.masked[1][2]);
        assert!(g.masked[2][2] || g.masked[0][2]);
        // No constraint is left with a single masked cell.
        for r in 0..3 {
            let masked = (0..4).filter(|c| g.masked[r][*c]).count();
            assert_ne!(masked, 1, "row {r}");
        }
    }
}
