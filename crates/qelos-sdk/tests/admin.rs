//! The administrator SDK against qelos-mock: every method once with an admin (success) and at
//! least once refused (a plain user, anonymous, or bad input), with Qelos's status.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

use qelos_sdk::Error;
use qelos_sdk::admin::*;
use serde_json::{Map, Value, json};
use support::*;

/// Asserts a refusal with `status` (and, when given, Qelos's message).
fn refused<T: std::fmt::Debug>(r: Result<T, Error>, status: u16, message: Option<&str>) {
    match r {
        Err(Error::Api {
            status: s,
            message: m,
        }) => {
            assert_eq!(s, status, "status (message {m:?})");
            if let Some(want) = message {
                assert_eq!(m, want);
            }
        }
        other => panic!("expected a {status} refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn users_crud_filters_metadata_and_encrypted_data() {
    let mock = mock().await;
    let admin = admin(&mock).await.admin();
    let users = admin.users();
    let all = users.get_list(&UserFilters::default()).await.unwrap();
    assert_eq!(all.len(), 2);
    let by_role = users
        .get_list(&UserFilters {
            roles: vec!["admin".into()],
            ..UserFilters::default()
        })
        .await
        .unwrap();
    assert_eq!(by_role.len(), 1);
    assert_eq!(by_role[0].username, "test@test.com");
    let created = users
        .create(
            &json!({"username": "new@test.com", "password": "pw123456", "roles": ["user", "editor"],
            "firstName": "New", "lastName": "Person", "internalMetadata": {"plan": "gold"}}),
        )
        .await
        .unwrap();
    let id = created.id.clone().unwrap();
    assert_eq!(created.full_name.as_deref(), Some("New Person"));
    assert_eq!(created.internal_metadata, Some(json!({"plan": "gold"})));
    let exact = users
        .get_list(&UserFilters {
            username: Some("new@test.com".into()),
            exact: Some(true),
            ..UserFilters::default()
        })
        .await
        .unwrap();
    assert_eq!(exact.len(), 1);
    assert_eq!(users.get_user(&id).await.unwrap().roles, ["user", "editor"]);
    let updated = users
        .update(&id, &json!({"firstName": "Renamed"}))
        .await
        .unwrap();
    assert_eq!(updated.first_name.as_deref(), Some("Renamed"));
    users
        .set_encrypted_data(&id, "keys", &json!({"secret": 42}))
        .await
        .unwrap();
    let secret: Value = users.get_encrypted_data(&id, "keys").await.unwrap();
    assert_eq!(secret, json!({"secret": 42}));
    let other: Value = users.get_encrypted_data(&id, "other").await.unwrap();
    assert_eq!(other, Value::Null, "another encrypted id holds nothing");
    // The new user signs in with the password the admin set.
    let signed = anonymous(&mock)
        .oauth_signin(&qelos_sdk::Credentials::new("new@test.com", "pw123456"))
        .await;
    assert!(signed.is_ok());
    users.remove(&id).await.unwrap();
    refused(users.get_user(&id).await, 404, Some("user not exists"));
    refused(users.remove(&id).await, 400, Some("user deletion failed"));
    refused(
        users
            .create(&json!({"username": "test@test.com", "password": "x"}))
            .await,
        400,
        Some("user creation failed"),
    );
}

#[tokio::test]
async fn users_roles_and_admin_workspaces_refuse_a_plain_user_and_anonymous() {
    let mock = mock().await;
    let plain = plain_user(&mock).await.admin();
    let admin_id = mock.seed().admin.id.clone();
    refused(
        plain.users().get_list(&UserFilters::default()).await,
        401,
        Some("you are not privileged."),
    );
    refused(plain.users().get_user(&admin_id).await, 401, None);
    refused(
        plain
            .users()
            .update(&admin_id, &json!({"roles": ["user"]}))
            .await,
        401,
        None,
    );
    refused(
        plain
            .users()
            .create(&json!({"username": "a", "password": "b"}))
            .await,
        401,
        None,
    );
    refused(plain.users().remove(&admin_id).await, 401, None);
    refused(
        plain
            .users()
            .get_encrypted_data::<Value>(&admin_id, "k")
            .await,
        401,
        None,
    );
    refused(
        plain
            .users()
            .set_encrypted_data(&admin_id, "k", &json!(1))
            .await,
        401,
        None,
    );
    refused(
        plain.roles().get_existing_roles().await,
        401,
        Some("you are not privileged."),
    );
    refused(
        plain
            .admin_workspaces()
            .get_list(&WorkspaceFilters::default())
            .await,
        401,
        None,
    );
    let ws = &mock.seed().workspaces[0].id;
    refused(
        plain
            .admin_workspaces()
            .get_encrypted_data::<Value>(ws, "k")
            .await,
        401,
        None,
    );
    refused(
        plain
            .admin_workspaces()
            .set_encrypted_data(ws, "k", &json!(1))
            .await,
        401,
        None,
    );
    let anon = anonymous(&mock).admin();
    refused(
        anon.roles().get_existing_roles().await,
        401,
        Some("you are not authorized. must be logged in."),
    );
}

#[tokio::test]
async fn roles_and_every_workspace_for_an_admin() {
    let mock = mock().await;
    let admin = admin(&mock).await.admin();
    assert_eq!(
        admin.roles().get_existing_roles().await.unwrap(),
        ["admin", "user"]
    );
    let aws = admin.admin_workspaces();
    let all = aws.get_list(&WorkspaceFilters::default()).await.unwrap();
    assert_eq!(all.len(), 2);
    let user_id = mock.seed().user.id.clone();
    let of_user = aws
        .get_list(&WorkspaceFilters {
            member: Some(user_id),
            ..WorkspaceFilters::default()
        })
        .await
        .unwrap();
    assert_eq!(
        of_user.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(),
        ["Acme Inc"]
    );
    let labelled = aws
        .get_list(&WorkspaceFilters {
            labels: vec!["team".into()],
            ..WorkspaceFilters::default()
        })
        .await
        .unwrap();
    assert_eq!(labelled.len(), 1);
    let ws = &all[1].id;
    aws.set_encrypted_data(ws, "billing", &json!({"iban": "x"}))
        .await
        .unwrap();
    let got: Value = aws.get_encrypted_data(ws, "billing").await.unwrap();
    assert_eq!(got, json!({"iban": "x"}));
}

#[tokio::test]
async fn blueprints_list_get_create_update_remove_and_entities_use_the_new_one() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let bp = sdk.admin().manage_blueprints();
    let list = bp.get_list().await.unwrap();
    let mut keys: Vec<_> = list.iter().map(|b| b.identifier.clone()).collect();
    keys.sort();
    assert_eq!(keys, ["audit", "products"]);
    let products = bp.get_blueprint("products").await.unwrap().unwrap();
    assert_eq!(products.permission_scope.as_deref(), Some("workspace"));
    assert!(products.properties.contains_key("price"));
    assert_eq!(
        bp.get_blueprint("nope").await.unwrap(),
        None,
        "Qelos answers null"
    );
    let created = bp
        .create(
            &json!({"identifier": "notes", "name": "Notes", "permissionScope": "user",
            "permissions": [{"scope": "user", "operation": "create", "roleBased": ["*"]},
                            {"scope": "user", "operation": "read", "roleBased": ["*"]}],
            "properties": {"text": {"title": "Text", "type": "string", "required": true},
                           "dropped": {"type": "string"}}}),
        )
        .await
        .unwrap();
    assert_eq!(created.identifier, "notes");
    assert!(
        !created.properties.contains_key("dropped"),
        "a property without a title is dropped"
    );
    refused(
        bp.create(&json!({"identifier": "notes"})).await,
        400,
        Some("failed to create a blueprint"),
    );
    let entity = sdk
        .entities::<Value>("notes")
        .create(&json!({"text": "hello"}))
        .await
        .unwrap();
    let updated = bp
        .update("notes", &json!({"description": "my notes"}))
        .await
        .unwrap();
    assert_eq!(updated.description.as_deref(), Some("my notes"));
    refused(
        bp.update("nope", &json!({})).await,
        404,
        Some("blueprint not found"),
    );
    refused(
        bp.remove("notes").await,
        400,
        Some("cannot remove blueprint with existing entities"),
    );
    sdk.entities::<Value>("notes")
        .remove(&entity.id)
        .await
        .unwrap();
    bp.remove("notes").await.unwrap();
    assert_eq!(bp.get_blueprint("notes").await.unwrap(), None);
}

#[tokio::test]
async fn blueprints_plain_users_read_the_viewer_fields_and_cannot_write() {
    let mock = mock().await;
    let bp = plain_user(&mock).await.admin().manage_blueprints();
    let list = bp.get_list().await.unwrap();
    assert_eq!(list.len(), 2);
    assert!(
        list.iter()
            .all(|b| b.permissions.is_none() && b.permission_scope.is_none())
    );
    let one = bp.get_blueprint("products").await.unwrap().unwrap();
    assert!(one.properties.contains_key("name"));
    refused(bp.create(&json!({"identifier": "x"})).await, 401, None);
    refused(
        bp.update("products", &json!({"name": "x"})).await,
        401,
        None,
    );
    refused(bp.remove("products").await, 401, None);
    refused(
        anonymous(&mock)
            .admin()
            .manage_blueprints()
            .get_list()
            .await,
        401,
        None,
    );
}

#[tokio::test]
async fn configurations_crud_public_reads_and_refusals() {
    let mock = mock().await;
    let admin = admin(&mock).await.admin();
    let conf = admin.manage_configurations();
    let created = conf
        .create(&Configuration {
            key: "theme".into(),
            public: true,
            metadata: json!({"color": "blue"}),
            ..Configuration::default()
        })
        .await
        .unwrap();
    assert_eq!(created.metadata["color"], "blue");
    conf.create(&Configuration {
        key: "secret-settings".into(),
        metadata: json!({"a": 1}),
        ..Configuration::default()
    })
    .await
    .unwrap();
    refused(
        conf.create(&Configuration {
            key: "theme".into(),
            metadata: json!({}),
            ..Configuration::default()
        })
        .await,
        409,
        Some("Configuration with key 'theme' already exists for this tenant"),
    );
    assert_eq!(conf.get_list().await.unwrap().len(), 2);
    let got: Configuration<Map<String, Value>> = conf.get_configuration("theme").await.unwrap();
    assert_eq!(got.metadata["color"], "blue");
    let changed: Configuration = conf
        .update("theme", &json!({"metadata": {"color": "red"}}))
        .await
        .unwrap();
    assert_eq!(changed.metadata["color"], "red");
    refused(
        conf.update::<Value>("nope", &json!({})).await,
        404,
        Some("configuration not exists"),
    );
    // A plain user reads the public one only, and cannot list or write.
    let plain = plain_user(&mock).await.admin().manage_configurations();
    assert_eq!(
        plain.get_configuration::<Value>("theme").await.unwrap().key,
        "theme"
    );
    refused(
        plain.get_configuration::<Value>("secret-settings").await,
        404,
        None,
    );
    refused(plain.get_list().await, 401, Some("you are not authorized"));
    refused(
        plain
            .create(&Configuration {
                key: "x".into(),
                metadata: json!({}),
                ..Configuration::default()
            })
            .await,
        401,
        None,
    );
    refused(plain.update::<Value>("theme", &json!({})).await, 401, None);
    refused(plain.remove("theme").await, 401, None);
    assert_eq!(conf.remove("theme").await.unwrap().key, "theme");
    refused(conf.remove("theme").await, 404, None);
    refused(
        conf.remove("app-configuration").await,
        403,
        Some("cannot remove app configuration"),
    );
}

#[tokio::test]
async fn drafts_are_per_user_and_impersonation_acts_as_the_user() {
    let mock = mock().await;
    let admin = admin(&mock).await.admin();
    let drafts = admin.drafts();
    let draft = Draft {
        context_type: "blueprint".into(),
        context_id: Some("products".into()),
        context_data: json!({"name": "draft"}),
        ..Draft::default()
    };
    let saved = drafts.set_draft(&draft).await.unwrap();
    assert_eq!(saved.context_data, json!({"name": "draft"}));
    assert_eq!(
        drafts
            .get_draft("blueprint", "products")
            .await
            .unwrap()
            .context_data["name"],
        "draft"
    );
    assert_eq!(drafts.get_list().await.unwrap().len(), 1);
    refused(
        drafts.get_draft("blueprint", "other").await,
        404,
        Some("draft not found"),
    );
    // Impersonating the plain user: the draft is theirs.
    let user_id = mock.seed().user.id.clone();
    let as_user = admin.impersonate_user(&user_id, None).unwrap();
    assert!(as_user.is_impersonating() && !as_user.clear_impersonation().is_impersonating());
    as_user
        .drafts()
        .set_draft(&Draft {
            context_type: "page".into(),
            ..Draft::default()
        })
        .await
        .unwrap();
    let theirs = plain_user(&mock)
        .await
        .admin()
        .drafts()
        .get_list()
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].context_type, "page");
    assert_eq!(theirs[0].user.as_deref(), Some(user_id.as_str()));
    assert_eq!(
        last_header(&mock, "PUT", "/api/drafts", "x-impersonate-user").as_deref(),
        Some(user_id.as_str())
    );
    // An unknown user: the gateway's `/api/me` refuses the impersonation, so the drafts
    // service sees no user (an empty 401); the auth service itself answers 404.
    let ghost = admin
        .impersonate_user("000000000000000000000000", None)
        .unwrap();
    refused(ghost.drafts().get_list().await, 401, None);
    refused(
        ghost.roles().get_existing_roles().await,
        404,
        Some("Impersonated user not found"),
    );
    assert!(matches!(
        admin.impersonate_user("bad\nid", None),
        Err(Error::InvalidHeader(_))
    ));
    drafts.remove("blueprint", "products").await.unwrap();
    assert!(drafts.get_list().await.unwrap().is_empty());
    refused(
        anonymous(&mock).admin().drafts().get_list().await,
        401,
        None,
    );
    refused(
        anonymous(&mock).admin().drafts().set_draft(&draft).await,
        401,
        None,
    );
    refused(
        anonymous(&mock).admin().drafts().remove("a", "b").await,
        401,
        None,
    );
}

#[tokio::test]
async fn events_dispatch_list_filter_and_get() {
    let mock = mock().await;
    let events = admin(&mock).await.admin().events();
    for (kind, name) in [
        ("users", "signup"),
        ("payments", "charged"),
        ("users", "login"),
    ] {
        events
            .dispatch(&QelosEvent {
                source: "tests".into(),
                kind: kind.into(),
                event_name: name.into(),
                description: Some(format!("{kind} {name}")),
                ..QelosEvent::default()
            })
            .await
            .unwrap();
    }
    let page = events.get_list(&EventFilters::default()).await.unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(page.events[0].event_name, "login", "newest first");
    let users = events
        .get_list(&EventFilters {
            kind: Some("users".into()),
            limit: Some(1),
            ..EventFilters::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (users.total, users.events.len(), users.total_pages),
        (2, 1, 2)
    );
    let id = page.events[0].id.clone().unwrap();
    assert_eq!(
        events.get_event(&id).await.unwrap().unwrap().event_name,
        "login"
    );
    assert_eq!(
        events.get_event("000000000000000000000000").await.unwrap(),
        None
    );
    let plain = plain_user(&mock).await.admin().events();
    refused(plain.get_list(&EventFilters::default()).await, 401, None);
    refused(plain.get_event(&id).await, 401, None);
    refused(plain.dispatch(&QelosEvent::default()).await, 401, None);
}

#[tokio::test]
async fn integration_sources_and_integrations_crud_status_and_refusals() {
    let mock = mock().await;
    let admin = admin(&mock).await.admin();
    let sources = admin.integration_sources();
    let src = sources
        .create(
            &json!({"name": "OpenAI", "kind": "openai", "labels": ["ai"],
            "metadata": {"defaultModel": "gpt"}, "authentication": {"token": "sk-secret"}}),
        )
        .await
        .unwrap();
    let src_id = src.id.clone().unwrap();
    assert_eq!(
        src.extra.get("authentication"),
        Some(&json!({})),
        "the secret is never answered"
    );
    sources
        .create(&json!({"name": "AWS", "kind": "aws", "metadata": {}}))
        .await
        .unwrap();
    assert_eq!(sources.get_list(None).await.unwrap().len(), 2);
    assert_eq!(sources.get_list(Some("aws")).await.unwrap().len(), 1);
    assert_eq!(
        sources.get_integration_source(&src_id).await.unwrap().name,
        "OpenAI"
    );
    let renamed = sources
        .update(&src_id, &json!({"name": "OpenAI 2"}))
        .await
        .unwrap();
    assert_eq!(renamed.name, "OpenAI 2");
    assert!(sources.check_status(&src_id, None).await.unwrap().ok);
    assert!(
        sources
            .check_draft_status(&json!({"kind": "http", "metadata": {}}))
            .await
            .unwrap()
            .ok
    );
    refused(
        sources.check_draft_status(&json!({"metadata": {}})).await,
        400,
        Some("kind is required"),
    );
    refused(
        sources.check_status("000000000000000000000000", None).await,
        404,
        Some("integration source not found"),
    );
    refused(
        sources.create(&json!({"name": "no kind"})).await,
        400,
        Some("invalid metadata"),
    );

    let integrations = admin.integrations();
    let created = integrations
        .create(&Integration {
            trigger: json!({"source": src_id, "operation": "chatCompletion"}),
            target: json!({"source": src_id, "operation": "webhook"}),
            ..Integration::default()
        })
        .await
        .unwrap();
    let int_id = created.id.clone().unwrap();
    assert!(!created.active);
    refused(
        integrations.create(&Integration::default()).await,
        400,
        Some("trigger and target are required"),
    );
    let on = integrations
        .update(&int_id, &json!({"active": true}))
        .await
        .unwrap();
    assert!(on.active);
    assert_eq!(
        integrations.get_integration(&int_id).await.unwrap().id,
        Some(int_id.clone())
    );
    assert_eq!(
        integrations
            .get_list(&[("trigger.source", src_id.as_str())])
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        integrations
            .get_list(&[("active", "false")])
            .await
            .unwrap()
            .len(),
        0
    );
    integrations.remove(&int_id).await.unwrap();
    refused(
        integrations.get_integration(&int_id).await,
        404,
        Some("integration not found"),
    );
    refused(integrations.remove(&int_id).await, 404, None);
    sources.remove(&src_id).await.unwrap();
    refused(sources.get_integration_source(&src_id).await, 404, None);

    let plain = plain_user(&mock).await.admin();
    refused(plain.integration_sources().get_list(None).await, 401, None);
    refused(
        plain
            .integration_sources()
            .create(&json!({"kind": "x"}))
            .await,
        401,
        None,
    );
    refused(
        plain
            .integration_sources()
            .update(&src_id, &json!({}))
            .await,
        401,
        None,
    );
    refused(plain.integration_sources().remove(&src_id).await, 401, None);
    refused(
        plain
            .integration_sources()
            .get_integration_source(&src_id)
            .await,
        401,
        None,
    );
    refused(
        plain
            .integration_sources()
            .check_status(&src_id, None)
            .await,
        401,
        None,
    );
    refused(
        plain
            .integration_sources()
            .check_draft_status(&json!({}))
            .await,
        401,
        None,
    );
    refused(plain.integrations().get_list(&[]).await, 401, None);
    refused(
        plain.integrations().get_integration(&int_id).await,
        401,
        None,
    );
    refused(
        plain.integrations().create(&Integration::default()).await,
        401,
        None,
    );
    refused(
        plain.integrations().update(&int_id, &json!({})).await,
        401,
        None,
    );
    refused(plain.integrations().remove(&int_id).await, 401, None);
}

#[tokio::test]
async fn lambdas_of_an_aws_and_a_cloudflare_source() {
    let mock = mock().await;
    let admin = admin(&mock).await.admin();
    let aws = admin
        .integration_sources()
        .create(&json!({"name": "aws", "kind": "aws", "metadata": {"region": "eu-west-1"}}))
        .await
        .unwrap();
    let cf = admin
        .integration_sources()
        .create(&json!({"name": "cf", "kind": "cloudflare", "metadata": {"accountId": "a"}}))
        .await
        .unwrap();
    let http = admin
        .integration_sources()
        .create(&json!({"name": "h", "kind": "http", "metadata": {}}))
        .await
        .unwrap();
    let (aws, cf, http) = (aws.id.unwrap(), cf.id.unwrap(), http.id.unwrap());
    let lambdas = admin.manage_lambdas();
    let f = lambdas
        .create(
            &aws,
            &json!({"name": "resize", "handler": "index.handler", "runtime": "nodejs20.x"}),
        )
        .await
        .unwrap();
    assert_eq!(f.name, "resize");
    assert_eq!(lambdas.get_list(&aws).await.unwrap().len(), 1);
    assert_eq!(
        lambdas.get_lambda(&aws, "resize").await.unwrap().extra["handler"],
        "index.handler"
    );
    let changed = lambdas
        .update(&aws, "resize", &json!({"description": "thumbs"}))
        .await
        .unwrap();
    assert_eq!(changed.description.as_deref(), Some("thumbs"));
    lambdas.remove(&aws, "resize").await.unwrap();
    refused(lambdas.get_lambda(&aws, "resize").await, 404, None);
    refused(
        lambdas.create(&cf, &json!({"name": "Bad Name"})).await,
        400,
        Some("Invalid Cloudflare worker name"),
    );
    lambdas
        .create(
            &cf,
            &json!({"name": "edge-worker", "code": "export default {}"}),
        )
        .await
        .unwrap();
    refused(
        lambdas.get_list(&http).await,
        400,
        Some("Unsupported source kind"),
    );
    refused(
        lambdas.get_list("000000000000000000000000").await,
        404,
        Some("Source not found"),
    );
    let plain = plain_user(&mock).await.admin().manage_lambdas();
    refused(plain.get_list(&cf).await, 401, None);
    refused(plain.get_lambda(&cf, "edge-worker").await, 401, None);
    refused(plain.create(&cf, &json!({"name": "x"})).await, 401, None);
    refused(
        plain.update(&cf, "edge-worker", &json!({})).await,
        401,
        None,
    );
    refused(plain.remove(&cf, "edge-worker").await, 401, None);
}

#[tokio::test]
async fn components_crud_bulk_and_refusals() {
    let mock = mock().await;
    let components = admin(&mock).await.admin().components();
    let c = components
        .create(&Component {
            identifier: "hello".into(),
            component_name: "HelloWorld".into(),
            content: "<template><p>hi</p></template>".into(),
            ..Component::default()
        })
        .await
        .unwrap();
    let id = c.id.clone().unwrap();
    assert!(c.extra.contains_key("compiledContent"));
    refused(
        components.create(&Component::default()).await,
        400,
        Some("failed to create a component"),
    );
    assert_eq!(
        components.get_component(&id).await.unwrap().identifier,
        "hello"
    );
    let changed = components
        .update(&id, &json!({"description": "greets"}))
        .await
        .unwrap();
    assert_eq!(changed.description.as_deref(), Some("greets"));
    let bulk = components
        .bulk_create_or_update(&[
            Component {
                identifier: "hello".into(),
                component_name: "HelloWorld".into(),
                content: "v2".into(),
                ..Component::default()
            },
            Component {
                identifier: "bye".into(),
                component_name: "Bye".into(),
                content: "v1".into(),
                ..Component::default()
            },
            Component {
                identifier: "broken".into(),
                ..Component::default()
            },
        ])
        .await
        .unwrap();
    assert_eq!((bulk.total, bulk.succeeded, bulk.failed), (3, 2, 1));
    assert!(!bulk.results[2].success && bulk.results[2].error.is_some());
    assert_eq!(components.get_list().await.unwrap().len(), 2);
    assert_eq!(components.get_component(&id).await.unwrap().content, "v2");
    assert_eq!(components.remove(&id).await.unwrap().identifier, "hello");
    refused(
        components.get_component(&id).await,
        404,
        Some("component not found"),
    );
    let plain = plain_user(&mock).await.admin().components();
    refused(plain.get_list().await, 401, None);
    refused(plain.get_component(&id).await, 401, None);
    refused(plain.create(&Component::default()).await, 401, None);
    refused(plain.update(&id, &json!({})).await, 401, None);
    refused(plain.remove(&id).await, 401, None);
    refused(plain.bulk_create_or_update(&[]).await, 401, None);
}

#[tokio::test]
async fn plugins_created_by_the_admin_api_are_served_by_the_gateway() {
    let mock = mock().await;
    let plugins = admin(&mock).await.admin().manage_plugins();
    let created = plugins
        .create(
            &json!({"name": "Todo", "apiPath": "todo", "proxyUrl": "http://127.0.0.1:9/api",
            "token": "a static token of 32 bytes......", "description": "todos"}),
        )
        .await
        .unwrap();
    let id = created.id.clone().unwrap();
    assert!(
        !created.extra.contains_key("token"),
        "the token is never answered"
    );
    assert_eq!(mock.plugin_token("0", "todo"), None);
    refused(
        plugins
            .create(&json!({"name": "Other", "apiPath": "todo", "proxyUrl": "http://x"}))
            .await,
        403,
        Some("api path already taken by another plugin. choose another path."),
    );
    assert_eq!(plugins.get_list().await.unwrap().len(), 1);
    assert_eq!(plugins.get_by_id(&id).await.unwrap().unwrap().name, "Todo");
    assert_eq!(
        plugins.get_by_id("000000000000000000000000").await.unwrap(),
        None
    );
    let changed = plugins
        .update(&id, &json!({"description": "tasks"}))
        .await
        .unwrap();
    assert_eq!(changed.description.as_deref(), Some("tasks"));
    refused(
        plugins.update("000000000000000000000000", &json!({})).await,
        500,
        Some("could not update plugin"),
    );
    // The gateway knows it: a call to its path is proxied (to the unreachable proxyUrl).
    reqwest::get(format!("{}/api/on/todo/items", mock.url()))
        .await
        .unwrap();
    assert_eq!(
        mock.calls("PLUGIN proxy todo"),
        1,
        "the gateway proxies the plugin created through the admin API"
    );
    let plain = plain_user(&mock).await.admin().manage_plugins();
    let limited = plain.get_list().await.unwrap();
    assert_eq!(limited.len(), 1);
    assert!(
        limited[0].proxy_url.is_none(),
        "non-admins get the limited fields"
    );
    refused(plain.get_by_id(&id).await, 401, None);
    refused(plain.create(&json!({"name": "x"})).await, 401, None);
    refused(plain.update(&id, &json!({})).await, 401, None);
    refused(plain.remove(&id).await, 401, None);
    plugins.remove(&id).await.unwrap();
    refused(
        plugins.remove(&id).await,
        404,
        Some("could not find plugin"),
    );
    let r = reqwest::get(format!("{}/api/on/todo/items", mock.url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"message":"plugin not exist"}"#,
        "removed from the gateway"
    );
    assert_eq!(mock.calls("PLUGIN proxy todo"), 1);
}

#[tokio::test]
async fn payments_plans_coupons_subscriptions_checkout_invoices_configuration() {
    let mock = mock().await;
    let pay = admin(&mock).await.admin().manage_payments();
    let plan = pay
        .create_plan(&Plan {
            name: Some("Pro".into()),
            monthly_price: Some(10.0),
            ..Plan::default()
        })
        .await
        .unwrap();
    let plan_id = plan.id.clone().unwrap();
    assert_eq!(plan.is_active, Some(true));
    refused(pay.create_plan(&Plan::default()).await, 400, None);
    assert_eq!(pay.get_plans(None).await.unwrap().len(), 1);
    assert_eq!(pay.get_plans(Some(false)).await.unwrap().len(), 0);
    assert_eq!(
        pay.get_plan(&plan_id).await.unwrap().name.as_deref(),
        Some("Pro")
    );
    let upd = pay
        .update_plan(&plan_id, &json!({"yearlyPrice": 100.0}))
        .await
        .unwrap();
    assert_eq!(upd.yearly_price, Some(100.0));

    let user_id = mock.seed().user.id.clone();
    let sub = pay
        .create_subscription(&Subscription {
            plan_id: Some(plan_id.clone()),
            billing_cycle: Some("monthly".into()),
            billable_entity_type: Some("user".into()),
            billable_entity_id: Some(user_id.clone()),
            dynamic_amount: Some(12.5),
            ..Subscription::default()
        })
        .await
        .unwrap();
    let sub_id = sub.id.clone().unwrap();
    assert_eq!(
        (sub.status.as_deref(), sub.dynamic_amount),
        (Some("pending"), Some(12.5))
    );
    refused(
        pay.create_subscription(&Subscription::default()).await,
        400,
        Some("planId and billingCycle are required"),
    );
    let amt = pay
        .set_subscription_dynamic_amount(&sub_id, 20.0)
        .await
        .unwrap();
    assert_eq!(amt.dynamic_amount, Some(20.0));
    refused(
        pay.set_subscription_dynamic_amount(&sub_id, -1.0).await,
        400,
        Some("amount must be a positive number"),
    );
    assert_eq!(
        pay.get_subscriptions(&[("billableEntityId", user_id.as_str())])
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        pay.get_subscription(&sub_id)
            .await
            .unwrap()
            .plan_id
            .as_deref(),
        Some(plan_id.as_str())
    );
    let checkout = pay
        .checkout(&json!({"planId": plan_id, "billingCycle": "yearly", "billableEntityType": "user", "billableEntityId": user_id}))
        .await
        .unwrap();
    assert!(
        checkout
            .checkout_url
            .unwrap()
            .ends_with(&checkout.subscription_id)
    );
    refused(
        pay.checkout(&json!({"planId": plan_id, "billingCycle": "weekly"}))
            .await,
        400,
        Some("billingCycle must be monthly or yearly"),
    );
    let canceled = pay.cancel_subscription(&sub_id).await.unwrap();
    assert_eq!(canceled.status.as_deref(), Some("canceled"));
    assert!(
        pay.get_invoices(&[]).await.unwrap().is_empty(),
        "the fake provider issues no invoices"
    );
    refused(
        pay.get_invoice("000000000000000000000000").await,
        404,
        Some("invoice not found"),
    );

    let coupon = pay
        .create_coupon(&Coupon {
            code: Some("SAVE10".into()),
            discount_type: Some("percentage".into()),
            discount_value: Some(10.0),
            ..Coupon::default()
        })
        .await
        .unwrap();
    let coupon_id = coupon.id.clone().unwrap();
    assert_eq!(coupon.current_redemptions, Some(0));
    assert_eq!(pay.get_coupons(Some(true)).await.unwrap().len(), 1);
    assert_eq!(
        pay.get_coupon(&coupon_id).await.unwrap().code.as_deref(),
        Some("SAVE10")
    );
    let off = pay
        .update_coupon(&coupon_id, &json!({"isActive": false}))
        .await
        .unwrap();
    assert_eq!(off.is_active, Some(false));
    pay.delete_coupon(&coupon_id).await.unwrap();
    refused(
        pay.get_coupon(&coupon_id).await,
        404,
        Some("coupon not found"),
    );
    pay.delete_plan(&plan_id).await.unwrap();
    refused(pay.get_plan(&plan_id).await, 404, Some("plan not found"));

    let empty = pay.get_payments_configuration().await.unwrap();
    assert_eq!(
        (empty.key.as_str(), empty.metadata.len()),
        ("payments-configuration", 0)
    );
    let mut meta = Map::new();
    meta.insert("providerKind".into(), json!("paddle"));
    pay.update_payments_configuration(&meta).await.unwrap();
    let mut more = Map::new();
    more.insert("currency".into(), json!("EUR"));
    let merged = pay.update_payments_configuration(&more).await.unwrap();
    assert_eq!(
        merged.metadata["providerKind"], "paddle",
        "partial metadata merges"
    );
    assert_eq!(merged.metadata["currency"], "EUR");
}

#[tokio::test]
async fn payments_refuse_plain_users_and_other_peoples_subscriptions() {
    let mock = mock().await;
    let admin = admin(&mock).await.admin().manage_payments();
    let plan = admin
        .create_plan(&Plan {
            name: Some("P".into()),
            ..Plan::default()
        })
        .await
        .unwrap();
    let plan_id = plan.id.unwrap();
    let admins_sub = admin
        .create_subscription(&Subscription {
            plan_id: Some(plan_id.clone()),
            billing_cycle: Some("monthly".into()),
            ..Subscription::default()
        })
        .await
        .unwrap()
        .id
        .unwrap();
    let plain = plain_user(&mock).await.admin().manage_payments();
    refused(
        plain.get_plans(None).await,
        401,
        Some("insufficient permissions"),
    );
    refused(plain.create_plan(&Plan::default()).await, 401, None);
    refused(plain.update_plan(&plan_id, &json!({})).await, 401, None);
    refused(plain.delete_plan(&plan_id).await, 401, None);
    refused(plain.get_coupons(None).await, 401, None);
    refused(plain.get_coupon(&plan_id).await, 401, None);
    refused(plain.create_coupon(&Coupon::default()).await, 401, None);
    refused(plain.update_coupon(&plan_id, &json!({})).await, 401, None);
    refused(plain.delete_coupon(&plan_id).await, 401, None);
    refused(
        plain
            .set_subscription_dynamic_amount(&admins_sub, 5.0)
            .await,
        401,
        None,
    );
    refused(plain.get_payments_configuration().await, 401, None);
    refused(
        plain.update_payments_configuration(&Map::new()).await,
        401,
        None,
    );
    refused(
        plain.get_subscription(&admins_sub).await,
        403,
        Some("access denied"),
    );
    refused(
        plain.cancel_subscription(&admins_sub).await,
        403,
        Some("access denied"),
    );
    assert!(
        plain.get_subscriptions(&[]).await.unwrap().is_empty(),
        "only their own"
    );
    // A plain user may read a plan and subscribe themselves.
    assert!(plain.get_plan(&plan_id).await.is_ok());
    let own = plain
        .checkout(&json!({"planId": plan_id, "billingCycle": "monthly", "billableEntityId": "someone-else"}))
        .await
        .unwrap();
    let sub = plain.get_subscription(&own.subscription_id).await.unwrap();
    assert_eq!(
        sub.billable_entity_id,
        Some(mock.seed().user.id.clone()),
        "non-admins cannot bill others"
    );
    let anon = anonymous(&mock).admin().manage_payments();
    refused(
        anon.get_invoices(&[]).await,
        401,
        Some("authentication required"),
    );
    refused(anon.get_invoice("x").await, 401, None);
    refused(anon.get_subscriptions(&[]).await, 401, None);
    refused(
        anon.create_subscription(&Subscription::default()).await,
        401,
        None,
    );
    refused(anon.checkout(&json!({})).await, 401, None);
    refused(anon.get_plan(&plan_id).await, 401, None);
}

#[tokio::test]
async fn permissions_get_qelos_404_as_no_service_routes_them() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    refused(
        sdk.permissions().check("blueprints:create").await,
        404,
        None,
    );
    refused(sdk.permissions().get_user_permissions().await, 404, None);
}

#[tokio::test]
async fn admin_calls_refresh_once_on_an_expired_token() {
    let mock = mock().await;
    let base = anonymous(&mock);
    let sdk = base.with_auth(qelos_sdk::Auth::OAuth(minted(&mock, true)), None);
    let roles = sdk.admin().roles().get_existing_roles().await.unwrap();
    assert_eq!(roles, ["admin", "user"]);
    assert_eq!(mock.calls("POST /api/token/refresh"), 1);
}
