//! Test helpers: whole handshakes between built configs, in memory (rustls connections
//! pumped through byte buffers, no sockets).

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, Connection, ServerConnection};

use super::config::{ClientTls, ClientTlsOptions, ServerTls, ServerTlsOptions};
use super::error::handshake_error_code;
use super::material::{MaterialSources, Source};
use super::test_util::fixture_path;
use super::verifier::authorization;

pub fn src(names: &[&str]) -> Vec<Source> {
    names
        .iter()
        .map(|n| Source::Path(fixture_path(n)))
        .collect()
}

pub fn material(key: Option<&str>, cert: Option<&str>, ca: &[&str]) -> MaterialSources {
    MaterialSources {
        key: src(&key.into_iter().collect::<Vec<_>>()),
        cert: src(&cert.into_iter().collect::<Vec<_>>()),
        ca: src(ca),
    }
}

pub fn server_opts(
    key: &str,
    cert: &str,
    ca: &[&str],
    request_cert: bool,
    reject: bool,
) -> ServerTlsOptions {
    ServerTlsOptions {
        material: material(Some(key), Some(cert), ca),
        request_cert,
        reject_unauthorized: reject,
        ..Default::default()
    }
}

pub fn client_opts(id: Option<&str>, ca: &[&str]) -> ClientTlsOptions {
    let m = match id {
        Some(n) => material(Some(&format!("{n}.key")), Some(&format!("{n}.crt")), ca),
        None => material(None, None, ca),
    };
    ClientTlsOptions {
        material: m,
        ..Default::default()
    }
}

pub struct Outcome {
    pub client: Result<(), (String, String)>,
    pub server: Result<(), (String, String)>,
    pub client_conn: ClientConnection,
    pub server_conn: ServerConnection,
}

pub fn pump(from: &mut Connection, to: &mut Connection) -> Result<bool, rustls::Error> {
    let mut buf = Vec::new();
    while from.wants_write() {
        if from.write_tls(&mut buf).is_err() {
            break;
        }
    }
    let moved = !buf.is_empty();
    let mut rd = &buf[..];
    while !rd.is_empty() {
        if to.read_tls(&mut rd).is_err() {
            break;
        }
        to.process_new_packets()?;
    }
    Ok(moved)
}

pub fn handshake(server: &ServerTls, client: &ClientTls, name: &str) -> Outcome {
    let sname = ServerName::try_from(name.to_string()).expect("server name");
    let mut c =
        Connection::Client(ClientConnection::new(client.config.clone(), sname).expect("client"));
    let mut s = Connection::Server(ServerConnection::new(server.config.clone()).expect("server"));
    let (mut cerr, mut serr) = (None, None);
    for _ in 0..20 {
        let a = pump(&mut c, &mut s)
            .map_err(|e| serr = Some(e))
            .unwrap_or(true);
        let b = pump(&mut s, &mut c)
            .map_err(|e| cerr = Some(e))
            .unwrap_or(true);
        if !a && !b {
            break;
        }
    }
    let code = |e: Option<rustls::Error>, conn: &Connection| match e {
        Some(e) => Err(handshake_error_code(&e)),
        None if conn.is_handshaking() => Err(("HANDSHAKE_INCOMPLETE".into(), String::new())),
        None => Ok(()),
    };
    let (client, server) = (code(cerr, &c), code(serr, &s));
    match (c, s) {
        (Connection::Client(cc), Connection::Server(sc)) => Outcome {
            client,
            server,
            client_conn: cc,
            server_conn: sc,
        },
        _ => unreachable!("built as client and server"),
    }
}

pub fn code(r: &Result<(), (String, String)>) -> &str {
    match r {
        Ok(()) => "ok",
        Err((c, _)) => c,
    }
}

pub fn peer_cn(o: &Outcome) -> Option<String> {
    let certs = o.server_conn.peer_certificates()?;
    super::peer_cert::subject_cn(certs.first()?.as_ref())
}

/// The server's Node-style (authorized, authorizationError) after a finished handshake.
pub fn server_authz(server: &ServerTls, o: &Outcome) -> (bool, Option<&'static str>) {
    let certs = o
        .server_conn
        .peer_certificates()
        .map(<[_]>::to_vec)
        .unwrap_or_default();
    match authorization(&certs, &server.policy, None) {
        Ok(()) => (true, None),
        Err(e) => (false, Some(e.code)),
    }
}
