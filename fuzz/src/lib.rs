//! What the fuzz targets share: a fixed clock, a request head read from raw
//! bytes as hyper hands it to the server, and stand-ins for the services a
//! parser needs around it (canonical ids, an authorizer that allows everything
//! so that every handler is reached).

use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use strongbox_core::db::Db;
use strongbox_core::{AccessCheck, Authorizer, Caller, Denied, RequestMeta};

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "111122223333";
pub const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A fixed "now" (2026-01-01T00:00:00Z), so that runs are reproducible.
pub fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_767_225_600).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// A request head: what the server gets from hyper.
pub struct Head {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
}

/// Reads `METHOD TARGET\nName: value\n…` (a blank line ends the head); `None`
/// where hyper would refuse the head (bad method, target or header).
pub fn read_head(data: &[u8]) -> Option<Head> {
    let mut lines = data
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let request_line = lines.next()?;
    let mut words = request_line.splitn(3, |&b| b == b' ');
    let method = Method::from_bytes(words.next()?).ok()?;
    let uri = Uri::try_from(words.next()?).ok()?;
    let mut headers = HeaderMap::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        let colon = line.iter().position(|&b| b == b':')?;
        let name = HeaderName::from_bytes(&line[..colon]).ok()?;
        let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).ok()?;
        headers.append(name, value);
    }
    Some(Head {
        method,
        uri,
        headers,
    })
}

/// Canonical user ids as `c` + account id.
pub struct Ids;

impl strongbox_s3::acl::CanonicalIds for Ids {
    fn canonical_of(&self, account_id: &str) -> String {
        format!("c{account_id}")
    }
    fn account_of(&self, canonical_id: &str) -> Option<String> {
        canonical_id.strip_prefix('c').map(str::to_string)
    }
}

/// Allows every check: the fuzzer reaches every handler behind the policies.
pub struct AllowAll;

impl Authorizer for AllowAll {
    fn check(&self, _: &Caller, _: &RequestMeta, _: &AccessCheck<'_>) -> Result<(), Denied> {
        Ok(())
    }
}

/// Splits `data` at the first `\n`: a name (operation, target) and a body.
pub fn name_and_body(data: &[u8]) -> (&str, &[u8]) {
    let (name, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    (std::str::from_utf8(name).unwrap_or(""), body)
}

/// A service under test with the caller and request metadata of every call.
pub struct Served<S> {
    pub service: S,
    pub caller: Caller,
    pub meta: RequestMeta,
}

impl<S> Served<S> {
    /// Opens a service over a fresh in-memory database; `open` also returns the caller.
    pub fn open(open: impl FnOnce(Arc<Db>) -> (S, Caller)) -> Served<S> {
        let db = Arc::new(Db::open_in_memory().expect("in-memory database"));
        let (service, caller) = open(db);
        Served {
            service,
            caller,
            meta: RequestMeta::local("FUZZ", REGION),
        }
    }
}
