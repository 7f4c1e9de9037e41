//! The crate README's example is `readme_example.rs`, verbatim: it runs as a test there, and
//! this fails when the README and the file drift apart.

#[test]
fn the_readme_shows_the_example_that_runs() {
    let readme = include_str!("../../README.md");
    let example = include_str!("readme_example.rs");
    assert!(
        readme.contains(example.trim_end()),
        "README.md's example differs from tests/emulator/readme_example.rs"
    );
}
