//! The schema: both backends carry the same migration versions; the audit trail cannot be
//! rewritten; the health check answers.

use crate::both;
use crate::common::TestApp;

#[test]
fn both_backends_have_the_same_migration_versions() {
    let (sqlite, postgres) = aftercare_store::Db::migration_versions();
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

both!(the_audit_trail_is_append_only, |app: TestApp| async move {
    let t = app.token("agent").await;
    app.equipment(&t, app.school1, "network", "AP", "AUD-1").await;
    assert!(app.count("audit_log").await > 0);
    let (upd, del) = match &app.db {
        aftercare_store::Db::Sqlite(p) => (
            sqlx::query("UPDATE audit_log SET summary = 'x'").execute(p).await.is_err(),
            sqlx::query("DELETE FROM audit_log").execute(p).await.is_err(),
        ),
        aftercare_store::Db::Postgres(p) => (
            sqlx::query("UPDATE audit_log SET summary = 'x'").execute(p).await.is_err(),
            sqlx::query("DELETE FROM audit_log").execute(p).await.is_err(),
        ),
    };
    assert!(upd && del, "audit rows must not change");
});

both!(health_answers_when_the_database_does, |app: TestApp| async move {
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    app.db.close().await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
});

both!(openapi_names_the_fixed_paths, |app: TestApp| async move {
    let v: serde_json::Value =
        app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    for p in [
        "/api/v1/session",
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/customers",
        "/api/v1/customers/{id}",
        "/api/v1/equipment",
        "/api/v1/equipment/{id}",
        "/api/v1/search",
        "/healthz",
    ] {
        assert!(v["paths"].get(p).is_some(), "{p} missing from the OpenAPI document");
    }
    for schema in ["EquipmentInput", "TicketInput", "ActionBody", "VisitInput", "TicketRow"] {
        assert!(v["components"]["schemas"].get(schema).is_some(), "{schema} missing");
    }
});
