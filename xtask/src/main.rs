//! Project automation; see `cargo xtask help`.

fn main() {
    println!("usage: cargo xtask <test|bench>");
}
