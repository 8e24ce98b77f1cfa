//! Clients cannot hold the server: idle and slowloris connections are closed after the head deadline, the node
//! holds at most its connection limit, and everyone else is still served.

use crate::common::TestApp;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn tight(c: &mut wujia_web::Config) {
    c.limits.head_timeout = Duration::from_secs(1);
    c.limits.max_connections = 24;
}

on_both!(configure = super::tight; idle_and_slow_clients_are_closed_and_others_served);

/// True once the server has closed `stream` (end of file or a reset), within `within`.
async fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 512];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                // A 408 may come first; the connection ends after it.
                Ok(n) if n > 0 => continue,
                // End of file, or a reset.
                _ => return true,
            }
        }
    })
    .await
    .unwrap_or_default()
}

async fn idle_and_slow_clients_are_closed_and_others_served(app: TestApp) {
    let addr = app.url("/").trim_start_matches("http://").trim_end_matches('/').to_string();
    // Twice the connection limit: idle ones, and slowloris ones that trickle a header line now and then.
    let mut idle = Vec::new();
    let mut slow = Vec::new();
    for i in 0..48 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        if i % 2 == 0 {
            idle.push(s);
        } else {
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
            slow.push(s);
        }
    }
    for s in &mut slow {
        let _ = s.write_all(b"X-Trickle: 1\r\n").await;
    }
    // Someone else is served although the limit is taken, once the idle ones time out.
    let started = Instant::now();
    let res = app.client.get(app.url("/healthz")).timeout(Duration::from_secs(20)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(10), "served after {:?}", started.elapsed());
    for s in idle.iter_mut().chain(slow.iter_mut()) {
        assert!(closed_by_server(s, Duration::from_secs(10)).await, "a connection was held open");
    }
    // A keep-alive connection that goes quiet after an answer is closed too.
    let mut kept = TcpStream::connect(&addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let mut head = [0u8; 12];
    kept.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    assert!(closed_by_server(&mut kept, Duration::from_secs(10)).await, "an idle keep-alive connection was held");
}
