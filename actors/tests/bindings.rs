//! Fails when `guest/src/protocol/wire.ts` no longer matches the Rust wire types, so the guest
//! app can never drift from the relay. `UPDATE_BINDINGS=1` rewrites the file instead.

use std::path::PathBuf;

#[test]
fn typescript_bindings_are_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../guest/src/protocol/wire.ts");
    let generated = familiar_actors::bindings::typescript();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run `UPDATE_BINDINGS=1 cargo test -p familiar-actors --test bindings`",
        path.display()
    );
}
