//! Limits and alerts kept up to date by imports, in the same transaction (rules.md §4–§5):
//! one alert per episode, never duplicated by re-sending, extended by a later month, noted
//! (not closed, not deleted) when a correction ends the exceedance.

#![allow(clippy::unwrap_used)]

mod support;

use siseri_domain::codes::TransmissionFormat;
use support::{DUPONT, RESULTS, nir_value, registries};

#[tokio::test]
async fn an_exceedance_raises_one_alert_that_resending_never_duplicates() {
    for r in registries().await {
        let worker = r
            .store()
            .worker(&nir_value(DUPONT.0))
            .await
            .unwrap()
            .unwrap();
        // 15 + 6 mSv in two months of 2026: over the adult 20 mSv on 12 rolling months.
        let file = RESULTS.file(&[
            RESULTS.line(&[("REFERENCE", "A-1"), ("VALEUR", "15")]),
            RESULTS.line(&[
                ("REFERENCE", "A-2"),
                ("DATE_DEBUT", "01/04/2026"),
                ("DATE_FIN", "30/04/2026"),
                ("VALEUR", "6"),
            ]),
        ]);
        let report = r.send(&r.lab, TransmissionFormat::Results, &file).await;
        assert_eq!(report.totals.accepted, 2, "{}", r.engine());
        let alerts = r.store().alerts(worker.id).await.unwrap();
        assert_eq!(alerts.len(), 1, "{}: {alerts:?}", r.engine());
        let a = &alerts[0];
        assert_eq!((a.kind.as_str(), a.status.as_str()), ("E", "OUVERTE"));
        assert_eq!(a.dose_usv, 21_000);
        assert_eq!(a.steps.len(), 1);
        assert!(a.steps[0].text.contains("21,00 mSv"), "{:?}", a.steps);

        // The same lines again: duplicates, no second alert, nothing noted (one more empty
        // line, or the very same bytes would be answered with the first report).
        let again = r
            .send(&r.lab, TransmissionFormat::Results, &format!("{file}\n"))
            .await;
        assert_eq!(again.totals.duplicates, 2);
        // And the very same bytes: the first report, nothing read again.
        let same = r.send(&r.lab, TransmissionFormat::Results, &file).await;
        assert!(same.deja_recu && same.transmission == report.transmission);
        let alerts = r.store().alerts(worker.id).await.unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].steps.len(), 1);

        // A correction that ends the exceedance: the alert stays, with a note.
        let fix = RESULTS.file(&[RESULTS.line(&[
            ("REFERENCE", "A-1"),
            ("VALEUR", "1"),
            ("CODE_METROLOGIE", "C"),
        ])]);
        let fixed = r.send(&r.lab, TransmissionFormat::Results, &fix).await;
        assert_eq!(fixed.totals.accepted, 1);
        let alerts = r.store().alerts(worker.id).await.unwrap();
        assert_eq!(alerts.len(), 1, "never deleted");
        assert_eq!(alerts[0].status, "OUVERTE", "never closed automatically");
        assert_eq!(alerts[0].steps.len(), 2);
        assert!(alerts[0].steps[1].text.contains("ne dépassent plus"));

        // Exceeded again: the same alert covers the episode (it overlaps), no new one.
        let back = RESULTS.file(&[RESULTS.line(&[
            ("REFERENCE", "A-1"),
            ("VALEUR", "16"),
            ("CODE_METROLOGIE", "C"),
        ])]);
        r.send(&r.lab, TransmissionFormat::Results, &back).await;
        let alerts = r.store().alerts(worker.id).await.unwrap();
        assert_eq!(alerts.len(), 1);
        r.verify_journal().await;
    }
}

#[tokio::test]
async fn workers_under_every_limit_get_no_alert() {
    for r in registries().await {
        let worker = r
            .store()
            .worker(&nir_value(DUPONT.0))
            .await
            .unwrap()
            .unwrap();
        let file = RESULTS.file(&[
            RESULTS.line(&[("REFERENCE", "U-1"), ("VALEUR", "10")]),
            RESULTS.line(&[
                ("REFERENCE", "U-2"),
                ("DATE_DEBUT", "01/04/2026"),
                ("DATE_FIN", "30/04/2026"),
                ("VALEUR", "10"),
            ]),
        ]);
        r.send(&r.lab, TransmissionFormat::Results, &file).await;
        assert!(
            r.store().alerts(worker.id).await.unwrap().is_empty(),
            "20 mSv is not over 20"
        );
    }
}
