//! Console frame costs: the pipelines view with 500 pipelines at 200×60, and the logs view
//! holding 1,000,000 lines (filter over all of them, one scroll step + frame).

#[path = "../tests/console/fixtures.rs"]
mod fixtures;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pipetui::console::state::{LogPane, State, View};
use pipetui::model::PipelineSummary;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn many_pipelines(n: usize) -> Vec<PipelineSummary> {
    let base = fixtures::pipelines();
    (0..n)
        .map(|i| {
            let mut p = base[i % base.len()].clone();
            p.name = format!("{}-{i:03}", p.name);
            p
        })
        .collect()
}

fn pipelines_frame(c: &mut Criterion) {
    let mut state = fixtures::loaded(false);
    state.data.pipelines = Some(many_pipelines(500));
    state.size = (200, 60);
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("backend");
    let mut row = 0usize;
    c.bench_function("console/pipelines_500_frame_200x60", |b| {
        b.iter(|| {
            // Move the cursor so every frame differs, as when the user scrolls.
            row = (row + 7) % 500;
            state.cursors.entry(View::Pipelines).or_default().selected = row;
            terminal
                .draw(|f| pipetui::ui::draw(f, black_box(&state)))
                .expect("draw");
        })
    });
}

fn logs_state(lines: usize) -> State {
    let mut state = fixtures::loaded(false);
    state.views = vec![View::Pipelines, View::Logs];
    state.logs.pane = LogPane::Lines;
    state.logs.group = Some("/aws/codebuild/orders-build".into());
    state.logs.buffer.extend(fixtures::log_lines(lines));
    state.size = (200, 60);
    state
}

fn logs(c: &mut Criterion) {
    let mut state = logs_state(1_000_000);
    let mut group = c.benchmark_group("console/logs_1m");
    group.sample_size(20);
    let mut flip = false;
    group.bench_function("filter", |b| {
        b.iter(|| {
            flip = !flip;
            let needle = if flip { "ERROR unit" } else { "shard 12" };
            state.logs.buffer.set_filter(needle);
            black_box(state.logs.buffer.visible_len())
        })
    });
    state.logs.buffer.set_filter("");
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("backend");
    let total = state.logs.buffer.visible_len();
    state.logs.top = total / 2;
    state.logs.search = "error".into();
    group.sample_size(100);
    group.bench_function("scroll_frame_200x60", |b| {
        b.iter(|| {
            state.logs.top = (state.logs.top + 1) % total;
            terminal
                .draw(|f| pipetui::ui::draw(f, black_box(&state)))
                .expect("draw");
        })
    });
    group.finish();
}

criterion_group!(benches, pipelines_frame, logs);
criterion_main!(benches);
