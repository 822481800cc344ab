//! Static assets (our CSS, JS and icons), embedded in the binary: nothing is fetched from
//! the internet at run time.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

pub async fn serve(Path(path): Path<String>) -> Response {
    match Assets::get(&path) {
        Some(f) => {
            let mime = f.metadata.mimetype().to_owned();
            (
                [(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "public, max-age=3600".to_owned())],
                f.data.into_owned(),
            )
                .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
