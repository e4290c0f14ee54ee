//! Compiles the screens, with the translations bundled so the language switches at run time
//! without gettext's process-wide environment (`reference/slint.md` A4). Debug builds carry
//! element debug info so the UI tests can find elements by name.

fn main() {
    let debug = std::env::var("PROFILE").is_ok_and(|p| p == "debug");
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations("lang")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        .with_debug_info(debug);
    slint_build::compile_with_config("ui/app.slint", config).expect("the .slint files compile");
    println!("cargo:rerun-if-changed=lang");
}
