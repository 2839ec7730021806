//! The conformance suite: every backend must pass every case.
//!
//! Cases that take a store use their own scopes, so they can share one store ([`suite`]); `reset` wipes every
//! scope and therefore runs last there.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reelay_store::{
    Filter, ListQuery, MetaStore, NewRecord, Page, Record, Scope, StoreConfig, StoreError, TxOp,
    Update,
};
use serde_json::{Value, json};

use crate::harness::Ctx;

/// Runs every store-only case on `store`.
pub async fn suite(store: Arc<dyn MetaStore>) {
    crud(store.clone()).await;
    versions(store.clone()).await;
    isolation(store.clone()).await;
    get_by_arn(store.clone()).await;
    list_filters(store.clone()).await;
    pagination_walk_under_concurrent_writes(store.clone()).await;
    page_tokens_tampered_or_foreign(store.clone()).await;
    transactions(store.clone()).await;
    tags(store.clone()).await;
    concurrent_writes_under_load(store.clone()).await;
    concurrent_failures_stay_isolated(store.clone()).await;
    invalid_input(store.clone()).await;
    derived_tables(store.clone()).await;
    insert_in_other_scope(store.clone()).await;
    concurrent_inserts_across_scopes(store.clone()).await;
    reset(store).await;
}

fn scope(case: &str) -> Scope {
    Scope::new(format!("1111{case}"), "eu-west-1")
}

fn arn(scope: &Scope, kind: &str, id: &str) -> String {
    format!("arn:aws:{kind}:{}:{}:{id}", scope.region, scope.account)
}

fn new_record(scope: &Scope, kind: &str, id: &str) -> NewRecord {
    NewRecord {
        kind: kind.into(),
        id: id.into(),
        arn: arn(scope, kind, id),
        parent: None,
        index: BTreeMap::new(),
        body: json!({ "id": id }),
        schema_version: 1,
        tags: BTreeMap::new(),
    }
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn query(kind: &str, limit: usize) -> ListQuery {
    ListQuery {
        kind: kind.into(),
        parent: None,
        filters: vec![],
        limit,
        page_token: None,
    }
}

fn eq(key: &str, value: &str) -> Filter {
    Filter::Eq {
        key: key.into(),
        value: value.into(),
    }
}

fn prefix(key: &str, prefix: &str) -> Filter {
    Filter::Prefix {
        key: key.into(),
        prefix: prefix.into(),
    }
}

fn ids(page: &Page) -> Vec<String> {
    page.items.iter().map(|r| r.id.clone()).collect()
}

/// Lists every page of `query` and returns the ids in order.
async fn walk(store: &dyn MetaStore, scope: &Scope, mut query: ListQuery) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = store.list(scope, &query).await.expect("list");
        assert!(page.items.len() <= query.limit.max(1));
        out.extend(ids(&page));
        match page.next_token {
            Some(token) => query.page_token = Some(token),
            None => return out,
        }
    }
    panic!("walk did not end after {MAX_PAGES} pages");
}

/// Far more pages than any walk here needs: a store that stops making progress fails instead of hanging.
const MAX_PAGES: usize = 5_000;

fn simple_update(body: Value) -> Update {
    Update {
        body,
        index: BTreeMap::new(),
        parent: None,
        schema_version: 1,
    }
}

pub async fn crud(store: Arc<dyn MetaStore>) {
    let s = scope("crud");
    let mut rec = new_record(&s, "test:thing", "t1");
    rec.parent = Some("p1".into());
    rec.index = map(&[("name", "first")]);
    rec.body = json!({ "name": "first", "nested": { "list": [1, 2, 3] }, "unicode": "ü\u{1F600}" });
    rec.schema_version = 7;

    let inserted = store.insert(&s, rec.clone()).await.expect("insert");
    assert_eq!(inserted.kind, "test:thing");
    assert_eq!(inserted.id, "t1");
    assert_eq!(inserted.arn, rec.arn);
    assert_eq!(inserted.parent.as_deref(), Some("p1"));
    assert_eq!(inserted.index, rec.index);
    assert_eq!(inserted.body, rec.body);
    assert_eq!(inserted.schema_version, 7);
    assert_eq!(inserted.version, 1);
    assert_eq!(inserted.created_at, inserted.updated_at);
    let age = time::OffsetDateTime::now_utc() - inserted.created_at;
    assert!(age.whole_seconds().abs() < 60, "created_at is now: {age}");

    let got = store
        .get(&s, "test:thing", "t1")
        .await
        .expect("get")
        .expect("present");
    assert_eq!(
        got, inserted,
        "a read returns exactly what the insert returned"
    );
    assert_eq!(
        store.get(&s, "test:thing", "nope").await.expect("get"),
        None
    );
    assert_eq!(store.get(&s, "test:other", "t1").await.expect("get"), None);
    assert_eq!(store.count(&s, "test:thing", None).await.expect("count"), 1);

    // Same (scope, kind, id), and same ARN under another id: both exist already.
    assert_eq!(
        store.insert(&s, rec.clone()).await,
        Err(StoreError::AlreadyExists)
    );
    let mut same_arn = new_record(&s, "test:thing", "t2");
    same_arn.arn = rec.arn.clone();
    assert_eq!(
        store.insert(&s, same_arn).await,
        Err(StoreError::AlreadyExists)
    );
    // The same id under another kind is a different record.
    store
        .insert(&s, new_record(&s, "test:other", "t1"))
        .await
        .expect("other kind");

    let update = Update {
        body: json!({ "name": "second" }),
        index: map(&[("name", "second"), ("extra", "x")]),
        parent: None,
        schema_version: 8,
    };
    let updated = store
        .update(&s, "test:thing", "t1", None, update.clone())
        .await
        .expect("update");
    assert_eq!(updated.version, 2);
    assert_eq!(updated.body, update.body);
    assert_eq!(updated.index, update.index);
    assert_eq!(updated.parent, None);
    assert_eq!(updated.schema_version, 8);
    assert_eq!(updated.created_at, inserted.created_at);
    assert!(updated.updated_at >= inserted.updated_at);
    assert_eq!(updated.arn, inserted.arn, "the ARN never changes");
    assert_eq!(
        store.get(&s, "test:thing", "t1").await.expect("get"),
        Some(updated.clone())
    );
    // The index was replaced: the old attribute value no longer matches.
    let q = ListQuery {
        filters: vec![eq("name", "first")],
        ..query("test:thing", 10)
    };
    assert!(store.list(&s, &q).await.expect("list").items.is_empty());

    assert_eq!(
        store
            .update(&s, "test:thing", "nope", None, update.clone())
            .await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store.delete(&s, "test:thing", "nope", None).await,
        Err(StoreError::NotFound)
    );

    let deleted = store
        .delete(&s, "test:thing", "t1", None)
        .await
        .expect("delete");
    assert_eq!(deleted, updated);
    assert_eq!(store.get(&s, "test:thing", "t1").await.expect("get"), None);
    assert_eq!(
        store.get_by_arn(&s, &rec.arn).await.expect("get_by_arn"),
        None
    );
    assert_eq!(store.count(&s, "test:thing", None).await.expect("count"), 0);
    assert_eq!(
        store.delete(&s, "test:thing", "t1", None).await,
        Err(StoreError::NotFound)
    );

    // A deleted id and ARN can be used again, starting over at version 1.
    let again = store.insert(&s, rec).await.expect("re-insert");
    assert_eq!(again.version, 1);
}

pub async fn versions(store: Arc<dyn MetaStore>) {
    let s = scope("versions");
    store
        .insert(&s, new_record(&s, "test:v", "a"))
        .await
        .expect("insert");
    let v2 = store
        .update(&s, "test:v", "a", Some(1), simple_update(json!(2)))
        .await
        .expect("cas 1");
    assert_eq!(v2.version, 2);
    assert_eq!(
        store
            .update(&s, "test:v", "a", Some(1), simple_update(json!("stale")))
            .await,
        Err(StoreError::VersionMismatch {
            expected: 1,
            actual: 2
        })
    );
    assert_eq!(
        store
            .get(&s, "test:v", "a")
            .await
            .expect("get")
            .expect("present")
            .body,
        json!(2)
    );
    let v3 = store
        .update(&s, "test:v", "a", None, simple_update(json!(3)))
        .await
        .expect("unconditional");
    assert_eq!(v3.version, 3);
    assert_eq!(
        store
            .update(&s, "test:v", "missing", Some(1), simple_update(json!(0)))
            .await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store.delete(&s, "test:v", "a", Some(2)).await,
        Err(StoreError::VersionMismatch {
            expected: 2,
            actual: 3
        })
    );
    assert!(
        store.get(&s, "test:v", "a").await.expect("get").is_some(),
        "a failed delete deletes nothing"
    );
    assert_eq!(
        store.delete(&s, "test:v", "missing", Some(1)).await,
        Err(StoreError::NotFound)
    );
    let deleted = store
        .delete(&s, "test:v", "a", Some(3))
        .await
        .expect("cas delete");
    assert_eq!(deleted.version, 3);

    // Compare-and-set is atomic: concurrent increments with retry never lose an update.
    store
        .insert(&s, new_record(&s, "test:v", "counter"))
        .await
        .expect("insert counter");
    let n_tasks = 4;
    let n_increments = 8;
    let mut tasks = Vec::new();
    for _ in 0..n_tasks {
        let store = store.clone();
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut n_conflicts = 0u32;
            for _ in 0..n_increments {
                loop {
                    let current = store
                        .get(&s, "test:v", "counter")
                        .await
                        .expect("get")
                        .expect("present");
                    let n = current.body["n"].as_i64().unwrap_or(0);
                    let update = simple_update(json!({ "n": n + 1 }));
                    match store
                        .update(&s, "test:v", "counter", Some(current.version), update)
                        .await
                    {
                        Ok(_) => break,
                        Err(StoreError::VersionMismatch { expected, actual }) => {
                            assert_eq!(expected, current.version);
                            assert!(actual > expected);
                            n_conflicts += 1;
                        }
                        Err(err) => panic!("unexpected error: {err}"),
                    }
                }
            }
            n_conflicts
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let counter = store
        .get(&s, "test:v", "counter")
        .await
        .expect("get")
        .expect("present");
    assert_eq!(counter.body["n"], json!(n_tasks * n_increments));
    assert_eq!(counter.version, 1 + n_tasks * n_increments);
}

pub async fn isolation(store: Arc<dyn MetaStore>) {
    let a = scope("iso-a");
    let other_account = scope("iso-b");
    let other_region = Scope::new(a.account.clone(), "us-west-2");
    for s in [&a, &other_account, &other_region] {
        let mut rec = new_record(s, "test:iso", "same-id");
        rec.body = json!({ "owner": format!("{}/{}", s.account, s.region) });
        rec.tags = map(&[("owner", &s.account)]);
        rec.parent = Some("p".into());
        store
            .insert(s, rec)
            .await
            .expect("the same kind and id may exist in every scope");
    }
    store
        .insert(&a, new_record(&a, "test:iso", "only-a"))
        .await
        .expect("insert");

    for s in [&a, &other_account, &other_region] {
        let got = store
            .get(s, "test:iso", "same-id")
            .await
            .expect("get")
            .expect("present");
        assert_eq!(
            got.body["owner"],
            json!(format!("{}/{}", s.account, s.region))
        );
    }
    assert_eq!(
        store
            .get(&other_account, "test:iso", "only-a")
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        store
            .get(&other_region, "test:iso", "only-a")
            .await
            .expect("get"),
        None
    );
    assert_eq!(store.count(&a, "test:iso", None).await.expect("count"), 2);
    assert_eq!(
        store
            .count(&other_account, "test:iso", None)
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        store
            .count(&other_region, "test:iso", Some("p"))
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        ids(&store
            .list(&other_region, &query("test:iso", 10))
            .await
            .expect("list")),
        ["same-id"]
    );

    // Another scope's ARN is invisible, and its tags are not reachable.
    let a_only = arn(&a, "test:iso", "only-a");
    assert_eq!(
        store
            .get_by_arn(&other_account, &a_only)
            .await
            .expect("get_by_arn"),
        None
    );
    assert_eq!(
        store.tags(&other_account, &a_only).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store.tag(&other_account, &a_only, map(&[("k", "v")])).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store.untag(&other_account, &a_only, &["k".into()]).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store
            .update(
                &other_account,
                "test:iso",
                "only-a",
                None,
                simple_update(json!(1))
            )
            .await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store
            .delete(&other_region, "test:iso", "only-a", None)
            .await,
        Err(StoreError::NotFound)
    );
    // A transaction in one scope cannot see the other's records.
    let res = store
        .transact(
            &other_account,
            vec![TxOp::AssertExists {
                kind: "test:iso".into(),
                id: "only-a".into(),
            }],
        )
        .await;
    assert!(
        matches!(res, Err(StoreError::ConditionFailed { op_index: 0, .. })),
        "{res:?}"
    );

    // ARNs are globally unique: reusing one in another scope is refused.
    let mut stolen = new_record(&other_account, "test:iso", "thief");
    stolen.arn = a_only.clone();
    assert_eq!(
        store.insert(&other_account, stolen).await,
        Err(StoreError::AlreadyExists)
    );

    // Deleting in one scope leaves the others alone.
    store
        .delete(&a, "test:iso", "same-id", None)
        .await
        .expect("delete");
    assert!(
        store
            .get(&other_account, "test:iso", "same-id")
            .await
            .expect("get")
            .is_some()
    );
    assert_eq!(
        store
            .tags(&other_region, &arn(&other_region, "test:iso", "same-id"))
            .await
            .expect("tags"),
        map(&[("owner", &other_region.account)])
    );
}

pub async fn get_by_arn(store: Arc<dyn MetaStore>) {
    let s = scope("arn");
    let a = store
        .insert(&s, new_record(&s, "test:a", "x"))
        .await
        .expect("insert");
    let b = store
        .insert(&s, new_record(&s, "test:b", "x"))
        .await
        .expect("insert");
    assert_eq!(
        store.get_by_arn(&s, &a.arn).await.expect("get"),
        Some(a.clone())
    );
    assert_eq!(
        store.get_by_arn(&s, &b.arn).await.expect("get"),
        Some(b.clone())
    );
    assert_eq!(
        store
            .get_by_arn(&s, "arn:aws:test:nowhere")
            .await
            .expect("get"),
        None
    );
    let updated = store
        .update(&s, "test:a", "x", None, simple_update(json!("new")))
        .await
        .expect("update");
    assert_eq!(
        store.get_by_arn(&s, &a.arn).await.expect("get"),
        Some(updated)
    );
}

pub async fn list_filters(store: Arc<dyn MetaStore>) {
    let s = scope("filters");
    let kind = "test:item";
    // Ids chosen so that byte order differs from case-insensitive and locale orders.
    let items = [
        ("B", "alpha", "ch-1", "rec-1"),
        ("a", "alphabet", "ch-1", "rec-2"),
        ("ab", "beta", "ch-2", "rec-1"),
        ("Z", "al", "ch-2", ""),
        ("é", "alpha", "ch-1", "rec-1"),
        ("e", "Alpha", "ch-3", "rec-1"),
        ("a-long", "ålpha", "ch-1", "rec-1"),
    ];
    for (id, name, parent, recording) in items {
        let mut rec = new_record(&s, kind, id);
        rec.parent = Some(parent.into());
        rec.index = map(&[("name", name), ("recordingConfigurationArn", recording)]);
        store.insert(&s, rec).await.expect("insert");
    }
    // Another kind in the same scope never shows up.
    store
        .insert(&s, new_record(&s, "test:unrelated", "a"))
        .await
        .expect("insert");

    let list = |filters: Vec<Filter>, parent: Option<&str>| {
        let store = store.clone();
        let s = s.clone();
        let q = ListQuery {
            parent: parent.map(String::from),
            filters,
            ..query(kind, 100)
        };
        async move { ids(&store.list(&s, &q).await.expect("list")) }
    };
    assert_eq!(
        list(vec![], None).await,
        ["B", "Z", "a", "a-long", "ab", "e", "é"],
        "byte order of ids"
    );
    assert_eq!(list(vec![], Some("ch-1")).await, ["B", "a", "a-long", "é"]);
    assert_eq!(list(vec![], Some("ch-9")).await, Vec::<String>::new());
    assert_eq!(list(vec![eq("name", "alpha")], None).await, ["B", "é"]);
    assert_eq!(
        list(vec![prefix("name", "alpha")], None).await,
        ["B", "a", "é"]
    );
    assert_eq!(
        list(vec![prefix("name", "al")], None).await,
        ["B", "Z", "a", "é"]
    );
    assert_eq!(list(vec![prefix("name", "ål")], None).await, ["a-long"]);
    assert_eq!(
        list(vec![prefix("name", "")], None).await.len(),
        7,
        "an empty prefix matches everything"
    );
    assert_eq!(
        list(vec![eq("recordingConfigurationArn", "")], None).await,
        ["Z"],
        "empty values match exactly"
    );
    assert_eq!(
        list(
            vec![
                eq("name", "alpha"),
                eq("recordingConfigurationArn", "rec-1")
            ],
            None
        )
        .await,
        ["B", "é"]
    );
    assert_eq!(
        list(vec![eq("name", "alpha")], Some("ch-1")).await,
        ["B", "é"]
    );
    assert_eq!(
        list(vec![eq("name", "beta")], Some("ch-1")).await,
        Vec::<String>::new()
    );
    assert_eq!(
        list(vec![eq("missing-attribute", "alpha")], None).await,
        Vec::<String>::new()
    );
    // Key "id" filters the record id itself.
    assert_eq!(list(vec![eq("id", "ab")], None).await, ["ab"]);
    assert_eq!(
        list(vec![prefix("id", "a")], None).await,
        ["a", "a-long", "ab"]
    );
    assert_eq!(
        list(vec![prefix("id", "a"), prefix("name", "alpha")], None).await,
        ["a"]
    );
    // Prefix is literal: no pattern characters.
    assert_eq!(
        list(vec![prefix("name", "al%")], None).await,
        Vec::<String>::new()
    );
    assert_eq!(
        list(vec![prefix("name", "_lpha")], None).await,
        Vec::<String>::new()
    );

    assert_eq!(store.count(&s, kind, None).await.expect("count"), 7);
    assert_eq!(store.count(&s, kind, Some("ch-2")).await.expect("count"), 2);
    assert_eq!(store.count(&s, "test:none", None).await.expect("count"), 0);

    // Limit 0 is treated as 1.
    let page = store.list(&s, &query(kind, 0)).await.expect("list");
    assert_eq!(ids(&page), ["B"]);
    assert!(page.next_token.is_some());
    // A walk with filters and a parent pages through exactly the filtered set.
    let q = ListQuery {
        parent: Some("ch-1".into()),
        filters: vec![prefix("name", "alpha")],
        ..query(kind, 1)
    };
    assert_eq!(walk(&*store, &s, q).await, ["B", "a", "é"]);
    // An exactly full last page has no next token once the end is reached.
    let page = store.list(&s, &query(kind, 7)).await.expect("list");
    assert_eq!(page.items.len(), 7);
    assert_eq!(page.next_token, None);
}

pub async fn pagination_walk_under_concurrent_writes(store: Arc<dyn MetaStore>) {
    let s = scope("walk");
    let kind = "test:walk";
    let n_stable = 40;
    let stable: BTreeSet<String> = (0..n_stable).map(|i| format!("{:04}", i * 10)).collect();
    for id in &stable {
        let mut rec = new_record(&s, kind, id);
        rec.index = map(&[("group", "g")]);
        store.insert(&s, rec).await.expect("insert stable");
    }

    // The churner inserts and deletes volatile ids between the stable ones, and reports each round.
    let stop = Arc::new(AtomicBool::new(false));
    let (round_tx, mut round_rx) = tokio::sync::watch::channel(0u64);
    let churner = {
        let store = store.clone();
        let s = s.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut live: Vec<String> = Vec::new();
            let mut round = 0u64;
            // Bounded so that a broken walker cannot make the test run forever.
            while !stop.load(Ordering::SeqCst) && round < 20_000 {
                round += 1;
                let id = format!("{:04}-v{round}", (round * 37) % (n_stable * 10));
                let mut rec = new_record(&s, kind, &id);
                rec.index = map(&[("group", "g")]);
                store.insert(&s, rec).await.expect("insert volatile");
                live.push(id);
                if live.len() > 5 {
                    let victim = live.remove((round as usize * 7) % live.len());
                    store
                        .delete(&s, kind, &victim, None)
                        .await
                        .expect("delete volatile");
                }
                round_tx.send_replace(round);
            }
            round
        })
    };

    let walks: [(usize, Vec<Filter>); 5] = [
        (1, vec![]),
        (2, vec![]),
        (7, vec![]),
        (100, vec![]),
        (3, vec![eq("group", "g")]),
    ];
    for (limit, filters) in walks {
        let mut q = ListQuery {
            filters,
            ..query(kind, limit)
        };
        let mut seen = Vec::new();
        for n_pages in 1.. {
            assert!(n_pages <= MAX_PAGES, "page size {limit}: walk does not end");
            let page = store.list(&s, &q).await.expect("list");
            assert!(page.items.len() <= limit);
            seen.extend(ids(&page));
            // Let at least one insert and delete land between pages, without sleeping.
            let before = *round_rx.borrow_and_update();
            while *round_rx.borrow() <= before {
                round_rx.changed().await.expect("churner alive");
            }
            match page.next_token {
                Some(token) => q.page_token = Some(token),
                None => break,
            }
        }
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "page size {limit}: an item came twice"
        );
        assert!(
            seen.windows(2).all(|w| w[0].as_bytes() < w[1].as_bytes()),
            "page size {limit}: out of order"
        );
        for id in &stable {
            assert!(
                seen.contains(id),
                "page size {limit}: stable item {id} skipped"
            );
        }
        assert!(
            seen.iter()
                .all(|id| stable.contains(id) || id.contains("-v"))
        );
    }
    stop.store(true, Ordering::SeqCst);
    let rounds = churner.await.expect("churner");
    assert!(rounds > 0);
}

pub async fn page_tokens_tampered_or_foreign(store: Arc<dyn MetaStore>) {
    let s = scope("tokens");
    let other = scope("tokens-other");
    for id in ["a", "b", "c", "d", "e"] {
        let mut rec = new_record(&s, "test:tok", id);
        rec.parent = Some("p".into());
        rec.index = map(&[("name", "n")]);
        store.insert(&s, rec).await.expect("insert");
        store
            .insert(&other, new_record(&other, "test:tok", id))
            .await
            .expect("insert");
    }
    let first = store.list(&s, &query("test:tok", 2)).await.expect("list");
    let token = first.next_token.clone().expect("more pages");
    let with = |token: &str| ListQuery {
        page_token: Some(token.into()),
        ..query("test:tok", 2)
    };
    assert_eq!(
        ids(&store.list(&s, &with(&token)).await.expect("continue")),
        ["c", "d"]
    );
    // The page size may change between pages.
    let bigger = ListQuery {
        limit: 10,
        ..with(&token)
    };
    assert_eq!(
        ids(&store.list(&s, &bigger).await.expect("continue")),
        ["c", "d", "e"]
    );

    let invalid = |q: ListQuery, scope: Scope| {
        let store = store.clone();
        async move {
            let res = store.list(&scope, &q).await;
            assert_eq!(res, Err(StoreError::InvalidPageToken), "query {q:?}");
        }
    };
    // Tampered: every single-character substitution is detected.
    for idx in 0..token.len() {
        let mut bytes = token.clone().into_bytes();
        bytes[idx] = if bytes[idx] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).expect("ascii");
        invalid(with(&tampered), s.clone()).await;
    }
    invalid(with(&token[..token.len() - 1]), s.clone()).await;
    invalid(with(&token[..8]), s.clone()).await;
    invalid(with(&format!("{token}A")), s.clone()).await;
    for garbage in [
        "",
        "!",
        "not a token",
        "////",
        "AAAA",
        "\u{0}",
        "é",
        &"A".repeat(10_000),
    ] {
        invalid(with(garbage), s.clone()).await;
    }
    // Foreign: the token belongs to (scope s, kind test:tok, no parent, no filters) only.
    invalid(with(&token), other.clone()).await;
    invalid(
        ListQuery {
            kind: "test:other".into(),
            ..with(&token)
        },
        s.clone(),
    )
    .await;
    invalid(
        ListQuery {
            parent: Some("p".into()),
            ..with(&token)
        },
        s.clone(),
    )
    .await;
    invalid(
        ListQuery {
            filters: vec![eq("name", "n")],
            ..with(&token)
        },
        s.clone(),
    )
    .await;
    invalid(
        ListQuery {
            filters: vec![prefix("name", "n")],
            ..with(&token)
        },
        s.clone(),
    )
    .await;
    // And a token from a filtered walk does not continue the unfiltered one.
    let filtered = ListQuery {
        filters: vec![eq("name", "n")],
        ..query("test:tok", 1)
    };
    let filtered_token = store
        .list(&s, &filtered)
        .await
        .expect("list")
        .next_token
        .expect("more");
    invalid(with(&filtered_token), s.clone()).await;
    let continued = ListQuery {
        page_token: Some(filtered_token),
        ..filtered
    };
    assert_eq!(
        ids(&store.list(&s, &continued).await.expect("continue")),
        ["b"]
    );
}

/// Concurrent writes that fail (conflicts, failed conditions) leave no trace and never fail the writes that
/// run beside them. On SQLite, writes queued together share one transaction (group commit); this is the
/// test that a failure there is still confined to its own write.
pub async fn concurrent_failures_stay_isolated(store: Arc<dyn MetaStore>) {
    let s = scope("group");
    let kind = "test:grp";
    // Existing records that half of the inserts below collide with.
    for i in (0..40).step_by(2) {
        store
            .insert(&s, new_record(&s, kind, &format!("r{i:02}")))
            .await
            .expect("seed");
    }
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = store.clone();
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let id = format!("r{i:02}");
            let insert = store
                .insert(&s, new_record(&s, kind, &id))
                .await
                .map(|_| ());
            // A transaction whose last op fails for every odd i: its insert must not survive.
            let tx = store
                .transact(
                    &s,
                    vec![
                        TxOp::Insert(new_record(&s, "test:grp-child", &id)),
                        TxOp::AssertExists {
                            kind: kind.into(),
                            id: format!("r{:02}", i - i % 2),
                        },
                        TxOp::AssertAbsent {
                            kind: "test:grp-child".into(),
                            id: if i % 2 == 1 {
                                id.clone()
                            } else {
                                "none".into()
                            },
                        },
                    ],
                )
                .await
                .map(|_| ());
            (i, insert, tx)
        }));
    }
    for task in tasks {
        let (i, insert, tx) = task.await.expect("task");
        if i % 2 == 0 {
            assert_eq!(insert, Err(StoreError::AlreadyExists), "insert {i}");
            assert_eq!(tx, Ok(()), "transaction {i}");
        } else {
            assert_eq!(insert, Ok(()), "insert {i}");
            assert!(
                matches!(tx, Err(StoreError::ConditionFailed { op_index: 2, .. })),
                "transaction {i}: {tx:?}"
            );
        }
    }
    assert_eq!(store.count(&s, kind, None).await.expect("count"), 40);
    let children = walk(&*store, &s, query("test:grp-child", 100)).await;
    let expected: Vec<String> = (0..40).step_by(2).map(|i| format!("r{i:02}")).collect();
    assert_eq!(children, expected);
}

pub async fn transactions(store: Arc<dyn MetaStore>) {
    let s = scope("tx");
    let parent_kind = "test:group";
    let child_kind = "test:asset";
    let group_arn = arn(&s, parent_kind, "g1");
    let child = |id: &str| {
        let mut rec = new_record(&s, child_kind, id);
        rec.parent = Some(group_arn.clone());
        rec
    };
    let mut group = new_record(&s, parent_kind, "g1");
    group.tags = map(&[("team", "a")]);

    assert_eq!(
        store.transact(&s, vec![]).await.expect("empty"),
        Vec::<Option<Record>>::new()
    );

    // Later ops see earlier ones; results line up with ops.
    let results = store
        .transact(
            &s,
            vec![
                TxOp::AssertAbsent {
                    kind: parent_kind.into(),
                    id: "g1".into(),
                },
                TxOp::Insert(group.clone()),
                TxOp::AssertExists {
                    kind: parent_kind.into(),
                    id: "g1".into(),
                },
                TxOp::Insert(child("c1")),
                TxOp::Update {
                    kind: parent_kind.into(),
                    id: "g1".into(),
                    expected_version: Some(1),
                    update: simple_update(json!({ "n_children": 1 })),
                },
            ],
        )
        .await
        .expect("transaction");
    assert_eq!(results.len(), 5);
    assert!(results[0].is_none() && results[2].is_none());
    assert_eq!(results[1].as_ref().expect("inserted").version, 1);
    assert_eq!(results[3].as_ref().expect("inserted").id, "c1");
    let g1 = results[4].clone().expect("updated");
    assert_eq!(
        (g1.version, g1.body.clone()),
        (2, json!({ "n_children": 1 }))
    );
    assert_eq!(
        store.get(&s, parent_kind, "g1").await.expect("get"),
        Some(g1.clone())
    );
    assert_eq!(
        store.tags(&s, &group_arn).await.expect("tags"),
        map(&[("team", "a")])
    );

    // Each failure below leaves the store exactly as it was.
    let untouched = |store: Arc<dyn MetaStore>, s: Scope, g1: Record| async move {
        assert_eq!(
            store.get(&s, parent_kind, "g1").await.expect("get"),
            Some(g1)
        );
        assert_eq!(store.count(&s, child_kind, None).await.expect("count"), 1);
        assert_eq!(store.get(&s, child_kind, "new").await.expect("get"), None);
        assert_eq!(
            store.tags(&s, &arn(&s, child_kind, "new")).await,
            Err(StoreError::NotFound)
        );
    };
    let mut tagged_new = child("new");
    tagged_new.tags = map(&[("k", "v")]);
    let update_g1 = |expected| TxOp::Update {
        kind: parent_kind.into(),
        id: "g1".into(),
        expected_version: expected,
        update: simple_update(json!("changed")),
    };

    let res = store
        .transact(
            &s,
            vec![
                TxOp::Insert(tagged_new.clone()),
                TxOp::Insert(group.clone()),
            ],
        )
        .await;
    assert_eq!(res, Err(StoreError::AlreadyExists));
    untouched(store.clone(), s.clone(), g1.clone()).await;

    let res = store
        .transact(
            &s,
            vec![
                TxOp::Insert(tagged_new.clone()),
                TxOp::AssertExists {
                    kind: parent_kind.into(),
                    id: "g2".into(),
                },
            ],
        )
        .await;
    assert!(
        matches!(res, Err(StoreError::ConditionFailed { op_index: 1, .. })),
        "{res:?}"
    );
    untouched(store.clone(), s.clone(), g1.clone()).await;

    let res = store
        .transact(
            &s,
            vec![
                update_g1(None),
                TxOp::Insert(tagged_new.clone()),
                TxOp::AssertAbsent {
                    kind: child_kind.into(),
                    id: "c1".into(),
                },
            ],
        )
        .await;
    assert!(
        matches!(res, Err(StoreError::ConditionFailed { op_index: 2, .. })),
        "{res:?}"
    );
    untouched(store.clone(), s.clone(), g1.clone()).await;

    let res = store
        .transact(
            &s,
            vec![
                TxOp::Insert(tagged_new.clone()),
                TxOp::AssertNoChildren {
                    kind: child_kind.into(),
                    parent: group_arn.clone(),
                },
                TxOp::Delete {
                    kind: parent_kind.into(),
                    id: "g1".into(),
                    expected_version: None,
                },
            ],
        )
        .await;
    assert!(
        matches!(res, Err(StoreError::ConditionFailed { op_index: 1, .. })),
        "{res:?}"
    );
    untouched(store.clone(), s.clone(), g1.clone()).await;

    let res = store
        .transact(
            &s,
            vec![TxOp::Insert(tagged_new.clone()), update_g1(Some(1))],
        )
        .await;
    assert_eq!(
        res,
        Err(StoreError::VersionMismatch {
            expected: 1,
            actual: 2
        })
    );
    untouched(store.clone(), s.clone(), g1.clone()).await;

    let res = store
        .transact(
            &s,
            vec![
                TxOp::Insert(tagged_new.clone()),
                TxOp::Delete {
                    kind: child_kind.into(),
                    id: "c1".into(),
                    expected_version: Some(5),
                },
            ],
        )
        .await;
    assert_eq!(
        res,
        Err(StoreError::VersionMismatch {
            expected: 5,
            actual: 1
        })
    );
    untouched(store.clone(), s.clone(), g1.clone()).await;

    let res = store
        .transact(
            &s,
            vec![
                update_g1(None),
                TxOp::Delete {
                    kind: child_kind.into(),
                    id: "ghost".into(),
                    expected_version: None,
                },
            ],
        )
        .await;
    assert_eq!(res, Err(StoreError::NotFound));
    untouched(store.clone(), s.clone(), g1.clone()).await;

    let mut bad_tags = child("new");
    bad_tags.tags = map(&[("", "empty key")]);
    let res = store
        .transact(&s, vec![update_g1(None), TxOp::Insert(bad_tags)])
        .await;
    assert!(matches!(res, Err(StoreError::InvalidTag(_))), "{res:?}");
    untouched(store.clone(), s.clone(), g1.clone()).await;

    // AssertNoChildren passes once the children are gone in the same transaction; deletes return the records.
    let results = store
        .transact(
            &s,
            vec![
                TxOp::Delete {
                    kind: child_kind.into(),
                    id: "c1".into(),
                    expected_version: Some(1),
                },
                TxOp::AssertNoChildren {
                    kind: child_kind.into(),
                    parent: group_arn.clone(),
                },
                TxOp::Delete {
                    kind: parent_kind.into(),
                    id: "g1".into(),
                    expected_version: Some(2),
                },
                TxOp::AssertAbsent {
                    kind: parent_kind.into(),
                    id: "g1".into(),
                },
            ],
        )
        .await
        .expect("cascade delete");
    assert_eq!(results[0].as_ref().expect("deleted").id, "c1");
    assert!(results[1].is_none() && results[3].is_none());
    assert_eq!(results[2].as_ref(), Some(&g1));
    assert_eq!(store.count(&s, child_kind, None).await.expect("count"), 0);
    assert_eq!(store.get(&s, parent_kind, "g1").await.expect("get"), None);
    assert_eq!(
        store.tags(&s, &group_arn).await,
        Err(StoreError::NotFound),
        "tags go with the record"
    );
}

pub async fn tags(store: Arc<dyn MetaStore>) {
    let s = scope("tags");
    let mut rec = new_record(&s, "test:tagged", "r");
    rec.tags = map(&[("a", "1"), ("empty", "")]);
    let r = store.insert(&s, rec).await.expect("insert");
    assert_eq!(
        store.tags(&s, &r.arn).await.expect("tags"),
        map(&[("a", "1"), ("empty", "")])
    );

    store
        .tag(&s, &r.arn, map(&[("b", "2"), ("a", "10")]))
        .await
        .expect("tag");
    assert_eq!(
        store.tags(&s, &r.arn).await.expect("tags"),
        map(&[("a", "10"), ("b", "2"), ("empty", "")])
    );
    store
        .untag(&s, &r.arn, &["a".into(), "not-set".into()])
        .await
        .expect("untag");
    assert_eq!(
        store.tags(&s, &r.arn).await.expect("tags"),
        map(&[("b", "2"), ("empty", "")])
    );
    store
        .tag(&s, &r.arn, BTreeMap::new())
        .await
        .expect("empty tag is a no-op");
    store
        .untag(&s, &r.arn, &[])
        .await
        .expect("empty untag is a no-op");

    // Limits, in characters: a 128-character key and 256-character value are fine, one more is not.
    let long_key = "ķ".repeat(128);
    let long_value = "✓".repeat(256);
    store
        .tag(&s, &r.arn, map(&[(&long_key, &long_value)]))
        .await
        .expect("limits are inclusive");
    let before = store.tags(&s, &r.arn).await.expect("tags");
    for bad in [
        map(&[("", "v")]),
        map(&[(&format!("{long_key}x"), "v")]),
        map(&[("k", &format!("{long_value}x"))]),
        map(&[("ok", "v"), ("", "v")]),
    ] {
        let res = store.tag(&s, &r.arn, bad).await;
        assert!(matches!(res, Err(StoreError::InvalidTag(_))), "{res:?}");
    }
    let res = store.untag(&s, &r.arn, &[String::new()]).await;
    assert!(matches!(res, Err(StoreError::InvalidTag(_))), "{res:?}");
    assert_eq!(
        store.tags(&s, &r.arn).await.expect("tags"),
        before,
        "invalid tags write nothing"
    );

    // At most 50 (the default) after merging; overwriting keys at the limit is fine.
    let n_present = before.len();
    let fill: BTreeMap<String, String> = (0..50 - n_present)
        .map(|i| (format!("fill-{i:02}"), "x".to_string()))
        .collect();
    store.tag(&s, &r.arn, fill).await.expect("up to the limit");
    assert_eq!(store.tags(&s, &r.arn).await.expect("tags").len(), 50);
    assert_eq!(
        store
            .tag(&s, &r.arn, map(&[("one-too-many", "x"), ("b", "changed")]))
            .await,
        Err(StoreError::TooManyTags { limit: 50 })
    );
    assert_eq!(
        store.tags(&s, &r.arn).await.expect("tags")["b"],
        "2",
        "nothing written"
    );
    store
        .tag(&s, &r.arn, map(&[("b", "3")]))
        .await
        .expect("overwrite at the limit");
    let too_many: BTreeMap<String, String> =
        (0..51).map(|i| (format!("k{i}"), String::new())).collect();
    assert_eq!(
        store.tag(&s, &r.arn, too_many.clone()).await,
        Err(StoreError::TooManyTags { limit: 50 })
    );

    // Create-time tags follow the same rules, and a refused insert creates nothing.
    let mut crowded = new_record(&s, "test:tagged", "crowded");
    crowded.tags = too_many;
    assert_eq!(
        store.insert(&s, crowded).await,
        Err(StoreError::TooManyTags { limit: 50 })
    );
    let mut invalid = new_record(&s, "test:tagged", "invalid");
    invalid.tags = map(&[(&"k".repeat(129), "v")]);
    assert!(matches!(
        store.insert(&s, invalid).await,
        Err(StoreError::InvalidTag(_))
    ));
    assert_eq!(
        store.count(&s, "test:tagged", None).await.expect("count"),
        1
    );

    // Unknown ARNs.
    let ghost = arn(&s, "test:tagged", "ghost");
    assert_eq!(store.tags(&s, &ghost).await, Err(StoreError::NotFound));
    assert_eq!(
        store.tag(&s, &ghost, map(&[("k", "v")])).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store.untag(&s, &ghost, &["k".into()]).await,
        Err(StoreError::NotFound)
    );

    // Tags are deleted with their record and do not come back with a new record of the same ARN.
    store
        .delete(&s, "test:tagged", "r", None)
        .await
        .expect("delete");
    assert_eq!(store.tags(&s, &r.arn).await, Err(StoreError::NotFound));
    store
        .insert(&s, new_record(&s, "test:tagged", "r"))
        .await
        .expect("re-insert");
    assert_eq!(store.tags(&s, &r.arn).await.expect("tags"), BTreeMap::new());
}

pub async fn reset(store: Arc<dyn MetaStore>) {
    let s = scope("reset");
    let mut rec = new_record(&s, "test:r", "a");
    rec.tags = map(&[("k", "v")]);
    rec.index = map(&[("name", "n")]);
    store.insert(&s, rec.clone()).await.expect("insert");
    store
        .insert(&s, new_record(&s, "test:r", "b"))
        .await
        .expect("insert");
    let token = store
        .list(&s, &query("test:r", 1))
        .await
        .expect("list")
        .next_token
        .expect("more");

    store.reset().await.expect("reset");
    assert_eq!(store.get(&s, "test:r", "a").await.expect("get"), None);
    assert_eq!(store.count(&s, "test:r", None).await.expect("count"), 0);
    assert_eq!(store.tags(&s, &rec.arn).await, Err(StoreError::NotFound));
    let q = ListQuery {
        filters: vec![eq("name", "n")],
        ..query("test:r", 10)
    };
    assert!(
        store.list(&s, &q).await.expect("list").items.is_empty(),
        "index rows are gone too"
    );

    // The schema and the token key survive: inserts work again and old tokens still decode.
    let again = store
        .insert(&s, new_record(&s, "test:r", "a"))
        .await
        .expect("insert after reset");
    assert_eq!(again.version, 1);
    assert_eq!(
        store.tags(&s, &rec.arn).await.expect("tags"),
        BTreeMap::new()
    );
    let q = ListQuery {
        page_token: Some(token),
        ..query("test:r", 10)
    };
    assert!(
        store
            .list(&s, &q)
            .await
            .expect("old token still valid")
            .items
            .is_empty()
    );
}

pub async fn concurrent_writes_under_load(store: Arc<dyn MetaStore>) {
    let s = scope("load");
    let n_tasks = 8;
    let n_per_task = 25;
    let mut tasks = Vec::new();
    for task_idx in 0..n_tasks {
        let store = store.clone();
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..n_per_task {
                let id = format!("t{task_idx}-{i:03}");
                let mut rec = new_record(&s, "test:load", &id);
                rec.tags = map(&[("task", &task_idx.to_string())]);
                // Every write must succeed: no SQLITE_BUSY, no serialization failure surfaces.
                store.insert(&s, rec).await.expect("insert under load");
                if i % 5 == 0 {
                    store
                        .update(&s, "test:load", &id, Some(1), simple_update(json!(i)))
                        .await
                        .expect("update");
                }
                if i % 10 == 0 {
                    let ops = vec![
                        TxOp::AssertExists {
                            kind: "test:load".into(),
                            id: id.clone(),
                        },
                        TxOp::Insert(new_record(&s, "test:load-child", &id)),
                    ];
                    store.transact(&s, ops).await.expect("transact under load");
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    assert_eq!(
        store.count(&s, "test:load", None).await.expect("count"),
        (n_tasks * n_per_task) as u64
    );
    assert_eq!(
        store
            .count(&s, "test:load-child", None)
            .await
            .expect("count"),
        (n_tasks * 3) as u64
    );
    let all = walk(&*store, &s, query("test:load", 37)).await;
    assert_eq!(all.len(), n_tasks * n_per_task);
}

pub async fn invalid_input(store: Arc<dyn MetaStore>) {
    let s = scope("invalid");
    let is_invalid =
        |res: Result<Record, StoreError>| matches!(res, Err(StoreError::InvalidInput(_)));
    assert!(is_invalid(
        store.insert(&s, new_record(&s, "test:x", "nul\0id")).await
    ));
    assert!(is_invalid(store.insert(&s, new_record(&s, "", "id")).await));
    assert!(is_invalid(
        store
            .insert(&s, new_record(&s, "test:x", &"i".repeat(5000)))
            .await
    ));
    let mut rec = new_record(&s, "test:x", "big");
    rec.body = json!("b".repeat(reelay_store::limits::MAX_BODY_BYTES));
    assert!(is_invalid(store.insert(&s, rec).await));
    let mut rec = new_record(&s, "test:x", "idx");
    rec.index = map(&[("name", "v\0")]);
    assert!(is_invalid(store.insert(&s, rec).await));
    assert_eq!(store.count(&s, "test:x", None).await.expect("count"), 0);

    assert!(matches!(
        store.get(&s, "test:x", "a\0").await,
        Err(StoreError::InvalidInput(_))
    ));
    assert!(matches!(
        store.get_by_arn(&s, "").await,
        Err(StoreError::InvalidInput(_))
    ));
    let nul_scope = Scope::new("1\0", "r");
    assert!(matches!(
        store.get(&nul_scope, "test:x", "a").await,
        Err(StoreError::InvalidInput(_))
    ));
    let q = ListQuery {
        filters: vec![eq("name", "\0")],
        ..query("test:x", 1)
    };
    assert!(matches!(
        store.list(&s, &q).await,
        Err(StoreError::InvalidInput(_))
    ));
    let q = ListQuery {
        filters: vec![eq("name", "x"); 17],
        ..query("test:x", 1)
    };
    assert!(matches!(
        store.list(&s, &q).await,
        Err(StoreError::InvalidInput(_))
    ));
    let ops = vec![
        TxOp::AssertAbsent {
            kind: "test:x".into(),
            id: "a".into()
        };
        101
    ];
    assert!(matches!(
        store.transact(&s, ops).await,
        Err(StoreError::InvalidInput(_))
    ));

    // Unusual but valid text round-trips exactly.
    let odd = "ids/with spaces,%_*'\"quotes\"; DROP TABLE records; -- \u{1F600}\u{10FFFF}";
    let mut rec = new_record(&s, "test:x", odd);
    rec.body = json!({ "text": "\u{0}control\u{1}chars stay in the JSON body" });
    let inserted = store.insert(&s, rec).await.expect("odd id");
    assert_eq!(
        store.get(&s, "test:x", odd).await.expect("get"),
        Some(inserted)
    );
    let q = ListQuery {
        filters: vec![prefix("id", "ids/with spaces,%_*'")],
        ..query("test:x", 5)
    };
    assert_eq!(ids(&store.list(&s, &q).await.expect("list")), [odd]);
}

pub async fn reopen_persistence(ctx: Ctx) {
    let s = scope("reopen");
    let mut rec = new_record(&s, "test:p", "a");
    rec.tags = map(&[("k", "v")]);
    let a = ctx.store.insert(&s, rec).await.expect("insert");
    ctx.store
        .insert(&s, new_record(&s, "test:p", "b"))
        .await
        .expect("insert");
    let b = ctx
        .store
        .update(&s, "test:p", "b", Some(1), simple_update(json!("v2")))
        .await
        .expect("update");
    let token = ctx
        .store
        .list(&s, &query("test:p", 1))
        .await
        .expect("list")
        .next_token
        .expect("more");
    ctx.store.close().await;

    let reopened = reelay_store::open(&ctx.url, StoreConfig::default())
        .await
        .expect("reopen");
    assert_eq!(
        reopened.get(&s, "test:p", "a").await.expect("get"),
        Some(a.clone())
    );
    assert_eq!(
        reopened.get(&s, "test:p", "b").await.expect("get"),
        Some(b.clone())
    );
    assert_eq!(
        reopened.tags(&s, &a.arn).await.expect("tags"),
        map(&[("k", "v")])
    );
    // The token key lives in the database, so a token survives the restart.
    let q = ListQuery {
        page_token: Some(token),
        ..query("test:p", 10)
    };
    assert_eq!(
        ids(&reopened.list(&s, &q).await.expect("token after reopen")),
        ["b"]
    );
    reopened.close().await;
}

fn upgrade(version: u32, mut body: Value) -> (u32, Value) {
    // v1 -> v2 renames "title" to "name"; v2 -> v3 adds "latencyMode".
    match version {
        1 => {
            if let Some(obj) = body.as_object_mut() {
                let title = obj.remove("title").unwrap_or(Value::Null);
                obj.insert("name".into(), title);
            }
            (2, body)
        }
        _ => {
            if let Some(obj) = body.as_object_mut() {
                obj.insert("latencyMode".into(), json!("LOW"));
            }
            (3, body)
        }
    }
}

fn stuck(version: u32, body: Value) -> (u32, Value) {
    (version, body)
}

pub async fn record_migration_hook(ctx: Ctx) {
    let s = scope("migrate");
    let kind = "test:channel";
    let mut old = new_record(&s, kind, "old");
    old.body = json!({ "title": "my channel" });
    old.schema_version = 1;
    ctx.store.insert(&s, old).await.expect("insert v1");
    let mut current = new_record(&s, kind, "current");
    current.body = json!({ "name": "x", "latencyMode": "NORMAL" });
    current.schema_version = 3;
    ctx.store
        .insert(&s, current.clone())
        .await
        .expect("insert v3");

    let migrating = reelay_store::open(
        &ctx.url,
        StoreConfig::default().with_migration(kind, 3, upgrade),
    )
    .await
    .expect("open with migration");
    let got = migrating
        .get(&s, kind, "old")
        .await
        .expect("get")
        .expect("present");
    assert_eq!(got.schema_version, 3);
    assert_eq!(
        got.body,
        json!({ "name": "my channel", "latencyMode": "LOW" })
    );
    assert_eq!(got.version, 1, "migration on read does not write");
    let listed = migrating.list(&s, &query(kind, 10)).await.expect("list");
    assert_eq!(
        listed
            .items
            .iter()
            .map(|r| r.schema_version)
            .collect::<Vec<_>>(),
        [3, 3]
    );
    assert_eq!(
        listed.items[0].body, current.body,
        "records at the current version are untouched"
    );
    // The lazy list applies the same migration, and leaves current records as stored.
    let lazy = migrating
        .list_lazy(&s, &query(kind, 10))
        .await
        .expect("list_lazy");
    let lazy: Vec<Record> = lazy
        .items
        .into_iter()
        .map(|r| r.into_record().expect("body is JSON"))
        .collect();
    assert_eq!(lazy, listed.items);
    assert_eq!(
        migrating
            .get_by_arn(&s, &arn(&s, kind, "old"))
            .await
            .expect("get")
            .expect("present")
            .body,
        got.body
    );
    // The stored row is unchanged: a store without the hook still sees version 1.
    let raw = ctx
        .store
        .get(&s, kind, "old")
        .await
        .expect("get")
        .expect("present");
    assert_eq!(
        (raw.schema_version, raw.body),
        (1, json!({ "title": "my channel" }))
    );
    migrating.close().await;

    // An upgrade function that does not advance is an error, not an endless loop.
    let broken = reelay_store::open(
        &ctx.url,
        StoreConfig::default().with_migration(kind, 3, stuck),
    )
    .await
    .expect("open");
    assert!(matches!(
        broken.get(&s, kind, "old").await,
        Err(StoreError::Backend(_))
    ));
    broken.close().await;
}

pub async fn concurrent_open(ctx: Ctx) {
    // Three openers race on a database nobody has migrated yet (as several nodes or processes would).
    let fresh_url = ctx
        .fresh_url
        .clone()
        .expect("the harness provides a fresh database");
    let open = || reelay_store::open(&fresh_url, StoreConfig::default());
    let (a, b, c) = tokio::join!(open(), open(), open());
    let (a, b, c) = (a.expect("open a"), b.expect("open b"), c.expect("open c"));
    let s = scope("concurrent-open");
    for (i, store) in [&a, &b, &c].into_iter().enumerate() {
        store
            .insert(&s, new_record(&s, "test:o", &format!("r{i}")))
            .await
            .expect("insert");
    }
    // Writers on separate connection pools (as in separate processes) wait for each other instead of failing.
    let writers = [&a, &b, &c].map(|store| {
        let store = store.clone();
        let s = s.clone();
        tokio::spawn(async move {
            for i in 0..15 {
                let id = format!("w{:p}-{i}", Arc::as_ptr(&store));
                store
                    .insert(&s, new_record(&s, "test:w", &id))
                    .await
                    .expect("insert from another opener");
            }
        })
    });
    for writer in writers {
        writer.await.expect("writer");
    }
    assert_eq!(a.count(&s, "test:w", None).await.expect("count"), 45);
    // All three share one token key.
    let token = a
        .list(&s, &query("test:o", 1))
        .await
        .expect("list")
        .next_token
        .expect("more");
    for store in [&b, &c] {
        let q = ListQuery {
            page_token: Some(token.clone()),
            ..query("test:o", 10)
        };
        assert_eq!(
            ids(&store.list(&s, &q).await.expect("shared key")),
            ["r1", "r2"]
        );
    }
    for store in [a, b, c] {
        store.close().await;
    }
    // Opening an already migrated database again is a no-op.
    let again = reelay_store::open(&fresh_url, StoreConfig::default())
        .await
        .expect("open again");
    assert_eq!(again.count(&s, "test:o", None).await.expect("count"), 3);
    again.close().await;
}

/// The index rows, tags and per-kind counts that the database derives from `records` follow every write,
/// including index values that need JSON escaping, and `list_lazy` returns what `list` returns.
pub async fn derived_tables(store: Arc<dyn MetaStore>) {
    let s = scope("derived");
    let kind = "test:derived";
    let tricky = "quote \" backslash \\ tab \t é 😀 \u{1}";
    let mut a = new_record(&s, kind, "a");
    a.index = map(&[("name", tricky), ("ké y", "v")]);
    a.tags = map(&[("t1", "v1"), ("t2", "")]);
    a.body = json!({ "name": tricky, "n": 1 });
    store.insert(&s, a.clone()).await.expect("insert a");
    for id in ["b", "c", "d"] {
        let mut rec = new_record(&s, kind, id);
        rec.index = map(&[("name", id)]);
        store.insert(&s, rec).await.expect("insert");
    }
    assert_eq!(store.count(&s, kind, None).await.expect("count"), 4);

    let filtered = |key: &str, value: &str| ListQuery {
        filters: vec![eq(key, value)],
        ..query(kind, 10)
    };
    assert_eq!(
        ids(&store
            .list(&s, &filtered("name", tricky))
            .await
            .expect("list")),
        ["a"]
    );
    assert_eq!(
        ids(&store.list(&s, &filtered("ké y", "v")).await.expect("list")),
        ["a"]
    );
    assert_eq!(
        store.tags(&s, &a.arn).await.expect("tags"),
        map(&[("t1", "v1"), ("t2", "")])
    );

    // An update that keeps the index keeps the rows; one that changes it replaces them.
    let same = Update {
        body: json!({ "n": 2 }),
        index: a.index.clone(),
        parent: None,
        schema_version: 1,
    };
    store
        .update(&s, kind, "a", Some(1), same)
        .await
        .expect("update");
    assert_eq!(
        ids(&store
            .list(&s, &filtered("name", tricky))
            .await
            .expect("list")),
        ["a"]
    );
    let renamed = Update {
        body: json!({ "n": 3 }),
        index: map(&[("name", "renamed")]),
        parent: None,
        schema_version: 1,
    };
    store
        .update(&s, kind, "a", Some(2), renamed)
        .await
        .expect("update");
    assert!(
        store
            .list(&s, &filtered("name", tricky))
            .await
            .expect("list")
            .items
            .is_empty()
    );
    assert!(
        store
            .list(&s, &filtered("ké y", "v"))
            .await
            .expect("list")
            .items
            .is_empty()
    );
    assert_eq!(
        ids(&store
            .list(&s, &filtered("name", "renamed"))
            .await
            .expect("list")),
        ["a"]
    );

    // Lazy pages: same items, order and tokens as `list`, page after page.
    let mut q = query(kind, 3);
    loop {
        let page = store.list(&s, &q).await.expect("list");
        let lazy = store.list_lazy(&s, &q).await.expect("list_lazy");
        assert_eq!(lazy.next_token.is_some(), page.next_token.is_some());
        let decoded: Vec<Record> = lazy
            .items
            .iter()
            .cloned()
            .map(|r| r.into_record().expect("body is JSON"))
            .collect();
        assert_eq!(decoded, page.items);
        for item in &lazy.items {
            let body: Value = item.decode_body().expect("decode");
            assert_eq!(
                body,
                store
                    .get(&s, kind, &item.id)
                    .await
                    .expect("get")
                    .expect("present")
                    .body
            );
        }
        match page.next_token {
            // Tokens of either method continue the other's walk.
            Some(token) => q.page_token = lazy.next_token.or(Some(token)),
            None => break,
        }
    }

    // Deletes (direct and in a transaction) drop the index rows and tags, and the count follows.
    store.delete(&s, kind, "a", None).await.expect("delete");
    assert_eq!(store.count(&s, kind, None).await.expect("count"), 3);
    assert!(
        store
            .list(&s, &filtered("name", "renamed"))
            .await
            .expect("list")
            .items
            .is_empty()
    );
    assert!(matches!(
        store.tags(&s, &a.arn).await,
        Err(StoreError::NotFound)
    ));
    store
        .transact(
            &s,
            vec![
                TxOp::Delete {
                    kind: kind.into(),
                    id: "b".into(),
                    expected_version: None,
                },
                TxOp::Insert(new_record(&s, kind, "e")),
            ],
        )
        .await
        .expect("transact");
    assert_eq!(store.count(&s, kind, None).await.expect("count"), 3);
    // A failed transaction leaves the count as it was.
    let failed = store
        .transact(
            &s,
            vec![
                TxOp::Insert(new_record(&s, kind, "f")),
                TxOp::AssertExists {
                    kind: kind.into(),
                    id: "missing".into(),
                },
            ],
        )
        .await;
    assert!(matches!(failed, Err(StoreError::ConditionFailed { .. })));
    assert_eq!(store.count(&s, kind, None).await.expect("count"), 3);
    // A record re-created under the ARN of a deleted one starts without its tags.
    let mut again = a.clone();
    again.tags = BTreeMap::new();
    store.insert(&s, again).await.expect("insert again");
    assert!(store.tags(&s, &a.arn).await.expect("tags").is_empty());
    assert_eq!(store.count(&s, kind, None).await.expect("count"), 4);
}

/// `TxOp::InsertIn` writes into a second scope inside the transaction: the record lives (and counts) in
/// that scope only, and it commits or rolls back with the rest.
pub async fn insert_in_other_scope(store: Arc<dyn MetaStore>) {
    let s = scope("inscope");
    let other = scope("inscope-other");
    let kind = "test:in";
    let lookup = "test:in-lookup";
    let mut pointer = new_record(&other, lookup, "p1");
    pointer.tags = map(&[("k", "v")]);
    pointer.index = map(&[("to", "a")]);
    let results = store
        .transact(
            &s,
            vec![
                TxOp::Insert(new_record(&s, kind, "a")),
                TxOp::InsertIn {
                    scope: other.clone(),
                    record: pointer.clone(),
                },
            ],
        )
        .await
        .expect("transact");
    let written = results[1].as_ref().expect("the InsertIn result");
    assert_eq!((written.kind.as_str(), written.id.as_str()), (lookup, "p1"));
    assert_eq!(written.version, 1);
    let got = store
        .get(&other, lookup, "p1")
        .await
        .expect("get")
        .expect("the record is in the other scope");
    assert_eq!(got.body, pointer.body);
    assert_eq!(store.get(&s, lookup, "p1").await.expect("get"), None);
    assert_eq!(store.count(&other, lookup, None).await.expect("count"), 1);
    assert_eq!(store.count(&s, lookup, None).await.expect("count"), 0);
    assert_eq!(
        store.tags(&other, &pointer.arn).await.expect("tags"),
        map(&[("k", "v")])
    );
    let by_index = ListQuery {
        filters: vec![eq("to", "a")],
        ..query(lookup, 10)
    };
    assert_eq!(
        ids(&store.list(&other, &by_index).await.expect("list")),
        ["p1"]
    );

    // A failed assertion after the InsertIn rolls it back.
    let failed = store
        .transact(
            &s,
            vec![
                TxOp::InsertIn {
                    scope: other.clone(),
                    record: new_record(&other, lookup, "p2"),
                },
                TxOp::AssertExists {
                    kind: kind.into(),
                    id: "missing".into(),
                },
            ],
        )
        .await;
    assert!(
        matches!(failed, Err(StoreError::ConditionFailed { op_index: 1, .. })),
        "{failed:?}"
    );
    assert_eq!(store.get(&other, lookup, "p2").await.expect("get"), None);

    // A conflict in the other scope fails the whole transaction.
    let conflict = store
        .transact(
            &s,
            vec![
                TxOp::Insert(new_record(&s, kind, "b")),
                TxOp::InsertIn {
                    scope: other.clone(),
                    record: new_record(&other, lookup, "p1"),
                },
            ],
        )
        .await;
    assert_eq!(conflict, Err(StoreError::AlreadyExists));
    assert_eq!(store.get(&s, kind, "b").await.expect("get"), None);
    assert_eq!(store.count(&s, kind, None).await.expect("count"), 1);

    // The other scope is validated like any scope.
    let invalid = store
        .transact(
            &s,
            vec![TxOp::InsertIn {
                scope: Scope::new("1111\0", "eu-west-1"),
                record: new_record(&other, lookup, "p3"),
            }],
        )
        .await;
    assert!(
        matches!(invalid, Err(StoreError::InvalidInput(_))),
        "{invalid:?}"
    );
}

/// Concurrent transactions of inserts (with tags, into two scopes; on SQLite they share group commits),
/// a third of them colliding with records that exist: each fails or commits whole, as if run alone.
pub async fn concurrent_inserts_across_scopes(store: Arc<dyn MetaStore>) {
    let s = scope("batch");
    let other = scope("batch-other");
    let kind = "test:batch";
    let lookup = "test:batch-lookup";
    for i in (0..60).step_by(3) {
        store
            .insert(&other, new_record(&other, lookup, &format!("l{i:02}")))
            .await
            .expect("seed");
    }
    let mut tasks = Vec::new();
    for i in 0..60 {
        let store = store.clone();
        let (s, other) = (s.clone(), other.clone());
        tasks.push(tokio::spawn(async move {
            let id = format!("r{i:02}");
            let mut rec = new_record(&s, kind, &id);
            rec.tags = map(&[("n", &id), ("same", "x")]);
            rec.index = map(&[("name", &format!("name-{i:02}"))]);
            let mut pointer = new_record(&other, lookup, &format!("l{i:02}"));
            pointer.body = json!({ "to": id });
            let res = store
                .transact(
                    &s,
                    vec![
                        TxOp::Insert(rec),
                        TxOp::InsertIn {
                            scope: other,
                            record: pointer,
                        },
                    ],
                )
                .await;
            (i, res)
        }));
    }
    for task in tasks {
        let (i, res) = task.await.expect("task");
        let id = format!("r{i:02}");
        if i % 3 == 0 {
            assert_eq!(res, Err(StoreError::AlreadyExists), "transaction {i}");
            assert_eq!(store.get(&s, kind, &id).await.expect("get"), None);
            continue;
        }
        let results = res.unwrap_or_else(|e| panic!("transaction {i}: {e}"));
        let rec = results[0].as_ref().expect("insert result");
        assert_eq!(rec.id, id);
        assert_eq!(rec.index, map(&[("name", &format!("name-{i:02}"))]));
        let pointer = results[1].as_ref().expect("insert-in result");
        assert_eq!(pointer.body, json!({ "to": id }));
        assert_eq!(
            store.tags(&s, &rec.arn).await.expect("tags"),
            map(&[("n", &id), ("same", "x")])
        );
    }
    assert_eq!(store.count(&s, kind, None).await.expect("count"), 40);
    assert_eq!(store.count(&other, lookup, None).await.expect("count"), 60);
    let named = ListQuery {
        filters: vec![eq("name", "name-07")],
        ..query(kind, 10)
    };
    assert_eq!(ids(&store.list(&s, &named).await.expect("list")), ["r07"]);
}
