use std::process::ExitCode;

fn main() -> ExitCode {
    // color-eyre first, so the terminal restore hooks installed later wrap its panic handler.
    if let Err(e) = color_eyre::install() {
        eprintln!("warning: cannot install error reporting: {e}");
    }
    let cli = pipetui::cli::parse();
    match pipetui::run(cli) {
        Ok(code) => code,
        Err(report) => {
            eprintln!("error: {report:?}");
            ExitCode::FAILURE
        }
    }
}
