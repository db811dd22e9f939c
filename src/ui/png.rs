//! A PNG of part of the window: the screenshot egui takes (physical pixels) cut to a rect (in
//! points) and saved. Used by the Freshness tab's export.

use std::path::Path;

/// Saves the part of `image` under `rect` to `path`; what happened, in words.
pub fn save_region(
    image: &egui::ColorImage,
    rect: egui::Rect,
    viewport: egui::Rect,
    asked_scale: f32,
    path: &Path,
) -> String {
    // The image is in physical pixels, the rect in points: the image's own size says how many
    // pixels a point took when it was drawn.
    let scale = screenshot_scale(image.size, viewport).unwrap_or(asked_scale);
    match crop_to_rect(image, rect, scale) {
        None => format!("not saved {}: the plots are off screen", path.display()),
        Some(region) => match save_png(&region, path) {
            Ok(()) => format!("saved {}", path.display()),
            Err(e) => format!("cannot save {}: {e}", path.display()),
        },
    }
}

/// How many physical pixels a point takes in a screenshot of `viewport` (in points) that came
/// out `size` pixels wide and high; `None` for an empty viewport or image.
fn screenshot_scale(size: [usize; 2], viewport: egui::Rect) -> Option<f32> {
    let scale = size[0] as f32 / viewport.width();
    (size[0] > 0 && scale.is_finite() && scale > 0.0).then_some(scale)
}

/// The part of a screenshot (physical pixels) under `rect` (points, `pixels_per_point` pixels
/// each), clamped to the image: whole pixels, edges rounded outward. `None` when nothing of
/// `rect` is in the image. Never panics, whatever the rect.
fn crop_to_rect(
    image: &egui::ColorImage,
    rect: egui::Rect,
    pixels_per_point: f32,
) -> Option<egui::ColorImage> {
    let [width, height] = image.size;
    if image.pixels.len() != width * height
        || rect.any_nan()
        || !(pixels_per_point.is_finite() && pixels_per_point > 0.0)
    {
        return None;
    }
    // Float-to-integer casts saturate: below zero gives 0.
    let pixel = |points: f32, round: fn(f32) -> f32, limit: usize| {
        (round(points * pixels_per_point) as usize).min(limit)
    };
    let (left, right) = (
        pixel(rect.min.x, f32::floor, width),
        pixel(rect.max.x, f32::ceil, width),
    );
    let (top, bottom) = (
        pixel(rect.min.y, f32::floor, height),
        pixel(rect.max.y, f32::ceil, height),
    );
    (left < right && top < bottom)
        .then(|| image.region_by_pixels([left, top], [right - left, bottom - top]))
}

/// Writes `image` to `path` as a PNG.
fn save_png(image: &egui::ColorImage, path: &Path) -> Result<(), String> {
    let [width, height] = image.size;
    let pixels: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    let buffer = image::RgbaImage::from_raw(width as u32, height as u32, pixels)
        .ok_or("the screenshot has no pixels")?;
    buffer.save(path).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A screenshot of a `width`×`height` point window at `scale` pixels per point, each
    /// pixel's colour saying where it is.
    fn screenshot(width: f32, height: f32, scale: f32) -> egui::ColorImage {
        let size = [(width * scale) as usize, (height * scale) as usize];
        let pixels = (0..size[0] * size[1])
            .map(|i| {
                let (x, y) = (i % size[0], i / size[0]);
                egui::Color32::from_rgb((x % 256) as u8, (y % 256) as u8, (x / 256 + y / 256) as u8)
            })
            .collect();
        egui::ColorImage::new(size, pixels)
    }

    /// The crop takes whole pixels of the rect scaled to the image, clamps what lies outside
    /// the frame, and gives nothing (never a panic) for a rect with nothing in the frame.
    #[test]
    fn crop_to_rect_stays_within_the_frame_at_every_size_and_scale() {
        use egui::{Rect, pos2};
        for (width, height) in [(1024.0, 700.0), (1600.0, 1000.0)] {
            for scale in [1.0, 2.0] {
                let image = screenshot(width, height, scale);
                let [w, h] = image.size;
                let at = format!("{width}x{height} at {scale}");
                let frame = Rect::from_min_max(pos2(0.0, 0.0), pos2(width, height));
                assert_eq!(
                    screenshot_scale(image.size, frame),
                    Some(scale),
                    "{at}: the scale is the image's size over the frame's"
                );

                // The whole frame is the whole image.
                let whole = crop_to_rect(&image, frame, scale).unwrap();
                assert_eq!(whole.size, image.size, "{at}");
                assert_eq!(whole.pixels, image.pixels, "{at}");

                // Inside: exactly the rect, scaled, from the right place.
                let inside = Rect::from_min_max(pos2(64.0, 100.0), pos2(300.0, 400.0));
                let crop = crop_to_rect(&image, inside, scale).unwrap();
                let px = |v: f32| (v * scale) as usize;
                assert_eq!(crop.size, [px(236.0), px(300.0)], "{at}");
                assert_eq!(crop[(0, 0)], image[(px(64.0), px(100.0))], "{at}");
                assert_eq!(
                    crop[(crop.size[0] - 1, crop.size[1] - 1)],
                    image[(px(300.0) - 1, px(400.0) - 1)],
                    "{at}"
                );

                // Past the bottom (the plots scrolled below a small window): clamped. This
                // rect is what panicked at 1024×700.
                let below =
                    Rect::from_min_max(pos2(64.0, 300.0), pos2(width - 24.0, height + 60.0));
                let crop = crop_to_rect(&image, below, scale).unwrap();
                assert_eq!(crop.size, [px(width - 88.0), h - px(300.0)], "{at}");
                assert_eq!(crop[(0, 0)], image[(px(64.0), px(300.0))], "{at}");

                // Past every edge: the whole image.
                let around = frame.expand(40.0);
                assert_eq!(
                    crop_to_rect(&image, around, scale).unwrap().size,
                    [w, h],
                    "{at}"
                );

                // Above and left of the frame, partly in: what is in.
                let corner = Rect::from_min_max(pos2(-50.0, -20.0), pos2(10.0, 30.0));
                let crop = crop_to_rect(&image, corner, scale).unwrap();
                assert_eq!(crop.size, [px(10.0), px(30.0)], "{at}");
                assert_eq!(crop[(0, 0)], image[(0, 0)], "{at}");

                // Wholly outside, zero-size, inverted, not a number: nothing.
                for rect in [
                    Rect::from_min_max(pos2(width + 10.0, 0.0), pos2(width + 200.0, 50.0)),
                    Rect::from_min_max(pos2(0.0, height), pos2(width, height + 300.0)),
                    Rect::from_min_max(pos2(-300.0, -300.0), pos2(-1.0, -1.0)),
                    Rect::from_min_max(pos2(100.0, 100.0), pos2(100.0, 300.0)),
                    Rect::from_min_max(pos2(100.0, 100.0), pos2(300.0, 100.0)),
                    Rect::ZERO,
                    Rect::NOTHING,
                    Rect::from_min_max(pos2(f32::NAN, 0.0), pos2(100.0, 100.0)),
                ] {
                    assert!(
                        crop_to_rect(&image, rect, scale).is_none(),
                        "{at}: {rect:?}"
                    );
                }
                assert!(crop_to_rect(&image, frame, 0.0).is_none(), "{at}");
                assert!(crop_to_rect(&image, frame, f32::NAN).is_none(), "{at}");
            }
        }
        assert_eq!(screenshot_scale([0, 0], egui::Rect::ZERO), None);
    }
}
