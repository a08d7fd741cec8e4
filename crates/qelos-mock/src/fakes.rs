//! The fixed ids of the mock's fakes of third parties. They answer deterministically:
//!
//! - **AI model** (integration [`AI_INTEGRATION_ID`], source [`AI_SOURCE_ID`]): answers
//!   `Echo: <the last user message>`; streamed, one `chunk` event per word then `done`. The
//!   message `__cut__` makes it break the stream after two chunks; `__endless__` streams until
//!   the client leaves (then `calls("AI stream dropped")` counts 1). Vector stores and uploaded
//!   files live in memory; nothing is embedded.
//! - **Lambda target** ([`LAMBDA_INTEGRATION_ID`]): echoes the call.
//! - **AI agents** (`/api/ai/agents`): chat-completion integrations answered by the same fake
//!   model.
//! - **Payment provider**: `POST /api/checkout` answers `checkoutUrl` =
//!   `<mock>/__mock/checkout/<subscriptionId>` and charges nothing. Opening that URL (or
//!   `MockServer::complete_checkout`) is a successful payment: the pending subscription becomes
//!   `active`, a coupon is redeemed once, and one `paid` invoice is issued for the plan's
//!   `monthlyPrice` / `yearlyPrice` (or the subscription's `dynamicAmount`) after the coupon
//!   (`percentage` or `fixed`, rounded to cents), in the plan's currency.

/// The seeded AI integration (a `chatCompletion` trigger on the fake model), for
/// `/api/ai/{integration}/chat-completion` and threads.
pub const AI_INTEGRATION_ID: &str = "6650a1a1a1a1a1a1a1a1a1a1";
/// The seeded AI source, for `/api/ai/sources/{source}/storage*`.
pub const AI_SOURCE_ID: &str = "6650b2b2b2b2b2b2b2b2b2b2";
/// The seeded lambda integration: `/api/webhooks/{id}` answers what it received
/// (`{"method", "query", "body", "user"}`), for signed-in callers.
pub const LAMBDA_INTEGRATION_ID: &str = "6650c3c3c3c3c3c3c3c3c3c3";
