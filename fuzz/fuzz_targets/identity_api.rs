//! IAM and STS (Query protocol: form-encoded parameters) and Organizations
//! (JSON), parsed and handled by the real identity service over an in-memory
//! database, called by the management account's root user with an authorizer
//! that allows everything (so every handler is reached).
//! Input: `iam`, `sts` or an Organizations target (`AWSOrganizationsV20161128.`
//! prefix optional), a newline, the body. None of it may panic.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use strongbox_fuzz::{name_and_body, now, AllowAll, Served, ACCESS_KEY_ID, REGION, SECRET};
use strongbox_identity::{Identity, RootKey};

fn fixture() -> &'static Served<Identity> {
    static FIXTURE: OnceLock<Served<Identity>> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        Served::open(|db| {
            let root = RootKey {
                access_key_id: ACCESS_KEY_ID.to_string(),
                secret: SECRET.to_string(),
            };
            let identity = Identity::open(db, REGION, root).expect("identity");
            let caller = identity
                .lookup_key(ACCESS_KEY_ID, None, now())
                .expect("the root key")
                .caller;
            (identity, caller)
        })
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let (name, body) = name_and_body(data);
    match name {
        "iam" | "sts" => {
            let params = strongbox::forms::parse_form(&String::from_utf8_lossy(body));
            let _ = if name == "iam" {
                f.service.handle_iam(&f.caller, &f.meta, &AllowAll, &params)
            } else {
                f.service.handle_sts(&f.caller, &f.meta, &AllowAll, &params)
            };
        }
        target => {
            let reply = f
                .service
                .handle_organizations(&f.caller, &f.meta, &AllowAll, target, body);
            assert!(
                serde_json::from_str::<serde_json::Value>(&reply.body).is_ok(),
                "Organizations answered with a body that is not JSON"
            );
        }
    }
});
