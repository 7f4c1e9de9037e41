//! `pipetui init`: validate → render → change set → review → confirm → execute → watch → outputs
//! → the console.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use crate::EXIT_USAGE;
use crate::aws::Session;
use crate::cli::InitArgs;
use crate::config::Loaded;
use crate::provision::front::{Front, interrupted, print_summary, until_interrupted};
use crate::provision::{Plan, Provisioner, stack_name};
use crate::stack;

pub fn run(loaded: &Loaded, args: &InitArgs, state_dir: &Path) -> color_eyre::Result<ExitCode> {
    if loaded.config.console.read_only {
        eprintln!("error: read-only mode: init would change the stack; drop --read-only");
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let template = match stack::try_render(&loaded.config) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    // Compact JSON: the same template in far fewer bytes (CloudFormation caps inline bodies).
    let body = serde_json::to_string(&template.to_value())?;
    let runtime = tokio::runtime::Runtime::new()?;
    let session = runtime.block_on(async {
        let session = match Session::open(&loaded.config, state_dir).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return Err(ExitCode::FAILURE);
            }
        };
        let name = stack_name(&loaded.config);
        println!(
            "stack {name} on {} ({} resources, template {} bytes)",
            session.clients.target,
            template.resources.len(),
            body.len()
        );
        match provision(&session, &name, &body, args).await {
            code if code == ExitCode::SUCCESS => Ok(session),
            code => Err(code),
        }
    });
    let session = match session {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    if args.no_tui || !std::io::stdout().is_terminal() {
        if session.emulator().is_some() {
            // The embedded emulator runs the pipeline only while a pipetui process runs; the
            // next one resolves what this one leaves running as interrupted.
            println!(
                "The pipeline's first release started on the embedded emulator; it runs while pipetui runs.\n\
                 Watch it with `pipetui` (the console); an action this process left running shows as\n\
                 interrupted by the restart there, and `r` retries it."
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    // The console runs its own event loop, outside this command's runtime.
    drop(runtime);
    crate::console::run(session, loaded, state_dir)
}

/// Plans and applies the template; the exit code says how it went.
async fn provision(session: &Session, name: &str, body: &str, args: &InitArgs) -> ExitCode {
    let prov = Provisioner::new(&session.clients, name).with_emulator(session.emulator().cloned());
    loop {
        let plan = match prov.plan(body).await {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        match plan {
            Plan::UpToDate => {
                println!("Stack {name} is up to date");
                return ExitCode::SUCCESS;
            }
            Plan::Recreate { status } => {
                println!(
                    "Stack {name} is in {status}: a stack whose creation failed can only be \
                     deleted and created again."
                );
                match confirm("Delete it and create it again?", args.yes) {
                    Ok(true) => {}
                    Ok(false) => return ExitCode::FAILURE,
                    Err(code) => return code,
                }
                let mut front = Front::new(args.no_tui);
                let outcome = until_interrupted(prov.destroy(|p, e| front.update(p, e))).await;
                front.finish();
                let Some(outcome) = outcome else {
                    return interrupted(name);
                };
                match outcome {
                    Ok(Some(o)) if !o.succeeded() => {
                        print_summary(&o);
                        return ExitCode::FAILURE;
                    }
                    Ok(_) => continue,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            Plan::Changes(plan) => {
                println!("change set {} ({}):", plan.change_set, plan.summary());
                for c in &plan.changes {
                    println!("  {}", c.line());
                }
                match confirm("Execute this change set?", args.yes) {
                    Ok(true) => {}
                    Ok(false) => {
                        // Declined: leave the stack exactly as it was.
                        let _ = prov.discard(&plan.change_set).await;
                        println!("cancelled; the change set was deleted");
                        return ExitCode::FAILURE;
                    }
                    Err(code) => {
                        let _ = prov.discard(&plan.change_set).await;
                        return code;
                    }
                }
                let mut front = Front::new(args.no_tui);
                let outcome =
                    until_interrupted(prov.execute(&plan, |p, e| front.update(p, e))).await;
                front.finish();
                let Some(outcome) = outcome else {
                    return interrupted(name);
                };
                let outcome = match outcome {
                    Ok(o) => o,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::FAILURE;
                    }
                };
                print_summary(&outcome);
                if !outcome.succeeded() {
                    return ExitCode::FAILURE;
                }
                println!("outputs:");
                for (key, value, _) in &outcome.outputs {
                    println!("  {key:<28} {value}");
                }
                return ExitCode::SUCCESS;
            }
        }
    }
}

/// Asks on the terminal; `--yes` answers yes. Without a terminal and `--yes`, refuses (exit 2).
pub(super) fn confirm(question: &str, yes: bool) -> Result<bool, ExitCode> {
    if yes {
        return Ok(true);
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        eprintln!(
            "error: confirmation needed but standard input is not a terminal; pass --yes to \
             proceed without asking"
        );
        return Err(ExitCode::from(EXIT_USAGE));
    }
    print!("{question} [y/N] ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    if stdin.lock().read_line(&mut answer).is_err() {
        return Ok(false);
    }
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}
