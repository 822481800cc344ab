//! Browser tests (being written).
extern crate hyper_util;
#[tokio::test]
async fn probe() {
    let _c =
        fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
}
