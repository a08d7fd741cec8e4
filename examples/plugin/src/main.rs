//! `cargo run -p plugin-example`: a fake Qelos and the todo plugin, registered with each other,
//! and curl commands to try it. Ctrl-C stops it.

use base64::Engine as _;
use qelos_mock::MintRequest;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let running = plugin_example::start().await?;
    let qelos = running.qelos.url();
    let admin = running.qelos.seed().admin.clone();
    let mut mint = MintRequest::for_user(&admin.username);
    mint.workspace = running
        .qelos
        .seed()
        .workspaces
        .first()
        .map(|w| w.id.clone());
    let token = running.qelos.mint_tokens(&mint).access;
    let board = format!("{}/board.html", running.plugin_url);
    let board_b64 = base64::engine::general_purpose::STANDARD.encode(&board);
    println!("fake Qelos (gateway) at {qelos}");
    println!(
        "plugin at {} (manifest: {}{})",
        running.plugin_url,
        running.plugin_url,
        running.plugin.manifest().manifest_url
    );
    println!();
    println!("signed in as {}:", admin.username);
    println!("  export T={token}");
    println!("the crud, through Qelos:");
    println!(
        "  curl -s -H \"Authorization: Bearer $T\" -H 'content-type: application/json' -d '{{\"title\":\"milk\"}}' {qelos}/api/on/todo/todo-items"
    );
    println!("  curl -s -H \"Authorization: Bearer $T\" {qelos}/api/on/todo/todo-items");
    println!("the plugin calls Qelos back as the tenant:");
    println!("  curl -s -H \"Authorization: Bearer $T\" {qelos}/api/on/todo/summary");
    println!("a new Qelos product becomes a todo item (event hook):");
    println!(
        "  curl -s -H \"Authorization: Bearer $T\" -H 'content-type: application/json' -d '{{\"metadata\":{{\"name\":\"lamp\"}}}}' {qelos}/api/blueprints/products/entities"
    );
    println!("the micro-frontend (open in a browser; Qelos redirects to the board with a code):");
    println!(
        "  curl -si -H \"Authorization: Bearer $T\" '{qelos}/api/plugins/{}/callback?returnUrl={board_b64}'",
        running.plugin_id
    );
    println!();
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
