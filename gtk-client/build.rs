//! Compiles the widgets' templates (`src/ui/templates/*.ui`) into a GResource bundled into the
//! binary, so the player needs no files beside it.

fn main() {
    glib_build_tools::compile_resources(
        &["src/ui/templates"],
        "src/ui/templates/player.gresource.xml",
        "player.gresource",
    );
}
