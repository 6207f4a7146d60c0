//! Data protection on the web: the audit page's check of the keyed chain against the
//! checkpoint kept outside the database (issue 14, finding 4).

use engage::NewAuditEntry;
use jiff::Timestamp;
use store::EngageStore;

use crate::app::TestApp;

#[tokio::test]
async fn audit_page_shows_the_chain_head_and_tells_a_log_cut_short() {
    let app = TestApp::start().await;
    let entries: Vec<NewAuditEntry> = (0..60)
        .map(|i| {
            NewAuditEntry::new(
                Timestamp::now(),
                "olu",
                "case.note",
                format!("case:x:{i}"),
                "n",
            )
        })
        .collect();
    let written = app.store.append_audit(&entries).unwrap();
    let head = written.last().unwrap().checkpoint();
    let mut admin = app.login("admin").await;
    let page = admin.get("/audit").await.text().await.unwrap();
    assert!(page.contains("Chain verified"), "{page}");
    assert!(
        page.contains(&head.to_string()),
        "the head is shown: {page}"
    );

    let raw = rusqlite::Connection::open(app.store.name()).unwrap();
    raw.execute_batch(&format!(
        "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq > {};",
        head.seq - 10
    ))
    .unwrap();
    drop(raw);
    let page = admin.get("/audit").await.text().await.unwrap();
    assert!(page.contains("Chain broken"), "{page}");
    assert!(page.contains("cut off the end"), "{page}");
}
