//! A connection that must keep reading what it is sent: a send timeout with a minimum rate.
//!
//! hyper has a timer for reading a request's headers, none for writing a response. A client that asks for a
//! large file and then never reads would hold its connection (and a slot of `--max-connections`) for as long
//! as it likes. [`Paced`] wraps the socket: while the kernel's send buffer is full (a write is pending), the
//! client must take at least `min_bytes` within each `window`, or the connection fails with `TimedOut` and
//! hyper closes it. A client that reads at all reasonably never notices.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// The pace a client must keep while a response waits for it.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// How long a write may wait for the client.
    pub window: Duration,
    /// Bytes the client must take within each window (at least one).
    pub min_bytes: usize,
}

/// A stream whose writes must make progress.
#[derive(Debug)]
pub struct Paced<S> {
    inner: S,
    pace: Pace,
    /// Armed while writes wait for the client: the end of the current window.
    deadline: Pin<Box<Sleep>>,
    armed: bool,
    /// Bytes written since the window was armed.
    progress: usize,
}

impl<S> Paced<S> {
    pub fn new(inner: S, pace: Pace) -> Paced<S> {
        Paced {
            inner,
            pace,
            deadline: Box::pin(tokio::time::sleep(pace.window)),
            armed: false,
            progress: 0,
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    fn wrote(&mut self, n: usize) {
        if self.armed {
            self.progress = self.progress.saturating_add(n);
            if self.progress >= self.pace.min_bytes.max(1) {
                self.armed = false;
            }
        }
    }

    /// A write is pending: start the window if it is not running, and fail once it is over.
    fn waiting(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if !self.armed {
            self.armed = true;
            self.progress = 0;
            self.deadline
                .as_mut()
                .reset(Instant::now() + self.pace.window);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading the response",
            )),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Paced<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Paced<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                this.wrote(n);
                Poll::Ready(Ok(n))
            }
            Poll::Pending => this.waiting(cx).map(Err),
            other => other,
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                this.wrote(n);
                Poll::Ready(Ok(n))
            }
            Poll::Pending => this.waiting(cx).map(Err),
            other => other,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.waiting(cx).map(Err),
            other => other,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Pending => this.waiting(cx).map(Err),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test(start_paused = true)]
    async fn a_client_that_never_reads_times_out() {
        let (writer, _reader) = tokio::io::duplex(64);
        let mut paced = Paced::new(
            writer,
            Pace {
                window: Duration::from_secs(5),
                min_bytes: 10,
            },
        );
        let big = vec![0u8; 1024];
        let error = paced.write_all(&big).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_reads_slowly_but_enough_is_served() {
        use tokio::io::AsyncReadExt;
        let (writer, mut reader) = tokio::io::duplex(64);
        let mut paced = Paced::new(
            writer,
            Pace {
                window: Duration::from_secs(5),
                min_bytes: 64,
            },
        );
        let reading = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut chunk = [0u8; 64];
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                match reader.read(&mut chunk).await {
                    Ok(0) | Err(_) => break got,
                    Ok(n) => got.extend_from_slice(&chunk[..n]),
                }
            }
        });
        paced.write_all(&[7u8; 1024]).await.unwrap();
        paced.shutdown().await.unwrap();
        drop(paced);
        assert_eq!(reading.await.unwrap().len(), 1024);
    }
}
