//! Blueprint charts (no-code service `controllers/charts`): the count card, the sum card, the pie
//! chart and the standard (line, bar, ...) charts, computed from the stored entities the caller
//! may read. Grouping follows Qelos's aggregation: strings, numbers and booleans group by value;
//! dates and datetimes by day of the week (`1` = Sunday … `7` = Saturday, Mongo's
//! `$dayOfWeek`); times by hour; objects are refused. Groups are sorted by key, `null` first.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::entities::{bypass, in_scope, lenient, matches_filters, permitted};
use super::verify::Caller;
use crate::MockInner;
use crate::state::{BlueprintRec, EntityRec};
use crate::util::{empty, message, ok, parse_iso};

type Mock = State<Arc<MockInner>>;
type Params = Query<HashMap<String, String>>;

/// The caller, the blueprint and the entities the caller may read that match the filters
/// (`skip` lists query keys that are chart options, not filters), or the refusal.
fn readable(
    mock: &MockInner,
    headers: &HeaderMap,
    key: &str,
    q: &HashMap<String, String>,
    skip: &[&str],
) -> Result<(Caller, BlueprintRec, Vec<EntityRec>), Response> {
    let caller = lenient(mock, headers);
    if caller.principal.is_none() {
        return Err(empty(StatusCode::UNAUTHORIZED));
    }
    let Some(bp) = mock.store.db().blueprints.get(key).cloned() else {
        return Err(message(StatusCode::NOT_FOUND, "blueprint not found"));
    };
    let scope = match permitted(&bp, caller.principal.as_ref(), "read", bypass(headers, q)) {
        Ok(s) => s,
        Err(r) => return Err(caller.finish(r)),
    };
    let filters: HashMap<String, String> = q
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let rows = mock
        .store
        .db()
        .entities
        .iter()
        .filter(|e| e.blueprint == key && in_scope(e, &scope) && matches_filters(e, &bp, &filters))
        .cloned()
        .collect();
    Ok((caller, bp, rows))
}

fn kind_of<'a>(bp: &'a BlueprintRec, prop: &str) -> Option<&'a str> {
    bp.properties
        .iter()
        .find(|(name, _)| name == prop)
        .map(|(_, p)| p.kind)
}

/// The group key of `value` for a property of type `kind` (`None`: the kind cannot be grouped).
fn group_key(kind: &str, value: Option<&Value>) -> Option<Value> {
    let value = value.cloned().unwrap_or(Value::Null);
    Some(match kind {
        "date" | "datetime" => value
            .as_str()
            .and_then(parse_iso)
            .map_or(Value::Null, |ms| json!((ms / 86_400_000 + 4) % 7 + 1)),
        "time" => value
            .as_str()
            .and_then(|s| {
                // `HH:MM[:SS]` or a full datetime.
                let t = s.split_once('T').map_or(s, |(_, t)| t);
                t.get(0..2)?.parse::<u64>().ok()
            })
            .map_or(Value::Null, Value::from),
        "object" => return None,
        _ => value,
    })
}

/// Mongo's order for the keys the groups can have: null, numbers, strings, booleans.
fn key_order(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Number(_) => 1,
            Value::String(_) => 2,
            Value::Bool(_) => 4,
            _ => 3,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// `(key, count, sum of `sum_prop`)` per group, sorted by key.
fn group(
    rows: &[EntityRec],
    kind: &str,
    prop: &str,
    sum_prop: Option<&str>,
) -> Vec<(Value, u64, f64)> {
    let mut groups: Vec<(Value, u64, f64)> = Vec::new();
    for e in rows {
        let Some(k) = group_key(kind, e.metadata.get(prop)) else {
            continue;
        };
        let add = sum_prop.map_or(0.0, |s| number(e.metadata.get(s)));
        match groups.iter_mut().find(|(g, _, _)| *g == k) {
            Some(g) => {
                g.1 += 1;
                g.2 += add;
            }
            None => groups.push((k, 1, add)),
        }
    }
    groups.sort_by(|a, b| key_order(&a.0, &b.0));
    groups
}

/// A value as Qelos's sum expression reads it: numbers, numeric strings, else 0.
fn number(v: Option<&Value>) -> f64 {
    match v {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// A JSON number: integral sums stay integers, as Mongo answers them.
fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// The `x` property and its kind, or `400 xAxis is required` / `400 cannot aggregate objects`.
fn x_axis<'a>(
    bp: &'a BlueprintRec,
    q: &'a HashMap<String, String>,
) -> Result<(&'a str, &'a str), Response> {
    let x = q.get("x").map(String::as_str).unwrap_or_default();
    match kind_of(bp, x) {
        None => Err(message(StatusCode::BAD_REQUEST, "xAxis is required")),
        Some("object") => Err(message(StatusCode::BAD_REQUEST, "cannot aggregate objects")),
        Some(kind) => Ok((x, kind)),
    }
}

/// `GET /api/blueprints/{key}/charts/pie?x=<property>`: an ECharts pie option.
pub(crate) async fn pie(
    State(mock): Mock,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Params,
) -> Response {
    let (caller, bp, rows) = match readable(&mock, &headers, &key, &q, &["x"]) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let (x, kind) = match x_axis(&bp, &q) {
        Ok(a) => a,
        Err(r) => return caller.finish(r),
    };
    let groups = group(&rows, kind, x, None);
    let name = |k: &Value| match k {
        Value::Null => "Unknown".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let legend: Vec<String> = groups.iter().map(|(k, _, _)| name(k)).collect();
    let data: Vec<Value> = groups
        .iter()
        .map(|(k, n, _)| json!({"value": n, "name": name(k)}))
        .collect();
    caller.finish(ok(json!({
        "tooltip": {"trigger": "item"},
        "legend": {"orient": "vertical", "left": "inline-start", "data": legend},
        "series": [{
            "name": x,
            "type": "pie",
            "radius": "50%",
            "avoidLabelOverlap": false,
            "data": data,
            "emphasis": {"itemStyle": {"shadowBlur": 10, "shadowOffsetX": 0, "shadowColor": "rgba(0, 0, 0, 0.2)"}}
        }]
    })))
}

/// `GET /api/blueprints/{key}/charts/sum?sum=<number property>[&groupBy=<property>]`:
/// `{sum}` or `{groups: [{group, sum}], sum}`.
pub(crate) async fn sum(
    State(mock): Mock,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Params,
) -> Response {
    let (caller, bp, rows) = match readable(&mock, &headers, &key, &q, &["sum", "groupBy"]) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let prop = q.get("sum").map(String::as_str).unwrap_or_default();
    match kind_of(&bp, prop) {
        None => {
            return caller.finish(message(StatusCode::BAD_REQUEST, "sum property is required"));
        }
        Some("number") => {}
        Some(_) => {
            return caller.finish(message(
                StatusCode::BAD_REQUEST,
                "sum property must be of type number",
            ));
        }
    }
    let Some(by) = q.get("groupBy").filter(|g| !g.is_empty()) else {
        let total: f64 = rows.iter().map(|e| number(e.metadata.get(prop))).sum();
        return caller.finish(ok(json!({ "sum": num(total) })));
    };
    let kind = match kind_of(&bp, by) {
        None => {
            return caller.finish(message(
                StatusCode::BAD_REQUEST,
                "groupBy property not found",
            ));
        }
        Some("object") => {
            return caller.finish(message(StatusCode::BAD_REQUEST, "cannot group by objects"));
        }
        Some(k) => k,
    };
    let groups = group(&rows, kind, by, Some(prop));
    let total: f64 = groups.iter().map(|g| g.2).sum();
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(k, _, s)| json!({"group": k, "sum": num(s)}))
        .collect();
    caller.finish(ok(json!({ "groups": groups, "sum": num(total) })))
}

/// `GET /api/blueprints/{key}/charts/count`: `{count}` of the matching entities.
pub(crate) async fn count(
    State(mock): Mock,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Params,
) -> Response {
    match readable(&mock, &headers, &key, &q, &[]) {
        Ok((caller, _, rows)) => caller.finish(ok(json!({ "count": rows.len() }))),
        Err(r) => r,
    }
}

/// `GET /api/blueprints/{key}/charts/{chartType}?x=<property>`: an ECharts option with one
/// series of `chartType` (counts per group on the category axis).
pub(crate) async fn standard(
    State(mock): Mock,
    headers: HeaderMap,
    Path((key, chart_type)): Path<(String, String)>,
    Query(q): Params,
) -> Response {
    let (caller, bp, rows) = match readable(&mock, &headers, &key, &q, &["x"]) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let (x, kind) = match x_axis(&bp, &q) {
        Ok(a) => a,
        Err(r) => return caller.finish(r),
    };
    let groups = group(&rows, kind, x, None);
    let keys: Vec<&Value> = groups.iter().map(|(k, _, _)| k).collect();
    let counts: Vec<u64> = groups.iter().map(|(_, n, _)| *n).collect();
    caller.finish(ok(json!({
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow", "label": {"show": true}}},
        "toolbox": {"show": true, "feature": {"saveAsImage": {"show": true}}},
        "xAxis": {"type": "category", "data": keys},
        "yAxis": {"type": "value"},
        "series": [{"data": counts, "type": chart_type, "showBackground": true}]
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_group_by_mongo_day_of_week() {
        // 1970-01-01 was a Thursday (5); 2024-06-02 a Sunday (1).
        assert_eq!(
            group_key("date", Some(&json!("1970-01-01"))),
            Some(json!(5))
        );
        assert_eq!(
            group_key("datetime", Some(&json!("2024-06-02T10:00:00.000Z"))),
            Some(json!(1))
        );
        assert_eq!(group_key("time", Some(&json!("17:45"))), Some(json!(17)));
        assert_eq!(group_key("object", Some(&json!({}))), None);
    }

    #[test]
    fn group_keys_sort_null_numbers_strings_booleans() {
        let mut v = vec![
            json!(true),
            json!("b"),
            json!(2),
            Value::Null,
            json!("a"),
            json!(1),
        ];
        v.sort_by(key_order);
        assert_eq!(
            v,
            [
                Value::Null,
                json!(1),
                json!(2),
                json!("a"),
                json!("b"),
                json!(true)
            ]
        );
    }
}
