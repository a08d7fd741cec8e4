//! AI agents against qelos-mock: management by admins, chats (whole and streamed) by users.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

use futures_util::StreamExt as _;
use qelos_mock::fakes::AI_SOURCE_ID;
use qelos_sdk::QelosSdk;
use qelos_sdk::ai::{
    AgentChanges, AgentChatOptions, AgentFilter, AgentTool, Message, ThreadFilter,
};
use serde_json::json;
use support::*;

async fn helper(admin: &QelosSdk) -> String {
    admin
        .ai()
        .agents()
        .create(
            &AgentChanges::new("Helper", "gpt-4o", AI_SOURCE_ID, AI_SOURCE_ID)
                .system_prompt("Be brief.")
                .temperature(0.2)
                .max_tokens(300u32)
                .tools(vec![
                    AgentTool::new("lookup", "Finds an order").schema(json!({"type": "object"})),
                ]),
        )
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn admins_create_list_get_update_and_remove_agents() {
    let mock = mock().await;
    let admin = admin(&mock).await;
    let agents = admin.ai().agents();
    let id = helper(&admin).await;
    let got = agents.get(&id).await.unwrap();
    assert_eq!(got.name, "Helper");
    assert_eq!(got.model.as_deref(), Some("gpt-4o"));
    assert_eq!(got.system_prompt.as_deref(), Some("Be brief."));
    assert_eq!(got.temperature, Some(0.2));
    assert_eq!(got.max_tokens, Some(300));
    assert_eq!(got.tools[0].name, "lookup");
    assert_eq!(got.trigger_source.as_deref(), Some(AI_SOURCE_ID));
    assert_eq!(got.active, Some(true));
    // The agent is an integration: the admin integrations API sees it too.
    let integration = admin
        .admin()
        .integrations()
        .get_integration(&id)
        .await
        .unwrap();
    assert_eq!(integration.trigger["operation"], "chatCompletion");
    let updated = agents
        .update(&id, &AgentChanges::default().name("Helper 2").active(false))
        .await
        .unwrap();
    assert_eq!(updated.name, "Helper 2");
    assert_eq!(
        updated.model.as_deref(),
        Some("gpt-4o"),
        "unset fields are kept"
    );
    assert_eq!(agents.list(&AgentFilter::new()).await.unwrap().len(), 1);
    assert!(
        agents
            .list(&AgentFilter::new().active(true))
            .await
            .unwrap()
            .is_empty()
    );
    agents.remove(&id).await.unwrap();
    let err = agents.get(&id).await.unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 404: Agent not found");
    let err = agents
        .update(&id, &AgentChanges::default().name("gone"))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 404: Agent not found");
    assert_eq!(agents.remove(&id).await.unwrap_err().status(), Some(404));
    let err = agents
        .create(&AgentChanges::default().name("No sources"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Qelos answered 400: triggerSource and targetSource are required"
    );
    let err = agents.get("not-an-id").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Qelos answered 400: Valid agent ID is required"
    );
}

#[tokio::test]
async fn plain_users_cannot_manage_agents_and_signed_out_callers_get_401() {
    let mock = mock().await;
    let id = helper(&admin(&mock).await).await;
    let user = plain_user(&mock).await;
    let agents = user.ai().agents();
    let err = agents.list(&AgentFilter::new()).await.unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 500: Failed to list agents");
    let err = agents.get(&id).await.unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 401: Failed to get agent");
    let err = agents
        .create(&AgentChanges::new("x", "m", AI_SOURCE_ID, AI_SOURCE_ID))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(agents.remove(&id).await.unwrap_err().status(), Some(401));
    let err = anonymous(&mock)
        .ai()
        .agents()
        .chat(&id, "hi", &AgentChatOptions::new())
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
}

#[tokio::test]
async fn users_chat_with_an_agent_in_a_new_thread_then_continue_it() {
    let mock = mock().await;
    let id = helper(&admin(&mock).await).await;
    let user = plain_user(&mock).await;
    let agents = user.ai().agents();
    let options = AgentChatOptions::new().history(vec![Message::new("assistant", "Hi!")]);
    let answer = agents
        .chat(&id, "where is my order", &options)
        .await
        .unwrap();
    assert_eq!(answer.text(), Some("Echo: where is my order"));
    let threads = user
        .ai()
        .threads()
        .list(&ThreadFilter::new().integration(&id))
        .await
        .unwrap();
    assert_eq!(threads.len(), 1, "the chat started a thread");
    let thread = threads[0].id.clone();
    let again = agents
        .chat_in_thread(&id, &thread, "thanks", &AgentChatOptions::new())
        .await
        .unwrap();
    assert_eq!(again.text(), Some("Echo: thanks"));
    let stored = user.ai().threads().get_one(&thread).await.unwrap();
    let contents: Vec<&str> = stored.messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        contents,
        [
            "Hi!",
            "where is my order",
            "Echo: where is my order",
            "thanks",
            "Echo: thanks"
        ]
    );
    let err = agents
        .chat_in_thread(
            &id,
            "0123456789abcdef01234567",
            "x",
            &AgentChatOptions::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 404: thread not found");
    let err = agents
        .chat("0123456789abcdef01234567", "x", &AgentChatOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 404: Agent not found");
}

#[tokio::test]
async fn streamed_agent_chat_yields_chunks_then_done_over_get() {
    let mock = mock().await;
    let id = helper(&admin(&mock).await).await;
    let user = plain_user(&mock).await;
    let agents = user.ai().agents();
    let mut stream = agents
        .stream_chat(&id, "one two three", &AgentChatOptions::new())
        .await
        .unwrap();
    let mut text = String::new();
    let mut last = String::new();
    while let Some(event) = stream.next().await {
        let event = event.unwrap();
        if let Some(t) = event.text() {
            text.push_str(t);
        }
        last = event.kind.clone();
    }
    assert_eq!(text, "Echo: one two three");
    assert_eq!(last, "done");
    let recorded = mock
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.path == format!("/api/ai/agents/{id}/chat"))
        .unwrap();
    assert_eq!(recorded.method, "GET");
    let thread = user
        .ai()
        .threads()
        .list(&ThreadFilter::new().integration(&id))
        .await
        .unwrap()[0]
        .id
        .clone();
    let mut stream = agents
        .stream_chat_in_thread(&id, &thread, "again", &AgentChatOptions::new())
        .await
        .unwrap();
    while stream.next().await.is_some() {}
    let stored = user.ai().threads().get_one(&thread).await.unwrap();
    assert_eq!(
        stored.messages.len(),
        4,
        "both streamed turns are in the thread"
    );
    let err = agents
        .stream_chat("0123456789abcdef01234567", "x", &AgentChatOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let err = agents
        .stream_chat_in_thread(
            &id,
            "0123456789abcdef01234567",
            "x",
            &AgentChatOptions::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 404: thread not found");
}
