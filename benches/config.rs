//! How long `validate` (and every command's start-up) spends on the configuration: parse the
//! embedded defaults and the file, merge the layers, decode and validate.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use pipetui::config::{ConfigFile, Overrides, load};

fn load_example(c: &mut Criterion) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let overrides = Overrides::default();
    c.bench_function("config/load_and_validate_example", |b| {
        b.iter(|| {
            let loaded = load(
                ConfigFile::Explicit(path.clone()),
                std::iter::empty(),
                &overrides,
            );
            black_box(loaded.is_ok())
        })
    });
    let bad = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/app/invalid_configs/name_bucket_too_long.toml");
    c.bench_function("config/report_problems", |b| {
        b.iter(|| {
            black_box(
                load(
                    ConfigFile::Explicit(bad.clone()),
                    std::iter::empty(),
                    &overrides,
                )
                .is_err(),
            )
        })
    });
}

criterion_group!(benches, load_example);
criterion_main!(benches);
