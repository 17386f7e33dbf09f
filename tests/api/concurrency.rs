//! Two dispatchers assigning the same call at the same instant: exactly one wins.

use serde_json::json;

use crate::helpers::{spawn_app, Engine};

async fn two_dispatchers_assign_the_same_call_at_once(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk1 = app.login("dispatcher").await;
    let desk2 = app.login("dispatcher2").await;
    // Several rounds, to give the race every chance to show.
    for _ in 0..8 {
        let id = app.new_call(&desk1).await["id"].as_i64().unwrap();
        let path = format!("/api/v1/visits/{id}/assign");
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let (a, b) = tokio::join!(
            async {
                barrier.wait().await;
                app.post(&desk1, &path, json!({"doctor_id": app.fx.doctor}))
                    .await
            },
            async {
                barrier.wait().await;
                app.post(&desk2, &path, json!({"doctor_id": app.fx.doctor2}))
                    .await
            },
        );
        let statuses = [a.status.as_u16(), b.status.as_u16()];
        assert!(
            statuses.contains(&200) && statuses.contains(&409),
            "one wins, one gets 409: {a:?} {b:?}"
        );
        let (won, lost) = if a.status == 200 { (a, b) } else { (b, a) };
        assert_eq!(lost.body["error"]["code"], "conflict");
        let winner_name = won.body["doctor"]["name"].as_str().unwrap();
        assert_eq!(
            (
                &lost.body["error"]["reason"],
                &lost.body["error"]["subject"]
            ),
            (&json!("already_assigned"), &json!(winner_name)),
            "the loser is told who has it: {}",
            lost.body
        );
        assert_eq!(
            app.audit_actions("visit", id).await,
            vec!["visit.assign"],
            "one assignment in the audit"
        );
        let actor: i64 = sqlx::query_scalar(
            "SELECT actor_id FROM audit_log WHERE entity_type = 'visit' AND entity_id = $1",
        )
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
        let expected = if won.body["doctor"]["id"] == app.fx.doctor {
            app.fx.dispatcher
        } else {
            app.fx.dispatcher2
        };
        assert_eq!(actor, expected, "the audit names the dispatcher who won");
        let detail = app
            .get(&desk1, &format!("/api/v1/visits/{id}"))
            .await
            .ok(200);
        assert_eq!(detail["doctor"]["id"], won.body["doctor"]["id"]);
        assert_eq!(detail["history"].as_array().unwrap().len(), 2);
    }
    app.stop().await;
}

async fn concurrent_intake_loses_nothing(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk1 = app.login("dispatcher").await;
    let desk2 = app.login("dispatcher2").await;
    let ehpad = app.login("ehpad").await;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let token = [&desk1, &desk2][i % 2].clone();
        let app_ref = &app;
        tasks.push(async move { app_ref.new_call(&token).await });
    }
    let ehpad_calls = (0..10).map(|_| {
        app.post(
            &ehpad,
            "/api/v1/calls",
            json!({"patient_id": app.fx.resident, "motive": "chute", "urgency": 3}),
        )
    });
    let (desk_results, ehpad_results) = tokio::join!(
        futures::future::join_all(tasks),
        futures::future::join_all(ehpad_calls)
    );
    assert_eq!(desk_results.len(), 30);
    assert!(ehpad_results.iter().all(|r| r.status == 201));
    let all = app.get(&desk1, "/api/v1/visits?limit=1000").await.ok(200);
    assert_eq!(all.as_array().unwrap().len(), 40);
    let events: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE kind = 'visit.created'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(events, 40);
    app.stop().await;
}

crate::on_both_engines!(
    two_dispatchers_assign_the_same_call_at_once,
    concurrent_intake_loses_nothing
);
