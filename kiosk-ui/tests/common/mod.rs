//! What the screen tests share.

use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};

/// Slint's testing backend with the software renderer and a clock the test moves; once per
/// process, so each screen test is its own test binary.
pub fn testing_platform() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .unwrap();
}
