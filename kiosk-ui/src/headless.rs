//! Rendering without a display: Slint's software renderer into a pixel buffer, through the
//! stable `MinimalSoftwareWindow` API. Used for `--screenshots` and the render benchmark.

use std::rc::Rc;
use std::time::{Duration, Instant};

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::{PhysicalSize, PlatformError, Rgb8Pixel};

struct Headless {
    window: Rc<MinimalSoftwareWindow>,
    start: Instant,
}

impl Platform for Headless {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        Ok(self.window.clone())
    }

    fn duration_since_start(&self) -> Duration {
        self.start.elapsed()
    }
}

/// The one window all components of this process draw into.
#[derive(Clone)]
pub struct Screen {
    window: Rc<MinimalSoftwareWindow>,
    buffer: Rc<std::cell::RefCell<Vec<Rgb8Pixel>>>,
    pub width: u32,
    pub height: u32,
}

impl std::fmt::Debug for Screen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Screen({}x{})", self.width, self.height)
    }
}

impl Screen {
    /// Installs the headless platform; call once, before any component is created.
    pub fn install(width: u32, height: u32) -> Result<Self, PlatformError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        window.set_size(PhysicalSize::new(width, height));
        slint::platform::set_platform(Box::new(Headless { window: window.clone(), start: Instant::now() }))
            .map_err(|e| PlatformError::Other(e.to_string()))?;
        let buffer = Rc::new(std::cell::RefCell::new(vec![Rgb8Pixel::default(); (width * height) as usize]));
        Ok(Self { window, buffer, width, height })
    }

    /// Draws the whole frame, whatever changed, into the one frame buffer (a display has one
    /// too; a new 6 MB buffer a frame would only fragment the heap).
    pub fn render(&self) -> std::cell::Ref<'_, Vec<Rgb8Pixel>> {
        slint::platform::update_timers_and_animations();
        self.window.request_redraw();
        {
            let mut buffer = self.buffer.borrow_mut();
            self.window.draw_if_needed(|renderer| {
                renderer.render(&mut buffer, self.width as usize);
            });
        }
        self.buffer.borrow()
    }

    pub fn png(&self, pixels: &[Rgb8Pixel]) -> image::RgbImage {
        let bytes = pixels.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
        image::RgbImage::from_raw(self.width, self.height, bytes).expect("the buffer matches the size")
    }
}
