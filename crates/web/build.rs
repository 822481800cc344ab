// The locale catalogues are read at compile time by `rust_i18n::i18n!`, which does not
// tell cargo about them: without this, an edited .yml file changes nothing until some Rust
// file of this crate changes too.
fn main() {
    println!("cargo:rerun-if-changed=locales");
}
