//! The streamed chat answer: Server-Sent Events parsed into typed events as the consumer pulls.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::sse::{SseEvent, SseParser};

/// One event of a streamed chat answer. Qelos sends `{"type": ..., ...}` objects: `chunk`,
/// `followup_chunk` and `full_content` carry `content`; `error` carries `message`; `done` ends
/// the answer; tool-calling steps (`function_calls_detected`, `continuing_conversation`,
/// `client_tool_calls`, ...) carry their own fields in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatEvent {
    /// The event's `type`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Text of `chunk`, `followup_chunk` and `full_content` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Message of `error` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatEvent {
    /// The text this event adds to the answer (`chunk` and `followup_chunk` events).
    pub fn text(&self) -> Option<&str> {
        match self.kind.as_str() {
            "chunk" | "followup_chunk" => self.content.as_deref(),
            _ => None,
        }
    }
    /// `true` for the `done` event, the last one.
    pub fn is_done(&self) -> bool {
        self.kind == "done"
    }
    /// `true` for an `error` event (Qelos reports a failure of the model mid-answer this way).
    pub fn is_error(&self) -> bool {
        self.kind == "error"
    }
}

type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, reqwest::Error>> + Send>>;

/// A streamed chat answer: a [`Stream`] of [`ChatEvent`]s.
///
/// Pull-based: the HTTP body is read only when the consumer asks for the next event and the
/// events already parsed are used up, so a slow consumer slows the server down (TCP
/// back-pressure) instead of filling memory. Dropping the stream drops the HTTP body and closes
/// the connection: Qelos sees the consumer leave.
///
/// The stream ends after a `done` event or a `data: [DONE]` line. A body that ends before
/// either yields one [`Error::Network`] ("cut") and then ends; a transport error mid-stream
/// likewise. `data` that is not JSON is skipped, as the official SDK does.
pub struct ChatStream {
    body: BodyStream,
    parser: SseParser,
    ready: VecDeque<SseEvent>,
    finished: bool,
    span: tracing::Span,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream")
            .field("buffered_events", &self.ready.len())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl ChatStream {
    /// Checks the head of the answer: a non-2xx becomes the [`Error::Api`] of its body.
    pub(crate) async fn open(
        response: reqwest::Response,
        span: tracing::Span,
    ) -> Result<ChatStream, Error> {
        let status = response.status();
        if !status.is_success() {
            let body = response.bytes().await.map_err(Error::from_reqwest)?;
            return Err(Error::from_body(status.as_u16(), &body));
        }
        Ok(Self::from_body(Box::pin(response.bytes_stream()), span))
    }

    fn from_body(body: BodyStream, span: tracing::Span) -> ChatStream {
        ChatStream {
            body,
            parser: SseParser::default(),
            ready: VecDeque::new(),
            finished: false,
            span,
        }
    }

    /// The next parsed event that is a chat event; `None` when none is buffered.
    fn next_ready(&mut self) -> Option<Result<ChatEvent, Error>> {
        while let Some(event) = self.ready.pop_front() {
            if event.data == "[DONE]" {
                self.finish();
                return None;
            }
            match serde_json::from_str::<ChatEvent>(&event.data) {
                Ok(chat) => {
                    if chat.is_done() {
                        self.finish();
                    }
                    return Some(Ok(chat));
                }
                Err(_) => {
                    let _entered = self.span.enter();
                    tracing::debug!("qelos chat stream: skipped an event that is not JSON");
                }
            }
        }
        None
    }

    fn finish(&mut self) {
        self.finished = true;
        self.ready.clear();
    }
}

impl Stream for ChatStream {
    type Item = Result<ChatEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(event) = this.next_ready() {
                return Poll::Ready(Some(event));
            }
            if this.finished {
                return Poll::Ready(None);
            }
            match this.body.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    this.parser.push(&chunk, &mut this.ready);
                }
                Poll::Ready(Some(Err(e))) => {
                    this.finish();
                    let err = Error::from_reqwest(e);
                    let _entered = this.span.enter();
                    tracing::debug!(error = %err, "qelos chat stream failed");
                    return Poll::Ready(Some(Err(err)));
                }
                Poll::Ready(None) => {
                    // Every complete event was handed out before the body was polled again:
                    // what is left is at most an unfinished one. No end event came.
                    this.finish();
                    let _entered = this.span.enter();
                    tracing::debug!("qelos chat stream cut before its end");
                    return Poll::Ready(Some(Err(Error::Network(
                        "the chat stream was cut before its end".into(),
                    ))));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt as _;

    use super::*;

    fn stream_of(chunks: Vec<&'static [u8]>) -> ChatStream {
        let body = futures_util::stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, reqwest::Error>(Bytes::from_static(c))),
        );
        ChatStream::from_body(Box::pin(body), tracing::Span::none())
    }

    #[tokio::test]
    async fn chunked_events_arrive_typed_and_the_stream_ends_at_done() {
        let mut stream = stream_of(vec![
            b": comment\n\nda",
            b"ta: {\"type\":\"chunk\",\"content\":\"Hel\"}\n",
            b"\ndata: {\"type\":\"chunk\",",
            b"\"content\":\"lo\"}\r\n\r\ndata: not json\n\n",
            b"data: {\"type\":\"done\"}\n\ndata: {\"type\":\"chunk\",\"content\":\"after\"}\n\n",
        ]);
        let mut text = String::new();
        let mut kinds = Vec::new();
        while let Some(event) = stream.next().await {
            let event = event.unwrap();
            text.push_str(event.text().unwrap_or_default());
            kinds.push(event.kind);
        }
        assert_eq!(text, "Hello");
        assert_eq!(kinds, ["chunk", "chunk", "done"]);
    }

    #[tokio::test]
    async fn done_marker_ends_the_stream_without_an_error() {
        let mut stream = stream_of(vec![
            b"data: {\"type\":\"chunk\",\"content\":\"a\"}\n\ndata: [DONE]\n\n",
        ]);
        assert!(stream.next().await.unwrap().is_ok());
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn a_body_cut_before_done_yields_one_error_then_ends() {
        let mut stream = stream_of(vec![
            b"data: {\"type\":\"chunk\",\"content\":\"a\"}\n\n",
            b"data: {\"type\":\"chunk\",\"con",
        ]);
        assert_eq!(stream.next().await.unwrap().unwrap().text(), Some("a"));
        let err = stream.next().await.unwrap().unwrap_err();
        assert!(err.is_unavailable(), "{err}");
        assert!(stream.next().await.is_none());
    }
}
