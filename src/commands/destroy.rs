//! `pipetui destroy`: names the stack, asks, DeleteStack, live progress, and the reason of a
//! DELETE_FAILED.

use std::path::Path;
use std::process::ExitCode;

use crate::EXIT_USAGE;
use crate::aws::Session;
use crate::cli::DestroyArgs;
use crate::config::Loaded;
use crate::provision::front::{Front, interrupted, print_summary, until_interrupted};
use crate::provision::{Provisioner, stack_name};

pub fn run(loaded: &Loaded, args: &DestroyArgs, state_dir: &Path) -> color_eyre::Result<ExitCode> {
    if loaded.config.console.read_only {
        eprintln!("error: read-only mode: destroy would delete the stack; drop --read-only");
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let session = match Session::open(&loaded.config, state_dir).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::FAILURE);
            }
        };
        let name = stack_name(&loaded.config);
        let question = format!(
            "Delete stack {name} and every resource it created on {} (DeleteStack)?",
            session.clients.target
        );
        match super::init::confirm(&question, args.yes) {
            Ok(true) => {}
            Ok(false) => {
                println!("cancelled; nothing was deleted");
                return Ok(ExitCode::FAILURE);
            }
            Err(code) => return Ok(code),
        }
        let prov = Provisioner::new(&session.clients, &name);
        let mut front = Front::new(args.no_tui);
        let outcome = until_interrupted(prov.destroy(|p, e| front.update(p, e))).await;
        front.finish();
        let Some(outcome) = outcome else {
            return Ok(interrupted(&name));
        };
        match outcome {
            Ok(None) => {
                println!("Stack {name} does not exist; nothing to delete");
                Ok(ExitCode::SUCCESS)
            }
            Ok(Some(o)) => {
                print_summary(&o);
                Ok(if o.succeeded() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            }
            Err(e) => {
                eprintln!("error: {e}");
                Ok(ExitCode::FAILURE)
            }
        }
    })
}
