//! AI threads, chat, the SSE chat stream and RAG storage against qelos-mock's fake model.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

use std::time::Duration;

use futures_util::StreamExt as _;
use qelos_mock::fakes::{AI_INTEGRATION_ID, AI_SOURCE_ID};
use qelos_sdk::ai::{
    ChatOptions, ClearStorage, Message, NewStorage, NewThread, ThreadFilter, UploadContent,
    UploadTarget,
};
use serde_json::json;
use support::*;

fn hello() -> ChatOptions {
    ChatOptions::new(vec![Message::user("hello there friend")])
}

#[tokio::test]
async fn threads_are_created_listed_read_and_deleted_by_their_owner() {
    let mock = mock().await;
    let user = plain_user(&mock).await;
    let threads = user.ai().threads();
    let created = threads
        .create(&NewThread::new(AI_INTEGRATION_ID).title("Support"))
        .await
        .unwrap();
    assert_eq!(created.integration, AI_INTEGRATION_ID);
    assert_eq!(created.title.as_deref(), Some("Support"));
    let listed = threads
        .list(&ThreadFilter::new().integration(AI_INTEGRATION_ID).limit(10))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, created.id);
    assert_eq!(threads.get_one(&created.id).await.unwrap().id, created.id);
    // Another (non-privileged) user cannot see it: 404, as Qelos filters by owner.
    let base = anonymous(&mock);
    let other = base
        .oauth_signup(&qelos_sdk::Signup::new(
            "other@test.com",
            qelos_sdk::Secret::new("longenough"),
            "other@test.com",
            "Other",
        ))
        .await
        .unwrap();
    let other = base.with_auth(qelos_sdk::Auth::OAuth(other.tokens), None);
    let err = other.ai().threads().get_one(&created.id).await.unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    threads.delete(&created.id).await.unwrap();
    assert_eq!(
        threads.get_one(&created.id).await.unwrap_err().status(),
        Some(404)
    );
}

#[tokio::test]
async fn thread_refusals_unknown_integration_bad_id_signed_out() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let err = sdk
        .ai()
        .threads()
        .create(&NewThread::new("6650ffffffffffffffffffff"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.to_string(), "Qelos answered 404: Integration not found");
    let err = sdk.ai().threads().get_one("not-an-id").await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    let err = anonymous(&mock)
        .ai()
        .threads()
        .list(&ThreadFilter::new())
        .await
        .unwrap_err();
    assert!(err.is_unauthorized());
}

#[tokio::test]
async fn chat_answers_whole_and_in_a_thread_the_thread_keeps_both_messages() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let chat = sdk.ai().chat();
    let answer = chat.chat(AI_INTEGRATION_ID, &hello()).await.unwrap();
    assert_eq!(answer.text(), Some("Echo: hello there friend"));
    let thread = sdk
        .ai()
        .threads()
        .create(&NewThread::new(AI_INTEGRATION_ID))
        .await
        .unwrap();
    chat.chat_in_thread(AI_INTEGRATION_ID, &thread.id, &hello())
        .await
        .unwrap();
    let kept = sdk.ai().threads().get_one(&thread.id).await.unwrap();
    let roles: Vec<_> = kept.messages.iter().map(|m| m.role.as_str()).collect();
    assert_eq!(roles, ["user", "assistant"]);
    let err = chat
        .chat("6650ffffffffffffffffffff", &hello())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let err = chat
        .chat(AI_INTEGRATION_ID, &ChatOptions::new(vec![]))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
}

#[tokio::test]
async fn chat_stream_yields_typed_chunks_then_done() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let mut stream = sdk
        .ai()
        .chat()
        .stream(AI_INTEGRATION_ID, &hello())
        .await
        .unwrap();
    let mut text = String::new();
    let mut last_kind = String::new();
    while let Some(event) = stream.next().await {
        let event = event.unwrap();
        text.push_str(event.text().unwrap_or_default());
        last_kind = event.kind.clone();
    }
    assert_eq!(text, "Echo: hello there friend");
    assert_eq!(last_kind, "done");
    let accept = last_header(
        &mock,
        "POST",
        &format!("/api/ai/{AI_INTEGRATION_ID}/chat-completion"),
        "accept",
    );
    assert_eq!(accept.as_deref(), Some("text/event-stream"));
}

#[tokio::test]
async fn chat_stream_in_a_thread_and_a_refusal_before_streaming() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let thread = sdk
        .ai()
        .threads()
        .create(&NewThread::new(AI_INTEGRATION_ID))
        .await
        .unwrap();
    let events: Vec<_> = sdk
        .ai()
        .chat()
        .stream_in_thread(AI_INTEGRATION_ID, &thread.id, &hello())
        .await
        .unwrap()
        .collect()
        .await;
    assert!(events.iter().all(Result::is_ok));
    assert_eq!(
        sdk.ai()
            .threads()
            .get_one(&thread.id)
            .await
            .unwrap()
            .messages
            .len(),
        2
    );
    let err = sdk
        .ai()
        .chat()
        .stream_in_thread(AI_INTEGRATION_ID, "6650ffffffffffffffffffff", &hello())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 404: thread not found");
}

#[tokio::test]
async fn a_stream_cut_in_the_middle_yields_the_chunks_then_one_error() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let mut stream = sdk
        .ai()
        .chat()
        .stream(
            AI_INTEGRATION_ID,
            &ChatOptions::new(vec![Message::user("__cut__")]),
        )
        .await
        .unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.text(), Some("Echo: "));
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection_and_the_server_stops() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let mut stream = sdk
        .ai()
        .chat()
        .stream(
            AI_INTEGRATION_ID,
            &ChatOptions::new(vec![Message::user("__endless__")]),
        )
        .await
        .unwrap();
    for _ in 0..3 {
        assert!(stream.next().await.unwrap().unwrap().text().is_some());
    }
    assert_eq!(mock.calls("AI stream dropped"), 0);
    drop(stream);
    // The server notices on its next writes; wait for it (bounded).
    let noticed = tokio::time::timeout(Duration::from_secs(20), async {
        while mock.calls("AI stream dropped") == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(noticed.is_ok(), "the mock never saw the consumer leave");
}

#[tokio::test]
async fn rag_storage_create_upload_stream_and_clear() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let rag = sdk.ai().rag();
    let created = rag
        .create_storage(AI_SOURCE_ID, &NewStorage::new(AI_INTEGRATION_ID, "tenant"))
        .await
        .unwrap();
    assert!(created.success);
    let store = created.extra["vectorStore"]["externalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let uploaded = rag
        .upload_content(
            AI_SOURCE_ID,
            &UploadContent::new(json!("Opening hours: 9-17"))
                .integration_id(AI_INTEGRATION_ID)
                .vector_store_id(store.clone()),
        )
        .await
        .unwrap();
    assert_eq!(uploaded.extra["vectorStoreId"], store.as_str());
    // Streamed from an AsyncRead, escaped on the way: the server reads the exact length.
    let document = "# Handbook\n\"quotes\" and \\ back-slashes, caf\u{e9}\n".repeat(2000);
    let target = UploadTarget {
        integration_id: Some(AI_INTEGRATION_ID.into()),
        vector_store_id: Some(store.clone()),
        file_name: Some("handbook.md".into()),
    };
    let streamed = rag
        .upload_reader(
            AI_SOURCE_ID,
            &target,
            std::io::Cursor::new(document.clone().into_bytes()),
        )
        .await
        .unwrap();
    assert_eq!(streamed.extra["bytes"], document.len());
    assert_eq!(streamed.extra["fileName"], "handbook.md");
    let cleared = rag
        .clear_storage(AI_SOURCE_ID, &ClearStorage::vector_store(store))
        .await
        .unwrap();
    assert_eq!(cleared.extra["clearedCount"], 2);
}

#[tokio::test]
async fn rag_refusals_for_plain_users_unknown_sources_and_empty_content() {
    let mock = mock().await;
    let user = plain_user(&mock).await;
    let err = user
        .ai()
        .rag()
        .clear_storage(AI_SOURCE_ID, &ClearStorage::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    let sdk = admin(&mock).await;
    let err = sdk
        .ai()
        .rag()
        .upload_content("6650ffffffffffffffffffff", &UploadContent::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let err = sdk
        .ai()
        .rag()
        .upload_content(AI_SOURCE_ID, &UploadContent::default())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 400: Content is required");
}
