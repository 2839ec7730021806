//! Routing on one endpoint.
//!
//! With `endpoint_url`, the only discriminators are the SigV4 signing name and method + path.
//! Paths are matched *before* percent-decoding (botocore encodes `/` inside ARN labels as
//! `%2F`). The one real collision inside a signing name, `ivs` and `ivs-realtime` on
//! `/tags/{resourceArn}`, is resolved by the ARN's resource type; unsigned requests are also
//! matched across signing names (mediapackage-vod has `/tags/{resource-arn}` too), where the
//! ARN's service decides.

use crate::model::{ServiceId, ServiceModel};

#[derive(Debug, Clone)]
enum Seg {
    Lit(&'static str),
    Label(&'static str),
    Greedy(&'static str),
}

#[derive(Debug)]
struct Route {
    model: &'static ServiceModel,
    op: usize,
    method: &'static str,
    segs: Vec<Seg>,
    literals: usize,
}

/// A matched operation.
#[derive(Debug)]
pub struct Matched {
    /// The service.
    pub model: &'static ServiceModel,
    /// Index into `model.operations`.
    pub op: usize,
    /// Path labels, raw (still percent-encoded).
    pub labels: Vec<(&'static str, String)>,
}

/// Why no operation matched.
#[derive(Debug, PartialEq, Eq)]
pub enum RouteError {
    /// No route has this path.
    NotFound,
    /// Routes have this path, with other methods.
    MethodNotAllowed(Vec<&'static str>),
}

/// Resource types of IVS Real-Time ARNs (`arn:aws:ivs:...:<type>/<id>`); every other `ivs` ARN
/// resource type belongs to IVS low-latency.
pub const IVS_REALTIME_RESOURCE_TYPES: &[&str] = &[
    "stage",
    "composition",
    "encoder-configuration",
    "storage-configuration",
    "public-key",
    "ingest-configuration",
];

/// The route table of a set of services.
#[derive(Debug)]
pub struct Router {
    routes: Vec<Route>,
}

fn parse_template(uri: &'static str) -> Vec<Seg> {
    let path = uri.split('?').next().unwrap_or(uri);
    path.split('/')
        .skip(1)
        .map(|s| {
            if let Some(inner) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                match inner.strip_suffix('+') {
                    Some(g) => Seg::Greedy(g),
                    None => Seg::Label(inner),
                }
            } else {
                Seg::Lit(s)
            }
        })
        .collect()
}

fn match_path(segs: &[Seg], raw_path: &str) -> Option<Vec<(&'static str, String)>> {
    let parts: Vec<&str> = raw_path.split('/').skip(1).collect();
    let mut labels = Vec::new();
    let mut i = 0;
    for (si, seg) in segs.iter().enumerate() {
        match seg {
            Seg::Lit(l) => {
                if parts.get(i) != Some(l) {
                    return None;
                }
                i += 1;
            }
            Seg::Label(name) => {
                let p = parts.get(i)?;
                if p.is_empty() {
                    return None;
                }
                labels.push((*name, (*p).to_string()));
                i += 1;
            }
            Seg::Greedy(name) => {
                if si + 1 != segs.len() || i >= parts.len() {
                    return None;
                }
                labels.push((*name, parts[i..].join("/")));
                i = parts.len();
            }
        }
    }
    (i == parts.len()).then_some(labels)
}

/// The service an ARN belongs to, for the shared `/tags/...` paths.
pub fn service_of_arn(arn: &str) -> Option<ServiceId> {
    let mut it = arn.splitn(6, ':');
    if it.next()? != "arn" {
        return None;
    }
    let _partition = it.next()?;
    let service = it.next()?;
    let _region = it.next()?;
    let _account = it.next()?;
    let resource = it.next()?;
    match service {
        "mediapackage-vod" => Some(ServiceId::MediaPackageVod),
        "kinesisvideo" => Some(ServiceId::KinesisVideo),
        "ivs" => {
            let rtype = resource.split('/').next().unwrap_or("");
            if IVS_REALTIME_RESOURCE_TYPES.contains(&rtype) {
                Some(ServiceId::IvsRealtime)
            } else {
                Some(ServiceId::Ivs)
            }
        }
        _ => None,
    }
}

impl Router {
    /// Build the table for these models.
    pub fn new(models: &[&'static ServiceModel]) -> Router {
        let mut routes = Vec::new();
        for model in models {
            for (op, o) in model.operations.iter().enumerate() {
                let segs = parse_template(o.uri);
                let literals = segs.iter().filter(|s| matches!(s, Seg::Lit(_))).count();
                routes.push(Route {
                    model,
                    op,
                    method: o.method,
                    segs,
                    literals,
                });
            }
        }
        // Most specific first: more literal segments win over labels.
        routes.sort_by_key(|r| std::cmp::Reverse(r.literals));
        Router { routes }
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Find the operation for a request. `signing_name` restricts the candidates to the
    /// services signing under that name (None: every service).
    pub fn route(
        &self,
        signing_name: Option<&str>,
        method: &str,
        raw_path: &str,
    ) -> Result<Matched, RouteError> {
        let mut hits: Vec<(&Route, Vec<(&'static str, String)>)> = Vec::new();
        let mut other_methods = Vec::new();
        for r in &self.routes {
            if signing_name.is_some_and(|s| s != r.model.signing_name) {
                continue;
            }
            if let Some(labels) = match_path(&r.segs, raw_path) {
                if r.method.eq_ignore_ascii_case(method) {
                    if let Some((first, _)) = hits.first()
                        && first.literals > r.literals
                    {
                        continue;
                    }
                    hits.push((r, labels));
                } else if !other_methods.contains(&r.method) {
                    other_methods.push(r.method);
                }
            }
        }
        if hits.is_empty() {
            return Err(if other_methods.is_empty() {
                RouteError::NotFound
            } else {
                RouteError::MethodNotAllowed(other_methods)
            });
        }
        let idx = if hits.len() > 1 {
            // Shared tagging paths: pick the service the ARN in the first label belongs to.
            let wanted = hits[0]
                .1
                .first()
                .and_then(|(_, raw)| crate::codec::decode_label(raw).ok())
                .and_then(|arn| service_of_arn(&arn));
            wanted
                .and_then(|w| hits.iter().position(|(r, _)| r.model.id == w))
                .unwrap_or(0)
        } else {
            0
        };
        let (r, labels) = hits.swap_remove(idx);
        Ok(Matched {
            model: r.model,
            op: r.op,
            labels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated;

    fn route(
        sn: Option<&str>,
        method: &str,
        path: &str,
    ) -> Result<(&'static str, &'static str), RouteError> {
        let router = Router::new(generated::ALL);
        router
            .route(sn, method, path)
            .map(|m| (m.model.botocore_name, m.model.operations[m.op].name))
    }

    #[test]
    fn every_operation_routes_to_itself() {
        let router = Router::new(generated::ALL);
        let label = regex::Regex::new(r"\{[^}]+\}").unwrap();
        assert_eq!(router.len(), 146);
        for model in generated::ALL {
            for (i, op) in model.operations.iter().enumerate() {
                let path = op
                    .uri
                    .split('?')
                    .next()
                    .unwrap()
                    .replace("{resourceArn}", "arn%3Aaws%3Aivs%3Aus-east-1%3A0%3A");
                let path = path.replace(
                    "{resource-arn}",
                    "arn%3Aaws%3Amediapackage-vod%3Aus-east-1%3A0%3Aassets%2Fa",
                );
                let path = if model.id == ServiceId::IvsRealtime {
                    path.replace("%3A0%3A", "%3A0%3Astage%2Fx")
                } else {
                    path.replace("%3A0%3A", "%3A0%3Achannel%2Fx")
                };
                let path = label.replace_all(&path, "x").to_string();
                let m = router
                    .route(Some(model.signing_name), op.method, &path)
                    .unwrap();
                assert_eq!(
                    (m.model.botocore_name, m.op),
                    (model.botocore_name, i),
                    "{} {}",
                    op.method,
                    path
                );
            }
        }
    }

    #[test]
    fn tags_split_by_arn() {
        let rt = "/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Astage%2Fabcd";
        let ll = "/tags/arn%3Aaws%3Aivs%3Aus-west-2%3A123456789012%3Achannel%2Fabcd";
        let mp =
            "/tags/arn%3Aaws%3Amediapackage-vod%3Aus-west-2%3A123456789012%3Apackaging-groups%2Fpg";
        assert_eq!(
            route(Some("ivs"), "GET", rt),
            Ok(("ivs-realtime", "ListTagsForResource"))
        );
        assert_eq!(
            route(Some("ivs"), "GET", ll),
            Ok(("ivs", "ListTagsForResource"))
        );
        assert_eq!(
            route(None, "GET", mp),
            Ok(("mediapackage-vod", "ListTagsForResource"))
        );
        assert_eq!(
            route(Some("ivs"), "DELETE", rt),
            Ok(("ivs-realtime", "UntagResource"))
        );
    }

    #[test]
    fn specific_paths_and_errors() {
        assert_eq!(
            route(
                Some("mediapackage-vod"),
                "PUT",
                "/packaging_groups/pg/configure_logs"
            ),
            Ok(("mediapackage-vod", "ConfigureLogs"))
        );
        assert_eq!(
            route(Some("mediapackage-vod"), "PUT", "/packaging_groups/pg"),
            Ok(("mediapackage-vod", "UpdatePackagingGroup"))
        );
        assert_eq!(
            route(Some("kinesisvideo"), "POST", "/getMedia"),
            Ok(("kinesis-video-media", "GetMedia"))
        );
        assert_eq!(
            route(Some("kinesisvideo"), "POST", "/v1/get-ice-server-config"),
            Ok(("kinesis-video-signaling", "GetIceServerConfig"))
        );
        assert_eq!(
            route(Some("ivs"), "POST", "/Nope"),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            route(Some("ivs"), "GET", "/CreateChannel"),
            Err(RouteError::MethodNotAllowed(vec!["POST"]))
        );
        assert_eq!(
            route(Some("kinesisvideo"), "POST", "/CreateChannel"),
            Err(RouteError::NotFound)
        );
    }
}
