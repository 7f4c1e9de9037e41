//! Process groups the engine starts (build commands, hook scripts), recorded in the store while
//! they run, so an emulator opened after a crash kills what the previous process left behind
//! instead of letting it run next to the retried work.

use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::store::Store;

const SVC: &str = "engine";
const KIND: &str = "process-group";

/// The first line of every shell the engine starts: it waits for one line on stdin, sent once
/// its group is recorded, and exits if the emulator died before (stdin then ends empty).
pub const GATE: &str = "read -r __pipetui_gate || exit 1; exec </dev/null\n";

/// Records `child`'s group for `owner`, then lets it past [`GATE`].
pub fn record_and_open(store: &Store, owner: &str, child: &mut std::process::Child) {
    record(store, owner, child.id());
    open_gate(child);
}

/// Lets `child` past [`GATE`] (closing its stdin).
pub fn open_gate(child: &mut std::process::Child) {
    if let Some(mut stdin) = child.stdin.take() {
        let _ = std::io::Write::write_all(&mut stdin, b"\n");
    }
}

/// Field `n` (1-based, as proc(5) numbers them) of `/proc/<pid>/stat`.
fn stat_field(pid: u32, n: usize) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at field 3.
    let after = stat.rsplit_once(')')?.1;
    after
        .split_whitespace()
        .nth(n.checked_sub(3)?)?
        .parse()
        .ok()
}

/// When `pid` started (clock ticks since boot), which tells a reused pid from the original.
fn start_ticks(pid: u32) -> Option<u64> {
    stat_field(pid, 22)
}

fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
}

/// Processes whose process group is `pgid`.
pub fn members(pgid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| stat_field(*pid, 5) == Some(u64::from(pgid)))
        .collect()
}

/// SIGKILLs every process of group `pgid`.
pub fn kill(pgid: u32) {
    // No libc binding is a direct dependency, and `unsafe` is forbidden: kill(1) does it.
    let group = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if group.is_ok() {
        return;
    }
    // No kill(1) installed: the shell's builtin, given the group's members found in /proc
    // (dash's builtin takes no negative process-group ids).
    let members = members(pgid);
    if !members.is_empty() {
        let _ = Command::new("/bin/sh")
            .args(["-c", "kill -9 \"$@\"", "sh"])
            .args(members.iter().map(u32::to_string))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Notes that `owner` (`codebuild/<build>`, `codedeploy/<deployment>/<host>`) leads group
/// `pgid`, durably, before anything waits on it.
pub fn record(store: &Store, owner: &str, pgid: u32) {
    let doc = json!({ "owner": owner, "boot": boot_id(), "start": start_ticks(pgid) });
    if let Err(e) = store.write(|tx| tx.put(SVC, KIND, &pgid.to_string(), &doc)) {
        tracing::warn!(owner, pgid, error = %e, "cannot record a process group");
    }
}

/// Forgets the groups of `owner` and of every owner under it (`owner/...`).
pub fn forget(store: &Store, owner: &str) {
    let under = format!("{owner}/");
    let r = store.write(|tx| {
        for (id, doc) in tx.list(SVC, KIND)? {
            let o = doc["owner"].as_str().unwrap_or("");
            if o == owner || o.starts_with(&under) {
                tx.delete(SVC, KIND, &id)?;
            }
        }
        Ok(())
    });
    if let Err(e) = r {
        tracing::warn!(owner, error = %e, "cannot forget process groups");
    }
}

/// Whether a recorded group may still be the one recorded: same boot, and a leader still alive
/// started when the record says (a pid reused since then is someone else's).
fn still_ours(pgid: u32, doc: &Value) -> bool {
    if let (Some(then), Some(now)) = (doc["boot"].as_str(), boot_id())
        && then != now
    {
        return false;
    }
    match (doc["start"].as_u64(), start_ticks(pgid)) {
        (Some(then), Some(now)) => then == now,
        // The leader exited; whatever is left in its group is what it started.
        _ => true,
    }
}

/// Kills the recorded groups whose owner starts with `prefix` (a previous process's work) and
/// forgets them; returns how many were still there.
pub fn kill_recorded(store: &Store, prefix: &str) -> usize {
    let docs = match store.read(|tx| tx.list(SVC, KIND)) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the recorded process groups");
            return 0;
        }
    };
    let mut killed = 0;
    let mut gone = Vec::new();
    for (id, doc) in docs {
        if !doc["owner"].as_str().is_some_and(|o| o.starts_with(prefix)) {
            continue;
        }
        if let Ok(pgid) = id.parse::<u32>()
            && still_ours(pgid, &doc)
            && !members(pgid).is_empty()
        {
            tracing::info!(owner = %doc["owner"], pgid, "killing processes a previous emulator left running");
            kill(pgid);
            killed += 1;
        }
        gone.push(id);
    }
    let r = store.write(|tx| {
        for id in &gone {
            tx.delete(SVC, KIND, id)?;
        }
        Ok(())
    });
    if let Err(e) = r {
        tracing::warn!(error = %e, "cannot forget process groups");
    }
    killed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    #[test]
    fn a_recorded_group_is_killed_and_forgotten() {
        let store = Store::in_memory().unwrap();
        let mut child = Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        assert_eq!(members(child.id()), [child.id()]);
        record(&store, "codebuild/p:1", child.id());
        assert_eq!(kill_recorded(&store, "codedeploy/"), 0, "another owner's");
        assert_eq!(kill_recorded(&store, "codebuild/"), 1);
        assert!(!child.wait().unwrap().success());
        assert!(store.read(|tx| tx.list(SVC, KIND)).unwrap().is_empty());
    }

    #[test]
    fn a_reused_pid_is_not_ours() {
        let me = std::process::id();
        let doc = json!({ "boot": boot_id(), "start": start_ticks(me).map(|t| t + 1) });
        assert!(!still_ours(me, &doc));
        let doc = json!({ "boot": "another-boot", "start": start_ticks(me) });
        assert!(!still_ours(me, &doc));
        let doc = json!({ "boot": boot_id(), "start": start_ticks(me) });
        assert!(still_ours(me, &doc));
    }
}
