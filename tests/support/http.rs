//! Minimal blocking HTTP/1.0 GET for test helpers, so they need no async runtime.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// `GET path_and_query` on a loopback port: the status code and the body.
pub fn get(port: u16, path_and_query: &str) -> std::io::Result<(u16, String)> {
    // HTTP/1.0 so that the reply is neither chunked nor kept alive: read to the end.
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    let reply = String::from_utf8_lossy(&reply);
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("malformed reply: {head}")))?;
    Ok((status, body.to_string()))
}

/// Percent-encodes everything but unreserved characters, for query values.
pub fn encode_query_value(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
