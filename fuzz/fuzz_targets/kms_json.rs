//! KMS's JSON API: the input of every operation, parsed and handled by a
//! real KMS over an in-memory database, called by the account's root user
//! with an authorizer that allows everything (so every handler is reached).
//! Input: the operation name (`TrentService.` prefix optional), a newline,
//! the JSON body. A key with the alias `alias/fuzz` exists from the start.
//! None of it may panic.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use strongbox_core::Caller;
use strongbox_fuzz::{name_and_body, AllowAll, Served, ACCESS_KEY_ID, ACCOUNT, REGION};
use strongbox_kms::Kms;

fn fixture() -> &'static Served<Kms> {
    static FIXTURE: OnceLock<Served<Kms>> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let f = Served::open(|db| {
            let master = Some("fuzzing master secret 0123456789");
            let kms = Kms::open(db, &std::env::temp_dir(), REGION, master).expect("kms");
            (kms, Caller::root(ACCOUNT, Some(ACCESS_KEY_ID.to_string())))
        });
        let created = f
            .service
            .handle(&f.caller, &f.meta, &AllowAll, "CreateKey", b"{}");
        let key: serde_json::Value =
            serde_json::from_str(&created.body).expect("CreateKey answers JSON");
        let id = key["KeyMetadata"]["KeyId"]
            .as_str()
            .expect("a key id")
            .to_string();
        let alias = serde_json::json!({"AliasName": "alias/fuzz", "TargetKeyId": id}).to_string();
        f.service.handle(
            &f.caller,
            &f.meta,
            &AllowAll,
            "CreateAlias",
            alias.as_bytes(),
        );
        f
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let (operation, body) = name_and_body(data);
    let reply = f
        .service
        .handle(&f.caller, &f.meta, &AllowAll, operation, body);
    assert!(
        serde_json::from_str::<serde_json::Value>(&reply.body).is_ok(),
        "KMS answered with a body that is not JSON"
    );
});
