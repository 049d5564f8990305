//! Accepting connections and serving HTTP/1.1 on each, with the limits a service on the
//! internet needs: a client has `header_read` to send a request's head (hyper's
//! header-read timeout, which also closes a kept-alive connection that sends nothing), and a
//! connection on which nothing is read or written for `idle` is closed (a request that
//! sends its head and then trickles or withholds its body). Each request carries the
//! client's address (axum's `ConnectInfo`) for the per-client rate limits.
//!
//! Owns sockets and timers only: what is answered is the router's.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How long a client may take, and stay silent.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// From the first moment a request head is awaited to its last byte.
    pub header_read: Duration,
    /// With nothing read or written on the connection.
    pub idle: Duration,
}

/// How long requests in flight may still take after Ctrl-C or SIGTERM.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `stop` completes, then lets the requests in flight
/// finish (for at most [`DRAIN`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    timeouts: Timeouts,
    stop: impl std::future::Future<Output = ()>,
) {
    let (closing, _) = tokio::sync::watch::channel(false);
    // Each connection holds a sender; when every one is dropped, all have ended.
    let (open, mut all_closed) = tokio::sync::mpsc::channel::<()>(1);
    tokio::pin!(stop);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            stream,
            remote,
            router.clone(),
            timeouts,
            closing.subscribe(),
            open.clone(),
        ));
    }
    drop(listener);
    let _ = closing.send(true);
    drop(open);
    let _ = tokio::time::timeout(DRAIN, all_closed.recv()).await;
}

async fn connection(
    stream: tokio::net::TcpStream,
    remote: SocketAddr,
    router: Router,
    timeouts: Timeouts,
    mut closing: tokio::sync::watch::Receiver<bool>,
    _open: tokio::sync::mpsc::Sender<()>,
) {
    let started = Instant::now();
    let activity = Arc::new(AtomicU64::new(0));
    let io = hyper_util::rt::TokioIo::new(Watched {
        inner: stream,
        started,
        activity: activity.clone(),
    });
    let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(ConnectInfo(remote));
        let mut router = router.clone();
        async move { tower::Service::call(&mut router, request.map(axum::body::Body::new)).await }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(timeouts.header_read)
        .keep_alive(true);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut tick = tokio::time::interval(Duration::from_secs(1).min(timeouts.idle));
    loop {
        tokio::select! {
            _ = conn.as_mut() => break,
            _ = tick.tick() => {
                let last = Duration::from_millis(activity.load(Ordering::Relaxed));
                if started.elapsed().saturating_sub(last) > timeouts.idle {
                    tracing::debug!("closing a connection idle for {:?}", timeouts.idle);
                    break;
                }
            }
            changed = closing.changed() => {
                if changed.is_err() || *closing.borrow() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// A socket that notes when it last moved a byte.
struct Watched {
    inner: tokio::net::TcpStream,
    started: Instant,
    /// Milliseconds from `started` to the last read or write.
    activity: Arc<AtomicU64>,
}

impl Watched {
    fn touch(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.activity.store(now, Ordering::Relaxed);
    }
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
