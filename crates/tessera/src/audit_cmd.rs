//! `tessera audit`: verify the tamper-evident trail, or seal it now.

use anyhow::bail;
use tessera_core::audit::verify::{self, Report};
use tessera_core::audit::Checkpoint;
use tessera_core::unix_now;

use crate::config::Config;

/// `tessera audit verify`: prints what it checked and every finding; fails on any finding.
/// Events not yet sealed are counted apart: they are not evidence of tampering.
pub async fn verify(config: &Config) -> anyhow::Result<()> {
    let kek = config.key_encryption_key()?;
    let store = crate::open_store(config).await?;
    let report = verify::verify(&store, &kek, config.audit_retention_days, unix_now()).await?;
    print!("{}", describe(&report));
    if !report.findings.is_empty() {
        bail!(
            "the audit trail failed verification: {} finding(s)",
            report.findings.len()
        );
    }
    Ok(())
}

/// `tessera audit seal`: seals every event old enough and signs a checkpoint at once.
pub async fn seal(config: &Config) -> anyhow::Result<()> {
    let provider = crate::open_provider(config).await?;
    let sealed = provider
        .seal_audit_trail(unix_now(), Checkpoint::Now)
        .await?;
    println!(
        "sealed {} events; the chain ends at position {}; {} checkpoint(s) signed",
        sealed.events, sealed.head, sealed.checkpoints
    );
    Ok(())
}

/// The report as printed: a summary line, then one line per finding.
pub fn describe(report: &Report) -> String {
    let mut out = match (report.first, report.last) {
        (Some(first), Some(last)) => format!(
            "checked {} sealed events (positions {first} to {last}) and {} signed checkpoints\n",
            report.events, report.checkpoints
        ),
        _ => format!(
            "no sealed events; checked {} signed checkpoints\n",
            report.checkpoints
        ),
    };
    if report.unsealed > 0 {
        out.push_str(&format!(
            "not yet sealed: {} events (sealed by a running server within seconds, or by \
             `tessera audit seal`)\n",
            report.unsealed
        ));
    }
    for finding in &report.findings {
        out.push_str(&format!("FINDING {finding}\n"));
    }
    if report.findings.is_empty() {
        out.push_str("no tampering found\n");
    }
    out
}

#[cfg(test)]
mod tests;
