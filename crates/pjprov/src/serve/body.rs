//! Response bodies: bytes already in memory, or a file streamed from disk.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http_body::{Frame, SizeHint};
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

/// A response body.
#[derive(Debug)]
pub enum Body {
    /// Nothing (HEAD, 304, errors without text).
    Empty,
    /// Bytes in memory.
    Full(Option<Bytes>),
    /// `len` bytes of a file, read in chunks.
    File {
        stream: ReaderStream<tokio::io::Take<tokio::fs::File>>,
        remaining: u64,
    },
}

impl Body {
    pub fn full(bytes: impl Into<Bytes>) -> Body {
        Body::Full(Some(bytes.into()))
    }

    /// `len` bytes of `file`, from where it is positioned.
    pub fn file(file: tokio::fs::File, len: u64) -> Body {
        Body::File {
            stream: ReaderStream::with_capacity(file.take(len), 64 * 1024),
            remaining: len,
        }
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            Body::Empty => Poll::Ready(None),
            Body::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Body::File { stream, remaining } => match Pin::new(stream).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    *remaining = remaining.saturating_sub(chunk.len() as u64);
                    Poll::Ready(Some(Ok(Frame::data(chunk))))
                }
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
                Poll::Ready(None) if *remaining > 0 => Poll::Ready(Some(Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "file shrank while being sent",
                )))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Empty => true,
            Body::Full(bytes) => bytes.is_none(),
            Body::File { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Empty => SizeHint::with_exact(0),
            Body::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Body::File { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}
