pub async fn run(_s: usize, _e: usize, _r: usize, _d: &str) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
