//! Verifying the journal through the storage interface, page by page (the journal
//! grows without bound: memory stays flat).

use siseri_domain::journal::{ChainBreak, Verifier};

use crate::{Store, StoreError};

const PAGE: i64 = 10_000;

/// Walks the whole chain and compares its end with the count and head kept apart.
/// `Ok(Ok(n))`: intact, `n` entries; `Ok(Err(break))`: the first broken entry.
pub async fn verify(store: &dyn Store) -> Result<Result<i64, ChainBreak>, StoreError> {
    let mut verifier = Verifier::default();
    let mut after = 0;
    loop {
        let page = store.journal_page(after, PAGE).await?;
        for entry in &page {
            if let Err(b) = verifier.push(entry) {
                return Ok(Err(b));
            }
        }
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => after = last.seq,
            _ => break,
        }
    }
    let (count, head) = store.journal_head().await?;
    Ok(verifier.finish(count, &head))
}
